#!/usr/bin/env bash
# Benchmark (not CI), issue 16's scale test: `mysqlclone local` of a ~10 GiB sysbench data set on
# MySQL 9.7 while sysbench writes, throttled with --max-rate so that the copy lasts >= MINUTES and
# its redo span [C, E] reaches >= SPAN_GIB; then the stock server starts on the copy (crash
# recovery over the whole span) and CHECK TABLE runs on every sbtest table.
#
#   tools/bench/big_busy.sh [--small] [--load-only] [NAME=VALUE]...
#
# NAME=VALUE, or the same NAME in the environment (an argument wins):
#   TABLES=16 ROWS=2600000  the data set (~10 GiB), loaded once and kept for reruns in
#                           $BENCH_DIR/mysql-9.7-big-src (stamp .loaded-TABLES-ROWS)
#   MINUTES=12              the least time the copy takes
#   SPAN_GIB=20             the redo span aimed at (+20%): the copy is made longer than MINUTES (at
#                           most MAX_MINUTES=60) when the redo rate measured over WARMUP=90 s of
#                           load needs it; --max-rate = data / that time
#   MAX_RATE=               --max-rate in MiB/s, overriding MINUTES and SPAN_GIB
#   WORKLOAD=oltp_write_only THREADS=4   the sysbench OLTP load, from WARMUP before the copy to its end
#   BULK_THREADS=2 BULK_ROWS=500         and beside it sysbench big_busy_bulk.lua: UPDATEs of BULK_ROWS
#                           rows each, for the redo volume (OLTP alone writes ~5 MiB of redo per
#                           CPU-second: 2-4 MiB/s on 2 shared cores, hours for 20 GiB); 0: none
#   REDO_CAPACITY=8G BUFFER_POOL=2G      the source's (and the copy's) server options
#   BINLOG=off              off: the source runs without a binlog (the copy records no binlog
#                           position; its GTID set still). on: max_binlog_size 256M, the binlogs
#                           purged just before the copy; they cannot be during it (LOCK INSTANCE
#                           FOR BACKUP blocks PURGE BINARY LOGS, error 4085), and the bulk writer's
#                           row images make about as much binlog as redo: the source needs room
#                           for the binlog rate measured in the warm-up times the copy's length
#   REDO_CONSUMER=0         1: the copy runs with --redo-consumer
#   NICE=15                 the niceness of everything (servers, sysbench, mysqlclone, this script)
#   KEEP_COPY=0             1: keep the copy and its server directory (else removed at the end)
#   MIN_FREE_GIB=2          free space (GiB) under which the copy is interrupted
# --small: TABLES=8 ROWS=500000 MINUTES=2 SPAN_GIB=0 WARMUP=30 REDO_CAPACITY=2G BUFFER_POOL=512M
# BULK_THREADS=1, the source in $BENCH_DIR/mysql-9.7-big-small-src: a smoke test of this script
# (~7 minutes, 2 of them loading it the first time).
# --load-only: load the data set if it is not there yet, and stop.
#
# Free space on BENCH_DIR's filesystem is checked before anything starts (the data set, unless
# loaded, + its redo + data + the aimed span + binlogs + 3 GiB) and again once the redo rate is
# known; the script refuses to start, saying how much it needs, rather than fill the disk, and
# interrupts the copy if the free space still falls under MIN_FREE_GIB.
# Prints, and appends to $BENCH_DIR/big_busy-results.txt: data size, copy time, redo span
# (redo_bytes), the target's disk use (du; also its peak while copying), peak RSS of mysqlclone
# (GNU time), the tailer's peak lag (redo_peak_lag_bytes), how long DDL and commits were blocked
# (ddl_blocked_ms, commits_blocked_ms: issue 14 asks for DDL <= 1 s at this size), recovery time, CHECK TABLE, and whether
# the copy's gtid_executed is the one recorded at E. Logs stay in $BENCH_DIR/big-work (big-small-
# work). Exit 1 if the copy or a check failed. Needs root, sysbench, GNU time, python3, bc and a
# build (tools/build.sh; MYSQLCLONE_BIN overrides the binary).
set -euo pipefail
NICE=${NICE:-15}
# Everything this script starts inherits its niceness: the machine is shared.
if [ "${BIG_BUSY_NICED:-}" != "$NICE" ]; then
  BIG_BUSY_NICED=$NICE exec nice -n "$NICE" "$0" "$@"
