#!/usr/bin/env bash
# Builds the Debian package of xensnd from this tree: out/xensnd_<version>_<arch>.deb.
#
#   scripts/package.sh            (PACKAGE_BUILD_DIR overrides out/package-build)
#
# A separate release build without the tests; the package holds what `cmake --install`
# installs (plugin, conf function, alsa.conf.d snippet, xensnd-info, blacklist example,
# xensnd-backend) plus the READMEs. Prints the package's path.
set -euo pipefail
cd "$(dirname "$0")/.."
src=$PWD
out=$src/out
build=$(realpath -m "${PACKAGE_BUILD_DIR:-$out/package-build}")
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DXENSND_TESTS=OFF "${launcher[@]}" >/dev/null
cmake --build "$build" -j"$(nproc)" >/dev/null
rm -rf "$build/cpack"
(cd "$build" && cpack -G DEB -B "$build/cpack" >/dev/null)
deb=$(ls "$build"/cpack/xensnd_*.deb)
mkdir -p "$out"
cp "$deb" "$out/"
echo "$out/$(basename "$deb")"
