/* cuda_ops.c — the CUDA backend's ops: impl names, supports(), prepare()/release(), data
 * movement (fp32 host <-> storage dtype, NCHW <-> NHWC for cuDNN's NHWC plans) and the
 * per-impl enqueue. The library paths are in cuda_blas.c and cuda_dnn.c; timing in cuda_timing.c. */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda_internal.h"
#include "igemm_layout.h" /* kernels/cuda: SD_IG_MAX_SPLIT */
#include "sdmark/fault.h"

const char *const sd_cuda_gemm_impls[] = {"cublas", "own", NULL};
#ifdef SDMARK_HAVE_CUDNN
const char *const sd_cuda_conv_impls[] = {"cudnn", "own", NULL};
#else
const char *const sd_cuda_conv_impls[] = {"own", NULL};
#endif
const char *const sd_cuda_attn_impls[] = {"unfused", "sliced", "flash", NULL};

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

/* ---------------------------------------------------------------- supports */

#define INT_LIMIT 2147483647LL

static bool over_int(int64_t a, int64_t b, int64_t c, int64_t d)
{
    return a > INT_LIMIT || b > INT_LIMIT || c > INT_LIMIT || d > INT_LIMIT;
}

/* Storage/accumulate combinations the device and the backend offer at all. */
static enum sd_status supports_dtype(const struct cuda_ctx *c, const struct sd_workload *wl,
                                     char *reason, size_t len)
{
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
    return SD_OK;
}

/* SDMARK_CUDA_CONV_KERNEL (default 4: NHWC where it applies) and SDMARK_CUDA_GEMM_KERNEL
 * (default 3), read once; conv2d.cu / gemm.cu read the same variables to pick the kernels. */
static int conv_version(void)
{
    static int v;
    if (!v)
        v = sd_cuda_parse_version(getenv("SDMARK_CUDA_CONV_KERNEL"), 4, 1, 4);
    return v;
}
static int gemm_version(void)
{
    static int v;
    if (!v)
        v = sd_cuda_parse_version(getenv("SDMARK_CUDA_GEMM_KERNEL"), 3, 1, 3);
    return v;
}

/* Own tensor-core gemm / implicit-GEMM conv: fp16/bf16, fp32 accumulate, a launchable grid. */
static enum sd_status supports_own(const struct cuda_ctx *c, const struct sd_workload *wl,
                                   enum impl_id id, char *reason, size_t len)
{
    const enum sd_dtype dt = wl->dtype;
    const bool half_acc = wl->acc == SD_FP16;
    if (!(dt == SD_FP16 || dt == SD_BF16) || half_acc) {
        snprintf(reason, len, "own %s: tensor-core kernel for fp16/bf16 with fp32 accumulate only "
                 "(not %s%s)", sd_op_name(wl->op), sd_dtype_name(dt), half_acc ? " acc=fp16" : "");
        return SD_UNSUPPORTED;
    }
    if (c->cc_major * 10 + c->cc_minor < 75) {
        snprintf(reason, len, "own %s needs sm_75+ (mma.sync)", sd_op_name(wl->op));
        return SD_UNSUPPORTED;
    }
    struct sd_cuda_igemm_args a = {0};
    struct sd_cuda_launch l;
    if (id == IMPL_GEMM_OWN) {
        a.dtype = dt;
        a.m = wl->m; a.n = wl->n; a.k = wl->k; a.batch = wl->batch;
        a.lda = a.k; a.ldb = a.n; a.ldc = a.n;
    } else {
        if (wl->c_in * wl->r * wl->s > INT_LIMIT) {
            snprintf(reason, len, "own conv2d: c_in*r*s must fit in int");
            return SD_UNSUPPORTED;
        }
        sd_cuda_conv_igemm_args(wl, conv_version(), &a); /* what prepare will run */
    }
    return sd_cuda_igemm_config(&a, &l, reason, len) != 0 ? SD_UNSUPPORTED : SD_OK;
}

