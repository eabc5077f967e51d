# Scenario 1, the product on real Xen: the same domU and vsnd card as kernel-frontend, but no
# kernel sound driver: aplay and arecord go through `-D realxen` (type xensnd), i.e. the real alsa-lib loads
# libasound_module_pcm_xensnd.so, which talks sndif to xensnd-backend in dom0 through
# /dev/xen/xenbus, /dev/xen/gntalloc and /dev/xen/evtchn, with xl's XenStore layout and
# permissions. Pass: the backend received exactly the clip's frames, and arecord got exactly
# the backend source's frames.

scenario_dom0() { run_playback_capture plugin "$XENSND_RUN_LEAD_BYTES"; }

scenario_guest() {
  [ -f /realxen-has-plugin ] || { fail "the domU image has no xensnd plugin (build libasound_module_pcm_xensnd.so, then the images)"; return; }
  modprobe xen-evtchn && modprobe xen-gntalloc || { fail "modprobe xen-evtchn xen-gntalloc"; return; }
  check "no kernel sound driver is loaded" [ ! -e /proc/asound/cards ] || [ -z "$(grep -v 'no soundcards' /proc/asound/cards)" ]
  # 2 s buffers: a domU under emulation on a busy machine was seen to stall for a second,
  # and an xrun would make the frames differ (the checks are bit-exact).
  local raw="-t raw -f S16_LE -c 2 -r 48000"
  check "aplay -D realxen (type xensnd) exits 0" aplay -q -D realxen $raw -B 2000000 /clips/play.raw
  check "arecord -D realxen (type xensnd) exits 0" arecord -q -D realxen $raw -B 2000000 -s "$(cat /clips/source.frames)" /tmp/capture.raw
  say "value capture_md5=$(md5sum < /tmp/capture.raw | cut -d' ' -f1)"
}
