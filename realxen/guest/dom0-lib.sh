# dom0 helpers for the scenarios: the domU's xl configuration, its life cycle and its log.

GUEST=guest
GUEST_LOG=/var/log/xen/console/guest-$GUEST.log

# The vsnd card every scenario gives the guest: one PCM device with a playback and a capture
# stream, 48 kHz stereo S16 (what the test clips are), buffers up to 2.7 s (a domU under
# software emulation on a loaded machine stalls for hundreds of milliseconds, and the checks
# compare bytes, so no xrun may happen). Written in xl.cfg's syntax, so the XenStore layout
# and permissions are xl's own.
VSND_CARD="'CARD, backend=0, short-name=xensnd, long-name=xensnd real-Xen test card, sample-rates=48000, sample-formats=s16_le, channels-min=2, channels-max=2, buffer-size=524288', 'PCM, name=pcm0', 'STREAM, unique-id=play0, type=p', 'STREAM, unique-id=cap0, type=c'"

# write_guest_cfg SCENARIO WITH_VSND(yes|no)
write_guest_cfg() {
  {
    echo "name = \"$GUEST\""
    echo 'type = "pv"'
    echo 'kernel = "/boot/vmlinuz"'
    echo 'ramdisk = "/boot/domU.cpio.gz"'
    echo "extra = \"console=hvc0 rdinit=/init quiet loglevel=4 xensnd.scenario=$1\""
    echo 'memory = 256'
    echo 'vcpus = 1'
    echo 'on_poweroff = "destroy"'
    echo 'on_crash = "destroy"'
    [ "$2" = yes ] && echo "vsnd = [ [ $VSND_CARD ] ]"
  } > /run/guest.cfg
}

guest_domid() { xl domid "$GUEST" 2>/dev/null; }
# Polled: a XenStore read, not xl (whose start-up under emulation would load dom0's CPUs and
# slow the backend under test). libxl removes the domain's home last when it destroys it.
guest_gone() { ! xenstore-exists "/local/domain/$GUEST_DOMID"; }

# Creates the domU and echoes its console to ours, each line prefixed, as it arrives.
start_guest() {
  write_guest_cfg "$1" "$2"
  : > "$GUEST_LOG"
  if ! xl create /run/guest.cfg; then
    fail "xl create"
    return 1
  fi
  GUEST_DOMID=$(guest_domid)
  say "domU created, domid $GUEST_DOMID"
}

# Waits for the domU to power itself off (bounded), then for its verdict in its log.
wait_guest_end() {
  local seconds=${1:-120}
  if ! wait_until "$seconds" guest_gone; then
    fail "domU still running after ${seconds}s"
    xl destroy "$GUEST"
  fi
  show_guest_log
  if grep -q "$MARK: GUEST-RESULT PASS" "$GUEST_LOG"; then
    say "domU reported PASS"
  else
    fail "domU: $(grep -o "$MARK: GUEST-RESULT.*\|$MARK: FAIL.*" "$GUEST_LOG" | head -n1)"
  fi
}

# A value the domU reported on its console as "XENSND-REALXEN: value NAME=VALUE".
guest_value() {
  sed -n "s/.*$MARK: value $1=\\([^ \\r]*\\).*/\\1/p" "$GUEST_LOG" | tail -n1
}

# The domU's console so far, each line prefixed, on dom0's console (the serial log).
show_guest_log() {
  [ -f "$GUEST_LOG" ] || return 0
  tr -d '\r' < "$GUEST_LOG" | while IFS= read -r line; do echo "[domU] $line"; done
}

