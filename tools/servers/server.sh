#!/usr/bin/env bash
# Throwaway MySQL/MariaDB test servers, each in its own directory (recipes: shared/docs/test-servers.md).
#
#   server.sh start FLAVOUR DIR [--port N] [--page-size 4k|8k|16k|32k|64k] [--datadir PATH]
#                               [--clone | --no-clone] [--no-tls] [--set name=value]...
#   server.sh stop DIR | kill DIR | status DIR
#   server.sh sql DIR [client args...]        the flavour's client as root over the socket
#   server.sh sysbench DIR sysbench-args...   system sysbench as bench/bench on db sbtest
#   server.sh exec DIR PROGRAM [args...]      a program of DIR's flavour, run the right way
#
# FLAVOUR: mariadb-10.11 (system binaries), mysql-9.7 or mariadb-11.8 (private roots made by
# build-root.sh, every binary run through the root's own loader).
# MySQL only: the clone plugin is loaded by default (--clone also checks that it is ACTIVE once
# up; --no-clone starts without it, a donor that `mysqlclone remote` must refuse); --no-tls
# starts without TLS (tls-version empty: clients asking for TLS are refused).
#
# DIR holds my.cnf (rewritten at every start: [mysqld] for the server, [client] for our clients),
# data/ (unless --datadir), mysqld.sock, mysqld.pid, error.log, server.env and, for mariadb-11.8,
# tls/ (a fixed certificate) and basedir/ (wrappers for mariadb-install-db).
# Servers are detached (own session): they outlive the caller until `stop`/`kill`.
#
# MYSQLCLONE_SERVER_CACHE=CACHE: a new DIR/data is a copy of a datadir made once per flavour and
# page size in CACHE (initialised, accounts made, shut down cleanly) rather than an init of its
# own. The test suite starts dozens of servers; MySQL's --initialize alone takes seconds of CPU
# each. A copy differs from an init only in what the server makes at its first start (MySQL's
# auto.cnf: each copy gets a server_uuid of its own).
# SERVER_START_TIMEOUT / SERVER_STOP_TIMEOUT: seconds (default 90 / 120) a start waits for a
# connection and a stop for the exit.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"

# Seconds for a server to accept connections, and to exit after SIGTERM. A copy carrying tens of
# GiB of redo recovers for minutes (tools/bench/big_busy.sh): the environment can say longer.
START_TIMEOUT=${SERVER_START_TIMEOUT:-90}
STOP_TIMEOUT=${SERVER_STOP_TIMEOUT:-120}
FIRST_PORT=13306
PORT_LOCK=${TMPDIR:-/tmp}/mysqlclone-server-ports.lock

die() { echo "server.sh: $*" >&2; exit 1; }

usage() {
  sed -n '2,10s/^# \{0,1\}//p' "$0" >&2
  exit 2
}

# Microseconds since the epoch, for the timings printed by start/stop.
now_us() { echo "${EPOCHREALTIME/./}"; }
secs_since() { local t=$(( $(now_us) - $1 )); printf '%d.%01d' $(( t / 1000000 )) $(( t % 1000000 / 100000 )); }

# canon_dir DIR: absolute, symlink-free path of an existing DIR. The server's command line carries
# DIR/my.cnf and server_pid matches on it, so every spelling of DIR must map to one string.
canon_dir() { (cd "$1" 2>/dev/null && pwd -P); }

# load_env DIR: sources DIR/server.env (FLAVOUR, PORT, SOCKET, ...) into this shell.
load_env() {
  [ -f "$1/server.env" ] || die "$1 has no server.env (never started with server.sh start?)"
  # shellcheck source=/dev/null
  . "$1/server.env"
  known_flavour "${FLAVOUR:-}" || die "$1/server.env: unknown FLAVOUR '${FLAVOUR:-}'"
}

# client DIR args...: the flavour's client with DIR's [client] section (socket, root user, TLS CA).
client() {
  local dir=$1; shift
  flavour_cmd "$FLAVOUR" "$(flavour_client "$FLAVOUR")"
  "${CMD[@]}" --defaults-file="$dir/my.cnf" "$@"
}

# ---------------------------------------------------------------------------------------- start

