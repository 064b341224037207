#!/usr/bin/env bash
# Benchmark (not a test): `mysqlclone local` and `mysqlclone verify` on a server with many small
# file-per-table InnoDB tables, with mysqlclone limited to `ulimit -n 1024` (a common default),
# to show that neither needs a descriptor per file nor time quadratic in the number of files.
#
#   tools/bench/many_tables.sh [FLAVOUR|all] [TABLES=20000]     default all: mysql-9.7 and mariadb-10.11
#
# The loaded server directory is kept in $BENCH_DIR (default /var/tmp/mysqlclone-bench) as
# many-FLAVOUR-TABLES, so reruns skip the load. Each run starts that server, runs `local` into a
# fresh target, stops the server, and runs `verify` on the target (a backup: pages and SHA-256s).
# Page cache is not dropped: the figures are about file count, not the disk.
# Logs: $BENCH_DIR/many-FLAVOUR-{local,verify}.log, local's --json result many-FLAVOUR-local.json.
# Prints wall time, peak open descriptors (/proc/PID/fd sampled every 50 ms) and peak RSS
# (getrusage of the child) per command, and for `local` how long it blocked DDL (ddl_blocked_ms
# of its result: the final phase looks at every table). Needs root and a build (tools/build.sh; MYSQLCLONE_BIN overrides the binary).
set -euo pipefail
cd "$(dirname "$0")/../.."
which=${1:-all}
tables=${2:-20000}
server=tools/servers/server.sh
bin=${MYSQLCLONE_BIN:-$PWD/build/cli/mysqlclone}
base=${BENCH_DIR:-/var/tmp/mysqlclone-bench}
nofile=1024
per_db=1000   # tables per schema: a realistic spread, and no directory of 20,000 entries
per_batch=500 # CREATE + INSERT pairs per client session
case "$which" in
  all) flavours=(mysql-9.7 mariadb-10.11) ;;
  mysql-9.7|mariadb-10.11|mariadb-11.8) flavours=("$which") ;;
  *) echo "usage: many_tables.sh [mysql-9.7|mariadb-10.11|mariadb-11.8|all] [TABLES]" >&2; exit 2 ;;
esac
mkdir -p "$base"

# The server must be able to open its own tables (the limit is for mysqlclone alone); while it
# is loaded it needs no durability (a CREATE TABLE syncs its new file and directory otherwise).
opts=(--set open_files_limit=20000 --set table_open_cache=2000)
speed=("${opts[@]}" --set innodb_flush_log_at_trx_commit=0 --set sync_binlog=0 --set innodb_doublewrite=0
       --set innodb_flush_method=nosync)

running=""
out=""
trap '[ -z "$running" ] || "$server" stop "$running" >/dev/null 2>&1 || true; [ -z "$out" ] || rm -rf "$out"' EXIT

load() {  # load FLAVOUR DIR: DIR's server holds $tables tables of three rows
  local flavour=$1 dir=$2 t i n
  "$server" stop "$dir" >/dev/null 2>&1 || true
  rm -rf "$dir"
  "$server" start "$flavour" "$dir" "${speed[@]}" >/dev/null
  running=$dir
  echo "loading $tables tables into $dir ..." >&2
  local t0=$EPOCHREALTIME
  for (( t = 0; t < tables; t += per_db )); do
    echo "CREATE DATABASE many$(( t / per_db ));"
  done | "$server" sql "$dir"
  # Two sessions at a time: a CREATE TABLE is mostly the server's own work.
  for (( t = 0; t < tables; t += per_batch )); do
    n=$(( t + per_batch < tables ? per_batch : tables - t ))
    for (( i = t; i < t + n; i++ )); do
      echo "CREATE TABLE many$(( i / per_db )).t$i (id INT PRIMARY KEY, v VARCHAR(32)) ENGINE=InnoDB;"
      echo "INSERT INTO many$(( i / per_db )).t$i VALUES (1,'one'),(2,'two'),(3,'three');"
    done | "$server" sql "$dir" &
    if (( t / per_batch % 2 == 1 )); then wait; fi
  done
  wait
  local made
  made=$(find "$dir/data" -path "$dir/data/many*/t*.ibd" | wc -l)
  [ "$made" = "$tables" ] || { echo "many_tables.sh: $made tables were made, not $tables" >&2; exit 1; }
  printf 'loaded %d tables in %.0f s\n' "$tables" "$(echo "$EPOCHREALTIME - $t0" | bc -l)" >&2
  "$server" stop "$dir" >/dev/null
  running=""
  touch "$dir/.loaded"
}

