#!/usr/bin/env bash
# Benchmark (not a test): `mysqlclone remote` against a stock MySQL 9.7 recipient running
# `CLONE INSTANCE FROM ... DATA DIRECTORY = ... REQUIRE SSL`, both pulling the same ~1 GiB sysbench
# donor over loopback with TLS, alternately (the order flips every round), each run into a fresh
# target directory, at every parallelism in $PARALLEL.
#
#   tools/bench/remote_bench.sh [ROUNDS=3] [TABLES=8] [ROWS=500000]
#
# Environment: PARALLEL="1 3" (our --parallel N = stock clone_max_concurrency N with
# clone_autotune_concurrency OFF; both count the main connection); COMPRESS=0 (1: one extra pair
# at the last parallelism, --compress vs clone_enable_compression=ON; not cheap, ~1 min a run);
# AUTOTUNE=1 (one extra stock run with the stock defaults: autotune ON, clone_max_concurrency 16);
# DROP_CACHES=0 (1: sync and drop the page cache before every run; needs root);
# MYSQLCLONE_BIN (default build/cli/mysqlclone);
# BENCH_DIR (default /var/tmp/mysqlclone-bench; the loaded donor is kept there for reruns).
#
# Wall times: ours = the mysqlclone process (connect, pre-flight, copy, every fsync); stock = the
# mysql client running the CLONE statement (DATA DIRECTORY mode: the recipient copies and syncs,
# no restart or recovery is part of it); srv_s = our JSON "seconds" / the recipient's
# performance_schema.clone_status END_TIME - BEGIN_TIME. MiB = apparent size of the target
# (du -sb). Peak RSS of ours: GNU time's "Maximum resident set size". cpu_s: user + system time
# of our process / of the recipient mysqld during the statement (the machine has few cores and may
# be shared: a high load1 makes the CPU-hungrier side lose more wall time). The donor runs with
# innodb_flush_method=O_DIRECT, so its page cache barely matters; it is restarted once before the
# runs (a freshly loaded server's checkpoint lags: test-servers.md "timing trap"), then pulled once
# by each side, unrecorded (warm-up: neither side pays for the first clone after the start).
# Each pair's two targets are also compared (files, sizes); our failures are printed with the
# command, exit code and stderr. Servers are stopped and targets removed on exit.
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-3}
tables=${2:-8}
rows=${3:-500000}
parallels=${PARALLEL:-1 3}
compress=${COMPRESS:-0}
autotune=${AUTOTUNE:-1}
drop_caches=${DROP_CACHES:-0}
server=tools/servers/server.sh
bin=${MYSQLCLONE_BIN:-$PWD/build/cli/mysqlclone}
base=${BENCH_DIR:-/var/tmp/mysqlclone-bench}
donor=$base/mysql-9.7-remote-donor
recip=$base/mysql-9.7-remote-recipient
out=$base/remote-out
work=$base/remote-work
log=$base/remote_bench.log

die() { echo "remote_bench.sh: $*" >&2; exit 1; }