# The reference backend, started before `xl create` (xl waits for the backend to reach
# InitWait and destroys the domain otherwise). Its log goes to /run/backend.log.
BACKEND_LOG=/run/backend.log
backend_ready() { grep -q "xensnd-backend: ready" "$BACKEND_LOG"; }
start_backend() {
  [ -x /usr/bin/xensnd-backend ] || { fail "xensnd-backend is not in the dom0 image (build it, then rebuild the images)"; return 1; }
  : > "$BACKEND_LOG"
  xensnd-backend "$@" >> "$BACKEND_LOG" 2>&1 &
  BACKEND_PID=$!
  if ! wait_until 20 backend_ready; then
    fail "xensnd-backend did not become ready: $(tail -n 3 "$BACKEND_LOG" | tr '\n' ' ')"
    return 1
  fi
  say "backend ready (pid $BACKEND_PID): xensnd-backend $*"
}
backend_alive() { kill -0 "$BACKEND_PID" 2>/dev/null; }
stop_backend() {
  backend_alive || return 0
  kill -TERM "$BACKEND_PID"
  wait_until 10 eval '! backend_alive' || { fail "xensnd-backend ignored SIGTERM"; kill -KILL "$BACKEND_PID"; }
  wait "$BACKEND_PID" 2>/dev/null
}
show_backend_log() {
  tr -d '\r' < "$BACKEND_LOG" | while IFS= read -r line; do echo "[backend] $line"; done
}

# The frames of every WAVE file the backend wrote for stream P-S, concatenated in the order of
# their OPENs (a frontend may OPEN more than once before it plays), into FILE.
collect_played() {
  local stream=$1 out=$2 f
  : > "$out"
  for f in $(ls /run/out/vsnd-*-0-"$stream"-*.wav 2>/dev/null | sort -t- -k6 -n); do
    set -- $(wav_data_chunk "$f") || continue
    tail -c +$(($1 + 1)) "$f" | head -c "$2" >> "$out"
  done
}

# With REALXEN_TRACE=1, the first BYTES of FILE in base64 between marker lines, for analysis
# on the host (realxen/decode-dump.sh LOG NAME).
dump_file() {
  [ "$(cmdline_value xensnd.trace)" -ge 1 ] || return 0
  say "dump-begin $(basename "$1")"
  head -c "$2" "$1" | base64
  say "dump-end $(basename "$1")"
}

# Where PLAYED departs from CLIP, for the failure message: the first differing byte, and
# whether the clip sits intact at a later offset (frames inserted before it).
describe_difference() {
  local played=$1 clip=$2 extra=$3 want_bytes first
  want_bytes=$(($(cat "/clips/$clip.frames") * 4))
  first=$(cmp "$played" "/clips/$clip.raw" 2>&1 | head -n1)
  echo -n "first difference: ${first:-none}; "
  local zeros; zeros=$(head -c 65536 "$played" | od -A d -t x1 -v | awk '{for(i=2;i<=NF;i++){if($i!="00"){print $1+i-2; exit}}}')
  echo -n "leading zero bytes: ${zeros:-65536+}; "
  local off
  for off in $(seq 0 4 "$extra" | awk -v e="$extra" 'NR==1 || $1==e || $1%4096==0'); do
    if [ "$(tail -c +$((off + 1)) "$played" | head -c "$want_bytes" | md5sum | cut -d' ' -f1)" = "$(cat "/clips/$clip.md5")" ]; then
      echo -n "the clip is intact at byte offset $off"; return
    fi
  done
  echo -n "the clip is not intact at any 4 KiB offset"
}

# The silence xensnd plays before each run's first frame (the pointer's lead, 10 ms; see
# plugin/README.md), in bytes of the clips' format (48 kHz stereo S16): 480 frames.
XENSND_RUN_LEAD_BYTES=1920

