/* cuda_internal.h — what the cuda backend's files share (not part of the backend interface).
 *
 * Files (like the OpenCL backend's core / ops / tune):
 *   cuda_core.c    errors, the tracked allocator, probe/open/close, device info, memory stats,
 *                  environment (NVML), the sd_backend_cuda table
 *   cuda_ops.c     impl names, supports(), prepare()/release(), upload/poison/download
 *   cuda_blas.c    cuBLAS paths: gemm "cublas", attention "unfused"/"sliced"
 *   cuda_dnn.c     cuDNN path: conv2d "cudnn" (Find over NCHW and NHWC, best kept)
 *   cuda_timing.c  run(): the stream hold, device events, L2 flush, throttle re-takes, row note
 *   cuda_plan.c    pure C (no CUDA headers): operand mapping, launch configs, layouts, policies
 */
#ifndef SDMARK_CUDA_INTERNAL_H
#define SDMARK_CUDA_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#ifdef SDMARK_HAVE_CUDNN
#include <cudnn.h>
#endif

#include "cuda_kernels.h"
#include "cuda_plan.h"
#include "nvml_loader.h"
#include "sdmark/backend.h"
#include "sdmark/memtrack.h"

enum impl_id {
    IMPL_GEMM_CUBLAS,
    IMPL_GEMM_OWN,
    IMPL_CONV_CUDNN,
    IMPL_CONV_OWN,
    IMPL_ATTN_UNFUSED,
    IMPL_ATTN_SLICED,
    IMPL_ATTN_FLASH,
};

/* Counters of the row being timed (reset by env_begin, read by env_end and the row note). */
struct cuda_row_stats {
    int retaken;               /* samples taken again (hold timed out or throttled) */
    int kept_throttled;        /* samples kept although throttled (re-takes exhausted) */
    int hold_timeouts;
};

struct cuda_ctx {
    int dev;
    int cc_major, cc_minor;
    cudaStream_t stream;
    cudaEvent_t ev0, ev1;
    cublasHandle_t cublas;
#ifdef SDMARK_HAVE_CUDNN
    cudnnHandle_t cudnn;
#endif
    struct sd_memtrack mem;
    bool dead;
    char dead_reason[SD_REASON_LEN];
    struct sd_device_info info;
    struct sd_nvml *nvml;
    char nvml_why[160];
    size_t smem_optin;
    /* stream hold: [0] release flag, [1] timed-out flag, in mapped pinned host memory */
    volatile int *hold_host;
    int *hold_dev;
    /* L2 flush buffer (measurement apparatus, not a row's memory: untracked) */
    void *flush_buf;
    size_t flush_bytes;
    unsigned flush_count;
    struct cuda_row_stats row;
};

struct sd_plan {
    struct cuda_ctx *ctx;
    struct sd_workload wl;
    enum impl_id impl;
    int nsets;
    struct sd_tensors t;
    size_t esz;
    void **in;            /* nsets x 3 device buffers (n_in used) */
    void *out;
    void *scores;         /* unfused: bh*sq*skv, sliced: sq*skv, of score_dtype */
    int score_dtype;      /* enum sd_dtype of the scores (sd_cuda_score_dtype) */
    void *ws;             /* cuBLAS or cuDNN workspace, or the own kernels' split-K partials */
    size_t ws_bytes;
    bool nhwc;            /* tensors live on the device as NHWC / KRSC (cuDNN's pick) */
    bool hold_off;        /* the stream hold timed out once: time this plan without it */
    bool flush_each;      /* the harness flushes L2 before each timed sample (cold rows) */
    bool warmed;          /* ran once untimed: kernels loaded (lazy loading) before any hold */
    char note[SD_REASON_LEN];      /* how the plan runs (algorithm, layout, score dtype) */
    struct sd_cuda_igemm_args ig;  /* own gemm/conv: pointers filled at run time */
    struct sd_cuda_attn_args at;   /* flash */
#ifdef SDMARK_HAVE_CUDNN
    cudnnTensorDescriptor_t xd, yd;
    cudnnFilterDescriptor_t wd;
    cudnnConvolutionDescriptor_t cd;
    cudnnConvolutionFwdAlgo_t algo;
#endif
};