[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || die "ROUNDS must be a positive integer, not '$rounds'"
for p in $parallels; do [[ "$p" =~ ^[1-9][0-9]*$ ]] || die "PARALLEL: '$p' is not a positive integer"; done
[ -n "${parallels// /}" ] || die "PARALLEL is empty"
[ -x "$bin" ] || die "no mysqlclone binary at $bin (build it: tools/build.sh, or set MYSQLCLONE_BIN)"
[ -x /usr/bin/time ] || die "GNU time (/usr/bin/time) is needed for the peak RSS"
command -v bc >/dev/null || die "bc is needed"
command -v python3 >/dev/null || die "python3 is needed (reads our --json result)"
if [ "$drop_caches" = 1 ] && [ "$(id -u)" != 0 ]; then die "DROP_CACHES=1 needs root"; fi

mkdir -p "$base"
started=()   # server dirs this run started, stopped again on exit
cleanup() {
  local d
  for d in "${started[@]}"; do "$server" stop "$d" >/dev/null 2>&1 || true; done
  rm -rf "$out" "$work" "$recip"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

env_get() { sed -n "s/^$2=//p" "$1/server.env"; }
now() { echo "$EPOCHREALTIME"; }
calc() { echo "$1" | bc -l; }
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
max() { sort -g | tail -n 1; }
start_server() {  # start_server ROLE DIR: a MySQL 9.7 with the clone plugin, or a clear failure
  "$server" start mysql-9.7 "$2" --clone >/dev/null || die "cannot start the $1 server in $2 (its error log is above)"
  started+=("$2")
}

# Donor: loaded once (kept across runs), restarted now so its checkpoint is complete.
"$server" stop "$donor" >/dev/null 2>&1 || true
if [ ! -f "$donor/.loaded-$tables-$rows" ]; then
  rm -rf "$donor"
  start_server donor "$donor"
  echo "loading sysbench $tables x $rows rows into $donor ..." >&2
  "$server" sysbench "$donor" oltp_read_write --tables="$tables" --table-size="$rows" --threads=2 prepare >/dev/null ||
    die "sysbench prepare failed on $donor"
  touch "$donor/.loaded-$tables-$rows"
  "$server" stop "$donor" >/dev/null || die "cannot stop the donor in $donor"
fi
start_server donor "$donor"
dport=$(env_get "$donor" PORT)

# Recipient: a fresh stock server every time; it only ever clones into DATA DIRECTORY targets.
"$server" stop "$recip" >/dev/null 2>&1 || true
rm -rf "$recip" "$out" "$work"
mkdir -p "$work"
start_server recipient "$recip"
rsql() { "$server" sql "$recip" -N -B "$@"; }
rsql -e "SET GLOBAL clone_valid_donor_list = '127.0.0.1:$dport'" || die "cannot configure the recipient"

: > "$log"
echo "donor: MySQL $(env_get "$donor" VERSION), 127.0.0.1:$dport, sysbench $tables x $rows; recipient port $(env_get "$recip" PORT)"
echo "ours: $bin; log of every run: $log; page cache dropped before each run: $([ "$drop_caches" = 1 ] && echo yes || echo no)"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores)"
t0=$(now); rsql -e 'DO 0' >/dev/null; t1=$(now)
printf 'stock wall includes the client start: a no-op statement takes %.3f s\n' "$(calc "$t1 - $t0")"

# Runs happen in command substitutions (subshells): problems are counted from the log at the end.
problem() { printf 'PROBLEM %s\n' "$*" | tee -a "$log" >&2; }
prepare_run() {
  rm -rf "$out"
  sync
  if [ "$drop_caches" = 1 ]; then echo 3 > /proc/sys/vm/drop_caches; fi
}
# What only one side writes: our mysqlclone.json, the recipient's performance_schema views.
own_files() { grep -v -E ' (mysqlclone\.json|#clone/#view_progress|#clone/#view_status)$'; }
listing() {  # listing DIR: type, size, path of everything a stock server would start on
  (cd "$1" && find . -mindepth 1 \( -type d -printf 'd - %P\n' \) -o -printf '%y %s %P\n') | own_files | sort -k3
}
modes() { (cd "$1" && find . -mindepth 1 -printf '%m %P\n') | own_files | sort -k2; }

# run_ours LABEL PARALLEL [extra args]: prints "wall srv cpu MiB conns rss_MiB" or "FAIL"
run_ours() {
  local label=$1 p=$2 t0 t1 rc bytes
  shift 2
  local cmd=("$bin" -q --json remote --from "mysqlclone@127.0.0.1:$dport" --password=mysqlclone
             --target-dir "$out" --parallel "$p" "$@")
  prepare_run
  t0=$(now)
  rc=0
  /usr/bin/time -v -o "$work/time" "${cmd[@]}" > "$work/ours.json" 2> "$work/ours.err" || rc=$?
  t1=$(now)
  { echo "== ours $label: ${cmd[*]} -> exit $rc"; cat "$work/ours.err"; } >> "$log"
  if [ "$rc" != 0 ] || ! grep -q '"ok": true' "$work/ours.json"; then
    problem "$(printf 'OURS FAILED (%s): %s\n  exit code: %s\n  stderr:\n%s\n  stdout:\n%s' "$label" \
      "${cmd[*]}" "$rc" "$(sed 's/^/    /' "$work/ours.err")" "$(head -c 2000 "$work/ours.json" | sed 's/^/    /')")"
    echo FAIL; return
  fi
  bytes=$(du -sb "$out" | cut -f1)
  listing "$out" > "$work/ours.list"
  modes "$out" > "$work/ours.modes"
  python3 - "$work/ours.json" "$work/time" "$(calc "$t1 - $t0")" "$bytes" <<'EOF'
import json, re, sys
d = json.load(open(sys.argv[1]))
t = open(sys.argv[2]).read()
rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1))
cpu = sum(float(re.search(rf"{k} time \(seconds\): ([0-9.]+)", t).group(1)) for k in ("User", "System"))
print(f"{float(sys.argv[3]):.3f} {d['seconds']:.3f} {cpu:.2f} {int(sys.argv[4]) / 1048576:.0f} {d['connections']} {rss / 1024:.1f}")
EOF
}

