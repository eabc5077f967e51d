# Scenario 6, figures (printed, not asserted): the same 5 s clip played to the same backend,
# first by the kernel's snd-xen-front (aplay -D hw:0,0), then — after unbinding it — by
# xensnd (aplay -D realxen, type xensnd). For each: open-to-START time and HW_PARAM_QUERY round trips at
# open (from the backend's log), wall time and CPU time of aplay (guest clock, which under
# software emulation tracks wall time only loosely).
# It fails only when a run does not play at all (no figures without a run behind them).

scenario_dom0() {
  mkdir -p /run/out
  start_backend --sink null --no-volume --log-level debug || return
  start_guest figures yes || { show_backend_log; return; }
  wait_guest_end 200
  stop_backend
  show_backend_log
  local who
  for who in kernel xensnd; do
    say "figure $who wall_s=$(guest_value "${who}_wall_s") user_s=$(guest_value "${who}_user_s") sys_s=$(guest_value "${who}_sys_s") $(backend_open_figures "$who")"
  done
}

# From the backend's log, for the Nth playback session (kernel: the first, xensnd: the
# second): HW_PARAM_QUERY requests before its OPEN, milliseconds from its first request to
# TRIGGER START, and for xensnd from the card's connection (made inside snd_pcm_open) to START.
backend_open_figures() {
  local session; [ "$1" = kernel ] && session=1 || session=2
  awk -v want="$session" '
    function t(line) { match(line, /\[[0-9.]+\]/); return substr(line, RSTART + 1, RLENGTH - 2) }
    /stream 0\/0: request [0-9]+ / {
      if (!open) { if (!first) first = t($0); if ($0 ~ /HW_PARAM_QUERY/) q++ }
      if ($0 ~ / OPEN$/) { open = 1; opens++ }
    }
    /: connected$/ { connected = t($0) }
    / stream 0\/0: START / { if (open && !started) { started = 1; if (opens == want) {
      printf "hw_param_queries=%d first_request_to_start_ms=%d", q, (t($0) - first) * 1000 + 0.5
      # xensnd connects the card inside snd_pcm_open; the kernel driver did at modprobe.
      if (want == 2) printf " connect_to_start_ms=%d", (t($0) - connected) * 1000 + 0.5
      printf "\n"; done = 1; exit } } }
    / stream 0\/0: closed / { open = 0; started = 0; first = ""; q = 0 }
    END { if (!done) print "hw_param_queries=? first_request_to_start_ms=?" }
  ' "$BACKEND_LOG"
}

# Runs aplay under busybox time and reports its wall, user and system seconds as values.
timed_play() {
  local who=$1; shift
  if time -p -o /tmp/time.$who aplay -q "$@" $RAW /clips/long.raw; then
    say "value ${who}_wall_s=$(awk '/^real/ {print $2}' /tmp/time.$who)"
    say "value ${who}_user_s=$(awk '/^user/ {print $2}' /tmp/time.$who)"
    say "value ${who}_sys_s=$(awk '/^sys/ {print $2}' /tmp/time.$who)"
  else
    fail "aplay $* of the 5 s clip failed"
  fi
}

scenario_guest() {
  modprobe xen-evtchn && modprobe xen-gntalloc && modprobe snd-xen-front || { fail "modprobe"; return; }
  wait_until 30 [ -c /dev/snd/pcmC0D0p ] || { fail "snd-xen-front did not bind the card"; return; }
  timed_play kernel -D hw:0,0
  local driver; driver=$(basename "$(readlink /sys/bus/xen/devices/vsnd-0/driver)")
  echo vsnd-0 > "/sys/bus/xen/drivers/$driver/unbind" || { fail "unbinding vsnd-0"; return; }
  [ -f /realxen-has-plugin ] || { fail "the domU image has no xensnd plugin"; return; }
  timed_play xensnd -D realxen
}
