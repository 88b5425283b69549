/* cpu_onednn.c — the cpu backend's oneDNN impls through oneDNN's v2.x C API (Debian libdnnl-dev).
 *
 * A plan is a short list of primitives ("steps") over memory "slots": the caller's inputs and
 * output (pointers bound at run time) and internal buffers (oneDNN-layout copies for conv, the
 * attention score matrix). Every buffer, oneDNN's scratchpads included, comes from cpu_alloc, so
 * the row's peak memory counts them: primitives are created in user-managed scratchpad mode and
 * share one scratchpad buffer sized to the largest step's need (steps run one after another).
 * Not counted: the library's own small allocations (primitive descriptors, JIT code).
 *
 * gemm:  one matmul, C[b] = A[b] B[b] (3-D, plain row-major).
 * conv:  src/weights/dst created with format "any", so oneDNN picks the layout it prefers
 *        (blocked, e.g. nChw16c / OIhw16i16o); the NCHW->preferred reorders of input and weights
 *        and the preferred->NCHW reorder of the output run inside cpu_dnnl_run, i.e. inside the
 *        timed region (OpenBLAS's im2col row pays its own packing the same way).
 * attention: S = (Q K^T) / sqrt(d) (matmul with an output scale; K read transposed through
 *        strides, no copy), softmax over the last axis in place, O = S V. Scores are kept in the
 *        storage dtype (bf16 rows hold bf16 probabilities, as frameworks do). unfused: batched over
 *        all heads, one bh x seq_q x seq_kv score matrix; sliced: the same three primitives for one
 *        head, run bh times over one seq_q x seq_kv slice.
 * dtypes: fp32; bf16 with fp32 accumulation (oneDNN's bf16 matmul/conv accumulate in fp32) only
 *        where the CPU has a bf16 unit, and never through a reference kernel (a "ref:" primitive
 *        for a bf16 row is refused as unsupported: it would be silently slow). fp16: refused
 *        (oneDNN 2.x has no AVX512-FP16 kernels; see cpu_dnnl_supports).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <oneapi/dnnl/dnnl.h>
#include <oneapi/dnnl/dnnl_debug.h>

#include "cpu_internal.h"
#include "cpu_onednn.h"

enum slot { SL_IN0, SL_IN1, SL_IN2, SL_OUT, SL_T0, SL_T1, SL_T2, SL_COUNT };
#define N_IO 4 /* SL_IN0..SL_OUT: bound to the caller's buffers at run time */
#define MAX_STEPS 6
#define MAX_ARGS 4

struct step {
    dnnl_primitive_t prim;
    int nargs;
    int arg[MAX_ARGS];
    enum slot slot[MAX_ARGS];
    dnnl_memory_desc_t scratch_md;
    dnnl_memory_t scratch; /* NULL when the step needs none */
};

struct cpu_dnnl {
    struct cpu_ctx *ctx;
    dnnl_engine_t eng;
    dnnl_stream_t strm;
    dnnl_data_type_t dt;
    dnnl_memory_t mem[SL_COUNT]; /* NULL = slot unused */
    size_t rep_stride[N_IO];     /* bytes an io pointer advances per repetition (sliced) */
    void *own[SL_COUNT];         /* tracked buffer behind an internal slot */
    int64_t reps;
    struct step step[MAX_STEPS];
    int nsteps;
    void *scratch;
    size_t scratch_bytes;
};

/* ---- capability ------------------------------------------------------------------------ */

static int isa_has(dnnl_cpu_isa_t isa, dnnl_cpu_isa_t want) { return ((unsigned)isa & (unsigned)want) == (unsigned)want; }

int cpu_dnnl_has_bf16(const struct sd_cpu_features *f)
{
    return (f->avx512_bf16 || f->amx_bf16) && isa_has(dnnl_get_effective_cpu_isa(), dnnl_cpu_isa_avx512_core_bf16);
}