/* ---- errors (cuda_core.c): one-line reasons with file:line; sticky errors kill the context */
const char *sd_cuda_base_name(const char *file);
bool sd_cuda_sticky(cudaError_t e); /* the context is unusable after e */
enum sd_status sd_cuda_fail(struct cuda_ctx *c, cudaError_t e, const char *what, const char *file,
                            int line, char *reason, size_t len);
enum sd_status sd_cublas_fail(struct cuda_ctx *c, cublasStatus_t s, const char *what,
                              const char *file, int line, char *reason, size_t len);

#define CUDA_TRY(ctx, call)                                                                       \
    do {                                                                                          \
        cudaError_t e_ = (call);                                                                  \
        if (e_ != cudaSuccess)                                                                    \
            return sd_cuda_fail((ctx), e_, #call, __FILE__, __LINE__, reason, len);               \
    } while (0)

#define CUBLAS_TRY(ctx, call)                                                                     \
    do {                                                                                          \
        cublasStatus_t s_ = (call);                                                               \
        if (s_ != CUBLAS_STATUS_SUCCESS)                                                          \
            return sd_cublas_fail((ctx), s_, #call, __FILE__, __LINE__, reason, len);             \
    } while (0)

#define DEAD_CHECK(ctx)                                                                           \
    do {                                                                                          \
        if ((ctx)->dead) {                                                                        \
            snprintf(reason, len, "%s", (ctx)->dead_reason);                                      \
            return SD_ERROR;                                                                      \
        }                                                                                         \
    } while (0)

/* ---- tracked device memory (cuda_core.c) */
enum sd_status sd_cuda_malloc(struct cuda_ctx *c, void **p, size_t bytes, const char *what,
                              char *reason, size_t len);
void sd_cuda_free(struct cuda_ctx *c, void *p);

/* ---- ops (cuda_ops.c) */
extern const char *const sd_cuda_gemm_impls[], *const sd_cuda_conv_impls[],
    *const sd_cuda_attn_impls[];
enum sd_status sd_cuda_supports(void *vctx, const struct sd_workload *wl, const char *impl,
                                char *reason, size_t len);
enum sd_status sd_cuda_prepare(void *vctx, const struct sd_workload *wl, const char *impl,
                               int nsets, struct sd_plan **out, char *reason, size_t len);
void sd_cuda_release(struct sd_plan *p);
enum sd_status sd_cuda_upload(struct sd_plan *p, int set, const float *const *inputs, char *reason,
                              size_t len);
enum sd_status sd_cuda_poison(struct sd_plan *p, char *reason, size_t len);
enum sd_status sd_cuda_download(struct sd_plan *p, float *out, char *reason, size_t len);
/* Enqueue one run of the plan on input set `set` (no synchronisation). */
enum sd_status sd_cuda_enqueue(struct sd_plan *p, int set, char *reason, size_t len);

/* ---- cuBLAS paths (cuda_blas.c) */
bool sd_cuda_uses_cublas(const struct sd_plan *p);
enum sd_status sd_cuda_blas_setup(struct sd_plan *p, char *reason, size_t len);
enum sd_status sd_cuda_blas_gemm(struct sd_plan *p, void *const *in, char *reason, size_t len);
enum sd_status sd_cuda_blas_attention(struct sd_plan *p, void *const *in, char *reason, size_t len);

/* ---- cuDNN path (cuda_dnn.c) */
#ifdef SDMARK_HAVE_CUDNN
enum sd_status sd_cudnn_fail(struct cuda_ctx *c, cudnnStatus_t s, const char *what, const char *file,
                             int line, char *reason, size_t len);
#endif
enum sd_status sd_cuda_dnn_setup(struct sd_plan *p, char *reason, size_t len);
enum sd_status sd_cuda_dnn_conv(struct sd_plan *p, void *const *in, char *reason, size_t len);
void sd_cuda_dnn_release(struct sd_plan *p);

/* ---- timing (cuda_timing.c) */
enum sd_status sd_cuda_timing_open(struct cuda_ctx *c, char *reason, size_t len);
void sd_cuda_timing_close(struct cuda_ctx *c);
enum sd_status sd_cuda_run(struct sd_plan *p, int set, double *ms, char *reason, size_t len);
enum sd_status sd_cuda_flush_cache(struct sd_plan *p, char *reason, size_t len);
void sd_cuda_plan_note(struct sd_plan *p, char *note, size_t len);

#endif