static enum sd_status supports_cudnn(const struct cuda_ctx *c, const struct sd_workload *wl,
                                     char *reason, size_t len)
{
#ifdef SDMARK_HAVE_CUDNN
    if (!c->cudnn) {
        snprintf(reason, len, "cudnnCreate failed on this device");
        return SD_UNSUPPORTED;
    }
    if (over_int(wl->batch, wl->c_in, wl->c_out, 0) || over_int(wl->h * wl->stride, wl->w * wl->stride, 0, 0)) {
        snprintf(reason, len, "cudnn: dimensions must fit in int");
        return SD_UNSUPPORTED;
    }
    return SD_OK;
#else
    snprintf(reason, len, "built without cuDNN");
    return SD_UNSUPPORTED;
#endif
}

static enum sd_status supports_flash(const struct cuda_ctx *c, const struct sd_workload *wl,
                                     char *reason, size_t len)
{
    const bool half_acc = wl->acc == SD_FP16;
    if (half_acc || wl->dtype == SD_TF32) {
        snprintf(reason, len, "flash: no %s kernel (fp32 CUDA-core or fp16/bf16 tensor-core "
                 "with fp32 accumulate only)", half_acc ? "acc=fp16" : "tf32");
        return SD_UNSUPPORTED;
    }
    struct sd_cuda_attn_args a = {0};
    struct sd_cuda_launch l;
    a.dtype = wl->dtype; a.bh = wl->batch_heads; a.sq = wl->seq_q; a.skv = wl->seq_kv; a.d = wl->head_dim;
    if (sd_cuda_flash_config(&a, &l, reason, len) != 0)
        return SD_UNSUPPORTED;
    if (l.smem > c->smem_optin) {
        snprintf(reason, len, "flash: needs %u bytes of shared memory per block, device allows %zu",
                 l.smem, c->smem_optin);
        return SD_UNSUPPORTED;
    }
    return SD_OK;
}

static enum sd_status supports_impl(const struct cuda_ctx *c, const struct sd_workload *wl,
                                    enum impl_id id, char *reason, size_t len)
{
    switch (id) {
    case IMPL_GEMM_CUBLAS:
        if (over_int(wl->m, wl->n, wl->k, wl->batch)) {
            snprintf(reason, len, "cublas: dimensions must fit in int");
            return SD_UNSUPPORTED;
        }
        return SD_OK;
    case IMPL_GEMM_OWN:
    case IMPL_CONV_OWN:
        return supports_own(c, wl, id, reason, len);
    case IMPL_CONV_CUDNN:
        return supports_cudnn(c, wl, reason, len);
    case IMPL_ATTN_UNFUSED:
    case IMPL_ATTN_SLICED:
        if (over_int(wl->seq_q, wl->seq_kv, wl->head_dim, wl->batch_heads) ||
            wl->seq_kv * 2 > INT_LIMIT) { /* 16-bit P rows have stride 2*seq_kv */
            snprintf(reason, len, "cublas: dimensions must fit in int");
            return SD_UNSUPPORTED;
        }
        return SD_OK;
    case IMPL_ATTN_FLASH:
        return supports_flash(c, wl, reason, len);
    }
    snprintf(reason, len, "unknown impl");
    return SD_UNSUPPORTED;
}

enum sd_status sd_cuda_supports(void *vctx, const struct sd_workload *wl, const char *impl,
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
    enum sd_status st = supports_dtype(c, wl, reason, len);
    return st != SD_OK ? st : supports_impl(c, wl, id, reason, len);
}

/* ---------------------------------------------------------------- prepare / release */

/* The v3/v4 tile and k-split for this device (sd_cuda_igemm_plan); a split-K plan gets its
 * workspace (tracked, counters zeroed once: the kernel resets them after each use). */
static enum sd_status plan_own(struct sd_plan *p, bool v3, char *reason, size_t len)
{
    struct cuda_ctx *c = p->ctx;
    const size_t bytes = sd_cuda_igemm_plan(&p->ig, v3 ? SD_IG_MAX_SPLIT : 1, c->info.compute_units);
    if (bytes == 0)
        return SD_OK;
    enum sd_status st = sd_cuda_malloc(c, &p->ws, bytes, "split-K workspace", reason, len);
    if (st != SD_OK)
        return st;
    p->ws_bytes = bytes;
    p->ig.ws = p->ws;
    CUDA_TRY(c, cudaMemsetAsync(p->ws, 0, bytes, c->stream));
    CUDA_TRY(c, cudaStreamSynchronize(c->stream));
    /* "workspace=N": the memory checks take it out of the measured peak (memory_check.c) */
    snprintf(p->note + strlen(p->note), sizeof(p->note) - strlen(p->note), "%ssplit-K %d workspace=%zu",
             p->note[0] ? "; " : "", p->ig.split, bytes);
    return SD_OK;
}