# Did the backend play exactly CLIP (a .raw from /clips), after LEAD bytes of silence (default
# 0: the kernel driver's runs start with the first frame)? aplay pads its last, partial period
# with silence, so what follows the clip's frames may only be zero bytes, less than a buffer.
# Echoes what it found; returns 1 on a mismatch.
played_exactly() {
  local played=$1 clip=$2 lead=${3:-0}
  local want_bytes=$(($(cat "/clips/$clip.frames") * 4)) got_bytes; got_bytes=$(stat -c %s "$played")
  if [ "$got_bytes" -lt $((lead + want_bytes)) ]; then
    echo "only $got_bytes of $lead + $want_bytes bytes"; return 1
  fi
  local lead_nonzero; lead_nonzero=$(head -c "$lead" "$played" | tr -d '\000' | wc -c)
  if [ "$lead_nonzero" -ne 0 ]; then
    echo "$lead_nonzero bytes that are not silence in the run's leading $lead bytes"; return 1
  fi
  local head_md5; head_md5=$(tail -c "+$((lead + 1))" "$played" | head -c "$want_bytes" | md5sum | cut -d' ' -f1)
  local extra=$((got_bytes - lead - want_bytes))
  if [ "$head_md5" != "$(cat "/clips/$clip.md5")" ]; then
    [ -n "${NO_DIAGNOSIS:-}" ] && { echo "differs"; return 1; }   # the diagnosis takes a while
    echo "$got_bytes bytes, the first $want_bytes differ from the clip: $(describe_difference "$played" "$clip" "$extra")"
    return 1
  fi
  local nonzero; nonzero=$(tail -c "+$((lead + want_bytes + 1))" "$played" | tr -d '\000' | wc -c)
  if [ "$nonzero" -ne 0 ] || [ "$extra" -ge 262144 ]; then
    echo "the clip, then $extra more bytes ($nonzero not silence)"; return 1
  fi
  echo "$lead bytes of leading silence, the clip's $want_bytes bytes exactly, then $extra bytes of aplay's silence padding"
}

played_files() {
  local f
  for f in /run/out/vsnd-*.wav; do [ -f "$f" ] && echo "$(basename "$f"):$(wav_data_bytes "$f")B"; done | tr '\n' ' '
}

# Logs every change below PATH with the value it took and dom0's uptime (REALXEN_TRACE=1):
# the handshake as XenStore saw it.
trace_xenstore() {
  local path
  for path in "$@"; do trace_one "$path" & done
}
trace_one() {
  ( xenstore-watch "$1" | while IFS= read -r path; do
      echo "[$(cut -d' ' -f1 /proc/uptime)] $path = $(xenstore-read "$path" 2>/dev/null || echo '(removed)')"
    done >> /run/xenstore-trace.log 2>&1 )
}
show_xenstore_trace() {
  [ -f /run/xenstore-trace.log ] || return 0
  while IFS= read -r line; do echo "[xenstore] $line"; done < /run/xenstore-trace.log
}

# dom0's half of a playback + capture scenario: the backend records every playback stream
# into /run/out and plays /clips/source.wav to every capture stream; the domU (SCENARIO) plays
# /clips/play.raw and reports the md5 of what it recorded as "value capture_md5=...".
# LEAD: the silence a run of the frontend starts with, in bytes (played_exactly).
run_playback_capture() {
  local scenario=$1 lead=$2
  mkdir -p /run/out
  start_backend --sink wav:/run/out --source wav:/clips/source.wav --no-volume --log-level "$([ "$(cmdline_value xensnd.trace)" -ge 1 ] && echo trace || echo debug)" || return
  [ "$(cmdline_value xensnd.trace)" = 2 ] && trace_xenstore /local/domain/1/device/vsnd /local/domain/0/backend/vsnd
  start_guest "$scenario" yes || { show_backend_log; return; }
  wait_guest_end 180
  stop_backend
  show_backend_log
  show_xenstore_trace
  say "backend wrote: $(played_files)"
  collect_played 0-0 /run/played.raw
  local got exact; got=$(played_exactly /run/played.raw play "$lead"); exact=$?
  check "playback: the backend received $got (it logged $(grep -c "underrun #" "$BACKEND_LOG") underruns)" [ "$exact" -eq 0 ] ||
    dump_file /run/played.raw 98304
  # The checker itself must be able to fail: the same recording against the other clip.
  check "the exact-frames check rejects a recording of a different clip" eval "! NO_DIAGNOSIS=1 played_exactly /run/played.raw source $lead >/dev/null"
  got=$(guest_value capture_md5)
  check "capture: arecord got exactly the source's frames ($got; the backend logged $(grep -c "overrun #" "$BACKEND_LOG") overruns)" \
    [ "$got" = "$(cat /clips/source.md5)" ]
}

# dom0's side of the rendezvous (see guest_signal in common.sh).
# (The domid is looked up once: xl is too heavy to run in a polling loop.)
dom0_signal() { xenstore-write "/local/domain/$GUEST_DOMID/data/$1" "${2:-1}"; }
dom0_has_signal() { xenstore-read "/local/domain/$GUEST_DOMID/data/$1" >/dev/null 2>&1; }
