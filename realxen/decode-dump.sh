#!/usr/bin/env bash
# Extracts a file dom0 dumped in base64 on the serial console (REALXEN_TRACE=1 runs).
# Usage: realxen/decode-dump.sh LOG NAME OUT
set -euo pipefail
tr -d '\r' < "$1" | sed -n "/XENSND-REALXEN: dump-begin $2\$/,/XENSND-REALXEN: dump-end $2\$/p" | sed '1d;$d' | base64 -d > "$3"
echo "$3: $(stat -c %s "$3") bytes"
