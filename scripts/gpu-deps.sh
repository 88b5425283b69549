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
# On the GPU machine:   scripts/gpu-session.sh OUTDIR   (sources gpu-deps/env.sh itself), or by hand
#                       source gpu-deps/env.sh   (or use the flags this script prints)
# env.sh keeps the machine's own pkg-config when it has one: the carried pkgconf is Debian's and
# needs glibc >= 2.34, so it goes on PATH only where there is no other and it runs.
#
# cuDNN (the conv2d 'cudnn' impl; src/backends/cuda/CMakeLists.txt finds cudnn.h and libcudnn.so
# under $CUDNN_ROOT or the toolkit) is not a Debian package. --cudnn copies it into gpu-deps/cudnn
# from, in order: this machine's CUDA toolkit, an installed nvidia-cudnn-cu* wheel (PyTorch's), or
# `pip download nvidia-cudnn-cu<CUDA major>`. --cudnn=headers copies only the headers and the
# dispatcher libcudnn.so.9 (~2 MB: enough to build; at run time the engine libraries must be on the
# GPU machine, e.g. in its PyTorch wheel); --cudnn=full everything (~900 MB, too big for a 64 MiB
# carry). env.sh then sets CUDNN_ROOT.
#
# Usage: scripts/gpu-deps.sh [--no-opencl] [--no-openblas] [--cudnn[=headers|full]] [DEST]
#        (DEST default: <repo>/gpu-deps; --cudnn alone = headers)
set -euo pipefail

want_opencl=1
want_openblas=1
want_cudnn=""
dest=""
for a in "$@"; do
    case "$a" in
    --no-opencl) want_opencl=0 ;;
    --no-openblas) want_openblas=0 ;;
    --cudnn|--cudnn=headers) want_cudnn=headers ;;
    --cudnn=full) want_cudnn=full ;;
    --cudnn=*) echo "gpu-deps: --cudnn=headers or --cudnn=full, not '$a'" >&2; exit 2 ;;
    -h|--help) sed -n '2,28p' "$0"; exit 0 ;;
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

# cuDNN into $dest/cudnn/{include,lib} (see the header): toolkit, installed wheel, or pip download.
copy_cudnn() {
    local src="" tk py
    tk="$(dirname "$(dirname "$(command -v nvcc 2> /dev/null || echo /usr/local/cuda/bin/nvcc)")")"
    py="$(python3 -c 'import nvidia.cudnn as c; print(list(c.__path__)[0])' 2> /dev/null || true)"
    if [ -f "$tk/include/cudnn.h" ] && ls "$tk"/lib64/libcudnn.so.* > /dev/null 2>&1; then
        src="$tk"; libsrc="$tk/lib64"
    elif [ -n "$py" ] && [ -f "$py/include/cudnn.h" ]; then
        src="$py"; libsrc="$py/lib"
    else
        local major whl tmp
        major="$(nvcc --version 2> /dev/null | sed -n 's/.*release \([0-9]*\)\..*/\1/p')"
        tmp="$(mktemp -d)"
        echo "gpu-deps: pip download nvidia-cudnn-cu${major:-12} (large)" >&2
        pip download --no-deps -q -d "$tmp" "nvidia-cudnn-cu${major:-12}" || { echo "gpu-deps: no cuDNN found" >&2; return 1; }
        whl="$(ls "$tmp"/*.whl | head -n1)"
        (cd "$tmp" && python3 -m zipfile -e "$whl" x)
        src="$tmp/x/nvidia/cudnn"; libsrc="$src/lib"
    fi
    rm -rf "$dest/cudnn"
    mkdir -p "$dest/cudnn/include" "$dest/cudnn/lib"
    cp -p "$src"/include/cudnn*.h "$dest/cudnn/include/"
    if [ "$want_cudnn" = full ]; then
        cp -P "$libsrc"/libcudnn*.so* "$dest/cudnn/lib/"
    else
        cp -L "$(ls "$libsrc"/libcudnn.so.[0-9]* | head -n1)" "$dest/cudnn/lib/"
    fi
    local so; so="$(cd "$dest/cudnn/lib" && ls libcudnn.so.[0-9]* | sort | head -n1)"
    [ -e "$dest/cudnn/lib/libcudnn.so" ] || ln -sf "$so" "$dest/cudnn/lib/libcudnn.so"
    echo "gpu-deps: cuDNN ($want_cudnn) from $src into $dest/cudnn ($(du -sh "$dest/cudnn" | cut -f1))" >&2
}
[ -z "$want_cudnn" ] || copy_cudnn || exit 1

pcpath="$libdir/pkgconfig:$dest/usr/share/pkgconfig"
rel_pcpath='$ROOT/gpu-deps/usr/lib/'"$multiarch"'/pkgconfig:$ROOT/gpu-deps/usr/share/pkgconfig'
cat > "$dest/env.sh" <<ENV
# source gpu-deps/env.sh  (from the repository root, or set ROOT first)
ROOT="\${ROOT:-\$(pwd)}"
export PKG_CONFIG_PATH="$rel_pcpath\${PKG_CONFIG_PATH:+:\$PKG_CONFIG_PATH}"
export LD_LIBRARY_PATH="\$ROOT/gpu-deps/usr/lib/$multiarch:\$ROOT/gpu-deps/usr/lib/$multiarch/openblas-pthread\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
# The machine's own pkg-config first; the carried pkgconf (needs glibc >= 2.34) only where there is
# none and it runs.
if ! command -v pkg-config > /dev/null 2>&1 && ! command -v pkgconf > /dev/null 2>&1; then
    if "\$ROOT/gpu-deps/usr/bin/pkgconf" --version > /dev/null 2>&1; then
        export PATH="\$ROOT/gpu-deps/usr/bin:\$PATH"
    else
        echo "gpu-deps: no pkg-config on this machine and the carried pkgconf does not run here (glibc < 2.34?)" >&2
    fi
fi
SDMARK_PKG_CONFIG="\$(command -v pkg-config || command -v pkgconf || echo \$ROOT/gpu-deps/usr/bin/pkgconf)"
export SDMARK_CMAKE_FLAGS="-DCMAKE_PREFIX_PATH=\$ROOT/gpu-deps/usr -DPKG_CONFIG_EXECUTABLE=\$SDMARK_PKG_CONFIG"
if [ -f "\$ROOT/gpu-deps/cudnn/include/cudnn.h" ] && [ -z "\${CUDNN_ROOT:-}" ]; then
    export CUDNN_ROOT="\$ROOT/gpu-deps/cudnn" LD_LIBRARY_PATH="\$ROOT/gpu-deps/cudnn/lib:\$LD_LIBRARY_PATH"
fi
ENV

cat <<MSG
gpu-deps: unpacked into $dest ($(du -sh "$dest" | cut -f1))
On the GPU machine, from the repository root:
  scripts/gpu-session.sh OUTDIR      (build for the local arch, ctest, runs, summary), or by hand:
  source gpu-deps/env.sh
  cmake -S . -B build-gpu \$SDMARK_CMAKE_FLAGS -DSDMARK_CUDA_ARCHS=<nvidia-smi compute_cap, e.g. 90>
  cmake --build build-gpu -j && (cd build-gpu && ctest --output-on-failure)
which sets:
  PKG_CONFIG_PATH=$pcpath
  LD_LIBRARY_PATH=$libdir:$libdir/openblas-pthread
  CMAKE_PREFIX_PATH=$dest/usr
  PATH=$dest/usr/bin:\$PATH   (pkgconf as pkg-config, only if the machine has none and it runs)
  CUDNN_ROOT=$dest/cudnn       (when copied with --cudnn)
MSG
