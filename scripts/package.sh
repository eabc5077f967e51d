#!/usr/bin/env bash
# Builds the Debian package of xensnd from this tree: out/xensnd_<version>_<arch>.deb.
#
#   scripts/package.sh                   (PACKAGE_BUILD_DIR overrides out/package-build)
#   scripts/package.sh --from-build DIR  (packages the build in DIR, e.g. the tests' build/)
#
# By default a separate release build without the tests; the package holds what `cmake
# --install` installs (plugin, conf function, alsa.conf.d snippet, xensnd-info, blacklist
# example, xensnd-backend) plus the READMEs. --from-build packages a build that already has
# them (CI's, after the tests ran in it: a second build of the same sources with the same
# flags cost minutes and added nothing); the tests install nothing. It must be a release
# build without sanitizers. Prints the package's path.
set -euo pipefail
cd "$(dirname "$0")/.."
src=$PWD
out=$src/out
fail() { printf 'package.sh: %s\n' "$*" >&2; exit 1; }

if [[ ${1:-} == --from-build ]]; then
  [[ -n ${2:-} ]] || fail "--from-build needs a build directory"
  build=$(realpath -m "$2")
  [[ -f $build/CMakeCache.txt ]] || cmake -S "$src" -B "$build" >/dev/null
  cache() { sed -n "s/^$1:[A-Z]*=//p" "$build/CMakeCache.txt"; }
  [[ $(cache XENSND_SANITIZE) != ON && $(cache XENSND_TSAN) != ON ]] ||
    fail "$build is a sanitizer build: its binaries need the sanitizer runtimes"
  type=$(cache CMAKE_BUILD_TYPE)  # empty: the project's default, RelWithDebInfo
  [[ -z $type || $type == RelWithDebInfo ]] || fail "$build is a $type build: a package is built RelWithDebInfo"
elif [[ -n ${1:-} ]]; then
  fail "unknown argument '$1' (usage: package.sh [--from-build DIR])"
else
  build=$(realpath -m "${PACKAGE_BUILD_DIR:-$out/package-build}")
  launcher=()
  command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
  cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DXENSND_TESTS=OFF "${launcher[@]}" >/dev/null
fi
cmake --build "$build" -j"$(nproc)" >/dev/null
rm -rf "$build/cpack"
(cd "$build" && cpack -G DEB -B "$build/cpack" >/dev/null)
deb=$(ls "$build"/cpack/xensnd_*.deb)
mkdir -p "$out"
cp "$deb" "$out/"
echo "$out/$(basename "$deb")"
