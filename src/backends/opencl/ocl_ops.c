/* ocl_ops.c - plans for gemm / conv2d / attention on OpenCL: prepare, upload, run, download. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdmark/fault.h"
#include "ocl.h"

#ifdef SDMARK_HAVE_CLBLAST
#include <clblast_c.h>
#endif

enum impl { IMPL_OWN, IMPL_CLBLAST, IMPL_UNFUSED, IMPL_SLICED, IMPL_FLASH, IMPL_UNKNOWN };

static enum impl parse_impl(enum sd_op op, const char *s)
{
    if (!s)
        return IMPL_UNKNOWN;
    switch (op) {
    case SD_OP_GEMM:
        if (!strcmp(s, "own"))
            return IMPL_OWN;
#ifdef SDMARK_HAVE_CLBLAST
        if (!strcmp(s, "clblast"))
            return IMPL_CLBLAST;
#endif
        return IMPL_UNKNOWN;
    case SD_OP_CONV2D:
        return !strcmp(s, "own") ? IMPL_OWN : IMPL_UNKNOWN;
    case SD_OP_ATTENTION:
        if (!strcmp(s, "unfused"))
            return IMPL_UNFUSED;
        if (!strcmp(s, "sliced"))
            return IMPL_SLICED;
        if (!strcmp(s, "flash"))
            return IMPL_FLASH;
        return IMPL_UNKNOWN;
    default:
        return IMPL_UNKNOWN;
    }
}

struct sd_plan {
    struct ocl_ctx *c;
    struct sd_workload wl;
    enum impl impl;
    struct ocl_params prm;
    int nsets, n_in;
    size_t in_elems[3], out_elems, esize;
    cl_mem *in;                 /* nsets * 3 */
    cl_mem out, ws;
    size_t ws_bytes;
    cl_mem bp;                  /* CPU-style gemm/conv: packed B panels (packed_b_elems) */
    size_t bp_bytes;
    int64_t extra_bytes;        /* library workspace estimate added to the tracked bytes */
    cl_kernel k_main, k_soft, k_pv;
    cl_kernel k_pack;           /* flash: flash_pack before flash_cpu; CPU-style gemm/conv (and the
                                 * unfused/sliced attention GEMMs): gemm_pack_b or conv_pack_b */
    cl_event *ev;
    int nev, cap_ev;
};

enum sd_status ocl_supports(void *ctx, const struct sd_workload *wl, const char *impl, char *reason,
                            size_t len)
{
    struct ocl_ctx *c = ctx;
    char err[200];
    if (sd_workload_validate(wl, err, sizeof(err)) != 0) {
        snprintf(reason, len, "%s", err);
        return SD_UNSUPPORTED;
    }
    enum impl im = parse_impl(wl->op, impl);
    if (im == IMPL_UNKNOWN) {
        snprintf(reason, len, "opencl has no %s impl '%s'", sd_op_name(wl->op), impl ? impl : "(null)");
        return SD_UNSUPPORTED;
    }
    if (wl->dtype == SD_TF32 || wl->dtype == SD_BF16) {
        snprintf(reason, len, "%s is not available in OpenCL", sd_dtype_name(wl->dtype));
        return SD_UNSUPPORTED;
    }
    if (wl->acc != SD_FP32) {
        snprintf(reason, len, "accumulate in %s is not offered on OpenCL (fp32 accumulate only)",
                 sd_dtype_name(wl->acc));
        return SD_UNSUPPORTED;
    }
    if (wl->dtype == SD_FP16 && !c->info.fp16) {
        snprintf(reason, len, "device lacks cl_khr_fp16");
        return SD_UNSUPPORTED;
    }
    const char *want = wl->op == SD_OP_GEMM ? "row" : wl->op == SD_OP_CONV2D ? "NCHW" : "BSD";
    if (wl->layout[0] && strcmp(wl->layout, want) != 0) {
        snprintf(reason, len, "opencl %s supports layout %s only, not %s", sd_op_name(wl->op), want,
                 wl->layout);
        return SD_UNSUPPORTED;
    }
    if (wl->op == SD_OP_CONV2D && (wl->r > 7 || wl->s > 7)) {
        snprintf(reason, len, "opencl conv2d supports filters up to 7x7");
        return SD_UNSUPPORTED;
    }
    /* int kernel arguments: every dimension and leading dimension must fit in 31 bits */
    int64_t dims[] = {wl->m, wl->n, wl->k, wl->c_in * wl->r * wl->s, wl->h * wl->w,
                      wl->seq_q, wl->seq_kv, wl->head_dim};
    for (size_t i = 0; i < sizeof(dims) / sizeof(dims[0]); i++)
        if (dims[i] > INT32_MAX) {
            snprintf(reason, len, "a dimension exceeds 2^31 (int kernel arguments)");
            return SD_UNSUPPORTED;
        }
    return SD_OK;
}

/* ------------------------------------------------------------------------------------------ */

static void half_opts(char *buf, size_t len, int a, int b, int cc)
{
    snprintf(buf, len, " -DA_HALF=%d -DB_HALF=%d -DC_HALF=%d", a, b, cc);
}

/* gemm_packed's __local A block: MBP rows of KB + 4 floats */
static uint64_t packed_local_bytes(const struct ocl_mm_params *mp)
{
    return (uint64_t)(((mp->mb + mp->mr - 1) / mp->mr) * mp->mr) * (uint64_t)(mp->kb + 4) * 4;
}

/* The gemm/conv kernel for mp's style: the tiled one, or (CPU) gemm_packed and its B-packing
 * kernel `kname_pack` from the same program (files must hold both). */
static enum sd_status mm_kernel(struct ocl_ctx *c, const char *files, const char *kname_pack,
                                const char *kname_gpu, const struct ocl_mm_params *mp,
                                const char *extra, cl_kernel *out, cl_kernel *pack, char *reason, size_t len)
{
    char opts[512];
    ocl_mm_opts(mp, opts, sizeof(opts));
    strncat(opts, extra, sizeof(opts) - strlen(opts) - 1);
    if (mp->style != OCL_STYLE_CPU)
        return ocl_kernel(c, files, opts, kname_gpu, out, reason, len);
    const uint64_t need = packed_local_bytes(mp);
    if (c->local_mem && need > c->local_mem) {
        snprintf(reason, len, "packed kernel parameters need %" PRIu64 " bytes of local memory > %" PRIu64,
                 need, c->local_mem);
        return SD_UNSUPPORTED; /* as ocl_kernel says for any kernel over the device's local memory */
    }
    enum sd_status st = ocl_kernel(c, files, opts, "gemm_packed", out, reason, len);
    if (st == SD_OK && pack && !*pack)
        st = ocl_kernel(c, files, opts, kname_pack, pack, reason, len);
    return st;
}

