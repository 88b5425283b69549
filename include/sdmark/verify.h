/* verify.h — CPU reference in double precision and the pass/fail rule.
 *
 * The reference is computed for a sample of the output (fixed seed: rows of C for gemm,
 * output pixels for conv2d, query rows for attention) and compared with the device output
 * relative to the RMS of the reference sample; the whole output is always checked for NaN/Inf.
 * Tolerances (docs/measurement.md): fp32 1e-4 (K<=4096, scaled up beyond), tf32 5e-3,
 * fp16 with fp32 acc 5e-3, bf16 3e-2 (its output rounding alone reaches ~0.02 rms: verify.c),
 * fp16 with fp16 acc 2e-2.
 */
#ifndef SDMARK_VERIFY_H
#define SDMARK_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include "sdmark/workload.h"

struct sd_verify_result {
    bool pass;
    double max_rel_err;   /* max |out - ref| / rms(ref) over the sample */
    double tolerance;
    size_t checked;       /* reference elements compared */
    char reason[160];     /* why it failed: "NaN at element 12", "max_rel_err 3e-2 > 1e-4 at ..." */
};

double sd_verify_tolerance(const struct sd_workload *wl);

/* inputs: the host fp32 inputs the device was given (already rounded to the dtype);
 * out: device output converted to fp32. Returns 0 (check vr->pass). */
int sd_verify(const struct sd_workload *wl, const float *const *inputs, const float *out,
              struct sd_verify_result *vr);

/* Full references in double for small shapes (tests): out has sd_workload_tensors().out elems. */
void sd_ref_gemm(const struct sd_workload *wl, const float *a, const float *b, double *c);
void sd_ref_conv2d(const struct sd_workload *wl, const float *x, const float *w, double *y);
void sd_ref_attention(const struct sd_workload *wl, const float *q, const float *k,
                      const float *v, double *o);
/* The full reference of any op: inputs as sd_workload_tensors() lists them. */
void sd_ref(const struct sd_workload *wl, const float *const *inputs, double *out);

/* Deterministic input generator: uniform in [-1, 1), fixed by seed. */
void sd_fill_random(float *x, size_t n, uint64_t seed);

#endif