# cpu_ticks PID: user + system clock ticks of a process so far (/proc/PID/stat fields 14 and 15).
cpu_ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }
tck=$(getconf CLK_TCK)

# run_stock LABEL PARALLEL AUTOTUNE(0|1) COMPRESS(0|1): prints "wall srv cpu MiB threads" or "FAIL"
# (cpu: what the recipient mysqld used meanwhile)
run_stock() {
  local label=$1 p=$2 auto=$3 z=$4 t0 t1 rc err bytes srv threads pid c0 c1
  local set
  if [ "$auto" = 1 ]; then
    set="SET GLOBAL clone_autotune_concurrency = DEFAULT, clone_max_concurrency = DEFAULT"
  else
    set="SET GLOBAL clone_autotune_concurrency = OFF, clone_max_concurrency = $p"
  fi
  set+=", clone_enable_compression = $([ "$z" = 1 ] && echo ON || echo OFF)"
  rsql -e "$set" || die "cannot set the recipient's clone variables: $set"
  local stmt="CLONE INSTANCE FROM 'mysqlclone'@'127.0.0.1':$dport IDENTIFIED BY 'mysqlclone' DATA DIRECTORY = '$out' REQUIRE SSL"
  prepare_run
  pid=$(cat "$recip/mysqld.pid")
  c0=$(cpu_ticks "$pid")
  t0=$(now)
  rc=0
  err=$(rsql -e "$stmt" 2>&1) || rc=$?
  t1=$(now)
  c1=$(cpu_ticks "$pid")
  { echo "== stock $label: $set; $stmt -> exit $rc"; echo "$err"; } >> "$log"
  if [ "$rc" != 0 ]; then
    problem "STOCK FAILED ($label): $stmt: exit $rc: $err"
    echo FAIL; return
  fi
  bytes=$(du -sb "$out" | cut -f1)
  srv=$(rsql -e "SELECT TIMESTAMPDIFF(MICROSECOND, BEGIN_TIME, END_TIME) / 1e6 FROM performance_schema.clone_status")
  threads=$(rsql -e "SELECT THREADS FROM performance_schema.clone_progress WHERE STAGE = 'FILE COPY'")
  listing "$out" > "$work/stock.list"
  modes "$out" > "$work/stock.modes"
  printf '%.3f %.3f %.2f %.0f %s\n' "$(calc "$t1 - $t0")" "$srv" "$(calc "($c1 - $c0) / $tck")" \
    "$(calc "$bytes / 1048576")" "$threads"
}

# compare LABEL: the two targets of a pair hold the same files with the same sizes.
mode_noted=0
compare() {
  [ -s "$work/ours.list" ] && [ -s "$work/stock.list" ] || return 0
  if ! diff -u "$work/stock.list" "$work/ours.list" > "$work/list.diff"; then
    problem "$(printf 'TARGETS DIFFER (%s), stock (-) vs ours (+), type size path:\n%s' "$1" \
      "$(tail -n +3 "$work/list.diff" | grep '^[-+]' | head -n 30)")"
  fi
  if [ "$mode_noted" = 0 ] && ! diff -q "$work/stock.modes" "$work/ours.modes" >/dev/null; then
    mode_noted=1
    echo "note ($1): permission modes differ, stock (-) vs ours (+):" >&2
    diff -u "$work/stock.modes" "$work/ours.modes" | tail -n +3 | grep '^[-+]' | head -n 20 >&2 || true
  fi
  rm -f "$work/ours.list" "$work/stock.list" "$work/ours.modes" "$work/stock.modes"
}