/* A 1x1, stride-1, unpadded conv is a GEMM per image (Y[b] = W * X[b]): no im2col. */
static bool conv_is_gemm(const struct sd_workload *wl)
{
    return wl->op == SD_OP_CONV2D && wl->r == 1 && wl->s == 1 && wl->stride == 1 && wl->pad == 0;
}

static void plan_free(struct sd_plan *p)
{
    if (!p)
        return;
    struct ocl_ctx *c = p->c;
    clFinish(c->queue);
    if (p->in)
        for (int i = 0; i < p->nsets * 3; i++)
            ocl_free(c, &p->in[i], p->in_elems[i % 3] * p->esize);
    free(p->in);
    ocl_free(c, &p->out, p->out_elems * p->esize);
    ocl_free(c, &p->ws, p->ws_bytes);
    ocl_free(c, &p->bp, p->bp_bytes);
    if (p->extra_bytes)
        ocl_track_extra(c, -p->extra_bytes);
    if (p->k_main)
        clReleaseKernel(p->k_main);
    if (p->k_soft)
        clReleaseKernel(p->k_soft);
    if (p->k_pv)
        clReleaseKernel(p->k_pv);
    if (p->k_pack)
        clReleaseKernel(p->k_pack);
    for (int i = 0; i < p->nev; i++)
        clReleaseEvent(p->ev[i]);
    free(p->ev);
    free(p);
}

void ocl_release(struct sd_plan *p) { plan_free(p); }

/* Flash's workspace (K/V packed to fp32 for flash_cpu, or the running state of a key-split
 * flash_gpu) is neither scores nor tensors: named as "workspace=N" (backend.h, plan_note) so the
 * memory check takes it out of the peak, leaving unfused - flash = the score matrix. */
void ocl_plan_note(struct sd_plan *p, char *note, size_t len)
{
    if (p->impl == IMPL_FLASH && p->ws_bytes)
        snprintf(note, len, "%s workspace=%zu",
                 p->prm.flash.style == OCL_STYLE_CPU ? "K/V packed to fp32" : "running state (keys split)",
                 p->ws_bytes);
    else if (len)
        note[0] = 0;
}

/* Build flash_cpu (+ flash_pack) / flash_gpu for the plan's head_dim. Where the tuned tile does not
 * fit the device's local memory the same result is computed with a smaller one instead of refusing
 * the row: flash_gpu keeps FBKV keys and values in __local (rusticl/llvmpipe: 32 KiB, and it
 * reports twice the arrays' size), so FBKV is halved; flash_cpu keeps FQR x FQS query rows and
 * their output (head_dim 512: 4 KiB a row), so FQS is halved. */
static enum sd_status build_flash(struct ocl_ctx *c, struct sd_plan *p, int half, char *reason, size_t len)
{
    struct ocl_flash_params *fp = &p->prm.flash;
    const int hd = (int)p->wl.head_dim;
    const bool gpu = fp->style != OCL_STYLE_CPU;
    for (;;) {
        char opts[512], ho[96], extra[128];
        ocl_flash_opts(fp, hd, opts, sizeof(opts));
        half_opts(ho, sizeof(ho), 0, half, half);
        snprintf(extra, sizeof(extra), " -DHD=%d%s", hd, ho);
        strncat(opts, extra, sizeof(opts) - strlen(opts) - 1);
        enum sd_status st = SD_OK;
        if (!gpu && c->local_mem && (uint64_t)fp->qr * fp->qs * (hd + ocl_flash_hdp(fp, hd)) * 4 > c->local_mem)
            snprintf(reason, len, "flash_cpu needs more local memory than the device's %" PRIu64, c->local_mem),
                st = SD_UNSUPPORTED;
        if (st == SD_OK)
            st = ocl_kernel(c, "common,attention", opts, gpu ? "flash_gpu" : "flash_cpu", &p->k_main, reason, len);
        if (st == SD_OK && !gpu)
            st = ocl_kernel(c, "common,attention", opts, "flash_pack", &p->k_pack, reason, len);
        if (st != SD_UNSUPPORTED || !strstr(reason, "local memory") || (gpu ? fp->bkv : fp->qs) <= 1)
            return st;
        if (p->k_main)
            clReleaseKernel(p->k_main);
        p->k_main = NULL;
        if (gpu)
            fp->bkv /= 2;
        else
            fp->qs /= 2;
    }
}

/* A plan with the row's shape and its own copy of the parameters (build_flash may narrow them). */
static struct sd_plan *plan_new(struct ocl_ctx *c, const struct sd_workload *wl, const char *impl, int nsets,
                                const struct ocl_params *prm)
{
    struct sd_plan *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    p->c = c;
    p->wl = *wl;
    p->impl = parse_impl(wl->op, impl);
    p->prm = *prm;
    /* a 1x1 conv runs the GEMM kernels: with the GEMM's parameters when those are CPU-style too
     * (and fit the device's local memory) */
    if (conv_is_gemm(wl) && prm->conv.style == OCL_STYLE_CPU && prm->gemm.style == OCL_STYLE_CPU &&
        (!c->local_mem || packed_local_bytes(&prm->gemm) <= c->local_mem))
        p->prm.conv = prm->gemm;
    p->nsets = nsets;
    p->esize = sd_dtype_size(wl->dtype);
    struct sd_tensors t;
    sd_workload_tensors(wl, &t);
    p->n_in = t.n_in;
    for (int i = 0; i < 3; i++)
        p->in_elems[i] = i < t.n_in ? t.in[i] : 0;
    p->out_elems = t.out;
    return p;
}

/* Kernels first (a build error is not an OOM), memory after. */
static enum sd_status build_kernels(struct ocl_ctx *c, struct sd_plan *p, char *reason, size_t len)
{
    const struct sd_workload *wl = &p->wl;
    const int h = wl->dtype == SD_FP16;
    char ho[96], extra[160];
    enum sd_status st = SD_OK;
    switch (p->impl) {
    case IMPL_OWN:
        half_opts(ho, sizeof(ho), h, h, h);
        if (wl->op == SD_OP_GEMM)
            return mm_kernel(c, "common,gemm", "gemm_pack_b", "gemm_tiled", &p->prm.gemm, ho, &p->k_main, &p->k_pack,
                             reason, len);
        snprintf(extra, sizeof(extra), " -DFR=%d -DFS=%d%s", (int)wl->r, (int)wl->s, ho);
        return mm_kernel(c, "common,gemm,conv2d", conv_is_gemm(wl) ? "gemm_pack_b" : "conv_pack_b", "conv_tiled",
                         &p->prm.conv, extra, &p->k_main, &p->k_pack, reason, len);
    case IMPL_CLBLAST:
        return SD_OK;
    case IMPL_UNFUSED:
    case IMPL_SLICED:
        half_opts(ho, sizeof(ho), h, h, 0);
        st = mm_kernel(c, "common,gemm", "gemm_pack_b", "gemm_tiled", &p->prm.gemm, ho, &p->k_main, &p->k_pack,
                       reason, len);
        if (st == SD_OK) {
            half_opts(ho, sizeof(ho), 0, h, h);
            st = mm_kernel(c, "common,gemm", "gemm_pack_b", "gemm_tiled", &p->prm.gemm, ho, &p->k_pv, NULL, reason,
                           len);
        }
        return st == SD_OK ? ocl_kernel(c, "common,attention", "", "softmax_rows", &p->k_soft, reason, len) : st;
    case IMPL_FLASH:
        return build_flash(c, p, h, reason, len);
    default:
        snprintf(reason, len, "unknown impl");
        return SD_ERROR;
    }
}

