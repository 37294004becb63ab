#!/usr/bin/env bash
# Runs the WAMP router benchmark (the WAMP router issue, "Benchmark") against a monolithic
# `thingtank serve` it starts itself (ports 0, temp data dir, open file limit raised to
# the hard limit): fan-out 1 -> SUBSCRIBERS, one-to-one, routed RPC, publish-to-event
# latency at half the one-to-one rate, and SESSIONS idle sessions (server RSS); then
# prints a summary table with the issue's targets, met or not met.
#
# Builds nothing: expects a release build (cmake --preset release &&
# cmake --build --preset release --target wamp_bench thingtank).
#
# Environment:
#   BUILD_DIR    build tree (default <repo>/build/release)
#   DURATION     measured seconds per scenario (default 3)   WARMUP  seconds before (default 1)
#   SCENARIOS    default fanout,one_to_one,rpc,latency,idle
#   SUBSCRIBERS  fan-out subscribers (default 100)            WINDOW  events in flight per subscriber (1000)
#   CALLERS      caller sessions (default 4)                  OUTSTANDING  calls in flight in total (32)
#   SESSIONS     idle sessions (default 10000)                THREADS  wamp_bench io threads (default 1)
#   RATE         latency scenario events/s (default: half the measured one_to_one rate); the
#                publisher sends what is due every millisecond (wamp_bench --tick-us to change)
#   PROFILE=1    sample per-thread CPU (/proc/<pid>/task, like top -H) of the server and
#                the load generator during each scenario and print the busiest threads
#   PERF=1       `perf record -g` the server for PERF_SECONDS (default 3) of each scenario
#                and print the top symbols (perf report --no-children --sort dso,sym)
#   JSON_OUT     also write every scenario's results to this file (one JSON document)
#   KEEP_TMP=1   keep the temp dir (server log, JSON results, perf data)
# Extra arguments are passed to every wamp_bench invocation (e.g. --payload-bytes 100).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$REPO/build/release}"
THINGTANK="$BUILD_DIR/tools/thingtank/thingtank"
BENCH="$BUILD_DIR/tools/bench/wamp_bench"
DURATION="${DURATION:-3}"
WARMUP="${WARMUP:-1}"
SCENARIOS="${SCENARIOS:-fanout,one_to_one,rpc,latency,idle}"
SUBSCRIBERS="${SUBSCRIBERS:-100}"
WINDOW="${WINDOW:-1000}"
CALLERS="${CALLERS:-4}"
OUTSTANDING="${OUTSTANDING:-32}"
SESSIONS="${SESSIONS:-10000}"
THREADS="${THREADS:-1}"
RATE="${RATE:-0}"
PROFILE="${PROFILE:-0}"
PERF="${PERF:-0}"
PERF_SECONDS="${PERF_SECONDS:-3}"
JSON_OUT="${JSON_OUT:-}"
SCRIPT_NAME=run_wamp_bench
# shellcheck source=tools/bench/lib.sh
source "$REPO/tools/bench/lib.sh"

require_built "wamp_bench thingtank" "$THINGTANK" "$BENCH"
if [[ "$PERF" == 1 ]] && ! command -v perf >/dev/null; then
  echo "run_wamp_bench: PERF=1 needs perf" >&2
  exit 2
fi

# Every session is a descriptor on both sides: the server (started below) and
# wamp_bench inherit the raised limit.
ulimit -n "$(ulimit -Hn)"
if (($(ulimit -n) < SESSIONS + 100)); then
  echo "run_wamp_bench: warning: open file limit $(ulimit -n) is below $SESSIONS sessions" >&2
fi

make_tmp wamp-bench

# bench SCENARIO: one wamp_bench process per scenario, results in $TMP/SCENARIO.json.
bench() {
  local scenario="$1" bench_pid extra=()
  local out="$TMP/$scenario.json" err="$TMP/$scenario.err"
  if [[ "$scenario" == latency ]]; then
    local rate="$RATE"
    if [[ "$rate" == 0 && -s "$TMP/one_to_one.json" ]]; then
      rate="$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["results"][0]["value"] / 2)' \
        "$TMP/one_to_one.json")"
    fi
    extra+=(--rate "$rate")
  fi
  echo "== $scenario (ws://127.0.0.1:$PORT/ws)" >&2
  "$BENCH" --port "$PORT" --scenario "$scenario" --seconds "$DURATION" --warmup "$WARMUP" \
    --threads "$THREADS" --subscribers "$SUBSCRIBERS" --window "$WINDOW" --callers "$CALLERS" \
    --outstanding "$OUTSTANDING" --sessions "$SESSIONS" --server-pid "$SERVER_PID" \
    --json "$out" "${extra[@]}" "${BENCH_ARGS[@]}" >"$TMP/$scenario.out" 2>"$err" &
  bench_pid=$!
  PIDS+=("$bench_pid")
  # The measured window runs from "measuring" to "measured" on wamp_bench's stderr.
  if [[ "$PROFILE" == 1 || "$PERF" == 1 ]] && wait_marker "$err" "measuring" "$bench_pid"; then
    profile_window "$scenario" "$err" "$bench_pid" "measured"
  fi
  local rc=0
  wait "$bench_pid" || rc=$?
  sed 's/^/   /' "$TMP/$scenario.out" >&2
  grep -v "^measur" "$err" | sed 's/^/   /' >&2 || true
  if ((rc != 0)); then
    echo "run_wamp_bench: wamp_bench $scenario exited $rc (errors above)" >&2
  fi
  print_profile "$scenario"
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "run_wamp_bench: the server exited during $scenario; its log:" >&2
    tail -50 "$TMP/server.log" >&2 || true
    exit 1
  fi
}

