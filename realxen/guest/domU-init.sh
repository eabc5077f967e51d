#!/bin/sh
# The domU's /init: mounts what a guest has, runs the guest half of the scenario named by
# xensnd.scenario= on its command line and powers the domain off. Its console (hvc0) is
# logged by dom0's xenconsoled; dom0 reads the marker lines from that log.
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
. /realxen/common.sh

mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs run /run
mount -t tmpfs tmp /tmp
mkdir -p /dev/pts && mount -t devpts devpts /dev/pts
: > /run/failures

scenario=$(cmdline_value xensnd.scenario)
say "guest up, scenario=$scenario"
. /realxen/scenarios/"$scenario".sh || fail "no scenario $scenario"
scenario_guest
if [ -s /run/failures ]; then say "GUEST-RESULT FAIL $(head -n1 /run/failures)"; else say "GUEST-RESULT PASS"; fi
sync
poweroff -f
