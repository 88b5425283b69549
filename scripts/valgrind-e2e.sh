#!/bin/sh
# valgrind-e2e.sh — the host code of one end-to-end run (OpenCL on PoCL + the cpu backend, one
# workload per op) under valgrind memcheck: no invalid access, no uninitialised use, no definite
# leak in sdmark's code. Third-party runtimes (ld.so, PoCL, LLVM) are suppressed by name in
# tests/valgrind.supp. Needs a non-sanitized build (ASan and valgrind do not mix): BUILD=build.
# Takes ~2 minutes on 2 cores (kernels run under emulation). Called by .ci/run after `make test`.
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
if [ ! -x "$BUILD/sdmark" ]; then
    make build BUILD="$BUILD" >/dev/null
fi
command -v valgrind >/dev/null 2>&1 || { echo "valgrind-e2e: valgrind not installed - skipped" >&2; exit 0; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/vg.suite" <<'SUITE'
gemm       g.odd        2   m=67 n=45 k=33
conv2d     c.3x3        1   batch=1 c_in=5 c_out=7 h=9 w=11 r=3 s=3 stride=1 pad=1
attention  a.cross      1   batch_heads=2 seq_q=33 seq_kv=77 head_dim=64
SUITE
export POCL_CACHE_DIR="$tmp/pocl-cache" SDMARK_CACHE_DIR="$tmp/sdmark-cache"
args="run --suite $tmp/vg.suite --backend opencl,cpu --impl own,unfused,flash,openblas,im2col --no-tune --quiet \
--min-time 0.001 --min-samples 2 --warmup-ms 0 --timeout 1"
# Warm PoCL's kernel cache outside valgrind (compiling under emulation takes minutes).
# shellcheck disable=SC2086
"$BUILD/sdmark" $args --out "$tmp/warm" >/dev/null 2>&1 || true
# shellcheck disable=SC2086
if valgrind --error-exitcode=99 --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite \
        --suppressions=tests/valgrind.supp --num-callers=30 "$BUILD/sdmark" $args --out "$tmp/out" \
        >"$tmp/valgrind.log" 2>&1; then
    grep -E "ERROR SUMMARY" "$tmp/valgrind.log" >&2
    echo "valgrind-e2e: clean" >&2
else
    rc=$?
    cat "$tmp/valgrind.log" >&2
    echo "valgrind-e2e: FAILED (exit $rc)" >&2
    exit 1
fi