static const char *isa_name(dnnl_cpu_isa_t isa)
{
    static const struct { dnnl_cpu_isa_t isa; const char *name; } t[] = {
        {dnnl_cpu_isa_avx512_core_amx, "avx512_core_amx"}, {dnnl_cpu_isa_avx512_core_bf16, "avx512_core_bf16"},
        {dnnl_cpu_isa_avx512_core_vnni, "avx512_core_vnni"}, {dnnl_cpu_isa_avx512_core, "avx512_core"},
        {dnnl_cpu_isa_avx2_vnni, "avx2_vnni"}, {dnnl_cpu_isa_avx2, "avx2"},
        {dnnl_cpu_isa_avx, "avx"}, {dnnl_cpu_isa_sse41, "sse41"},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (isa_has(isa, t[i].isa))
            return t[i].name;
    return "none";
}

const char *cpu_dnnl_version(void)
{
    static char buf[32];
    const dnnl_version_t *v = dnnl_version();
    snprintf(buf, sizeof buf, "oneDNN %d.%d.%d", v->major, v->minor, v->patch);
    return buf;
}

const char *cpu_dnnl_isa(void) { return isa_name(dnnl_get_effective_cpu_isa()); }

enum sd_status cpu_dnnl_supports(const struct sd_cpu_features *f, const struct sd_workload *wl,
                                 char *reason, size_t len)
{
    const dnnl_version_t *v = dnnl_version();
    if (wl->acc != SD_FP32) {
        snprintf(reason, len, "cpu: onednn accumulates in fp32 only (acc %s requested)", sd_dtype_name(wl->acc));
        return SD_UNSUPPORTED;
    }
    switch (wl->dtype) {
    case SD_FP32:
        return SD_OK;
    case SD_BF16:
        if (cpu_dnnl_has_bf16(f))
            return SD_OK;
        if (!f->avx512_bf16 && !f->amx_bf16)
            snprintf(reason, len, "cpu: this CPU has neither AVX512-BF16 nor AMX-BF16; oneDNN would emulate bf16 "
                                  "on fp32 units (slower than fp32), so onednn bf16 is not offered");
        else
            snprintf(reason, len, "cpu: the CPU has a bf16 unit but oneDNN %d.%d.%d does not use it (effective isa "
                                  "%s; DNNL_MAX_CPU_ISA set?)", v->major, v->minor, v->patch,
                     isa_name(dnnl_get_effective_cpu_isa()));
        return SD_UNSUPPORTED;
    case SD_FP16:
        if (!f->avx512_fp16)
            snprintf(reason, len, "cpu: this CPU has no AVX512-FP16; onednn fp16 would be emulated (slow), not offered");
        else
            snprintf(reason, len, "cpu: oneDNN %d.%d.%d has no AVX512-FP16 kernels (its ISA list ends at "
                                  "avx512_core_amx; fp16 came with oneDNN 3.x, whose C API this build does not use)",
                     v->major, v->minor, v->patch);
        return SD_UNSUPPORTED;
    default:
        snprintf(reason, len, "cpu: onednn has no %s on CPUs (fp32, bf16 only)", sd_dtype_name(wl->dtype));
        return SD_UNSUPPORTED;
    }
}

/* ---- building blocks ------------------------------------------------------------------- */

static enum sd_status fail(dnnl_status_t s, const char *what, char *reason, size_t len)
{
    snprintf(reason, len, "cpu: oneDNN %s failed: %s", what, dnnl_status2str(s));
    if (s == dnnl_out_of_memory)
        return SD_OOM;
    return s == dnnl_unimplemented ? SD_UNSUPPORTED : SD_ERROR;
}

static void md_plain(dnnl_memory_desc_t *md, int nd, const dnnl_dims_t dims, dnnl_data_type_t dt)
{
    static const dnnl_format_tag_t plain[] = {dnnl_format_tag_undef, dnnl_a, dnnl_ab, dnnl_abc, dnnl_abcd};
    dnnl_memory_desc_init_by_tag(md, nd, dims, dt, plain[nd]);
}

/* A caller-bound slot (pointer set at run time) with its layout and per-repetition stride. */
static enum sd_status io_slot(struct cpu_dnnl *d, enum slot s, const dnnl_memory_desc_t *md, size_t rep_stride,
                              char *reason, size_t len)
{
    dnnl_status_t st = dnnl_memory_create(&d->mem[s], md, d->eng, DNNL_MEMORY_NONE);
    d->rep_stride[s] = rep_stride;
    return st == dnnl_success ? SD_OK : fail(st, "memory_create", reason, len);
}

/* An internal slot backed by a tracked buffer. */
static enum sd_status own_slot(struct cpu_dnnl *d, enum slot s, const dnnl_memory_desc_t *md, const char *what,
                               char *reason, size_t len)
{
    size_t bytes = dnnl_memory_desc_get_size(md);
    if (!(d->own[s] = cpu_alloc(d->ctx, bytes ? bytes : 1, what, reason, len)))
        return SD_OOM;
    dnnl_status_t st = dnnl_memory_create(&d->mem[s], md, d->eng, d->own[s]);
    return st == dnnl_success ? SD_OK : fail(st, "memory_create", reason, len);
}

/* Primitive descriptor of op_desc (NULL: a reorder from *src to *dst) in user-scratchpad mode,
 * with an output scale when scale != 1. */
static enum sd_status make_pd(struct cpu_dnnl *d, const_dnnl_op_desc_t op_desc, const dnnl_memory_desc_t *src,
                              const dnnl_memory_desc_t *dst, float scale, dnnl_primitive_desc_t *pd,
                              const char *what, char *reason, size_t len)
{
    dnnl_primitive_attr_t attr;
    dnnl_status_t st = dnnl_primitive_attr_create(&attr);
    if (st != dnnl_success)
        return fail(st, "attr_create", reason, len);
    st = dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user);
    if (st == dnnl_success && scale != 1.0f)
        st = dnnl_primitive_attr_set_output_scales(attr, 1, 0, &scale);
    if (st == dnnl_success)
        st = op_desc ? dnnl_primitive_desc_create(pd, op_desc, attr, d->eng, NULL)
                     : dnnl_reorder_primitive_desc_create(pd, src, d->eng, dst, d->eng, attr);
    dnnl_primitive_attr_destroy(attr);
    return st == dnnl_success ? SD_OK : fail(st, what, reason, len);
}

