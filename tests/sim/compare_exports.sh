#!/bin/sh
# Usage: compare_exports.sh REAL.so OURS.so
# Fails unless both libraries export the same symbols in the same version nodes and have
# the same soname.
set -eu
exports() {
  objdump -T "$1" | awk '$2 == "g" && $NF != "" && $(NF-1) ~ /^VERS_/ { print $(NF-1), $NF }' | sort
}
soname() { objdump -p "$1" | awk '$1 == "SONAME" { print $2 }'; }
real=$(exports "$1")
ours=$(exports "$2")
if [ -z "$real" ]; then echo "no versioned exports found in $1" >&2; exit 1; fi
if [ "$real" != "$ours" ]; then
  echo "exports differ (< real, > ours):" >&2
  printf '%s\n' "$real" > /tmp/.exports.real.$$
  printf '%s\n' "$ours" > /tmp/.exports.ours.$$
  diff /tmp/.exports.real.$$ /tmp/.exports.ours.$$ >&2 || true
  rm -f /tmp/.exports.real.$$ /tmp/.exports.ours.$$
  exit 1
fi
[ "$(soname "$1")" = "$(soname "$2")" ] || { echo "sonames differ" >&2; exit 1; }
echo "$(printf '%s\n' "$real" | wc -l) versioned symbols match, soname $(soname "$2")"
