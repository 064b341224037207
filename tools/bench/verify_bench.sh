#!/usr/bin/env bash
# Benchmark: `mysqlclone verify` against a plain `cat` of the same files, page cache dropped
# before every run, alternating, on a ~1 GiB sysbench datadir (not a test: it prints figures).
#
#   tools/bench/verify_bench.sh [FLAVOUR] [ROUNDS]      default mariadb-10.11, 3 rounds
#
# Needs root (drop_caches) and a build (tools/build.sh). The datadir is cached in
# $BENCH_DIR (default /var/tmp/mysqlclone-bench/<flavour>) so reruns skip the 35 s load.
set -euo pipefail
cd "$(dirname "$0")/../.."
flavour=${1:-mariadb-10.11}
rounds=${2:-3}
server=tools/servers/server.sh
dir=${BENCH_DIR:-/var/tmp/mysqlclone-bench}/$flavour
bin=build/cli/mysqlclone

if [ ! -f "$dir/.loaded" ]; then
  rm -rf "$dir"
  mkdir -p "$dir"
  "$server" start "$flavour" "$dir"
  echo "loading sysbench 8 x 500000 rows into $dir ..." >&2
  "$server" sysbench "$dir" oltp_read_write --tables=8 --table-size=500000 --threads=2 prepare >/dev/null
  "$server" stop "$dir"
  touch "$dir/.loaded"
fi
"$server" stop "$dir" >/dev/null 2>&1 || true

data=$dir/data
mapfile -t files < <(cd "$data" && find . -name '*.ibd' -o -name 'ibdata*' -o -name 'undo*' | sort)
bytes=$(cd "$data" && du -cb "${files[@]}" | tail -1 | cut -f1)
mib=$(( bytes / 1048576 ))
echo "data: $mib MiB in ${#files[@]} tablespace files ($flavour)"

drop() { sync; echo 3 > /proc/sys/vm/drop_caches; }
seconds() { local s=$EPOCHREALTIME; "$@" >/dev/null; echo "$EPOCHREALTIME - $s" | bc -l; }

printf '%-6s %12s %12s %12s %12s %8s\n' round cat_s cat_MiB/s verify_s verify_MiB/s ratio
for r in $(seq 1 "$rounds"); do
  drop
  t_cat=$(cd "$data" && seconds cat "${files[@]}")
  drop
  t_ver=$(seconds "$bin" --quiet verify "$data")
  printf '%-6s %12.2f %12.0f %12.2f %12.0f %8.2f\n' "$r" "$t_cat" "$(echo "$mib / $t_cat" | bc -l)" \
    "$t_ver" "$(echo "$mib / $t_ver" | bc -l)" "$(echo "$t_cat / $t_ver" | bc -l)"
done
echo "(ratio = cat time / verify time: above 1 means verify reads faster than cat)"
