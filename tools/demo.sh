#!/usr/bin/env bash
# README command (1): install, build, and run mysqlclone's main job on a throwaway demo server:
# a demo MariaDB 10.11 with sample data serves a write load (sysbench) while `mysqlclone local`
# copies it; the copy is verified, a stock server starts on it (crash recovery), and row counts
# and positions are shown side by side. Everything lives in a temporary directory, removed at
# the end (keep it with KEEP=1).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
tools/build.sh
server=tools/servers/server.sh
demo=$(mktemp -d /tmp/mysqlclone-demo.XXXXXX)
cleanup() {
  "$server" stop "$demo/copy-server" >/dev/null 2>&1 || true
  "$server" stop "$demo/source" >/dev/null 2>&1 || true
  [ "${KEEP:-0}" = 1 ] && echo "demo kept in $demo" || rm -rf "$demo"
}
trap cleanup EXIT

echo "== a demo MariaDB 10.11 with sample data (sysbench, 4 tables x 20000 rows)"
"$server" start mariadb-10.11 "$demo/source"
"$server" sysbench "$demo/source" oltp_read_write --tables=4 --table-size=20000 prepare >/dev/null
# shellcheck source=/dev/null
. "$demo/source/server.env"

echo "== a write load runs during the copy (sysbench oltp_read_write, 2 threads, 15 s)"
"$server" sysbench "$demo/source" oltp_read_write --tables=4 --table-size=20000 --threads=2 --time=15 run \
  >/dev/null 2>&1 &
load=$!
sleep 2

echo "== mysqlclone local --target-dir $demo/copy"
build/cli/mysqlclone local --target-dir "$demo/copy" -S "$SOCKET" -u mysqlclone --password=mysqlclone
wait "$load"

echo "== mysqlclone verify $demo/copy"
build/cli/mysqlclone verify "$demo/copy"

echo "== a stock mariadbd starts on the copy (crash recovery applies the copied redo)"
"$server" start mariadb-10.11 "$demo/copy-server" --datadir "$demo/copy"
grep -E "crash recovery|End of log|Last binlog" "$demo/copy-server/error.log" | sed 's/^/   /'

count() {
  "$server" sql "$1" -N -B -e "SELECT CONCAT_WS(' ', (SELECT COUNT(*) FROM sbtest.sbtest1), (SELECT COUNT(*) FROM sbtest.sbtest2),
    (SELECT COUNT(*) FROM sbtest.sbtest3), (SELECT COUNT(*) FROM sbtest.sbtest4))"
}
echo "== row counts (sbtest1..4)"
echo "   source: $(count "$demo/source")"
echo "   copy:   $(count "$demo/copy-server")"
echo "   copy consistent at: $(cut -f1-3 "$demo/copy/xtrabackup_binlog_info")"
