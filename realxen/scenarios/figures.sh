# Scenario 6, figures (printed, not asserted): the same clips played to the same backend,
# first by the kernel's snd-xen-front (aplay -D hw:0,0), then — after unbinding it — by
# xensnd (aplay -D realxen, type xensnd). For each: open-to-START time and HW_PARAM_QUERY round
# trips at open (from the backend's log), wall time and CPU time of aplay (guest clock, which
# under software emulation tracks wall time only loosely), and where that CPU time goes (issue
# 13): each frontend plays the 5 s clip and the 2 s clip at aplay's default period, and the
# 5 s clip at 256-frame periods (last). The difference of the two clips is the cost of 3 s of audio,
# so (5 s run - 2 s run) / 3 is the CPU per second of audio in steady state, and what the 2 s
# run used beyond two such seconds is opening and closing (process start-up, configuration,
# libraries, the handshake; the same for both frontends but for what the frontend adds).
# Each frontend also plays the 5 s clip once more under `strace -f -c`: the system calls of
# the whole aplay process (every thread), counted, the most frequent printed.
# It fails only when the 5 s clip at the default period does not play at all (no figures
# without a run behind them); the other runs print "failed" when they fail (snd-xen-front
# underruns at 256-frame periods under software emulation, and then times out).

scenario_dom0() {
  mkdir -p /run/out
  start_backend --sink null --no-volume --log-level debug || return
  start_guest figures yes || { show_backend_log; return; }
  wait_guest_end 300
  stop_backend
  show_backend_log
  local who
  for who in kernel xensnd; do
    say "figure $who wall_s=$(guest_value "${who}_long_wall_s") user_s=$(guest_value "${who}_long_user_s") sys_s=$(guest_value "${who}_long_sys_s") $(backend_open_figures "$who")"
    say "figure $who $(cpu_breakdown "$who")"
    say "figure $who syscalls_5s_clip: $(guest_value "${who}_syscalls")"
  done
}

# CPU seconds (user + system) of one run, from the guest's values ("" when it did not run).
run_cpu_s() {
  local user sys
  user=$(guest_value "$1_$2_user_s"); sys=$(guest_value "$1_$2_sys_s")
  [ -n "$user" ] && [ -n "$sys" ] && awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }'
}

# The breakdown of one frontend's CPU time: per second of audio (from the 5 s and 2 s runs),
# opening and closing, and the 5 s clip at 256-frame periods.
cpu_breakdown() {
  local long short p256
  long=$(run_cpu_s "$1" long); short=$(run_cpu_s "$1" short); p256=$(run_cpu_s "$1" p256)
  awk -v l="${long:-?}" -v s="${short:-?}" -v p="${p256:-failed}" 'BEGIN {
    if (l == "?" || s == "?") { printf "breakdown: a run is missing (5 s %s, 2 s %s)", l, s; exit }
    per_s = (l - s) / 3
    printf "cpu_s_5s_clip=%.2f cpu_s_2s_clip=%.2f cpu_ms_per_s_audio=%.0f cpu_ms_open_close=%.0f cpu_s_5s_clip_period256=%s", l, s, per_s * 1000, (s - 2 * per_s) * 1000, p
  }'
}

