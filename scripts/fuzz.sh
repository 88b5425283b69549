#!/usr/bin/env bash
# fuzz.sh [SECONDS] — build the libFuzzer targets (suite parser, results reader) with
# ASan+UBSan and run each for SECONDS (default 600), one after the other.
#
#   targets   tests/fuzz/fuzz_suite.c, tests/fuzz/fuzz_results.c (entry points in fuzz_entry.h)
#   seeds     tests/fuzz/corpus/{suite,results}/        (read only)
#   corpus    build-fuzz/corpus/{suite,results}/        (grows across runs, not committed)
#   crashes   tests/fuzz/crashes/<target>-crash-*       (copy a fixed one into
#             tests/fuzz/regressions/<target>/ so test_fuzz_regressions replays it forever)
#
# Needs clang with libFuzzer (Debian: clang + libclang-rt-14-dev) and libcjson-dev; not needed for
# `make test`. Environment: FUZZ_JOBS (parallel workers per target, default 1), FUZZ_ONLY=suite|results,
# CC (default clang). Exit status 1 when any target found a crash.
set -euo pipefail

SECONDS_PER_TARGET="${1:-600}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$ROOT/build-fuzz"
CRASHES="$ROOT/tests/fuzz/crashes"
CC="${CC:-clang}"
JOBS="${FUZZ_JOBS:-1}"

if ! command -v "$CC" >/dev/null 2>&1; then
    echo "fuzz.sh: $CC not found (Debian: apt-get install clang libclang-rt-14-dev)" >&2
    exit 2
fi
if [[ ! -f /usr/include/cjson/cJSON.h ]]; then
    echo "fuzz.sh: cJSON headers not found (Debian: apt-get install libcjson-dev)" >&2
    exit 2
fi

mkdir -p "$OUT" "$CRASHES"
CFLAGS=(-std=gnu11 -g -O1 -fno-omit-frame-pointer
        -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
        -I"$ROOT/include" -I"$ROOT/src" -I/usr/include/cjson
        -DSDMARK_SOURCE_BENCH_DIR="\"$ROOT/bench\"" -DSDMARK_VERSION="\"fuzz\"" -DSDMARK_GIT_COMMIT="\"fuzz\"")
CORE=("$ROOT/src/core/suite.c" "$ROOT/src/core/workload.c" "$ROOT/src/core/result_file.c" "$ROOT/src/core/fault.c" "$ROOT/src/core/status.c")

targets=(suite results)
[[ -n "${FUZZ_ONLY:-}" ]] && targets=("$FUZZ_ONLY")

for t in "${targets[@]}"; do
    echo "fuzz.sh: building fuzz_$t"
    "$CC" "${CFLAGS[@]}" -o "$OUT/fuzz_$t" "$ROOT/tests/fuzz/fuzz_$t.c" "${CORE[@]}" -lcjson -lm
done

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:allocator_may_return_null=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

status=0
for t in "${targets[@]}"; do
    mkdir -p "$OUT/corpus/$t"
    log="$OUT/fuzz_$t.log"
    echo "fuzz.sh: running fuzz_$t for ${SECONDS_PER_TARGET}s (log: $log)"
    args=("$OUT/corpus/$t" "$ROOT/tests/fuzz/corpus/$t"
          -max_total_time="$SECONDS_PER_TARGET" -max_len=16384 -timeout=20 -rss_limit_mb=2048
          -print_final_stats=1 -artifact_prefix="$CRASHES/$t-")
    if [[ "$JOBS" -gt 1 ]]; then
        args+=(-fork="$JOBS" -ignore_crashes=1)
    fi
    if ! "$OUT/fuzz_$t" "${args[@]}" >"$log" 2>&1; then
        status=1
        echo "fuzz.sh: fuzz_$t FOUND A CRASH — see $log and $CRASHES/" >&2
        grep -E "^(==[0-9]+==ERROR|SUMMARY|.*runtime error|fuzz oracle failed)" "$log" | head -5 >&2 || true
    fi
    grep -E "^stat::number_of_executed_units|^stat::peak_rss_mb|^Done [0-9]+ runs" "$log" | sed "s/^/fuzz_$t: /" || true
    echo "fuzz_$t: corpus $(ls "$OUT/corpus/$t" | wc -l) files"
done
exit $status
