/* memory_check.h — the memory model checked against measured peak memory (src/analysis/memory_check.c). */
#ifndef SDMARK_MEMORY_CHECK_H
#define SDMARK_MEMORY_CHECK_H

#include <stdbool.h>
#include <stddef.h>

#include "sdmark/result_set.h"

/* The model-vs-measured memory check (src/analysis/memory_check.c): for every device, unfused attention rows
 * whose shape was also measured with a fused impl (flash) or, failing that, a sliced one of the same
 * library family give measured score bytes = peak(unfused) - peak(partner) (same inputs, rotation
 * sets and output on both); hot-cache conv rows give peak vs one set of tensors. Agreement = within
 * 10 %. An unfused row with no partner is listed with judged = false (ok stays true). */
struct sd_mem_check {
    char device[200];
    char what[256];
    double model, measured;
    bool judged; /* false: listed only (the note says why); ok is then true */
    bool ok;
    char note[160];
};
/* Returns the number of checks written (up to max). */
size_t sd_mem_check_rows(const struct sd_rset *s, struct sd_mem_check *out, size_t max);

#endif
