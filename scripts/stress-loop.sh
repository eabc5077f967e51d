#!/usr/bin/env bash
# The bar for a real-time test: RUNS runs in a row with the other core busy (stress-ng --cpu 1).
# Runs the ctest selection given after `--` RUNS times against BUILD, stops at the first failure,
# and prints how many runs in a row were clean (exit 0 only when all were).
#
# Usage: scripts/stress-loop.sh [--runs N] [--build DIR] -- CTEST_ARGS...
#   scripts/stress-loop.sh --runs 50 -- -R 'soundserver.LatencyMs/PulseAudioShipped.PaplayAtLatency/Default'
set -euo pipefail
cd "$(dirname "$0")/.."
runs=50
build=build
while [[ $# -gt 0 ]]; do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    --build) build="$2"; shift 2 ;;
    --) shift; break ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) echo "stress-loop.sh: unknown option $1 (ctest arguments go after --)" >&2; exit 2 ;;
  esac
done
[[ $# -gt 0 ]] || { echo "stress-loop.sh: no ctest selection after --" >&2; exit 2; }
command -v stress-ng >/dev/null || { echo "stress-loop.sh: stress-ng is not installed (apt-get install stress-ng)" >&2; exit 2; }
[[ -f "$build/CTestTestfile.cmake" ]] || { echo "stress-loop.sh: $build is not a configured build" >&2; exit 2; }

stress-ng --cpu 1 --timeout 0 --quiet &
stress=$!
trap 'kill "$stress" 2>/dev/null; wait "$stress" 2>/dev/null || true' EXIT
log_dir=$(mktemp -d /tmp/xensnd-stress-loop-XXXXXX)
clean=0
for ((i = 1; i <= runs; i++)); do
  if ctest --test-dir "$build" --no-tests=error --output-on-failure "$@" >"$log_dir/run-$i.log" 2>&1; then
    clean=$i
    echo "run $i: clean ($(date +%H:%M:%S))"
  else
    echo "run $i: FAILED; its log: $log_dir/run-$i.log"
    grep -E "\*\*\*Failed|Failed|Timeout" "$log_dir/run-$i.log" | head -5 || true
    break
  fi
done
echo "$clean of $runs runs clean in a row with stress-ng --cpu 1"
[[ $clean -eq $runs ]]
