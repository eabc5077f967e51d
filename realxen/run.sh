#!/usr/bin/env bash
# Boots the real Xen 4.17 hypervisor under QEMU (software emulation, no network device) with
# dom0 running one scenario, and exits with the scenario's result.
# Usage: realxen/run.sh IMAGES_DIR SCENARIO [LOG]
#   IMAGES_DIR  what build-images.sh made; LOG defaults to IMAGES_DIR/SCENARIO.log
# Environment: REALXEN_TIMEOUT (seconds for the whole boot, default 420),
#              REALXEN_TRACE=1 (backend at trace level, a mismatching recording dumped in base64;
#              2 also logs every XenStore change of the vsnd device),
# Exit status: 0 PASS, 1 FAIL (reason printed), 2 could not run (reason printed).
set -uo pipefail
images=${1:?usage: run.sh IMAGES_DIR SCENARIO [LOG]}
scenario=${2:?usage: run.sh IMAGES_DIR SCENARIO [LOG]}
log=${3:-$images/$scenario.log}
limit=${REALXEN_TIMEOUT:-420}
MARK=XENSND-REALXEN

for f in xen vmlinuz dom0.cpio.gz; do
  [[ -f $images/$f ]] || { echo "realxen: $images/$f missing: run realxen/build-images.sh first" >&2; exit 2; }
done
command -v qemu-system-x86_64 >/dev/null || { echo "realxen: qemu-system-x86_64 not installed (qemu-system-x86)" >&2; exit 2; }

# Software emulation, as CI has it (no KVM); -cpu max crashes dom0 (SMAP under TCG).
accel_args=(-accel tcg,thread=multi -cpu qemu64,+svm)

# dom0's own watchdog fires first, so a stuck scenario still reports why.
inner_limit=$((limit - 20))
start=$(date +%s)
: > "$log"
timeout --kill-after=10 "$limit" qemu-system-x86_64 \
  -machine q35 "${accel_args[@]}" -smp 2 -m 2048 \
  -nographic -monitor none -serial "file:$log" -nic none -no-reboot \
  -kernel "$images/xen" \
  -append "console=com1 loglvl=all guest_loglvl=all console_timestamps=boot dom0_mem=1024M,max:1024M dom0_max_vcpus=2" \
  -initrd "$images/vmlinuz console=hvc0 earlyprintk=xen rdinit=/init quiet xensnd.scenario=$scenario xensnd.limit=$inner_limit xensnd.trace=${REALXEN_TRACE:-0},$images/dom0.cpio.gz" \
  </dev/null >"$log.qemu" 2>&1
qemu_status=$?
elapsed=$(( $(date +%s) - start ))

# Dump the scenario's markers (and the domU's) so ctest output shows what happened.
grep -a "$MARK" "$log" | tr -d '\r'
result=$(grep -a "$MARK: RESULT $scenario " "$log" | head -n1 | tr -d '\r')
if [[ $qemu_status -eq 124 || $qemu_status -eq 137 ]]; then
  echo "realxen: $scenario: QEMU killed after ${limit}s (log: $log)" >&2
  exit 1
fi
if [[ -z $result ]]; then
  echo "realxen: $scenario: no RESULT marker (QEMU exit $qemu_status after ${elapsed}s; log: $log, QEMU messages: $log.qemu)" >&2
  tail -n 30 "$log" >&2
  exit 1
fi
echo "realxen: $scenario: ${result#*RESULT $scenario } in ${elapsed}s (log: $log)"
[[ $result == *" PASS" ]]
