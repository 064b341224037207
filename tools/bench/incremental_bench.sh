#!/usr/bin/env bash
# Benchmark (not a test): incremental backups on the ~1 GiB sysbench data of local_bench.sh with
# about 1 % of the pages changed since the full backup (random single-row updates, one per page
# on average, then the checkpoint let past them).
#
#   tools/bench/incremental_bench.sh mysql-9.7|mariadb-10.11 [ROUNDS=3]
#
# MySQL: a full backup with --page-tracking, then per round (server restarted, page cache
# dropped before each run) an incremental by scan (component_mysqlbackup uninstalled for that run:
# the incremental then reads every page) and one by page tracking, both on the same full backup.
# MariaDB: per round, ours (full, then two incrementals, 1 % changed before each) against
# mariadb-backup (--backup, then --incremental-basedir), and the time until a startable datadir:
# our `restore` of the chain against mariadb-backup's --prepare of the base, --prepare
# --incremental-dir twice, then a copy and sync.
# Both: `restore --delta` onto a datadir one backup behind (1 % of the pages differ) against the
# full restore above; its bytes written are written_bytes.
# Printed per run: seconds, bytes read from the tablespaces (ours: incremental.scanned_bytes),
# bytes written (du of the target); then medians.
# BENCH_DIR (default /var/tmp/mysqlclone-bench), MYSQLCLONE_BIN. Needs root.
set -euo pipefail
cd "$(dirname "$0")/../.."
flavour=${1:?usage: incremental_bench.sh mysql-9.7|mariadb-10.11 [ROUNDS]}
rounds=${2:-3}
server=tools/servers/server.sh
bin=${MYSQLCLONE_BIN:-$PWD/build/cli/mysqlclone}
base=${BENCH_DIR:-/var/tmp/mysqlclone-bench}
src=$base/$flavour-src
work=$base/incremental-work
case "$flavour" in mariadb-10.11|mysql-9.7) ;; *) echo "flavour: mariadb-10.11 or mysql-9.7" >&2; exit 2 ;; esac

# The loaded source of local_bench.sh (8 x 500k rows), made the first time.
ls "$src"/.loaded-* >/dev/null 2>&1 || tools/bench/local_bench.sh "$flavour" 0
trap '"$server" stop "$src" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
rm -rf "$work"; mkdir -p "$work"
"$server" stop "$src" >/dev/null 2>&1 || true  # a server left running by an earlier run
"$server" start "$flavour" "$src" >/dev/null 2>&1
. "$src/server.env"
sql() { "$server" sql "$src" -N -B -e "$1"; }
mysql=false; [ "$flavour" = mysql-9.7 ] && mysql=true
status_var() {
  if $mysql; then sql "SELECT VARIABLE_VALUE FROM performance_schema.global_status WHERE VARIABLE_NAME = '$1'"
  else sql "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = '$2'"; fi
}
# Page tracking needs these of the backup account (tools/servers/server.sh grants them to new servers).
$mysql && sql "GRANT SYSTEM_VARIABLES_ADMIN ON *.* TO 'mysqlclone'@'localhost'; GRANT INSERT ON mysql.component TO 'mysqlclone'@'localhost';"
ours() { "$bin" --quiet --json "$@" -S "$SOCKET" -u mysqlclone --password=mysqlclone; }
now() { date +%s.%N; }
fresh() { "$server" stop "$src" >/dev/null; sync; echo 3 > /proc/sys/vm/drop_caches; "$server" start "$flavour" "$src" >/dev/null 2>&1; }
field() { python3 -c "import json,sys; d=json.load(open('$1')); print(eval('d' + sys.argv[1]))" "$2"; }
written() { du -sb "$1" | cut -f1; }

