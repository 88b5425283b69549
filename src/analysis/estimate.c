/* estimate.c — from measured rows to a predicted UNet step time, it/s and seconds per image.
 *
 * Kernel-bound ceiling: Σ count_per_step × time_ms_median over the suite's workloads, one row per
 * workload (label): the fastest usable impl (status ok, not failing verification) of the chosen
 * dtype and accumulate type, or the impl named with --impl. Rows of other suites never stand in
 * (the `quick` suite's rows have scaled shapes: they are counted and said to be ignored).
 * Workloads without a usable row are listed by name with the reason; when some are missing the
 * measured sum is also extrapolated by FLOPs (measured / coverage) and marked as such.
 *
 * Expected pipeline: the ceiling plus the small memory-bound kernels the suites leave out (norms,
 * activations, residual adds, head copies; memmodel.c lists them from the model's shapes), each
 * costing max(bytes / bandwidth, per-kernel floor):
 *   bandwidth — measured: a row labelled `bw.*` (its bytes_min / time, e.g. a rank-1 GEMM
 *               `gemm bw.rank1 0 m=8192 n=8192 k=1`, which is a pure write stream); otherwise the
 *               small kernels are NOT included (the GB/s of compute-bound rows is no bandwidth),
 *               and the output says so;
 *   floor     — measured: a row labelled `launch.*` (the time of a minimal kernel, e.g.
 *               `gemm launch.tiny 0 m=16 n=16 k=16`); otherwise not included, and said so.
 * Rows with count 0 (such probes) never enter the sums.
 * No constant here is fitted to published it/s: every factor is a measurement or a shape.
 *
 * Projection onto a card nobody measured: each row's time is scaled by the efficiency measured on
 * the closest measured device with a cards.csv row of the same vendor (same architecture first,
 * then the nearest fp16 peak; never across vendors, whose software stacks differ): compute-bound rows (arithmetic intensity above the source card's ridge point for that
 * dtype) by peak_source / peak_target, memory-bound rows by bw_source / bw_target; the small-kernel
 * bandwidth likewise; the per-kernel floor is taken as the source's (a host/driver property).
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdmark/analysis.h"

void sd_est_opts_default(struct sd_est_opts *o)
{
    memset(o, 0, sizeof *o);
    o->impl = NULL;
    o->dtype = -1;
    o->acc = -1;
    o->steps = 20;
    o->res = 0;
}

/* How a row's time is turned into the predicted time on the target (projection) */
struct scale {
    const struct sd_card *src, *dst;   /* NULL, NULL = measured as is */
};

/* Returns the factor, or NaN with `why` when the row cannot be projected. */
static double row_factor(const struct scale *sc, const struct sd_result *r, char *why, size_t wlen)
{
    if (!sc->src)
        return 1.0;
    double ps = sd_card_peak_tflops(sc->src, r->wl.dtype, r->wl.acc);
    double pt = sd_card_peak_tflops(sc->dst, r->wl.dtype, r->wl.acc);
    if (!(ps > 0) || !(pt > 0)) {
        snprintf(why, wlen, "no %s peak in cards.csv for %s", sd_dtype_name(r->wl.dtype),
                 !(ps > 0) ? sc->src->name : sc->dst->name);
        return NAN;
    }
    double flops = isfinite(r->flops) ? r->flops : sd_workload_flops(&r->wl);
    double bytes = isfinite(r->bytes_min) ? r->bytes_min : sd_workload_bytes_min(&r->wl);
    double ridge = ps * 1e12 / (sc->src->bw_gbs * 1e9);
    if (bytes > 0 && flops / bytes < ridge)
        return sc->src->bw_gbs / sc->dst->bw_gbs;
    return ps / pt;
}

static bool same_shape(const struct sd_workload *a, const struct sd_workload *b)
{
    char sa[160], sb[160];
    sd_workload_shape_str(a, sa, sizeof sa);
    sd_workload_shape_str(b, sb, sizeof sb);
    return a->op == b->op && !strcmp(sa, sb);
}

static bool acc_ok(const struct sd_result *r, int acc)
{
    if (r->wl.dtype == SD_FP32 || r->wl.dtype == SD_TF32)
        return true;
    return (int)r->wl.acc == (acc < 0 ? SD_FP32 : acc);
}

