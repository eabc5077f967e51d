#!/usr/bin/env bash
# Builds xensnd's libFuzzer targets (fuzz/, clang-16 with ASan + UBSan, in build-fuzz/) and
# runs each for a bounded time or number of inputs, starting from its seed corpus in
# fuzz/corpus/<target>/. Prints, per target: executions, seconds, crashes, corpus size.
# Exits non-zero when any target crashed (the input is kept in build-fuzz/artifacts/<target>/).
#
# Usage: scripts/fuzz.sh [--seconds-per-target N | --runs N] [--jobs N] [--list] [targets...]
#   CI:        scripts/fuzz.sh --seconds-per-target 8
#   campaign:  nice -n 10 scripts/fuzz.sh --runs 10000000
# The corpus a run grows lives in build-fuzz/corpus/<target>/ (the repository's seeds are
# never modified); a later run continues from it.
set -euo pipefail
cd "$(dirname "$0")/.."

bound=(-max_total_time=10)
bound_text="10 s per target"
jobs=$(nproc)
list=0
targets=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --seconds-per-target) bound=(-max_total_time="$2"); bound_text="$2 s per target"; shift 2 ;;
    --runs) bound=(-runs="$2"); bound_text="$2 inputs per target"; shift 2 ;;
    --jobs) jobs="$2"; shift 2 ;;
    --list) list=1; shift ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done

build=${XENSND_FUZZ_BUILD:-build-fuzz}
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S fuzz -B "$build" -DCMAKE_C_COMPILER=clang-16 -DCMAKE_CXX_COMPILER=clang++-16 "${launcher[@]}" >/dev/null
all=$(sed -n 's/^XENSND_FUZZ_TARGETS:INTERNAL=//p' "$build/CMakeCache.txt" | tr ';' ' ')
if [[ $list -eq 1 ]]; then echo "$all"; exit 0; fi
[[ ${#targets[@]} -eq 0 ]] && read -r -a targets <<<"$all"
[[ ${#targets[@]} -gt 0 ]] || { echo "fuzz.sh: no targets configured in $build" >&2; exit 2; }
for t in "${targets[@]}"; do
  [[ " $all " == *" $t "* ]] || { echo "fuzz.sh: no target '$t' (targets: $all)" >&2; exit 2; }
done
cmake --build "$build" -j"$jobs" --target "${targets[@]}"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
symbolizer=$(command -v llvm-symbolizer-16 || command -v llvm-symbolizer || true)
[[ -n $symbolizer ]] && export ASAN_SYMBOLIZER_PATH=$symbolizer UBSAN_SYMBOLIZER_PATH=$symbolizer
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/fuzz/lsan.supp:print_suppressions=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
echo "== fuzzing: $bound_text"
printf '%-24s %14s %9s %8s %13s\n' target executions seconds crashes corpus
failed=0
for t in "${targets[@]}"; do
  corpus="$build/corpus/$t"
  artifacts="$build/artifacts/$t"
  mkdir -p "$corpus" "$artifacts"
  log="$build/logs/$t.log"
  mkdir -p "$(dirname "$log")"
  count_artifacts() { find "$artifacts" -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | wc -l; }
  artifacts_before=$(count_artifacts)
  seeds=()
  [[ -d fuzz/corpus/$t ]] && seeds=("fuzz/corpus/$t")
  start=$(date +%s)
  status=0
  # -timeout: one input taking longer is a hang (every call under test has a deadline).
  "$build/$t" "${bound[@]}" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$artifacts/" "$corpus" "${seeds[@]}" >"$log" 2>&1 || status=$?
  seconds=$(( $(date +%s) - start ))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  crashes=$(( $(count_artifacts) - artifacts_before ))
  [[ $status -ne 0 && $crashes -eq 0 ]] && crashes=1
  size=$(find "$corpus" -type f | wc -l)
  printf '%-24s %14s %9s %8s %7s inputs\n' "$t" "${execs:-?}" "$seconds" "$crashes" "$size"
  if [[ $status -ne 0 ]]; then
    failed=1
    echo "---- $t failed (exit $status); its log: $log; the input: $artifacts/" >&2
    grep -A30 -m1 -E 'ERROR|invariant does not hold|runtime error|deadly signal' "$log" >&2 || tail -40 "$log" >&2
  fi
done
exit $failed
