#!/bin/sh
# dom0's /init: brings up the Xen toolstack (the minimal set a Debian dom0 runs), then runs
# the scenario named by xensnd.scenario= on the command line, prints one RESULT marker line
# and powers the machine off (QEMU runs with -no-reboot, so it exits).
export PATH=/bin:/sbin:/usr/bin:/usr/sbin:/usr/lib/xen-4.17/bin
. /realxen/common.sh
[ -f /realxen/dom0-lib.sh ] && . /realxen/dom0-lib.sh

mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts      # xenconsoled needs ptys
mount -t tmpfs run /run
mount -t tmpfs tmp /tmp
: > /run/failures

scenario=$(cmdline_value xensnd.scenario)
limit=$(cmdline_value xensnd.limit || echo 240)
say "dom0 up, scenario=$scenario"

# A hard bound on the whole run inside the machine (the host also wraps QEMU in timeout).
( sleep "$limit"; show_guest_log; say "RESULT $scenario FAIL dom0 watchdog: scenario exceeded ${limit}s"; reboot -f ) &

finish() {
  if [ -s /run/failures ]; then
    say "RESULT $scenario FAIL $(head -n1 /run/failures)"
  else
    say "RESULT $scenario PASS"
  fi
  sync
  reboot -f
}

for m in xen-evtchn xen-gntdev xen-gntalloc xen-privcmd xenfs; do
  modprobe "$m" || { fail "modprobe $m"; finish; }
done
mount -t xenfs xenfs /proc/xen
mkdir -p /var/log/xen/console /var/lib/xen /run/xen /run/xenstored /var/lib/xenstored

xenstored --pid-file /run/xenstored.pid
wait_until 20 [ -S /run/xenstored/socket ] || { fail "xenstored did not create its socket"; finish; }
xen-init-dom0 || { fail "xen-init-dom0"; finish; }
xenconsoled --log=guest --log-dir=/var/log/xen/console || { fail "xenconsoled"; finish; }
say "toolstack up"

. /realxen/scenarios/"$scenario".sh || { fail "no scenario $scenario"; finish; }
scenario_dom0
finish
