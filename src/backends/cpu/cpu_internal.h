/* cpu_internal.h — compute routines of the cpu backend (cpu_ops.c), shared with cpu_backend.c. */
#ifndef SDMARK_CPU_INTERNAL_H
#define SDMARK_CPU_INTERNAL_H

#include <stddef.h>
#include "sdmark/workload.h"

struct cpu_ctx;

/* The backend's tracked allocator (cpu_backend.c): every buffer of a plan, library scratchpads
 * included, so mem_stats() reports the true peak. NULL + reason (SD_OOM) above the limit. */
void *cpu_alloc(struct cpu_ctx *c, size_t bytes, const char *what, char *reason, size_t len);
void cpu_free(struct cpu_ctx *c, void *ptr);

/* Threads for the non-BLAS loops (im2col, softmax): the OpenBLAS thread count. */
int cpu_threads(void);

/* C[b] = A[b] * B[b], row-major, one cblas_sgemm per batch entry. */
void cpu_gemm(const struct sd_workload *wl, const float *a, const float *b, float *c);

/* Floats of im2col workspace conv2d needs (one batch image); 0 for 1x1 stride-1 pad-0. */
size_t cpu_conv_workspace(const struct sd_workload *wl);
void cpu_conv_im2col(const struct sd_workload *wl, const float *x, const float *w, float *y,
                     float *col);

/* Score-matrix floats each attention impl needs. */
size_t cpu_attn_scores_unfused(const struct sd_workload *wl); /* bh * seq_q * seq_kv */
size_t cpu_attn_scores_sliced(const struct sd_workload *wl);  /* seq_q * seq_kv */
void cpu_attention_unfused(const struct sd_workload *wl, const float *q, const float *k,
                           const float *v, float *o, float *scores);
void cpu_attention_sliced(const struct sd_workload *wl, const float *q, const float *k,
                          const float *v, float *o, float *scores);

#endif