# measure LOG STDOUT CMD...: runs CMD under `ulimit -n $nofile`, its stderr into LOG and its stdout
# into STDOUT (LOG too when the same); prints "seconds peak_fds peak_rss_MiB rc".
measure() {
  local log=$1 stdout=$2; shift 2
  python3 - "$nofile" "$log" "$stdout" "$@" <<'EOF'
import contextlib, os, resource, subprocess, sys, time
nofile, log, stdout, cmd = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4:]
def limit():
    resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))
with open(log, "w") as err, (open(stdout, "w") if stdout != log else contextlib.nullcontext(err)) as out:
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdout=out, stderr=err, preexec_fn=limit)
    peak = 0
    while True:
        try:
            peak = max(peak, len(os.listdir(f"/proc/{p.pid}/fd")))
        except OSError:
            pass  # exited between two samples
        pid, status, usage = os.wait4(p.pid, os.WNOHANG)
        if pid:
            break
        time.sleep(0.05)
    secs = time.monotonic() - t0
print(f"{secs:.2f} {peak} {usage.ru_maxrss // 1024} {os.waitstatus_to_exitcode(status)}")
EOF
}

# note LOG: the run's first error, else its summary line.
note() { { grep -m1 'error:' "$1" || grep -m1 -E '^(OK|FAILED)' "$1" || true; } | sed 's/^.*error: //' | cut -c1-100; }
row() { printf '%-14s %-10s %8s %8s %9s %5s %14s  %s\n' "$@"; }

results=()
for flavour in "${flavours[@]}"; do
  dir=$base/many-$flavour-$tables
  [ -f "$dir/.loaded" ] || load "$flavour" "$dir"
  out=$(mktemp -d /tmp/scale-many.XXXXXX)
  rmdir "$out"  # local wants to create its target
  "$server" start "$flavour" "$dir" "${opts[@]}" >/dev/null
  running=$dir
  # shellcheck source=/dev/null
  . "$dir/server.env"
  files=$(find "$DATADIR" -type f | wc -l)
  echo "$flavour: $tables tables, $files files in the datadir" >&2
  log=$base/many-$flavour-local.log
  json=$base/many-$flavour-local.json
  read -r t fds rss rc < <(measure "$log" "$json" "$bin" --json local --target-dir "$out" -S "$SOCKET" \
    -u mysqlclone --password=mysqlclone)
  ddl_ms=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("ddl_blocked_ms", "-"))' "$json" \
    2>/dev/null || echo -)
  results+=("$(row "$flavour" local "$t" "$fds" "$rss" "$rc" "$ddl_ms" "$(note "$log")")")
  "$server" stop "$dir" >/dev/null
  running=""
  # The copy when there is one; else the stopped source datadir, which has the same files.
  what=verify target=$out
  if [ "$rc" != 0 ]; then what=verify-src target=$DATADIR; fi
  log=$base/many-$flavour-verify.log
  read -r t fds rss rc < <(measure "$log" "$log" "$bin" verify "$target")
  results+=("$(row "$flavour" "$what" "$t" "$fds" "$rss" "$rc" - "$(note "$log")")")
  rm -rf "$out"
  out=""
done
echo
echo "mysqlclone under ulimit -n $nofile; $tables tables per server"
row flavour command wall_s peak_fds peak_MiB exit ddl_blocked_ms note
for r in "${results[@]}"; do echo "$r"; done