static const char *const in_names[SD_OP_COUNT][3] = {
    {"gemm A", "gemm B", ""}, {"conv2d input", "conv2d weights", ""}, {"Q", "K", "V"}};

/* The workspace sized by the shape: the score matrix (unfused: all heads) or slice (sliced: one
 * head) in fp32, flash_cpu's packed K/V; 0 for other impls. */
static double score_bytes(const struct sd_plan *p)
{
    if (p->impl == IMPL_FLASH && p->prm.flash.style == OCL_STYLE_CPU)
        return (double)ocl_flash_pack_bytes(&p->prm.flash, p->wl.batch_heads, p->wl.seq_kv, (int)p->wl.head_dim);
    if (p->impl != IMPL_UNFUSED && p->impl != IMPL_SLICED)
        return 0;
    double rows = (double)p->wl.seq_q * (p->impl == IMPL_UNFUSED ? (double)p->wl.batch_heads : 1);
    return rows * (double)p->wl.seq_kv * 4;
}

static const char *score_name(const struct sd_plan *p)
{
    return p->impl == IMPL_FLASH     ? "flash K/V packed to fp32"
           : p->impl == IMPL_UNFUSED ? "fp32 score matrix (all heads)"
                                     : "fp32 score slice (one head)";
}

/* Floats of one batch entry's packed B (common.cl): K-blocks x NR-column strips x KB x NR. */
static uint64_t packed_b_elems(const struct ocl_mm_params *mp, int64_t K, int64_t N)
{
    const int64_t nr = (int64_t)mp->vw * mp->nv;
    return (uint64_t)((K + mp->kb - 1) / mp->kb) * (uint64_t)((N + nr - 1) / nr) * (uint64_t)mp->kb * (uint64_t)nr;
}

/* Bytes of the packed-B buffer of a CPU-style gemm/conv plan (every batch entry at once); 0 when
 * the plan's kernels are not the CPU-style packed ones. */
static double packed_b_bytes(const struct sd_plan *p)
{
    const struct sd_workload *wl = &p->wl;
    const struct ocl_mm_params *mp = wl->op == SD_OP_CONV2D ? &p->prm.conv : &p->prm.gemm;
    if (mp->style != OCL_STYLE_CPU || p->impl == IMPL_CLBLAST || p->impl == IMPL_FLASH)
        return 0;
    if (wl->op == SD_OP_GEMM)
        return 4.0 * (double)packed_b_elems(mp, wl->k, wl->n) * (double)wl->batch;
    if (wl->op == SD_OP_CONV2D)
        return 4.0 * (double)packed_b_elems(mp, wl->c_in * wl->r * wl->s, wl->h * wl->w) * (double)wl->batch;
    /* unfused / sliced attention: B = K^T (head_dim x seq_kv), then V (seq_kv x head_dim) */
    const uint64_t qk = packed_b_elems(mp, wl->head_dim, wl->seq_kv), pv = packed_b_elems(mp, wl->seq_kv, wl->head_dim);
    return 4.0 * (double)(qk > pv ? qk : pv) * (double)(p->impl == IMPL_UNFUSED ? wl->batch_heads : 1);
}

/* Fail fast: a row whose buffers cannot fit together is an oom before any buffer is created and
 * first-touched (filling gigabytes of inputs only to fail on the score matrix takes minutes on a
 * CPU device). SD_OK or SD_OOM naming the buffer. */
static enum sd_status buffers_fit(const struct ocl_ctx *c, const struct sd_plan *p, char *reason, size_t len)
{
    double big_b = (double)p->out_elems * (double)p->esize, need = big_b;
    const char *big = "output";
    for (int i = 0; i < p->n_in; i++) {
        double b = (double)p->in_elems[i] * (double)p->esize;
        need += (double)p->nsets * b;
        if (b > big_b)
            big_b = b, big = in_names[p->wl.op][i];
    }
    const double ws = score_bytes(p), bp = packed_b_bytes(p);
    need += ws + bp;
    if (ws > big_b)
        big_b = ws, big = score_name(p);
    if (bp > big_b)
        big_b = bp, big = "packed B panels";
    if (c->info.max_alloc_bytes && big_b > (double)c->info.max_alloc_bytes) {
        snprintf(reason, len, "%s needs %.0f bytes in one buffer > CL_DEVICE_MAX_MEM_ALLOC_SIZE %" PRIu64, big, big_b,
                 c->info.max_alloc_bytes);
        return SD_OOM;
    }
    if (c->info.mem_bytes && need + (double)c->mem.current > (double)c->info.mem_bytes) {
        snprintf(reason, len,
                 "buffers need %.0f bytes in all (%d input set(s), output, workspace); %" PRIu64
                 " already allocated of %" PRIu64 " global memory",
                 need, p->nsets, c->mem.current, c->info.mem_bytes);
        return SD_OOM;
    }
    return SD_OK;
}

/* The plan's one workspace buffer (p->ws), tracked, of `bytes` named `what`. */
static enum sd_status alloc_ws(struct ocl_ctx *c, struct sd_plan *p, size_t bytes, const char *what, char *reason,
                               size_t len)
{
    p->ws_bytes = bytes;
    enum sd_status st = ocl_alloc(c, bytes, &p->ws, what, reason, len);
    if (st != SD_OK)
        p->ws_bytes = 0;
    return st;
}

#ifdef SDMARK_HAVE_CLBLAST
/* CLBlast's temporary (padded-copy) buffer comes from our tracked allocator and is passed to
 * ...gemmWithTempBuffer, so the peak includes the library workspace. */
