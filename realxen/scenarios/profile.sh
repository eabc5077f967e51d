# Scenario profile (figures only): where aplay's CPU time goes through xensnd, sampled by
# perf (cpu-clock, the only clock a guest under software emulation has), per shared object
# and per symbol, for the 5 s clip at aplay's default period and at 256-frame periods.
# Run alone: XENSND_REALXEN_PERF=1 realxen/run-all.sh build profile (perf adds ~33 MB to the
# domU image, so only then); not among run-all.sh's defaults, not in CI.
scenario_dom0() {
  mkdir -p /run/out
  start_backend --sink null --no-volume --log-level info || return
  start_guest profile yes || { show_backend_log; return; }
  wait_guest_end 400
  stop_backend
}

profile_play() {
  local name=$1; shift
  perf record -q -e cpu-clock -F 2000 -o "/tmp/perf.$name" aplay -q "$@" -D realxen $RAW /clips/long.raw ||
    { fail "aplay under perf ($name)"; return; }
  perf report -i "/tmp/perf.$name" --stdio --no-children --sort dso 2>/dev/null | grep -v '^#' | grep . | head -20 |
    while read -r line; do say "profile $name dso: $line"; done
  perf report -i "/tmp/perf.$name" --stdio --no-children --sort dso,sym 2>/dev/null | grep -v '^#' | grep . | head -60 |
    while read -r line; do say "profile $name sym: $line"; done
}

scenario_guest() {
  modprobe xen-evtchn && modprobe xen-gntalloc || { fail "modprobe"; return; }
  [ -f /realxen-has-plugin ] || { fail "the domU image has no xensnd plugin"; return; }
  command -v perf >/dev/null ||
    { fail "the domU image has no perf: build it with XENSND_REALXEN_PERF=1 realxen/run-all.sh BUILD profile"; return; }
  profile_play default
  profile_play p256 --period-size=256 --buffer-size=1024
}