/* The row used for suite item `it` on device `dev`; NULL with a reason. */
static const struct sd_result *pick(const struct sd_rset *s, int dev, const struct sd_suite *suite,
                                    const struct sd_workload *it, const struct sd_est_opts *o, char *why, size_t wl)
{
    const struct sd_result *best = NULL, *failed = NULL, *othershape = NULL;
    int n_impl_mismatch = 0;
    /* The quick suite carries some of a model's workloads verbatim, labelled "<model>.<label>"
     * (bench/quick.suite): such a row is the same measurement and is used when the model's own
     * suite has no usable row for it (same shape required; the quick suite's scaled rows have other
     * labels and never match). */
    char qlabel[2 * SD_NAME_LEN + 2];
    snprintf(qlabel, sizeof qlabel, "%s.%s", suite->name, it->label);
    for (int pass = 0; pass < 2 && !best; pass++)
    for (size_t i = 0; i < s->n; i++) {
        const struct sd_result *r = &s->rows[i];
        if (s->dev_of[i] != dev || r->wl.op != it->op || r->wl.dtype != it->dtype || !acc_ok(r, o->acc))
            continue;
        if (pass == 0 && (strcmp(r->wl.suite, suite->name) || strcmp(r->wl.label, it->label)))
            continue;
        if (pass == 1 && (strcmp(r->wl.suite, "quick") || strcmp(r->wl.label, qlabel)))
            continue;
        if (!same_shape(&r->wl, it)) {
            othershape = r;
            continue;
        }
        if (o->impl && !sd_impl_selected(o->impl, r->impl)) {
            n_impl_mismatch++;
            continue;
        }
        if (!sd_row_usable(r)) {
            if (!failed)
                failed = r;
            continue;
        }
        if (!best || r->time_ms_median < best->time_ms_median)
            best = r;
    }
    if (best)
        return best;
    if (failed)
        snprintf(why, wl, "%s (%s): %.100s", sd_status_name(failed->status), failed->impl,
                 failed->status == SD_OK ? "verification failed or no time" : failed->reason);
    else if (n_impl_mismatch)
        snprintf(why, wl, "measured, but not with impl '%s'", o->impl);
    else if (othershape)
        snprintf(why, wl, "a row with this label has another shape (file older than the suite?)");
    else
        snprintf(why, wl, "not measured");
    return NULL;
}

/* pick() and the row's projection factor; NULL (with why) when there is no row or no factor. */
static const struct sd_result *pick_scaled(const struct sd_rset *s, int dev, const struct sd_suite *suite,
                                           const struct sd_workload *it, const struct sd_est_opts *o,
                                           const struct scale *sc, double *fac, char *why, size_t wl)
{
    const struct sd_result *r = pick(s, dev, suite, it, o, why, wl);
    *fac = r ? row_factor(sc, r, why, wl) : NAN;
    return r && isfinite(*fac) ? r : NULL;
}

static void add_missing(struct sd_estimate *e, const struct sd_workload *it, const char *why, double share)
{
    if (e->nmissing >= SD_EST_MAX_MISSING)
        return;
    struct sd_est_missing *m = &e->missing[e->nmissing++];
    snprintf(m->label, sizeof m->label, "%s", it->label);
    snprintf(m->op, sizeof m->op, "%s", sd_op_name(it->op));
    snprintf(m->why, sizeof m->why, "%s", why);
    m->flops_share = share;
}

/* Σ count × time over one suite. Returns measured ms; coverage etc. through pointers. */
static double suite_sum(const struct sd_rset *s, int dev, const struct sd_suite *suite, int dtype,
                        const struct sd_est_opts *o, const struct scale *sc, double flop_scale_conv,
                        double flop_scale_attn, struct sd_estimate *e, bool record, double *coverage,
                        double *total_flops, int *n_attn_flash, int *n_attn)
{
    double ms = 0, fl_cov = 0, fl_tot = 0;
    /* each label once (dtype-expanded suites list it once per dtype) */
    for (size_t i = 0; i < suite->n; i++) {
        const struct sd_workload *it = &suite->items[i];
        if ((int)it->dtype != dtype)
            continue;
        double f = sd_workload_flops(it) * it->count;
        fl_tot += f;
    }
    for (size_t i = 0; i < suite->n; i++) {
        const struct sd_workload *it = &suite->items[i];
        if ((int)it->dtype != dtype || it->count <= 0)
            continue;
        double f = sd_workload_flops(it) * it->count;
        char why[200] = "";
        double fac = 1;
        const struct sd_result *r = pick_scaled(s, dev, suite, it, o, sc, &fac, why, sizeof why);
        if (!r) {
            if (record)
                add_missing(e, it, why, fl_tot > 0 ? f / fl_tot : 0);
            continue;
        }
        double fs = it->op == SD_OP_ATTENTION ? flop_scale_attn : flop_scale_conv;
        ms += it->count * r->time_ms_median * fac * fs;
        fl_cov += f;
        if (record) {
            e->nused++;
            if (!strcmp(r->wl.suite, "quick"))
                e->nquick_used++;
        }
        if (it->op == SD_OP_ATTENTION && n_attn) {
            (*n_attn)++;
            if (strstr(r->impl, "flash") || !strcmp(r->impl, "fused"))
                (*n_attn_flash)++;
        }
    }
    *coverage = fl_tot > 0 ? fl_cov / fl_tot : 0;
    if (total_flops)
        *total_flops = fl_tot;
    return ms;
}