static enum sd_status alloc_clblast_tmp(struct ocl_ctx *c, struct sd_plan *p, char *reason, size_t len)
{
    const struct sd_workload *wl = &p->wl;
    const int h = wl->dtype == SD_FP16;
    size_t tmp = 0;
    for (int64_t b = 0; b < wl->batch; b++) {
        size_t m = wl->m, n = wl->n, k = wl->k, t1 = 0;
        CLBlastStatusCode cs =
            h ? CLBlastHGemmTempBufferSize(CLBlastLayoutRowMajor, CLBlastTransposeNo, CLBlastTransposeNo, m, n, k,
                                           b * m * k, k, b * k * n, n, b * m * n, n, &c->queue, &t1)
              : CLBlastSGemmTempBufferSize(CLBlastLayoutRowMajor, CLBlastTransposeNo, CLBlastTransposeNo, m, n, k,
                                           b * m * k, k, b * k * n, n, b * m * n, n, &c->queue, &t1);
        if (cs != CLBlastSuccess) {
            snprintf(reason, len, "CLBlast%cGemmTempBufferSize failed: status %d", h ? 'H' : 'S', (int)cs);
            return SD_ERROR;
        }
        if (t1 > tmp)
            tmp = t1;
    }
    return tmp > 0 ? alloc_ws(c, p, tmp, "CLBlast temporary buffer", reason, len) : SD_OK;
}
#endif

/* Inputs x nsets, the output and the impl's workspace. */
static enum sd_status alloc_buffers(struct ocl_ctx *c, struct sd_plan *p, char *reason, size_t len)
{
    const struct sd_workload *wl = &p->wl;
    enum sd_status st = SD_OK;
    for (int s = 0; s < p->nsets && st == SD_OK; s++)
        for (int i = 0; i < p->n_in && st == SD_OK; i++)
            st = ocl_alloc(c, p->in_elems[i] * p->esize, &p->in[s * 3 + i], in_names[wl->op][i], reason, len);
    if (st == SD_OK)
        st = ocl_alloc(c, p->out_elems * p->esize, &p->out, "output", reason, len);
    if (st == SD_OK && score_bytes(p) > 0)
        st = alloc_ws(c, p, (size_t)score_bytes(p), score_name(p), reason, len);
    else if (st == SD_OK && p->impl == IMPL_FLASH && p->prm.flash.style != OCL_STYLE_CPU &&
             ocl_kv_chunk(c, &p->prm.flash, (int)wl->seq_kv, (int)wl->head_dim) < wl->seq_kv)
        /* keys split over launches: the running max, sum and output per query row */
        st = alloc_ws(c, p, (size_t)((uint64_t)wl->batch_heads * wl->seq_q * (wl->head_dim + 2) * 4),
                      "flash running state (keys split)", reason, len);
    const size_t bp_bytes = (size_t)packed_b_bytes(p);
    if (st == SD_OK && bp_bytes > 0) {
        p->bp_bytes = bp_bytes;
        st = ocl_alloc(c, p->bp_bytes, &p->bp, "packed B panels", reason, len);
        if (st != SD_OK)
            p->bp_bytes = 0;
    }
#ifdef SDMARK_HAVE_CLBLAST
    if (st == SD_OK && p->impl == IMPL_CLBLAST)
        st = alloc_clblast_tmp(c, p, reason, len);
#endif
    return st;
}

enum sd_status ocl_prepare_with(struct ocl_ctx *c, const struct sd_workload *wl, const char *impl,
                                int nsets, const struct ocl_params *prm, struct sd_plan **plan,
                                char *reason, size_t len)
{
    *plan = NULL;
    enum sd_status st = ocl_supports(c, wl, impl, reason, len);
    if (st != SD_OK)
        return st;
    struct sd_plan *p = plan_new(c, wl, impl, nsets < 1 ? 1 : nsets, prm);
    if (!p || !(p->in = calloc((size_t)p->nsets * 3, sizeof(cl_mem)))) {
        plan_free(p);
        snprintf(reason, len, "out of host memory");
        return SD_ERROR;
    }
    st = build_kernels(c, p, reason, len);
    if (st == SD_OK)
        st = buffers_fit(c, p, reason, len);
    /* after the memory check (a row that cannot fit is oom on any driver), before allocating */
    if (st == SD_OK && p->impl != IMPL_CLBLAST)
        st = ocl_loop_check(c, wl, p->impl == IMPL_FLASH, &p->prm, reason, len);
    if (st == SD_OK)
        st = alloc_buffers(c, p, reason, len);
    if (st != SD_OK) {
        plan_free(p);
        return st;
    }
    *plan = p;
    return SD_OK;
}

enum sd_status ocl_prepare(void *ctx, const struct sd_workload *wl, const char *impl, int nsets,
                           struct sd_plan **plan, char *reason, size_t len)
{
    struct ocl_ctx *c = ctx;
    ocl_params_load(c);
    return ocl_prepare_with(c, wl, impl, nsets, &c->params, plan, reason, len);
}

/* ------------------------------------------------------------------------------------------ */

static cl_mem in_buf(struct sd_plan *p, int set, int i) { return p->in[set * 3 + i]; }

enum sd_status ocl_upload(struct sd_plan *p, int set, const float *const *inputs, char *reason,
                          size_t len)
{
    if (set < 0 || set >= p->nsets) {
        snprintf(reason, len, "upload: set %d out of range (nsets %d)", set, p->nsets);
        return SD_ERROR;
    }
    struct ocl_ctx *c = p->c;
    for (int i = 0; i < p->n_in; i++) {
        cl_mem m = in_buf(p, set, i);
        size_t n = p->in_elems[i];
        if (p->wl.dtype == SD_FP16) {
            uint16_t *tmp = malloc(n * 2 + 2);
            if (!tmp) {
                snprintf(reason, len, "out of host memory");
                return SD_ERROR;
            }
            for (size_t j = 0; j < n; j++)
                tmp[j] = sd_float_to_half(inputs[i][j]);
            cl_int err = clEnqueueWriteBuffer(c->queue, m, CL_TRUE, 0, n * 2, tmp, 0, NULL, NULL);
            free(tmp);
            OCL_CHECK(err);
        } else {
            OCL_CHECK(clEnqueueWriteBuffer(c->queue, m, CL_TRUE, 0, n * 4, inputs[i], 0, NULL, NULL));
        }
    }
    return SD_OK;
}

enum sd_status ocl_poison(struct sd_plan *p, char *reason, size_t len)
{
    struct ocl_ctx *c = p->c;
    if (p->wl.dtype == SD_FP16) {
        const uint16_t nan16 = 0x7e00;
        OCL_CHECK(clEnqueueFillBuffer(c->queue, p->out, &nan16, 2, 0, p->out_elems * 2, 0, NULL, NULL));
    } else {
        const uint32_t nan32 = 0x7fc00000u;
        OCL_CHECK(clEnqueueFillBuffer(c->queue, p->out, &nan32, 4, 0, p->out_elems * 4, 0, NULL, NULL));
    }
    OCL_CHECK(clFinish(c->queue));
    return SD_OK;
}

