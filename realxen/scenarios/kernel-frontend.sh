# Scenario 2, our backend against the Linux kernel's own frontend: dom0 runs xensnd-backend
# (real libxenstore/libxengnttab/libxenevtchn), xl creates the domU with a vsnd card, the
# domU loads snd-xen-front, plays a clip with `aplay -D hw:0,0` and records with arecord.
# Pass: the backend's WAVE holds exactly the clip's frames, and arecord got exactly the frames
# of the backend's source file. This checks the backend — which every other suite relies on —
# against the reference frontend.

scenario_dom0() { run_playback_capture kernel-frontend 0; }

scenario_guest() {
  modprobe snd-xen-front || { fail "modprobe snd-xen-front"; return; }
  wait_until 30 [ -c /dev/snd/pcmC0D0p ] || { fail "snd-xen-front created no /dev/snd/pcmC0D0p"; return; }
  # 2 s buffers: a domU under emulation on a busy machine was seen to stall for a second,
  # and an xrun would make the frames differ (the checks are bit-exact).
  local raw="-t raw -f S16_LE -c 2 -r 48000"
  check "aplay -D hw:0,0 exits 0" aplay -q -D hw:0,0 $raw -B 2000000 /clips/play.raw
  check "arecord -D hw:0,0 exits 0" arecord -q -D hw:0,0 $raw -B 2000000 -s "$(cat /clips/source.frames)" /tmp/capture.raw
  say "value capture_md5=$(md5sum < /tmp/capture.raw | cut -d' ' -f1)"
}
