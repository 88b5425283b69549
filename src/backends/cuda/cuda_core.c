/* cuda_core.c — the CUDA backend's core: errors, the tracked allocator, device discovery,
 * open/close, memory statistics, the NVML environment and the sd_backend_cuda table.
 *
 * Impls per op (first = default; paths in cuda_blas.c, cuda_dnn.c and kernels/cuda/):
 *   gemm       cublas (cublasGemmStridedBatchedEx: fp32, tf32, fp16/bf16 with fp32 acc, fp16 with
 *              fp16 acc) | own (kernels/cuda/gemm.cu: mma.sync tensor cores, fp16/bf16, fp32 acc)
 *   conv2d     cudnn (when built with cuDNN: Find over NCHW and NHWC, the fastest kept, tracked
 *              workspace; all dtypes) | own (kernels/cuda/conv2d.cu: implicit GEMM, NCHW,
 *              fp16/bf16, fp32 acc)
 *   attention  unfused (cuBLAS batched Q K^T into the whole bh x sq x skv score matrix, fp32 unless
 *              acc=fp16, our softmax, batched P V) | sliced (same, one head at a time, one reused
 *              score buffer) | flash (kernels/cuda/attention.cu: fused, online softmax)
 * Every device allocation a row makes goes through sd_cuda_malloc (current/peak in ctx->mem).
 * Errors carry file:line; sticky CUDA errors mark the context dead and every later call says so.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda_internal.h"
#include "sdmark/fault.h"

/* ---------------------------------------------------------------- errors */

const char *sd_cuda_base_name(const char *f)
{
    const char *s = strrchr(f, '/');
    return s ? s + 1 : f;
}

/* Errors after which the CUDA context is unusable (they stay "sticky"). */
bool sd_cuda_sticky(cudaError_t e)
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

enum sd_status sd_cuda_fail(struct cuda_ctx *c, cudaError_t e, const char *what, const char *file,
                            int line, char *reason, size_t len)
{
    if (e == cudaErrorMemoryAllocation) {
        (void)cudaGetLastError();
        snprintf(reason, len, "%s: out of device memory at %s:%d", what, sd_cuda_base_name(file), line);
        return SD_OOM;
    }
    if (c && sd_cuda_sticky(e)) {
        if (!c->dead) {
            c->dead = true;
            snprintf(c->dead_reason, sizeof(c->dead_reason), "CUDA context lost after %s at %s:%d (%s)",
                     cudaGetErrorName(e), sd_cuda_base_name(file), line, what);
        }
        snprintf(reason, len, "%s", c->dead_reason);
        return SD_ERROR;
    }
    (void)cudaGetLastError(); /* clear a non-sticky error */
    snprintf(reason, len, "%s failed: %s (%s) at %s:%d", what, cudaGetErrorName(e), cudaGetErrorString(e),
             sd_cuda_base_name(file), line);
    return SD_ERROR;
}

enum sd_status sd_cublas_fail(struct cuda_ctx *c, cublasStatus_t s, const char *what,
                              const char *file, int line, char *reason, size_t len)
{
    if (s == CUBLAS_STATUS_ALLOC_FAILED) {
        snprintf(reason, len, "%s: cuBLAS could not allocate device memory at %s:%d", what,
                 sd_cuda_base_name(file), line);
        return SD_OOM;
    }
    /* an execution failure may hide a sticky CUDA error */
    cudaError_t e = cudaPeekAtLastError();
    if (e != cudaSuccess && sd_cuda_sticky(e))
        return sd_cuda_fail(c, e, what, file, line, reason, len);
    snprintf(reason, len, "%s failed: %s at %s:%d", what, cublasGetStatusName(s),
             sd_cuda_base_name(file), line);
    return s == CUBLAS_STATUS_NOT_SUPPORTED || s == CUBLAS_STATUS_ARCH_MISMATCH ? SD_UNSUPPORTED
                                                                                : SD_ERROR;
}

/* ---------------------------------------------------------------- tracked allocator */

