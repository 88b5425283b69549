/* cuda_dnn.c — the cuDNN path: conv2d "cudnn" at its best, as PyTorch users with
 * cudnn.benchmark and channels_last get it: cudnnFindConvolutionForwardAlgorithmEx times every
 * forward algorithm in NCHW and in NHWC (filters KRSC), and the plan keeps the fastest algorithm
 * of the faster layout; the row note names layout, algorithm and both Find times. An NHWC plan
 * converts its inputs on upload and its output on download (cuda_ops.c), outside the timing.
 * cuDNN 9 status codes map to rows through sd_cuda_cudnn_status_class (cuda_plan.c): device or
 * host allocation failure -> oom, every NOT_SUPPORTED sub-code -> unsupported. */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>

#include "cuda_internal.h"

#ifndef SDMARK_HAVE_CUDNN

enum sd_status sd_cuda_dnn_setup(struct sd_plan *p, char *reason, size_t len)
{
    snprintf(reason, len, "built without cuDNN");
    return SD_UNSUPPORTED;
}
enum sd_status sd_cuda_dnn_conv(struct sd_plan *p, void *const *in, char *reason, size_t len)
{
    snprintf(reason, len, "built without cuDNN");
    return SD_UNSUPPORTED;
}
void sd_cuda_dnn_release(struct sd_plan *p) { (void)p; }

#else

#if CUDNN_MAJOR >= 9
_Static_assert(CUDNN_STATUS_NOT_SUPPORTED == 3000 && CUDNN_STATUS_NOT_SUPPORTED_SHAPE == 3002 &&
                   CUDNN_STATUS_INTERNAL_ERROR_HOST_ALLOCATION_FAILED == 4003 &&
                   CUDNN_STATUS_INTERNAL_ERROR_DEVICE_ALLOCATION_FAILED == 4004,
               "cuDNN 9 status codes moved: update sd_cuda_cudnn_status_class");
#endif

static enum sd_status status_class(cudnnStatus_t s)
{
#if CUDNN_MAJOR >= 9
    return (enum sd_status)sd_cuda_cudnn_status_class((int)s);
#else
    return s == CUDNN_STATUS_ALLOC_FAILED ? SD_OOM : s == CUDNN_STATUS_NOT_SUPPORTED ? SD_UNSUPPORTED : SD_ERROR;
#endif
}

enum sd_status sd_cudnn_fail(struct cuda_ctx *c, cudnnStatus_t s, const char *what, const char *file,
                             int line, char *reason, size_t len)
{
    cudaError_t e = cudaPeekAtLastError();
    if (e != cudaSuccess && sd_cuda_sticky(e))
        return sd_cuda_fail(c, e, what, file, line, reason, len);
    enum sd_status st = status_class(s);
    snprintf(reason, len, "%s%s failed: %s (%d) at %s:%d", st == SD_OOM ? "out of memory: " : "", what,
             cudnnGetErrorString(s), (int)s, sd_cuda_base_name(file), line);
    return st == SD_OK ? SD_ERROR : st;
}

