#!/usr/bin/env bash
# gpu-deps.sh — prepare the build dependencies for a GPU machine that has nvcc, CMake and the CUDA
# libraries but no apt and no network.
#
# Run HERE (a Debian machine with apt): downloads the .debs the build needs (`apt-get download`,
# no install, no root needed for the unpacking), unpacks them with `dpkg-deb -x` into gpu-deps/
# (git-ignored) at the repository root, makes the pkg-config files relocatable (prefix relative to
# ${pcfiledir}) and recreates the symlinks that Debian's maintainer scripts would have made
# (update-alternatives for OpenBLAS). gpu-deps/ then travels with the working tree.
#
# On the GPU machine:   source gpu-deps/env.sh   (or use the flags this script prints)
#
# Usage: scripts/gpu-deps.sh [--no-opencl] [--no-openblas] [DEST]   (DEST default: <repo>/gpu-deps)
set -euo pipefail

want_opencl=1
want_openblas=1
dest=""
for a in "$@"; do
    case "$a" in
    --no-opencl) want_opencl=0 ;;
    --no-openblas) want_openblas=0 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) dest="$a" ;;
    esac
done
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="${dest:-$root/gpu-deps}"
mkdir -p "$dest"
dest="$(cd "$dest" && pwd)"

# Required by the top-level CMakeLists.txt: pkg-config (pkgconf), cJSON, CMocka (tests).
pkgs=(libcmocka0 libcmocka-dev libcjson1 libcjson-dev pkgconf pkgconf-bin libpkgconf3)
# Optional backends: OpenCL (ICD loader + headers; the NVIDIA driver supplies the ICD itself) and
# the cpu backend (OpenBLAS, pthread flavour, + its Fortran runtime).
if [ "$want_opencl" = 1 ]; then
    pkgs+=(ocl-icd-libopencl1 ocl-icd-opencl-dev opencl-c-headers opencl-clhpp-headers)
fi
if [ "$want_openblas" = 1 ]; then
    pkgs+=(libopenblas0 libopenblas0-pthread libopenblas-dev libopenblas-pthread-dev libgfortran5 libquadmath0)
fi

debdir="$dest/debs"
mkdir -p "$debdir"
echo "gpu-deps: downloading ${#pkgs[@]} packages into $debdir" >&2
( cd "$debdir" && apt-get download "${pkgs[@]}" ) || {
    echo "gpu-deps: apt-get download failed (run 'apt-get update' first?)" >&2
    exit 1
}
for deb in "$debdir"/*.deb; do
    dpkg-deb -x "$deb" "$dest"
done

# Only what a build needs: no static archives (the build links shared libraries), docs, man
# pages or the .debs themselves (keeps gpu-deps/ small enough to travel with the tree).
find "$dest/usr" -name '*.a' -delete
rm -rf "$dest/usr/share/doc" "$dest/usr/share/man" "$dest/usr/share/lintian"
[ "${SDMARK_KEEP_DEBS:-0}" = 1 ] || rm -rf "$debdir"

multiarch="$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)"
libdir="$dest/usr/lib/$multiarch"

# update-alternatives links (postinst scripts do not run under dpkg-deb -x).
if [ "$want_openblas" = 1 ] && [ -d "$libdir/openblas-pthread" ]; then
    for f in libblas.so libblas.so.3 liblapack.so liblapack.so.3 libopenblas.so libopenblas.so.0; do
        if [ -e "$libdir/openblas-pthread/$f" ] && [ ! -e "$libdir/$f" ]; then
            ln -sf "openblas-pthread/$f" "$libdir/$f"
        fi
    done
    mkdir -p "$libdir/pkgconfig"
    for pc in "$libdir"/openblas-pthread/pkgconfig/*.pc; do
        [ -e "$pc" ] || continue
        b="$(basename "$pc")"
        # openblas-pthread.pc is also published as openblas.pc (what CMake asks for)
        cp "$pc" "$libdir/pkgconfig/$b"
        [ "$b" = "openblas-pthread.pc" ] && cp "$pc" "$libdir/pkgconfig/openblas.pc"
    done
    [ -e "$dest/usr/include/$multiarch/openblas-pthread" ] && [ ! -e "$dest/usr/include/openblas" ] &&
        ln -sf "$multiarch/openblas-pthread" "$dest/usr/include/openblas" || true
fi
if [ "$want_opencl" = 1 ] && [ -e "$libdir/libOpenCL.so.1" ] && [ ! -e "$libdir/libOpenCL.so" ]; then
    ln -sf libOpenCL.so.1 "$libdir/libOpenCL.so"
fi
# pkgconf's pkg-config front end
if [ -x "$dest/usr/bin/pkgconf" ] && [ ! -e "$dest/usr/bin/pkg-config" ]; then
    ln -sf pkgconf "$dest/usr/bin/pkg-config"
fi

# Relocatable .pc files: every absolute /usr becomes ${pcfiledir}/<relative path to usr>.
find "$dest/usr" -name '*.pc' -print0 | while IFS= read -r -d '' pc; do
    rel="$(realpath --relative-to="$(dirname "$pc")" "$dest/usr")"
    sed -i -E "s#(^|[=[:space:]]|-I|-L)/usr(/|[[:space:]]|\$)#\1\${pcfiledir}/$rel\2#g" "$pc"
done

pcpath="$libdir/pkgconfig:$dest/usr/share/pkgconfig"
rel_pcpath='$ROOT/gpu-deps/usr/lib/'"$multiarch"'/pkgconfig:$ROOT/gpu-deps/usr/share/pkgconfig'
cat > "$dest/env.sh" <<ENV
# source gpu-deps/env.sh  (from the repository root, or set ROOT first)
ROOT="\${ROOT:-\$(pwd)}"
export PKG_CONFIG_PATH="$rel_pcpath\${PKG_CONFIG_PATH:+:\$PKG_CONFIG_PATH}"
export LD_LIBRARY_PATH="\$ROOT/gpu-deps/usr/lib/$multiarch:\$ROOT/gpu-deps/usr/lib/$multiarch/openblas-pthread\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
export PATH="\$ROOT/gpu-deps/usr/bin:\$PATH"
export SDMARK_CMAKE_FLAGS="-DCMAKE_PREFIX_PATH=\$ROOT/gpu-deps/usr -DPKG_CONFIG_EXECUTABLE=\$(command -v pkg-config || echo \$ROOT/gpu-deps/usr/bin/pkgconf)"
ENV

cat <<MSG
gpu-deps: unpacked into $dest ($(du -sh "$dest" | cut -f1))
On the GPU machine, from the repository root:
  source gpu-deps/env.sh
  cmake -S . -B build-gpu \$SDMARK_CMAKE_FLAGS -DSDMARK_CUDA_ARCHS=90
  cmake --build build-gpu -j16 && (cd build-gpu && ctest --output-on-failure)
which sets:
  PKG_CONFIG_PATH=$pcpath
  LD_LIBRARY_PATH=$libdir:$libdir/openblas-pthread
  CMAKE_PREFIX_PATH=$dest/usr
  PATH=$dest/usr/bin:\$PATH   (pkgconf as pkg-config, if the machine has none)
MSG
