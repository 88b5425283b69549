/* cuda_backend.c — the CUDA backend: sd_backend_cuda.
 *
 * Impls per op (first = default):
 *   gemm       cublas (cublasGemmStridedBatchedEx: fp32, tf32, fp16/bf16 with fp32 acc, fp16 with
 *              fp16 acc) | own (kernels/cuda/gemm.cu: mma.sync tensor cores, fp16/bf16, fp32 acc)
 *   conv2d     cudnn (when built with cuDNN: cudnnConvolutionForward, heuristic algo, tracked
 *              workspace; all dtypes) | own (kernels/cuda/conv2d.cu: implicit GEMM, NCHW,
 *              fp16/bf16, fp32 acc)
 *   attention  unfused (cuBLAS batched Q K^T into the whole bh x sq x skv score matrix, our
 *              softmax, batched P V) | sliced (same, one head at a time, one reused score
 *              buffer) | flash (kernels/cuda/attention.cu: fused, online softmax)
 * Every device allocation goes through tracked_malloc (current/peak in ctx->mem). Errors carry
 * file:line; sticky CUDA errors mark the context dead and every later call reports it.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#ifdef SDMARK_HAVE_CUDNN
#include <cudnn.h>
#endif

#include "cuda_kernels.h"
#include "cuda_plan.h"
#include "nvml_loader.h"
#include "sdmark/backend.h"
#include "sdmark/fault.h"
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
};

struct sd_plan {
    struct cuda_ctx *ctx;
    struct sd_workload wl;
    enum impl_id impl;
    int nsets;
    struct sd_tensors t;
    size_t esz;
    void **in;            /* nsets x n_in device buffers */
    void *out;
    void *scores;         /* unfused: bh*sq*skv, sliced: sq*skv */
    void *ws;             /* cuBLAS or cuDNN workspace */
    size_t ws_bytes;
    struct sd_cuda_igemm_args ig;  /* own gemm/conv: pointers filled at run time */
    struct sd_cuda_attn_args at;   /* flash */
#ifdef SDMARK_HAVE_CUDNN
    cudnnTensorDescriptor_t xd, yd;
    cudnnFilterDescriptor_t wd;
    cudnnConvolutionDescriptor_t cd;
    cudnnConvolutionFwdAlgo_t algo;
#endif
};

/* ---------------------------------------------------------------- errors */

static const char *base_name(const char *f)
{
    const char *s = strrchr(f, '/');
    return s ? s + 1 : f;
}

/* Errors after which the CUDA context is unusable (they stay "sticky"). */
static bool cuda_sticky(cudaError_t e)
{
    switch (e) {
    case cudaErrorIllegalAddress:
    case cudaErrorLaunchFailure:
    case cudaErrorIllegalInstruction:
    case cudaErrorMisalignedAddress:
    case cudaErrorInvalidAddressSpace:
    case cudaErrorInvalidPc:
    case cudaErrorHardwareStackError:
    case cudaErrorAssert:
    case cudaErrorLaunchTimeout:
    case cudaErrorECCUncorrectable:
    case cudaErrorContextIsDestroyed:
    case cudaErrorDevicesUnavailable:
    case cudaErrorUnknown:
        return true;
    default:
        return false;
    }
}

static enum sd_status cuda_fail(struct cuda_ctx *c, cudaError_t e, const char *what,
                                const char *file, int line, char *reason, size_t len)
{
    if (e == cudaErrorMemoryAllocation) {
        (void)cudaGetLastError();
        snprintf(reason, len, "%s: out of device memory at %s:%d", what, base_name(file), line);
        return SD_OOM;
    }
    if (c && cuda_sticky(e)) {
        if (!c->dead) {
            c->dead = true;
            snprintf(c->dead_reason, sizeof(c->dead_reason), "CUDA context lost after %s at %s:%d (%s)",
                     cudaGetErrorName(e), base_name(file), line, what);
        }
        snprintf(reason, len, "%s", c->dead_reason);
        return SD_ERROR;
    }
    (void)cudaGetLastError(); /* clear a non-sticky error */
    snprintf(reason, len, "%s failed: %s (%s) at %s:%d", what, cudaGetErrorName(e), cudaGetErrorString(e),
             base_name(file), line);
    return SD_ERROR;
}