enum sd_status sd_cuda_malloc(struct cuda_ctx *c, void **p, size_t bytes, const char *what,
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
        return sd_cuda_fail(c, e, "cudaMalloc", __FILE__, __LINE__, reason, len);
    }
    if (sd_memtrack_add(&c->mem, *p, req, what) != 0) {
        cudaFree(*p);
        *p = NULL;
        snprintf(reason, len, "host out of memory tracking an allocation");
        return SD_ERROR;
    }
    return SD_OK;
}

void sd_cuda_free(struct cuda_ctx *c, void *p)
{
    if (!p)
        return;
    sd_memtrack_remove(&c->mem, p);
    cudaFree(p);
}

/* ---------------------------------------------------------------- device discovery */

static void fill_versions(int dev, struct sd_device_info *info, struct sd_nvml *nvml)
{
    int drv = 0, rt = 0, clk = 0;
    cudaDriverGetVersion(&drv);
    cudaRuntimeGetVersion(&rt);
    char nv[48] = "";
    if (nvml && sd_nvml_driver_version(nvml, nv, sizeof(nv)) == 0)
        snprintf(info->driver_version, sizeof(info->driver_version), "%.40s (CUDA %d.%d)", nv,
                 drv / 1000, (drv % 1000) / 10);
    else
        snprintf(info->driver_version, sizeof(info->driver_version), "CUDA %d.%d", drv / 1000,
                 (drv % 1000) / 10);
    snprintf(info->api_version, sizeof(info->api_version), "CUDA %d.%d", rt / 1000, (rt % 1000) / 10);
    if (cudaDeviceGetAttribute(&clk, cudaDevAttrClockRate, dev) == cudaSuccess)
        info->clock_mhz = clk / 1000;
    else
        (void)cudaGetLastError();
}

static void fill_info(int dev, struct sd_device_info *info, struct sd_nvml *nvml)
{
    struct cudaDeviceProp prop;
    memset(info, 0, sizeof(*info));
    snprintf(info->backend, sizeof(info->backend), "cuda");
    snprintf(info->vendor, sizeof(info->vendor), "NVIDIA");
    info->kind = SD_DEVICE_GPU;
    if (cudaGetDeviceProperties(&prop, dev) != cudaSuccess) {
        (void)cudaGetLastError();
        snprintf(info->name, sizeof(info->name), "CUDA device %d", dev);
        return;
    }
    snprintf(info->name, sizeof(info->name), "%.127s", prop.name);
    snprintf(info->arch, sizeof(info->arch), "sm_%d%d", prop.major, prop.minor);
    fill_versions(dev, info, nvml);
    info->compute_units = prop.multiProcessorCount;
    info->mem_bytes = prop.totalGlobalMem;
    info->max_alloc_bytes = prop.totalGlobalMem;
    info->l2_bytes = (uint64_t)prop.l2CacheSize;
    info->fp16 = prop.major * 10 + prop.minor >= 75;
    info->bf16 = prop.major >= 8;
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

/* ---------------------------------------------------------------- open / close */

static void cuda_close(void *vctx);

/* Device attributes, stream, events and library handles of a fresh context. */
static enum sd_status open_handles(struct cuda_ctx *c, char *reason, size_t len)
{
    const int index = c->dev;
    int optin = 0;
    CUDA_TRY(c, cudaSetDevice(index));
    CUDA_TRY(c, cudaFree(NULL)); /* create the primary context now, not inside the first timing */
    CUDA_TRY(c, cudaDeviceGetAttribute(&c->cc_major, cudaDevAttrComputeCapabilityMajor, index));
    CUDA_TRY(c, cudaDeviceGetAttribute(&c->cc_minor, cudaDevAttrComputeCapabilityMinor, index));
    CUDA_TRY(c, cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, index));
    c->smem_optin = (size_t)optin;
    CUDA_TRY(c, cudaStreamCreateWithFlags(&c->stream, cudaStreamNonBlocking));
    CUDA_TRY(c, cudaEventCreate(&c->ev0));
    CUDA_TRY(c, cudaEventCreate(&c->ev1));
    cublasStatus_t s = cublasCreate(&c->cublas);
    if (s != CUBLAS_STATUS_SUCCESS) {
        snprintf(reason, len, "cublasCreate failed: %s", cublasGetStatusName(s));
        c->cublas = NULL;
        return s == CUBLAS_STATUS_ALLOC_FAILED ? SD_OOM : SD_ERROR;
    }
    cublasSetStream(c->cublas, c->stream);
#ifdef SDMARK_HAVE_CUDNN
    if (cudnnCreate(&c->cudnn) != CUDNN_STATUS_SUCCESS)
        c->cudnn = NULL; /* the cudnn impl reports unsupported */
    else
        cudnnSetStream(c->cudnn, c->stream);
#endif
    return sd_cuda_timing_open(c, reason, len);
}

