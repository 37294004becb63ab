#!/usr/bin/env bash
# Quick start: installs what is missing, builds (release), and runs
# `thingtank serve` with data in ./data. Extra arguments go to `thingtank serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release --target thingtank
exec build/release/tools/thingtank/thingtank serve "$@"