/* Append a step running pd's primitive over (arg, slot) pairs; takes ownership of pd. A bf16
 * compute step that would run oneDNN's reference kernel is refused. */
static enum sd_status add_step(struct cpu_dnnl *d, dnnl_primitive_desc_t pd, int compute, int nargs, const int *arg,
                               const enum slot *slot, const char *what, char *reason, size_t len)
{
    struct step *s = &d->step[d->nsteps];
    const char *impl = "?";
    dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl);
    enum sd_status rc = SD_OK;
    if (d->nsteps == MAX_STEPS) {
        snprintf(reason, len, "cpu: oneDNN plan has more than %d steps", MAX_STEPS);
        rc = SD_ERROR;
    } else if (compute && d->dt != dnnl_f32 && !strncmp(impl, "ref", 3)) {
        snprintf(reason, len, "cpu: oneDNN has only its reference kernel (%s) for %s in %s here (silently slow: "
                              "not offered)", impl, what, dnnl_dt2str(d->dt));
        rc = SD_UNSUPPORTED;
    } else {
        const dnnl_memory_desc_t *sp = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
        if (sp)
            s->scratch_md = *sp;
        size_t sb = dnnl_memory_desc_get_size(&s->scratch_md);
        if (sb > d->scratch_bytes)
            d->scratch_bytes = sb;
        dnnl_status_t st = dnnl_primitive_create(&s->prim, pd);
        if (st != dnnl_success)
            rc = fail(st, what, reason, len);
    }
    if (rc == SD_OK) {
        s->nargs = nargs;
        memcpy(s->arg, arg, (size_t)nargs * sizeof *arg);
        memcpy(s->slot, slot, (size_t)nargs * sizeof *slot);
        d->nsteps++;
    }
    dnnl_primitive_desc_destroy(pd);
    return rc;
}

/* One shared scratchpad buffer; each step gets a memory object over it with its own descriptor. */
static enum sd_status bind_scratchpad(struct cpu_dnnl *d, char *reason, size_t len)
{
    if (d->scratch_bytes && !(d->scratch = cpu_alloc(d->ctx, d->scratch_bytes, "oneDNN scratchpad", reason, len)))
        return SD_OOM;
    for (int i = 0; i < d->nsteps; i++) {
        struct step *s = &d->step[i];
        if (!dnnl_memory_desc_get_size(&s->scratch_md))
            continue;
        dnnl_status_t st = dnnl_memory_create(&s->scratch, &s->scratch_md, d->eng, d->scratch);
        if (st != dnnl_success)
            return fail(st, "scratchpad memory_create", reason, len);
    }
    return SD_OK;
}