# Server options, in my.cnf order. set_opt replaces an option of the same name (dashes and
# underscores are the same to the servers) so --set overrides defaults instead of duplicating them;
# plugin-load-add is cumulative by nature and always appended.
# opt_key sets OPT_KEY rather than printing it: set_opt compares every option with every one
# before it, and a $(...) per comparison (hundreds per start) took seconds of CPU at every start.
opt_lines=()
opt_key() { local k=${1%%=*}; k=${k//_/-}; OPT_KEY=${k,,}; }
set_opt() {
  local line=$1 key i
  opt_key "$line"; key=$OPT_KEY
  if [ "$key" != plugin-load-add ]; then
    for i in "${!opt_lines[@]}"; do
      opt_key "${opt_lines[$i]}"
      if [ "$OPT_KEY" = "$key" ]; then opt_lines[i]=$line; return; fi
    done
  fi
  opt_lines+=("$line")
}

# pick_port DIR: DIR's previous port if it is free again (a replica configured against it keeps
# working across restarts), else the first free port from FIRST_PORT upward.
# Ports in bad_ports failed to bind in this run: bound without listening (invisible to ss).
bad_ports=" "
usable_port() { [[ "$bad_ports" != *" $1 "* ]] && port_free "$1"; }
pick_port() {
  local prev p
  prev=$(sed -n 's/^PORT=\([0-9]\{1,5\}\)$/\1/p' "$1/server.env" 2>/dev/null || true)
  if [ -n "$prev" ] && usable_port "$prev"; then echo "$prev"; return; fi
  for (( p = FIRST_PORT; p < 65536; p++ )); do
    usable_port "$p" && { echo "$p"; return; }
  done
  return 1
}

# make_tls DIR: a CA and a localhost/127.0.0.1 server certificate, made once. MariaDB 11.8 would
# otherwise generate a certificate at every start (0.3-0.9 s), and its clients verify the
# server's certificate by default, so they need a CA they can be given (ssl-ca in [client]).
make_tls() {
  local t=$1/tls
  [ -s "$t/ca.pem" ] && [ -s "$t/server-cert.pem" ] && [ -s "$t/server-key.pem" ] && return 0
  rm -rf "$t"; mkdir -p "$t"
  ( cd "$t"
    # EC keys: instant to generate, unlike RSA.
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
      -subj "/CN=mysqlclone test CA" -keyout ca-key.pem -out ca.pem
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
      -subj "/CN=localhost" -keyout server-key.pem -out server.csr
    printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n' > server.ext
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 3650 \
      -extfile server.ext -out server-cert.pem
    rm -f server.csr server.ext ca.srl
  ) >/dev/null 2>"$t/openssl.log" || { cat "$t/openssl.log" >&2; die "cannot make a TLS certificate in $t"; }
  rm -f "$t/openssl.log"
}

write_cnf() {
  local f=$dir/my.cnf line
  {
    echo "# Written by tools/servers/server.sh start $flavour; rewritten at every start."
    echo "[mysqld]"
    for line in "${opt_lines[@]}"; do echo "$line"; done
    echo
    echo "# Our clients (server.sh sql, and any client given --defaults-file=$f)."
    echo "[client]"
    echo "socket=$sock"
    echo "user=$client_user"
    if [ "$flavour" = mariadb-11.8 ]; then echo "ssl-ca=$dir/tls/ca.pem"; fi
  } > "$f.tmp"
  mv "$f.tmp" "$f"
}

build_opts() {
  local root=$1 s
  opt_lines=()
  if [ -n "$root" ]; then
    # The compiled-in paths are the host's /usr/...; everything lives in the root instead.
    local share=$root/usr/share/mariadb
    is_mysql "$flavour" && share=$root/usr/share/mysql
    set_opt "basedir=$root/usr"
    set_opt "lc-messages-dir=$share"
    set_opt "character-sets-dir=$share/charsets"
    set_opt "plugin-dir=$root/usr/lib/mysql/plugin"
  fi
  # Both servers refuse to run as root without an explicit --user; as non-root it is ignored.
  if [ "$(id -u)" = 0 ]; then set_opt "user=$(id -un)"; fi
  set_opt "datadir=$datadir"
  set_opt "socket=$sock"
  set_opt "pid-file=$dir/mysqld.pid"
  set_opt "log-error=$dir/error.log"
  # A tmpdir of its own: every server deletes the #sql* files of its tmpdir when it starts, so a
  # shared /tmp lets one server's start remove another's temporary tables (mariadb-install-db
  # then fails with "Unknown table 'mysql.tmp_user_sys'").
  mkdir -p "$dir/tmp"
  set_opt "tmpdir=$dir/tmp"
  set_opt "port=$port"
  set_opt "bind-address=127.0.0.1"
  set_opt "skip-name-resolve"
  set_opt "server-id=$port"          # unique per running server: two servers never share a port
  set_opt "log-bin=binlog"
  set_opt "binlog-format=ROW"
  set_opt "innodb-buffer-pool-size=256M"
  set_opt "innodb-page-size=$page_size"
  if is_mysql "$flavour"; then
    set_opt "innodb-redo-log-capacity=128M"
    set_opt "gtid-mode=ON"
    set_opt "enforce-gtid-consistency=ON"
    set_opt "mysqlx=OFF"               # else every server wants 33060 and the second one fails
    if [ "$clone" = 1 ]; then set_opt "plugin-load-add=mysql_clone.so"; fi
    # No TLS at all: with an empty tls-version the server offers no TLS (9.7 has no --ssl=OFF);
    # caching_sha2_password then needs the RSA key exchange, which the server still offers.
    if [ "$tls" = 0 ]; then set_opt "tls-version="; fi
    # The compiled-in default is /var/lib/mysql-files; mysqld refuses to start if it is missing.
    set_opt "secure-file-priv=$dir/files"
  else
    set_opt "innodb-log-file-size=128M"
  fi
  if [ "$flavour" = mariadb-11.8 ]; then
    set_opt "ssl-ca=$dir/tls/ca.pem"
    set_opt "ssl-cert=$dir/tls/server-cert.pem"
    set_opt "ssl-key=$dir/tls/server-key.pem"
  fi
  for s in "${sets[@]}"; do set_opt "$s"; done
}

write_env() {
  local version=$1 ps=$2
  {
    printf '%s=%q\n' FLAVOUR "$flavour" PORT "$port" SOCKET "$sock" DATADIR "$datadir" \
      PIDFILE "$dir/mysqld.pid" ERRLOG "$dir/error.log" PAGE_SIZE "$ps" VERSION "$version" \
      DIR "$dir" CNF "$dir/my.cnf"
  } > "$dir/server.env.tmp"
  mv "$dir/server.env.tmp" "$dir/server.env"
}

# State for start_fail, so a failure at any point undoes exactly what this run started.
spid=""            # the server we launched
created_datadir="" # a datadir we initialised in this run (half-made: removed on failure)

start_fail() {
  trap - INT TERM
  echo "server.sh: start $flavour in $dir failed: $*" >&2
  if [ -s "$dir/error.log" ]; then
    echo "----- last 40 lines of $dir/error.log -----" >&2
    tail -n 40 "$dir/error.log" >&2
    echo "-----" >&2
  fi
  if [ -n "$spid" ] && pid_alive "$spid"; then
    kill -KILL "$spid" 2>/dev/null || true
    wait "$spid" 2>/dev/null || true
  fi
  if [ -n "$spid" ]; then remove_stale "$dir"; fi
  if [ -n "$created_datadir" ]; then rm -rf "$created_datadir"; fi
  exit 1
}

# init_datadir: a new datadir with root@localhost over the socket only.
init_datadir() {
  local prog
  created_datadir=$datadir
  if is_mysql "$flavour"; then
    flavour_cmd "$flavour" mysqld
    # --initialize wants the datadir absent or empty; it logs to log-error from my.cnf.
    "${CMD[@]}" --defaults-file="$dir/my.cnf" --initialize-insecure >>"$dir/error.log" 2>&1 ||
      start_fail "mysqld --initialize-insecure failed"
    return
  fi
  local extra=()
  if [ -n "$root" ]; then
    # mariadb-install-db is a shell script that runs my_print_defaults, resolveip and mariadbd
    # by path under --basedir: give it a basedir of loader wrappers.
    make_wrapper_prefix "$flavour" "$dir/basedir"
    prog=$dir/basedir/bin/mariadb-install-db
    extra=(--basedir="$dir/basedir")
  else
    prog=$(find_program "$flavour" mariadb-install-db) || start_fail "no mariadb-install-db"
  fi
  # --skip-test-db: no test database and none of the anonymous accounts that come with it.
  # Its chatter (stdout) goes to init.log; errors, including mariadbd's, to error.log.
  "$prog" --defaults-file="$dir/my.cnf" "${extra[@]}" --datadir="$datadir" \
    --auth-root-authentication-method=socket --user="$(id -un)" --skip-test-db \
    >"$dir/init.log" 2>>"$dir/error.log" || start_fail "mariadb-install-db failed (see also $dir/init.log)"
}

# cached_datadir: DIR/data as a copy of CACHE's datadir for this flavour and page size, made
# first if CACHE has none (by a server.sh start + stop of its own, under a lock, so that
# concurrent starts make it once).
cached_datadir() {
  local cache=$MYSQLCLONE_SERVER_CACHE key="$flavour-$((page_size / 1024))k"
  mkdir -p "$cache" || start_fail "cannot create $cache"
  (
    flock -w 600 9 || { echo "server.sh: cannot lock $cache/$key.lock" >&2; exit 1; }
    [ -d "$cache/$key/data" ] && exit 0
    rm -rf "$cache/$key.tmp" "$cache/$key"
    MYSQLCLONE_SERVER_CACHE="" "$here/server.sh" start "$flavour" "$cache/$key.tmp" \
      --page-size "$((page_size / 1024))k" >/dev/null || exit 1
    "$here/server.sh" stop "$cache/$key.tmp" >/dev/null || exit 1
    mkdir "$cache/$key" && mv "$cache/$key.tmp/data" "$cache/$key/data" && rm -rf "$cache/$key.tmp"
  ) 9>"$cache/$key.lock" || start_fail "cannot make the cached $key datadir in $cache"
  created_datadir=$datadir
  cp -a --reflink=auto "$cache/$key/data" "$datadir" || start_fail "cannot copy $cache/$key/data"
  if is_mysql "$flavour"; then rm -f "$datadir/auto.cnf"; fi
}

# create_accounts: test accounts, outside the binary log (sql_log_bin=0) so that the binlog of a
# fresh server holds no transactions and a replica started from scratch does not replay them.
create_accounts() {
  local sql anon
  # Anonymous accounts would shadow 'user'@'%' for connections from localhost.
  anon=$(client "$dir" -N -B -e \
    "SELECT CONCAT('DROP USER ', QUOTE(user), '@', QUOTE(host), ';') FROM mysql.user WHERE user=''") ||
    return 1
  sql="SET SESSION sql_log_bin=0;
$anon
CREATE USER 'mysqlclone'@'%' IDENTIFIED BY 'mysqlclone';
CREATE USER 'mysqlclone'@'localhost' IDENTIFIED BY 'mysqlclone';
CREATE USER 'bench'@'%' IDENTIFIED BY 'bench';
CREATE USER 'bench'@'localhost' IDENTIFIED BY 'bench';
GRANT ALL PRIVILEGES ON *.* TO 'bench'@'%', 'bench'@'localhost';
CREATE USER 'repl'@'%' IDENTIFIED BY 'repl';"
  if is_mysql "$flavour"; then
    # What a physical backup tool needs (xtrabackup's list, clone donor included): BACKUP_ADMIN
    # for LOCK INSTANCE FOR BACKUP, performance_schema.log_status and COM_CLONE; RELOAD for FLUSH
    # TABLES/LOGS; REPLICATION CLIENT for SHOW BINARY LOG STATUS; REPLICATION_SLAVE_ADMIN to stop
    # and start a replica's SQL thread; INNODB_REDO_LOG_ARCHIVE for redo archiving; SELECT and
    # SHOW VIEW to read the data dictionary and performance_schema; SYSTEM_VARIABLES_ADMIN (the
    # list of changed pages is asked for by SET GLOBAL mysqlbackup.backupid) and INSERT on
    # mysql.component (INSTALL COMPONENT) for page tracking.
    sql+="
GRANT BACKUP_ADMIN, RELOAD, PROCESS, SELECT, SHOW VIEW, LOCK TABLES, REPLICATION CLIENT,
      REPLICATION_SLAVE_ADMIN, INNODB_REDO_LOG_ARCHIVE, SYSTEM_VARIABLES_ADMIN ON *.* TO 'mysqlclone'@'%', 'mysqlclone'@'localhost';
GRANT INSERT ON mysql.component TO 'mysqlclone'@'%', 'mysqlclone'@'localhost';
GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO 'repl'@'%';"
  else
    # What mariadb-backup needs (test-servers.md), and REPLICATION SLAVE ADMIN to stop and start a
    # replica's SQL thread (--safe-replica-backup).
    sql+="
GRANT RELOAD, PROCESS, LOCK TABLES, BINLOG MONITOR, SLAVE MONITOR, CONNECTION ADMIN, SELECT,
      SHOW VIEW, REPLICATION SLAVE ADMIN ON *.* TO 'mysqlclone'@'%', 'mysqlclone'@'localhost';
GRANT REPLICATION SLAVE ON *.* TO 'repl'@'%';"
  fi
  client "$dir" -e "$sql"
}

# ping DIR: the server answers on the socket. "Access denied" counts as up: a restored datadir
# from elsewhere may not let our root in, yet the server is there.
ping_server() {
  local out
  out=$(client "$1" -N -B -e 'SELECT 1' 2>&1) && return 0
  case "$out" in *"Access denied"*) return 0 ;; esac
  return 1
}

# check_clone_tls: what --clone, --no-clone and --no-tls asked for holds on the running server.
check_clone_tls() {
  is_mysql "$flavour" || return 0
  local state out
  if [ -n "$opt_clone" ]; then
    state=$(client "$dir" -N -B -e \
      "SELECT PLUGIN_STATUS FROM information_schema.PLUGINS WHERE PLUGIN_NAME='clone'") || return 1
    if [ "$opt_clone" = 1 ] && [ "$state" != ACTIVE ]; then
      echo "server.sh: the clone plugin is '${state:-absent}', not ACTIVE" >&2; return 1
    fi
    if [ "$opt_clone" = 0 ] && [ -n "$state" ]; then
      echo "server.sh: --no-clone, yet the clone plugin is there ($state)" >&2; return 1
    fi
  fi
  if [ "$tls" = 0 ]; then
    # A client that insists on TLS over TCP must be refused for want of TLS on the server.
    if out=$(client "$dir" --protocol=TCP -h 127.0.0.1 -P "$port" -u mysqlclone -pmysqlclone \
               --ssl-mode=REQUIRED -N -B -e 'SELECT 1' 2>&1); then
      echo "server.sh: --no-tls, yet a TLS connection succeeded" >&2; return 1
    fi
    case "$out" in
      *"SSL is required but the server doesn't support it"*) ;;
      *) echo "server.sh: --no-tls: unexpected answer to a TLS client: $out" >&2; return 1 ;;
    esac
  fi
}

