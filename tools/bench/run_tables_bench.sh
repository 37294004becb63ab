#!/usr/bin/env bash
# Runs the tables benchmark (issue 3, "Benchmark") against a monolithic `thingtank serve`
# it starts itself (port 0, temp data dir), through its gateway: the grpc.health.v1 Check
# baseline, PutItem, GetItem, Query of 100 items and BatchWriteItem, each at CONCURRENCY and
# then at concurrency 1 (the unloaded latency); then prints a summary table with the issue's
# targets, met or not met.
#
# Builds nothing: expects a release build (cmake --preset release &&
# cmake --build --preset release --target tables_bench thingtank).
#
# Environment:
#   BUILD_DIR    build tree (default <repo>/build/release)
#   CONCURRENCY  outstanding calls (default 32)      CHANNELS  connections (default 4)
#   DURATION     measured seconds per scenario (default 3)
#   UNLOADED     measured seconds at concurrency 1 (default 2)
#   SCENARIOS    default health,put,get,query,batch_write
#   PROFILE=1    sample per-thread CPU (/proc/<pid>/task, like top -H) of the server and
#                the load generator during each scenario and print the busiest threads
#   PERF=1       `perf record -g` the server for PERF_SECONDS (default 3) of each loaded
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
SCENARIOS="${SCENARIOS:-health,put,get,query,batch_write}"
PROFILE="${PROFILE:-0}"
PERF="${PERF:-0}"
PERF_SECONDS="${PERF_SECONDS:-3}"
PY=/usr/bin/python3
[[ -x "$PY" ]] || PY=python3

for f in "$THINGTANK" "$BENCH"; do
  if [[ ! -x "$f" ]]; then
    echo "run_tables_bench: $f not found; build first:" >&2
    echo "  cmake --preset release && cmake --build --preset release --target tables_bench thingtank" >&2
    exit 2
  fi
done
if [[ "$PERF" == 1 ]] && ! command -v perf >/dev/null; then
  echo "run_tables_bench: PERF=1 needs perf" >&2
  exit 2
fi

TMP="$(mktemp -d /tmp/tables-bench.XXXXXX)"
PIDS=()

cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 1 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      echo "run_tables_bench: process $pid did not stop after SIGTERM; sending SIGKILL" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
  done
  if [[ "${KEEP_TMP:-0}" == 1 ]]; then
    echo "run_tables_bench: kept $TMP" >&2
  else
    rm -rf "$TMP"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# port_of DATA_DIR KEY PID: polls <data-dir>/ports.json (30 s deadline).