/* ---- plans ----------------------------------------------------------------------------- */

static enum sd_status build_gemm(struct cpu_dnnl *d, const struct sd_workload *wl, char *reason, size_t len)
{
    dnnl_dims_t a = {wl->batch, wl->m, wl->k}, b = {wl->batch, wl->k, wl->n}, c = {wl->batch, wl->m, wl->n};
    dnnl_memory_desc_t amd, bmd, cmd;
    md_plain(&amd, 3, a, d->dt);
    md_plain(&bmd, 3, b, d->dt);
    md_plain(&cmd, 3, c, d->dt);
    enum sd_status rc;
    if ((rc = io_slot(d, SL_IN0, &amd, 0, reason, len)) || (rc = io_slot(d, SL_IN1, &bmd, 0, reason, len)) ||
        (rc = io_slot(d, SL_OUT, &cmd, 0, reason, len)))
        return rc;
    dnnl_matmul_desc_t mm;
    dnnl_status_t st = dnnl_matmul_desc_init(&mm, &amd, &bmd, NULL, &cmd);
    if (st != dnnl_success)
        return fail(st, "matmul_desc_init", reason, len);
    dnnl_primitive_desc_t pd;
    if ((rc = make_pd(d, &mm, NULL, NULL, 1.0f, &pd, "matmul", reason, len)))
        return rc;
    const int arg[] = {DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_DST};
    const enum slot sl[] = {SL_IN0, SL_IN1, SL_OUT};
    return add_step(d, pd, 1, 3, arg, sl, "matmul", reason, len);
}

/* If oneDNN prefers another layout than the user's for a conv tensor, give it an internal slot in
 * that layout and a reorder step (user->internal for inputs, added now; internal->user for the
 * output, added by the caller after the conv). *use = the slot the conv reads/writes. */
static enum sd_status conv_layout(struct cpu_dnnl *d, const dnnl_memory_desc_t *pref, enum slot user, enum slot tmp,
                                  int is_input, const char *what, enum slot *use, char *reason, size_t len)
{
    *use = user;
    const dnnl_memory_desc_t *u = NULL;
    if (dnnl_memory_get_memory_desc(d->mem[user], &u) != dnnl_success)
        return fail(dnnl_runtime_error, "memory_get_memory_desc", reason, len);
    const dnnl_memory_desc_t umd = *u;
    if (dnnl_memory_desc_equal(pref, &umd))
        return SD_OK;
    enum sd_status rc;
    if ((rc = own_slot(d, tmp, pref, what, reason, len)))
        return rc;
    *use = tmp;
    if (!is_input)
        return SD_OK;
    dnnl_primitive_desc_t pd;
    if ((rc = make_pd(d, NULL, &umd, pref, 1.0f, &pd, "reorder", reason, len)))
        return rc;
    const int arg[] = {DNNL_ARG_FROM, DNNL_ARG_TO};
    const enum slot sl[] = {user, tmp};
    return add_step(d, pd, 0, 2, arg, sl, "reorder", reason, len);
}

/* The caller's NCHW input, OIHW weights and NCHW output slots. */
static enum sd_status conv_io(struct cpu_dnnl *d, const struct sd_workload *wl, char *reason, size_t len)
{
    dnnl_dims_t x = {wl->batch, wl->c_in, sd_conv_in_h(wl), sd_conv_in_w(wl)};
    dnnl_dims_t w = {wl->c_out, wl->c_in, wl->r, wl->s}, y = {wl->batch, wl->c_out, wl->h, wl->w};
    dnnl_memory_desc_t xmd, wmd, ymd;
    md_plain(&xmd, 4, x, d->dt);
    md_plain(&wmd, 4, w, d->dt);
    md_plain(&ymd, 4, y, d->dt);
    enum sd_status rc;
    if ((rc = io_slot(d, SL_IN0, &xmd, 0, reason, len)) || (rc = io_slot(d, SL_IN1, &wmd, 0, reason, len)))
        return rc;
    return io_slot(d, SL_OUT, &ymd, 0, reason, len);
}

