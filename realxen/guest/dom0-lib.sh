# dom0 helpers for the scenarios: the domU's xl configuration, its life cycle and its log.

GUEST=guest
GUEST_LOG=/var/log/xen/console/guest-$GUEST.log

# The vsnd card every scenario gives the guest: one PCM device with a playback and a capture
# stream, 48 kHz stereo S16 (what the test clips are). Written in xl.cfg's syntax, so the
# XenStore layout and permissions are xl's own.
VSND_CARD="'CARD, backend=0, short-name=xensnd, long-name=xensnd real-Xen test card, sample-rates=48000, sample-formats=s16_le, channels-min=2, channels-max=2, buffer-size=65536', 'PCM, name=pcm0', 'STREAM, unique-id=play0, type=p', 'STREAM, unique-id=cap0, type=c'"

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
guest_running() { xl domid "$GUEST" >/dev/null 2>&1; }
guest_gone() { ! guest_running; }

# Creates the domU and echoes its console to ours, each line prefixed, as it arrives.
start_guest() {
  write_guest_cfg "$1" "$2"
  : > "$GUEST_LOG"
  if ! xl create /run/guest.cfg; then
    fail "xl create"
    return 1
  fi
  say "domU created, domid $(guest_domid)"
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