/* The dtype a user of this device would run: among the dtypes covering the most of the suite's
 * FLOPs (within 1 %), the one whose kernel time, extrapolated to the whole suite, is lowest. That is
 * fp16 on most GPUs, bf16 on CPUs with AVX512-BF16 or AMX (oneDNN), fp32 where nothing else runs.
 * --dtype overrides it. */
static int choose_dtype(const struct sd_rset *s, int dev, const struct sd_suite *suite, const struct sd_est_opts *o,
                        const struct scale *sc)
{
    if (o->dtype >= 0)
        return o->dtype;
    static const enum sd_dtype cand[] = {SD_FP16, SD_BF16, SD_FP32};
    double cov[3], ms[3], best_cov = 0, best_ms = INFINITY;
    for (int i = 0; i < 3; i++) {
        ms[i] = suite_sum(s, dev, suite, cand[i], o, sc, 1, 1, NULL, false, &cov[i], NULL, NULL, NULL);
        best_cov = cov[i] > best_cov ? cov[i] : best_cov;
    }
    int pick = SD_FP32;
    for (int i = 0; i < 3; i++)
        if (cov[i] > 0 && cov[i] >= best_cov - 0.01 && ms[i] / cov[i] < best_ms) {
            best_ms = ms[i] / cov[i];
            pick = cand[i];
        }
    return pick;
}

/* Like with like between the estimate's dtype `a` and another dtype `b`: over the suite's
 * workloads that have a usable row in both (a dtype-expanded suite lists each label once per
 * dtype), Σ count × time in a / in b (> 1: b is faster), and the FLOP fraction they cover. */
static double common_speedup(const struct sd_rset *s, int dev, const struct sd_suite *suite, int a, int b,
                             const struct sd_est_opts *o, const struct scale *sc, double *common_cov)
{
    double ta = 0, tb = 0, fl = 0, tot = 0;
    char why[200];
    for (size_t i = 0; i < suite->n; i++) {
        const struct sd_workload *x = &suite->items[i];
        if ((int)x->dtype != a)
            continue;
        tot += sd_workload_flops(x) * x->count;
        for (size_t j = 0; x->count > 0 && j < suite->n; j++) {
            const struct sd_workload *y = &suite->items[j];
            double fa, fb;
            const struct sd_result *ra, *rb;
            if ((int)y->dtype != b || y->op != x->op || strcmp(y->label, x->label) ||
                !(ra = pick_scaled(s, dev, suite, x, o, sc, &fa, why, sizeof why)) ||
                !(rb = pick_scaled(s, dev, suite, y, o, sc, &fb, why, sizeof why)))
                continue;
            ta += x->count * ra->time_ms_median * fa;
            tb += x->count * rb->time_ms_median * fb;
            fl += sd_workload_flops(x) * x->count;
            break;
        }
    }
    *common_cov = tot > 0 ? fl / tot : 0;
    return tb > 0 ? ta / tb : NAN;
}

/* The other dtypes this device measured for the suite: coverage, ceiling extrapolated by FLOPs,
 * and the like-with-like speed against the chosen dtype (a user reads "bf16 is 2x fp32 here but
 * covers less of the suite" instead of never hearing of bf16). */
