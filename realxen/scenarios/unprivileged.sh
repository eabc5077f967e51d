# Scenario 5, an unprivileged user: aplay through xensnd as uid 1000 in the domU. Without
# access to /dev/xen/* (the default: root only), the open fails with a message naming the
# device node; once the nodes belong to a group the user is in (mode 0660), it plays the clip
# exactly.

scenario_dom0() {
  mkdir -p /run/out
  start_backend --sink wav:/run/out --no-volume --log-level debug || return
  start_guest unprivileged yes || { show_backend_log; return; }
  wait_guest_end 150
  stop_backend
  show_backend_log
  collect_played 0-0 /run/played.raw
  local got exact; got=$(played_exactly /run/played.raw play "$XENSND_RUN_LEAD_BYTES"); exact=$?
  check "as the user with access: the backend received $got" [ "$exact" -eq 0 ]
}

as_user() { su user -s /bin/sh -c "$*"; }

scenario_guest() {
  [ -f /realxen-has-plugin ] || { fail "the domU image has no xensnd plugin"; return; }
  modprobe xen-evtchn && modprobe xen-gntalloc || { fail "modprobe xen-evtchn xen-gntalloc"; return; }
  ls -l /dev/xen/
  as_user "aplay -q -D xensnd $RAW /clips/play.raw" > /tmp/denied.err 2>&1
  local status=$?
  cat /tmp/denied.err
  check "aplay as uid 1000 without access fails (status $status)" [ "$status" -ne 0 ]
  check "the message names the device node" grep -q '/dev/xen/' /tmp/denied.err
  chgrp xen /dev/xen/xenbus /dev/xen/gntalloc /dev/xen/evtchn && chmod 0660 /dev/xen/xenbus /dev/xen/gntalloc /dev/xen/evtchn
  ls -l /dev/xen/
  as_user "aplay -q -D realxen $RAW -B 2000000 /clips/play.raw" > /tmp/allowed.err 2>&1
  status=$?
  cat /tmp/allowed.err
  check "aplay as uid 1000 in group xen plays (status $status)" [ "$status" -eq 0 ]
}
