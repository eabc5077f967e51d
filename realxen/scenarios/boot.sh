# Scenario "boot": the platform itself. Xen boots, dom0 runs the toolstack, xl creates a PV
# domU from our images, the domU reaches user space, sees its XenStore home and powers off.
# Every other scenario stands on this one.

scenario_dom0() {
  start_guest boot no || return
  wait_guest_end 90
  local seen; seen=$(guest_value domid)
  [ -n "$seen" ] || fail "domU did not report its domid from XenStore"
}

scenario_guest() {
  modprobe xen-evtchn && modprobe xen-gntalloc || fail "guest modprobe"
  local domid; domid=$(xenstore-read domid) || fail "xenstore-read domid in the guest"
  say "value domid=$domid"
  check "/dev/xen/xenbus exists" [ -c /dev/xen/xenbus ]
  check "/dev/xen/evtchn exists" [ -c /dev/xen/evtchn ]
  check "/dev/xen/gntalloc exists" [ -c /dev/xen/gntalloc ]
}