static void other_dtypes(const struct sd_rset *s, int dev, const struct sd_suite *suite, int chosen,
                         const struct sd_est_opts *o, const struct scale *sc, struct sd_estimate *e)
{
    static const enum sd_dtype cand[] = {SD_FP16, SD_BF16, SD_FP32};
    e->nother = 0;
    for (int i = 0; i < 3; i++) {
        double cov = 0;
        if ((int)cand[i] == chosen)
            continue;
        double ms = suite_sum(s, dev, suite, cand[i], o, sc, 1, 1, NULL, false, &cov, NULL, NULL, NULL);
        if (!(cov > 0))
            continue;
        struct sd_est_dtype *x = &e->other[e->nother++];
        snprintf(x->dtype, sizeof x->dtype, "%s", sd_dtype_name(cand[i]));
        x->coverage = cov;
        x->kernel_ms = ms / cov;
        x->speedup = common_speedup(s, dev, suite, chosen, cand[i], o, sc, &x->common_coverage);
    }
}

/* Model, device, dtype and impl rule of the estimate; -1 when the suite cannot be estimated. */
static int est_header(const struct sd_rset *s, int dev, const struct sd_suite *suite, const struct sd_est_opts *o,
                      const struct scale *sc, enum sd_model model, struct sd_estimate *e, int *dtype, char *err,
                      size_t errlen)
{
    const struct sd_device_ref *d = &s->dev[dev];
    snprintf(e->model, sizeof e->model, "%s", sd_model_name(model));
    snprintf(e->suite, sizeof e->suite, "%s", suite->name);
    if (sc->dst) {
        e->projected = true;
        snprintf(e->card, sizeof e->card, "%s", sc->dst->name);
        sd_device_display(d, e->projected_from, sizeof e->projected_from);
        snprintf(e->device, sizeof e->device, "%s (projected)", sc->dst->name);
    } else {
        sd_device_display(d, e->device, sizeof e->device);
        if (d->card)
            snprintf(e->card, sizeof e->card, "%s", d->card->name);
    }
    e->res = o->res > 0 ? o->res : sd_model_default_res(model);
    e->steps = o->steps > 0 ? o->steps : 20;
    *dtype = choose_dtype(s, dev, suite, o, sc);
    bool any = false;
    for (size_t i = 0; i < suite->n; i++)
        any |= (int)suite->items[i].dtype == *dtype;
    if (!any) {
        snprintf(err, errlen, "%s: suite '%s' has no %s workloads", suite->path ? suite->path : suite->name,
                 suite->name, sd_dtype_name((enum sd_dtype)*dtype));
        return -1;
    }
    snprintf(e->dtype, sizeof e->dtype, "%s", sd_dtype_name((enum sd_dtype)*dtype));
    snprintf(e->acc, sizeof e->acc, "%s",
             *dtype == SD_FP32 || *dtype == SD_TF32 ? "fp32"
                                                    : sd_dtype_name(o->acc < 0 ? SD_FP32 : (enum sd_dtype)o->acc));
    if (o->impl)
        snprintf(e->impl_rule, sizeof e->impl_rule, "impl %s only", o->impl);
    else
        snprintf(e->impl_rule, sizeof e->impl_rule, "fastest usable impl per workload");
    return 0;
}

/* The device's measured bandwidth (a bw.* row) and per-kernel floor (a launch.* row). */
static void est_probes(const struct sd_rset *s, int dev, const struct scale *sc, struct sd_estimate *e)
{
    double bw = 0, launch_ms = NAN, bw_best_v = 0;
    const struct sd_result *bw_row = NULL, *bw_best = NULL, *launch_row = NULL;
    for (size_t i = 0; i < s->n; i++) {
        const struct sd_result *r = &s->rows[i];
        if (s->dev_of[i] != dev || !sd_row_usable(r))
            continue;
        double bytes = isfinite(r->bytes_min) ? r->bytes_min : sd_workload_bytes_min(&r->wl);
        double g = bytes / (r->time_ms_median * 1e6);
        if (!strncmp(r->wl.label, "bw.", 3) || !strncmp(r->wl.label, "membw", 5)) {
            if (g > bw) {
                bw = g;
                bw_row = r;
            }
        } else if (!strncmp(r->wl.label, "launch", 6)) {
            if (!launch_row || r->time_ms_median < launch_ms) {
                launch_ms = r->time_ms_median;
                launch_row = r;
            }
        } else if (g > bw_best_v) {
            bw_best_v = g;
            bw_best = r;
        }
    }
    double bw_fac = sc->src ? sc->dst->bw_gbs / sc->src->bw_gbs : 1;
    const char *proj_note = sc->src ? " x target/source spec bandwidth" : "";
    e->bw_gbs = NAN;
    /* The GB/s of compute-bound rows says nothing about the bandwidth an elementwise kernel gets:
     * without a bw.* row the small kernels are left out, and the output says so. */
    if (bw_row) {
        e->bw_gbs = bw * bw_fac;
        snprintf(e->bw_source, sizeof e->bw_source, "measured: row %s (%.1f GB/s)%s", bw_row->wl.label, bw, proj_note);
    } else if (bw_best)
        snprintf(e->bw_source, sizeof e->bw_source,
                 "not measured (no bw.* row; the best other row reached only %.1f GB/s, %s): small kernels NOT included",
                 bw_best_v, bw_best->wl.label);
    else
        snprintf(e->bw_source, sizeof e->bw_source, "not measured (no bw.* row): small kernels NOT included");
    e->launch_us = launch_row ? launch_ms * 1000 : NAN;
    if (launch_row)
        snprintf(e->launch_source, sizeof e->launch_source, "measured: row %s%s", launch_row->wl.label,
                 sc->src ? " on the source device (host/driver property, assumed equal)" : "");
    else
        snprintf(e->launch_source, sizeof e->launch_source,
                 "not measured (no launch.* row): per-kernel launch cost NOT included");
}

