#!/usr/bin/env bash
# Builds what the real-Xen suite boots, from this Debian host's packages and a xensnd build:
#   OUT/xen           the Xen 4.17 hypervisor, uncompressed (QEMU's multiboot loader needs that)
#   OUT/vmlinuz       the Debian kernel, used for dom0 and for the domU
#   OUT/dom0.cpio.gz  dom0's initramfs: busybox, the Xen toolstack, xensnd-backend, the test
#                     clips, and the domU's kernel + initramfs for `xl create`
#   OUT/domU.cpio.gz  the domU's initramfs: busybox, sound modules (snd-xen-front...), aplay,
#                     arecord, alsa-lib, the xensnd plugin and its configuration, the test clips
# Usage: realxen/build-images.sh BUILD_DIR [OUT_DIR]     (OUT_DIR defaults to BUILD_DIR/realxen)
# Fails with the reason when a package or a build output is missing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib-rootfs.sh"

build=$(cd "${1:?usage: build-images.sh BUILD_DIR [OUT_DIR]}" && pwd)
out=${2:-$build/realxen}
mkdir -p "$out"
work=$out/work
rm -rf "$work"; mkdir -p "$work"

die() { echo "realxen/build-images.sh: $*" >&2; exit 1; }

# --- what the host must have (Debian 12 packages) ---------------------------------------
needs=(qemu-system-x86 xen-hypervisor-4.17-amd64 xen-utils-4.17 linux-image-amd64 busybox-static
       cpio kmod xenstore-utils alsa-utils sox)
for p in "${needs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
    die "Debian package $p is not installed (scripts/deps.sh --realxen installs what this suite needs)"
