#!/usr/bin/env bash
# The real-Xen acceptance suite's single entry point (ctest and CI call it): builds the boot
# images from BUILD_DIR's outputs, then boots Xen once per scenario and prints a summary.
# Usage: realxen/run-all.sh BUILD_DIR [SCENARIO...]     (no SCENARIO: all, in order)
# Exit status: 0 when every scenario passed; otherwise 1, naming the failures.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:?usage: run-all.sh BUILD_DIR [SCENARIO...]}
shift
scenarios=("$@")
# `profile` is not among the defaults (nor in CI): it needs perf in the domU image
# (XENSND_REALXEN_PERF=1) and asserts nothing.
[[ ${#scenarios[@]} -gt 0 ]] || scenarios=(boot kernel-frontend plugin backend-killed kernel-driver-first unprivileged figures)
images=$build/realxen

for s in "${scenarios[@]}"; do
  [[ -f $here/scenarios/$s.sh ]] || { echo "realxen: no scenario '$s' (see $here/scenarios)" >&2; exit 1; }
done
# The images carry BUILD_DIR's backend and plugin: bring them up to date first, so a stale
# binary never boots (the build is a no-op when nothing changed).
cmake --build "$build" --target xensnd-backend xensnd_alsa_plugin ||
  { echo "realxen: building xensnd-backend and the plugin in $build failed" >&2; exit 1; }
"$here/build-images.sh" "$build" "$images" || { echo "realxen: building the boot images failed" >&2; exit 1; }

rm -f "$images/figures.txt"
start=$(date +%s)
failed=()
summary=()
for s in "${scenarios[@]}"; do
  echo "== realxen scenario $s"
  t0=$(date +%s)
  if "$here/run.sh" "$images" "$s"; then verdict=PASS; else verdict=FAIL; failed+=("$s"); fi
  summary+=("$(printf '%-22s %s %4ss' "$s" "$verdict" $(( $(date +%s) - t0 )))")
  # The figures and profile scenarios print their tables as marker lines; repeat them in the
  # summary.
  [[ $s == figures || $s == profile ]] &&
    grep -a -E 'XENSND-REALXEN: (figure|profile) ' "$images/$s.log" | tr -d '\r' |
    sed -E 's/^.*XENSND-REALXEN: (figure )?/  /' >> "$images/figures.txt"
done
echo "== realxen summary ($(( $(date +%s) - start ))s)"
printf '%s\n' "${summary[@]}"
[[ -s $images/figures.txt ]] && cat "$images/figures.txt"
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "realxen: FAILED: ${failed[*]} (logs in $images/SCENARIO.log)" >&2
  exit 1
fi
