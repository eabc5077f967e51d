#!/usr/bin/env bash
# Builds xensnd's libFuzzer targets (fuzz/, clang-16 with ASan + UBSan, in build-fuzz/) and
# runs each for a bounded time or number of inputs, starting from its seed corpus in
# fuzz/corpus/<target>/. Prints, per target: executions, seconds, crashes, corpus size.
# Exits non-zero when any target crashed (the input is kept in build-fuzz/artifacts/<target>/).
#
# Usage: scripts/fuzz.sh [--seconds-per-target N | --runs N | --campaign N] [--jobs N]
#                        [--worker NAME] [--ledger] [--list] [targets...]
#   CI:        scripts/fuzz.sh --seconds-per-target 5
#   campaign:  nice -n 10 scripts/fuzz.sh --campaign 10000000
#   --campaign N  runs each target in chunks of at most 1 million inputs until the ledger
#                 holds N executions of the binary built now; stopped and started again,
#                 it goes on from there (a chunk cut short counts nothing)
#   --worker NAME another campaign process of the same targets (on another core): its
#                 logs are <target>.NAME.log; the binary, corpus and ledger are shared (a
#                 second build directory would not do: the binary's hash names its path)
#   --ledger      prints, per target, the executions the ledger holds for the binary built
#                 now, and runs nothing
# Every finished campaign chunk is appended to the ledger, fuzz/campaign.tsv (in the
# repository, so that a campaign goes on across machines: commit it): time, commit, the
# binary's SHA-256, target, executions, seconds, crashes. A binary is the code it tests
# (clang-16 from Debian 12 builds the same code into the same bytes), so executions add up
# only while its hash stays the same. Other runs (CI's, --runs) go to build-fuzz/runs.tsv.
# The corpus a run grows lives in build-fuzz/corpus/<target>/ (the repository's seeds are
# never modified); a later run continues from it.
set -euo pipefail
cd "$(dirname "$0")/.."

bound=(-max_total_time=10)
bound_text="10 s per target"
jobs=$(nproc)
list=0
worker=""
ledger_only=0
campaign=0
targets=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --seconds-per-target) bound=(-max_total_time="$2"); bound_text="$2 s per target"; shift 2 ;;
    --runs) bound=(-runs="$2"); bound_text="$2 inputs per target"; shift 2 ;;
    --campaign) campaign="$2"; bound_text="a campaign of $2 inputs per target"; shift 2 ;;
    --jobs) jobs="$2"; shift 2 ;;
    --worker) worker=".$2"; shift 2 ;;
    --ledger) ledger_only=1; shift ;;
    --list) list=1; shift ;;
    -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
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
ledger=fuzz/campaign.tsv
[[ $campaign -gt 0 || $ledger_only -eq 1 ]] || ledger="$build/runs.tsv"
commit=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
[[ -n $(git status --porcelain --untracked-files=no 2>/dev/null) ]] && commit+="+changes"
binary_hash() { sha256sum "$build/$1" | cut -c1-16; }
# Executions, seconds, crashes and runs the ledger holds for target $1 built as hash $2.
ledger_totals() {
  [[ -f $ledger ]] || { echo "0 0 0 0"; return; }
  awk -F'\t' -v t="$1" -v h="$2" '$4 == t && $3 == h { e += $5; s += $6; c += $7; n++ }
    END { printf "%d %d %d %d\n", e, s, c, n }' "$ledger"
}

if [[ $ledger_only -eq 1 ]]; then
  echo "== the ledger ($ledger), runs of the binaries built now"
  printf '%-24s %14s %9s %8s %6s  %s\n' target executions seconds crashes runs binary
  for t in "${targets[@]}"; do
    read -r e s c n < <(ledger_totals "$t" "$(binary_hash "$t")")
    printf '%-24s %14s %9s %8s %6s  %s\n' "$t" "$e" "$s" "$c" "$n" "$(binary_hash "$t")"
  done
  exit 0
fi

echo "== fuzzing: $bound_text"
printf '%-24s %14s %9s %8s %13s\n' target executions seconds crashes corpus
failed=0
# One libFuzzer run of target $1 with the bound in the remaining arguments; prints its row,
# appends it to the ledger; returns non-zero when it crashed.
run_target() {
  local t=$1; shift
  local corpus="$build/corpus/$t" artifacts="$build/artifacts/$t" log="$build/logs/$t$worker.log"
  mkdir -p "$corpus" "$artifacts" "$(dirname "$log")"
  count_artifacts() { find "$artifacts" -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | wc -l; }
  local artifacts_before seeds=() start status=0 seconds execs crashes size
  artifacts_before=$(count_artifacts)
  # The binary that runs, hashed before it runs: a rebuild meanwhile (another fuzz.sh
  # starting) must not have this chunk counted for the new binary.
  local hash
  hash=$(binary_hash "$t")
  [[ -d fuzz/corpus/$t ]] && seeds=("fuzz/corpus/$t")
  start=$(date +%s)
  # -timeout: one input taking longer is a hang (every call under test has a deadline).
  "$build/$t" "$@" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$artifacts/" "$corpus" "${seeds[@]}" >"$log" 2>&1 || status=$?
  seconds=$(( $(date +%s) - start ))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  crashes=$(( $(count_artifacts) - artifacts_before ))
  [[ $status -ne 0 && $crashes -eq 0 ]] && crashes=1
  size=$(find "$corpus" -type f | wc -l)
  printf '%-24s %14s %9s %8s %7s inputs\n' "$t" "${execs:-?}" "$seconds" "$crashes" "$size"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$commit" "$hash" "$t" \
      "${execs:-0}" "$seconds" "$crashes" >>"$ledger"
  if [[ $status -ne 0 ]]; then
    echo "---- $t failed (exit $status); its log: $log; the input: $artifacts/" >&2
    grep -A30 -m1 -E 'ERROR|invariant does not hold|runtime error|deadly signal' "$log" >&2 || tail -40 "$log" >&2
    return 1
  fi
}

for t in "${targets[@]}"; do
  if [[ $campaign -gt 0 ]]; then
    hash=$(binary_hash "$t")
    while true; do
      read -r done_execs _ done_crashes _ < <(ledger_totals "$t" "$hash")
      [[ $done_crashes -eq 0 ]] || { failed=1; echo "---- $t: the ledger holds a crash of this binary" >&2; break; }
      left=$(( campaign - done_execs ))
      [[ $left -gt 0 ]] || break
      run_target "$t" -runs=$(( left < 1000000 ? left : 1000000 )) || { failed=1; break; }
    done
    read -r e s c n < <(ledger_totals "$t" "$hash")
    printf '%-24s %14s %9s %8s %6s runs in all (the ledger, binary %s)\n' "$t" "$e" "$s" "$c" "$n" "$hash"
  else
    run_target "$t" "${bound[@]}" || failed=1
  fi
done
exit $failed