fi
cd "$(dirname "$0")/../.."

die() { echo "big_busy.sh: $*" >&2; exit 1; }
say() { echo "[$(date +%T)] $*" >&2; }
calc() { echo "$1" | bc -l; }
knobs=(TABLES ROWS MINUTES SPAN_GIB MAX_MINUTES WARMUP MAX_RATE WORKLOAD THREADS BULK_THREADS BULK_ROWS
       REDO_CAPACITY BUFFER_POOL BINLOG REDO_CONSUMER KEEP_COPY MIN_FREE_GIB)
small=0 load_only=0
for a in "$@"; do
  case "$a" in
    --small) small=1 ;;
    --load-only) load_only=1 ;;
    -h|--help) sed -n '2,/^set /{/^#/s/^# \{0,1\}//p}' "$0"; exit 0 ;;
    *=*)
      name=${a%%=*}
      [[ " ${knobs[*]} " == *" $name "* ]] || die "unknown setting '$name' (one of: ${knobs[*]})"
      printf -v "$name" '%s' "${a#*=}" ;;
    *) die "unknown argument '$a' (see --help)" ;;
  esac
done
if [ "$small" = 1 ]; then
  TABLES=${TABLES:-8} ROWS=${ROWS:-500000} MINUTES=${MINUTES:-2} SPAN_GIB=${SPAN_GIB:-0}
  WARMUP=${WARMUP:-30} REDO_CAPACITY=${REDO_CAPACITY:-2G} BUFFER_POOL=${BUFFER_POOL:-512M}
  BULK_THREADS=${BULK_THREADS:-1}
fi
TABLES=${TABLES:-16} ROWS=${ROWS:-2600000} MINUTES=${MINUTES:-12} SPAN_GIB=${SPAN_GIB:-20}
MAX_MINUTES=${MAX_MINUTES:-60} WARMUP=${WARMUP:-90} MAX_RATE=${MAX_RATE:-} WORKLOAD=${WORKLOAD:-oltp_write_only}
THREADS=${THREADS:-4} BULK_THREADS=${BULK_THREADS:-2} BULK_ROWS=${BULK_ROWS:-500} REDO_CAPACITY=${REDO_CAPACITY:-8G} BUFFER_POOL=${BUFFER_POOL:-2G} BINLOG=${BINLOG:-off}
REDO_CONSUMER=${REDO_CONSUMER:-0} KEEP_COPY=${KEEP_COPY:-0} MIN_FREE_GIB=${MIN_FREE_GIB:-2}
for v in TABLES ROWS THREADS WARMUP MAX_MINUTES BULK_ROWS MIN_FREE_GIB; do
  [[ "${!v}" =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer, not '${!v}'"
done
[[ "$BULK_THREADS" =~ ^[0-9]+$ ]] || die "BULK_THREADS must be a number of threads (0: none)"
if ! [[ "$MINUTES" =~ ^[0-9]+(\.[0-9]+)?$ ]] || [ "$(calc "$MINUTES > 0")" != 1 ]; then die "MINUTES must be a number > 0"; fi
[[ "$SPAN_GIB" =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "SPAN_GIB must be a number >= 0"
[ -z "$MAX_RATE" ] || { [[ "$MAX_RATE" =~ ^[0-9]+(\.[0-9]+)?$ ]] && [ "$(calc "$MAX_RATE > 0")" = 1 ]; } ||
  die "MAX_RATE must be a number of MiB/s > 0"
case "$BINLOG" in on|off) ;; *) die "BINLOG must be on or off" ;; esac
case "$WORKLOAD" in oltp_write_only|oltp_read_write|oltp_update_index|oltp_update_non_index|oltp_insert) ;;
  *) die "WORKLOAD: a sysbench OLTP script that writes, not '$WORKLOAD'" ;; esac
