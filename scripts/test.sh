#!/usr/bin/env bash
# The README's test command: installs what is missing, builds xensnd twice (normal, and with
# AddressSanitizer + UndefinedBehaviorSanitizer) and runs every test suite in both builds.
# Usage: scripts/test.sh [ctest arguments...]    e.g. scripts/test.sh -L unit
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
jobs=$(nproc)

for variant in build build-asan; do
  sanitize=OFF
  [[ $variant == build-asan ]] && sanitize=ON
  start=$SECONDS
  cmake -S . -B "$variant" -DXENSND_SANITIZE=$sanitize >/dev/null
  cmake --build "$variant" -j"$jobs"
  echo "== $variant built in $((SECONDS - start)) s"
done

echo "== tests (normal build)"
ctest --test-dir build --output-on-failure --no-tests=error -LE 'realxen|pending' -j"$jobs" "$@"
echo "== tests (ASan + UBSan build)"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure --no-tests=error -LE 'realxen|nosanitize|pending' -j"$jobs" "$@"
echo "== ThreadSanitizer: unit tests and several PCMs and cards in one process (build-tsan)"
cmake -S . -B build-tsan -DXENSND_TSAN=ON >/dev/null
cmake --build build-tsan -j"$jobs" --target xensnd_unit_tests xensnd_plugin_unit_tests xensnd_e2e_concurrency_tests
TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
  ctest --test-dir build-tsan --output-on-failure --no-tests=error -L 'unit|concurrency' -j"$jobs" "$@"
