#!/usr/bin/env bash
# Benchmark (not a test): `mysqlclone local` against the peer tool on the same ~1 GiB sysbench
# data, alternately, page cache dropped and the server restarted before every run (a freshly
# loaded server's checkpoint lags far behind: test-servers.md "timing trap").
#
#   tools/bench/local_bench.sh mysql-9.7|mariadb-10.11 [ROUNDS=3] [TABLES=8] [ROWS=500000]
#
# Peers: MySQL `CLONE LOCAL DATA DIRECTORY` (the server copies; strace of 9.7.4: it writes the
# data with O_DIRECT and fsyncs no data file, only its directories and status files, whose fsync at
# the end flushes the device's write cache: durable then, and the server's own fsyncs during the
# copy have flushed most of it already);
# MariaDB `mariadb-backup --backup --parallel=2` + `--prepare` (the time until the copy is a
# startable datadir). Also a raw O_DIRECT read of the same files (dd, 1 MiB) as the disk's limit.
# Our time includes every fsync: the copy is durable when mysqlclone says done.
# The disk's own limit for a copy: fio reading one file and writing another at once, the way the
# copier does (2 MiB blocks in huge pages, queue depth 4 each, direct I/O both ways, a final
# fsync), on the target's file system, taken before and after the runs.
# Prints one line per run (blocked_ms: commits blocked; ddl_blocked_ms: DDL blocked), then the
# medians with their spread, the ratio, and our speed as a fraction of the disk's copy limit.
# OURS_ARGS: more options for `mysqlclone local` (e.g. --reflink=never; reflink_bench.sh).
# BENCH_DIR: where the source and the copies live (default /var/tmp/mysqlclone-bench).
# Needs root and a build (tools/build.sh; MYSQLCLONE_BIN overrides the binary).
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

read -r -a ours_args <<< "${OURS_ARGS:-}"
run_ours() {
  local t0 t1 rss
  t0=$(now)
  /usr/bin/time -f '%M' -o "$base/rss" "$bin" --quiet --json local --target-dir "$out" -S "$SOCKET" \
    -u mysqlclone --password=mysqlclone "${ours_args[@]}" > "$base/ours.json"
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

# The disk's copy limit on the target's file system: one file read while another is written.
copy_limit() {
  local dir=$base/fio reserved
  rm -rf "$dir"; mkdir -p "$dir"
  # fio's buffers in huge pages, as the copier's are (AlignedBuffer): in 4 KiB pages a 1 MiB
  # direct read is split into two requests on a virtio disk. fio takes them from the hugetlb pool,
  # reserved for the run and given back after.
  reserved=$(cat /proc/sys/vm/nr_hugepages)
  echo $((reserved + 24)) > /proc/sys/vm/nr_hugepages
  fio --output-format=json --directory="$dir" --ioengine=libaio --bs=2M --iodepth=4 --size=1G --iomem=shmhuge \
    --direct=1 --name=read --rw=read --filename=read.f \
    --name=write --rw=write --end_fsync=1 --filename=write.f \
    > "$base/fio.json" 2>/dev/null
  echo "$reserved" > /proc/sys/vm/nr_hugepages
  rm -rf "$dir"
  python3 -c "
import json
jobs = {j['jobname']: j for j in json.load(open('$base/fio.json'))['jobs']}
print('%.0f %.0f' % (jobs['read']['read']['bw'] / 1024, jobs['write']['write']['bw'] / 1024))"
}

median_spread() {  # numbers on stdin -> 'median min max'
  sort -g | awk '{v[NR]=$1} END {m = NR % 2 ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2; printf "%.2f %.2f %.2f\n", m, v[1], v[NR]}'
}

# The copy limit is taken before and after the runs: on a shared (virtual) disk it moved by a
# factor of two within minutes, and one figure would make our fraction of it look better or worse
# than it is.
fio_read0=0 fio_write0=0
[ "$rounds" -eq 0 ] || read -r fio_read0 fio_write0 < <(copy_limit)
limit0=$(( fio_read0 < fio_write0 ? fio_read0 : fio_write0 ))
echo "ours: mysqlclone local ${OURS_ARGS:-}"
printf '%-6s %10s %10s %10s %10s %10s %12s %15s %12s\n' round ours_s peer_s ratio ours_MiB/s rss_MiB blocked_ms ddl_blocked_ms shared_MiB
ours_times=() peer_times=()
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
  ours_times+=("$t_ours") peer_times+=("$t_peer")
  shared=$(python3 -c "import json;print(json.load(open('$base/ours.json'))['reflink']['shared_bytes'] >> 20)")
  printf '%-6s %10.2f %10.2f %10.2f %10.0f %10s %12s %15s %12s\n' "$r" "$t_ours" "$t_peer" "$ratio" \
    "$(echo "$mib / $t_ours" | bc -l)" "$rss" "$blocked" "$ddl_blocked" "$shared"
done
[ "$rounds" -gt 0 ] || exit 0
read -r ours_med ours_min ours_max < <(printf '%s\n' "${ours_times[@]}" | median_spread)
read -r peer_med peer_min peer_max < <(printf '%s\n' "${peer_times[@]}" | median_spread)
printf 'medians of %s runs: ours %.2f s (%.2f-%.2f, %.0f MiB/s), peer %.2f s (%.2f-%.2f); peer time / ours: %.2f\n' \
  "$rounds" "$ours_med" "$ours_min" "$ours_max" "$(echo "$mib / $ours_med" | bc -l)" "$peer_med" "$peer_min" \
  "$peer_max" "$(echo "$peer_med / $ours_med" | bc -l)"
t_raw=$(raw_read)
read -r fio_read fio_write < <(copy_limit)
limit=$(( fio_read < fio_write ? fio_read : fio_write ))
printf 'disk: raw O_DIRECT read of the same files %.2f s (%.0f MiB/s); a copy (fio, read + write at once) at most %s MiB/s before the runs (read %s, write %s) and %s after (read %s, write %s); ours = %.0f %% and %.0f %% of that\n' \
  "$t_raw" "$(echo "$mib / $t_raw" | bc -l)" "$limit0" "$fio_read0" "$fio_write0" "$limit" "$fio_read" "$fio_write" \
  "$(echo "100 * $mib / $ours_med / $limit0" | bc -l)" "$(echo "100 * $mib / $ours_med / $limit" | bc -l)"
