/* cpu_onednn.h — the cpu backend's oneDNN impls (cpu_onednn.c), built with SDMARK_HAVE_ONEDNN:
 * gemm "onednn" (matmul), conv2d "onednn" (convolution), attention "onednn_unfused" and
 * "onednn_sliced" (matmul + softmax + matmul). Storage fp32 or bf16 (fp32 accumulate). */
#ifndef SDMARK_CPU_ONEDNN_H
#define SDMARK_CPU_ONEDNN_H

#ifdef SDMARK_HAVE_ONEDNN

#include <stddef.h>

#include "sdmark/cpu_features.h"
#include "sdmark/status.h"
#include "sdmark/workload.h"

struct cpu_ctx;
struct cpu_dnnl;

enum cpu_dnnl_kind { CPU_DNNL_GEMM, CPU_DNNL_CONV, CPU_DNNL_ATTN_UNFUSED, CPU_DNNL_ATTN_SLICED };

/* Can oneDNN run wl's dtype on this CPU at full speed? SD_OK, or SD_UNSUPPORTED with the reason
 * (bf16 without AVX512-BF16/AMX-BF16, fp16 with this library, tf32, fp16 accumulate). Allocates
 * nothing. */
enum sd_status cpu_dnnl_supports(const struct sd_cpu_features *f, const struct sd_workload *wl,
                                 char *reason, size_t len);

/* Whether this CPU + library run bf16 through a bf16 unit (for device info). */
int cpu_dnnl_has_bf16(const struct sd_cpu_features *f);

/* Build the primitives for wl and allocate (through cpu_alloc) the scratchpad and the internal
 * buffers. SD_OK, SD_OOM (a tracked allocation failed), SD_UNSUPPORTED (oneDNN has no fast
 * kernel for it) or SD_ERROR, with the reason. */
enum sd_status cpu_dnnl_prepare(struct cpu_ctx *c, const struct sd_workload *wl, enum cpu_dnnl_kind kind,
                                struct cpu_dnnl **out, char *reason, size_t len);

/* Run once and wait. in: the op's inputs (2 or 3), out: the output, all in the storage dtype
 * with the workload's plain layout (row-major, NCHW/OIHW, BSD). */
enum sd_status cpu_dnnl_run(struct cpu_dnnl *d, void *const *in, void *out, char *reason, size_t len);

void cpu_dnnl_release(struct cpu_dnnl *d);

/* "oneDNN 2.6.3" (the library loaded at run time) */
const char *cpu_dnnl_version(void);
/* The ISA oneDNN's kernels use here, e.g. "avx512_core_bf16", "avx512_core_amx", "avx2". */
const char *cpu_dnnl_isa(void);

#endif
#endif
