#!/usr/bin/env bash
# Runs the queues benchmark (issue 2, section 7) against servers it starts itself:
#   1. the full scenario set against a monolithic `thingtank serve` (through its gateway);
#   2. SendMessage + health baseline direct to a standalone queues server, through a
#      microservice-mode gateway in front of that server, and against the monolith;
# then prints a summary table with the issue's targets, met or not met.
#
# Builds nothing: expects a release build (cmake --preset release &&
# cmake --build --preset release --target queues_bench thingtank).
#
# Environment:
#   BUILD_DIR    build tree (default <repo>/build/release)
#   CONCURRENCY  outstanding calls (default 32)      CHANNELS  connections (default 4)
#   DURATION     measured seconds per scenario (default 3)
#   PROFILE=1    sample per-thread CPU (/proc/<pid>/task, like top -H) of the servers and
#                the load generator during each scenario and print the busiest threads
#   KEEP_TMP=1   keep the temp dir (server logs, JSON results)
# Extra arguments are passed to every queues_bench invocation.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$REPO/build/release}"
THINGTANK="$BUILD_DIR/tools/thingtank/thingtank"
BENCH="$BUILD_DIR/tools/bench/queues_bench"
CONCURRENCY="${CONCURRENCY:-32}"
CHANNELS="${CHANNELS:-4}"
DURATION="${DURATION:-3}"
PROFILE="${PROFILE:-0}"
SCRIPT_NAME=run_queues_bench
# shellcheck source=tools/bench/lib.sh
source "$REPO/tools/bench/lib.sh"

require_built "queues_bench thingtank" "$THINGTANK" "$BENCH"
make_tmp queues-bench

