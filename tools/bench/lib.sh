# Shared by run_queues_bench.sh and run_tables_bench.sh (sourced, not run): the
# python interpreter, the build check, the temp dir with cleanup of the started
# processes, starting `thingtank serve`, reading its ports.json, and per-thread
# CPU sampling.
#
# The sourcing script sets (before sourcing) SCRIPT_NAME (the prefix of messages) and
# THINGTANK (the thingtank binary), and runs under `set -euo pipefail`.

PY=/usr/bin/python3
[[ -x "$PY" ]] || PY=python3

# require_built TARGETS FILE...: exits 2 unless every FILE is executable;
# TARGETS is what to build (for the message).
require_built() {
  local targets="$1" f
  shift
  for f in "$@"; do
    if [[ ! -x "$f" ]]; then
      echo "$SCRIPT_NAME: $f not found; build first:" >&2
      echo "  cmake --preset release && cmake --build --preset release --target $targets" >&2
      exit 2
    fi
  done
}

# make_tmp PREFIX: sets TMP to a new temp dir and PIDS=(); on exit, every pid in
# PIDS is stopped (SIGTERM, SIGKILL after 10 s) and TMP removed (kept with KEEP_TMP=1).
make_tmp() {
  TMP="$(mktemp -d "/tmp/$1.XXXXXX")"
  PIDS=()
  trap cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

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
      echo "$SCRIPT_NAME: process $pid did not stop after SIGTERM; sending SIGKILL" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
  done
  if [[ "${KEEP_TMP:-0}" == 1 ]]; then
    echo "$SCRIPT_NAME: kept $TMP" >&2
  else
    rm -rf "$TMP"
  fi
}

# start_server NAME DATA_DIR ARGS... ; log in $TMP/NAME.log; sets LAST_PID
start_server() {
  local name="$1" dir="$2"
  shift 2
  mkdir -p "$dir"
  "$THINGTANK" serve --data-dir "$dir" "$@" >"$TMP/$name.log" 2>&1 &
  LAST_PID=$!
  PIDS+=("$LAST_PID")
}

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
      echo "$SCRIPT_NAME: server (pid $pid) exited; its log:" >&2
      cat "$TMP"/*.log >&2 || true
      return 1
    fi
    sleep 0.1
  done
  echo "$SCRIPT_NAME: no '$key' port in $dir/ports.json after 30 s" >&2
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

# profile_window SCENARIO ERR BENCH_PID END_MARKER: with PROFILE=1 samples the
# per-thread CPU of $SERVER_PID and BENCH_PID into $TMP/SCENARIO.cpu until ERR
# shows END_MARKER; with PERF=1 perf-records $SERVER_PID for $PERF_SECONDS into
# $TMP/SCENARIO.perf. Call it when the measured window starts.
profile_window() {
  local scenario="$1" err="$2" bench_pid="$3" end_marker="$4" sampler="" perf_pid=""
  if [[ "$PROFILE" == 1 ]]; then
    thread_cpu "$TMP/$scenario.cpu" "server=$SERVER_PID" "bench=$bench_pid" &
    sampler=$!
  fi
  if [[ "$PERF" == 1 ]]; then
    perf record -F 999 --call-graph "${PERF_CALL_GRAPH:-fp}" -o "$TMP/$scenario.perf" -p "$SERVER_PID" -- sleep "$PERF_SECONDS" \
      >"$TMP/$scenario.perf.log" 2>&1 &
    perf_pid=$!
  fi
  if [[ -n "$sampler" ]]; then
    wait_marker "$err" "$end_marker" "$bench_pid" || true
    kill -TERM "$sampler" 2>/dev/null || true
    wait "$sampler" 2>/dev/null || true
  fi
  [[ -n "$perf_pid" ]] && { wait "$perf_pid" 2>/dev/null || true; }
  return 0
}

# print_profile SCENARIO: what profile_window collected, if anything.
print_profile() {
  local scenario="$1"
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
