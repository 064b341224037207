#!/usr/bin/env bash
# End-to-end check of server.sh: for each flavour and page size, a fresh server in a temp dir,
# queries over the socket (root) and TCP (mysqlclone, with the system bookworm client as the
# project's own code would connect), a tiny sysbench load, stop, restart on the same data with
# --datadir, stop, clean up. The 16k run also checks kill + crash recovery, the refusal of a
# second start, the backup privileges and `exec`.
#
#   selftest.sh [FLAVOUR...] [--page-sizes "16k 4k 64k"]     one line per check; exit 1 on failure
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"
S=$here/server.sh

flavours=() page_sizes=(16k 4k 64k)
while [ $# -gt 0 ]; do
  case "$1" in
    --page-sizes) read -r -a page_sizes <<< "$2"; shift 2 ;;
    *) known_flavour "$1" || { echo "selftest: unknown flavour $1" >&2; exit 2; }; flavours+=("$1"); shift ;;
  esac
done
[ ${#flavours[@]} -gt 0 ] || flavours=("${FLAVOURS[@]}")

# A short base: the socket path must stay <= 100 chars.
base=$(mktemp -d /tmp/mcst.XXXXXX)
cleanup() {
  local d
  for d in "$base"/*/; do
    if [ -d "$d" ]; then "$S" kill "$d" >/dev/null 2>&1 || true; fi
  done
  rm -rf "$base"
}
trap cleanup EXIT

failures=0 out=""
now_us() { echo "${EPOCHREALTIME/./}"; }

# check NAME COMMAND...: runs COMMAND, keeps its output in $out, prints one line.
check() {
  local name=$1 t0 t rc=0; shift
  t0=$(now_us)
  out=$("$@" 2>&1) || rc=$?
  t=$(( $(now_us) - t0 ))
  if [ "$rc" = 0 ]; then
    printf 'ok    %-58s %3d.%02d s\n' "$name" $(( t / 1000000 )) $(( t % 1000000 / 10000 ))
    return 0
  fi
  printf 'FAIL  %s (exit %d)\n' "$name" "$rc"
  printf '%s\n' "$out" | tail -n 25 | sed 's/^/      | /'
  failures=$(( failures + 1 ))
  return 1
}

# expect WANT COMMAND...: COMMAND's stdout (trimmed) must equal WANT.
expect() {
  local want=$1 got; shift
  got=$("$@") || return 1
  [ "$got" = "$want" ] || { echo "expected '$want', got '$got'"; return 1; }
}

sqlv() { "$S" sql "$1" -N -B -e "$2"; }
# env_of DIR KEY: one value of DIR/server.env.
env_of() {
  (  # shellcheck source=/dev/null
    . "$1/server.env"; echo "${!2}")
}
port_of() { env_of "$1" PORT; }
# The system (bookworm) client over TCP, as mysqlclone: what the project's tool links against.
tcp_sql() {
  mariadb --no-defaults -h 127.0.0.1 -P "$(port_of "$1")" -u mysqlclone -pmysqlclone -N -B -e "$2"
}
not_running() { ! "$S" status "$1"; }
refused_second_start() { ! "$S" start "$1" "$2" >/dev/null 2>&1 && "$S" status "$2"; }

backup_privs() {
  if is_mysql "$2"; then
    tcp_sql "$1" "LOCK INSTANCE FOR BACKUP; SELECT COUNT(*) FROM performance_schema.log_status;
                  UNLOCK INSTANCE; SHOW BINARY LOG STATUS" >/dev/null
  else
    tcp_sql "$1" "BACKUP STAGE START; BACKUP STAGE BLOCK_COMMIT; BACKUP STAGE END;
                  SHOW BINLOG STATUS" >/dev/null
  fi
}

exec_programs() {
  local d=$1 f=$2 p progs
  if is_mysql "$f"; then progs=(mysqld mysqlbinlog mysqldump)
  elif [ "$f" = mariadb-11.8 ]; then progs=(mariadbd mariadb-backup)   # the root has no mariadb-binlog
  else progs=(mariadbd mariadb-backup mariadb-binlog)
  fi
  for p in "${progs[@]}"; do
    "$S" exec "$d" "$p" --version >/dev/null || { echo "exec $p failed"; return 1; }
  done
}

# 11.8: the fixed certificate is served and verifies against DIR/tls/ca.pem with 11.8's client.
tls_verified() {
  "$S" exec "$1" mariadb --no-defaults -h 127.0.0.1 -P "$(port_of "$1")" -u mysqlclone -pmysqlclone \
    --ssl-verify-server-cert --ssl-ca="$1/tls/ca.pem" -N -B -e "SHOW STATUS LIKE 'Ssl_cipher'" |
    grep -q TLS
}

# A TCP client that insists on TLS is refused for want of it.
tls_refused() {
  local got
  if got=$("$S" sql "$1" --protocol=TCP -h 127.0.0.1 -P "$(port_of "$1")" -u mysqlclone -pmysqlclone \
             --ssl-mode=REQUIRED -N -B -e 'SELECT 1' 2>&1); then
    echo "a TLS connection succeeded"; return 1
  fi
  case "$got" in *"SSL is required but the server doesn't support it"*) return 0 ;; esac
  echo "unexpected: $got"; return 1
}

# ... and served by default (mysqld's auto-generated certificate).
tls_served() {
  "$S" sql "$1" --protocol=TCP -h 127.0.0.1 -P "$(port_of "$1")" -u mysqlclone -pmysqlclone \
    --ssl-mode=REQUIRED -N -B -e "SHOW SESSION STATUS LIKE 'Ssl_version'" 2>/dev/null | grep -q TLS
}

clone_state() { sqlv "$1" "SELECT PLUGIN_STATUS FROM information_schema.PLUGINS WHERE PLUGIN_NAME='clone'"; }

# MySQL donors for `mysqlclone remote`: --no-clone --no-tls (no clone plugin, TLS refused;
# INSTALL PLUGIN adds the plugin at run time), then --clone (the plugin ACTIVE).
donor_variants() {
  local f=$1 label=$2 v=$base/$1-donor
  check "$label: start --no-clone --no-tls" "$S" start "$f" "$v" --no-clone --no-tls || return 1
  check "$label: no clone plugin" expect "" clone_state "$v" || return 1
  check "$label: TLS refused" tls_refused "$v" || return 1
  check "$label: INSTALL PLUGIN clone" \
    expect ACTIVE sqlv "$v" "INSTALL PLUGIN clone SONAME 'mysql_clone.so'; SELECT PLUGIN_STATUS FROM information_schema.PLUGINS WHERE PLUGIN_NAME='clone'" ||
    return 1
  check "$label: stop" "$S" stop "$v" || return 1
  rm -rf "$v"
  check "$label: start --clone" "$S" start "$f" "$v" --clone || return 1
  check "$label: clone plugin ACTIVE" expect ACTIVE clone_state "$v" || return 1
  check "$label: TLS served" tls_served "$v" || return 1
  check "$label: stop" "$S" stop "$v" || return 1
  rm -rf "$v"
}

run_one() {
  local f=$1 ps=$2 d bytes label
  d=$base/$f-$ps
  bytes=$(page_size_bytes "$ps")
  label="$f $ps"
  echo "== $label ($d)"
  check "$label: start (init)" "$S" start "$f" "$d" --page-size "$ps" || return 1
  printf '      %s\n' "$(printf '%s\n' "$out" | grep '^server.sh:' | tail -n 1)"
  check "$label: SELECT VERSION(), @@innodb_page_size" \
    expect "$(env_of "$d" VERSION)	$bytes" sqlv "$d" "SELECT VERSION(), @@innodb_page_size" || return 1
  check "$label: TCP as mysqlclone (system mariadb client)" \
    expect "mysqlclone@%" tcp_sql "$d" "SELECT CURRENT_USER()" || return 1
  check "$label: sysbench prepare 2 x 1000" \
    "$S" sysbench "$d" oltp_read_write --tables=2 --table-size=1000 prepare || return 1
  check "$label: rows loaded" expect 1000 sqlv "$d" "SELECT COUNT(*) FROM sbtest.sbtest2" || return 1
  if [ "$ps" = 16k ]; then
    check "$label: second start refused" refused_second_start "$f" "$d" || return 1
    check "$label: backup privileges of mysqlclone" backup_privs "$d" "$f" || return 1
    check "$label: exec programs" exec_programs "$d" "$f" || return 1
    if [ "$f" = mariadb-11.8 ]; then
      check "$label: TLS with the fixed certificate" tls_verified "$d" || return 1
    fi
    if is_mysql "$f"; then donor_variants "$f" "$label" || return 1; fi
  fi
  check "$label: stop" "$S" stop "$d" || return 1
  check "$label: status after stop" not_running "$d" || return 1
  check "$label: start --datadir on the same data" \
    "$S" start "$f" "$d" --datadir "$d/data" --page-size "$ps" || return 1
  check "$label: data and page size kept" \
    expect "1000	$bytes" sqlv "$d" "SELECT COUNT(*), @@innodb_page_size FROM sbtest.sbtest1" || return 1
  if [ "$ps" = 16k ]; then
    check "$label: kill (crash)" "$S" kill "$d" || return 1
    check "$label: status after kill" not_running "$d" || return 1
    # No --page-size: it is read from the datadir.
    check "$label: start --datadir after the crash" "$S" start "$f" "$d" --datadir "$d/data" || return 1
    check "$label: data after crash recovery" \
      expect 1000 sqlv "$d" "SELECT COUNT(*) FROM sbtest.sbtest1" || return 1
  fi
  check "$label: stop" "$S" stop "$d" || return 1
  rm -rf "$d"
}

for f in "${flavours[@]}"; do
  for ps in "${page_sizes[@]}"; do
    if ! run_one "$f" "$ps"; then
      "$S" kill "$base/$f-$ps" >/dev/null 2>&1 || true
    fi
  done
done

if [ "$failures" -gt 0 ]; then echo "selftest: $failures check(s) FAILED"; exit 1; fi
echo "selftest: all checks passed"
