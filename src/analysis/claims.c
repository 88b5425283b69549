/* claims.c — verdicts on the claims C1–C9 of docs/claims.md, from whatever result files
 * exist plus bench/cards.csv and the memory model. Each verdict names its evidence and whether it
 * was measured on a device, projected from a spec sheet (scaled by the efficiency measured on
 * another device: estimate.c), or comes from the memory model (memmodel.c).
 *
 * Estimates used below are sd15 at 512², 20 steps, fp16 on GPUs (fp32 where only that was
 * measured), kernel-bound ceiling for device-to-device ratios (like with like), expected pipeline
 * for seconds per image and it/s. A spec bound (100 % of peak, sd_spec_bound_ms) is shown as
 * context only: it is never used to reach a verdict, since no efficiency was measured for it.
 *
 * Verdict rules (thresholds are readings of the claim's words, not fitted to any data):
 *  C1 "much faster than a CPU": r = CPU step / GPU step (kernel ceilings, fastest CPU device in
 *     its estimate's dtype — bf16 where measured as widely as fp32 and faster; a faster dtype
 *     measured on less of the suite is named as the CPU at its best, not used for r —, each GPU
 *     measured or projected). supported: some measured GPU r >= 10 (or only projected
 *     GPUs with r >= 10: supported, marked projected); partly: best r in [3, 10); refuted: r < 3;
 *     no data: no CPU device or no GPU (measured or projected) — a spec bound is shown only.
 *  C2 "VRAM decides max resolution": memory model, largest SD 1.5 resolution per tier with unfused
 *     and flash attention. supported when the unfused max resolution rises with the tier and every
 *     measured check (memcheck.c: model vs measured peak, 10 %) agrees; partly when a check fails.
 *     The flash column is reported as the caveat (the limit moves with the attention kernel).
 *  C3 "Tensor cores speed up": geometric mean over GEMM labels of fp32 time / fp16 time on the same
 *     GPU (fastest impl each). supported: >= 1.5 on an Ada (RTX 40) device; partly: >= 1.5 only on
 *     other GPUs (tensor cores help, not 40-series specific); refuted: < 1.2 everywhere measured;
 *     no data: no GPU with both dtypes (the spec ratio is shown).
 *  C4 "fast previews / real time": real time = >= 1 it/s (one preview per second) and a 512²
 *     image (20 steps + VAE) in <= 5 s. supported: every measured or projected GPU meets both,
 *     entry cards (RTX 2060 12GB, RTX 3060 12GB) included; partly: some do; refuted: none do;
 *     no data: no GPU figures.
 *  C5 "12 GB to start; > 12 GB supports training": (a) smallest tier that runs SD 1.5 / 2.1 /
 *     SDXL inference (fp16, batch 1, unfused attention) — refuted when all fit below 12 GB;
 *     (b) at 16 GB (the first tier above 12) LoRA and full fine-tune of SD 1.5 (flash attention,
 *     batch 1) — supported when both fit, partly when only LoRA does, refuted when neither does.
 *     Overall supported if (a) and (b) supported, refuted if both refuted, else partly.
 *  C6 "3060 12GB and 4060 Ti 16GB are the best value": predicted it/s per MSRP dollar over the
 *     cards with a price and a measured or projected estimate. supported: both in the top 3;
 *     partly: one of them; refuted: neither; no data: no estimates.
 *  C7 "tiers 2060 12GB -> 4090 24GB": predicted it/s along 2060 12GB, 3060 12GB, 4060 Ti 16GB,
 *     4070, 4070 Ti, 4080, 4090 (price order). supported: monotone non-decreasing; partly: one
 *     inversion; refuted: more; no data: fewer than 3 of them estimated. Big steps are listed.
 *  C8 "CUDA better supported; others need DirectML": per GPU device measured with several
 *     backends, the share of usable rows per backend and the geometric-mean speedup of the CUDA
 *     rows over the OpenCL rows of the same workload. supported: CUDA covers at least as much and
 *     is >= 1.2x faster; partly: one of the two; refuted: neither; no data: no device measured with
 *     two backends. The DirectML half cannot be measured here and is said so.
 *  C9 "occasional use needs no high-end card; production/training needs large VRAM": (a) an entry
 *     card (RTX 3060 12GB or RTX 2060 12GB, measured or projected) makes a 512² image in <= 10 s;
 *     (b) full fine-tune of SDXL needs more than 24 GB (model). supported: both; partly: (b) only
 *     or (a) only; refuted: neither.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdmark/analysis.h"

const char *sd_verdict_name(enum sd_verdict v)
{
    static const char *const n[] = {"supported", "refuted", "partly", "no data"};
    return v <= SD_V_NO_DATA ? n[v] : "?";
}

struct card_est {
    const struct sd_card *card;
    bool have;
    bool projected;
    double kernel_ms, step_ms, it_s, image_s;
    char from[200];
};

struct ctx {
    const struct sd_rset *s;
    const struct sd_cards *cards;
    struct sd_suite sd15, vae;
    bool have_suite, have_vae;
    char suite_err[512];
    struct sd_estimate *dev_est; /* per device */
    bool *dev_ok;
    struct card_est *ce;         /* per card */
};

