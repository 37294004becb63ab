#!/usr/bin/env bash
# Runs the tables benchmark (issue 3, "Benchmark") against a monolithic `thingtank serve`
# it starts itself (port 0, temp data dir), through its gateway: the grpc.health.v1 Check
# baseline, PutItem, GetItem, Query of 100 items and BatchWriteItem, each closed-loop at
# CONCURRENCY (throughput), then open-loop at PACED % of that throughput (latency under
# load), then at concurrency 1 (the unloaded latency); then prints a summary table with the
# issue's targets, met or not met. The p99 target is judged on the paced run: a closed loop
# of 32 outstanding calls queues them itself (p50 ~ 32 / throughput), for the baseline too.
#
# Builds nothing: expects a release build (cmake --preset release &&
# cmake --build --preset release --target tables_bench thingtank).
#
# Environment:
#   BUILD_DIR    build tree (default <repo>/build/release)
#   CONCURRENCY  outstanding calls (default 32)      CHANNELS  connections (default 4)
#   DURATION     measured seconds per scenario (default 3)
#   UNLOADED     measured seconds at concurrency 1 (default 2)
#   PACED        open-loop rate, % of each scenario's closed-loop throughput (default 25)
#   SCENARIOS    default health,put,get,query,query_readings,batch_write
#                (query: 100 items of 1 KiB; query_readings: 100 sensor readings of ~100 B)
#   PROFILE=1    sample per-thread CPU (/proc/<pid>/task, like top -H) of the server and
#                the load generator during each scenario and print the busiest threads
#   PERF=1       `perf record` the server (call graphs: PERF_CALL_GRAPH, default fp; dwarf
#                when the build has no frame pointers) for PERF_SECONDS (default 3) of each loaded
#                scenario and print the top symbols (perf report --no-children --sort dso,sym)
#   KEEP_TMP=1   keep the temp dir (server log, JSON results, perf data)
# Extra arguments are passed to every tables_bench invocation (e.g. --query-item-bytes 200).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$REPO/build/release}"
THINGTANK="$BUILD_DIR/tools/thingtank/thingtank"
BENCH="$BUILD_DIR/tools/bench/tables_bench"
CONCURRENCY="${CONCURRENCY:-32}"
CHANNELS="${CHANNELS:-4}"
DURATION="${DURATION:-3}"
UNLOADED="${UNLOADED:-2}"
PACED="${PACED:-25}"
SCENARIOS="${SCENARIOS:-health,put,get,query,query_readings,batch_write}"
PROFILE="${PROFILE:-0}"
PERF="${PERF:-0}"
PERF_SECONDS="${PERF_SECONDS:-3}"
SCRIPT_NAME=run_tables_bench
# shellcheck source=tools/bench/lib.sh
source "$REPO/tools/bench/lib.sh"

require_built "tables_bench thingtank" "$THINGTANK" "$BENCH"
if [[ "$PERF" == 1 ]] && ! command -v perf >/dev/null; then
  echo "run_tables_bench: PERF=1 needs perf" >&2
  exit 2
fi

make_tmp tables-bench

# bench SCENARIO: one tables_bench process per scenario, results in $TMP/SCENARIO.json.
bench() {
  local scenario="$1" bench_pid run="$1" extra=()
  local out="$TMP/$scenario.json" err="$TMP/$scenario.err"
  if [[ "$scenario" == query_readings ]]; then
    run=query
    extra=(--query-item-bytes 100)
  fi
  echo "== $scenario (127.0.0.1:$PORT, concurrency $CONCURRENCY, paced $PACED %, then 1)" >&2
  "$BENCH" --endpoint "127.0.0.1:$PORT" --scenario "$run" --label monolithic \
    --concurrency "$CONCURRENCY" --channels "$CHANNELS" --seconds "$DURATION" \
    --unloaded-seconds "$UNLOADED" --paced-percent "$PACED" --json "${extra[@]}" "${BENCH_ARGS[@]}" \
    >"$out" 2>"$err" &
  bench_pid=$!
  PIDS+=("$bench_pid")
  # The loaded pass starts (after any preload) when tables_bench says "measuring";
  # profile from then on, skipping the 1 s warm-up.
  if [[ "$PROFILE" == 1 || "$PERF" == 1 ]] && wait_marker "$err" "measuring $run c=$CONCURRENCY" "$bench_pid"; then
    sleep 1
    profile_window "$scenario" "$err" "$bench_pid" "measuring $run paced"
  fi
  local rc=0
  wait "$bench_pid" || rc=$?
  if ((rc != 0)); then
    echo "run_tables_bench: tables_bench $scenario failed (exit $rc):" >&2
    cat "$err" >&2
    exit 1
  fi
  grep -v "measuring" "$err" | sed 's/^/   /' >&2 || true
  "$PY" - "$out" <<'PYEOF' >&2
import json, sys
for r in json.load(open(sys.argv[1]))["results"]:
    extra = ""
    if r["errors"]: extra += f"  errors {r['errors']}"
    if r["misses"]: extra += f"  misses {r['misses']}"
    if r["first_error"]: extra += f"  first error: {r['first_error']}"
    how = f"paced {r['offered_per_s']:.0f}/s" if r.get("offered_per_s") else f"c={r['concurrency']}"
    print(f"   {r['scenario']:<12} {how:<14} calls/s {r['calls_per_s']:>9.0f}  "
          f"items/s {r['items_per_s']:>9.0f}  p50 {r['p50_us']:>8.1f} us  p99 {r['p99_us']:>8.1f} us{extra}")
PYEOF
  print_profile "$scenario"
}

