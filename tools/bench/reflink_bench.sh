#!/usr/bin/env bash
# Benchmark (not a test): zero copy. The ~1 GiB sysbench source of local_bench.sh is put on a
# fresh XFS with reflinks (tools/xfs_scratch.sh, a loop file in a private mount namespace), and
# local_bench.sh runs there twice: `local --reflink=never` (bytes copied) and `local
# --reflink=always` (blocks shared, every page read back and checked), each against the same
# peer (CLONE LOCAL / mariadb-backup), on the same file system.
#
#   tools/bench/reflink_bench.sh mysql-9.7|mariadb-10.11 [ROUNDS=5]
#
# The speed-up of reflinks is the ratio of the two runs' medians, printed last. Both sides run
# on the loop device, so the absolute figures are below those of local_bench.sh on the host's
# file system; the ratios are what this measures.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ -z "${MYSQLCLONE_XFS_DIR:-}" ]; then exec tools/xfs_scratch.sh --size 24G "$0" "$@"; fi
flavour=${1:?usage: reflink_bench.sh mysql-9.7|mariadb-10.11 [ROUNDS]}
rounds=${2:-5}
host_base=${BENCH_DIR:-/var/tmp/mysqlclone-bench}
base=$MYSQLCLONE_XFS_DIR/bench

# The loaded source (made by local_bench.sh on the host's file system the first time), copied.
if ! ls "$host_base/$flavour-src"/.loaded-* >/dev/null 2>&1; then
  tools/bench/local_bench.sh "$flavour" 0
fi
tools/servers/server.sh stop "$host_base/$flavour-src" >/dev/null 2>&1 || true
mkdir -p "$base"
cp -a "$host_base/$flavour-src" "$base/"
# One start there, so that its server.env names the new socket and datadir.
tools/servers/server.sh start "$flavour" "$base/$flavour-src" >/dev/null
tools/servers/server.sh stop "$base/$flavour-src" >/dev/null
loaded=$(basename "$(ls -d "$base/$flavour-src"/.loaded-*)")
tables=$(echo "$loaded" | cut -d- -f2)
rows=$(echo "$loaded" | cut -d- -f3)

run() {
  BENCH_DIR=$base OURS_ARGS="$1" tools/bench/local_bench.sh "$flavour" "$rounds" "$tables" "$rows" | tee "$base/$2.log"
}
run --reflink=never bytes
run --reflink=always shared
bytes=$(grep -o 'ours [0-9.]* s' "$base/bytes.log" | awk '{print $2}')
shared=$(grep -o 'ours [0-9.]* s' "$base/shared.log" | awk '{print $2}')
printf 'reflink speed-up on this XFS: bytes copied %.2f s, blocks shared %.2f s (median each): %.2fx\n' \
  "$bytes" "$shared" "$(echo "$bytes / $shared" | bc -l)"
