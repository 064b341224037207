#!/usr/bin/env bash
# Benchmark (not a test): `mysqlclone local` against the peer tool on the same ~1 GiB sysbench
# data, alternately, page cache dropped and the server restarted before every run (a freshly
# loaded server's checkpoint lags far behind: test-servers.md "timing trap").
#
#   tools/bench/local_bench.sh mysql-9.7|mariadb-10.11 [ROUNDS=3] [TABLES=8] [ROWS=500000]
#
# Peers: MySQL `CLONE LOCAL DATA DIRECTORY` (the server copies, data synced by the server);
# MariaDB `mariadb-backup --backup --parallel=2` + `--prepare` (the time until the copy is a
# startable datadir). Also a raw O_DIRECT read of the same files (dd, 1 MiB) as the disk's limit.
# Our time includes every fsync: the copy is durable when mysqlclone says done.
# Prints one line per run (blocked_ms: commits blocked; ddl_blocked_ms: DDL blocked) and the
# ratios; needs root and a build (tools/build.sh; MYSQLCLONE_BIN overrides the binary).
set -euo pipefail
cd "$(dirname "$0")/../.."
flavour=${1:?usage: local_bench.sh mysql-9.7|mariadb-10.11 [ROUNDS] [TABLES] [ROWS]}
rounds=${2:-3}
tables=${3:-8}
rows=${4:-500000}
server=tools/servers/server.sh
bin=${MYSQLCLONE_BIN:-$PWD/build/cli/mysqlclone}
base=${BENCH_DIR:-/var/tmp/mysqlclone-bench}
src=$base/$flavour-src
out=$base/out
mkdir -p "$base"

if [ ! -f "$src/.loaded-$tables-$rows" ]; then
  "$server" stop "$src" >/dev/null 2>&1 || true
  rm -rf "$src"
  "$server" start "$flavour" "$src"
  echo "loading sysbench $tables x $rows rows ..." >&2
  "$server" sysbench "$src" oltp_read_write --tables="$tables" --table-size="$rows" --threads=2 prepare >/dev/null
  touch "$src/.loaded-$tables-$rows"
fi
. "$src/server.env"
data=$DATADIR
# The source server is left stopped however the benchmark ends (its data stays for reruns).
trap '"$server" stop "$src" >/dev/null 2>&1 || true; rm -rf "$out"' EXIT
mib=$(du -sm --exclude='#innodb_redo' --exclude='ib_logfile*' --exclude='binlog.*' "$data" | cut -f1)
echo "source: $flavour, $mib MiB datadir"

fresh() {  # restarted server, cold cache, empty output directory
  "$server" stop "$src" >/dev/null
  rm -rf "$out"
  sync
  echo 3 > /proc/sys/vm/drop_caches
  "$server" start "$flavour" "$src" >/dev/null 2>&1
}
now() { date +%s.%N; }

run_ours() {
  local t0 t1 rss
  t0=$(now)
  /usr/bin/time -f '%M' -o "$base/rss" "$bin" --quiet --json local --target-dir "$out" -S "$SOCKET" \
    -u mysqlclone --password=mysqlclone > "$base/ours.json"
  t1=$(now)
  rss=$(( $(cat "$base/rss") / 1024 ))
  blocked=$(python3 -c "import json;d=json.load(open('$base/ours.json'));print(d['commits_blocked_ms'], d['ddl_blocked_ms'])")
  echo "$(echo "$t1 - $t0" | bc -l) $rss $blocked"
}

run_peer() {
  local t0 t1
  t0=$(now)
  if [ "$flavour" = mysql-9.7 ]; then
    "$server" sql "$src" -e "CLONE LOCAL DATA DIRECTORY = '$out'"
  else
    "$server" exec "$src" mariadb-backup --defaults-file="$src/my.cnf" --backup --parallel=2 \
      --target-dir="$out" --user=mysqlclone --password=mysqlclone >/dev/null 2>&1
    "$server" exec "$src" mariadb-backup --prepare --target-dir="$out" >/dev/null 2>&1
    sync  # mariadb-backup does not sync what it writes
  fi
  t1=$(now)
  echo "$t1 - $t0" | bc -l
}

raw_read() {
  sync; echo 3 > /proc/sys/vm/drop_caches
  local t0 t1
  t0=$(now)
  find "$data" \( -name '*.ibd' -o -name 'ibdata*' -o -name 'undo*' -o -name 'mysql.ibd' \) -print0 |
    xargs -0 -P 4 -I{} dd if={} of=/dev/null bs=1M iflag=direct status=none
  t1=$(now)
  echo "$t1 - $t0" | bc -l
}

printf '%-6s %10s %10s %10s %10s %10s %12s %15s\n' round ours_s peer_s ratio ours_MiB/s rss_MiB blocked_ms ddl_blocked_ms
sum_ratio=0
for r in $(seq 1 "$rounds"); do
  # Alternate who goes first, so a drift of the machine favours neither side.
  if [ $((r % 2)) = 1 ]; then
    fresh; read -r t_ours rss blocked ddl_blocked < <(run_ours)
    fresh; t_peer=$(run_peer)
  else
    fresh; t_peer=$(run_peer)
    fresh; read -r t_ours rss blocked ddl_blocked < <(run_ours)
  fi
  ratio=$(echo "$t_peer / $t_ours" | bc -l)
  sum_ratio=$(echo "$sum_ratio + $ratio" | bc -l)
  printf '%-6s %10.2f %10.2f %10.2f %10.0f %10s %12s %15s\n' "$r" "$t_ours" "$t_peer" "$ratio" \
    "$(echo "$mib / $t_ours" | bc -l)" "$rss" "$blocked" "$ddl_blocked"
done
t_raw=$(raw_read)
printf 'mean ratio (peer time / ours): %.2f; raw O_DIRECT read of the same files: %.2f s (%.0f MiB/s)\n' \
  "$(echo "$sum_ratio / $rounds" | bc -l)" "$t_raw" "$(echo "$mib / $t_raw" | bc -l)"
