#!/usr/bin/env bash
# The xensnd demo: builds the plugin and the software Xen, starts the software Xen daemon and
# the reference backend, plays a test signal with `aplay` through the xensnd ALSA plugin and
# records one with `arecord`, then checks both bit for bit.
#
#   scripts/demo.sh [OUTPUT_DIR]      (default: ./demo-output; BUILD_DIR overrides ./build)
#
# Exits non-zero when anything did not match. Leaves no process running.
set -euo pipefail
cd "$(dirname "$0")/.."
src=$PWD
build=${BUILD_DIR:-$src/build}
out=$(realpath -m "${1:-$src/demo-output}")
seconds=2

say() { printf '== %s\n' "$*"; }
fail() { printf 'demo: FAILED: %s\n' "$*" >&2; exit 1; }

# On a fresh machine, install what is missing first (as a non-root user, deps.sh prints the
# apt-get line to run instead). XENSND_DEMO_PREBUILT=1 (the ctest that runs this script):
# the build tree is already built and a test must not rebuild it under the other tests.
[[ ${XENSND_DEMO_PREBUILT:-} == 1 ]] || "$src/scripts/deps.sh"
for tool in cmake aplay arecord sox cmp; do
  command -v "$tool" >/dev/null || fail "'$tool' is missing (scripts/deps.sh installs what xensnd needs)"
done

if [[ ${XENSND_DEMO_PREBUILT:-} != 1 ]]; then
  say "building into $build"
  cmake -S "$src" -B "$build" >/dev/null
  cmake --build "$build" -j"$(nproc)" --target xensnd_alsa_plugin xensnd-simxen xensnd-toolstack \
    xensnd-backend simxen_xengnttab simxen_xenevtchn >/dev/null
fi

rm -rf "$out"
mkdir -p "$out"
run=$(mktemp -d "${TMPDIR:-/tmp}/xensnd-demo-XXXXXX")
daemon_pid=""
backend_pid=""
cleanup() {
  # Only the processes this script started, by pid.
  [[ -n $backend_pid ]] && kill "$backend_pid" 2>/dev/null && wait "$backend_pid" 2>/dev/null || true
  if [[ -n $daemon_pid ]]; then
    kill "$daemon_pid" 2>/dev/null || true
    # It daemonized, so it is not our child: wait for its exit by pid.
    timeout 5 tail --pid="$daemon_pid" -f /dev/null || true
  fi
  rm -rf "$run"
}
trap cleanup EXIT

say "starting the software Xen (run directory $run)"
dom0_env=$("$build/sim/daemon/xensnd-simxen" --run-dir "$run/xen" --daemonize --pid-file "$run/simxen.pid")
daemon_pid=$(cat "$run/simxen.pid")
in_dom0() { env $(sed -n 's/^export //p' <<<"$dom0_env" | tr -d "'") "$@"; }
guest_env=$(in_dom0 "$build/sim/toolstack/xensnd-toolstack" create-domain --domid 1 --name demo-guest)
# XENSND_DEMO_INSTALLED=1 (scripts/package-check.sh): the plugin and its configuration as
# installed on this system, not the build tree's.
alsa_env=(ALSA_CONFIG_PATH="$build/conf/asound-build.conf")
[[ ${XENSND_DEMO_INSTALLED:-} == 1 ]] && alsa_env=()
in_guest() {
  env $(sed -n 's/^export //p' <<<"$guest_env" | tr -d "'") "${alsa_env[@]}" "$@"
}

say "making a ${seconds} s test signal (440 Hz left, 660 Hz right)"
sox -q -n -r 48000 -c 2 -b 16 -e signed-integer "$out/signal.wav" synth "$seconds" sine 440 sine 660 gain -6
sox -q "$out/signal.wav" -t raw "$run/signal.raw"

say "starting the reference backend (plays into $out/backend, records from the test signal)"
mkdir -p "$out/backend"
exec {backend_out}< <(exec env $(sed -n 's/^export //p' <<<"$dom0_env" | tr -d "'") \
  "$build/backend/xensnd-backend" --sink "wav:$out/backend" --source "wav:$out/signal.wav" \
  2>"$out/backend.log")
backend_pid=$!
ready=""
while read -r -t 10 -u "$backend_out" line; do
  [[ $line == "xensnd-backend: ready"* ]] && { ready=1; break; }
done
[[ -n $ready ]] || fail "the backend did not start (see $out/backend.log)"

in_dom0 "$build/sim/toolstack/xensnd-toolstack" vsnd-attach --domid 1 --devid 0 --config \
  "CARD, short-name=xensnd-demo, sample-rates=44100;48000, sample-formats=s16_le, buffer-size=65536 | PCM, name=demo | STREAM, unique-id=speaker, type=P | STREAM, unique-id=microphone, type=C" >/dev/null

say "aplay -D xensnd signal.wav   (in the guest, through the plugin)"
in_guest aplay -q -D xensnd "$out/signal.wav" 2>"$out/aplay.log" || fail "aplay failed: $(cat "$out/aplay.log")"
say "arecord -D xensnd recorded.wav"
in_guest arecord -q -D xensnd -f S16_LE -r 48000 -c 2 -d "$seconds" "$out/recorded.wav" 2>"$out/arecord.log" \
  || fail "arecord failed: $(cat "$out/arecord.log")"

played=$(ls "$out"/backend/*.wav 2>/dev/null | head -1)
[[ -n $played ]] || fail "the backend wrote no WAV"
sox -q "$played" -t raw "$run/played.raw"
sox -q "$out/recorded.wav" -t raw "$run/recorded.raw"
size=$(stat -c %s "$run/signal.raw")

# Each playback run begins with 10 ms of silence the device plays first: the lead the plugin's
# pointer keeps over the device (plugin/README.md). At 48 kHz, 2 channels of 16 bits: 1920 bytes.
lead=$((48000 / 100 * 2 * 2))

status=0
# The backend's WAV may end with the silence its paced device played after the last period.
if [[ $(stat -c %s "$run/played.raw") -ge $((lead + size)) ]] \
  && cmp -s -n "$lead" /dev/zero "$run/played.raw" \
  && cmp -s -n "$size" "$run/signal.raw" <(tail -c +$((lead + 1)) "$run/played.raw"); then
  playback="MATCH (after the run's $lead bytes of leading silence)"
else
  playback="MISMATCH"; status=1
fi
if cmp -s "$run/signal.raw" "$run/recorded.raw"; then
  capture="MATCH"
else
  capture="MISMATCH"; status=1
fi
echo
echo "test signal:                 $out/signal.wav"
echo "what the backend played:     $played   -> $playback"
echo "what arecord recorded:       $out/recorded.wav   -> $capture"
echo "logs:                        $out/*.log"
if [[ $status -eq 0 ]]; then
  echo "demo: OK, playback and capture through xensnd are bit-exact"
else
  echo "demo: FAILED, see above" >&2
fi
exit $status
