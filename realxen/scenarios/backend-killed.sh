# Scenario 3, failure on real Xen: the backend is killed (SIGKILL) while aplay plays through
# xensnd in the domU. Pass: aplay ends with an error within 5 s of the kill, and the domU stays
# healthy — after dom0 restarts the backend, a second aplay through xensnd plays the clip
# exactly (the plugin resets the card the dead session left Connected).

mid_stream() { [ "$(stat -c %s /run/out-killed/vsnd-1-0-0-0-1.wav 2>/dev/null || echo 0)" -ge 96100 ]; }

scenario_dom0() {
  mkdir -p /run/out-killed /run/out
  start_backend --sink wav:/run/out-killed --no-volume --log-level debug || return
  start_guest backend-killed yes || { show_backend_log; return; }
  # Mid-stream: the backend has played half a second of the 5 s clip (the file's size is
  # enough to tell, and cheap to poll).
  wait_until 120 eval 'mid_stream || dom0_has_signal first-aplay-ended'
  if dom0_has_signal first-aplay-ended; then
    fail "the first aplay ended before the backend was killed (see the domU's log)"
  elif mid_stream; then
    kill -KILL "$BACKEND_PID"
    dom0_signal backend-killed
    say "backend killed mid-stream ($(wav_data_bytes /run/out-killed/vsnd-1-0-0-0-1.wav) bytes played)"
    show_backend_log
    if wait_until 60 dom0_has_signal first-aplay-ended; then
      start_backend --sink wav:/run/out --no-volume --log-level debug && dom0_signal backend-restarted
    else
      fail "the domU never reported the end of the first aplay"
    fi
  else
    fail "the first aplay never got half a second of audio to the backend"
  fi
  wait_guest_end 150
  stop_backend
  show_backend_log
  collect_played 0-0 /run/played.raw
  local got exact; got=$(played_exactly /run/played.raw play "$XENSND_RUN_LEAD_BYTES"); exact=$?
  check "after the restart: the backend received $got" [ "$exact" -eq 0 ]
}

scenario_guest() {
  [ -f /realxen-has-plugin ] || { fail "the domU image has no xensnd plugin"; return; }
  modprobe xen-evtchn && modprobe xen-gntalloc || { fail "modprobe xen-evtchn xen-gntalloc"; return; }
  # aplay's default buffer (at most 0.5 s): the 5 s clip is still mostly ahead when dom0
  # sees half a second of it played.
  aplay -q -D realxen $RAW /clips/long.raw > /tmp/aplay1.err 2>&1 &
  local pid=$!
  if ! wait_until 120 eval 'guest_has_signal backend-killed || ! kill -0 '"$pid"' 2>/dev/null'; then
    fail "dom0 never killed the backend"; kill "$pid"; return
  fi
  if ! guest_has_signal backend-killed; then
    wait "$pid"; local early=$?
    cat /tmp/aplay1.err
    fail "the first aplay ended (status $early) before dom0 killed the backend: $(tail -n 2 /tmp/aplay1.err | tr '\n' ' ')"
    guest_signal first-aplay-ended
    return
  fi
  local killed; killed=$(now_ms)
  if wait_until 5 eval '! kill -0 '"$pid"' 2>/dev/null'; then
    wait "$pid"; local status=$?
    say "value error_after_ms=$(( $(now_ms) - killed ))"
    cat /tmp/aplay1.err
    check "aplay exits with an error once the backend is dead (status $status)" [ "$status" -ne 0 ]
  else
    fail "aplay still running 5 s after the backend was killed"
    cat /tmp/aplay1.err
    kill -KILL "$pid"
  fi
  guest_signal first-aplay-ended
  wait_until 60 guest_has_signal backend-restarted || { fail "dom0 never restarted the backend"; return; }
  check "a second aplay through xensnd after the backend restarted exits 0" aplay -q -D realxen $RAW -B 2000000 /clips/play.raw
}