# bench LABEL CONCURRENCY ENDPOINT SCENARIOS NAME=PID...: one queues_bench process per
# scenario, results in $TMP/LABEL.SCENARIO.json.
bench() {
  local label="$1" conc="$2" endpoint="$3" scenarios="$4" scenario bench_pid sampler
  shift 4
  echo "== $label ($endpoint, concurrency $conc)" >&2
  for scenario in ${scenarios//,/ }; do
    local out="$TMP/$label.$scenario.json"
    "$BENCH" --endpoint "$endpoint" --scenario "$scenario" --label "$label" \
      --concurrency "$conc" --channels "$CHANNELS" --seconds "$DURATION" --json \
      "${BENCH_ARGS[@]}" >"$out" &
    bench_pid=$!
    sampler=""
    if [[ "$PROFILE" == 1 ]]; then
      thread_cpu "$TMP/$label.$scenario.cpu" "$@" "bench=$bench_pid" &
      sampler=$!
    fi
    local rc=0
    wait "$bench_pid" || rc=$?
    if [[ -n "$sampler" ]]; then
      kill -TERM "$sampler" 2>/dev/null || true
      wait "$sampler" 2>/dev/null || true
    fi
    if ((rc != 0)); then
      echo "run_queues_bench: queues_bench $scenario against $label failed (exit $rc)" >&2
      exit 1
    fi
    "$PY" - "$out" <<'PYEOF' >&2
import json, sys
for r in json.load(open(sys.argv[1]))["results"]:
    extra = ""
    if r["errors"]: extra += f"  errors {r['errors']}"
    if r["empty_receives"]: extra += f"  empty receives {r['empty_receives']}"
    if r["first_error"]: extra += f"  first error: {r['first_error']}"
    print(f"   {r['scenario']:<12} c={r['concurrency']:<3} calls/s {r['calls_per_s']:>9.0f}  "
          f"msgs/s {r['msgs_per_s']:>9.0f}  p50 {r['p50_us']:>8.1f} us  p99 {r['p99_us']:>8.1f} us"
          f"  (per {r['latency_of']}){extra}")
PYEOF
    if [[ -s "$TMP/$label.$scenario.cpu" ]]; then
      echo "     busiest threads (process:thread, share of one core):" >&2
      cat "$TMP/$label.$scenario.cpu" >&2
    fi
  done
}

BENCH_ARGS=("$@")

echo "run_queues_bench: starting servers (data under $TMP)" >&2
start_server mono "$TMP/mono" --gateway-port 0 --metrics-port 0 --wamp-ws-port 0
MONO_PID=$LAST_PID
start_server queues "$TMP/queues" --services=queues --queues-port 0 --metrics-port 0 --wamp-ws-port 0
QUEUES_PID=$LAST_PID
MONO_PORT="$(port_of "$TMP/mono" gateway "$MONO_PID")"
QUEUES_PORT="$(port_of "$TMP/queues" queues "$QUEUES_PID")"
start_server gateway "$TMP/gateway" --services=gateway --backends="queues=127.0.0.1:$QUEUES_PORT" \
  --gateway-port 0 --metrics-port 0 --wamp-ws-port 0
GATEWAY_PID=$LAST_PID
GATEWAY_PORT="$(port_of "$TMP/gateway" gateway "$GATEWAY_PID")"
echo "run_queues_bench: monolithic :$MONO_PORT (pid $MONO_PID), standalone queues :$QUEUES_PORT" \
  "(pid $QUEUES_PID), microservice gateway :$GATEWAY_PORT (pid $GATEWAY_PID)" >&2
echo "run_queues_bench: concurrency $CONCURRENCY over $CHANNELS channels, $DURATION s per scenario" >&2

C="$CONCURRENCY"
bench monolithic "$C" "127.0.0.1:$MONO_PORT" health,send,send_batch,cycle,cycle_batch,longpoll "mono=$MONO_PID"
# Gateway cost: the same calls back to back against the three set-ups, under load
# (throughput ratios) and at concurrency 1 (added latency without queueing: in a
# closed loop at concurrency C, p50 ~ C / throughput, so the loaded p50 difference
# mostly restates the throughput ratio).
bench standalone "$C" "127.0.0.1:$QUEUES_PORT" health,send "queues=$QUEUES_PID"
bench microservice "$C" "127.0.0.1:$GATEWAY_PORT" health,send "gateway=$GATEWAY_PID" "queues=$QUEUES_PID"
bench monolithic-cmp "$C" "127.0.0.1:$MONO_PORT" health,send "mono=$MONO_PID"
bench standalone-c1 1 "127.0.0.1:$QUEUES_PORT" health,send "queues=$QUEUES_PID"
bench microservice-c1 1 "127.0.0.1:$GATEWAY_PORT" health,send "gateway=$GATEWAY_PID" "queues=$QUEUES_PID"

"$PY" - "$TMP" <<'EOF'
import json, os, sys
tmp = sys.argv[1]
import glob
def load(label):
    out = {}
    for s in ("health", "send", "send_batch", "cycle", "cycle_batch", "longpoll"):
        p = os.path.join(tmp, f"{label}.{s}.json")
        if os.path.exists(p):
            for r in json.load(open(p))["results"]:
                out[r["scenario"]] = r
    return out
mono, sa, ms, mc = load("monolithic"), load("standalone"), load("microservice"), load("monolithic-cmp")
sa1, ms1 = load("standalone-c1"), load("microservice-c1")

def g(d, s, k):
    return d.get(s, {}).get(k, float("nan"))

rows = []  # (what, measured text, target text, met)
def row(what, value, fmt, target, ok):
    rows.append((what, fmt.format(value), target, "met" if ok else "NOT MET"))

print()
print("Queues benchmark (monolithic gateway unless noted; c = concurrency)")
print(f"{'scenario':<34}{'calls/s':>10}{'msgs/s':>10}{'p50 us':>10}{'p99 us':>10}")
for label, d in (("monolithic", mono), ("standalone", sa), ("microservice gw", ms), ("monolithic (cmp)", mc),
                 ("standalone", sa1), ("microservice gw", ms1)):
    for s, r in d.items():
        print(f"{label + ' ' + s + ' c=' + str(r['concurrency']):<34}{r['calls_per_s']:>10.0f}{r['msgs_per_s']:>10.0f}{r['p50_us']:>10.1f}{r['p99_us']:>10.1f}"
              + (f"  errors={r['errors']}" if r['errors'] else ""))

v = g(mono, "send_batch", "msgs_per_s"); row("SendMessageBatch msgs/s", v, "{:,.0f}", ">= 30,000", v >= 30000)
v = g(mono, "cycle", "msgs_per_s"); row("send-receive-delete msgs/s", v, "{:,.0f}", ">= 8,000", v >= 8000)
v = g(mono, "cycle_batch", "msgs_per_s"); row("send-receive-delete batched msgs/s", v, "{:,.0f}", ">= 25,000", v >= 25000)
v = g(mono, "longpoll", "p99_us") / 1000; row("long-poll wake-up p99 ms", v, "{:.2f}", "<= 2 ms", v <= 2)
# Issue 11: the fast path, as ratios to the health baseline of the same run
# (messages per baseline call for the cycles; the unbatched cycle is three calls).
base = g(mono, "health", "calls_per_s")
v = g(mono, "send", "calls_per_s") / base; row("SendMessage / health", v, "{:.2f}", ">= 0.5", v >= 0.5)
v = g(mono, "cycle", "msgs_per_s") / base; row("cycle msgs / health call", v, "{:.3f}", ">= 0.17", v >= 0.17)
v = g(mono, "cycle_batch", "msgs_per_s") / base; row("batched cycle msgs / health call", v, "{:.2f}", ">= 1.0", v >= 1.0)
ratio = g(ms, "send", "calls_per_s") / g(sa, "send", "calls_per_s")
row("microservice gw / direct (Send)", ratio, "{:.2f}", ">= 0.45", ratio >= 0.45)
added = g(ms1, "send", "p50_us") - g(sa1, "send", "p50_us")
row("microservice gw added p50 us (Send, c=1)", added, "{:.0f}", "<= 150", added <= 150)
added = g(ms, "send", "p50_us") - g(sa, "send", "p50_us")
row(f"  same under load (Send, c={g(ms, 'send', 'concurrency')})", added, "{:.0f}", "<= 150", added <= 150)
ratio = g(mc, "send", "calls_per_s") / g(sa, "send", "calls_per_s")
row("monolithic / standalone (Send)", ratio, "{:.2f}", ">= 0.9", ratio >= 0.9)
# Informational: the same ratios for the health baseline (pure RPC overhead).
hr = g(ms, "health", "calls_per_s") / g(sa, "health", "calls_per_s")
ha = g(ms, "health", "p50_us") - g(sa, "health", "p50_us")
hm = g(mc, "health", "calls_per_s") / g(sa, "health", "calls_per_s")

print()
print(f"{'target':<40}{'measured':>12}  {'target':<10}  result")
for what, m, t, ok in rows:
    print(f"{what:<40}{m:>12}  {t:<10}  {ok}")
ha1 = g(ms1, "health", "p50_us") - g(sa1, "health", "p50_us")
print(f"(health baseline, informational: micro gw/direct {hr:.2f}, added p50 {ha:.0f} us (c=1: {ha1:.0f} us), mono/standalone {hm:.2f};")
print(f" Send vs health on the monolith: {g(mono, 'send', 'calls_per_s') / g(mono, 'health', 'calls_per_s'):.2f} of baseline throughput)")
EOF