BENCH_ARGS=("$@")

echo "run_wamp_bench: starting a monolithic server (data under $TMP, open files $(ulimit -n))" >&2
start_server server "$TMP/data" --gateway-port 0 --metrics-port 0 --wamp-ws-port 0
SERVER_PID=$LAST_PID
PORT="$(port_of "$TMP/data" wamp_ws "$SERVER_PID")"
echo "run_wamp_bench: WAMP WebSocket :$PORT (pid $SERVER_PID); $DURATION s per scenario," \
  "$SUBSCRIBERS subscribers, $OUTSTANDING calls over $CALLERS callers, $SESSIONS idle sessions," \
  "$THREADS bench io thread(s), $(nproc) cores" >&2

for s in ${SCENARIOS//,/ }; do bench "$s"; done

"$PY" - "$TMP" "$JSON_OUT" <<'EOF'
import json, math, os, sys
tmp, json_out = sys.argv[1], sys.argv[2]
res = {}
for s in ("fanout", "one_to_one", "rpc", "latency", "idle"):
    p = os.path.join(tmp, f"{s}.json")
    if os.path.exists(p):
        for r in json.load(open(p))["results"]:
            res.setdefault(r["scenario"], r)
if json_out:
    json.dump({"results": list(res.values())}, open(json_out, "w"), indent=2)

def num(v):
    return float("nan") if v is None else v

rows = []
def row(what, measured, fmt, target_text, ok, r):
    notes = []
    if r.get("errors"): notes.append(f"errors {r['errors']}: {r['first_error'][:80]}")
    if r.get("lost"): notes.append(f"lost {r['lost']}")
    rows.append((what, fmt.format(measured), target_text, ok and not r.get("errors"), "; ".join(notes)))

if "fanout" in res:
    r = res["fanout"]; v = num(r["value"])
    row(f"fan-out 1->{r.get('subscribers', '?')} deliveries/s", v, "{:.0f}", ">= 100000", v >= 100000, r)
if "one_to_one" in res:
    r = res["one_to_one"]; v = num(r["value"])
    row("one-to-one events/s", v, "{:.0f}", ">= 30000", v >= 30000, r)
if "rpc" in res:
    r = res["rpc"]; v = num(r["value"])
    row(f"routed RPC calls/s ({r.get('outstanding', '?')} in flight)", v, "{:.0f}", ">= 15000", v >= 15000, r)
if "latency" in res:
    r = res["latency"]
    rate = r.get("target_rate", float("nan"))
    row(f"publish->event p50 us at {rate:.0f}/s", num(r["p50_us"]), "{:.0f}", "(info)", True, r)
    p99 = num(r["p99_us"])
    row(f"publish->event p99 us at {rate:.0f}/s", p99, "{:.0f}", "<= 5000", p99 <= 5000, r)
if "idle" in res:
    r = res["idle"]; v = num(r["value"])
    n = r.get("sessions_requested", 0)
    row(f"idle sessions welcomed", r["count"], "{}", f"= {n}", r["count"] == n, r)
    row(f"server RSS MB with {r['count']} sessions", v, "{:.0f}", "<= 500", v <= 500, r)
    if "server_rss_growth_mb" in r:
        g = r["server_rss_growth_mb"]
        print(f"idle: server RSS {r['server_rss_before_mb']:.0f} -> {v:.0f} MB (+{g:.0f} MB, "
              f"{r['server_kb_per_session']:.1f} KiB/session); {r['sessions_per_s']:.0f} sessions/s opened")

# CPU in each measured window, from wamp_bench: a busy machine skews every figure.
shares = [(s, r.get("server_cpu_cores", float("nan")), r.get("bench_cpu_cores", float("nan")),
           r.get("irq_cpu_cores", float("nan")), r.get("other_cpu_cores", float("nan"))) for s, r in res.items()]
busy = [f"{s} {o:.2f}" for s, _, _, _, o in shares if o > 0.2]
print()
if shares:
    print("CPU in each measured window (cores; irq = softirq, mostly the loopback TCP traffic): " +
          "; ".join(f"{s}: server {a:.2f} bench {b:.2f} irq {i:.2f} other processes {o:.2f}"
                    for s, a, b, i, o in shares))
if busy:
    print(f"WARNING: other processes used CPU during the runs ({', '.join(busy)} cores of "
          f"{os.cpu_count()}): the figures understate the router")
print("WAMP router benchmark, monolithic `thingtank serve`, wamp.2.json, load on the same machine")
print(f"{'scenario':<46}{'measured':>10}  {'target':<10}  result")
for what, m, t, ok, notes in rows:
    print(f"{what:<46}{m:>10}  {t:<10}  {'met' if ok else 'NOT MET'}{'  (' + notes + ')' if notes else ''}")
EOF
