#!/usr/bin/env bash
# README command (1): install, build, and run mysqlclone's main job on a throwaway demo server.
# Today that job is `mysqlclone verify`: a demo MariaDB 10.11 gets sample data (sysbench), is
# shut down cleanly, and every page of its datadir is checked; then one byte is damaged to show
# what a corrupt page looks like. Everything lives in a temporary directory, removed at the end
# (keep it with KEEP=1).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
tools/build.sh
server=tools/servers/server.sh
demo=$(mktemp -d /tmp/mysqlclone-demo.XXXXXX)
cleanup() {
  "$server" stop "$demo" >/dev/null 2>&1 || true
  [ "${KEEP:-0}" = 1 ] && echo "demo kept in $demo" || rm -rf "$demo"
}
trap cleanup EXIT

echo "== starting a demo MariaDB 10.11 in $demo"
"$server" start mariadb-10.11 "$demo"
echo "== loading sample data (sysbench, 4 tables x 20000 rows)"
"$server" sysbench "$demo" oltp_read_write --tables=4 --table-size=20000 prepare >/dev/null
"$server" sql "$demo" -e "SELECT table_name, table_rows FROM information_schema.tables WHERE table_schema='sbtest'"
echo "== stopping it cleanly"
"$server" stop "$demo"

echo "== mysqlclone verify $demo/data"
build/cli/mysqlclone verify "$demo/data"

echo "== damaging one byte of page 5 of sbtest/sbtest2.ibd, and verifying again"
printf '\xff' | dd of="$demo/data/sbtest/sbtest2.ibd" bs=1 seek=$((5 * 16384 + 4000)) conv=notrunc status=none
set +e
build/cli/mysqlclone verify "$demo/data"
rc=$?
set -e
echo "== exit code $rc (11 = verification failed)"
[ "$rc" -eq 11 ]