/* Convolution primitive descriptor: weights in oneDNN's preferred layout; input and output in
 * theirs too, or kept NCHW (plain_io). A plain_io descriptor with only a reference kernel is
 * refused (SD_UNSUPPORTED), so the caller can fall back to the preferred layouts. */
static enum sd_status conv_pd(struct cpu_dnnl *d, const struct sd_workload *wl, int plain_io,
                              dnnl_primitive_desc_t *pd, char *reason, size_t len)
{
    dnnl_dims_t x = {wl->batch, wl->c_in, sd_conv_in_h(wl), sd_conv_in_w(wl)};
    dnnl_dims_t w = {wl->c_out, wl->c_in, wl->r, wl->s}, y = {wl->batch, wl->c_out, wl->h, wl->w};
    dnnl_format_tag_t io = plain_io ? dnnl_nchw : dnnl_format_tag_any;
    dnnl_memory_desc_t xa, wa, ya;
    dnnl_memory_desc_init_by_tag(&xa, 4, x, d->dt, io);
    dnnl_memory_desc_init_by_tag(&wa, 4, w, d->dt, dnnl_format_tag_any);
    dnnl_memory_desc_init_by_tag(&ya, 4, y, d->dt, io);
    dnnl_dims_t stride = {wl->stride, wl->stride}, pad = {wl->pad, wl->pad};
    dnnl_convolution_desc_t cd;
    dnnl_status_t st = dnnl_convolution_forward_desc_init(&cd, dnnl_forward_inference, dnnl_convolution_direct, &xa,
                                                          &wa, NULL, &ya, stride, pad, pad);
    if (st != dnnl_success)
        return fail(st, "convolution_desc_init", reason, len);
    enum sd_status rc = make_pd(d, &cd, NULL, NULL, 1.0f, pd, "convolution", reason, len);
    const char *impl = "ref";
    if (rc == SD_OK && plain_io)
        dnnl_primitive_desc_query(*pd, dnnl_query_impl_info_str, 0, &impl);
    if (rc == SD_OK && plain_io && !strncmp(impl, "ref", 3)) {
        dnnl_primitive_desc_destroy(*pd);
        snprintf(reason, len, "cpu: no fast oneDNN kernel on NCHW");
        rc = SD_UNSUPPORTED;
    }
    return rc;
}

/* A 1x1 stride-1 conv on NCHW is a GEMM per image: oneDNN runs it in place (copies to a blocked
 * layout would cost as much memory traffic as the conv itself). Every other conv runs in the
 * layouts oneDNN prefers, with the reorders inside the timed run (conv_layout). */
static enum sd_status build_conv(struct cpu_dnnl *d, const struct sd_workload *wl, char *reason, size_t len)
{
    dnnl_primitive_desc_t pd;
    enum sd_status rc = conv_io(d, wl, reason, len);
    if (rc != SD_OK)
        return rc;
    const int pointwise = wl->r == 1 && wl->s == 1 && wl->stride == 1 && wl->pad == 0;
    if ((!pointwise || conv_pd(d, wl, 1, &pd, reason, len) != SD_OK) && (rc = conv_pd(d, wl, 0, &pd, reason, len)))
        return rc;
    enum slot xs, ws, ys;
    if ((rc = conv_layout(d, dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0), SL_IN0, SL_T0, 1,
                          "input in oneDNN's layout", &xs, reason, len)) ||
        (rc = conv_layout(d, dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0), SL_IN1, SL_T1, 1,
                          "weights in oneDNN's layout", &ws, reason, len)) ||
        (rc = conv_layout(d, dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0), SL_OUT, SL_T2, 0,
                          "output in oneDNN's layout", &ys, reason, len))) {
        dnnl_primitive_desc_destroy(pd);
        return rc;
    }
    const int arg[] = {DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_DST};
    const enum slot sl[] = {xs, ws, ys};
    if ((rc = add_step(d, pd, 1, 3, arg, sl, "convolution", reason, len)) || ys == SL_OUT)
        return rc;
    const dnnl_memory_desc_t *from = NULL, *to = NULL;
    dnnl_memory_get_memory_desc(d->mem[SL_T2], &from);
    dnnl_memory_get_memory_desc(d->mem[SL_OUT], &to);
    if ((rc = make_pd(d, NULL, from, to, 1.0f, &pd, "reorder", reason, len)))
        return rc;
    const int rarg[] = {DNNL_ARG_FROM, DNNL_ARG_TO};
    const enum slot rsl[] = {SL_T2, SL_OUT};
    return add_step(d, pd, 0, 2, rarg, rsl, "reorder", reason, len);
}