/* VAE decode: the vae suite is written at 512^2; other resolutions scale each row by its FLOPs
 * (convs with the pixel count, attention with its square) — modelled, and said so. */
static void est_vae(const struct sd_rset *s, int dev, const struct sd_suite *vae, const struct sd_est_opts *o,
                    const struct scale *sc, struct sd_estimate *e)
{
    e->vae_ms = NAN;
    if (!vae) {
        snprintf(e->vae_note, sizeof e->vae_note, "no vae suite: VAE decode not included");
        return;
    }
    int vd = choose_dtype(s, dev, vae, o, sc);
    struct sd_estimate *tmp = calloc(1, sizeof *tmp);
    double px = (double)e->res / 512.0, vcov = 0;
    double v = tmp ? suite_sum(s, dev, vae, vd, o, sc, px * px, px * px * px * px, tmp, true, &vcov, NULL, NULL, NULL)
                   : 0;
    free(tmp);
    if (!(vcov > 0)) {
        snprintf(e->vae_note, sizeof e->vae_note, "VAE decode not measured on this device: not included");
        return;
    }
    e->vae_ms = v / vcov;
    bool part = vcov < 1 - 1e-9;
    char more[48] = "";
    if (part)
        snprintf(more, sizeof more, " (%.0f %% of FLOPs measured)", 100 * vcov);
    snprintf(e->vae_note, sizeof e->vae_note, "%s%s, %.8s%s",
             part ? (sc->src ? "projected, extrapolated from partial coverage" : "extrapolated from partial coverage")
                  : (sc->src ? "projected from measured rows" : "measured"),
             e->res != 512 ? " (512^2 rows scaled by FLOPs to this resolution: modelled)" : "",
             sd_dtype_name((enum sd_dtype)vd), more);
}