port_of() {
  local dir="$1" key="$2" pid="$3" deadline=$((SECONDS + 30)) port=""
  while ((SECONDS < deadline)); do
    if [[ -s "$dir/ports.json" ]]; then
      port="$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1])).get(sys.argv[2], ""))' \
        "$dir/ports.json" "$key" 2>/dev/null || true)"
      if [[ -n "$port" && "$port" != 0 ]]; then
        echo "$port"
        return 0
      fi
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "run_tables_bench: server (pid $pid) exited; its log:" >&2
      cat "$TMP"/*.log >&2 || true
      return 1
    fi
    sleep 0.1
  done
  echo "run_tables_bench: no '$key' port in $dir/ports.json after 30 s" >&2
  return 1
}

# thread_cpu OUT NAME=PID...: until killed, per-thread CPU of the given processes,
# from /proc/<pid>/task/*/stat, averaged from 0.5 s after start to the end.
thread_cpu() {
  exec "$PY" - "$@" <<'PYEOF'
import os, signal, sys, time
out, procs = sys.argv[1], [a.split("=", 1) for a in sys.argv[2:]]
hz = os.sysconf("SC_CLK_TCK")
def snap():
    d = {}
    for name, pid in procs:
        try: tids = os.listdir(f"/proc/{pid}/task")
        except OSError: continue
        for t in tids:
            try: st = open(f"/proc/{pid}/task/{t}/stat").read()
            except OSError: continue
            comm = st[st.index("(") + 1:st.rindex(")")]
            f = st[st.rindex(")") + 2:].split()
            d[(name, t)] = (comm, int(f[11]) + int(f[12]))
    return d
time.sleep(0.5)
a, t0 = snap(), time.time()
last = [a, t0]
def done(*_):
    b, dt = last[0], last[1] - t0
    agg = {}
    for k, (comm, ticks) in b.items():
        used = ticks - a.get(k, (comm, 0))[1]
        agg[(k[0], comm)] = agg.get((k[0], comm), 0) + used
    with open(out, "w") as o:
        for (name, comm), ticks in sorted(agg.items(), key=lambda x: -x[1])[:10]:
            pct = 100.0 * ticks / hz / dt if dt > 0 else 0
            if pct >= 1: o.write(f"      {name + ':' + comm:<34}{pct:6.1f} %CPU\n")
    sys.exit(0)
signal.signal(signal.SIGTERM, done)
while True:
    time.sleep(0.25)
    last[:] = [snap(), time.time()]
PYEOF
}

# wait_marker FILE TEXT PID: until FILE contains TEXT (or PID exits).
wait_marker() {
  local file="$1" text="$2" pid="$3"
  while ! grep -qF -- "$text" "$file" 2>/dev/null; do
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.05
  done
}

# bench SCENARIO: one tables_bench process per scenario, results in $TMP/SCENARIO.json.
bench() {
  local scenario="$1" bench_pid sampler="" perf_pid=""
  local out="$TMP/$scenario.json" err="$TMP/$scenario.err"
  echo "== $scenario (127.0.0.1:$PORT, concurrency $CONCURRENCY, then 1)" >&2
  "$BENCH" --endpoint "127.0.0.1:$PORT" --scenario "$scenario" --label monolithic \
    --concurrency "$CONCURRENCY" --channels "$CHANNELS" --seconds "$DURATION" \
    --unloaded-seconds "$UNLOADED" --json "${BENCH_ARGS[@]}" >"$out" 2>"$err" &
  bench_pid=$!
  PIDS+=("$bench_pid")
  # The loaded pass starts (after any preload) when tables_bench says "measuring";
  # profile from then on, skipping the 1 s warm-up.
  if [[ "$PROFILE" == 1 || "$PERF" == 1 ]] && wait_marker "$err" "measuring $scenario c=$CONCURRENCY" "$bench_pid"; then
    sleep 1
    if [[ "$PROFILE" == 1 ]]; then
      thread_cpu "$TMP/$scenario.cpu" "server=$SERVER_PID" "bench=$bench_pid" &
      sampler=$!
    fi
    if [[ "$PERF" == 1 ]]; then
      perf record -F 999 -g -o "$TMP/$scenario.perf" -p "$SERVER_PID" -- sleep "$PERF_SECONDS" \
        >"$TMP/$scenario.perf.log" 2>&1 &
      perf_pid=$!
    fi
    if [[ -n "$sampler" ]]; then
      wait_marker "$err" "measuring $scenario c=1" "$bench_pid" || true
      kill -TERM "$sampler" 2>/dev/null || true
      wait "$sampler" 2>/dev/null || true
    fi
    [[ -n "$perf_pid" ]] && { wait "$perf_pid" 2>/dev/null || true; }
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
    print(f"   {r['scenario']:<12} c={r['concurrency']:<3} calls/s {r['calls_per_s']:>9.0f}  "
          f"items/s {r['items_per_s']:>9.0f}  p50 {r['p50_us']:>8.1f} us  p99 {r['p99_us']:>8.1f} us{extra}")
PYEOF
  if [[ -s "$TMP/$scenario.cpu" ]]; then
    echo "     busiest threads (process:thread, share of one core):" >&2
    cat "$TMP/$scenario.cpu" >&2
  fi
  if [[ -s "$TMP/$scenario.perf" ]]; then
    echo "     server perf profile (self time, top symbols):" >&2
    perf report -i "$TMP/$scenario.perf" --no-children --sort dso,sym -g none --stdio 2>/dev/null |
      grep -v '^#' | grep -v '^$' | head -25 | sed 's/^/     /' >&2 || true
  fi
}

BENCH_ARGS=("$@")

echo "run_tables_bench: starting a monolithic server (data under $TMP)" >&2
mkdir -p "$TMP/data"
"$THINGTANK" serve --data-dir "$TMP/data" --gateway-port 0 --metrics-port 0 >"$TMP/server.log" 2>&1 &
SERVER_PID=$!
PIDS+=("$SERVER_PID")
PORT="$(port_of "$TMP/data" gateway "$SERVER_PID")"
echo "run_tables_bench: monolithic gateway :$PORT (pid $SERVER_PID);" \
  "concurrency $CONCURRENCY over $CHANNELS channels, $DURATION s per scenario, $UNLOADED s at c=1" >&2

for s in ${SCENARIOS//,/ }; do bench "$s"; done

"$PY" - "$TMP" "$CONCURRENCY" <<'EOF'
import json, math, os, sys
tmp, conc = sys.argv[1], int(sys.argv[2])
loaded, unloaded = {}, {}
for s in ("health", "put", "get", "query", "batch_write"):
    p = os.path.join(tmp, f"{s}.json")
    if not os.path.exists(p):
        continue
    for r in json.load(open(p))["results"]:
        (unloaded if r["concurrency"] == 1 and conc != 1 else loaded)[s] = r
        if conc == 1: unloaded[s] = r

def g(d, s, k):
    return d.get(s, {}).get(k, float("nan"))

base = g(loaded, "health", "calls_per_s")
names = {"health": "Health Check (baseline)", "put": "PutItem 1 KiB", "get": "GetItem",
         "query": "Query 100 items", "batch_write": "BatchWriteItem 25 x 1 KiB"}
targets = {"put": 0.6, "get": 0.7, "query": 0.3}

print()
print(f"Tables benchmark, monolithic gateway, c={conc} (unloaded = c=1)")
print(f"{'operation':<27}{'calls/s':>9}{'items/s':>10}{'vs base':>8}{'p50 us':>9}{'p99 us':>9}"
      f"{'c1 p50':>8}{'p99/c1p50':>10}  errors/misses")
for s, r in loaded.items():
    items = "" if s == "health" else f"{r['items_per_s']:.0f}"
    c1 = g(unloaded, s, "p50_us")
    print(f"{names[s]:<27}{r['calls_per_s']:>9.0f}{items:>10}{r['calls_per_s'] / base:>8.2f}"
          f"{r['p50_us']:>9.0f}{r['p99_us']:>9.0f}{c1:>8.0f}{r['p99_us'] / c1:>10.1f}  {r['errors']}/{r['misses']}")

rows = []
for s, t in targets.items():
    if s in loaded:
        v = loaded[s]["calls_per_s"] / base
        rows.append((f"{names[s]} / baseline calls/s", f"{v:.2f}", f">= {t}", v >= t))
for s in ("put", "get", "query", "batch_write"):
    if s in loaded and s in unloaded:
        p99, c1 = loaded[s]["p99_us"], unloaded[s]["p50_us"]
        rows.append((f"{names[s]} p99 / unloaded p50", f"{p99 / c1:.1f}", "<= 10", p99 <= 10 * c1))
for s in ("put", "get", "query", "batch_write"):
    if s in loaded and (loaded[s]["errors"] or loaded[s]["misses"]):
        rows.append((f"{names[s]} errors/misses", f"{loaded[s]['errors']}/{loaded[s]['misses']}", "0", False))
print()
print(f"{'target':<44}{'measured':>9}  {'target':<7}  result")
for what, m, t, ok in rows:
    print(f"{what:<44}{m:>9}  {t:<7}  {'met' if ok else 'NOT MET'}")
EOF