static enum sd_status setup_own_gemm(struct sd_plan *p, char *reason, size_t len)
{
    const struct sd_workload *wl = &p->wl;
    p->ig.dtype = wl->dtype;
    p->ig.m = wl->m; p->ig.n = wl->n; p->ig.k = wl->k; p->ig.batch = wl->batch;
    p->ig.lda = wl->k; p->ig.ldb = wl->n; p->ig.ldc = wl->n;
    p->ig.sa = wl->m * wl->k; p->ig.sb = wl->k * wl->n; p->ig.sc = wl->m * wl->n;
    return plan_own(p, gemm_version() >= 3, reason, len);
}

/* NHWC (conv v4) runs like cuDNN's NHWC plans: image and output NHWC, filter KRSC on the device,
 * converted on upload / download outside the timing (the row note says so). */
static enum sd_status setup_own_conv(struct sd_plan *p, char *reason, size_t len)
{
    const int mode = sd_cuda_conv_igemm_args(&p->wl, conv_version(), &p->ig);
    if (mode == SD_IGEMM_CONV_NHWC) {
        p->nhwc = true;
        snprintf(p->note, sizeof(p->note), "own NHWC implicit GEMM (conv v4): NHWC image/output, "
                 "KRSC filter, converted outside the timing like cudnn NHWC plans");
    }
    return plan_own(p, mode == SD_IGEMM_CONV_NHWC || (mode == 0 ? gemm_version() : conv_version()) >= 3,
                    reason, len);
}

static enum sd_status setup_flash(struct sd_plan *p, char *reason, size_t len)
{
    const struct sd_workload *wl = &p->wl;
    p->at.dtype = wl->dtype;
    p->at.bh = wl->batch_heads; p->at.sq = wl->seq_q; p->at.skv = wl->seq_kv; p->at.d = wl->head_dim;
    p->at.scale = (float)(1.0 / sqrt((double)wl->head_dim));
    CUDA_TRY(p->ctx, sd_cuda_flash_setup(&p->at));
    return SD_OK;
}

static enum sd_status setup_impl(struct sd_plan *p, char *reason, size_t len)
{
    switch (p->impl) {
    case IMPL_GEMM_CUBLAS:
    case IMPL_ATTN_UNFUSED:
    case IMPL_ATTN_SLICED:
        return sd_cuda_blas_setup(p, reason, len);
    case IMPL_GEMM_OWN:
        return setup_own_gemm(p, reason, len);
    case IMPL_CONV_OWN:
        return setup_own_conv(p, reason, len);
    case IMPL_CONV_CUDNN:
        return sd_cuda_dnn_setup(p, reason, len);
    case IMPL_ATTN_FLASH:
        return setup_flash(p, reason, len);
    }
    snprintf(reason, len, "unknown impl");
    return SD_ERROR;
}

static enum sd_status alloc_tensors(struct sd_plan *p, char *reason, size_t len)
{
    struct cuda_ctx *c = p->ctx;
    if (cudaSetDevice(c->dev) != cudaSuccess)
        return sd_cuda_fail(c, cudaGetLastError(), "cudaSetDevice", __FILE__, __LINE__, reason, len);
    for (int s = 0; s < p->nsets; s++)
        for (int i = 0; i < p->t.n_in; i++) {
            enum sd_status st = sd_cuda_malloc(c, &p->in[s * 3 + i], p->t.in[i] * p->esz, "input", reason, len);
            if (st != SD_OK)
                return st;
        }
    return sd_cuda_malloc(c, &p->out, p->t.out * p->esz, "output", reason, len);
}

