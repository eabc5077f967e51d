#!/usr/bin/env bash
# Builds the Debian package (scripts/package.sh), installs it on this system, and runs through
# the installed files only — no ALSA_CONFIG_PATH, no plugin or configuration from a build
# tree: `aplay -L`, `xensnd-info` (text and --json) and the playback/capture demo. The
# software Xen and the reference backend come from the build tree: they stand in for the
# hypervisor and dom0, which a real guest has.
#
#   scripts/package-check.sh              (CI, on a fresh machine: installs for real)
#                                          The package is made from BUILD_DIR's build (default
#                                          build/, the tests' build: package.sh --from-build).
#   scripts/package-check.sh --isolated   (as root on a shared machine: the install goes into
#                                          overlays of /usr, /etc and /var in a private mount
#                                          namespace and vanishes with it)
#
# Exits non-zero when anything is missing or wrong. Leaves no process running.
set -euo pipefail
cd "$(dirname "$0")/.."
src=$PWD
build=${BUILD_DIR:-$src/build}
fail() { printf 'package-check: FAILED: %s\n' "$*" >&2; exit 1; }
say() { printf '== %s\n' "$*"; }

if [[ ${1:-} == --isolated && -z ${XENSND_PACKAGE_CHECK_INSIDE:-} ]]; then
  deb=$("$src/scripts/package.sh" --from-build "$build")
  layers=$(mktemp -d "${TMPDIR:-/tmp}/xensnd-package-check-XXXXXX")
  trap 'rm -rf "$layers"' EXIT
  XENSND_PACKAGE_CHECK_INSIDE=1 XENSND_PACKAGE_DEB=$deb LAYERS=$layers unshare --mount bash -c '
    set -e
    mount --make-rprivate /
    for d in usr etc var; do
      mkdir -p "$LAYERS/$d/upper" "$LAYERS/$d/work"
      mount -t overlay overlay -o "lowerdir=/$d,upperdir=$LAYERS/$d/upper,workdir=$LAYERS/$d/work" "/$d"
    done
    exec "$0" --isolated' "$0"
  exit $?
fi

deb=${XENSND_PACKAGE_DEB:-$("$src/scripts/package.sh" --from-build "$build")}
say "installing $deb"
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$deb" >/dev/null
installed=$(dpkg -L xensnd)
plugdir=$(pkg-config --variable=libdir alsa)/alsa-lib
for f in "$plugdir/libasound_module_pcm_xensnd.so" "$plugdir/libasound_module_conf_xensnd.so" \
         /etc/alsa/conf.d/50-xensnd.conf /usr/bin/xensnd-info \
         /usr/share/xensnd/modprobe.d/xensnd-blacklist-snd-xen-front.conf /usr/share/doc/xensnd/README.md; do
  grep -qx "$f" <<<"$installed" || fail "the package does not install $f"
  [[ -e $f ]] || fail "$f is missing after the install"
done
[[ $(command -v xensnd-info) == /usr/bin/xensnd-info ]] || fail "xensnd-info is not the installed one"

say "building the software Xen and the reference backend (the hypervisor and dom0)"
cmake -S "$src" -B "$build" >/dev/null
cmake --build "$build" -j"$(nproc)" --target xensnd-simxen xensnd-toolstack xensnd-backend \
  simxen_xengnttab simxen_xenevtchn >/dev/null

run=$(mktemp -d "${TMPDIR:-/tmp}/xensnd-package-check-run-XXXXXX")
daemon_pid=""
backend_pid=""
cleanup() {
  [[ -n $backend_pid ]] && kill "$backend_pid" 2>/dev/null && wait "$backend_pid" 2>/dev/null || true
  if [[ -n $daemon_pid ]]; then
    kill "$daemon_pid" 2>/dev/null || true
    timeout 5 tail --pid="$daemon_pid" -f /dev/null || true
  fi
  rm -rf "$run"
}
trap cleanup EXIT
dom0_env=$("$build/sim/daemon/xensnd-simxen" --run-dir "$run/xen" --daemonize --pid-file "$run/simxen.pid")
daemon_pid=$(cat "$run/simxen.pid")
env_of() { sed -n 's/^export //p' <<<"$1" | tr -d "'"; }
in_dom0() { env $(env_of "$dom0_env") "$@"; }
guest_env=$(in_dom0 "$build/sim/toolstack/xensnd-toolstack" create-domain --domid 1 --name package-check)
# The guest: the software Xen's environment only (XenStore socket, drop-in Xen libraries).
in_guest() { env -u ALSA_CONFIG_PATH $(env_of "$guest_env") "$@"; }

exec {backend_out}< <(exec env $(env_of "$dom0_env") "$build/backend/xensnd-backend" --sink null \
  --source sine:440 2>"$run/backend.log")
backend_pid=$!
ready=""
while read -r -t 10 -u "$backend_out" line; do [[ $line == "xensnd-backend: ready"* ]] && { ready=1; break; }; done
[[ -n $ready ]] || fail "the backend did not start: $(cat "$run/backend.log")"

say "xensnd-info without a card"
status=0; in_guest xensnd-info >/dev/null 2>"$run/info.err" || status=$?
[[ $status -eq 2 ]] || fail "xensnd-info exited $status without a card (want 2): $(cat "$run/info.err")"

in_dom0 "$build/sim/toolstack/xensnd-toolstack" vsnd-attach --domid 1 --devid 0 --config \
  "CARD, short-name=pkg, long-name=Package check card, sample-rates=48000, sample-formats=s16_le | PCM, name=stereo | STREAM, unique-id=spk, type=P | STREAM, unique-id=mic, type=C" >/dev/null

say "aplay -L"
in_guest aplay -L >"$run/aplay-L" 2>&1 || fail "aplay -L failed: $(cat "$run/aplay-L")"
grep -A2 -x 'xensnd:DEV=0,PCM=0' "$run/aplay-L" | grep -q 'Package check card, stereo' \
  || fail "aplay -L does not list xensnd:DEV=0,PCM=0 with its names: $(cat "$run/aplay-L")"
say "xensnd-info"
in_guest xensnd-info >"$run/info" || fail "xensnd-info failed"
grep -q '^card 0: pkg \[Package check card\]' "$run/info" || fail "xensnd-info: $(cat "$run/info")"
in_guest xensnd-info --json >"$run/info.json" || fail "xensnd-info --json failed"
[[ $(jq -r '.cards[0].pcm_devices[0].alsa_device' "$run/info.json") == "xensnd:DEV=0,PCM=0" ]] \
  || fail "xensnd-info --json: $(cat "$run/info.json")"
cat "$run/info"

say "the playback/capture demo through the installed plugin"
# Only the verdict when it passes; everything it printed when it did not, since the verdict
# alone ("see above") names nothing.
if XENSND_DEMO_INSTALLED=1 BUILD_DIR=$build "$src/scripts/demo.sh" "$run/demo" >"$run/demo.out" 2>&1; then
  tail -1 "$run/demo.out"
else
  cat "$run/demo.out"
  for log in "$run"/demo/*.log; do echo "-- $log"; tail -20 "$log"; done
  exit 1
fi
echo "package-check: OK, the installed package lists, plays and records"
