#!/usr/bin/env bash
# Benchmark (not a test): a copy through a stream, `mysqlclone local --stream | mysqlclone
# extract`, against the peer on the same ~1 GiB sysbench data, alternately (the order turns every
# round), the source restarted and the page cache dropped before every run (a freshly loaded
# server's checkpoint lags: test-servers.md "timing trap").
#
#   tools/bench/stream_bench.sh mariadb-10.11|mysql-9.7 [ROUNDS=5] [TABLES=8] [ROWS=500000]
#
# Runs (each into a fresh directory, timed until it is a startable datadir, synced):
#   plain, zstd, lz4, zstd+aes   local --stream [--compress=...] [--encrypt-key-file] | extract
#   file                         local --stream --compress > FILE, then extract FILE
#   peer (MariaDB)               mariadb-backup --backup --stream=xbstream --parallel=2 | mbstream -x,
#                                then mariadb-backup --prepare and sync (it syncs nothing itself)
#   peer (MySQL)                 CLONE LOCAL DATA DIRECTORY (the server copies and syncs)
#   remote, remote-stream (MySQL) remote --target-dir vs remote --stream | extract, over TLS
# Printed: each run's seconds, MiB/s of the datadir, peak RSS of each side (GNU time) and CPU
# seconds per GiB of both processes together; then per kind the median and spread (min-max) and
# the ratio peer time / ours; the stream sizes (extract's stream_bytes) against the data size.
# Environment: MYSQLCLONE_BIN (default build/cli/mysqlclone), BENCH_DIR (default
# /var/tmp/mysqlclone-bench: the loaded source is kept there for reruns). Needs root.
set -euo pipefail
cd "$(dirname "$0")/../.."
flavour=${1:?usage: stream_bench.sh mariadb-10.11|mysql-9.7 [ROUNDS] [TABLES] [ROWS]}
rounds=${2:-5}
tables=${3:-8}
rows=${4:-500000}
server=tools/servers/server.sh
bin=${MYSQLCLONE_BIN:-$PWD/build/cli/mysqlclone}
base=${BENCH_DIR:-/var/tmp/mysqlclone-bench}
src=$base/$flavour-stream-src
out=$base/stream-out
work=$base/stream-work
results=$base/stream-results.txt

