#!/bin/sh
# with_icd.sh VENDOR CMD... - CTest wrapper of the per-ICD test variants (tests/CMakeLists.txt).
# OCL_ICD_VENDORS already names a directory holding VENDOR's .icd file only. A vendor that gives
# no device here (Mesa's Clover without a supported GPU, usually) is skipped with the reason
# (exit 77 = SKIP_RETURN_CODE): its test would only repeat "no OpenCL device".
vendor=$1
shift
if command -v clinfo >/dev/null 2>&1 && ! clinfo -l 2>/dev/null | grep -q 'Device #'; then
    echo "skipped: OpenCL vendor '$vendor' ($OCL_ICD_VENDORS) gives no device on this machine"
    exit 77
fi
exec "$@"
