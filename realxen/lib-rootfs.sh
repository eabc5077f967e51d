# Helpers for assembling busybox initramfs trees from the files of this (Debian) host.
# Sourced by build-images.sh; every function takes the tree's root directory first.

# A fresh tree with busybox and one symlink per applet it offers.
rootfs_init() {
  local root=$1
  rm -rf "$root"
  mkdir -p "$root"/{bin,sbin,etc,proc,sys,dev,run,tmp,root,var/lib,var/log,usr/bin,usr/sbin,usr/lib,lib64}
  ln -s /run "$root/var/run"
  cp /bin/busybox "$root/bin/busybox"
  local applet
  for applet in $(/bin/busybox --list); do
    [[ -e "$root/bin/$applet" ]] || ln -s busybox "$root/bin/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/tmp:/bin/sh\n' > "$root/etc/passwd"
  printf 'root:x:0:\nuser:x:1000:\nxen:x:900:user\n' > "$root/etc/group"
}

# Copies a file to the same path inside the tree (or to DEST), keeping it executable.
rootfs_add_file() {
  local root=$1 src=$2 dest=${3:-$2}
  [[ -e "$src" ]] || { echo "build-images: missing $src" >&2; return 1; }
  mkdir -p "$root/$(dirname "$dest")"
  cp -L "$src" "$root/$dest"
}

# Copies an ELF program or library plus every library ldd lists for it (and the loader).
rootfs_add_binary() {
  local root=$1 src=$2 dest=${3:-$2}
  rootfs_add_file "$root" "$src" "$dest"
  local lib
  # ldd prints "name => /path (addr)" or "/path (addr)"; vdso has no path.
  for lib in $(ldd "$src" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}'); do
    [[ -e "$root/$lib" ]] || rootfs_add_file "$root" "$lib"
  done
}

# Copies a kernel module and, recursively, the modules it depends on; depmod runs at the end
# (rootfs_finish_modules) so busybox modprobe can load them in order.
rootfs_add_module() {
  local root=$1 kver=$2 name=$3
  local file deps dep
  file=$(modinfo -k "$kver" -F filename "$name") || { echo "build-images: no module $name for $kver" >&2; return 1; }
  [[ -e "$root/$file" ]] && return 0
  rootfs_add_file "$root" "$file"
  deps=$(modinfo -k "$kver" -F depends "$name")
  for dep in ${deps//,/ }; do
    rootfs_add_module "$root" "$kver" "$dep"
  done
}

rootfs_finish_modules() {
  local root=$1 kver=$2
  cp /lib/modules/"$kver"/modules.{order,builtin,builtin.modinfo} "$root/lib/modules/$kver/" 2>/dev/null || true
  depmod -b "$root" "$kver"
}

# The tree as a gzip'd newc cpio archive (what Linux unpacks as its initramfs).
rootfs_pack() {
  local root=$1 out=$2
  (cd "$root" && find . -print0 | cpio --null -o -H newc --quiet) | gzip -1 > "$out"
}