static int run_estimate(const struct sd_rset *s, int dev, const struct sd_suite *suite, const struct sd_suite *vae,
                        const struct sd_est_opts *o, const struct scale *sc, struct sd_estimate *e, char *err,
                        size_t errlen)
{
    memset(e, 0, sizeof *e);
    enum sd_model model;
    if (sd_model_from_suite(suite->name, &model)) {
        snprintf(err, errlen, "%s: suite '%s' is not a UNet model suite (sd15, sd21 or sdxl); estimate needs "
                 "one", suite->path ? suite->path : suite->name, suite->name);
        return -1;
    }
    if (dev < 0 || (size_t)dev >= s->ndev) {
        snprintf(err, errlen, "no such device");
        return -1;
    }
    int dtype;
    if (est_header(s, dev, suite, o, sc, model, e, &dtype, err, errlen))
        return -1;
    size_t nquick = 0;
    for (size_t i = 0; i < s->n; i++)
        nquick += s->dev_of[i] == dev && !strcmp(s->rows[i].wl.suite, "quick");
    int n_attn = 0, n_flash = 0;
    double cov = 0, tot = 0;
    e->kernel_ms_measured = suite_sum(s, dev, suite, dtype, o, sc, 1, 1, e, true, &cov, &tot, &n_flash, &n_attn);
    e->coverage = cov;
    e->nquick_ignored = nquick - e->nquick_used;
    e->flops_per_call = tot;
    e->kernel_extrapolated = cov > 0 && cov < 1 - 1e-9;
    e->kernel_ms = cov > 0 ? e->kernel_ms_measured / (e->kernel_extrapolated ? cov : 1) : NAN;
    other_dtypes(s, dev, suite, dtype, o, sc, e);
    est_probes(s, dev, sc, e);
    enum sd_attn_mode am = n_attn > 0 && n_flash * 2 > n_attn ? SD_ATTN_FLASH : SD_ATTN_UNFUSED;
    size_t eb = sd_dtype_size((enum sd_dtype)dtype);
    sd_model_traffic(model, e->res, 1, eb, am, &e->traffic);
    e->small_ms = NAN;
    if (isfinite(e->bw_gbs) && e->bw_gbs > 0)
        e->small_ms = sd_model_small_ms(model, e->res, 1, eb, am, e->bw_gbs, isfinite(e->launch_us) ? e->launch_us : 0);
    e->step_ms = e->kernel_ms + (isfinite(e->small_ms) ? e->small_ms : 0);
    e->it_per_s = e->step_ms > 0 ? 1000.0 / e->step_ms : NAN;
    e->kernel_it_per_s = e->kernel_ms > 0 ? 1000.0 / e->kernel_ms : NAN;
    est_vae(s, dev, vae, o, sc, e);
    e->image_s = e->steps * e->step_ms / 1000.0 + (isfinite(e->vae_ms) ? e->vae_ms / 1000.0 : 0);
    if (!(cov > 0))
        e->image_s = e->step_ms = e->it_per_s = NAN;
    return 0;
}

int sd_estimate_device(const struct sd_rset *s, int dev, const struct sd_suite *suite, const struct sd_suite *vae,
                       const struct sd_est_opts *o, struct sd_estimate *e, char *err, size_t errlen)
{
    struct scale sc = {NULL, NULL};
    return run_estimate(s, dev, suite, vae, o, &sc, e, err, errlen);
}

int sd_closest_device(const struct sd_rset *s, const struct sd_card *target)
{
    int best = -1;
    double best_score = -1;
    for (size_t d = 0; d < s->ndev; d++) {
        const struct sd_card *c = s->dev[d].card;
        /* Only within a vendor: another vendor's software stack is part of what is measured. */
        if (!c || strcasecmp(c->vendor, target->vendor))
            continue;
        double score = 1;
        if (!strcasecmp(c->vendor, target->vendor))
            score += 2;
        if (!strcasecmp(c->arch, target->arch))
            score += 4;
        /* closer in fp16 peak is better (within the same class) */
        double pa = sd_card_peak_tflops(c, SD_FP16, SD_FP32), pb = sd_card_peak_tflops(target, SD_FP16, SD_FP32);
        if (pa > 0 && pb > 0)
            score += 1.0 / (1.0 + fabs(log(pa / pb)));
        if (score > best_score) {
            best_score = score;
            best = (int)d;
        }
    }
    return best;
}

int sd_estimate_project(const struct sd_rset *s, const struct sd_card *target, const struct sd_suite *suite,
                        const struct sd_suite *vae, const struct sd_est_opts *o, struct sd_estimate *e, char *err,
                        size_t errlen)
{
    int src = sd_closest_device(s, target);
    if (src < 0) {
        snprintf(err, errlen, "cannot project onto '%s': no measured %s GPU in the result files has a row in "
                 "cards.csv to take efficiencies from (measure one with `sdmark run`)", target->name, target->vendor);
        return -1;
    }
    struct scale sc = {s->dev[src].card, target};
    return run_estimate(s, src, suite, vae, o, &sc, e, err, errlen);
}

double sd_spec_bound_ms(const struct sd_suite *suite, const struct sd_card *card, enum sd_dtype dtype, enum sd_dtype acc)
{
    double peak = sd_card_peak_tflops(card, dtype, acc);
    if (!(peak > 0) || !(card->bw_gbs > 0))
        return NAN;
    double ms = 0;
    int any = 0;
    for (size_t i = 0; i < suite->n; i++) {
        const struct sd_workload *it = &suite->items[i];
        if (it->dtype != dtype)
            continue;
        struct sd_workload w = *it;
        double t = fmax(sd_workload_flops(&w) / (peak * 1e9), sd_workload_bytes_min(&w) / (card->bw_gbs * 1e6));
        ms += it->count * t;
        any = 1;
    }
    return any ? ms : NAN;
}
