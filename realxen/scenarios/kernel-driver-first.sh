# Scenario 4, the kernel driver got there first: snd-xen-front is loaded in the domU and
# bound to vsnd device 0. Pass: opening xensnd fails at once (under 5 s) with a message that
# names the kernel driver; after unbinding the driver through sysfs, xensnd plays the clip
# exactly (the plugin takes over a card the kernel left behind).

scenario_dom0() {
  mkdir -p /run/out
  start_backend --sink wav:/run/out --no-volume --log-level debug || return
  start_guest kernel-driver-first yes || { show_backend_log; return; }
  wait_guest_end 150
  stop_backend
  show_backend_log
  collect_played 0-0 /run/played.raw
  local got exact; got=$(played_exactly /run/played.raw play "$XENSND_RUN_LEAD_BYTES"); exact=$?
  check "after unbinding: the backend received $got" [ "$exact" -eq 0 ]
}

scenario_guest() {
  [ -f /realxen-has-plugin ] || { fail "the domU image has no xensnd plugin"; return; }
  modprobe xen-evtchn && modprobe xen-gntalloc && modprobe snd-xen-front || { fail "modprobe"; return; }
  wait_until 30 [ -c /dev/snd/pcmC0D0p ] || { fail "snd-xen-front did not bind the card"; return; }
  local driver; driver=$(basename "$(readlink /sys/bus/xen/devices/vsnd-0/driver)")
  say "vsnd-0 is bound to the kernel driver '$driver'"
  local t0; t0=$(now_ms)
  aplay -q -D xensnd $RAW /clips/play.raw > /tmp/refused.err 2>&1
  local status=$? took=$(( $(now_ms) - t0 ))
  cat /tmp/refused.err
  check "aplay -D xensnd is refused while the kernel driver holds the card (status $status)" [ "$status" -ne 0 ]
  check "refused within 5 s (${took} ms)" [ "$took" -lt 5000 ]
  check "the message names the kernel driver" grep -q "kernel driver.*$driver\|snd-xen-front\|snd_xen_front" /tmp/refused.err
  echo vsnd-0 > "/sys/bus/xen/drivers/$driver/unbind" || { fail "unbinding vsnd-0 from $driver"; return; }
  check "vsnd-0 has no driver after unbinding" [ ! -e /sys/bus/xen/devices/vsnd-0/driver ]
  say "frontend state after unbinding: $(xenstore-read device/vsnd/0/state)"
  check "aplay -D realxen (type xensnd) plays after unbinding" aplay -q -D realxen $RAW -B 2000000 /clips/play.raw
}