done
xen_gz=/boot/xen-4.17-amd64.gz
[[ -f $xen_gz ]] || die "$xen_gz missing (xen-hypervisor-4.17-amd64)"
vmlinuz=$(ls -1 /boot/vmlinuz-* 2>/dev/null | sort -V | tail -n1)
[[ -n $vmlinuz ]] || die "no /boot/vmlinuz-* (linux-image-amd64)"
kver=${vmlinuz#/boot/vmlinuz-}
[[ -d /lib/modules/$kver ]] || die "/lib/modules/$kver missing for $vmlinuz"
xenbin=/usr/lib/xen-4.17/bin

# --- xensnd build outputs -----------------------------------------------------------------
find_output() { find "$build" -path "$out" -prune -o -name "$1" -type f -print -quit; }
backend=$(find_output xensnd-backend)
plugin=$(find_output libasound_module_pcm_xensnd.so)
[[ -n $backend ]] || echo "realxen/build-images.sh: warning: no xensnd-backend in $build (scenarios needing it will fail)" >&2
[[ -n $plugin ]] || echo "realxen/build-images.sh: warning: no libasound_module_pcm_xensnd.so in $build (scenarios needing it will fail)" >&2

# --- test clips, made here on the host (the domU's RNG stalls) ----------------------------
# White noise: every frame differs from its neighbours, so a lost, repeated or misplaced
# period changes the checksum. Raw S16_LE 48 kHz stereo; WAVE copies for the backend.
clips=$work/clips; mkdir -p "$clips"
make_clip() {  # NAME SECONDS
  sox -q -D -n -r 48000 -c 2 -b 16 -e signed-integer -t raw "$clips/$1.raw" synth "$2" whitenoise vol 0.5
  sox -q -D -t raw -r 48000 -c 2 -b 16 -e signed-integer "$clips/$1.raw" "$clips/$1.wav"
  md5sum < "$clips/$1.raw" | cut -d' ' -f1 > "$clips/$1.md5"
  echo $(( $(stat -c %s "$clips/$1.raw") / 4 )) > "$clips/$1.frames"
}
make_clip play 2       # what the guest plays
make_clip source 2     # what the backend's capture stream produces
make_clip long 5       # the 5 s clip of the figures
cmp -s "$clips/play.raw" "$clips/source.raw" && die "the clips came out identical"

# --- domU -----------------------------------------------------------------------------------
domu=$work/domU
rootfs_init "$domu"
for m in xen-evtchn xen-gntalloc xen-gntdev snd-xen-front; do rootfs_add_module "$domu" "$kver" "$m"; done
rootfs_finish_modules "$domu" "$kver"
rootfs_add_binary "$domu" /usr/bin/aplay
rootfs_add_binary "$domu" /usr/bin/arecord
rootfs_add_binary "$domu" /usr/bin/xenstore
rootfs_add_binary "$domu" /usr/bin/strace   # the figures scenario counts aplay's system calls
[[ -n ${XENSND_REALXEN_PERF:-} ]] && rootfs_add_binary "$domu" /usr/bin/perf
# glibc loads libgcc_s for pthread_cancel's unwinding, which ldd does not list: libxenstore
# cancels its reader thread when the plugin closes its connection ("libgcc_s.so.1 must be
# installed for pthread_cancel to work", then abort). Every Debian system has it (libgcc-s1,
# priority required); this image had it only while something it copied linked it.
rootfs_add_file "$domu" "$(ldconfig -p | awk '/libgcc_s.so.1 .*x86-64/ {print $NF; exit}')"
for t in read write exists list ls rm watch chmod; do ln -sf xenstore "$domu/usr/bin/xenstore-$t"; done
# alsa-lib's configuration, without the device-specific trees and without the PulseAudio
# defaults libasound2-plugins drops into alsa.conf.d (the domU has no PulseAudio).
mkdir -p "$domu/usr/share/alsa"
cp -a /usr/share/alsa/{alsa.conf,cards,pcm} "$domu/usr/share/alsa/"
mkdir -p "$domu/usr/share/alsa/alsa.conf.d" "$domu/etc/alsa/conf.d"
if [[ -n $plugin ]]; then
  plugdir=$(pkg-config --variable=libdir alsa)/alsa-lib
  rootfs_add_binary "$domu" "$plugin" "$plugdir/libasound_module_pcm_xensnd.so"
  # The snippet's hint is evaluated by this configuration function at every open.
  conf_hints=$(find_output libasound_module_conf_xensnd.so)
  [[ -n $conf_hints ]] || die "no libasound_module_conf_xensnd.so in $build (pcm.xensnd needs it)"
  rootfs_add_binary "$domu" "$conf_hints" "$plugdir/libasound_module_conf_xensnd.so"
  # The snippet `cmake --install` puts into alsa.conf.d: pcm.xensnd, xensnd:DEV=..,PCM=..
  # Debian's alsa.conf reads /etc/alsa/conf.d, where packages symlink their snippets from
  # /usr/share/alsa/alsa.conf.d: do the same.
  cp "$here/../conf/50-xensnd.conf" "$domu/usr/share/alsa/alsa.conf.d/"
  ln -s /usr/share/alsa/alsa.conf.d/50-xensnd.conf "$domu/etc/alsa/conf.d/50-xensnd.conf"
  # The scenarios play through this PCM: xensnd with the handshake and response timeouts
  # scaled for an emulated dom0 on a busy machine, which was seen to take over 5 s (the
  # defaults, tuned for hardware) to answer a state change. The position timeout — how fast
  # a dead backend is detected, which scenario 3 bounds — stays the default.
  cat > "$domu/etc/asound.conf" <<'CONF'
pcm.realxen {
	type xensnd
	device 0
	pcm 0
	handshake_timeout_ms 30000
	response_timeout_ms 10000
}
CONF
  touch "$domu/realxen-has-plugin"
fi
mkdir -p "$domu/clips" "$domu/realxen/scenarios"
cp "$clips"/play.raw "$clips"/*.md5 "$clips"/*.frames "$clips"/long.raw "$domu/clips/"
cp "$here/guest/common.sh" "$domu/realxen/"
cp "$here"/scenarios/*.sh "$domu/realxen/scenarios/"
install -m 755 "$here/guest/domU-init.sh" "$domu/init"
rootfs_pack "$domu" "$out/domU.cpio.gz"

# --- dom0 -----------------------------------------------------------------------------------
dom0=$work/dom0
rootfs_init "$dom0"
for m in xen-evtchn xen-gntdev xen-gntalloc xen-privcmd xenfs snd-dummy; do rootfs_add_module "$dom0" "$kver" "$m"; done
rootfs_finish_modules "$dom0" "$kver"
for p in xenstored xl xen-init-dom0 xenconsoled; do rootfs_add_binary "$dom0" "$xenbin/$p"; done
rootfs_add_binary "$dom0" /usr/bin/xenstore
for t in read write exists list ls rm watch chmod; do ln -sf xenstore "$dom0/usr/bin/xenstore-$t"; done
# xl needs libgcc_s (pthread_cancel unwinding) though ldd does not list it.
rootfs_add_file "$dom0" "$(ldconfig -p | awk '/libgcc_s.so.1 .*x86-64/ {print $NF; exit}')"
mkdir -p "$dom0/etc/xen" "$dom0/var/lib/xen" "$dom0/var/log/xen"
: > "$dom0/etc/xen/xl.conf"   # xl reads it; the defaults are what we want
if [[ -n $backend ]]; then
  rootfs_add_binary "$dom0" "$backend" /usr/bin/xensnd-backend
fi
mkdir -p "$dom0/boot" "$dom0/clips" "$dom0/realxen/scenarios"
cp "$vmlinuz" "$dom0/boot/vmlinuz"
cp "$out/domU.cpio.gz" "$dom0/boot/domU.cpio.gz"
cp "$clips"/*.wav "$clips"/*.md5 "$clips"/*.frames "$clips"/play.raw "$dom0/clips/"
cp "$here/guest/common.sh" "$here/guest/dom0-lib.sh" "$dom0/realxen/"
cp "$here"/scenarios/*.sh "$dom0/realxen/scenarios/"
install -m 755 "$here/guest/dom0-init.sh" "$dom0/init"
rootfs_pack "$dom0" "$out/dom0.cpio.gz"

zcat "$xen_gz" > "$out/xen"
cp "$vmlinuz" "$out/vmlinuz"
{
  echo "kernel=$kver"
  echo "backend=${backend:-none}"
  echo "plugin=${plugin:-none}"
} > "$out/images.info"
rm -rf "$out/clips"; mv "$clips" "$out/clips"   # kept: the host compares dumps against them
rm -rf "$work"
echo "realxen images in $out: $(cd "$out" && du -sh xen vmlinuz dom0.cpio.gz domU.cpio.gz | awk '{printf "%s %s  ", $2, $1}')"