die() { echo "stream_bench.sh: $*" >&2; exit 1; }
case "$flavour" in mariadb-10.11|mysql-9.7) ;; *) die "flavour: mariadb-10.11 or mysql-9.7, not '$flavour'" ;; esac
[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || die "ROUNDS must be a positive integer, not '$rounds'"
[ -x "$bin" ] || die "no mysqlclone binary at $bin (build it: tools/build.sh, or set MYSQLCLONE_BIN)"
[ -x /usr/bin/time ] || die "GNU time (/usr/bin/time) is needed for the peak RSS"
[ "$(id -u)" = 0 ] || die "needs root (it drops the page cache)"
for c in bc python3 openssl; do command -v "$c" >/dev/null || die "$c is needed"; done

mkdir -p "$base"
trap '"$server" stop "$src" >/dev/null 2>&1 || true; rm -rf "$out" "$work"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

start_source() {
  local extra=()
  [ "$flavour" = mysql-9.7 ] && extra=(--clone)
  "$server" start "$flavour" "$src" "${extra[@]}" >/dev/null || die "cannot start $flavour in $src"
}
"$server" stop "$src" >/dev/null 2>&1 || true
if [ ! -f "$src/.loaded-$tables-$rows" ]; then
  rm -rf "$src"
  start_source
  echo "loading sysbench $tables x $rows rows into $src ..." >&2
  "$server" sysbench "$src" oltp_read_write --tables="$tables" --table-size="$rows" --threads=2 prepare >/dev/null ||
    die "sysbench prepare failed"
  touch "$src/.loaded-$tables-$rows"
  "$server" stop "$src" >/dev/null
fi
start_source
env_get() { sed -n "s/^$1=//p" "$src/server.env"; }
data=$(env_get DATADIR)
socket=$(env_get SOCKET)
port=$(env_get PORT)
mib=$(du -sm --exclude='#innodb_redo' --exclude='ib_logfile*' --exclude='binlog.*' "$data" | cut -f1)
rm -rf "$work"
mkdir -p "$work"
key=$work/key
openssl rand -hex 32 > "$key"
conn=(-S "$socket" -u mysqlclone --password=mysqlclone)
echo "source: $flavour, $mib MiB datadir, $(nproc) CPUs; $rounds rounds"

fresh() {  # a restarted source, a cold cache, no output directory
  "$server" stop "$src" >/dev/null
  rm -rf "$out" "$work/stream.mcs"
  sync
  echo 3 > /proc/sys/vm/drop_caches
  start_source
}
now() { echo "$EPOCHREALTIME"; }
# timed NAME CMD...: runs CMD under GNU time into $work/NAME.time (elapsed, RSS KiB, user, sys).
timed() {
  local name=$1
  shift
  /usr/bin/time -f '%e %M %U %S' -o "$work/$name.time" "$@"
}
# cpu_rss FILE...: the summed CPU seconds and the largest RSS (MiB) of the timed processes.
cpu_rss() {
  awk '{ cpu += $3 + $4; if ($2 > rss) rss = $2 } END { printf "%.2f %.0f\n", cpu, rss / 1024 }' "$@"
}

run() {  # run KIND: one timed run; prints "KIND seconds cpu_s rss_MiB [stream_bytes]"
  local kind=$1 t0 t1 extra=() size="" rc=0
  fresh
  case "$kind" in plain) ;; zstd) extra=(--compress) ;; lz4) extra=(--compress=lz4) ;;
    zstd+aes) extra=(--compress --encrypt-key-file "$key") ;; esac
  t0=$(now)
  case "$kind" in
    plain|zstd|lz4|zstd+aes)
      local dec=()
      [ "$kind" = zstd+aes ] && dec=(--encrypt-key-file "$key")
      set +e
      timed local "$bin" -q local --stream "${extra[@]}" "${conn[@]}" 2>"$work/local.err" |
        timed extract "$bin" -q --json extract --target-dir "$out" "${dec[@]}" >"$work/extract.json" 2>"$work/extract.err"
      rc=$(( PIPESTATUS[0] | PIPESTATUS[1] ))
      set -e
      [ "$rc" = 0 ] || die "$kind failed: $(cat "$work/local.err" "$work/extract.err")"
      t1=$(now)
      size=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['stream_bytes'])" "$work/extract.json")
      read -r cpu rss < <(cpu_rss "$work/local.time" "$work/extract.time") ;;
    file)
      timed local "$bin" -q local --stream --compress "${conn[@]}" > "$work/stream.mcs" 2>"$work/local.err" ||
        die "local --stream into a file failed: $(cat "$work/local.err")"
      timed extract "$bin" -q extract --target-dir "$out" "$work/stream.mcs" >/dev/null 2>"$work/extract.err" ||
        die "extract of the file failed: $(cat "$work/extract.err")"
      t1=$(now)
      size=$(stat -c %s "$work/stream.mcs")
      read -r cpu rss < <(cpu_rss "$work/local.time" "$work/extract.time") ;;
    remote)
      timed local "$bin" -q remote --from "mysqlclone@127.0.0.1:$port" --password=mysqlclone --target-dir "$out" \
        >/dev/null 2>"$work/local.err" || die "remote failed: $(cat "$work/local.err")"
      t1=$(now)
      read -r cpu rss < <(cpu_rss "$work/local.time") ;;
    remote-stream)
      set +e
      timed local "$bin" -q remote --from "mysqlclone@127.0.0.1:$port" --password=mysqlclone --stream \
        2>"$work/local.err" | timed extract "$bin" -q extract --target-dir "$out" >/dev/null 2>"$work/extract.err"
      rc=$(( PIPESTATUS[0] | PIPESTATUS[1] ))
      set -e
      [ "$rc" = 0 ] || die "remote --stream failed: $(cat "$work/local.err" "$work/extract.err")"
      t1=$(now)
      read -r cpu rss < <(cpu_rss "$work/local.time" "$work/extract.time") ;;
    peer)
      if [ "$flavour" = mysql-9.7 ]; then
        "$server" sql "$src" -e "CLONE LOCAL DATA DIRECTORY = '$out'"
        cpu="-"; rss="-"
      else
        "$server" exec "$src" bash -c "mariadb-backup --defaults-file='$src/my.cnf' --backup --stream=xbstream \
          --parallel=2 --target-dir='$work' --user=mysqlclone --password=mysqlclone 2>'$work/peer.err' |
          (mkdir -p '$out' && mbstream -x -C '$out')" || die "mariadb-backup | mbstream failed: $(tail -3 "$work/peer.err")"
        "$server" exec "$src" mariadb-backup --prepare --target-dir="$out" >/dev/null 2>&1 || die "mariadb-backup --prepare failed"
        sync
        cpu="-"; rss="-"
      fi
      t1=$(now) ;;
  esac
  echo "$kind $(calc "$t1 - $t0") $cpu $rss $size"
}
calc() { echo "$1" | bc -l; }

