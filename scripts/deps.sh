#!/usr/bin/env bash
# Installs the Debian 12 packages xensnd needs to build, test and run its demo.
# Usage: scripts/deps.sh [--realxen]   (--realxen adds what the nested-Xen suite needs)
set -euo pipefail

packages=(
  build-essential cmake pkg-config g++-multilib
  libxen-dev libasound2-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  xenstore-utils alsa-utils sox valgrind strace
  pulseaudio libasound2-plugins
  jq
  pipewire pipewire-bin wireplumber pipewire-pulse pulseaudio-utils dbus libpipewire-0.3-dev
  clang-16 libfuzzer-16-dev libclang-rt-16-dev
)
if [[ "${1:-}" == "--realxen" ]]; then
  packages+=(qemu-system-x86 xen-hypervisor-4.17-amd64 xen-utils-4.17 linux-image-amd64
             busybox-static cpio kmod)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

if [[ $(id -u) -ne 0 ]]; then
  echo "xensnd needs these Debian packages: ${missing[*]}" >&2
  echo "install them with: sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "installing: ${missing[*]}"
apt-get update -q
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
