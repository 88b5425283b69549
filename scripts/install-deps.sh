#!/bin/sh
# install-deps.sh — install the Debian packages sdmark's build, tests and default run need
# (the C compiler toolchain and the optional CUDA toolkit aside). Idempotent: prints nothing and
# does nothing when everything is present. Called by `make bench` and `make test`.
#   OpenCL ICD loader + headers, PoCL (the OpenCL CPU device used when there is no GPU), Mesa's
#   OpenCL ICD (rusticl on llvmpipe with RUSTICL_ENABLE=llvmpipe, plus Clover, usually with no
#   devices: the second implementation the OpenCL tests run on, so non-portable kernels fail), clinfo,
#   CMocka (tests), cJSON (JSON results), OpenBLAS (cpu backend), CLBlast (optional OpenCL peer),
#   oneDNN (optional cpu impls onednn*: fp32/bf16 matmul, conv, softmax),
#   cmake + pkg-config (build), locales (glibc locale sources: the decimal-comma locale test compiles
#   de_DE.UTF-8 into its temp dir with localedef),
#   munge + slurmctld + slurmd + slurm-client (test fleet_slurm starts a one-node Slurm on localhost
#   and runs scripts/run-fleet.sbatch: ~13 s to install, ~20 s to run; it skips without them),
#   chromium (test_report renders the HTML report headless and checks the first screen: ~30 s to
#   install, ~8 s to run; skipped without it).
set -eu

PKGS="cmake pkg-config ocl-icd-opencl-dev opencl-headers pocl-opencl-icd mesa-opencl-icd clinfo libcmocka-dev libcjson-dev \
libopenblas-dev libclblast-dev libdnnl-dev locales \
munge slurmctld slurmd slurm-client chromium"

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-deps: missing packages:$missing — and no apt-get here; install them by hand" >&2
    exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
        echo "install-deps: need root (or sudo) to install:$missing" >&2
        exit 1
    fi
fi
echo "install-deps: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
