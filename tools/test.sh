#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds (dev preset), runs the
# unit tests, the integration tests (real servers, C++ and Python generated
# clients, crash tests) and buf lint, then prints a pass/fail summary.
#   tools/test.sh            everything
#   tools/test.sh -L unit    only ctest label "unit" (extra args go to ctest)
set -uo pipefail
cd "$(dirname "$0")/.."
PRESET=${THINGTANK_TEST_PRESET:-dev}
start=$(date +%s)
declare -A result

tools/setup.sh || { echo "FAIL: setup"; exit 1; }
if cmake --preset "$PRESET" >/dev/null && cmake --build --preset "$PRESET"; then
  result[build]=PASS
else
  result[build]=FAIL
fi

if [ "${result[build]}" = PASS ]; then
  if ctest --preset "$PRESET" --output-on-failure -j2 "$@"; then
    result[ctest]=PASS
  else
    result[ctest]=FAIL
  fi
else
  result[ctest]=SKIPPED
fi

if node_modules/.bin/buf lint; then result[buf_lint]=PASS; else result[buf_lint]=FAIL; fi

echo
echo "==================== ThingTank test summary ===================="
status=0
for k in build ctest buf_lint; do
  printf '  %-10s %s\n' "$k" "${result[$k]}"
  [ "${result[$k]}" = PASS ] || status=1
done
echo "  time       $(( $(date +%s) - start ))s"
if [ $status -eq 0 ]; then echo "  RESULT     PASS"; else echo "  RESULT     FAIL"; fi
echo "================================================================"
exit $status