if [ "$flavour" = mysql-9.7 ]; then kinds=(plain zstd lz4 zstd+aes file remote remote-stream peer)
else kinds=(plain zstd lz4 zstd+aes file peer); fi
: > "$results"
printf '%-6s %-14s %8s %8s %10s %8s %12s\n' round kind seconds MiB/s cpu_s/GiB rss_MiB stream_MiB
for r in $(seq 1 "$rounds"); do
  order=("${kinds[@]}")
  if [ $((r % 2)) = 0 ]; then  # every other round backwards: a drift of the machine favours no one
    order=()
    for ((i = ${#kinds[@]} - 1; i >= 0; i--)); do order+=("${kinds[$i]}"); done
  fi
  for kind in "${order[@]}"; do
    read -r k secs cpu rss size < <(run "$kind")
    echo "$k $secs $cpu $rss ${size:--}" >> "$results"
    cpu_gib=$( [ "$cpu" = - ] && echo - || printf '%.2f' "$(calc "$cpu * 1024 / $mib")")
    printf '%-6s %-14s %8.2f %8.0f %10s %8s %12s\n' "$r" "$k" "$secs" "$(calc "$mib / $secs")" "$cpu_gib" "$rss" \
      "$( [ "${size:--}" != - ] && echo $((size >> 20)) || echo -)"
  done
done

python3 - "$results" "$mib" <<'EOF'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
mib = float(sys.argv[2])
kinds = {}
for r in rows:
    kinds.setdefault(r[0], []).append(r)
med = {k: statistics.median(float(r[1]) for r in v) for k, v in kinds.items()}
print(f"\nmedians over {len(kinds['peer'])} rounds ({mib:.0f} MiB of data):")
for k, v in kinds.items():
    t = [float(r[1]) for r in v]
    line = f"  {k:<14} {med[k]:6.2f} s (spread {min(t):.2f}-{max(t):.2f})  {mib / med[k]:5.0f} MiB/s"
    if k != "peer":
        line += f"  peer time / ours {med['peer'] / med[k]:.2f}"
    rss = [r[3] for r in v if r[3] != "-"]
    if rss:
        line += f"  peak RSS {max(int(x) for x in rss)} MiB"
    if len(v[0]) > 4 and v[0][4] != "-":
        line += f"  stream {statistics.median(int(r[4]) for r in v) / 2**20 / mib:.2f} x data"
    print(line)
if "remote" in med:
    print(f"  remote --stream | extract vs remote --target-dir: {med['remote'] / med['remote-stream']:.2f}")
EOF