enum sd_status ocl_download(struct sd_plan *p, float *out, char *reason, size_t len)
{
    struct ocl_ctx *c = p->c;
    size_t n = p->out_elems;
    if (p->wl.dtype == SD_FP16) {
        uint16_t *tmp = malloc(n * 2 + 2);
        if (!tmp) {
            snprintf(reason, len, "out of host memory");
            return SD_ERROR;
        }
        cl_int err = clEnqueueReadBuffer(c->queue, p->out, CL_TRUE, 0, n * 2, tmp, 0, NULL, NULL);
        if (err == CL_SUCCESS)
            for (size_t j = 0; j < n; j++)
                out[j] = sd_half_to_float(tmp[j]);
        free(tmp);
        OCL_CHECK(err);
    } else {
        OCL_CHECK(clEnqueueReadBuffer(c->queue, p->out, CL_TRUE, 0, n * 4, out, 0, NULL, NULL));
    }
    return SD_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* run                                                                                         */

static cl_event *next_event(struct sd_plan *p)
{
    if (p->nev == p->cap_ev) {
        int cap = p->cap_ev ? p->cap_ev * 2 : 8;
        cl_event *ne = realloc(p->ev, (size_t)cap * sizeof(*ne));
        if (!ne)
            return NULL;
        p->ev = ne;
        p->cap_ev = cap;
    }
    p->ev[p->nev] = NULL;
    return &p->ev[p->nev];
}

static enum sd_status enqueue(struct sd_plan *p, cl_kernel k, cl_uint dims, const size_t *global,
                              const size_t *local, char *reason, size_t len)
{
    cl_event *ev = next_event(p);
    if (sd_fault_hit(SD_FAULT_ENQUEUE)) {
        snprintf(reason, len, "clEnqueueNDRangeKernel: CL_OUT_OF_RESOURCES (injected by SDMARK_FAULT)");
        return SD_ERROR;
    }
    OCL_CHECK(clEnqueueNDRangeKernel(p->c->queue, k, dims, NULL, global, local, 0, NULL, ev));
    if (ev && *ev)
        p->nev++;
    return SD_OK;
}

#define SETARG(k, i, v) OCL_CHECK(clSetKernelArg((k), (i), sizeof(v), &(v)))

/* A tiled (GPU-style) gemm/conv: arguments arg0.. arg0+2 are kbeg, kend, accum. One launch over
 * all of K, or several on a device that ends a work-item's loops early (ocl_k_chunk). */
static enum sd_status enqueue_k_chunks(struct sd_plan *p, cl_kernel k, cl_uint arg0, int K,
                                       const struct ocl_mm_params *mp, const size_t *g, const size_t *l,
                                       char *reason, size_t len)
{
    const int chunk = ocl_k_chunk(p->c, mp, K);
    int kbeg = 0;
    do {
        int kend = K - kbeg > chunk ? kbeg + chunk : K, accum = kbeg > 0;
        SETARG(k, arg0, kbeg);
        SETARG(k, arg0 + 1, kend);
        SETARG(k, arg0 + 2, accum);
        enum sd_status st = enqueue(p, k, 3, g, l, reason, len);
        if (st != SD_OK)
            return st;
        kbeg = kend;
    } while (kbeg < K);
    return SD_OK;
}

/* Block sizes for gemm_packed: bm (multiple of MR, <= MB) x bn (multiple of NR, <= NB), and
 * whether each work-group packs its own B panel (*self; only when B is a matrix, `can_self`).
 * The work-groups go to the device's cores in waves; the choice minimises waves x the cost of
 * one work-group, so a shape with few blocks is cut into pieces that keep every core busy.
 * Costs, in FMA lanes: bm*bn*K FMAs per block, ~12 per float of A it packs (a wider block
 * amortises it), a fixed cost per block, and for B either
 *  - self-packed, when B is too large to stay in the last-level cache between a packing pass
 *    and its use (>= half of it) and the work-group's C panel (M rows x up to NB columns) fits
 *    in a core's L2 (<= 1 MiB): one work-group per column block covers every row, packs each
 *    strip of its panel just before the first row block uses it, ~12 per float of panel (read
 *    once from memory), ~2 per float for each further row block that reads it from cache; no
 *    pass that writes B out to memory and reads it back. Measured on a 2-core Zen 4 (32 MB L3),
 *    self vs shared: 0.83-0.93x the time at M = 128-512 with 26-52 MB of B (AVX-512 and AVX2
 *    kernels); with 1-7 MB of B 0.92-0.98x (AVX-512) but 1.04-1.07x (AVX2), and at M = 2048
 *    1.03-1.10x (the C panel spills to L3 at every K-block). Not on a device that cuts a
 *    work-item's loops off (ocl_limits.c counts one block of rows per work-item); or
 *  - shared: a separate packing pass (~16 per float of B, over the cores), then ~8 per float
 *    of panel each block streams back (a taller block amortises it); a single block per batch
 *    entry packs its panel itself, with no pass. */
static void mm_blocks(const struct ocl_ctx *c, const struct ocl_mm_params *mp, int M, int N, int K, size_t batch,
                      bool can_self, int *bm, int *bn, int *self)
{
    const int mr = mp->mr, nr = mp->vw * mp->nv, cores = c->info.compute_units > 0 ? c->info.compute_units : 1;
    const int maxm = (mp->mb + mr - 1) / mr, maxn = (mp->nb + nr - 1) / nr; /* in strips */
    const int sm = (M + mr - 1) / mr, sn = (N + nr - 1) / nr, pm0 = (sm + maxm - 1) / maxm, pn0 = (sn + maxn - 1) / maxn;
    const double llc = c->info.l2_bytes > 0 ? (double)c->info.l2_bytes : 8.0 * 1024 * 1024; /* CPUs: the L3 */
    const double core_l2 = 1024.0 * 1024; /* a core's L2 on current x86 server CPUs: 1-2 MiB */
    const bool panel_fits = can_self && !c->loop_limit && 4.0 * M * (mp->nb < N ? mp->nb : N) <= core_l2 &&
                            4.0 * K * N * (double)batch >= llc / 2;
    double best = 1e300;
    *bm = mr * (sm < maxm ? sm : maxm);
    *bn = nr * (sn < maxn ? sn : maxn);
    *self = panel_fits;
    for (int pn = pn0; pn <= sn && pn <= 8 * pn0; pn++) {
        const int tn = (sn + pn - 1) / pn; /* strips per block */
        const double nblk = (double)((sn + tn - 1) / tn) * (double)batch, panel = (double)tn * nr * K;
        if (panel_fits) {
            const int tm = (sm + pm0 - 1) / pm0; /* the work-group's row blocks, balanced */
            const double cost = ceil(nblk / cores) * ((double)pm0 * tm * mr * panel + (12.0 + 2.0 * pm0) * panel +
                                                      12.0 * pm0 * tm * mr * K + 5e4 * pm0);
            if (cost < best * 0.999) {
                best = cost;
                *bm = tm * mr;
                *bn = tn * nr;
            }
            continue;
        }
        for (int pm = pm0; pm <= sm && pm <= 8 * pm0; pm++) {
            const int tm = (sm + pm - 1) / pm;
            const bool single = tm >= sm && tn >= sn;
            const double waves = ceil((double)((sm + tm - 1) / tm) * nblk / cores);
            const double pack = can_self && single ? 0 : 16.0 * K * N * (double)batch / cores;
            const double cost = waves * ((double)tm * mr * panel + 8.0 * panel + 12.0 * tm * mr * K + 5e4) + pack;
            if (cost < best * 0.999) {
                best = cost;
                *bm = tm * mr;
                *bn = tn * nr;
                *self = can_self && single;
            }
        }
    }
}

/* Where gemm_packed's B comes from: a matrix that gemm_pack_b packs, or (B == NULL) the im2col
 * of conv_pack_b, whose arguments the caller has set (all but Bp and sBp). */
struct b_source {
    cl_mem B;
    int ldb;
    cl_long sB, offB;
    int transB;
};

/* gemm_pack_b's source arguments (Bp at 1 and sBp at 8 are run_packed's). */
static enum sd_status set_pack_b(struct sd_plan *p, const struct b_source *bs, int N, int K, char *reason,
                                 size_t len)
{
    cl_kernel k = p->k_pack;
    SETARG(k, 0, bs->B);
    SETARG(k, 2, N);
    SETARG(k, 3, K);
    SETARG(k, 4, bs->ldb);
    SETARG(k, 5, bs->sB);
    SETARG(k, 6, bs->offB);
    SETARG(k, 7, bs->transB);
    return SD_OK;
}

/* CPU style: B is packed by k_pack over nstrips x K-blocks x batch, then gemm_packed runs over
 * the C blocks. With a single block of rows, gemm_packed packs each panel itself (selfpack):
 * nothing else reads it, and it is used while still in cache. */
static enum sd_status run_packed(struct sd_plan *p, cl_kernel k, const struct ocl_mm_params *mp,
                                 const struct b_source *bs, cl_mem A, cl_mem C, int M, int N, int K, int lda,
                                 int ldc, cl_long sA, cl_long sC, cl_long offA, cl_long offC, size_t batch,
                                 char *reason, size_t len)
{
    const int nr = mp->vw * mp->nv;
    const cl_long sBp = (cl_long)packed_b_elems(mp, K, N);
    int bm, bn, selfpack;
    mm_blocks(p->c, mp, M, N, K, batch, bs->B != NULL, &bm, &bn, &selfpack);
    /* a pack work-item: gemm_pack_b PR = 16 rows, or (transposed) PS = 4 strips (gemm.cl);
     * conv_pack_b one strip */
    const size_t nstrips = (size_t)(N + nr - 1) / nr;
    size_t g[3] = {!bs->B ? nstrips : bs->transB ? (nstrips + 3) / 4 : (size_t)(mp->kb + 15) / 16,
                   (size_t)(K + mp->kb - 1) / mp->kb, batch},
           l[3] = {1, 1, 1};
    if (!selfpack) {
        const cl_uint sbp_arg = bs->B ? 8 : 9;
        enum sd_status st = bs->B ? set_pack_b(p, bs, N, K, reason, len) : SD_OK;
        if (st != SD_OK)
            return st;
        SETARG(p->k_pack, 1, p->bp);
        SETARG(p->k_pack, sbp_arg, sBp);
        st = enqueue(p, p->k_pack, 3, g, l, reason, len);
        if (st != SD_OK)
            return st;
    }
    const cl_mem B = bs->B ? bs->B : p->bp; /* unread without selfpack */
    SETARG(k, 0, A);
    SETARG(k, 1, p->bp);
    SETARG(k, 2, C);
    SETARG(k, 3, M);
    SETARG(k, 4, N);
    SETARG(k, 5, K);
    SETARG(k, 6, lda);
    SETARG(k, 7, ldc);
    SETARG(k, 8, sA);
    SETARG(k, 9, sBp);
    SETARG(k, 10, sC);
    SETARG(k, 11, offA);
    SETARG(k, 12, offC);
    SETARG(k, 13, bm);
    SETARG(k, 14, bn);
    SETARG(k, 15, B);
    SETARG(k, 16, bs->ldb);
    SETARG(k, 17, bs->sB);
    SETARG(k, 18, bs->offB);
    SETARG(k, 19, bs->transB);
    SETARG(k, 20, selfpack);
    g[0] = selfpack ? 1 : (size_t)(M + bm - 1) / bm;
    g[1] = (size_t)(N + bn - 1) / bn;
    return enqueue(p, k, 3, g, l, reason, len);
}

static enum sd_status run_mm(struct sd_plan *p, cl_kernel k, const struct ocl_mm_params *mp, cl_mem A,
                             cl_mem B, cl_mem C, int M, int N, int K, int lda, int ldb, int ldc,
                             cl_long sA, cl_long sB, cl_long sC, cl_long offA, cl_long offB,
                             cl_long offC, int transB, size_t batch, char *reason, size_t len)
{
    if (mp->style == OCL_STYLE_CPU) {
        const struct b_source bs = {B, ldb, sB, offB, transB};
        return run_packed(p, k, mp, &bs, A, C, M, N, K, lda, ldc, sA, sC, offA, offC, batch, reason, len);
    }
    SETARG(k, 0, A);
    SETARG(k, 1, B);
    SETARG(k, 2, C);
    SETARG(k, 3, M);
    SETARG(k, 4, N);
    SETARG(k, 5, K);
    SETARG(k, 6, lda);
    SETARG(k, 7, ldb);
    SETARG(k, 8, ldc);
    SETARG(k, 9, sA);
    SETARG(k, 10, sB);
    SETARG(k, 11, sC);
    SETARG(k, 12, offA);
    SETARG(k, 13, offB);
    SETARG(k, 14, offC);
    SETARG(k, 15, transB);
    size_t g[3], l[3];
    int bm = mp->ty * mp->rm, bn = mp->tx * mp->rn;
    g[0] = (size_t)((N + bn - 1) / bn) * mp->tx;
    g[1] = (size_t)((M + bm - 1) / bm) * mp->ty;
    g[2] = batch;
    l[0] = mp->tx;
    l[1] = mp->ty;
    l[2] = 1;
    return enqueue_k_chunks(p, k, 16, K, mp, g, l, reason, len);
}

/* CPU style: im2col packed straight into gemm_packed's B layout (conv_pack_b), or for a 1x1
 * stride-1 conv X[b] packed as the B matrix (gemm_pack_b); then gemm_packed with A = W. */
static enum sd_status run_conv_packed(struct sd_plan *p, cl_mem X, cl_mem W, char *reason, size_t len)
{
    const struct sd_workload *wl = &p->wl;
    cl_kernel k = p->k_pack;
    int CI = (int)wl->c_in, IH = (int)sd_conv_in_h(wl), IW = (int)sd_conv_in_w(wl), CO = (int)wl->c_out,
        OW = (int)wl->w, HW = (int)(wl->h * wl->w), stride = (int)wl->stride, pad = (int)wl->pad,
        Kt = CI * (int)(wl->r * wl->s);
    struct b_source bs = {NULL, 0, 0, 0, 0};
    if (conv_is_gemm(wl)) {
        bs = (struct b_source){X, HW, (cl_long)CI * HW, 0, 0};
    } else {
        SETARG(k, 0, X);
        SETARG(k, 2, CI);
        SETARG(k, 3, IH);
        SETARG(k, 4, IW);
        SETARG(k, 5, OW);
        SETARG(k, 6, HW);
        SETARG(k, 7, stride);
        SETARG(k, 8, pad);
    }
    return run_packed(p, p->k_main, &p->prm.conv, &bs, W, p->out, CO, HW, Kt, Kt, HW, 0, (cl_long)CO * HW, 0, 0,
                      (size_t)wl->batch, reason, len);
}

static enum sd_status run_conv(struct sd_plan *p, cl_mem X, cl_mem W, char *reason, size_t len)
{
    const struct sd_workload *wl = &p->wl;
    const struct ocl_mm_params *mp = &p->prm.conv;
    if (mp->style == OCL_STYLE_CPU)
        return run_conv_packed(p, X, W, reason, len);
    cl_kernel k = p->k_main;
    int CI = (int)wl->c_in, IH = (int)sd_conv_in_h(wl), IW = (int)sd_conv_in_w(wl), CO = (int)wl->c_out,
        OW = (int)wl->w, HW = (int)(wl->h * wl->w), stride = (int)wl->stride, pad = (int)wl->pad;
    SETARG(k, 0, X);
    SETARG(k, 1, W);
    SETARG(k, 2, p->out);
    SETARG(k, 3, CI);
    SETARG(k, 4, IH);
    SETARG(k, 5, IW);
    SETARG(k, 6, CO);
    SETARG(k, 7, OW);
    SETARG(k, 8, HW);
    SETARG(k, 9, stride);
    SETARG(k, 10, pad);
    size_t g[3], l[3];
    g[2] = (size_t)wl->batch;
    int bm = mp->ty * mp->rm, bn = mp->tx * mp->rn;
    g[0] = (size_t)((HW + bn - 1) / bn) * mp->tx;
    g[1] = (size_t)((CO + bm - 1) / bm) * mp->ty;
    l[0] = mp->tx;
    l[1] = mp->ty;
    l[2] = 1;
    return enqueue_k_chunks(p, k, 11, CI * (int)(wl->r * wl->s), mp, g, l, reason, len);
}

/* flash_pack (K, V -> p->ws in fp32), then flash_cpu. */
static enum sd_status run_flash_cpu(struct sd_plan *p, cl_mem Q, cl_mem K, cl_mem V, float scale_log2, char *reason,
                                    size_t len)
{
    const struct sd_workload *wl = &p->wl;
    const struct ocl_flash_params *fp = &p->prm.flash;
    const int skv = (int)wl->seq_kv, fks = 16 * fp->nkv, qb = fp->qr * fp->qs;
    const cl_long voff = (cl_long)((skv + fks - 1) / fks * fks) * wl->batch_heads * wl->head_dim;
    SETARG(p->k_pack, 0, K);
    SETARG(p->k_pack, 1, V);
    SETARG(p->k_pack, 2, p->ws);
    SETARG(p->k_pack, 3, skv);
    SETARG(p->k_pack, 4, voff);
    size_t g[2] = {(size_t)((skv + fks - 1) / fks * fks), (size_t)wl->batch_heads}, l[2] = {1, 1};
    enum sd_status st = enqueue(p, p->k_pack, 2, g, NULL, reason, len);
    if (st != SD_OK)
        return st;
    const cl_int sq = (cl_int)wl->seq_q;
    SETARG(p->k_main, 0, Q);
    SETARG(p->k_main, 1, p->ws);
    SETARG(p->k_main, 2, p->out);
    SETARG(p->k_main, 3, sq);
    SETARG(p->k_main, 4, skv);
    SETARG(p->k_main, 5, scale_log2);
    SETARG(p->k_main, 6, voff);
    g[0] = (size_t)(wl->seq_q + qb - 1) / qb;
    return enqueue(p, p->k_main, 2, g, l, reason, len);
}

/* flash_gpu over all keys in one launch, or in chunks that carry their state in p->ws on a
 * device that ends a work-item's loops early (ocl_kv_chunk). */
static enum sd_status enqueue_kv_chunks(struct sd_plan *p, cl_kernel k, int skv, int hd, const size_t *g,
                                        const size_t *l, char *reason, size_t len)
{
    const int chunk = ocl_kv_chunk(p->c, &p->prm.flash, skv, hd);
    cl_mem w = p->ws ? p->ws : p->out; /* one launch never touches W */
    SETARG(k, 7, w);
    int kvbeg = 0;
    do {
        int kvend = skv - kvbeg > chunk ? kvbeg + chunk : skv;
        SETARG(k, 8, kvbeg);
        SETARG(k, 9, kvend);
        enum sd_status st = enqueue(p, k, 2, g, l, reason, len);
        if (st != SD_OK)
            return st;
        kvbeg = kvend;
    } while (kvbeg < skv);
    return SD_OK;
}

static enum sd_status run_attention(struct sd_plan *p, cl_mem Q, cl_mem K, cl_mem V, char *reason,
                                    size_t len)
{
    const struct sd_workload *wl = &p->wl;
    const int sq = (int)wl->seq_q, skv = (int)wl->seq_kv, d = (int)wl->head_dim;
    const int bh = (int)wl->batch_heads;
    const float scale_log2 = (float)(1.4426950408889634 / sqrt((double)d));
    enum sd_status st;
    if (p->impl == IMPL_FLASH && p->prm.flash.style == OCL_STYLE_CPU)
        return run_flash_cpu(p, Q, K, V, scale_log2, reason, len);
    if (p->impl == IMPL_FLASH) {
        const struct ocl_flash_params *fp = &p->prm.flash;
        cl_kernel k = p->k_main;
        SETARG(k, 0, Q);
        SETARG(k, 1, K);
        SETARG(k, 2, V);
        SETARG(k, 3, p->out);
        SETARG(k, 4, sq);
        SETARG(k, 5, skv);
        SETARG(k, 6, scale_log2);
        size_t g[2], l[2];
        g[1] = (size_t)bh;
        g[0] = (size_t)((sq + fp->bq - 1) / fp->bq) * fp->bq;
        l[0] = fp->bq;
        l[1] = 1;
        return enqueue_kv_chunks(p, k, skv, d, g, l, reason, len);
    }
    const bool all = p->impl == IMPL_UNFUSED;
    const int nslices = all ? 1 : bh;
    const size_t batch = all ? (size_t)bh : 1;
    for (int hh = 0; hh < nslices; hh++) {
        cl_long offq = (cl_long)hh * sq * d, offkv = (cl_long)hh * skv * d;
        st = run_mm(p, p->k_main, &p->prm.gemm, Q, K, p->ws, sq, skv, d, d, d, skv, (cl_long)sq * d,
                    (cl_long)skv * d, (cl_long)sq * skv, offq, offkv, 0, 1, batch, reason, len);
        if (st != SD_OK)
            return st;
        cl_int n = skv;
        cl_long ld = skv, off = 0;
        SETARG(p->k_soft, 0, p->ws);
        SETARG(p->k_soft, 1, n);
        SETARG(p->k_soft, 2, ld);
        SETARG(p->k_soft, 3, off);
        SETARG(p->k_soft, 4, scale_log2);
        size_t g = (size_t)sq * batch;
        st = enqueue(p, p->k_soft, 1, &g, NULL, reason, len);
        if (st != SD_OK)
            return st;
        st = run_mm(p, p->k_pv, &p->prm.gemm, p->ws, V, p->out, sq, d, skv, skv, d, d,
                    (cl_long)sq * skv, (cl_long)skv * d, (cl_long)sq * d, 0, offkv, offq, 0, batch,
                    reason, len);
        if (st != SD_OK)
            return st;
    }
    return SD_OK;
}

#ifdef SDMARK_HAVE_CLBLAST
static enum sd_status run_clblast(struct sd_plan *p, cl_mem A, cl_mem B, char *reason, size_t len)
{
    const struct sd_workload *wl = &p->wl;
    cl_command_queue q = p->c->queue;
    /* a marker before the library's kernels: CLBlast may enqueue several (pad/transpose + gemm)
     * and returns the event of the last one only */
    cl_event *mk = next_event(p);
    OCL_CHECK(clEnqueueMarkerWithWaitList(q, 0, NULL, mk));
    if (mk && *mk)
        p->nev++;
    size_t m = wl->m, n = wl->n, k = wl->k;
    for (int64_t b = 0; b < wl->batch; b++) {
        cl_event *ev = next_event(p);
        CLBlastStatusCode cs;
        if (wl->dtype == SD_FP16)
            cs = CLBlastHgemmWithTempBuffer(CLBlastLayoutRowMajor, CLBlastTransposeNo, CLBlastTransposeNo, m, n, k,
                              sd_float_to_half(1.0f), A, b * m * k, k, B, b * k * n, n,
                              sd_float_to_half(0.0f), p->out, b * m * n, n, &q, ev, p->ws);
        else
            cs = CLBlastSgemmWithTempBuffer(CLBlastLayoutRowMajor, CLBlastTransposeNo, CLBlastTransposeNo, m, n, k, 1.0f,
                              A, b * m * k, k, B, b * k * n, n, 0.0f, p->out, b * m * n, n, &q, ev, p->ws);
        if (cs != CLBlastSuccess) {
            snprintf(reason, len, "CLBlast%cgemm failed: status %d", wl->dtype == SD_FP16 ? 'H' : 'S',
                     (int)cs);
            return cs == CLBlastOpenCLOutOfResources || cs == (CLBlastStatusCode)CL_MEM_OBJECT_ALLOCATION_FAILURE ||
                           cs == CLBlastTempBufferAllocFailure || cs == CLBlastOpenCLOutOfHostMemory
                       ? SD_OOM
                       : SD_ERROR;
        }
        if (ev && *ev)
            p->nev++;
    }
    return SD_OK;
}
#endif

enum sd_status ocl_run(struct sd_plan *p, int set, double *ms, char *reason, size_t len)
{
    if (set < 0 || set >= p->nsets) {
        snprintf(reason, len, "run: set %d out of range (nsets %d)", set, p->nsets);
        return SD_ERROR;
    }
    struct ocl_ctx *c = p->c;
    for (int i = 0; i < p->nev; i++)
        clReleaseEvent(p->ev[i]);
    p->nev = 0;
    cl_mem i0 = in_buf(p, set, 0), i1 = in_buf(p, set, 1), i2 = p->n_in > 2 ? in_buf(p, set, 2) : NULL;
    const struct sd_workload *wl = &p->wl;
    double t0 = ocl_now_ms();
    enum sd_status st = SD_ERROR;
    switch (p->impl) {
    case IMPL_OWN:
        if (wl->op == SD_OP_GEMM)
            st = run_mm(p, p->k_main, &p->prm.gemm, i0, i1, p->out, (int)wl->m, (int)wl->n, (int)wl->k,
                        (int)wl->k, (int)wl->n, (int)wl->n, (cl_long)(wl->m * wl->k),
                        (cl_long)(wl->k * wl->n), (cl_long)(wl->m * wl->n), 0, 0, 0, 0, (size_t)wl->batch,
                        reason, len);
        else
            st = run_conv(p, i0, i1, reason, len);
        break;
#ifdef SDMARK_HAVE_CLBLAST
    case IMPL_CLBLAST:
        st = run_clblast(p, i0, i1, reason, len);
        break;
#endif
    case IMPL_UNFUSED:
    case IMPL_SLICED:
    case IMPL_FLASH:
        st = run_attention(p, i0, i1, i2, reason, len);
        break;
    default:
        snprintf(reason, len, "unknown impl");
    }
    cl_int err = clFinish(c->queue);
    double t1 = ocl_now_ms();
    if (st != SD_OK)
        return st;
    OCL_CHECK(err);
    if (!ms)
        return SD_OK;
    double host_ms = t1 - t0;
    /* device time: first start .. last end over this run's events */
    bool ok = p->nev > 0;
    cl_ulong first = UINT64_MAX, last = 0;
    for (int i = 0; i < p->nev && ok; i++) {
        cl_ulong s = 0, e = 0;
        if (clGetEventProfilingInfo(p->ev[i], CL_PROFILING_COMMAND_START, sizeof(s), &s, NULL) != CL_SUCCESS ||
            clGetEventProfilingInfo(p->ev[i], CL_PROFILING_COMMAND_END, sizeof(e), &e, NULL) != CL_SUCCESS ||
            s == 0 || e < s) {
            ok = false;
            break;
        }
        if (s < first)
            first = s;
        if (e > last)
            last = e;
    }
    double dev_ms = ok ? (double)(last - first) * 1e-6 : 0;
    /* garbage check: a device span longer than the host wall time around it cannot be right */
    if (!ok || dev_ms <= 0 || dev_ms > host_ms * 1.05 + 0.05) {
        c->timer_fallback = true;
        *ms = host_ms;
    } else {
        *ms = dev_ms;
    }
    return SD_OK;
}