/* The three attention primitives for `bh` heads at once: S = Q K^T / sqrt(d); softmax(S) in place;
 * O = S V. K's slot is described as K^T (dims bh x d x seq_kv, strides over K's row-major data). */
static enum sd_status build_attention(struct cpu_dnnl *d, const struct sd_workload *wl, int64_t bh,
                                      const char *scores_what, char *reason, size_t len)
{
    const int64_t sq = wl->seq_q, skv = wl->seq_kv, hd = wl->head_dim;
    const size_t es = d->dt == dnnl_f32 ? 4 : 2;
    const size_t qs = (size_t)(sq * hd) * es, ks = (size_t)(skv * hd) * es; /* bytes per head */
    dnnl_dims_t q = {bh, sq, hd}, kt = {bh, hd, skv}, kt_strides = {skv * hd, 1, hd}, s = {bh, sq, skv},
                v = {bh, skv, hd};
    dnnl_memory_desc_t qmd, ktmd, smd, vmd, omd;
    md_plain(&qmd, 3, q, d->dt);
    dnnl_memory_desc_init_by_strides(&ktmd, 3, kt, d->dt, kt_strides);
    md_plain(&smd, 3, s, d->dt);
    md_plain(&vmd, 3, v, d->dt);
    md_plain(&omd, 3, q, d->dt);
    enum sd_status rc;
    if ((rc = io_slot(d, SL_IN0, &qmd, qs, reason, len)) || (rc = io_slot(d, SL_IN1, &ktmd, ks, reason, len)) ||
        (rc = io_slot(d, SL_IN2, &vmd, ks, reason, len)) || (rc = io_slot(d, SL_OUT, &omd, qs, reason, len)) ||
        (rc = own_slot(d, SL_T0, &smd, scores_what, reason, len)))
        return rc;

    dnnl_matmul_desc_t mm1, mm2;
    dnnl_softmax_desc_t sm;
    dnnl_status_t st = dnnl_matmul_desc_init(&mm1, &qmd, &ktmd, NULL, &smd);
    if (st == dnnl_success)
        st = dnnl_softmax_forward_desc_init(&sm, dnnl_forward_inference, &smd, 2);
    if (st == dnnl_success)
        st = dnnl_matmul_desc_init(&mm2, &smd, &vmd, NULL, &omd);
    if (st != dnnl_success)
        return fail(st, "attention desc_init", reason, len);

    const int mm_arg[] = {DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_DST}, sm_arg[] = {DNNL_ARG_SRC, DNNL_ARG_DST};
    const enum slot qk[] = {SL_IN0, SL_IN1, SL_T0}, ss[] = {SL_T0, SL_T0}, pv[] = {SL_T0, SL_IN2, SL_OUT};
    dnnl_primitive_desc_t pd;
    if ((rc = make_pd(d, &mm1, NULL, NULL, (float)(1.0 / sqrt((double)hd)), &pd, "matmul Q K^T", reason, len)) ||
        (rc = add_step(d, pd, 1, 3, mm_arg, qk, "matmul Q K^T", reason, len)) ||
        (rc = make_pd(d, &sm, NULL, NULL, 1.0f, &pd, "softmax", reason, len)) ||
        (rc = add_step(d, pd, 1, 2, sm_arg, ss, "softmax", reason, len)) ||
        (rc = make_pd(d, &mm2, NULL, NULL, 1.0f, &pd, "matmul P V", reason, len)))
        return rc;
    return add_step(d, pd, 1, 3, mm_arg, pv, "matmul P V", reason, len);
}