enum sd_status sd_cuda_prepare(void *vctx, const struct sd_workload *wl, const char *impl, int nsets,
                               struct sd_plan **out, char *reason, size_t len)
{
    struct cuda_ctx *c = vctx;
    *out = NULL;
    DEAD_CHECK(c);
    enum sd_status st = sd_cuda_supports(c, wl, impl, reason, len);
    if (st != SD_OK)
        return st;
    struct sd_plan *p = calloc(1, sizeof(*p));
    if (p)
        p->in = calloc((size_t)(nsets < 1 ? 1 : nsets) * 3, sizeof(void *));
    if (!p || !p->in) {
        free(p);
        snprintf(reason, len, "host out of memory");
        return SD_ERROR;
    }
    p->ctx = c;
    p->wl = *wl;
    parse_impl(wl->op, impl, &p->impl);
    p->nsets = nsets < 1 ? 1 : nsets;
    sd_workload_tensors(wl, &p->t);
    p->esz = sd_dtype_size(wl->dtype);
    st = alloc_tensors(p, reason, len);
    if (st == SD_OK)
        st = setup_impl(p, reason, len);
    if (st != SD_OK) {
        sd_cuda_release(p);
        return st;
    }
    *out = p;
    return SD_OK;
}

void sd_cuda_release(struct sd_plan *p)
{
    if (!p)
        return;
    struct cuda_ctx *c = p->ctx;
    if (!c->dead)
        cudaStreamSynchronize(c->stream);
    if (p->in) {
        for (int i = 0; i < p->nsets * 3; i++)
            sd_cuda_free(c, p->in[i]);
        free(p->in);
    }
    sd_cuda_free(c, p->out);
    sd_cuda_free(c, p->scores);
    if (p->ws && sd_cuda_uses_cublas(p))
        cublasSetWorkspace(c->cublas, NULL, 0);
    sd_cuda_free(c, p->ws);
    sd_cuda_dnn_release(p);
    (void)cudaGetLastError();
    free(p);
}

/* ---------------------------------------------------------------- data movement */

/* NHWC plans hold the image (input 0) and the output as NHWC and the filter (input 1) as KRSC:
 * the NCHW <-> NHWC permutation with (n, c) = (batch, c_in | c_out) or (c_out, c_in). */
static void layout_dims(const struct sd_plan *p, int which, int64_t d[4])
{
    const struct sd_workload *wl = &p->wl;
    if (which == 0) {
        d[0] = wl->batch; d[1] = wl->c_in; d[2] = sd_conv_in_h(wl); d[3] = sd_conv_in_w(wl);
    } else if (which == 1) {
        d[0] = wl->c_out; d[1] = wl->c_in; d[2] = wl->r; d[3] = wl->s;
    } else {
        d[0] = wl->batch; d[1] = wl->c_out; d[2] = wl->h; d[3] = wl->w;
    }
}

/* Host fp32 (NCHW) -> device storage dtype (and layout) of one tensor. */
static enum sd_status upload_one(struct sd_plan *p, void *dst, const float *src, size_t n, int which,
                                 char *reason, size_t len)
{
    struct cuda_ctx *c = p->ctx;
    float *perm = NULL;
    if (p->nhwc) {
        int64_t d[4];
        layout_dims(p, which, d);
        if (!(perm = malloc(n * sizeof(float)))) {
            snprintf(reason, len, "host out of memory (%zu bytes staging)", n * sizeof(float));
            return SD_ERROR;
        }
        sd_cuda_nchw_to_nhwc(src, perm, d[0], d[1], d[2], d[3]);
        src = perm;
    }
    uint16_t *half = p->esz == 2 ? malloc(n * 2) : NULL;
    if (p->esz == 2 && !half) {
        free(perm);
        snprintf(reason, len, "host out of memory (%zu bytes staging)", n * 2);
        return SD_ERROR;
    }
    for (size_t j = 0; half && j < n; j++)
        half[j] = p->wl.dtype == SD_FP16 ? sd_float_to_half(src[j]) : sd_float_to_bf16(src[j]);
    cudaError_t e = cudaMemcpyAsync(dst, half ? (const void *)half : (const void *)src, n * p->esz,
                                    cudaMemcpyHostToDevice, c->stream);
    if (e == cudaSuccess)
        e = cudaStreamSynchronize(c->stream);
    free(half);
    free(perm);
    if (e != cudaSuccess)
        return sd_cuda_fail(c, e, "cudaMemcpyAsync(upload)", __FILE__, __LINE__, reason, len);
    return SD_OK;
}