# From the backend's log, each frontend's first playback session: the first after the card's
# first connection for the kernel driver (made at modprobe), the first after its second for
# xensnd (made inside its first snd_pcm_open). HW_PARAM_QUERY requests before its OPEN,
# milliseconds from its first request to TRIGGER START, and for xensnd from the card's
# connection to START.
backend_open_figures() {
  awk -v want_connect="$([ "$1" = xensnd ] && echo 2 || echo 1)" '
    function t(line) { match(line, /\[[0-9.]+\]/); return substr(line, RSTART + 1, RLENGTH - 2) }
    / stream 0\/0: connected / { connects++; if (connects == want_connect) { connected = t($0); watching = 1 } }
    !watching { next }
    /stream 0\/0: request [0-9]+ / {
      if (!open) { if (!first) first = t($0); if ($0 ~ /HW_PARAM_QUERY/) q++ }
      if ($0 ~ / OPEN$/) open = 1
    }
    / stream 0\/0: START / { if (open) {
      printf "hw_param_queries=%d first_request_to_start_ms=%d", q, (t($0) - first) * 1000 + 0.5
      # xensnd connects the card inside snd_pcm_open; the kernel driver did at modprobe.
      if (want_connect == 2) printf " connect_to_start_ms=%d", (t($0) - connected) * 1000 + 0.5
      printf "\n"; done = 1; exit } }
    END { if (!done) print "hw_param_queries=? first_request_to_start_ms=?" }
  ' "$BACKEND_LOG"
}

# Runs aplay under busybox time and reports its wall, user and system seconds as values
# WHO_RUN_{wall,user,sys}_s. timed_play WHO RUN CLIP APLAY-ARGS... (fails as aplay does)
timed_play() {
  local who=$1 run=$2 clip=$3; shift 3
  time -p -o "/tmp/time.$who.$run" aplay -q "$@" $RAW "/clips/$clip.raw" || return 1
  say "value ${who}_${run}_wall_s=$(awk '/^real/ {print $2}' "/tmp/time.$who.$run")"
  say "value ${who}_${run}_user_s=$(awk '/^user/ {print $2}' "/tmp/time.$who.$run")"
  say "value ${who}_${run}_sys_s=$(awk '/^sys/ {print $2}' "/tmp/time.$who.$run")"
}

# The system calls of one aplay of the 5 s clip (all threads), as the value WHO_syscalls:
# "total=N name:count,..." with the eight most frequent.
counted_play() {
  local who=$1; shift
  strace -f -c -o "/tmp/strace.$who" aplay -q "$@" $RAW /clips/long.raw || return 1
  say "value ${who}_syscalls=$(awk '
    $1 ~ /^[0-9.]+$/ && NF >= 5 { calls = $4; name = $NF; if (name == "total") total = calls; else n[name] = calls }
    $1 ~ /^[0-9.]+$/ && NF == 4 && $NF == "total" { total = $3 }
    END {
      out = "total=" total
      for (k = 0; k < 8; k++) { best = ""; for (x in n) if (best == "" || n[x] + 0 > n[best] + 0) best = x
        if (best == "") break; out = out "," best ":" n[best]; delete n[best] }
      print out }' "/tmp/strace.$who")"
}

# One frontend's runs, through the device aplay is given.
play_figure_runs() {
  local who=$1 device=$2
  timed_play "$who" long long -D "$device" || fail "aplay -D $device of /clips/long.raw failed"
  timed_play "$who" short play -D "$device" || say "aplay -D $device of /clips/play.raw failed"
  counted_play "$who" -D "$device" || say "aplay -D $device under strace failed"
  # Last: snd-xen-front's stream can stay stuck after this run fails.
  timed_play "$who" p256 long -D "$device" --period-size=256 --buffer-size=1024 ||
    say "aplay -D $device at 256-frame periods failed"
}

scenario_guest() {
  modprobe xen-evtchn && modprobe xen-gntalloc && modprobe snd-xen-front || { fail "modprobe"; return; }
  wait_until 30 [ -c /dev/snd/pcmC0D0p ] || { fail "snd-xen-front did not bind the card"; return; }
  play_figure_runs kernel hw:0,0
  local driver; driver=$(basename "$(readlink /sys/bus/xen/devices/vsnd-0/driver)")
  echo vsnd-0 > "/sys/bus/xen/drivers/$driver/unbind" || { fail "unbinding vsnd-0"; return; }
  [ -f /realxen-has-plugin ] || { fail "the domU image has no xensnd plugin"; return; }
  play_figure_runs xensnd realxen
}