static enum sd_status build(struct cpu_dnnl *d, const struct sd_workload *wl, enum cpu_dnnl_kind kind,
                            char *reason, size_t len)
{
    switch (kind) {
    case CPU_DNNL_GEMM:
        return build_gemm(d, wl, reason, len);
    case CPU_DNNL_CONV:
        return build_conv(d, wl, reason, len);
    case CPU_DNNL_ATTN_UNFUSED:
        return build_attention(d, wl, wl->batch_heads, "score matrix (bh x seq_q x seq_kv)", reason, len);
    case CPU_DNNL_ATTN_SLICED:
        d->reps = wl->batch_heads;
        return build_attention(d, wl, 1, "score slice (seq_q x seq_kv)", reason, len);
    }
    snprintf(reason, len, "cpu: unknown onednn plan kind %d", (int)kind);
    return SD_ERROR;
}

enum sd_status cpu_dnnl_prepare(struct cpu_ctx *c, const struct sd_workload *wl, enum cpu_dnnl_kind kind,
                                struct cpu_dnnl **out, char *reason, size_t len)
{
    *out = NULL;
    struct cpu_dnnl *d = calloc(1, sizeof *d);
    if (!d) {
        snprintf(reason, len, "cpu: out of host memory for the oneDNN plan");
        return SD_OOM;
    }
    d->ctx = c;
    d->reps = 1;
    d->dt = wl->dtype == SD_BF16 ? dnnl_bf16 : wl->dtype == SD_FP16 ? dnnl_f16 : dnnl_f32;
    dnnl_status_t st = dnnl_engine_create(&d->eng, dnnl_cpu, 0);
    if (st == dnnl_success)
        st = dnnl_stream_create(&d->strm, d->eng, dnnl_stream_default_flags);
    enum sd_status rc = st == dnnl_success ? SD_OK : fail(st, "engine/stream create", reason, len);
    if (rc == SD_OK)
        rc = build(d, wl, kind, reason, len);
    if (rc == SD_OK)
        rc = bind_scratchpad(d, reason, len);
    if (rc != SD_OK) {
        cpu_dnnl_release(d);
        return rc;
    }
    *out = d;
    return SD_OK;
}

static enum sd_status exec_step(struct cpu_dnnl *d, const struct step *s, char *reason, size_t len)
{
    dnnl_exec_arg_t args[MAX_ARGS + 1];
    int n = 0;
    for (int i = 0; i < s->nargs; i++)
        args[n++] = (dnnl_exec_arg_t){s->arg[i], d->mem[s->slot[i]]};
    if (s->scratch)
        args[n++] = (dnnl_exec_arg_t){DNNL_ARG_SCRATCHPAD, s->scratch};
    dnnl_status_t st = dnnl_primitive_execute(s->prim, d->strm, n, args);
    return st == dnnl_success ? SD_OK : fail(st, "primitive_execute", reason, len);
}

enum sd_status cpu_dnnl_run(struct cpu_dnnl *d, void *const *in, void *out, char *reason, size_t len)
{
    void *io[N_IO] = {in[0], in[1], d->mem[SL_IN2] ? in[2] : NULL, out};
    for (int64_t r = 0; r < d->reps; r++) {
        for (int s = 0; s < N_IO; s++) {
            if (!d->mem[s])
                continue;
            dnnl_status_t st = dnnl_memory_set_data_handle(d->mem[s], (char *)io[s] + (size_t)r * d->rep_stride[s]);
            if (st != dnnl_success)
                return fail(st, "memory_set_data_handle", reason, len);
        }
        for (int i = 0; i < d->nsteps; i++) {
            enum sd_status rc = exec_step(d, &d->step[i], reason, len);
            if (rc != SD_OK)
                return rc;
        }
    }
    dnnl_status_t st = dnnl_stream_wait(d->strm);
    return st == dnnl_success ? SD_OK : fail(st, "stream_wait", reason, len);
}

void cpu_dnnl_release(struct cpu_dnnl *d)
{
    if (!d)
        return;
    for (int i = 0; i < d->nsteps; i++) {
        dnnl_primitive_destroy(d->step[i].prim);
        if (d->step[i].scratch)
            dnnl_memory_destroy(d->step[i].scratch);
    }
    for (int s = 0; s < SL_COUNT; s++) {
        if (d->mem[s])
            dnnl_memory_destroy(d->mem[s]);
        cpu_free(d->ctx, d->own[s]);
    }
    cpu_free(d->ctx, d->scratch);
    if (d->strm)
        dnnl_stream_destroy(d->strm);
    if (d->eng)
        dnnl_engine_destroy(d->eng);
    free(d);
}