to_bytes() {  # 8G, 512M, 1024K or bytes
  case "$1" in
    *[Gg]) echo $(( ${1%?} << 30 )) ;; *[Mm]) echo $(( ${1%?} << 20 )) ;; *[Kk]) echo $(( ${1%?} << 10 )) ;;
    *) echo $(( $1 )) ;;
  esac
}
redo_cap_bytes=$(to_bytes "$REDO_CAPACITY") || die "REDO_CAPACITY: 8G, 512M, ..."
to_bytes "$BUFFER_POOL" >/dev/null || die "BUFFER_POOL: 2G, 512M, ..."

server=tools/servers/server.sh
bin=${MYSQLCLONE_BIN:-$PWD/build/cli/mysqlclone}
base=${BENCH_DIR:-/var/tmp/mysqlclone-bench}
name=big; [ "$small" = 1 ] && name=big-small
src=$base/mysql-9.7-$name-src
out=$base/$name-copy        # the copy (the target directory)
copysrv=$base/$name-copysrv # the server directory of the stock server started on the copy
work=$base/$name-work       # logs and results of the last run
results=$base/big_busy-results.txt
gib=$((1 << 30))

[ -x "$bin" ] || die "no mysqlclone binary at $bin (build it: tools/build.sh release, or set MYSQLCLONE_BIN)"
[ -x /usr/bin/time ] || die "GNU time (/usr/bin/time) is needed for the peak RSS"
[ "$(id -u)" = 0 ] || die "needs root (as the test servers do)"
for c in bc python3 sysbench du df; do command -v "$c" >/dev/null || die "$c is needed"; done

# The source's server options (the copy's server gets the same, but for the binlog at load).
server_opts=(--set "innodb-redo-log-capacity=$REDO_CAPACITY" --set "innodb-buffer-pool-size=$BUFFER_POOL")
if [ "$BINLOG" = on ]; then server_opts+=(--set max-binlog-size=256M)
else server_opts+=(--set disable-log-bin); fi
# A stop flushes up to BUFFER_POOL of dirty pages; the copy's first start recovers the whole span.
export SERVER_STOP_TIMEOUT=${SERVER_STOP_TIMEOUT:-1800}

mkdir -p "$base"
avail() { df -B1 --output=avail "$base" | tail -1 | tr -d ' '; }
human() { numfmt --to=iec-i --suffix=B --format='%.1f' "$1"; }
# need_space BYTES WHAT: refuse, before anything is written, when the filesystem has less.
need_space() {
  local have
  have=$(avail)
  if (( have < $1 )); then
    die "not enough free space on $(df --output=target "$base" | tail -1) for $2: needs $(human "$1"), has $(human "$have") (lower ROWS/TABLES, SPAN_GIB or MINUTES, or set BENCH_DIR elsewhere)"
  fi
  say "free space: $(human "$have"), this run needs about $(human "$1") ($2)"
}
est_data=$(( TABLES * ROWS * 270 ))   # sysbench's rows take ~260 bytes each in InnoDB
span_goal=$(calc "$SPAN_GIB * $gib / 1")
span_goal=${span_goal%.*}
binlog_room=0; [ "$BINLOG" = on ] && binlog_room=$(( span_goal * 12 / 10 ))  # ~ as much as redo
margin=$(( 3 * gib ))

loaded=0; [ -f "$src/.loaded-$TABLES-$ROWS" ] && loaded=1
load_need=0; [ "$loaded" = 0 ] && load_need=$(( est_data + redo_cap_bytes ))
copy_need=0; [ "$load_only" = 0 ] && copy_need=$(( est_data + span_goal * 12 / 10 + binlog_room + margin ))
what=""
[ "$loaded" = 0 ] && what="the data set ~$(human "$est_data") + its redo $REDO_CAPACITY"
binlog_what=""; [ "$BINLOG" = off ] || binlog_what=" + as much binlog on the source"
[ "$load_only" = 1 ] || what+="${what:+, }the copy ~$(human "$est_data") + a span of ${SPAN_GIB} GiB + 20%$binlog_what + 3 GiB"
[ -z "$what" ] || need_space $(( load_need + copy_need )) "$what"