static void add(struct sd_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(struct sd_buf *b, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    sd_buf_printf(b, "%s%s", b->len ? "\n" : "", line);
}

/* The measured device of a card to quote: with several nodes (hosts) of the card, the one with the
 * median step time (the lower median), never the fastest of all; -1 when none was measured. */
static int median_node(const struct ctx *c, const struct sd_card *card)
{
    int *v = calloc(c->s->ndev + 1, sizeof *v);
    size_t n = 0;
    for (size_t d = 0; v && d < c->s->ndev; d++)
        if (c->dev_ok[d] && c->s->dev[d].card == card)
            v[n++] = (int)d;
    for (size_t i = 1; i < n; i++) /* insertion sort by step time: a fleet has few nodes */
        for (size_t j = i; j > 0 && c->dev_est[v[j]].step_ms < c->dev_est[v[j - 1]].step_ms; j--) {
            int t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    int best = n ? v[(n - 1) / 2] : -1;
    free(v);
    return best;
}

/* A CPU user runs the faster of fp32 and bf16 (oneDNN on AVX512-BF16 / AMX): the CPU device's
 * estimate becomes the bf16 one where the suite lists bf16, the CPU measured it with at least the
 * fp32 coverage (like with like), and it is faster. */
static void cpu_try_bf16(struct ctx *c, size_t d)
{
    struct sd_est_opts o;
    sd_est_opts_default(&o);
    o.dtype = SD_BF16;
    struct sd_estimate *e = calloc(1, sizeof *e);
    char err[256];
    if (e && !sd_estimate_device(c->s, (int)d, &c->sd15, c->have_vae ? &c->vae : NULL, &o, e, err, sizeof err) &&
        e->coverage > 0 &&
        (!c->dev_ok[d] || (e->coverage >= c->dev_est[d].coverage && e->kernel_ms < c->dev_est[d].kernel_ms))) {
        c->dev_est[d] = *e;
        c->dev_ok[d] = true;
    }
    free(e);
}

static void prepare(struct ctx *c)
{
    char err[512];
    c->have_suite = !sd_suite_open("sd15", &c->sd15, c->suite_err, sizeof c->suite_err);
    c->have_vae = !sd_suite_open("vae", &c->vae, err, sizeof err);
    c->dev_est = calloc(c->s->ndev + 1, sizeof *c->dev_est);
    c->dev_ok = calloc(c->s->ndev + 1, sizeof *c->dev_ok);
    size_t nc = c->cards ? c->cards->n : 0;
    c->ce = calloc(nc + 1, sizeof *c->ce);
    if (!c->have_suite)
        return;
    struct sd_est_opts o;
    sd_est_opts_default(&o);
    for (size_t d = 0; d < c->s->ndev; d++)
        c->dev_ok[d] = !sd_estimate_device(c->s, (int)d, &c->sd15, c->have_vae ? &c->vae : NULL, &o, &c->dev_est[d],
                                           err, sizeof err) &&
                       c->dev_est[d].coverage > 0;
    for (size_t d = 0; d < c->s->ndev; d++)
        if (!sd_device_is_gpu(&c->s->dev[d]))
            cpu_try_bf16(c, d);
    struct sd_estimate *tmp = calloc(1, sizeof *tmp);
    for (size_t k = 0; k < nc; k++) {
        struct card_est *x = &c->ce[k];
        x->card = &c->cards->v[k];
        int d = median_node(c, x->card);
        if (d >= 0) {
            x->have = true;
            x->kernel_ms = c->dev_est[d].kernel_ms;
            x->step_ms = c->dev_est[d].step_ms;
            x->it_s = c->dev_est[d].it_per_s;
            x->image_s = c->dev_est[d].image_s;
            sd_device_display(&c->s->dev[d], x->from, sizeof x->from);
        }
        if (!x->have && !sd_estimate_project(c->s, x->card, &c->sd15, c->have_vae ? &c->vae : NULL, &o, tmp, err,
                                             sizeof err) && tmp->coverage > 0) {
            x->have = x->projected = true;
            x->kernel_ms = tmp->kernel_ms;
            x->step_ms = tmp->step_ms;
            x->it_s = tmp->it_per_s;
            x->image_s = tmp->image_s;
            snprintf(x->from, sizeof x->from, "%s", tmp->projected_from);
        }
    }
    free(tmp);
}

static const char *basis_of(const struct card_est *x, char *b, size_t l)
{
    if (x->projected)
        snprintf(b, l, "projected from spec (efficiency measured on %s)", x->from);
    else
        snprintf(b, l, "measured on %s", x->from);
    return b;
}

static const struct card_est *card_est(const struct ctx *c, const char *name)
{
    const struct sd_card *k = sd_cards_find(c->cards, name);
    if (!k)
        return NULL;
    return &c->ce[k - c->cards->v];
}

/* ---------------------------------------------------------------- C1 */
/* Is r one of device d's sd15 rows of dtype dt that no other usable row of its label beats? */
static bool fastest_sd15_row(const struct ctx *c, size_t i, int d, enum sd_dtype dt)
{
    const struct sd_result *r = &c->s->rows[i];
    if (c->s->dev_of[i] != d || r->wl.dtype != dt || !sd_row_usable(r) ||
        (strcmp(r->wl.suite, "sd15") && strncmp(r->wl.label, "sd15.", 5)))
        return false;
    for (size_t j = 0; j < c->s->n; j++) {
        const struct sd_result *q = &c->s->rows[j];
        if (j != i && c->s->dev_of[j] == d && q->wl.dtype == dt && !strcmp(q->wl.label, r->wl.label) &&
            !strcmp(q->wl.suite, r->wl.suite) && sd_row_usable(q) && q->time_ms_median < r->time_ms_median)
            return false;
    }
    return true;
}

/* The impl fastest on most of device d's sd15 workloads in dtype `dtype` ("?" if none). */
static void cpu_best_impl(const struct ctx *c, int d, const char *dtype, char *out, size_t len)
{
    enum sd_dtype dt = SD_FP32;
    sd_dtype_parse(dtype, &dt);
    const char *names[16];
    int wins[16] = {0}, n = 0, best = -1;
    for (size_t i = 0; i < c->s->n; i++) {
        if (!fastest_sd15_row(c, i, d, dt))
            continue;
        int k = 0;
        while (k < n && strcmp(names[k], c->s->rows[i].impl))
            k++;
        if (k == n && n < 16)
            names[n++] = c->s->rows[i].impl;
        if (k < n && (++wins[k], best < 0 || wins[k] > wins[best]))
            best = k;
    }
    snprintf(out, len, "%s", best >= 0 ? names[best] : "?");
}

/* The CPU's matrix unit as its rows record it (the cpu backend's driver string names oneDNN's isa:
 * "..._amx" = AMX tiles) and, without usable bf16 rows, why (a bf16 row's unsupported reason). */
static void cpu_units_note(const struct ctx *c, int d, struct sd_buf *ev)
{
    const char *isa = NULL, *why = "no bf16 rows measured";
    for (size_t i = 0; i < c->s->n; i++) {
        const struct sd_result *r = &c->s->rows[i];
        if (c->s->dev_of[i] != d)
            continue;
        const char *p = strstr(r->dev.driver_version, "onednn isa ");
        if (p && !isa)
            isa = p + strlen("onednn isa ");
        if (r->wl.dtype == SD_BF16 && sd_row_usable(r))
            why = "";
        else if (r->wl.dtype == SD_BF16 && *why && strstr(r->reason, "BF16"))
            why = r->reason;
    }
    if (isa && strstr(isa, "amx"))
        add(ev, "CPU matrix unit: AMX (oneDNN isa %.40s)", isa);
    else if (isa)
        add(ev, "CPU has no matrix unit (no AMX; oneDNN isa %.40s: bf16 on vector units)", isa);
    if (*why)
        add(ev, "CPU bf16: %.200s", why);
}

/* A dtype faster than the one the ratio uses but measured on less of the suite (bf16 after
 * `make bench`, whose quick suite runs bf16 on the cheap rows only): named with its like-with-like
 * speed, not used for the ratio (the estimate's rule prefers coverage). */
static void cpu_faster_dtype_note(const struct ctx *c, int d, struct sd_buf *ev)
{
    const struct sd_estimate *e = &c->dev_est[d];
    for (size_t i = 0; i < e->nother; i++) {
        const struct sd_est_dtype *x = &e->other[i];
        if (!(x->speedup > 1))
            continue;
        char impl[32];
        cpu_best_impl(c, d, x->dtype, impl, sizeof impl);
        add(ev, "CPU at its best: %s (mostly impl %s) is %.2fx its %s speed on the %.0f %% of FLOPs measured in both; "
            "%s covers %.0f %% of the suite against %s's %.0f %%, so the ratio uses %s (run the sd15 suite in %s "
            "for a like-with-like figure)", x->dtype, impl, x->speedup, e->dtype, 100 * x->common_coverage, x->dtype,
            100 * x->coverage, e->dtype, 100 * e->coverage, e->dtype, x->dtype);
    }
}

static enum sd_verdict much_faster_than_cpu(struct ctx *c, struct sd_buf *ev)
{
    int cpu = -1;
    for (size_t d = 0; d < c->s->ndev; d++)
        if (c->dev_ok[d] && !sd_device_is_gpu(&c->s->dev[d]) &&
            (cpu < 0 || c->dev_est[d].kernel_ms < c->dev_est[cpu].kernel_ms))
            cpu = (int)d;
    if (!c->have_suite) {
        add(ev, "no sd15 suite: %s", c->suite_err);
        return SD_V_NO_DATA;
    }
    double cpu_ms = cpu >= 0 ? c->dev_est[cpu].kernel_ms : NAN;
    if (cpu >= 0) {
        char impl[32];
        cpu_best_impl(c, cpu, c->dev_est[cpu].dtype, impl, sizeof impl);
        add(ev, "CPU: %.0f ms per SD 1.5 step (%s, mostly impl %s; kernel ceiling, %.0f %% of FLOPs measured%s), "
            "measured on %s", cpu_ms, c->dev_est[cpu].dtype, impl, 100 * c->dev_est[cpu].coverage,
            c->dev_est[cpu].kernel_extrapolated ? ", extrapolated" : "", c->dev_est[cpu].device);
        cpu_faster_dtype_note(c, cpu, ev);
        cpu_units_note(c, cpu, ev);
    } else
        add(ev, "CPU side: no cpu/PoCL results with sd15 rows");
    double best_meas = 0, best_proj = 0;
    for (size_t d = 0; d < c->s->ndev; d++)
        if (c->dev_ok[d] && sd_device_is_gpu(&c->s->dev[d])) {
            double r = cpu_ms / c->dev_est[d].kernel_ms;
            if (cpu >= 0)
                add(ev, "GPU: %.2f ms per step, measured on %s -> CPU/GPU = %.1fx", c->dev_est[d].kernel_ms,
                    c->dev_est[d].device, r);
            else
                add(ev, "GPU: %.2f ms per step, measured on %s", c->dev_est[d].kernel_ms, c->dev_est[d].device);
            if (r > best_meas)
                best_meas = r;
        }
    size_t nc = c->cards ? c->cards->n : 0;
    for (size_t k = 0; k < nc; k++)
        if (c->ce[k].have && c->ce[k].projected) {
            double r = cpu_ms / c->ce[k].kernel_ms;
            if (r > best_proj)
                best_proj = r;
        }
    if (best_proj > 0 && cpu >= 0)
        add(ev, "GPUs projected from spec (cards.csv x measured efficiency): best CPU/GPU = %.1fx", best_proj);
    if (cpu < 0 || (best_meas == 0 && best_proj == 0)) {
        if (cpu >= 0)
            for (size_t k = 0; k < nc; k++)
                if (!strcmp(c->cards->v[k].name, "RTX 3060 12GB")) {
                    double b = sd_spec_bound_ms(&c->sd15, &c->cards->v[k], SD_FP16, SD_FP32);
                    if (!isfinite(b)) /* a suite without fp16 workloads has no fp16 bound */
                        continue;
                    add(ev, "context only (spec bound, 100 %% of peak, not a prediction): RTX 3060 12GB >= %.2f ms "
                        "per step -> at most %.0fx the CPU", b, cpu_ms / b);
                }
        return SD_V_NO_DATA;
    }
    double best = best_meas > 0 ? best_meas : best_proj;
    if (best >= 10)
        return SD_V_SUPPORTED;
    return best >= 3 ? SD_V_PARTLY : SD_V_REFUTED;
}

/* ---------------------------------------------------------------- C2 */
static enum sd_verdict vram_decides_resolution(struct ctx *c, struct sd_buf *ev)
{
    struct sd_mem_opts o;
    sd_mem_opts_default(&o, SD_MODEL_SD15);
    int prev = 0, rises = 0, nonmono = 0;
    static const int tiers[] = {4, 6, 8, 12, 16, 24};
    for (size_t i = 0; i < sizeof tiers / sizeof tiers[0]; i++) {
        o.attn = SD_ATTN_UNFUSED;
        int ru = sd_mem_max_res(&o, tiers[i]);
        o.attn = SD_ATTN_FLASH;
        int rf = sd_mem_max_res(&o, tiers[i]);
        add(ev, "%2d GiB: largest SD 1.5 image %4d^2 with unfused attention, %4d^2 with flash (memory model)", tiers[i],
            ru, rf);
        if (ru > prev && i)
            rises++;
        if (ru < prev)
            nonmono++;
        prev = ru;
    }
    struct sd_mem_check chk[512];
    size_t total = sd_mem_check_rows(c->s, chk, 512), n = 0; /* n: judged checks (the evidence) */
    int bad = 0;
    size_t big = 0;
    for (size_t i = 0; i < total; i++) {
        if (!chk[i].judged)
            continue; /* an unfused row with no partner: listed by `sdmark memory`, not evidence */
        n++;
        bad += !chk[i].ok;
        if ((!chk[big].judged || chk[i].model > chk[big].model) && strstr(chk[i].what, "scores"))
            big = i;
    }
    for (size_t i = 0; i < total; i++) {
        if (!chk[i].judged || (chk[i].ok && i != big))
            continue; /* show the failures and the largest score-matrix check */
        char a[32], b[32];
        sd_fmt_gib(chk[i].model, a, sizeof a);
        sd_fmt_gib(chk[i].measured, b, sizeof b);
        add(ev, "%s: model %s vs measured %s on %s (%s)", chk[i].what, a, b, chk[i].device,
            chk[i].ok ? "agrees within 10 %" : "DISAGREES");
    }
    if (n)
        add(ev, "%zu of %zu model-vs-measured peak-memory checks agree within 10 %% (measured on the devices above)",
            n - (size_t)bad, n);
    for (size_t i = 0; i < c->s->n; i++)
        if (c->s->rows[i].status == SD_OOM) {
            char sh[160];
            sd_workload_shape_str(&c->s->rows[i].wl, sh, sizeof sh);
            add(ev, "out of memory, measured on %s: %s %s %s (%s)", c->s->rows[i].dev.name,
                sd_op_name(c->s->rows[i].wl.op), c->s->rows[i].impl, sh, c->s->rows[i].wl.label);
        }
    if (!n)
        add(ev, "no measured peak-memory checks in the results (model figures only)");
    add(ev, "caveat: with memory-efficient (flash) attention the limit moves far up: the kernel matters as much as "
            "the VRAM");
    if (nonmono || !rises)
        return SD_V_REFUTED;
    return bad ? SD_V_PARTLY : SD_V_SUPPORTED;
}

/* ---------------------------------------------------------------- C3 */
static enum sd_verdict tensor_cores_speed_up(struct ctx *c, struct sd_buf *ev)
{
    int any = 0, ada_ok = 0, other_ok = 0, all_low = 1;
    for (size_t d = 0; d < c->s->ndev; d++) {
        if (!sd_device_is_gpu(&c->s->dev[d]))
            continue;
        double lsum = 0;
        int n = 0;
        for (size_t i = 0; i < c->s->n; i++) {
            const struct sd_result *a = &c->s->rows[i];
            if (c->s->dev_of[i] != (int)d || a->wl.op != SD_OP_GEMM || a->wl.dtype != SD_FP32 || !sd_row_usable(a))
                continue;
            /* fastest fp32 and fp16 (fp32 accumulate) of this label */
            double t32 = a->time_ms_median, t16 = INFINITY;
            for (size_t j = 0; j < c->s->n; j++) {
                const struct sd_result *b = &c->s->rows[j];
                if (c->s->dev_of[j] != (int)d || strcmp(b->wl.suite, a->wl.suite) || strcmp(b->wl.label, a->wl.label) ||
                    !sd_row_usable(b) || b->wl.op != SD_OP_GEMM)
                    continue;
                if (b->wl.dtype == SD_FP32 && b->time_ms_median < t32)
                    t32 = b->time_ms_median;
                if (b->wl.dtype == SD_FP16 && b->wl.acc == SD_FP32 && b->time_ms_median < t16)
                    t16 = b->time_ms_median;
            }
            if (!isfinite(t16) || a->time_ms_median > t32)
                continue; /* counted once, at its fastest fp32 row */
            lsum += log(t32 / t16);
            n++;
        }
        if (!n)
            continue;
        any = 1;
        double g = exp(lsum / n);
        const struct sd_card *k = c->s->dev[d].card;
        bool ada = k && !strcmp(k->arch, "Ada");
        add(ev, "fp16 tensor-core GEMM vs fp32: %.2fx faster (geomean of %d GEMM shapes), measured on %s:%s%s", g, n,
            c->s->dev[d].backend, c->s->dev[d].name, ada ? " (RTX 40 / Ada)" : "");
        if (g >= 1.5) {
            if (ada)
                ada_ok = 1;
            else
                other_ok = 1;
        }
        if (g >= 1.2)
            all_low = 0;
    }
    const struct card_est *a = card_est(c, "RTX 3060 12GB"), *b = card_est(c, "RTX 4060 Ti 16GB");
    char b1[256], b2[256];
    if (a && b && a->have && b->have)
        add(ev, "generation at equal tier: RTX 3060 12GB %.3g it/s (%s) vs RTX 4060 Ti 16GB %.3g it/s (%s)", a->it_s,
            basis_of(a, b1, sizeof b1), b->it_s, basis_of(b, b2, sizeof b2));
    if (!any) {
        const struct sd_card *k = sd_cards_find(c->cards, "RTX 4090");
        if (k)
            add(ev, "context only (spec sheet): RTX 4090 fp16 TC/fp32acc %.1f vs fp32 %.1f TFLOP/s = %.1fx", k->fp16_f32acc,
                k->fp32, k->fp16_f32acc / k->fp32);
        add(ev, "no GPU with both fp16 and fp32 GEMM rows");
        return SD_V_NO_DATA;
    }
    if (ada_ok)
        return SD_V_SUPPORTED;
    if (other_ok)
        return SD_V_PARTLY;
    return all_low ? SD_V_REFUTED : SD_V_PARTLY;
}

/* ---------------------------------------------------------------- C4 */
static enum sd_verdict realtime_previews(struct ctx *c, struct sd_buf *ev)
{
    int n = 0, ok = 0;
    char b[256];
    size_t nc = c->cards ? c->cards->n : 0;
    for (size_t d = 0; d < c->s->ndev; d++)
        if (c->dev_ok[d] && !sd_device_is_gpu(&c->s->dev[d]))
            add(ev, "CPU for contrast: %.1f s per 512^2 image, %.3g it/s, measured on %s", c->dev_est[d].image_s,
                c->dev_est[d].it_per_s, c->dev_est[d].device);
    for (size_t d = 0; d < c->s->ndev; d++)
        if (c->dev_ok[d] && sd_device_is_gpu(&c->s->dev[d]) && !c->s->dev[d].card) {
            bool m = c->dev_est[d].it_per_s >= 1 && c->dev_est[d].image_s <= 5;
            add(ev, "%.2f s per image, %.3g it/s (%s), measured on %s", c->dev_est[d].image_s, c->dev_est[d].it_per_s,
                m ? "real time" : "not real time", c->dev_est[d].device);
            n++;
            ok += m;
        }
    for (size_t k = 0; k < nc; k++) {
        const struct card_est *x = &c->ce[k];
        if (!x->have)
            continue;
        bool m = x->it_s >= 1 && x->image_s <= 5;
        add(ev, "%s: %.2f s per image, %.3g it/s (%s), %s", x->card->name, x->image_s, x->it_s,
            m ? "real time" : "not real time", basis_of(x, b, sizeof b));
        n++;
        ok += m;
    }
    if (!n) {
        add(ev, "no GPU estimate (no measured GPU with sd15 rows, so nothing to project from either)");
        return SD_V_NO_DATA;
    }
    return ok == n ? SD_V_SUPPORTED : ok ? SD_V_PARTLY : SD_V_REFUTED;
}

/* ---------------------------------------------------------------- C5 */
static int smallest_tier(const struct sd_mem_opts *o, double *total)
{
    struct sd_mem_report r;
    char err[128];
    *total = NAN;
    if (sd_mem_compute(o, &r, err, sizeof err))
        return 0;
    *total = r.total;
    for (int i = 0; i < sd_mem_ntiers; i++)
        if (sd_mem_fits(r.total, sd_mem_tiers_gb[i]))
            return sd_mem_tiers_gb[i];
    return 0;
}

static enum sd_verdict twelve_gb_to_start(struct ctx *c, struct sd_buf *ev)
{
    int below12 = 0;
    char b[32];
    for (int m = 0; m < SD_MODEL_COUNT; m++) {
        struct sd_mem_opts o;
        sd_mem_opts_default(&o, (enum sd_model)m);
        double t;
        int tier = smallest_tier(&o, &t);
        sd_fmt_gib(t, b, sizeof b);
        add(ev, "%s inference @%d^2 fp16 batch 1 unfused attention: %s -> smallest tier %d GiB (memory model)",
            sd_model_title((enum sd_model)m), o.res, b, tier);
        below12 += tier > 0 && tier < 12;
    }
    enum sd_verdict a = below12 == SD_MODEL_COUNT ? SD_V_REFUTED : below12 ? SD_V_PARTLY : SD_V_SUPPORTED;
    int fits[2];
    for (int t = 0; t < 2; t++) {
        struct sd_mem_opts o;
        sd_mem_opts_default(&o, SD_MODEL_SD15);
        o.attn = SD_ATTN_FLASH;
        o.train = t ? SD_TRAIN_FULL : SD_TRAIN_LORA;
        double tot;
        int tier = smallest_tier(&o, &tot);
        sd_fmt_gib(tot, b, sizeof b);
        fits[t] = sd_mem_fits(tot, 16);
        add(ev, "SD 1.5 %s training @512^2 batch 1 flash attention: %s -> smallest tier %d GiB (memory model)",
            t ? "full fine-tune (Adam, 16 B/param)" : "LoRA (rank 4)", b, tier);
        struct sd_mem_opts x = o;
        x.model = SD_MODEL_SDXL;
        x.res = 1024;
        tier = smallest_tier(&x, &tot);
        sd_fmt_gib(tot, b, sizeof b);
        add(ev, "SDXL %s training @1024^2 batch 1 flash attention: %s -> smallest tier %d GiB (memory model)",
            t ? "full fine-tune" : "LoRA (rank 4)", b, tier);
    }
    enum sd_verdict bv = fits[0] && fits[1] ? SD_V_SUPPORTED : fits[0] ? SD_V_PARTLY : SD_V_REFUTED;
    add(ev, "(a) \"12 GB to start\": %s; (b) \"more than 12 GB supports training\" at 16 GB: %s", sd_verdict_name(a),
        sd_verdict_name(bv));
    if (a == SD_V_SUPPORTED && bv == SD_V_SUPPORTED)
        return SD_V_SUPPORTED;
    if (a == SD_V_REFUTED && bv == SD_V_REFUTED)
        return SD_V_REFUTED;
    return SD_V_PARTLY;
}

/* ---------------------------------------------------------------- C6 */
static enum sd_verdict best_value_cards(struct ctx *c, struct sd_buf *ev)
{
    size_t nc = c->cards ? c->cards->n : 0;
    const struct card_est *v[64];
    size_t n = 0;
    for (size_t k = 0; k < nc && n < 64; k++)
        if (c->ce[k].have && c->ce[k].card->msrp_usd > 0 && isfinite(c->ce[k].it_s))
            v[n++] = &c->ce[k];
    if (!n) {
        add(ev, "no measured or projected it/s for any card with a price");
        return SD_V_NO_DATA;
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            if (v[j]->it_s / v[j]->card->msrp_usd > v[i]->it_s / v[i]->card->msrp_usd) {
                const struct card_est *t = v[i];
                v[i] = v[j];
                v[j] = t;
            }
    int hits = 0;
    char b[256];
    for (size_t i = 0; i < n; i++) {
        bool named = !strcmp(v[i]->card->name, "RTX 3060 12GB") || !strcmp(v[i]->card->name, "RTX 4060 Ti 16GB");
        add(ev, "#%zu %s: %.2f it/s per $1000 (%.3g it/s, $%.0f, %.0f GiB), %s", i + 1, v[i]->card->name,
            1000 * v[i]->it_s / v[i]->card->msrp_usd, v[i]->it_s, v[i]->card->msrp_usd, v[i]->card->mem_gb,
            basis_of(v[i], b, sizeof b));
        if (named && i < 3)
            hits++;
    }
    return hits == 2 ? SD_V_SUPPORTED : hits ? SD_V_PARTLY : SD_V_REFUTED;
}

/* ---------------------------------------------------------------- C7 */
static enum sd_verdict budget_tiers(struct ctx *c, struct sd_buf *ev)
{
    static const char *const order[] = {"RTX 2060 12GB", "RTX 3060 12GB", "RTX 4060 Ti 16GB", "RTX 4070",
                                        "RTX 4070 Ti",   "RTX 4080",      "RTX 4090"};
    double prev = NAN;
    const char *prevname = NULL;
    int n = 0, inv = 0;
    char b[256];
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        const struct card_est *x = card_est(c, order[i]);
        if (!x || !x->have) {
            add(ev, "%s: no estimate", order[i]);
            continue;
        }
        struct sd_mem_opts o;
        sd_mem_opts_default(&o, SD_MODEL_SDXL);
        struct sd_mem_report r;
        char err[64];
        sd_mem_compute(&o, &r, err, sizeof err);
        add(ev, "%s: %.3g it/s (SD 1.5), %.0f GiB (%s SDXL fp16 unfused), %s", order[i], x->it_s, x->card->mem_gb,
            sd_mem_fits(r.total, x->card->mem_gb) ? "fits" : "does not fit", basis_of(x, b, sizeof b));
        if (isfinite(prev)) {
            double step = x->it_s / prev;
            if (step < 1)
                inv++;
            if (step >= 1.4 || step < 1)
                add(ev, "  step %s -> %s: %.2fx%s", prevname, order[i], step, step < 1 ? " (INVERSION)" : " (big step)");
        }
        prev = x->it_s;
        prevname = order[i];
        n++;
    }
    if (n < 3)
        return SD_V_NO_DATA;
    return inv == 0 ? SD_V_SUPPORTED : inv == 1 ? SD_V_PARTLY : SD_V_REFUTED;
}

/* ---------------------------------------------------------------- C8 */
static enum sd_verdict cuda_better_supported(struct ctx *c, struct sd_buf *ev)
{
    int pairs = 0, cov_ok = 0, speed_ok = 0;
    for (size_t d = 0; d < c->s->ndev; d++) {
        if (strcmp(c->s->dev[d].backend, "cuda"))
            continue;
        for (size_t e = 0; e < c->s->ndev; e++) {
            if (e == d || strcmp(c->s->dev[e].backend, "opencl") || !c->s->dev[d].card ||
                c->s->dev[e].card != c->s->dev[d].card)
                continue;
            int tot[2] = {0}, ok[2] = {0}, n = 0;
            double lsum = 0;
            size_t idx[2] = {d, e};
            for (int k = 0; k < 2; k++)
                for (size_t i = 0; i < c->s->n; i++)
                    if (c->s->dev_of[i] == (int)idx[k]) {
                        tot[k]++;
                        ok[k] += sd_row_usable(&c->s->rows[i]);
                    }
            for (size_t i = 0; i < c->s->n; i++) {
                const struct sd_result *a = &c->s->rows[i];
                if (c->s->dev_of[i] != (int)d || !sd_row_usable(a))
                    continue;
                double best = INFINITY;
                for (size_t j = 0; j < c->s->n; j++) {
                    const struct sd_result *b = &c->s->rows[j];
                    if (c->s->dev_of[j] == (int)e && sd_row_usable(b) && !strcmp(a->wl.suite, b->wl.suite) &&
                        !strcmp(a->wl.label, b->wl.label) && a->wl.dtype == b->wl.dtype && b->time_ms_median < best)
                        best = b->time_ms_median;
                }
                if (isfinite(best)) {
                    lsum += log(best / a->time_ms_median);
                    n++;
                }
            }
            pairs++;
            double share[2] = {tot[0] ? (double)ok[0] / tot[0] : 0, tot[1] ? (double)ok[1] / tot[1] : 0};
            double g = n ? exp(lsum / n) : NAN;
            add(ev, "%s: CUDA %d/%d rows usable, OpenCL %d/%d; CUDA rows %.2fx faster than OpenCL (geomean of %d "
                "shared workloads), measured on both backends",
                c->s->dev[d].name, ok[0], tot[0], ok[1], tot[1], g, n);
            cov_ok += share[0] >= share[1];
            speed_ok += n && g >= 1.2;
        }
    }
    for (size_t d = 0; d < c->s->ndev; d++)
        if (!strcmp(c->s->dev[d].backend, "opencl")) {
            int ok = 0, tot = 0;
            for (size_t i = 0; i < c->s->n; i++)
                if (c->s->dev_of[i] == (int)d) {
                    tot++;
                    ok += sd_row_usable(&c->s->rows[i]);
                }
            add(ev, "portable OpenCL path runs %d/%d rows on %s (measured)", ok, tot, c->s->dev[d].name);
        }
    add(ev, "the PyTorch-DirectML half of the claim is outside what sdmark measures");
    if (!pairs)
        return SD_V_NO_DATA;
    if (cov_ok == pairs && speed_ok == pairs)
        return SD_V_SUPPORTED;
    return cov_ok || speed_ok ? SD_V_PARTLY : SD_V_REFUTED;
}

/* ---------------------------------------------------------------- C9 */
static enum sd_verdict occasional_vs_production(struct ctx *c, struct sd_buf *ev)
{
    char b[256];
    int a = -1;
    static const char *const entry[] = {"RTX 3060 12GB", "RTX 2060 12GB"};
    for (int i = 0; i < 2; i++) {
        const struct card_est *x = card_est(c, entry[i]);
        if (!x || !x->have)
            continue;
        bool ok = x->image_s <= 10;
        add(ev, "%s: %.1f s per 512^2 image (%s for occasional use), %s", entry[i], x->image_s,
            ok ? "fine" : "slow", basis_of(x, b, sizeof b));
        a = a < 0 ? ok : (a || ok);
    }
    if (a < 0)
        add(ev, "entry cards: no measured or projected estimate");
    struct sd_mem_opts o;
    sd_mem_opts_default(&o, SD_MODEL_SDXL);
    o.train = SD_TRAIN_FULL;
    o.attn = SD_ATTN_FLASH;
    double t;
    int tier = smallest_tier(&o, &t);
    char bb[32];
    sd_fmt_gib(t, bb, sizeof bb);
    bool big = !sd_mem_fits(t, 24);
    add(ev, "SDXL full fine-tune: %s -> smallest tier %d GiB (memory model)", bb, tier);
    if (a == 1 && big)
        return SD_V_SUPPORTED;
    if (a == 0 && !big)
        return SD_V_REFUTED;
    return SD_V_PARTLY;
}

/* The claims, in docs/claims.md order: id, the claim's words, the check that weighs its evidence. */
static const struct claim_check {
    const char *id;
    const char *text;
    enum sd_verdict (*check)(struct ctx *, struct sd_buf *);
} claim_checks[SD_NCLAIMS] = {
    {"C1", "GPU parallelism makes image generation much faster than on a CPU.", much_faster_than_cpu},
    {"C2", "VRAM size decides the maximum image resolution and complexity.", vram_decides_resolution},
    {"C3", "RTX 40-series 4th-gen Tensor Cores speed up deep-learning training and inference.", tensor_cores_speed_up},
    {"C4", "A GPU gives fast previews / real-time feedback.", realtime_previews},
    {"C5", "AI painting needs at least 12 GB of VRAM to start; more than 12 GB supports training.", twelve_gb_to_start},
    {"C6", "RTX 3060 12GB and RTX 4060 Ti 16GB are the best value; 4070 / 4070 Ti / 4080 / 4090 for bigger budgets.",
     best_value_cards},
    {"C7", "Budget tiers run from RTX 2060 12GB (entry) to RTX 4090 24GB (high end).", budget_tiers},
    {"C8", "NVIDIA's CUDA ecosystem is better supported under PyTorch; AMD / Intel / CPU on Windows need DirectML.",
     cuda_better_supported},
    {"C9", "Occasional use needs no high-end card; production and training need large VRAM.", occasional_vs_production},
};

static size_t count_of(const char *s, const char *w)
{
    size_t n = 0;
    for (const char *p = s; (p = strstr(p, w)); p += strlen(w))
        n++;
    return n;
}

/* Which kinds of figures the evidence rests on, from the words every evidence line uses. */
static char *basis_of_evidence(const char *evidence)
{
    /* a projection says "projected from spec (efficiency measured on X)": that is not a measurement */
    bool meas = count_of(evidence, "measured on") > count_of(evidence, "efficiency measured on"),
         proj = strstr(evidence, "projected from") != NULL, model = strstr(evidence, "memory model") != NULL;
    struct sd_buf b = {0};
    if (meas)
        sd_buf_printf(&b, "measured");
    if (proj)
        sd_buf_printf(&b, "%sprojected from spec", b.len ? ", " : "");
    if (model)
        sd_buf_printf(&b, "%smemory model", b.len ? ", " : "");
    return b.s ? b.s : strdup("none");
}

int sd_claims_eval(const struct sd_rset *s, const struct sd_cards *cards, struct sd_claim_result out[SD_NCLAIMS],
                   char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    struct ctx c = {.s = s, .cards = cards};
    prepare(&c);
    for (int i = 0; i < SD_NCLAIMS; i++) {
        struct sd_buf ev = {0};
        memset(&out[i], 0, sizeof out[i]);
        snprintf(out[i].id, sizeof out[i].id, "%s", claim_checks[i].id);
        out[i].claim = claim_checks[i].text;
        out[i].verdict = claim_checks[i].check(&c, &ev);
        out[i].evidence = ev.s ? ev.s : strdup("");
        out[i].basis = basis_of_evidence(out[i].evidence);
    }
    if (c.have_suite)
        sd_suite_free(&c.sd15);
    if (c.have_vae)
        sd_suite_free(&c.vae);
    free(c.dev_est);
    free(c.dev_ok);
    free(c.ce);
    return 0;
}

void sd_claims_free(struct sd_claim_result out[SD_NCLAIMS])
{
    for (int i = 0; i < SD_NCLAIMS; i++) {
        free(out[i].evidence);
        free(out[i].basis);
        out[i].evidence = out[i].basis = NULL;
    }
}