#define CUDA_TRY(ctx, call)                                                                       \
    do {                                                                                          \
        cudaError_t e_ = (call);                                                                  \
        if (e_ != cudaSuccess)                                                                    \
            return cuda_fail((ctx), e_, #call, __FILE__, __LINE__, reason, len);                  \
    } while (0)

static enum sd_status cublas_fail(struct cuda_ctx *c, cublasStatus_t s, const char *what,
                                  const char *file, int line, char *reason, size_t len)
{
    if (s == CUBLAS_STATUS_ALLOC_FAILED) {
        snprintf(reason, len, "%s: cuBLAS could not allocate device memory at %s:%d", what,
                 base_name(file), line);
        return SD_OOM;
    }
    /* an execution failure may hide a sticky CUDA error */
    cudaError_t e = cudaPeekAtLastError();
    if (e != cudaSuccess && cuda_sticky(e))
        return cuda_fail(c, e, what, file, line, reason, len);
    snprintf(reason, len, "%s failed: %s at %s:%d", what, cublasGetStatusName(s), base_name(file), line);
    return s == CUBLAS_STATUS_NOT_SUPPORTED || s == CUBLAS_STATUS_ARCH_MISMATCH ? SD_UNSUPPORTED
                                                                                : SD_ERROR;
}

#define CUBLAS_TRY(ctx, call)                                                                     \
    do {                                                                                          \
        cublasStatus_t s_ = (call);                                                               \
        if (s_ != CUBLAS_STATUS_SUCCESS)                                                          \
            return cublas_fail((ctx), s_, #call, __FILE__, __LINE__, reason, len);                \
    } while (0)

#ifdef SDMARK_HAVE_CUDNN
static enum sd_status cudnn_fail(struct cuda_ctx *c, cudnnStatus_t s, const char *what,
                                 const char *file, int line, char *reason, size_t len)
{
    if (s == CUDNN_STATUS_ALLOC_FAILED) {
        snprintf(reason, len, "%s: cuDNN could not allocate memory at %s:%d", what, base_name(file), line);
        return SD_OOM;
    }
    cudaError_t e = cudaPeekAtLastError();
    if (e != cudaSuccess && cuda_sticky(e))
        return cuda_fail(c, e, what, file, line, reason, len);
    snprintf(reason, len, "%s failed: %s at %s:%d", what, cudnnGetErrorString(s), base_name(file), line);
    return s == CUDNN_STATUS_NOT_SUPPORTED ? SD_UNSUPPORTED : SD_ERROR;
}
#define CUDNN_TRY(ctx, call)                                                                      \
    do {                                                                                          \
        cudnnStatus_t s_ = (call);                                                                \
        if (s_ != CUDNN_STATUS_SUCCESS)                                                           \
            return cudnn_fail((ctx), s_, #call, __FILE__, __LINE__, reason, len);                 \
    } while (0)
#endif

#define DEAD_CHECK(ctx)                                                                           \
    do {                                                                                          \
        if ((ctx)->dead) {                                                                        \
            snprintf(reason, len, "%s", (ctx)->dead_reason);                                      \
            return SD_ERROR;                                                                      \
        }                                                                                         \
    } while (0)

/* ---------------------------------------------------------------- tracked allocator */

static enum sd_status tracked_malloc(struct cuda_ctx *c, void **p, size_t bytes, const char *what,
                                     char *reason, size_t len)
{
    *p = NULL;
    size_t req = bytes ? bytes : 1;
    if (sd_fault_hit(SD_FAULT_ALLOC)) {
        snprintf(reason, len, "out of device memory allocating %s: %zu bytes (injected by SDMARK_FAULT)",
                 what, req);
        return SD_OOM;
    }
    cudaError_t e = cudaMalloc(p, req);
    if (e == cudaErrorMemoryAllocation) {
        (void)cudaGetLastError();
        *p = NULL;
        snprintf(reason, len,
                 "out of device memory allocating %s: %zu bytes (%.2f GiB) with %llu bytes already "
                 "tracked", what, req, req / 1073741824.0, (unsigned long long)c->mem.current);
        return SD_OOM;
    }
    if (e != cudaSuccess) {
        *p = NULL;
        return cuda_fail(c, e, "cudaMalloc", __FILE__, __LINE__, reason, len);
    }
    if (sd_memtrack_add(&c->mem, *p, req, what) != 0) {
        cudaFree(*p);
        *p = NULL;
        snprintf(reason, len, "host out of memory tracking an allocation");
        return SD_ERROR;
    }
    return SD_OK;
}

static void tracked_free(struct cuda_ctx *c, void *p)
{
    if (!p)
        return;
    sd_memtrack_remove(&c->mem, p);
    cudaFree(p);
}

/* ---------------------------------------------------------------- device discovery */

static void fill_info(int dev, struct sd_device_info *info, struct sd_nvml *nvml)
{
    struct cudaDeviceProp prop;
    memset(info, 0, sizeof(*info));
    snprintf(info->backend, sizeof(info->backend), "cuda");
    snprintf(info->vendor, sizeof(info->vendor), "NVIDIA");
    if (cudaGetDeviceProperties(&prop, dev) != cudaSuccess) {
        (void)cudaGetLastError();
        snprintf(info->name, sizeof(info->name), "CUDA device %d", dev);
        return;
    }
    snprintf(info->name, sizeof(info->name), "%.127s", prop.name);
    snprintf(info->arch, sizeof(info->arch), "sm_%d%d", prop.major, prop.minor);
    int drv = 0, rt = 0, clk = 0;
    cudaDriverGetVersion(&drv);
    cudaRuntimeGetVersion(&rt);
    char nv[64] = "";
    if (nvml && sd_nvml_driver_version(nvml, nv, sizeof(nv)) == 0)
        snprintf(info->driver_version, sizeof(info->driver_version), "%s (CUDA %d.%d)", nv,
                 drv / 1000, (drv % 1000) / 10);
    else
        snprintf(info->driver_version, sizeof(info->driver_version), "CUDA %d.%d", drv / 1000,
                 (drv % 1000) / 10);
    snprintf(info->api_version, sizeof(info->api_version), "CUDA %d.%d", rt / 1000, (rt % 1000) / 10);
    info->compute_units = prop.multiProcessorCount;
    if (cudaDeviceGetAttribute(&clk, cudaDevAttrClockRate, dev) == cudaSuccess)
        info->clock_mhz = clk / 1000;
    else
        (void)cudaGetLastError();
    info->mem_bytes = prop.totalGlobalMem;
    info->max_alloc_bytes = prop.totalGlobalMem;
    info->l2_bytes = (uint64_t)prop.l2CacheSize;
    info->fp16 = prop.major * 10 + prop.minor >= 75;
    info->bf16 = prop.major >= 8;
    info->kind = SD_DEVICE_GPU;
}

static int cuda_probe(struct sd_device_info *out, int max)
{
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
        (void)cudaGetLastError();
        return 0;
    }
    for (int i = 0; i < n && i < max; i++)
        fill_info(i, &out[i], NULL);
    return n;
}

static const char *const gemm_impls[] = {"cublas", "own", NULL};
#ifdef SDMARK_HAVE_CUDNN
static const char *const conv_impls[] = {"cudnn", "own", NULL};
#else
static const char *const conv_impls[] = {"own", NULL};
#endif
static const char *const attn_impls[] = {"unfused", "sliced", "flash", NULL};

static void cuda_close(void *vctx);

static enum sd_status cuda_open(int index, void **out, char *reason, size_t len)
{
    *out = NULL;
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess || n == 0) {
        (void)cudaGetLastError();
        snprintf(reason, len, "no CUDA device (%s)", e != cudaSuccess ? cudaGetErrorName(e) : "count 0");
        return SD_UNSUPPORTED;
    }
    if (index < 0 || index >= n) {
        snprintf(reason, len, "CUDA device %d does not exist (%d found)", index, n);
        return SD_ERROR;
    }
    struct cuda_ctx *c = calloc(1, sizeof(*c));
    if (!c) {
        snprintf(reason, len, "host out of memory");
        return SD_ERROR;
    }
    c->dev = index;
    enum sd_status st;
#define OPEN_TRY(call)                                                                            \
    do {                                                                                          \
        cudaError_t e2 = (call);                                                                  \
        if (e2 != cudaSuccess) {                                                                  \
            st = cuda_fail(c, e2, #call, __FILE__, __LINE__, reason, len);                        \
            goto fail;                                                                            \
        }                                                                                         \
    } while (0)
    OPEN_TRY(cudaSetDevice(index));
    OPEN_TRY(cudaFree(NULL)); /* create the primary context now, not inside the first timing */
    OPEN_TRY(cudaDeviceGetAttribute(&c->cc_major, cudaDevAttrComputeCapabilityMajor, index));
    OPEN_TRY(cudaDeviceGetAttribute(&c->cc_minor, cudaDevAttrComputeCapabilityMinor, index));
    int optin = 0;
    OPEN_TRY(cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, index));
    c->smem_optin = (size_t)optin;
    OPEN_TRY(cudaStreamCreateWithFlags(&c->stream, cudaStreamNonBlocking));
    OPEN_TRY(cudaEventCreate(&c->ev0));
    OPEN_TRY(cudaEventCreate(&c->ev1));
    {
        cublasStatus_t s = cublasCreate(&c->cublas);
        if (s != CUBLAS_STATUS_SUCCESS) {
            snprintf(reason, len, "cublasCreate failed: %s", cublasGetStatusName(s));
            c->cublas = NULL;
            st = s == CUBLAS_STATUS_ALLOC_FAILED ? SD_OOM : SD_ERROR;
            goto fail;
        }
        cublasSetStream(c->cublas, c->stream);
    }
#ifdef SDMARK_HAVE_CUDNN
    {
        cudnnStatus_t s = cudnnCreate(&c->cudnn);
        if (s != CUDNN_STATUS_SUCCESS)
            c->cudnn = NULL; /* the cudnn impl reports unsupported */
        else
            cudnnSetStream(c->cudnn, c->stream);
    }
#endif
    {
        char bus[32] = "";
        if (cudaDeviceGetPCIBusId(bus, sizeof(bus), index) == cudaSuccess)
            c->nvml = sd_nvml_open(bus, c->nvml_why, sizeof(c->nvml_why));
        else {
            (void)cudaGetLastError();
            snprintf(c->nvml_why, sizeof(c->nvml_why), "not available: no PCI bus id");
        }
    }
    fill_info(index, &c->info, c->nvml);
    *out = c;
    return SD_OK;
fail:
    cuda_close(c);
    return st;
#undef OPEN_TRY
}

static void cuda_close(void *vctx)
{
    struct cuda_ctx *c = vctx;
    if (!c)
        return;
    /* free anything a caller forgot to release */
    while (c->mem.n > 0) {
        void *p = c->mem.rec[c->mem.n - 1].ptr;
        tracked_free(c, p);
    }
#ifdef SDMARK_HAVE_CUDNN
    if (c->cudnn)
        cudnnDestroy(c->cudnn);
#endif
    if (c->cublas)
        cublasDestroy(c->cublas);
    if (c->ev0)
        cudaEventDestroy(c->ev0);
    if (c->ev1)
        cudaEventDestroy(c->ev1);
    if (c->stream)
        cudaStreamDestroy(c->stream);
    sd_nvml_close(c->nvml);
    sd_memtrack_destroy(&c->mem);
    (void)cudaGetLastError();
    free(c);
}

static void cuda_device_info(void *vctx, struct sd_device_info *info)
{
    struct cuda_ctx *c = vctx;
    *info = c->info;
}

/* ---------------------------------------------------------------- supports */

static int parse_impl(enum sd_op op, const char *impl, enum impl_id *out)
{
    static const struct { enum sd_op op; const char *name; enum impl_id id; } tab[] = {
        {SD_OP_GEMM, "cublas", IMPL_GEMM_CUBLAS},      {SD_OP_GEMM, "own", IMPL_GEMM_OWN},
        {SD_OP_CONV2D, "cudnn", IMPL_CONV_CUDNN},      {SD_OP_CONV2D, "own", IMPL_CONV_OWN},
        {SD_OP_ATTENTION, "unfused", IMPL_ATTN_UNFUSED}, {SD_OP_ATTENTION, "sliced", IMPL_ATTN_SLICED},
        {SD_OP_ATTENTION, "flash", IMPL_ATTN_FLASH},
    };
    for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
        if (tab[i].op == op && impl && strcmp(tab[i].name, impl) == 0) {
            *out = tab[i].id;
            return 0;
        }
    return -1;
}

#define INT_LIMIT 2147483647LL

static enum sd_status cuda_supports(void *vctx, const struct sd_workload *wl, const char *impl,
                                    char *reason, size_t len)
{
    struct cuda_ctx *c = vctx;
    DEAD_CHECK(c);
    enum impl_id id;
    char err[160];
    if (sd_workload_validate(wl, err, sizeof(err)) != 0) {
        snprintf(reason, len, "%s", err);
        return SD_UNSUPPORTED;
    }
    if (parse_impl(wl->op, impl, &id) != 0) {
        snprintf(reason, len, "cuda has no %s impl '%s'", sd_op_name(wl->op), impl ? impl : "(null)");
        return SD_UNSUPPORTED;
    }
    const int sm = c->cc_major * 10 + c->cc_minor;
    const enum sd_dtype dt = wl->dtype;
    if (dt == SD_BF16 && sm < 80) {
        snprintf(reason, len, "bf16 needs sm_80+ (device is sm_%d)", sm);
        return SD_UNSUPPORTED;
    }
    if (dt == SD_TF32 && sm < 80) {
        snprintf(reason, len, "tf32 tensor cores need sm_80+ (device is sm_%d)", sm);
        return SD_UNSUPPORTED;
    }
    if (wl->acc != SD_FP32 && !(wl->acc == SD_FP16 && dt == SD_FP16)) {
        snprintf(reason, len, "accumulate %s with %s storage is not offered", sd_dtype_name(wl->acc),
                 sd_dtype_name(dt));
        return SD_UNSUPPORTED;
    }
    const bool half_acc = wl->acc == SD_FP16;
    const bool tc16 = dt == SD_FP16 || dt == SD_BF16;
    switch (id) {
    case IMPL_GEMM_CUBLAS:
        if (wl->m > INT_LIMIT || wl->n > INT_LIMIT || wl->k > INT_LIMIT || wl->batch > INT_LIMIT) {
            snprintf(reason, len, "cublas: dimensions must fit in int");
            return SD_UNSUPPORTED;
        }
        return SD_OK;
    case IMPL_GEMM_OWN:
    case IMPL_CONV_OWN: {
        if (!tc16 || half_acc) {
            snprintf(reason, len, "own %s: tensor-core kernel for fp16/bf16 with fp32 accumulate only "
                     "(not %s%s)", sd_op_name(wl->op), sd_dtype_name(dt), half_acc ? " acc=fp16" : "");
            return SD_UNSUPPORTED;
        }
        if (sm < 75) {
            snprintf(reason, len, "own %s needs sm_75+ (mma.sync)", sd_op_name(wl->op));
            return SD_UNSUPPORTED;
        }
        struct sd_cuda_igemm_args a = {0};
        struct sd_cuda_launch l;
        a.dtype = dt;
        if (id == IMPL_GEMM_OWN) {
            a.m = wl->m; a.n = wl->n; a.k = wl->k; a.batch = wl->batch;
        } else {
            a.m = wl->c_out; a.n = wl->h * wl->w; a.k = wl->c_in * wl->r * wl->s; a.batch = wl->batch;
            a.conv = 1;
            if (a.k > INT_LIMIT) {
                snprintf(reason, len, "own conv2d: c_in*r*s must fit in int");
                return SD_UNSUPPORTED;
            }
        }
        a.lda = a.k; a.ldb = a.n; a.ldc = a.n;
        if (sd_cuda_igemm_config(&a, &l, reason, len) != 0)
            return SD_UNSUPPORTED;
        return SD_OK;
    }
    case IMPL_CONV_CUDNN:
#ifdef SDMARK_HAVE_CUDNN
        if (!c->cudnn) {
            snprintf(reason, len, "cudnnCreate failed on this device");
            return SD_UNSUPPORTED;
        }
        if (wl->batch > INT_LIMIT || wl->c_in > INT_LIMIT || wl->c_out > INT_LIMIT ||
            wl->h * wl->stride > INT_LIMIT || wl->w * wl->stride > INT_LIMIT) {
            snprintf(reason, len, "cudnn: dimensions must fit in int");
            return SD_UNSUPPORTED;
        }
        return SD_OK;
#else
        snprintf(reason, len, "built without cuDNN");
        return SD_UNSUPPORTED;
#endif
    case IMPL_ATTN_UNFUSED:
    case IMPL_ATTN_SLICED:
        if (wl->seq_q > INT_LIMIT || wl->seq_kv > INT_LIMIT || wl->head_dim > INT_LIMIT ||
            wl->batch_heads > INT_LIMIT) {
            snprintf(reason, len, "cublas: dimensions must fit in int");
            return SD_UNSUPPORTED;
        }
        return SD_OK;
    case IMPL_ATTN_FLASH: {
        if (half_acc || dt == SD_TF32) {
            snprintf(reason, len, "flash: no %s kernel (fp32 CUDA-core or fp16/bf16 tensor-core "
                     "with fp32 accumulate only)", half_acc ? "acc=fp16" : "tf32");
            return SD_UNSUPPORTED;
        }
        struct sd_cuda_attn_args a = {0};
        struct sd_cuda_launch l;
        a.dtype = dt; a.bh = wl->batch_heads; a.sq = wl->seq_q; a.skv = wl->seq_kv; a.d = wl->head_dim;
        if (sd_cuda_flash_config(&a, &l, reason, len) != 0)
            return SD_UNSUPPORTED;
        if (l.smem > c->smem_optin) {
            snprintf(reason, len, "flash: needs %u bytes of shared memory per block, device allows %zu",
                     l.smem, c->smem_optin);
            return SD_UNSUPPORTED;
        }
        return SD_OK;
    }
    }
    snprintf(reason, len, "unknown impl");
    return SD_UNSUPPORTED;
}

/* ---------------------------------------------------------------- cuBLAS helpers */

static cudaDataType_t cuda_dtype(enum sd_dtype t)
{
    switch (t) {
    case SD_FP16: return CUDA_R_16F;
    case SD_BF16: return CUDA_R_16BF;
    default: return CUDA_R_32F;
    }
}

static cublasComputeType_t cublas_compute(const struct sd_workload *wl)
{
    if (wl->dtype == SD_TF32)
        return CUBLAS_COMPUTE_32F_FAST_TF32;
    if (wl->dtype == SD_FP16 && wl->acc == SD_FP16)
        return CUBLAS_COMPUTE_16F;
    return CUBLAS_COMPUTE_32F;
}

/* alpha/beta have the compute type's scalar type: half for CUBLAS_COMPUTE_16F. */
struct scalars { float f_alpha, f_beta; uint16_t h_alpha, h_beta; bool half; };
static void make_scalars(struct scalars *s, const struct sd_workload *wl, float alpha)
{
    s->half = cublas_compute(wl) == CUBLAS_COMPUTE_16F;
    s->f_alpha = alpha;
    s->f_beta = 0.f;
    s->h_alpha = sd_float_to_half(alpha);
    s->h_beta = sd_float_to_half(0.f);
}
#define ALPHA(s) ((s).half ? (const void *)&(s).h_alpha : (const void *)&(s).f_alpha)
#define BETA(s) ((s).half ? (const void *)&(s).h_beta : (const void *)&(s).f_beta)

/* Row-major C[M,N] = alpha * A[M,K] * op(B) for `batch` products with element strides. */
static enum sd_status rowmajor_gemm(struct sd_plan *p, int64_t M, int64_t N, int64_t K, int b_trans,
                                    const void *A, int64_t sA, const void *B, int64_t sB, void *C,
                                    int64_t sC, int64_t batch, float alpha, char *reason, size_t len)
{
    struct cuda_ctx *c = p->ctx;
    struct sd_cuda_colmajor cm;
    struct scalars sc;
    sd_cuda_gemm_colmajor_map(M, N, K, b_trans, &cm);
    make_scalars(&sc, &p->wl, alpha);
    const cudaDataType_t dt = cuda_dtype(p->wl.dtype);
    const cublasOperation_t opf = cm.trans_first ? CUBLAS_OP_T : CUBLAS_OP_N;
    const cublasOperation_t ops = cm.trans_second ? CUBLAS_OP_T : CUBLAS_OP_N;
    if (batch == 1)
        CUBLAS_TRY(c, cublasGemmEx(c->cublas, opf, ops, (int)cm.m, (int)cm.n, (int)cm.k, ALPHA(sc), B, dt,
                                   (int)cm.ld_first, A, dt, (int)cm.ld_second, BETA(sc), C, dt, (int)cm.ldc,
                                   cublas_compute(&p->wl), CUBLAS_GEMM_DEFAULT));
    else
        CUBLAS_TRY(c, cublasGemmStridedBatchedEx(c->cublas, opf, ops, (int)cm.m, (int)cm.n, (int)cm.k,
                                                 ALPHA(sc), B, dt, (int)cm.ld_first, (long long)sB, A, dt,
                                                 (int)cm.ld_second, (long long)sA, BETA(sc), C, dt,
                                                 (int)cm.ldc, (long long)sC, (int)batch,
                                                 cublas_compute(&p->wl), CUBLAS_GEMM_DEFAULT));
    return SD_OK;
}

/* cuBLAS default workspace sizes: 32 MiB on Hopper+, 4 MiB before. Tracked, per plan. */
static enum sd_status setup_cublas_ws(struct sd_plan *p, char *reason, size_t len)
{
    struct cuda_ctx *c = p->ctx;
    p->ws_bytes = c->cc_major >= 9 ? (32u << 20) : (4u << 20);
    enum sd_status st = tracked_malloc(c, &p->ws, p->ws_bytes, "cublas workspace", reason, len);
    if (st != SD_OK)
        return st;
    CUBLAS_TRY(c, cublasSetWorkspace(c->cublas, p->ws, p->ws_bytes));
    return SD_OK;
}

/* ---------------------------------------------------------------- prepare / release */

static void cuda_release(struct sd_plan *p)
{
    if (!p)
        return;
    struct cuda_ctx *c = p->ctx;
    if (!c->dead)
        cudaStreamSynchronize(c->stream);
    if (p->in) {
        for (int i = 0; i < p->nsets * 3; i++)
            tracked_free(c, p->in[i]);
        free(p->in);
    }
    tracked_free(c, p->out);
    tracked_free(c, p->scores);
    if (p->ws && (p->impl == IMPL_GEMM_CUBLAS || p->impl == IMPL_ATTN_UNFUSED ||
                  p->impl == IMPL_ATTN_SLICED))
        cublasSetWorkspace(c->cublas, NULL, 0);
    tracked_free(c, p->ws);
#ifdef SDMARK_HAVE_CUDNN
    if (p->xd) cudnnDestroyTensorDescriptor(p->xd);
    if (p->yd) cudnnDestroyTensorDescriptor(p->yd);
    if (p->wd) cudnnDestroyFilterDescriptor(p->wd);
    if (p->cd) cudnnDestroyConvolutionDescriptor(p->cd);
#endif
    (void)cudaGetLastError();
    free(p);
}

#ifdef SDMARK_HAVE_CUDNN
static enum sd_status setup_cudnn(struct sd_plan *p, char *reason, size_t len)
{
    struct cuda_ctx *c = p->ctx;
    const struct sd_workload *wl = &p->wl;
    cudnnDataType_t dt = wl->dtype == SD_FP16 ? CUDNN_DATA_HALF
                       : wl->dtype == SD_BF16 ? CUDNN_DATA_BFLOAT16 : CUDNN_DATA_FLOAT;
    cudnnDataType_t ct = (wl->dtype == SD_FP16 && wl->acc == SD_FP16) ? CUDNN_DATA_HALF : CUDNN_DATA_FLOAT;
    /* fp32 must not silently use TF32 tensor cores (cuDNN's default on sm_80+): FMA math. */
    cudnnMathType_t math = wl->dtype == SD_FP32 ? CUDNN_FMA_MATH
                         : wl->dtype == SD_TF32 ? CUDNN_DEFAULT_MATH : CUDNN_TENSOR_OP_MATH;
    CUDNN_TRY(c, cudnnCreateTensorDescriptor(&p->xd));
    CUDNN_TRY(c, cudnnCreateTensorDescriptor(&p->yd));
    CUDNN_TRY(c, cudnnCreateFilterDescriptor(&p->wd));
    CUDNN_TRY(c, cudnnCreateConvolutionDescriptor(&p->cd));
    CUDNN_TRY(c, cudnnSetTensor4dDescriptor(p->xd, CUDNN_TENSOR_NCHW, dt, (int)wl->batch, (int)wl->c_in,
                                            (int)sd_conv_in_h(wl), (int)sd_conv_in_w(wl)));
    CUDNN_TRY(c, cudnnSetFilter4dDescriptor(p->wd, dt, CUDNN_TENSOR_NCHW, (int)wl->c_out, (int)wl->c_in,
                                            (int)wl->r, (int)wl->s));
    CUDNN_TRY(c, cudnnSetConvolution2dDescriptor(p->cd, (int)wl->pad, (int)wl->pad, (int)wl->stride,
                                                 (int)wl->stride, 1, 1, CUDNN_CROSS_CORRELATION, ct));
    CUDNN_TRY(c, cudnnSetConvolutionMathType(p->cd, math));
    int on, oc, oh, ow;
    CUDNN_TRY(c, cudnnGetConvolution2dForwardOutputDim(p->cd, p->xd, p->wd, &on, &oc, &oh, &ow));
    if (on != wl->batch || oc != wl->c_out || oh != wl->h || ow != wl->w) {
        snprintf(reason, len, "cudnn output %dx%dx%dx%d differs from the workload's", on, oc, oh, ow);
        return SD_ERROR;
    }
    CUDNN_TRY(c, cudnnSetTensor4dDescriptor(p->yd, CUDNN_TENSOR_NCHW, dt, on, oc, oh, ow));
    cudnnConvolutionFwdAlgoPerf_t perf[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
    int nret = 0;
    CUDNN_TRY(c, cudnnGetConvolutionForwardAlgorithm_v7(c->cudnn, p->xd, p->wd, p->cd, p->yd,
                                                        CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &nret, perf));
    /* Heuristic order; take the first algorithm that works and whose workspace fits. */
    char last[SD_REASON_LEN] = "cudnn: no usable forward algorithm";
    enum sd_status last_st = SD_UNSUPPORTED;
    for (int i = 0; i < nret; i++) {
        if (perf[i].status != CUDNN_STATUS_SUCCESS)
            continue;
        size_t ws = 0;
        if (cudnnGetConvolutionForwardWorkspaceSize(c->cudnn, p->xd, p->wd, p->cd, p->yd, perf[i].algo,
                                                    &ws) != CUDNN_STATUS_SUCCESS)
            continue;
        void *w = NULL;
        if (ws > 0) {
            enum sd_status st = tracked_malloc(c, &w, ws, "cudnn workspace", last, sizeof(last));
            if (st != SD_OK) {
                last_st = st;
                if (c->dead)
                    break;
                continue;
            }
        }
        p->ws = w;
        p->ws_bytes = ws;
        p->algo = perf[i].algo;
        return SD_OK;
    }
    snprintf(reason, len, "%s", last);
    return last_st;
}
#endif

static enum sd_status cuda_prepare(void *vctx, const struct sd_workload *wl, const char *impl,
                                   int nsets, struct sd_plan **out, char *reason, size_t len)
{
    struct cuda_ctx *c = vctx;
    *out = NULL;
    DEAD_CHECK(c);
    enum sd_status st = cuda_supports(c, wl, impl, reason, len);
    if (st != SD_OK)
        return st;
    struct sd_plan *p = calloc(1, sizeof(*p));
    if (!p) {
        snprintf(reason, len, "host out of memory");
        return SD_ERROR;
    }
    p->ctx = c;
    p->wl = *wl;
    parse_impl(wl->op, impl, &p->impl);
    p->nsets = nsets < 1 ? 1 : nsets;
    sd_workload_tensors(wl, &p->t);
    p->esz = sd_dtype_size(wl->dtype);
    p->in = calloc((size_t)p->nsets * 3, sizeof(void *));
    if (!p->in) {
        free(p);
        snprintf(reason, len, "host out of memory");
        return SD_ERROR;
    }
    if (cudaSetDevice(c->dev) != cudaSuccess) {
        st = cuda_fail(c, cudaGetLastError(), "cudaSetDevice", __FILE__, __LINE__, reason, len);
        goto fail;
    }
    for (int s = 0; s < p->nsets; s++)
        for (int i = 0; i < p->t.n_in; i++) {
            st = tracked_malloc(c, &p->in[s * 3 + i], p->t.in[i] * p->esz, "input", reason, len);
            if (st != SD_OK)
                goto fail;
        }
    st = tracked_malloc(c, &p->out, p->t.out * p->esz, "output", reason, len);
    if (st != SD_OK)
        goto fail;

    switch (p->impl) {
    case IMPL_GEMM_CUBLAS:
        st = setup_cublas_ws(p, reason, len);
        break;
    case IMPL_GEMM_OWN:
        p->ig.dtype = wl->dtype;
        p->ig.m = wl->m; p->ig.n = wl->n; p->ig.k = wl->k; p->ig.batch = wl->batch;
        p->ig.lda = wl->k; p->ig.ldb = wl->n; p->ig.ldc = wl->n;
        p->ig.sa = wl->m * wl->k; p->ig.sb = wl->k * wl->n; p->ig.sc = wl->m * wl->n;
        break;
    case IMPL_CONV_OWN: {
        const int64_t P = wl->h * wl->w, K = wl->c_in * wl->r * wl->s;
        p->ig.dtype = wl->dtype;
        p->ig.m = wl->c_out; p->ig.n = P; p->ig.k = K; p->ig.batch = wl->batch;
        p->ig.lda = K; p->ig.ldc = P;
        p->ig.sa = 0;                  /* the weights are shared by every image */
        p->ig.sc = wl->c_out * P;
        p->ig.sb = wl->c_in * sd_conv_in_h(wl) * sd_conv_in_w(wl);
        if (wl->r == 1 && wl->s == 1 && wl->stride == 1 && wl->pad == 0) {
            p->ig.conv = 0;            /* 1x1: X[z] is already the [c_in, h*w] B matrix */
            p->ig.ldb = P;
        } else {
            p->ig.conv = 1;
            p->ig.ldb = P;
            p->ig.in_h = sd_conv_in_h(wl); p->ig.in_w = sd_conv_in_w(wl); p->ig.out_w = wl->w;
            p->ig.r = wl->r; p->ig.s = wl->s; p->ig.stride = wl->stride; p->ig.pad = wl->pad;
        }
        break;
    }
    case IMPL_CONV_CUDNN:
#ifdef SDMARK_HAVE_CUDNN
        st = setup_cudnn(p, reason, len);
#else
        st = SD_UNSUPPORTED;
        snprintf(reason, len, "built without cuDNN");
#endif
        break;
    case IMPL_ATTN_UNFUSED:
    case IMPL_ATTN_SLICED: {
        st = setup_cublas_ws(p, reason, len);
        if (st != SD_OK)
            break;
        size_t per_head = (size_t)wl->seq_q * (size_t)wl->seq_kv * p->esz;
        size_t bytes = p->impl == IMPL_ATTN_UNFUSED ? per_head * (size_t)wl->batch_heads : per_head;
        st = tracked_malloc(c, &p->scores, bytes,
                            p->impl == IMPL_ATTN_UNFUSED ? "attention scores (all heads)"
                                                         : "attention scores (one head)", reason, len);
        break;
    }
    case IMPL_ATTN_FLASH:
        p->at.dtype = wl->dtype;
        p->at.bh = wl->batch_heads; p->at.sq = wl->seq_q; p->at.skv = wl->seq_kv; p->at.d = wl->head_dim;
        p->at.scale = (float)(1.0 / sqrt((double)wl->head_dim));
        {
            cudaError_t e = sd_cuda_flash_setup(&p->at);
            if (e != cudaSuccess)
                st = cuda_fail(c, e, "sd_cuda_flash_setup", __FILE__, __LINE__, reason, len);
        }
        break;
    }
    if (st != SD_OK)
        goto fail;
    *out = p;
    return SD_OK;
fail:
    cuda_release(p);
    return st;
}

/* ---------------------------------------------------------------- data movement */

static enum sd_status cuda_upload(struct sd_plan *p, int set, const float *const *inputs, char *reason,
                                  size_t len)
{
    struct cuda_ctx *c = p->ctx;
    DEAD_CHECK(c);
    if (set < 0 || set >= p->nsets) {
        snprintf(reason, len, "upload: set %d out of range (0..%d)", set, p->nsets - 1);
        return SD_ERROR;
    }
    for (int i = 0; i < p->t.n_in; i++) {
        const size_t n = p->t.in[i];
        void *dst = p->in[set * 3 + i];
        if (p->esz == 4) {
            CUDA_TRY(c, cudaMemcpyAsync(dst, inputs[i], n * 4, cudaMemcpyHostToDevice, c->stream));
            CUDA_TRY(c, cudaStreamSynchronize(c->stream));
            continue;
        }
        uint16_t *tmp = malloc(n * 2);
        if (!tmp) {
            snprintf(reason, len, "host out of memory (%zu bytes staging)", n * 2);
            return SD_ERROR;
        }
        if (p->wl.dtype == SD_FP16)
            for (size_t j = 0; j < n; j++)
                tmp[j] = sd_float_to_half(inputs[i][j]);
        else
            for (size_t j = 0; j < n; j++)
                tmp[j] = sd_float_to_bf16(inputs[i][j]);
        cudaError_t e = cudaMemcpyAsync(dst, tmp, n * 2, cudaMemcpyHostToDevice, c->stream);
        if (e == cudaSuccess)
            e = cudaStreamSynchronize(c->stream);
        free(tmp);
        if (e != cudaSuccess)
            return cuda_fail(c, e, "cudaMemcpyAsync(upload)", __FILE__, __LINE__, reason, len);
    }
    return SD_OK;
}

static enum sd_status cuda_poison(struct sd_plan *p, char *reason, size_t len)
{
    struct cuda_ctx *c = p->ctx;
    DEAD_CHECK(c);
    /* all-ones bytes are a NaN in fp32 (0xffffffff), fp16 (0xffff) and bf16 (0xffff) */
    CUDA_TRY(c, cudaMemsetAsync(p->out, 0xff, p->t.out * p->esz, c->stream));
    CUDA_TRY(c, cudaStreamSynchronize(c->stream));
    return SD_OK;
}

static enum sd_status cuda_download(struct sd_plan *p, float *out, char *reason, size_t len)
{
    struct cuda_ctx *c = p->ctx;
    DEAD_CHECK(c);
    const size_t n = p->t.out;
    if (p->esz == 4) {
        CUDA_TRY(c, cudaMemcpyAsync(out, p->out, n * 4, cudaMemcpyDeviceToHost, c->stream));
        CUDA_TRY(c, cudaStreamSynchronize(c->stream));
        return SD_OK;
    }
    uint16_t *tmp = malloc(n * 2);
    if (!tmp) {
        snprintf(reason, len, "host out of memory (%zu bytes staging)", n * 2);
        return SD_ERROR;
    }
    cudaError_t e = cudaMemcpyAsync(tmp, p->out, n * 2, cudaMemcpyDeviceToHost, c->stream);
    if (e == cudaSuccess)
        e = cudaStreamSynchronize(c->stream);
    if (e != cudaSuccess) {
        free(tmp);
        return cuda_fail(c, e, "cudaMemcpyAsync(download)", __FILE__, __LINE__, reason, len);
    }
    if (p->wl.dtype == SD_FP16)
        for (size_t j = 0; j < n; j++)
            out[j] = sd_half_to_float(tmp[j]);
    else
        for (size_t j = 0; j < n; j++)
            out[j] = sd_bf16_to_float(tmp[j]);
    free(tmp);
    return SD_OK;
}

/* ---------------------------------------------------------------- run */

static enum sd_status enqueue(struct sd_plan *p, int set, char *reason, size_t len)
{
    struct cuda_ctx *c = p->ctx;
    const struct sd_workload *wl = &p->wl;
    void *const *in = &p->in[set * 3];
    switch (p->impl) {
    case IMPL_GEMM_CUBLAS:
        return rowmajor_gemm(p, wl->m, wl->n, wl->k, 0, in[0], wl->m * wl->k, in[1], wl->k * wl->n, p->out,
                             wl->m * wl->n, wl->batch, 1.0f, reason, len);
    case IMPL_GEMM_OWN:
    case IMPL_CONV_OWN: {
        struct sd_cuda_igemm_args a = p->ig;
        a.a = in[1 - (p->impl == IMPL_GEMM_OWN)]; /* gemm: A = in[0]; conv: A = weights = in[1] */
        a.b = in[p->impl == IMPL_GEMM_OWN];       /* gemm: B = in[1]; conv: B = image = in[0] */
        a.c = p->out;
        CUDA_TRY(c, sd_cuda_igemm_launch(&a, c->stream));
        return SD_OK;
    }
    case IMPL_CONV_CUDNN:
#ifdef SDMARK_HAVE_CUDNN
    {
        const float one = 1.f, zero = 0.f;
        CUDNN_TRY(c, cudnnConvolutionForward(c->cudnn, &one, p->xd, in[0], p->wd, in[1], p->cd, p->algo,
                                             p->ws, p->ws_bytes, &zero, p->yd, p->out));
        return SD_OK;
    }
#else
        snprintf(reason, len, "built without cuDNN");
        return SD_UNSUPPORTED;
#endif
    case IMPL_ATTN_UNFUSED:
    case IMPL_ATTN_SLICED: {
        const int64_t bh = wl->batch_heads, sq = wl->seq_q, skv = wl->seq_kv, d = wl->head_dim;
        const float scale = (float)(1.0 / sqrt((double)d));
        const int64_t heads_per_call = p->impl == IMPL_ATTN_UNFUSED ? bh : 1;
        for (int64_t h0 = 0; h0 < bh; h0 += heads_per_call) {
            const char *q = (const char *)in[0] + (size_t)(h0 * sq * d) * p->esz;
            const char *k = (const char *)in[1] + (size_t)(h0 * skv * d) * p->esz;
            const char *v = (const char *)in[2] + (size_t)(h0 * skv * d) * p->esz;
            char *o = (char *)p->out + (size_t)(h0 * sq * d) * p->esz;
            /* S[sq, skv] = scale * Q[sq, d] * K[skv, d]^T */
            enum sd_status st = rowmajor_gemm(p, sq, skv, d, 1, q, sq * d, k, skv * d, p->scores, sq * skv,
                                              heads_per_call, scale, reason, len);
            if (st != SD_OK)
                return st;
            CUDA_TRY(c, sd_cuda_softmax_launch(p->scores, heads_per_call * sq, skv, wl->dtype, c->stream));
            /* O[sq, d] = P[sq, skv] * V[skv, d] */
            st = rowmajor_gemm(p, sq, d, skv, 0, p->scores, sq * skv, v, skv * d, o, sq * d, heads_per_call,
                               1.0f, reason, len);
            if (st != SD_OK)
                return st;
        }
        return SD_OK;
    }
    case IMPL_ATTN_FLASH: {
        struct sd_cuda_attn_args a = p->at;
        a.q = in[0];
        a.k = in[1];
        a.v = in[2];
        a.o = p->out;
        CUDA_TRY(c, sd_cuda_flash_launch(&a, c->stream));
        return SD_OK;
    }
    }
    snprintf(reason, len, "unknown impl");
    return SD_ERROR;
}

static enum sd_status cuda_run(struct sd_plan *p, int set, double *ms, char *reason, size_t len)
{
    struct cuda_ctx *c = p->ctx;
    DEAD_CHECK(c);
    if (set < 0 || set >= p->nsets) {
        snprintf(reason, len, "run: set %d out of range (0..%d)", set, p->nsets - 1);
        return SD_ERROR;
    }
    if (sd_fault_hit(SD_FAULT_ENQUEUE)) {
        snprintf(reason, len, "kernel enqueue failed (injected by SDMARK_FAULT)");
        return SD_ERROR;
    }
    if (p->impl == IMPL_GEMM_CUBLAS || p->impl == IMPL_ATTN_UNFUSED || p->impl == IMPL_ATTN_SLICED)
        /* this plan's (tracked) workspace, even if another plan was prepared in between */
        CUBLAS_TRY(c, cublasSetWorkspace(c->cublas, p->ws, p->ws_bytes));
    if (ms)
        CUDA_TRY(c, cudaEventRecord(c->ev0, c->stream));
    enum sd_status st = enqueue(p, set, reason, len);
    if (st != SD_OK) {
        cudaStreamSynchronize(c->stream);
        (void)cudaGetLastError();
        return st;
    }
    if (ms)
        CUDA_TRY(c, cudaEventRecord(c->ev1, c->stream));
    CUDA_TRY(c, cudaStreamSynchronize(c->stream));
    CUDA_TRY(c, cudaPeekAtLastError());
    if (ms) {
        float f = 0.f;
        CUDA_TRY(c, cudaEventElapsedTime(&f, c->ev0, c->ev1));
        *ms = f;
    }
    return SD_OK;
}

/* ---------------------------------------------------------------- stats, env */

static void cuda_mem_stats(void *vctx, struct sd_mem_stats *out)
{
    struct cuda_ctx *c = vctx;
    out->current_bytes = c->mem.current;
    out->peak_bytes = c->mem.peak;
    size_t f = 0, t = 0;
    if (!c->dead && cudaMemGetInfo(&f, &t) == cudaSuccess) {
        out->device_free = f;
        out->device_total = t;
    } else {
        (void)cudaGetLastError();
        out->device_free = 0;
        out->device_total = c->info.mem_bytes;
    }
}

static void cuda_reset_peak(void *vctx)
{
    struct cuda_ctx *c = vctx;
    sd_memtrack_reset_peak(&c->mem);
}

static const char *cuda_timer_name(void *vctx) { return "cuda_event"; }

static void cuda_env_begin(void *vctx)
{
    struct cuda_ctx *c = vctx;
    sd_nvml_begin(c->nvml, 20);
}

static void cuda_env_end(void *vctx, struct sd_env *out)
{
    struct cuda_ctx *c = vctx;
    sd_nvml_end(c->nvml, out);
}

const struct sd_backend_ops sd_backend_cuda = {
    .name = "cuda",
    .probe = cuda_probe,
    .open = cuda_open,
    .close = cuda_close,
    .device_info = cuda_device_info,
    .impls = {[SD_OP_GEMM] = gemm_impls, [SD_OP_CONV2D] = conv_impls, [SD_OP_ATTENTION] = attn_impls},
    .supports = cuda_supports,
    .prepare = cuda_prepare,
    .upload = cuda_upload,
    .poison = cuda_poison,
    .run = cuda_run,
    .download = cuda_download,
    .release = cuda_release,
    .mem_stats = cuda_mem_stats,
    .reset_peak = cuda_reset_peak,
    .timer_name = cuda_timer_name,
    .env_begin = cuda_env_begin,
    .env_end = cuda_env_end,
    .tune = NULL,
};