bg_pids=()
cleanup() {
  local p
  for p in "${bg_pids[@]}"; do kill "$p" 2>/dev/null || true; kill -CONT "$p" 2>/dev/null || true; done
  for p in "${bg_pids[@]}"; do wait "$p" 2>/dev/null || true; done
  "$server" stop "$copysrv" >/dev/null 2>&1 || true
  "$server" stop "$src" >/dev/null 2>&1 || true
  if [ "$KEEP_COPY" != 1 ]; then rm -rf "$out" "$copysrv"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

"$server" stop "$src" >/dev/null 2>&1 || true
"$server" stop "$copysrv" >/dev/null 2>&1 || true
rm -rf "$out" "$copysrv" "$work"
mkdir -p "$work"

if [ "$loaded" = 0 ]; then
  rm -rf "$src"
  # Loaded without a binlog: it would hold the whole data set once more, for nothing.
  "$server" start mysql-9.7 "$src" "${server_opts[@]}" --set disable-log-bin || die "cannot start MySQL 9.7 in $src"
  say "loading sysbench $TABLES x $ROWS rows into $src ..."
  t0=$EPOCHSECONDS
  "$server" sysbench "$src" oltp_read_write --tables="$TABLES" --table-size="$ROWS" --threads=2 prepare \
    >"$work/prepare.log" 2>&1 || die "sysbench prepare failed: $(tail -5 "$work/prepare.log")"
  # A clean stop: the next start's checkpoint is not a load's worth behind (test-servers.md).
  "$server" stop "$src"
  touch "$src/.loaded-$TABLES-$ROWS"
  say "loaded in $(( EPOCHSECONDS - t0 )) s"
fi
[ "$load_only" = 1 ] && { say "the data set is in $src"; exit 0; }

"$server" start mysql-9.7 "$src" "${server_opts[@]}" || die "cannot start MySQL 9.7 in $src"
env_get() { sed -n "s/^$2=//p" "$1/server.env"; }
data=$(env_get "$src" DATADIR)
socket=$(env_get "$src" SOCKET)
data_bytes=$(du -sb --exclude='#innodb_redo' --exclude='#innodb_temp' --exclude='binlog.*' "$data" | cut -f1)
say "source: MySQL $(env_get "$src" VERSION), $(human "$data_bytes") of data ($TABLES x $ROWS rows), redo capacity $REDO_CAPACITY, binlog $BINLOG"
status() {  # status VARIABLE: a global status value of the source
  "$server" sql "$src" -N -B -e "SHOW GLOBAL STATUS LIKE '$1'" | cut -f2
}

# The load, from the warm-up to the end of the copy.
"$server" sysbench "$src" "$WORKLOAD" --tables="$TABLES" --table-size="$ROWS" --threads="$THREADS" \
  --time=0 --report-interval=30 run >"$work/sysbench.log" 2>&1 &
sysbench_pid=$!
bg_pids+=("$sysbench_pid")
bulk_pid=""
if [ "$BULK_THREADS" -gt 0 ]; then
  "$server" sysbench "$src" "$PWD/tools/bench/big_busy_bulk.lua" --tables="$TABLES" --table-size="$ROWS" \
    --rows-per-update="$BULK_ROWS" --threads="$BULK_THREADS" --time=0 --report-interval=30 run >"$work/bulk.log" 2>&1 &
  bulk_pid=$!
  bg_pids+=("$bulk_pid")
fi
alive() {  # the load still runs
  kill -0 "$sysbench_pid" 2>/dev/null || die "sysbench died: $(tail -5 "$work/sysbench.log")"
  [ -z "$bulk_pid" ] || kill -0 "$bulk_pid" 2>/dev/null || die "the bulk writer died: $(tail -5 "$work/bulk.log")"
}
binlog_bytes() {  # the size of the source's binlogs, 0 without a binlog
  if [ "$BINLOG" = on ]; then "$server" sql "$src" -N -B -e 'SHOW BINARY LOGS' | awk '{ s += $2 } END { print s + 0 }'
  else echo 0; fi
}

say "sysbench $WORKLOAD, $THREADS threads$([ -n "$bulk_pid" ] && echo ", and $BULK_THREADS bulk writer(s) of $BULK_ROWS rows an UPDATE"): warming up for $WARMUP s to measure the redo rate"
sleep $(( WARMUP / 3 ))
alive
l0=$(status Innodb_redo_log_current_lsn); b0=$(binlog_bytes); t0=$EPOCHREALTIME
sleep $(( WARMUP - WARMUP / 3 ))
alive
l1=$(status Innodb_redo_log_current_lsn); b1=$(binlog_bytes); t1=$EPOCHREALTIME
ckpt=$(status Innodb_redo_log_checkpoint_lsn)
redo_rate=$(calc "($l1 - $l0) / ($t1 - $t0)")   # bytes/s
binlog_rate=$(calc "($b1 - $b0) / ($t1 - $t0)")
[ "$(calc "$redo_rate > 0")" = 1 ] || die "no redo written during the warm-up: is sysbench writing? $(tail -3 "$work/sysbench.log")"
data_mib=$(calc "$data_bytes / 1048576")
if [ -n "$MAX_RATE" ]; then
  secs=$(calc "$data_mib / $MAX_RATE")
  rate=$MAX_RATE
else
  secs=$(calc "$MINUTES * 60")
  want=$(calc "$span_goal * 1.2 / $redo_rate")   # 20% over: the rate wanders on a shared machine
  [ "$(calc "$want > $secs")" = 1 ] && secs=$want
  if [ "$(calc "$secs > $MAX_MINUTES * 60")" = 1 ]; then
    say "the redo rate ($(printf %.1f "$(calc "$redo_rate / 1048576")") MiB/s) needs $(printf %.0f "$(calc "$secs / 60")") minutes for a ${SPAN_GIB} GiB span: capped at MAX_MINUTES=$MAX_MINUTES"
    secs=$(calc "$MAX_MINUTES * 60")
  fi
  rate=$(printf '%.2f' "$(calc "$data_mib / $secs")")
fi
span_est=$(printf '%.0f' "$(calc "$redo_rate * $secs + $l1 - $ckpt")")
say "redo rate $(printf %.1f "$(calc "$redo_rate / 1048576")") MiB/s, checkpoint age $(human $(( l1 - ckpt ))): --max-rate $rate MiB/s, a copy of ~$(printf %.1f "$(calc "$secs / 60")") minutes, a span of ~$(human "$span_est")"
binlog_est=$(printf '%.0f' "$(calc "$binlog_rate * $secs")")
need_space $(( data_bytes + span_est + binlog_est + margin )) "the copy: $(human "$data_bytes") of data + ~$(human "$span_est") of redo$([ "$BINLOG" = on ] && echo " + ~$(human "$binlog_est") of binlog on the source") + 3 GiB"
if [ "$BINLOG" = on ]; then  # the warm-up's binlogs: from here on nothing can be purged
  "$server" sql "$src" -e "FLUSH BINARY LOGS; PURGE BINARY LOGS BEFORE NOW() + INTERVAL 1 DAY"
fi

# Every 30 s: the source's redo rate and checkpoint age, the target's size, the free space. Once
# the span reaches SPAN_GIB + 20%, the bulk writer pauses (SIGSTOP) for the rest of the copy: a
# redo rate that rises after the warm-up (the machine's other users idle) would otherwise make
# the span, and the disk it takes, several times the goal.
( prev=""; peak=0; paused=0
  while sleep 30; do
    l=$(status Innodb_redo_log_current_lsn 2>/dev/null) || continue
    start=$(sed -n 's/.*start checkpoint LSN \([0-9]*\).*/\1/p' "$work/local.log" 2>/dev/null | head -1)
    if [ -n "$bulk_pid" ] && [ "$paused" = 0 ] && [ "$span_goal" -gt 0 ] && [ -n "$start" ] &&
       (( (l - start) * 10 >= span_goal * 12 )); then
      kill -STOP "$bulk_pid" 2>/dev/null && paused=1 && echo "$(date +%T) span $(( (l - start) >> 20 )) MiB: bulk writer paused"
    fi
    c=$(status Innodb_redo_log_checkpoint_lsn 2>/dev/null) || continue
    t=$(du -sb "$out" 2>/dev/null | cut -f1) || t=0
    (( t > peak )) && peak=$t && echo "$peak" > "$work/peak_target_bytes"
    echo "$(date +%T) redo_lsn=$l redo_MiB/s=$([ -n "$prev" ] && printf %.1f "$(calc "($l - $prev) / 30 / 1048576")" || echo -) checkpoint_age_MiB=$(( (l - c) >> 20 )) target_MiB=$(( t >> 20 )) free_MiB=$(( $(avail) >> 20 ))"
    prev=$l
  done ) >"$work/monitor.log" 2>&1 &
bg_pids+=("$!")

extra=()
[ "$REDO_CONSUMER" = 1 ] && extra=(--redo-consumer)
cmd=("$bin" --json local --target-dir "$out" -S "$socket" -u mysqlclone --password=mysqlclone --max-rate "$rate" "${extra[@]}")
echo "nice -n $NICE ${cmd[*]}" | sed 's/--password=[^ ]*/--password=.../' > "$work/command.txt"
say "copying: $(cat "$work/command.txt")"
lsn_before=$(status Innodb_redo_log_current_lsn)
t0=$EPOCHREALTIME
rc=0
/usr/bin/time -f '%M %e' -o "$work/time.txt" "${cmd[@]}" >"$work/local.json" 2> >(tee "$work/local.log" >&2) &
copy_pid=$!
# The redo rate can climb above the warm-up's: interrupt the copy (mysqlclone exits 9, its target
# marked failed) rather than fill a filesystem that others use too.
( while sleep 5; do
    kill -0 "$copy_pid" 2>/dev/null || exit 0
    if (( $(avail) < MIN_FREE_GIB * gib )); then
      echo "free space under MIN_FREE_GIB=$MIN_FREE_GIB GiB: copy interrupted" > "$work/space_abort"
      kill -INT "$(pgrep -P "$copy_pid")" 2>/dev/null || true
      exit 0
    fi
  done ) &
bg_pids+=("$!")
wait "$copy_pid" || rc=$?
t1=$EPOCHREALTIME
copy_secs=$(calc "$t1 - $t0")
lsn_after=$(status Innodb_redo_log_current_lsn) || lsn_after=""
for p in $sysbench_pid $bulk_pid; do kill "$p" 2>/dev/null || true; kill -CONT "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
# mean_tps LOG [FACTOR]: the mean of sysbench's 30 s reports (transactions/s) times FACTOR.
mean_tps() {
  awk -v f="${2:-1}" '/ tps: / { for (i = 1; i <= NF; i++) if ($i == "tps:") { s += $(i + 1); n++ } }
    END { if (n) printf "%.0f", f * s / n; else print "-" }' "$1"
}
tps=$(mean_tps "$work/sysbench.log")
bulk_rows="-"; [ -z "$bulk_pid" ] || bulk_rows=$(mean_tps "$work/bulk.log" "$BULK_ROWS")
"$server" stop "$src" >/dev/null   # its CPU and memory go to the copy's recovery
if [ "$rc" != 0 ]; then
  [ ! -f "$work/space_abort" ] || say "$(cat "$work/space_abort")"
  say "mysqlclone failed (exit $rc); its result: $(cat "$work/local.json")"
  say "its log: $work/local.log (last lines below); the source's error log: $src/error.log"
  tail -n 20 "$work/local.log" >&2
  exit 1
fi
peak_target=$(cat "$work/peak_target_bytes" 2>/dev/null || echo 0)
target_bytes=$(du -sb "$out" | cut -f1)
target_redo=$(du -sb "$out/#innodb_redo" | cut -f1)
target_binlog=$(du -cb "$out"/binlog.[0-9]* 2>/dev/null | tail -1 | cut -f1) || target_binlog=0
read -r rss_kib _ < "$work/time.txt"
jget() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(d$1)" "$work/local.json"; }
redo_bytes=$(jget "['redo_bytes']")
peak_lag=$(jget "['redo_peak_lag_bytes']")
ddl_blocked=$(jget "['ddl_blocked_ms']")
commits_blocked=$(jget "['commits_blocked_ms']")
gtid_recorded=$(jget "['gtid_executed']" | tr -d ' \n')

# The stock server on the copy: crash recovery over the whole span, then CHECK TABLE.
say "starting the stock server on the copy (crash recovery over $(human "$redo_bytes") of redo) ..."
t0=$EPOCHREALTIME
SERVER_START_TIMEOUT=${SERVER_START_TIMEOUT:-7200} "$server" start mysql-9.7 "$copysrv" --datadir "$out" "${server_opts[@]}" ||
  die "the stock server does not start on the copy: see $copysrv/error.log"
start_secs=$(calc "$EPOCHREALTIME - $t0")
tables=$(seq -s, -f 'sbtest.sbtest%.0f' 1 "$TABLES")
say "CHECK TABLE on $TABLES tables ..."
t0=$EPOCHREALTIME
"$server" sql "$copysrv" -N -B -e "CHECK TABLE $tables" >"$work/check.txt" 2>&1 || true
check_secs=$(calc "$EPOCHREALTIME - $t0")
ok=$(awk -F'\t' '$3 == "status" && $4 == "OK"' "$work/check.txt" | wc -l)
if [ "$ok" = "$TABLES" ] && [ "$(wc -l < "$work/check.txt")" = "$TABLES" ]; then check="passed ($TABLES tables OK)"
else check="FAILED: $(grep -v $'\tstatus\tOK$' "$work/check.txt" | head -5 | tr '\n' ';')"; fi
gtid_copy=$("$server" sql "$copysrv" -N -B -e 'SELECT @@GLOBAL.gtid_executed' | tr -d ' \n') || gtid_copy="?"
if [ "$gtid_copy" = "$gtid_recorded" ]; then gtid="equal"; else gtid="DIFFERENT: copy $gtid_copy, recorded $gtid_recorded"; fi
"$server" stop "$copysrv" >/dev/null

{
  echo "big_busy.sh $(date -u +%FT%TZ) $([ "$small" = 1 ] && echo "--small ")TABLES=$TABLES ROWS=$ROWS WORKLOAD=$WORKLOAD THREADS=$THREADS BULK_THREADS=$BULK_THREADS BULK_ROWS=$BULK_ROWS REDO_CAPACITY=$REDO_CAPACITY BUFFER_POOL=$BUFFER_POOL BINLOG=$BINLOG NICE=$NICE, $(nproc) CPUs"
  echo "  command:          $(cat "$work/command.txt")"
  echo "  data:             $(human "$data_bytes") (datadir without redo, binlogs, temp)"
  printf '  copy time:        %.0f s (%.1f min) at --max-rate %s MiB/s; %s %s tps, bulk %s rows/s on average\n' "$copy_secs" "$(calc "$copy_secs / 60")" "$rate" "$WORKLOAD" "$tps" "${bulk_rows:--}"
  printf '  redo rate:        %.1f MiB/s in the warm-up; %s over the copy\n' "$(calc "$redo_rate / 1048576")" \
    "$([ -n "$lsn_after" ] && printf '%.1f MiB/s' "$(calc "($lsn_after - $lsn_before) / $copy_secs / 1048576")" || echo '?')"
  echo "  redo span:        $(human "$redo_bytes") (redo_bytes $redo_bytes)"
  ! grep -q 'bulk writer paused' "$work/monitor.log" || echo "  load:             $(grep 'bulk writer paused' "$work/monitor.log"), OLTP only after that"
  echo "  tailer peak lag:  $(human "$peak_lag") (redo_peak_lag_bytes $peak_lag)"
  echo "  target disk use:  $(human "$target_bytes") (du; peak seen while copying $(human "$peak_target")): redo files $(human "$target_redo"), binlog at E $(human "$target_binlog"); data + span = $(human $(( data_bytes + redo_bytes )))"
  echo "  peak RSS:         $(( rss_kib / 1024 )) MiB (mysqlclone)"
  echo "  locks:            DDL blocked $ddl_blocked ms, commits blocked $commits_blocked ms (ddl_blocked_ms, commits_blocked_ms)"
  printf '  copy first start: %.0f s (crash recovery)\n' "$start_secs"
  printf '  CHECK TABLE:      %s in %.0f s\n' "$check" "$check_secs"
  echo "  gtid_executed:    $gtid"
} | tee -a "$results"
[[ "$check" == passed* && "$gtid" == equal ]]