# About 1 % of the leaf pages: a random row of every hundredth page's worth of rows in each table.
tables=$(sql "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'sbtest'")
rows=$(sql "SELECT MAX(id) FROM sbtest.sbtest1")
change_one_percent() {
  local per_table=$(( rows / 60 / 100 )) t stmts=""
  for t in $(seq 1 "$tables"); do
    stmts+="UPDATE sbtest.sbtest$t SET k = k + 1 WHERE id IN ($(shuf -i 1-"$rows" -n "$per_table" | paste -sd,));"
  done
  sql "$stmts"
  # Let the checkpoint pass the changes (the throwaway server is made to flush every dirty page;
  # an idle MariaDB does not by itself): they are then pages to copy, not redo.
  local target pct; target=$(status_var Innodb_redo_log_current_lsn INNODB_LSN_CURRENT)
  pct=$(sql "SELECT @@GLOBAL.innodb_max_dirty_pages_pct")
  sql "SET GLOBAL innodb_max_dirty_pages_pct = 0"
  for _ in $(seq 1 300); do
    [ "$(status_var Innodb_redo_log_checkpoint_lsn INNODB_LSN_LAST_CHECKPOINT)" -ge "$target" ] && break
    sleep 0.2
  done
  sql "SET GLOBAL innodb_max_dirty_pages_pct = $pct"
  [ "$(status_var Innodb_redo_log_checkpoint_lsn INNODB_LSN_LAST_CHECKPOINT)" -ge "$target" ] ||
    echo "the checkpoint did not pass the changes within 60 s" >&2
}
median() { sort -g | awk '{v[NR]=$1} END {print (NR % 2 ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2)}'; }
declare -A times read_bytes wrote
record() { times[$1]+="$2 "; read_bytes[$1]+="$3 "; wrote[$1]+="$4 "; printf '%-28s %8.2f s %12s read %12s written\n' "$1" "$2" "$3" "$4"; }
summary() {
  local k
  for k in "$@"; do
    printf '%-28s median %8.2f s, %12.0f bytes read, %12.0f bytes written\n' "$k" \
      "$(echo "${times[$k]}" | tr ' ' '\n' | grep . | median)" "$(echo "${read_bytes[$k]}" | tr ' ' '\n' | grep . | median)" \
      "$(echo "${wrote[$k]}" | tr ' ' '\n' | grep . | median)"
  done
}

data_bytes=$(du -sb --exclude='#innodb_redo' --exclude='ib_logfile*' --exclude='binlog.*' --exclude='*-bin.*' "$DATADIR" | cut -f1)
echo "source: $flavour, $data_bytes bytes of data, $tables tables x $rows rows; about 1 % of the pages changed per round"
if $mysql; then
  t0=$(now); ours local --target-dir "$work/full" --page-tracking > "$work/full.json"; t1=$(now)
  record "full (--page-tracking)" "$(echo "$t1 - $t0" | bc -l)" "$data_bytes" "$(written "$work/full")"
  for r in $(seq 1 "$rounds"); do
    change_one_percent
    sql "UNINSTALL COMPONENT 'file://component_mysqlbackup'"
    fresh; rm -rf "$work/scan"
    t0=$(now); ours local --target-dir "$work/scan" --incremental-from "$work/full" > "$work/scan.json"; t1=$(now)
    [ "$(field "$work/scan.json" "['incremental']['pages_found_by']")" = scan ] || { echo "the scan run did not scan" >&2; exit 1; }
    record "incremental, scan" "$(echo "$t1 - $t0" | bc -l)" "$(field "$work/scan.json" "['incremental']['scanned_bytes']")" "$(written "$work/scan")"
    sql "INSTALL COMPONENT 'file://component_mysqlbackup'"
    fresh; rm -rf "$work/tracked"
    t0=$(now); ours local --target-dir "$work/tracked" --incremental-from "$work/full" > "$work/tracked.json"; t1=$(now)
    [ "$(field "$work/tracked.json" "['incremental']['pages_found_by']")" = page-tracking ] ||
      { echo "page tracking was not used: $(field "$work/tracked.json" "['incremental']['page_tracking']")" >&2; exit 1; }
    record "incremental, page tracking" "$(echo "$t1 - $t0" | bc -l)" "$(field "$work/tracked.json" "['incremental']['scanned_bytes']")" "$(written "$work/tracked")"
    fresh; rm -rf "$work/restored" "$work/delta"
    t0=$(now); "$bin" --quiet restore --backup "$work/tracked" --target-dir "$work/restored" >/dev/null; t1=$(now)
    record "restore full + incremental" "$(echo "$t1 - $t0" | bc -l)" 0 "$(written "$work/restored")"
    # --delta onto a datadir at the full backup: 1 % of its pages differ from the incremental's.
    "$bin" --quiet restore --backup "$work/full" --target-dir "$work/delta" >/dev/null
    sync; echo 3 > /proc/sys/vm/drop_caches
    t0=$(now); "$bin" --quiet --json restore --backup "$work/tracked" --datadir "$work/delta" --delta > "$work/delta.json"; t1=$(now)
    record "restore --delta (1 % differs)" "$(echo "$t1 - $t0" | bc -l)" "$data_bytes" "$(field "$work/delta.json" "['written_bytes']")"
  done
  summary "full (--page-tracking)" "incremental, scan" "incremental, page tracking" "restore full + incremental" \
    "restore --delta (1 % differs)"
