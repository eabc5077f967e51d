#!/bin/sh
# Debian's xenstore-utils (the real libxenstore underneath) against xensnd-simxen:
# write/read/ls/list/chmod/rm/exists/watch as dom0, and a guest refused what Xen refuses.
# usage: xenstored_utils_test.sh XENSND_SIMXEN XENSND_TOOLSTACK
set -eu
daemon=$1
toolstack=$2
run_dir=$(mktemp -d /tmp/simxen-utils-XXXXXX)
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  rm -rf "$run_dir"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
expect_eq() { [ "$1" = "$2" ] || fail "$3: expected '$2', got '$1'"; }

# --daemonize returns only once the sockets exist.
"$daemon" --run-dir "$run_dir" --daemonize --pid-file "$run_dir/pid" > "$run_dir/env"
grep -q '^# xensnd-simxen ready pid=' "$run_dir/env" || fail "no ready line"
. "$run_dir/env"
pid=$(cat "$run_dir/pid")
# The drop-in libraries are not needed by xenstore-utils.
unset LD_LIBRARY_PATH
expect_eq "$XENSTORED_PATH" "$run_dir/dom0/xenstored" "XENSTORED_PATH"

xenstore-write /a/b hello /a/c world
expect_eq "$(xenstore-read /a/b)" "hello" "xenstore-read"
expect_eq "$(xenstore-list /a | tr '\n' ' ')" "b c " "xenstore-list"
xenstore-ls /a | grep -qx 'b = "hello"' || fail "xenstore-ls: $(xenstore-ls /a)"
xenstore-chmod /a/b n0 r5
xenstore-ls -p /a | grep -q '^b = "hello".*(n0,r5)$' || fail "xenstore-chmod: $(xenstore-ls -p /a)"
xenstore-rm /a/c
if xenstore-exists /a/c; then fail "xenstore-rm left /a/c"; fi
xenstore-exists /a/b || fail "xenstore-exists /a/b"
if xenstore-read /nowhere 2>/dev/null; then fail "read of a missing node succeeded"; fi

# xenstore-watch: the first event arrives at registration, the second on a change below.
mkfifo "$run_dir/watch"
xenstore-watch -n 2 /w > "$run_dir/watch" &
watcher=$!
exec 3< "$run_dir/watch"
read -r first <&3 || fail "no registration event"
expect_eq "$first" "/w" "registration event"
xenstore-write /w/x 1
read -r second <&3 || fail "no change event"
expect_eq "$second" "/w/x" "change event"
exec 3<&-
wait "$watcher" || fail "xenstore-watch -n 2 did not finish cleanly"

# A guest made by the toolstack: refused outside its tree, at home in data/.
"$toolstack" create-domain --domid 5 --name utilguest > "$run_dir/guest-env"
(
  . "$run_dir/guest-env"
  unset LD_LIBRARY_PATH
  expect_eq "$XENSTORED_PATH" "$run_dir/dom5/xenstored" "guest XENSTORED_PATH"
  if xenstore-write /local/domain/0/x 1 2>/dev/null; then fail "guest wrote into dom0's tree"; fi
  if xenstore-read /local/domain/0/name 2>/dev/null; then fail "guest read dom0's name"; fi
  if xenstore-write /a/b mine 2>/dev/null; then fail "guest wrote a dom0 node"; fi
  expect_eq "$(xenstore-read domid)" "5" "guest relative read"
  xenstore-write data/x 1 || fail "guest could not write its data/"
)
expect_eq "$(xenstore-read /local/domain/5/data/x)" "1" "dom0 reads the guest's data"
expect_eq "$(xenstore-read /a/b)" "hello" "dom0 node untouched"

# SIGTERM: the daemon exits and removes its sockets.
kill "$pid"
timeout 10 tail --pid="$pid" -s 0.1 -f /dev/null || fail "daemon did not exit on SIGTERM"
pid=
for socket in control dom0/xenstored dom5/xenstored; do
  [ ! -e "$run_dir/$socket" ] || fail "$socket left behind"
done
[ ! -e "$run_dir/pid" ] || fail "pid file left behind"
echo "xenstore-utils against xensnd-simxen: ok"