line() { printf '%-5s %-5s %-6s %8s %8s %6s %7s %6s %6s %8s %6s\n' "$@"; }
row() {  # row PAR ROUND TOOL "wall srv cpu MiB conns [rss]"
  local p=$1 r=$2 tool=$3 wall srv cpu mib conns rss
  if [ "$4" = FAIL ]; then line "$p" "$r" "$tool" FAIL - - - - - - "$(cut -d' ' -f1 /proc/loadavg)"; return; fi
  read -r wall srv cpu mib conns rss <<< "$4"
  line "$p" "$r" "$tool" "$wall" "$srv" "$cpu" "$mib" "$(printf '%.0f' "$(calc "$mib / $wall")")" \
    "$conns" "${rss:--}" "$(cut -d' ' -f1 /proc/loadavg)"
}

echo
line par round tool wall_s srv_s cpu_s MiB MiB/s conns rss_MiB load1
declare -A ours_walls stock_walls ratios rss_all ours_rates stock_rates
pair() {  # pair PAR ROUND LABEL OURS_EXTRA STOCK_AUTOTUNE STOCK_COMPRESS ORDER(0: ours first)
  local p=$1 r=$2 key=$3 o s ow sw mib
  local extra=()
  if [ -n "$4" ]; then extra=("$4"); fi
  if [ "$7" = 0 ]; then
    o=$(run_ours "$key/$r" "$p" "${extra[@]}"); row "$key" "$r" ours "$o"
    s=$(run_stock "$key/$r" "$p" "$5" "$6"); row "$key" "$r" stock "$s"
  else
    s=$(run_stock "$key/$r" "$p" "$5" "$6"); row "$key" "$r" stock "$s"
    o=$(run_ours "$key/$r" "$p" "${extra[@]}"); row "$key" "$r" ours "$o"
  fi
  compare "$key/$r"
  rm -rf "$out"
  [ "$o" != FAIL ] && [ "$s" != FAIL ] || return 0
  ow=${o%% *} sw=${s%% *}
  ours_walls[$key]+="$ow "
  stock_walls[$key]+="$sw "
  ratios[$key]+="$(calc "$sw / $ow") "
  rss_all[$key]+="${o##* } "
  read -r _ _ _ mib _ <<< "$o"; ours_rates[$key]+="$(calc "$mib / $ow") "
  read -r _ _ _ mib _ <<< "$s"; stock_rates[$key]+="$(calc "$mib / $sw") "
}

warm=$(run_ours warm-up "${parallels%% *}"); line warm - ours "${warm%% *}" - - - - - - -
warm=$(run_stock warm-up "${parallels%% *}" 0 0); line warm - stock "${warm%% *}" - - - - - - -
rm -rf "$out" "$work"/*.list "$work"/*.modes
keys=()
for p in $parallels; do
  keys+=("$p")
  for r in $(seq 1 "$rounds"); do pair "$p" "$r" "$p" "" 0 0 $(( (r + 1) % 2 )); done
done
last=${parallels##* }
if [ "$compress" = 1 ]; then
  keys+=("${last}z")
  pair "$last" 1 "${last}z" --compress 0 1 0
fi
if [ "$autotune" = 1 ]; then
  s=$(run_stock auto 16 1 0); row auto 1 stock "$s"
  rm -rf "$out"
fi

echo
echo "par = --parallel / clone_max_concurrency (z: compressed); conns = our connections / the stock FILE COPY threads;"
echo "cpu_s = user+system time of mysqlclone / of the recipient mysqld during the CLONE statement"
for k in "${keys[@]}"; do
  if [ -z "${ratios[$k]:-}" ]; then echo "parallel $k: no complete pair"; continue; fi
  printf 'parallel %-3s median wall ours %.2f s, stock %.2f s; median ratio stock/ours %.2f (>1: ours faster); median MiB/s ours %.0f, stock %.0f; our peak RSS %s MiB (%d pairs)\n' \
    "$k" "$(tr ' ' '\n' <<< "${ours_walls[$k]}" | grep . | median)" \
    "$(tr ' ' '\n' <<< "${stock_walls[$k]}" | grep . | median)" \
    "$(tr ' ' '\n' <<< "${ratios[$k]}" | grep . | median)" \
    "$(tr ' ' '\n' <<< "${ours_rates[$k]}" | grep . | median)" \
    "$(tr ' ' '\n' <<< "${stock_rates[$k]}" | grep . | median)" \
    "$(tr ' ' '\n' <<< "${rss_all[$k]}" | grep . | max)" \
    "$(wc -w <<< "${ratios[$k]}")"
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
failures=$(grep -c '^PROBLEM' "$log" || true)
if [ "$failures" != 0 ]; then die "$failures problem(s), see above and $log"; fi