else
  mb() { "$server" exec "$src" mariadb-backup --defaults-file="$src/my.cnf" --user=mysqlclone --password=mysqlclone "$@" >/dev/null 2>&1; }
  # ours_backup NAME [BASE], mb_backup NAME [BASE]: a full backup, or an incremental on BASE.
  ours_backup() {
    fresh
    local t0 t1; t0=$(now); ours local --target-dir "$work/$1" ${2:+--incremental-from "$work/$2"} > "$work/$1.json"; t1=$(now)
    local read=$data_bytes; [ -z "${2:-}" ] || read=$(field "$work/$1.json" "['incremental']['scanned_bytes']")
    record "ours ${2:+incremental }$1" "$(echo "$t1 - $t0" | bc -l)" "$read" "$(written "$work/$1")"
  }
  mb_backup() {
    fresh
    local t0 t1; t0=$(now); mb --backup --parallel=2 --target-dir="$work/mb-$1" ${2:+--incremental-basedir="$work/mb-$2"}; sync; t1=$(now)
    record "mariadb-backup ${2:+incremental }$1" "$(echo "$t1 - $t0" | bc -l)" "$data_bytes" "$(written "$work/mb-$1")"
  }
  for r in $(seq 1 "$rounds"); do
    rm -rf "$work"/{full,inc1,inc2,restored,delta,mb-full,mb-inc1,mb-inc2,mb-restored}
    ours_backup full; mb_backup full
    change_one_percent
    ours_backup inc1 full; mb_backup inc1 full
    change_one_percent
    ours_backup inc2 inc1; mb_backup inc2 inc1
    sync; echo 3 > /proc/sys/vm/drop_caches
    t0=$(now); "$bin" --quiet restore --backup "$work/inc2" --target-dir "$work/restored" >/dev/null; t1=$(now)
    record "ours restore (full + 2 inc)" "$(echo "$t1 - $t0" | bc -l)" 0 "$(written "$work/restored")"
    sync; echo 3 > /proc/sys/vm/drop_caches
    t0=$(now)
    mb --prepare --target-dir="$work/mb-full"
    mb --prepare --target-dir="$work/mb-full" --incremental-dir="$work/mb-inc1"
    mb --prepare --target-dir="$work/mb-full" --incremental-dir="$work/mb-inc2"
    cp -a "$work/mb-full" "$work/mb-restored"; sync; t1=$(now)
    record "mariadb-backup prepare+copy" "$(echo "$t1 - $t0" | bc -l)" 0 "$(written "$work/mb-restored")"
    # --delta onto a datadir at incremental 1: 1 % of its pages differ from incremental 2's.
    "$bin" --quiet restore --backup "$work/inc1" --target-dir "$work/delta" >/dev/null
    sync; echo 3 > /proc/sys/vm/drop_caches
    t0=$(now); "$bin" --quiet --json restore --backup "$work/inc2" --datadir "$work/delta" --delta > "$work/delta.json"; t1=$(now)
    record "ours restore --delta" "$(echo "$t1 - $t0" | bc -l)" "$data_bytes" "$(field "$work/delta.json" "['written_bytes']")"
  done
  summary "ours full" "mariadb-backup full" "ours incremental inc1" "mariadb-backup incremental inc1" \
    "ours incremental inc2" "mariadb-backup incremental inc2" "ours restore (full + 2 inc)" \
    "mariadb-backup prepare+copy" "ours restore --delta"
fi
