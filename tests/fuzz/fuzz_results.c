/* fuzz_results.c — libFuzzer target: the results reader (sd_results_read) on arbitrary bytes,
 * as a .csv and as a .json file, plus a write/read/write round trip of whatever it accepts.
 * Built and run by scripts/fuzz.sh; the entry point is shared with tests/test_fuzz_regressions.c. */
#include "fuzz_entry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return fuzz_results_one(data, size); }