enum sd_status sd_cuda_upload(struct sd_plan *p, int set, const float *const *inputs, char *reason,
                              size_t len)
{
    DEAD_CHECK(p->ctx);
    if (set < 0 || set >= p->nsets) {
        snprintf(reason, len, "upload: set %d out of range (0..%d)", set, p->nsets - 1);
        return SD_ERROR;
    }
    for (int i = 0; i < p->t.n_in; i++) {
        enum sd_status st = upload_one(p, p->in[set * 3 + i], inputs[i], p->t.in[i], i, reason, len);
        if (st != SD_OK)
            return st;
    }
    return SD_OK;
}

enum sd_status sd_cuda_poison(struct sd_plan *p, char *reason, size_t len)
{
    struct cuda_ctx *c = p->ctx;
    DEAD_CHECK(c);
    /* all-ones bytes are a NaN in fp32 (0xffffffff), fp16 (0xffff) and bf16 (0xffff) */
    CUDA_TRY(c, cudaMemsetAsync(p->out, 0xff, p->t.out * p->esz, c->stream));
    CUDA_TRY(c, cudaStreamSynchronize(c->stream));
    return SD_OK;
}

/* Device output (storage dtype, maybe NHWC) -> host fp32 NCHW; `tmp` holds n fp32 values. */
static void download_convert(const struct sd_plan *p, const void *dev_copy, float *out, float *tmp,
                             size_t n)
{
    float *dst = p->nhwc ? tmp : out;
    const uint16_t *h = dev_copy;
    for (size_t j = 0; j < n; j++)
        dst[j] = p->esz == 4 ? ((const float *)dev_copy)[j]
               : p->wl.dtype == SD_FP16 ? sd_half_to_float(h[j]) : sd_bf16_to_float(h[j]);
    if (p->nhwc) {
        int64_t d[4];
        layout_dims(p, 2, d);
        sd_cuda_nhwc_to_nchw(tmp, out, d[0], d[1], d[2], d[3]);
    }
}

enum sd_status sd_cuda_download(struct sd_plan *p, float *out, char *reason, size_t len)
{
    struct cuda_ctx *c = p->ctx;
    DEAD_CHECK(c);
    const size_t n = p->t.out;
    void *raw = malloc(n * p->esz);
    float *tmp = p->nhwc ? malloc(n * sizeof(float)) : NULL;
    if (!raw || (p->nhwc && !tmp)) {
        free(raw);
        free(tmp);
        snprintf(reason, len, "host out of memory (%zu bytes staging)", n * (p->esz + 4));
        return SD_ERROR;
    }
    cudaError_t e = cudaMemcpyAsync(raw, p->out, n * p->esz, cudaMemcpyDeviceToHost, c->stream);
    if (e == cudaSuccess)
        e = cudaStreamSynchronize(c->stream);
    if (e == cudaSuccess)
        download_convert(p, raw, out, tmp, n);
    free(raw);
    free(tmp);
    if (e != cudaSuccess)
        return sd_cuda_fail(c, e, "cudaMemcpyAsync(download)", __FILE__, __LINE__, reason, len);
    return SD_OK;
}

/* ---------------------------------------------------------------- enqueue */

enum sd_status sd_cuda_enqueue(struct sd_plan *p, int set, char *reason, size_t len)
{
    struct cuda_ctx *c = p->ctx;
    void *const *in = &p->in[set * 3];
    switch (p->impl) {
    case IMPL_GEMM_CUBLAS:
        return sd_cuda_blas_gemm(p, in, reason, len);
    case IMPL_GEMM_OWN:
    case IMPL_CONV_OWN: {
        struct sd_cuda_igemm_args a = p->ig;
        /* gemm: A = in[0], B = in[1]; NCHW conv: A = weights = in[1], B = image = in[0];
         * NHWC conv: A = the image (gathered), B = the KRSC weights */
        const bool a_first = p->impl == IMPL_GEMM_OWN || a.conv == SD_IGEMM_CONV_NHWC;
        a.a = in[a_first ? 0 : 1];
        a.b = in[a_first ? 1 : 0];
        a.c = p->out;
        CUDA_TRY(c, sd_cuda_igemm_launch(&a, c->stream));
        return SD_OK;
    }
    case IMPL_CONV_CUDNN:
        return sd_cuda_dnn_conv(p, in, reason, len);
    case IMPL_ATTN_UNFUSED:
    case IMPL_ATTN_SLICED:
        return sd_cuda_blas_attention(p, in, reason, len);
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
