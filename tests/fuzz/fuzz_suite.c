/* fuzz_suite.c — libFuzzer target: the suite parser (sd_suite_parse) on arbitrary bytes.
 * Built and run by scripts/fuzz.sh; the entry point is shared with tests/test_fuzz_regressions.c. */
#include "fuzz_entry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return fuzz_suite_one(data, size); }