static void open_nvml(struct cuda_ctx *c)
{
    char bus[32] = "";
    if (cudaDeviceGetPCIBusId(bus, sizeof(bus), c->dev) == cudaSuccess)
        c->nvml = sd_nvml_open(bus, c->nvml_why, sizeof(c->nvml_why));
    else {
        (void)cudaGetLastError();
        snprintf(c->nvml_why, sizeof(c->nvml_why), "not available: no PCI bus id");
    }
}

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
    enum sd_status st = open_handles(c, reason, len);
    if (st != SD_OK) {
        cuda_close(c);
        return st;
    }
    open_nvml(c);
    fill_info(index, &c->info, c->nvml);
    *out = c;
    return SD_OK;
}

static void cuda_close(void *vctx)
{
    struct cuda_ctx *c = vctx;
    if (!c)
        return;
    for (void *p; (p = sd_memtrack_last(&c->mem)) != NULL;) /* anything a caller forgot to release */
        sd_cuda_free(c, p);
    sd_cuda_timing_close(c);
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

/* ---------------------------------------------------------------- stats, env */

static void cuda_mem_stats(void *vctx, struct sd_mem_stats *out)
{
    struct cuda_ctx *c = vctx;
    sd_memtrack_stats(&c->mem, out);
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
    memset(&c->row, 0, sizeof(c->row));
    sd_nvml_begin(c->nvml, 20);
}

/* Power comes from NVML's energy counter over the row (nvml_loader.c). `throttled` speaks for the
 * samples kept: a throttled sample is taken again (cuda_timing.c), so 1 means some were kept
 * throttled after the re-takes ran out; without throttle reasons from NVML it stays -1. */
static void cuda_env_end(void *vctx, struct sd_env *out)
{
    struct cuda_ctx *c = vctx;
    sd_nvml_end(c->nvml, out);
    if (out->throttled >= 0 && sd_nvml_throttled_now(c->nvml) >= 0)
        out->throttled = c->row.kept_throttled > 0;
}

const struct sd_backend_ops sd_backend_cuda = {
    .name = "cuda",
    .probe = cuda_probe,
    .open = cuda_open,
    .close = cuda_close,
    .device_info = cuda_device_info,
    .impls = {[SD_OP_GEMM] = sd_cuda_gemm_impls, [SD_OP_CONV2D] = sd_cuda_conv_impls,
              [SD_OP_ATTENTION] = sd_cuda_attn_impls},
    .supports = sd_cuda_supports,
    .prepare = sd_cuda_prepare,
    .upload = sd_cuda_upload,
    .poison = sd_cuda_poison,
    .run = sd_cuda_run,
    .download = sd_cuda_download,
    .release = sd_cuda_release,
    .mem_stats = cuda_mem_stats,
    .reset_peak = cuda_reset_peak,
    .timer_name = cuda_timer_name,
    .env_begin = cuda_env_begin,
    .env_end = cuda_env_end,
    .tune = NULL,
    .flush_cache = sd_cuda_flush_cache,
    .plan_note = sd_cuda_plan_note,
};