BENCH_ARGS=("$@")

echo "run_tables_bench: starting a monolithic server (data under $TMP)" >&2
start_server server "$TMP/data" --gateway-port 0 --metrics-port 0 --wamp-ws-port 0
SERVER_PID=$LAST_PID
PORT="$(port_of "$TMP/data" gateway "$SERVER_PID")"
echo "run_tables_bench: monolithic gateway :$PORT (pid $SERVER_PID);" \
  "concurrency $CONCURRENCY over $CHANNELS channels, $DURATION s per scenario, $UNLOADED s at c=1" >&2

for s in ${SCENARIOS//,/ }; do bench "$s"; done

"$PY" - "$TMP" "$CONCURRENCY" "$PACED" <<'EOF'
import json, math, os, sys
tmp, conc, paced_pct = sys.argv[1], int(sys.argv[2]), sys.argv[3]
loaded, paced, unloaded = {}, {}, {}
ORDER = ("health", "put", "get", "query", "query_readings", "batch_write")
for s in ORDER:
    p = os.path.join(tmp, f"{s}.json")
    if not os.path.exists(p):
        continue
    for r in json.load(open(p))["results"]:
        if r.get("offered_per_s"):
            paced[s] = r
        elif r["concurrency"] == 1 and conc != 1:
            unloaded[s] = r
        else:
            loaded[s] = r
            if conc == 1: unloaded[s] = r

def g(d, s, k):
    return d.get(s, {}).get(k, float("nan"))

base = g(loaded, "health", "calls_per_s")
names = {"health": "Health Check (baseline)", "put": "PutItem 1 KiB", "get": "GetItem",
         "query": "Query 100 x 1 KiB", "query_readings": "Query 100 x ~100 B", "batch_write": "BatchWriteItem 25 x 1 KiB"}
targets = {"put": 0.6, "get": 0.7, "query": 0.3, "query_readings": 0.3}

print()
print(f"Tables benchmark, monolithic gateway: throughput closed-loop c={conc}; latency paced at "
      f"{paced_pct}% of it; unloaded = c=1")
print(f"{'operation':<27}{'calls/s':>9}{'items/s':>10}{'vs base':>8}{'c32 p99':>9}"
      f"{'paced/s':>9}{'p50 us':>8}{'p99 us':>8}{'c1 p50':>8}{'p99/c1p50':>10}  errors/misses")
for s, r in loaded.items():
    items = "" if s == "health" else f"{r['items_per_s']:.0f}"
    c1 = g(unloaded, s, "p50_us")
    pr = paced.get(s, {})
    print(f"{names[s]:<27}{r['calls_per_s']:>9.0f}{items:>10}{r['calls_per_s'] / base:>8.2f}{r['p99_us']:>9.0f}"
          f"{pr.get('offered_per_s', float('nan')):>9.0f}{pr.get('p50_us', float('nan')):>8.0f}"
          f"{pr.get('p99_us', float('nan')):>8.0f}{c1:>8.0f}{pr.get('p99_us', float('nan')) / c1:>10.1f}"
          f"  {r['errors'] + pr.get('errors', 0)}/{r['misses'] + pr.get('misses', 0)}")

rows = []
for s, t in targets.items():
    if s in loaded:
        v = loaded[s]["calls_per_s"] / base
        rows.append((f"{names[s]} / baseline calls/s", f"{v:.2f}", f">= {t}", v >= t))
for s in ORDER:
    if s in paced and s in unloaded:
        p99, c1 = paced[s]["p99_us"], unloaded[s]["p50_us"]
        rows.append((f"{names[s]} paced p99 / unloaded p50", f"{p99 / c1:.1f}", "<= 10", p99 <= 10 * c1))
for s in ORDER[1:]:
    for d in (loaded, paced):
        if s in d and (d[s]["errors"] or d[s]["misses"]):
            rows.append((f"{names[s]} errors/misses", f"{d[s]['errors']}/{d[s]['misses']}", "0", False))
print()
print(f"{'target':<44}{'measured':>9}  {'target':<7}  result")
for what, m, t, ok in rows:
    print(f"{what:<44}{m:>9}  {t:<7}  {'met' if ok else 'NOT MET'}")
EOF