#define CUDNN_TRY(ctx, call)                                                                      \
    do {                                                                                          \
        cudnnStatus_t s_ = (call);                                                                \
        if (s_ != CUDNN_STATUS_SUCCESS)                                                           \
            return sd_cudnn_fail((ctx), s_, #call, __FILE__, __LINE__, reason, len);              \
    } while (0)

static const char *algo_name(cudnnConvolutionFwdAlgo_t a)
{
    static const char *const names[] = {"IMPLICIT_GEMM", "IMPLICIT_PRECOMP_GEMM", "GEMM", "DIRECT",
                                        "FFT", "FFT_TILING", "WINOGRAD", "WINOGRAD_NONFUSED"};
    return (unsigned)a < sizeof(names) / sizeof(names[0]) ? names[a] : "?";
}

/* fp32 must not silently use TF32 tensor cores (cuDNN's default on sm_80+): FMA math. */
static cudnnMathType_t wanted_math(const struct sd_workload *wl)
{
    return wl->dtype == SD_FP32 ? CUDNN_FMA_MATH : wl->dtype == SD_TF32 ? CUDNN_DEFAULT_MATH : CUDNN_TENSOR_OP_MATH;
}

/* Descriptors of the plan in one layout (NCHW, or NHWC with KRSC filters). */
static enum sd_status set_descs(struct sd_plan *p, cudnnTensorFormat_t fmt, char *reason, size_t len)
{
    struct cuda_ctx *c = p->ctx;
    const struct sd_workload *wl = &p->wl;
    const cudnnDataType_t dt = wl->dtype == SD_FP16 ? CUDNN_DATA_HALF
                             : wl->dtype == SD_BF16 ? CUDNN_DATA_BFLOAT16 : CUDNN_DATA_FLOAT;
    const cudnnDataType_t ct = (wl->dtype == SD_FP16 && wl->acc == SD_FP16) ? CUDNN_DATA_HALF : CUDNN_DATA_FLOAT;
    if (!p->xd) {
        CUDNN_TRY(c, cudnnCreateTensorDescriptor(&p->xd));
        CUDNN_TRY(c, cudnnCreateTensorDescriptor(&p->yd));
        CUDNN_TRY(c, cudnnCreateFilterDescriptor(&p->wd));
        CUDNN_TRY(c, cudnnCreateConvolutionDescriptor(&p->cd));
    }
    CUDNN_TRY(c, cudnnSetTensor4dDescriptor(p->xd, fmt, dt, (int)wl->batch, (int)wl->c_in,
                                            (int)sd_conv_in_h(wl), (int)sd_conv_in_w(wl)));
    CUDNN_TRY(c, cudnnSetFilter4dDescriptor(p->wd, dt, fmt, (int)wl->c_out, (int)wl->c_in, (int)wl->r,
                                            (int)wl->s));
    CUDNN_TRY(c, cudnnSetConvolution2dDescriptor(p->cd, (int)wl->pad, (int)wl->pad, (int)wl->stride,
                                                 (int)wl->stride, 1, 1, CUDNN_CROSS_CORRELATION, ct));
    CUDNN_TRY(c, cudnnSetConvolutionMathType(p->cd, wanted_math(wl)));
    int on, oc, oh, ow;
    CUDNN_TRY(c, cudnnGetConvolution2dForwardOutputDim(p->cd, p->xd, p->wd, &on, &oc, &oh, &ow));
    if (on != wl->batch || oc != wl->c_out || oh != wl->h || ow != wl->w) {
        snprintf(reason, len, "cudnn output %dx%dx%dx%d differs from the workload's", on, oc, oh, ow);
        return SD_ERROR;
    }
    CUDNN_TRY(c, cudnnSetTensor4dDescriptor(p->yd, fmt, dt, on, oc, oh, ow));
    return SD_OK;
}

/* Find scratch: measurement apparatus for prepare only (untracked, freed before the row runs). */
struct find_scratch {
    void *ws;
    size_t bytes;
};

/* Time every algorithm in one layout; *best gets the fastest usable one (status SUCCESS, FMA
 * math for fp32 rows). SD_UNSUPPORTED when none is usable. */
static enum sd_status find_layout(struct sd_plan *p, cudnnTensorFormat_t fmt, const struct find_scratch *fs,
                                  cudnnConvolutionFwdAlgoPerf_t *best, char *reason, size_t len)
{
    struct cuda_ctx *c = p->ctx;
    enum sd_status st = set_descs(p, fmt, reason, len);
    if (st != SD_OK)
        return st;
    cudnnConvolutionFwdAlgoPerf_t perf[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
    int n = 0;
    CUDNN_TRY(c, cudnnFindConvolutionForwardAlgorithmEx(c->cudnn, p->xd, p->in[0], p->wd, p->in[1], p->cd,
                                                        p->yd, p->out, CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &n,
                                                        perf, fs->ws, fs->bytes));
    for (int i = 0; i < n; i++) { /* sorted fastest first */
        if (perf[i].status != CUDNN_STATUS_SUCCESS)
            continue;
        if (p->wl.dtype == SD_FP32 && perf[i].mathType != CUDNN_FMA_MATH)
            continue; /* DEFAULT_MATH may use TF32 on sm_80+: not an fp32 row any more */
        *best = perf[i];
        return SD_OK;
    }
    snprintf(reason, len, "cudnn %s: no forward algorithm ran", fmt == CUDNN_TENSOR_NHWC ? "NHWC" : "NCHW");
    return SD_UNSUPPORTED;
}

/* Find with a scratch workspace: the smaller of 1/4 of the free memory and 1 GiB. */
static enum sd_status find_scratch_alloc(struct cuda_ctx *c, struct find_scratch *fs, char *reason, size_t len)
{
    size_t free_b = 0, total = 0;
    CUDA_TRY(c, cudaMemGetInfo(&free_b, &total));
    fs->bytes = free_b / 4 < (1u << 30) ? free_b / 4 : (1u << 30);
    fs->ws = NULL;
    if (fs->bytes && cudaMalloc(&fs->ws, fs->bytes) != cudaSuccess) {
        (void)cudaGetLastError();
        fs->ws = NULL;
        fs->bytes = 0; /* Find then times only the algorithms that need no workspace */
    }
    return SD_OK;
}

/* Benign finite values in the buffers Find runs on (0x3c bytes: ~1.06 in fp16, ~0.011 in fp32/bf16). */
static enum sd_status fill_for_find(struct sd_plan *p, char *reason, size_t len)
{
    struct cuda_ctx *c = p->ctx;
    CUDA_TRY(c, cudaMemsetAsync(p->in[0], 0x3c, p->t.in[0] * p->esz, c->stream));
    CUDA_TRY(c, cudaMemsetAsync(p->in[1], 0x3c, p->t.in[1] * p->esz, c->stream));
    CUDA_TRY(c, cudaStreamSynchronize(c->stream));
    return SD_OK;
}

/* Keep the faster layout's best algorithm: descriptors, math type, tracked workspace, note. */
static enum sd_status keep_best(struct sd_plan *p, bool nhwc, const cudnnConvolutionFwdAlgoPerf_t *b,
                                const char *times, char *reason, size_t len)
{
    struct cuda_ctx *c = p->ctx;
    enum sd_status st = set_descs(p, nhwc ? CUDNN_TENSOR_NHWC : CUDNN_TENSOR_NCHW, reason, len);
    if (st != SD_OK)
        return st;
    CUDNN_TRY(c, cudnnSetConvolutionMathType(p->cd, b->mathType));
    p->nhwc = nhwc;
    p->algo = b->algo;
    p->ws_bytes = b->memory;
    if (p->ws_bytes && (st = sd_cuda_malloc(c, &p->ws, p->ws_bytes, "cudnn workspace", reason, len)) != SD_OK)
        return st;
    snprintf(p->note, sizeof(p->note), "cudnn %s algo=%s math=%s (Find: %s) workspace=%zu",
             nhwc ? "NHWC" : "NCHW", algo_name(b->algo),
             b->mathType == CUDNN_TENSOR_OP_MATH ? "tensor_op" : b->mathType == CUDNN_FMA_MATH ? "fma" : "default",
             times, p->ws_bytes);
    return SD_OK;
}

enum sd_status sd_cuda_dnn_setup(struct sd_plan *p, char *reason, size_t len)
{
    struct cuda_ctx *c = p->ctx;
    struct find_scratch fs;
    enum sd_status st = fill_for_find(p, reason, len);
    if (st == SD_OK)
        st = find_scratch_alloc(c, &fs, reason, len);
    if (st != SD_OK)
        return st;
    cudnnConvolutionFwdAlgoPerf_t best[2];
    char why[2][SD_REASON_LEN] = {"", "cudnn NHWC: not tried (context lost)"};
    enum sd_status fst[2];
    fst[0] = find_layout(p, CUDNN_TENSOR_NCHW, &fs, &best[0], why[0], sizeof(why[0]));
    fst[1] = c->dead ? SD_ERROR : find_layout(p, CUDNN_TENSOR_NHWC, &fs, &best[1], why[1], sizeof(why[1]));
    cudaFree(fs.ws);
    if (fst[0] != SD_OK && fst[1] != SD_OK) {
        snprintf(reason, len, "%s; %s", why[0], why[1]);
        return fst[0] == SD_UNSUPPORTED ? fst[1] : fst[0];
    }
    const bool nhwc = fst[1] == SD_OK && (fst[0] != SD_OK || best[1].time < best[0].time);
    char t[2][24], times[64];
    for (int i = 0; i < 2; i++)
        if (fst[i] == SD_OK)
            snprintf(t[i], sizeof(t[i]), "%.4g ms", best[i].time);
        else
            snprintf(t[i], sizeof(t[i]), "n/a");
    snprintf(times, sizeof(times), "NCHW %s, NHWC %s", t[0], t[1]);
    return keep_best(p, nhwc, &best[nhwc], times, reason, len);
}

enum sd_status sd_cuda_dnn_conv(struct sd_plan *p, void *const *in, char *reason, size_t len)
{
    const float one = 1.f, zero = 0.f;
    CUDNN_TRY(p->ctx, cudnnConvolutionForward(p->ctx->cudnn, &one, p->xd, in[0], p->wd, in[1], p->cd, p->algo,
                                              p->ws, p->ws_bytes, &zero, p->yd, p->out));
    return SD_OK;
}

void sd_cuda_dnn_release(struct sd_plan *p)
{
    if (p->xd) cudnnDestroyTensorDescriptor(p->xd);
    if (p->yd) cudnnDestroyTensorDescriptor(p->yd);
    if (p->wd) cudnnDestroyFilterDescriptor(p->wd);
    if (p->cd) cudnnDestroyConvolutionDescriptor(p->cd);
}

#endif
