#!/usr/bin/env bash
# Runs the objects benchmark (tools/bench/objects_bench.cc): it starts its own
# servers (a monolithic `thingtank serve`; objects alone with a gateway in front,
# microservice mode; a second gateway relaying to its in-process raw gRPC
# baseline), measures both modes through their gateways against the raw
# streaming baseline and the grpc.health.v1 Check rate, and prints the figures
# table (what, figure, baseline, ratio, target, met).
#
# Builds nothing: expects a build with both targets, by default the release one
# (cmake --preset release && cmake --build --preset release --target objects_bench thingtank).
#
# Environment:
#   BUILD_DIR    build tree (default <repo>/build/release; BUILD_DIR=build/dev works too)
#   CONCURRENCY  calls in flight for the 4 KiB rates (default 16)   CHANNELS  connections (default 4)
#   DURATION     measured seconds per closed-loop run (default 3)
#   MODES        mono,micro (default), or one of them; "raw" is the harness calibration
#   PROFILE=1    per-thread CPU of the servers and the bench during each measurement
#   QUICK=1      the short smoke run (small sizes)
#   KEEP_TMP=1   keep the servers' temp dirs (logs)
#   JSON=FILE    also write the figures as JSON
# Extra arguments are passed to objects_bench.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$REPO/build/release}"
[[ "$BUILD_DIR" = /* ]] || BUILD_DIR="$REPO/$BUILD_DIR"
THINGTANK="$BUILD_DIR/tools/thingtank/thingtank"
BENCH="$BUILD_DIR/tools/bench/objects_bench"
SCRIPT_NAME=run_objects_bench
# shellcheck source=tools/bench/lib.sh
source "$REPO/tools/bench/lib.sh"

require_built "objects_bench thingtank" "$THINGTANK" "$BENCH"

args=(--thingtank "$THINGTANK" --modes "${MODES:-mono,micro}"
  --concurrency "${CONCURRENCY:-16}" --channels "${CHANNELS:-4}")
[[ "${QUICK:-0}" == 1 ]] && args+=(--quick)
[[ -n "${DURATION:-}" ]] && args+=(--seconds "$DURATION")
[[ "${PROFILE:-0}" == 1 ]] && args+=(--profile)
[[ -n "${JSON:-}" ]] && args+=(--json "$JSON")

echo "$SCRIPT_NAME: $BENCH ${args[*]} $*" >&2
exec "$BENCH" "${args[@]}" "$@"