cmd_start() {
  [ $# -ge 2 ] || usage
  flavour=$1 dir=$2; shift 2
  local opt_port="" opt_page="" opt_datadir="" opt_clone=""
  sets=()
  clone=1 tls=1
  while [ $# -gt 0 ]; do
    case "$1" in
      --port) [ $# -ge 2 ] || usage; opt_port=$2; shift 2 ;;
      --port=*) opt_port=${1#*=}; shift ;;
      --page-size) [ $# -ge 2 ] || usage; opt_page=$2; shift 2 ;;
      --page-size=*) opt_page=${1#*=}; shift ;;
      --datadir) [ $# -ge 2 ] || usage; opt_datadir=$2; shift 2 ;;
      --datadir=*) opt_datadir=${1#*=}; shift ;;
      --clone) opt_clone=1; clone=1; shift ;;
      --no-clone) opt_clone=0; clone=0; shift ;;
      --no-tls) tls=0; shift ;;
      --set) [ $# -ge 2 ] || usage; sets+=("$2"); shift 2 ;;
      --set=*) sets+=("${1#*=}"); shift ;;
      *) die "start: unknown option '$1'" ;;
    esac
  done
  known_flavour "$flavour" || die "unknown flavour '$flavour' (one of: ${FLAVOURS[*]})"
  if ! is_mysql "$flavour"; then
    [ -z "$opt_clone" ] || die "--clone/--no-clone: MySQL only (MariaDB has no clone plugin)"
    [ "$tls" = 1 ] || die "--no-tls: MySQL only"
  fi
  FLAVOUR=$flavour   # what client() and friends go by
  local s
  for s in "${sets[@]}"; do
    case "$s" in ''|=*|*[[:space:]]*=*) die "--set wants name=value, got '$s'" ;; esac
  done

  root=$(flavour_root "$flavour")
  if [ -n "$root" ] && [ ! -e "$root/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" ]; then
    # Only when missing: rebuilding a root in use would pull it from under running servers.
    "$here/build-root.sh" "$flavour"
  fi

  if is_mysql "$flavour" && [ "$clone" = 1 ] && [ ! -f "$root/usr/lib/mysql/plugin/mysql_clone.so" ]; then
    die "no clone plugin in $root/usr/lib/mysql/plugin (mysql_clone.so): rebuild the root with build-root.sh"
  fi

  local made=""
  if [ ! -d "$dir" ]; then mkdir -p "$dir" || die "cannot create $dir"; made=$dir; fi
  dir=$(canon_dir "$dir") || die "cannot enter $dir"
  sock=$dir/mysqld.sock
  # sun_path holds 108 bytes; stay <= 100 (the recipe's limit) to leave room for MySQL's
  # mysqld.sock.lock beside it and for the odd relative spelling.
  if (( ${#sock} > 100 )); then
    if [ -n "$made" ]; then rmdir "$dir" 2>/dev/null || true; fi
    die "socket path $sock is ${#sock} chars (max 100): use a shorter DIR"
  fi
  local pid
  if pid=$(server_pid "$dir"); then die "a server is already running in $dir (pid $pid)"; fi

  local fresh=0
  if [ -n "$opt_datadir" ]; then
    # An existing datadir (e.g. a restored backup): never initialised, no accounts made.
    [ -d "$opt_datadir" ] || die "--datadir $opt_datadir: no such directory"
    datadir=$(canon_dir "$opt_datadir")
  else
    datadir=$dir/data
    # An empty leftover directory counts as absent: there is nothing in it to start.
    if [ -d "$datadir" ] && [ -z "$(ls -A "$datadir")" ]; then rmdir "$datadir"; fi
    [ -e "$datadir" ] || fresh=1
    # DIR/data belongs to the flavour that made it; another one would only fail obscurely.
    # (Starting another flavour on it on purpose, e.g. an upgrade test: pass --datadir.)
    local prev_flavour
    prev_flavour=$(sed -n 's/^FLAVOUR=//p' "$dir/server.env" 2>/dev/null || true)
    if [ "$fresh" = 0 ] && [ -n "$prev_flavour" ] && [ "$prev_flavour" != "$flavour" ]; then
      die "$datadir was made by $prev_flavour, not $flavour (use --datadir to force it)"
    fi
  fi

  # Page size: as asked; for an existing datadir, as recorded in its ibdata1 (a mismatch is
  # caught here with a clear message rather than as an InnoDB error in the log).
  local found=""
  if [ -n "$opt_page" ]; then
    page_size=$(page_size_bytes "$opt_page") || die "--page-size must be 4k, 8k, 16k, 32k or 64k"
  fi
  if [ "$fresh" = 0 ] && found=$(datadir_page_size "$datadir"); then
    if [ -n "$opt_page" ] && [ "$found" != "$page_size" ]; then
      die "$datadir has $((found / 1024))k pages, not $opt_page"
    fi
    page_size=$found
  fi
  page_size=${page_size:-16384}

  # Port: explicit, or picked (again under the lock below, just before the server binds it).
  local auto_port=1
  if [ -n "$opt_port" ]; then
    if ! [[ "$opt_port" =~ ^[0-9]{1,5}$ ]] || (( opt_port < 1 || opt_port > 65535 )); then
      die "bad --port '$opt_port'"
    fi
    port_free "$opt_port" || die "port $opt_port is in use"
    port=$opt_port auto_port=0
  else
    port=$(pick_port "$dir") || die "no free TCP port from $FIRST_PORT up"
  fi

  if is_mysql "$flavour"; then client_user=root; else client_user=$(id -un); fi
  if [ "$flavour" = mariadb-11.8 ]; then make_tls "$dir"; fi
  if is_mysql "$flavour"; then mkdir -p "$dir/files"; fi
  build_opts "$root"
  write_cnf
  : >> "$dir/error.log"
  trap 'start_fail "interrupted"' INT TERM

  local t0 t_init="" t1 cached=0 init_how=""
  t0=$(now_us)
  if [ "$fresh" = 1 ] && [ -n "${MYSQLCLONE_SERVER_CACHE:-}" ]; then
    cached_datadir
    cached=1 init_how=" (a copy from the cache)"
    t_init=$(secs_since "$t0")
  elif [ "$fresh" = 1 ]; then
    init_datadir
    t_init=$(secs_since "$t0")
  fi
  # From here on this DIR describes this server (sql/exec work even if the start fails).
  write_env "" "$page_size"

  # Two concurrent starts must not pick the same port: pick and launch under a lock, released once
  # the port is taken (or the start is over). The server must not inherit the lock's descriptor.
  # A process outside this lock can still grab the port first: with a picked port, a start that
  # dies on "Address already in use" is retried on the next free one.
  t1=$(now_us)
  local locked=0 attempt=1 log_size up
  while :; do
    if [ "$auto_port" = 1 ]; then
      exec 9>>"$PORT_LOCK"
      flock -w 180 9 || start_fail "cannot lock $PORT_LOCK"
      locked=1
      port=$(pick_port "$dir") || start_fail "no free TCP port from $FIRST_PORT up"
      build_opts "$root"
      write_cnf
      write_env "" "$page_size"
    fi
    log_size=$(stat -c %s "$dir/error.log")

    flavour_cmd "$flavour" "$(flavour_server "$flavour")"
    # The server keeps no descriptor of ours beyond 0-2: not the port lock, and not a caller's
    # pipe (a harness reading our output to EOF would wait for the server's exit).
    # setsid: the server gets its own session, so the caller's terminal signals and process-group
    # kills do not reach it. setsid execs (the subshell is no group leader), and so does the
    # subshell: $! is the server's pid.
    (
      for fd in /proc/"$BASHPID"/fd/*; do
        fd=${fd##*/}
        if (( fd > 2 )); then eval "exec $fd>&-" 2>/dev/null || true; fi
      done
      exec setsid "${CMD[@]}" --defaults-file="$dir/my.cnf" </dev/null >>"$dir/error.log" 2>&1
    ) &
    spid=$!

    local deadline=$(( SECONDS + START_TIMEOUT ))
    up=0
    while pid_alive "$spid"; do
      if [ "$locked" = 1 ] && ! port_free "$port"; then exec 9>&-; locked=0; fi
      if [ -S "$sock" ] && ping_server "$dir"; then up=1; break; fi
      (( SECONDS < deadline )) || start_fail "no connection within $START_TIMEOUT s"
      sleep 0.1
    done
    if [ "$locked" = 1 ]; then exec 9>&-; locked=0; fi
    [ "$up" = 1 ] && break
    if [ "$auto_port" = 1 ] && (( attempt < 5 )) &&
       tail -c +$(( log_size + 1 )) "$dir/error.log" | grep -qi 'address already in use'; then
      wait "$spid" 2>/dev/null || true
      spid=""
      bad_ports+="$port "
      echo "server.sh: port $port was taken meanwhile; trying another" >&2
      attempt=$(( attempt + 1 ))
      continue
    fi
    start_fail "the server exited during startup"
  done
  local t_start
  t_start=$(secs_since "$t1")

  if [ "$fresh" = 1 ] && [ "$cached" = 0 ]; then
    create_accounts || start_fail "cannot create the test accounts"
  fi
  check_clone_tls || start_fail "the server is up but not as asked (--clone/--no-clone/--no-tls)"
  local version ps
  version=$(client "$dir" -N -B -e 'SELECT VERSION()' 2>/dev/null) || version=""
  ps=$(client "$dir" -N -B -e 'SELECT @@innodb_page_size' 2>/dev/null) || ps=$page_size
  write_env "$version" "$ps"
  created_datadir=""
  trap - INT TERM
  echo "server.sh: $flavour ${version:-?} up in $dir: port $port, pid $spid, page size $ps${t_init:+, init ${t_init} s}${init_how}, start ${t_start} s" >&2
}

# ----------------------------------------------------------------------------- stop/kill/status

# wait_gone PID SECONDS: waits until PID has exited; fails on timeout.
wait_gone() {
  local pid=$1 deadline=$(( SECONDS + $2 ))
  while pid_alive "$pid"; do
    (( SECONDS < deadline )) || return 1
    sleep 0.05
  done
}

# Leftovers of a server that died without cleaning up (the servers remove them on a clean exit).
remove_stale() {
  rm -f "$1/mysqld.pid" "$1/mysqld.sock" "$1/mysqld.sock.lock"
}

cmd_stop() {
  [ $# -eq 1 ] || usage
  local dir pid t0
  dir=$(canon_dir "$1") || exit 0
  pid=$(server_pid "$dir") || exit 0
  t0=$(now_us)
  kill -TERM "$pid" 2>/dev/null || true
  if ! wait_gone "$pid" "$STOP_TIMEOUT"; then
    kill -KILL "$pid" 2>/dev/null || true
    wait_gone "$pid" 30 || true
    remove_stale "$dir"
    die "the server in $dir (pid $pid) did not stop within $STOP_TIMEOUT s: killed"
  fi
  remove_stale "$dir"
  echo "server.sh: stopped $dir in $(secs_since "$t0") s" >&2
}

cmd_kill() {
  [ $# -eq 1 ] || usage
  local dir pid
  dir=$(canon_dir "$1") || exit 0
  if pid=$(server_pid "$dir"); then
    kill -KILL "$pid" 2>/dev/null || true
    wait_gone "$pid" 30 || die "pid $pid survived SIGKILL for 30 s"
  fi
  remove_stale "$dir"
}

cmd_status() {
  [ $# -eq 1 ] || usage
  local dir
  dir=$(canon_dir "$1") || exit 1
  server_pid "$dir" >/dev/null
}

# ------------------------------------------------------------------------ sql/sysbench/exec

cmd_sql() {
  [ $# -ge 1 ] || usage
  local dir
  dir=$(canon_dir "$1") || die "no directory $1"; shift
  load_env "$dir"
  flavour_cmd "$FLAVOUR" "$(flavour_client "$FLAVOUR")"
  exec "${CMD[@]}" --defaults-file="$dir/my.cnf" "$@"
}

cmd_sysbench() {
  [ $# -ge 2 ] || usage
  local dir n
  dir=$(canon_dir "$1") || die "no directory $1"; shift
  load_env "$dir"
  # Created only when missing: CREATE DATABASE IF NOT EXISTS would still write a binlog event
  # (a GTID on MySQL) at every call.
  n=$(client "$dir" -N -B -e "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME='sbtest'")
  if [ "$n" = 0 ]; then client "$dir" -e "CREATE DATABASE sbtest"; fi
  exec sysbench --db-driver=mysql --mysql-socket="$SOCKET" --mysql-user=bench --mysql-password=bench \
    --mysql-db=sbtest "$@"
}

# Server-side programs read /etc/mysql/my.cnf unless told otherwise, and the host's one (from the
# bookworm mariadb-server package) points them at /var/lib/mysql and /run/mysqld: never let exec
# start one of those on the system's datadir by accident.
guard_server_program() {
  local prog=${1##*/} a; shift
  case "$prog" in
    mysqld_safe|mariadbd-safe|mysqld_multi|mariadbd-multi)
      # No exception, not even --version: mysqld_safe ignores it and starts the system server.
      die "exec $prog: not supported (it daemonises with the system's paths); use server.sh start" ;;
    mysqld|mariadbd|mariadb-install-db|mysql_install_db)
      case "${1:-}" in --defaults-file=*|--no-defaults) return 0 ;; esac
      for a in "$@"; do case "$a" in --help|-'?'|--version|-V) return 0 ;; esac; done
      die "exec $prog: the first argument must be --defaults-file=... or --no-defaults (else it reads /etc/mysql/my.cnf, i.e. /var/lib/mysql)" ;;
    mariadb-backup|mariabackup)
      # --copy-back/--move-back write into the datadir of the option files.
      case "${1:-}" in --defaults-file=*|--no-defaults) return 0 ;; esac
      for a in "$@"; do
        case "$a" in --copy-back|--move-back)
          die "exec $prog $a: the first argument must be --defaults-file=... or --no-defaults (else the datadir is /var/lib/mysql from /etc/mysql/my.cnf)" ;;
        esac
      done ;;
  esac
}

cmd_exec() {
  [ $# -ge 2 ] || usage
  local dir
  dir=$(canon_dir "$1") || die "no directory $1"; shift
  load_env "$dir"
  guard_server_program "$@"
  flavour_cmd "$FLAVOUR" "$1" || exit 1
  shift
  exec "${CMD[@]}" "$@"
}

[ $# -ge 1 ] || usage
sub=$1; shift
case "$sub" in
  start) cmd_start "$@" ;;
  stop) cmd_stop "$@" ;;
  kill) cmd_kill "$@" ;;
  status) cmd_status "$@" ;;
  sql) cmd_sql "$@" ;;
  sysbench) cmd_sysbench "$@" ;;
  exec) cmd_exec "$@" ;;
  -h|--help|help) usage ;;
  *) echo "server.sh: unknown command '$sub'" >&2; usage ;;
esac
