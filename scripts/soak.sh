#!/usr/bin/env bash
# The soak: full duplex through the plugin for a given time (default 1 h) with pauses, xruns,
# open/close, backend restarts and a XenStore state flood; prints samples of memory, file
# descriptors and threads, and a verdict (exit status 0 = every check passed, nothing grew).
# Usage: scripts/soak.sh [--duration SECONDS] [--seed N] [--report-every SECONDS]
# Builds what it needs in ./build (configured by scripts/test.sh or by hand).
set -euo pipefail
cd "$(dirname "$0")/.."
[[ -f build/CMakeCache.txt ]] || cmake -S . -B build >/dev/null
cmake --build build -j"$(nproc)" --target xensnd-soak xensnd_alsa_plugin xensnd-simxen xensnd-toolstack \
  xensnd-backend >/dev/null
exec build/tests/soak/xensnd-soak "$@"
