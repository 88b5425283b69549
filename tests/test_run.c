/* test_run.c — the harness (src/core/run.c) against a fake in-memory backend: a correct impl gets a
 * verified time; an impl that writes nothing (poisoned output) or a wrong answer is `wrong` with no
 * time; prepare failures become oom/error rows; pct_of_spec follows the card; slugs; row counts.
 * The fake's device "takes" 0.5 ms per run (it waits that long on the host clock), so its timer is
 * honest; the liar impls report zero, coarse (4 ms ticks) or 10x scaled times, and `toofast` reports
 * 1 ns: none may reach a results file as `ok` with a time more than 3x from the honest 0.5 ms. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "run.h"
#include "sdmark/analysis.h"
#include "sdmark/fault.h"
#include "sdmark/row_phases.h"

#define HONEST_MS 0.5

static const char *fake_timer_now = "fake_event";
static int fake_last_nsets;
/* What each impl's runs really took in its last row (per mode): the honest time a published time
 * is held to (within 3x). The host may deschedule the fake, so this is measured, not assumed. */
#define TRUE_MAX 4096
static double fake_true[16][TRUE_MAX];
static int fake_true_n[16];
static int last_mode; /* mode of the impl row() ran last */

struct fake_plan {
    struct sd_workload wl;
    int mode; /* 0 good, 1 lazy (writes nothing), 2 wrong (off by 1 %), 4 fallback, 5.. liars */
    int nsets;
    float *in[16][2];
    float *out;
};

static int fake_probe(struct sd_device_info *out, int max)
{
    if (max > 0) {
        memset(out, 0, sizeof *out);
        snprintf(out->name, sizeof out->name, "Fake GPU (RTX 4090)");
        out->kind = SD_DEVICE_GPU;
        out->compute_units = 1; /* bound: 1 CU x 1 GHz x 128 lanes x 2 x2 margin = 0.512 TFLOP/s */
        out->clock_mhz = 1000;
    }
    return 1;
}
static enum sd_status fake_open(int i, void **ctx, char *r, size_t l)
{
    *ctx = (void *)1;
    return SD_OK;
}
static void fake_close(void *ctx) {}
static void fake_info(void *ctx, struct sd_device_info *info) { fake_probe(info, 1); }

static const char *const gemm_impls[] = {"good",   "lazy",   "wrong",   "oom", "broken", "zero",
                                         "coarse", "scaled", "toofast", NULL};
enum { LIAR_ZERO = 5, LIAR_COARSE, LIAR_SCALED, LIAR_TOOFAST };

static enum sd_status fake_prepare(void *ctx, const struct sd_workload *wl, const char *impl, int nsets,
                                   struct sd_plan **plan, char *reason, size_t len)
{
    if (!strcmp(impl, "oom")) {
        snprintf(reason, len, "fake: 12 bytes do not fit");
        return SD_OOM;
    }
    if (!strcmp(impl, "broken")) {
        snprintf(reason, len, "fake: kernel build failed");
        return SD_ERROR;
    }
    struct fake_plan *p = calloc(1, sizeof *p);
    p->wl = *wl;
    if (!strcmp(impl, "roomy")) { /* a device with room for any shape: allocates nothing here */
        p->mode = 3;
        *plan = (struct sd_plan *)p;
        return SD_OK;
    }
    static const char *const modes[] = {"good", "lazy", "wrong", "roomy", "fallback",
                                        "zero", "coarse", "scaled", "toofast"};
    for (int m = 0; m < (int)(sizeof modes / sizeof *modes); m++)
        if (!strcmp(impl, modes[m]))
            p->mode = m;
    fake_true_n[p->mode] = 0;
    assert_true(nsets >= 1 && nsets <= 16); /* the harness caps rotation at 16 sets */
    fake_last_nsets = nsets;
    p->nsets = nsets;
    struct sd_tensors t;
    sd_workload_tensors(wl, &t);
    for (int s = 0; s < p->nsets; s++)
        for (int i = 0; i < 2; i++)
            p->in[s][i] = calloc(t.in[i], sizeof(float));
    p->out = calloc(t.out, sizeof(float));
    *plan = (struct sd_plan *)p;
    return SD_OK;
}
static enum sd_status fake_upload(struct sd_plan *pl, int set, const float *const *in, char *r, size_t l)
{
    struct fake_plan *p = (struct fake_plan *)pl;
    assert_int_not_equal(p->mode, 3); /* the harness must not get this far with a huge shape */
    struct sd_tensors t;
    sd_workload_tensors(&p->wl, &t);
    for (int i = 0; i < 2; i++)
        memcpy(p->in[set][i], in[i], t.in[i] * sizeof(float));
    return SD_OK;
}
static enum sd_status fake_poison(struct sd_plan *pl, char *r, size_t l)
{
    struct fake_plan *p = (struct fake_plan *)pl;
    struct sd_tensors t;
    sd_workload_tensors(&p->wl, &t);
    for (size_t i = 0; i < t.out; i++)
        p->out[i] = NAN;
    return SD_OK;
}
static enum sd_status fake_run(struct sd_plan *pl, int set, double *ms, char *r, size_t l)
{
    struct fake_plan *p = (struct fake_plan *)pl;
    if (p->mode != 1) {
        const struct sd_workload *w = &p->wl;
        for (int64_t i = 0; i < w->m; i++)
            for (int64_t j = 0; j < w->n; j++) {
                double acc = 0;
                for (int64_t k = 0; k < w->k; k++)
                    acc += (double)p->in[set][0][i * w->k + k] * p->in[set][1][k * w->n + j];
                p->out[i * w->n + j] = (float)(p->mode == 2 ? acc * 1.01 : acc);
            }
    }
    double t0 = sd_now_s();
    if (p->mode != LIAR_TOOFAST) /* the device "takes" HONEST_MS */
        while ((sd_now_s() - t0) * 1e3 < HONEST_MS)
            ;
    if (ms) { /* the "device" time is what the device really took (an honest timer, even when descheduled) */
        *ms = (sd_now_s() - t0) * 1e3;
        if (fake_true_n[p->mode] < TRUE_MAX)
            fake_true[p->mode][fake_true_n[p->mode]++] = *ms;
    }
    if (ms && p->mode == LIAR_ZERO)
        *ms = 0;
    if (ms && p->mode == LIAR_SCALED)
        *ms *= 10;
    if (ms && p->mode == LIAR_COARSE) /* 4 ms ticks, phase from the host clock */
        *ms = (floor((t0 * 1e3 + *ms) / 4.0) - floor(t0 * 1e3 / 4.0)) * 4.0;
    if (ms && p->mode == LIAR_TOOFAST)
        *ms = 1e-6;
    if (ms && p->mode == 4) /* device events found unusable: the backend times with the host clock */
        fake_timer_now = "host_monotonic";
    return SD_OK;
}
static enum sd_status fake_download(struct sd_plan *pl, float *out, char *r, size_t l)
{
    struct fake_plan *p = (struct fake_plan *)pl;
    struct sd_tensors t;
    sd_workload_tensors(&p->wl, &t);
    memcpy(out, p->out, t.out * sizeof(float));
    return SD_OK;
}
static void fake_release(struct sd_plan *pl)
{
    struct fake_plan *p = (struct fake_plan *)pl;
    for (int s = 0; s < p->nsets; s++)
        for (int i = 0; i < 2; i++)
            free(p->in[s][i]);
    free(p->out);
    free(p);
}
static void fake_mem(void *ctx, struct sd_mem_stats *m)
{
    memset(m, 0, sizeof *m);
    m->peak_bytes = 4096;
}
static const char *fake_timer(void *ctx) { return fake_timer_now; }

static const struct sd_backend_ops fake = {
    .name = "fake",
    .probe = fake_probe,
    .open = fake_open,
    .close = fake_close,
    .device_info = fake_info,
    .impls = {[SD_OP_GEMM] = gemm_impls},
    .prepare = fake_prepare,
    .upload = fake_upload,
    .poison = fake_poison,
    .run = fake_run,
    .download = fake_download,
    .release = fake_release,
    .mem_stats = fake_mem,
    .timer_name = fake_timer,
};

static void opts(struct sd_run_opts *o)
{
    memset(o, 0, sizeof *o);
    sd_measure_defaults(&o->m);
    o->m.warmup_ms = 0;
    o->m.min_time_s = 0;
    o->m.min_samples = 5;
    o->quiet = 1;
}

static void gemm_wl(struct sd_workload *wl)
{
    sd_workload_init(wl, SD_OP_GEMM);
    wl->m = 13, wl->n = 7, wl->k = 5;
    snprintf(wl->label, sizeof wl->label, "g");
    snprintf(wl->suite, sizeof wl->suite, "t");
}

/* The spec-sheet lookup cmd_run gives the harness, reduced to one card. */
static int one_card(void *arg, const struct sd_device_info *dev, const struct sd_workload *wl, struct sd_spec *out)
{
    const struct sd_card *c = arg;
    out->peak_tflops = sd_card_peak_tflops(c, wl->dtype, wl->acc);
    out->bw_gbs = c->bw_gbs;
    snprintf(out->name, sizeof out->name, "%s", c->name);
    return 0;
}

static void row(const char *impl, struct sd_result *r, const struct sd_card *card)
{
    struct sd_run_opts o;
    opts(&o);
    last_mode = !strcmp(impl, "zero") ? LIAR_ZERO : !strcmp(impl, "coarse") ? LIAR_COARSE
              : !strcmp(impl, "scaled") ? LIAR_SCALED : 0;
    if (card)
        o.spec = (struct sd_spec_source){one_card, (void *)card};
    struct sd_workload wl;
    gemm_wl(&wl);
    struct sd_device_info dev;
    fake_info(NULL, &dev);
    snprintf(dev.backend, sizeof dev.backend, "fake");
    sd_run_row(&fake, (void *)1, &dev, &wl, impl, &o, r);
}

static void test_good_row_is_timed(void **state)
{
    struct sd_result r;
    row("good", &r, NULL);
    assert_int_equal(r.status, SD_OK);
    assert_string_equal(r.verify, "pass");
    assert_true(r.time_ms_median >= HONEST_MS && r.time_ms_min >= HONEST_MS && r.time_ms_min <= r.time_ms_median);
    assert_true(r.samples >= 5);
    assert_string_equal(r.timer, "fake_event");
    assert_string_equal(r.reason, ""); /* an honest timer is kept without a note */
    assert_true(fabs(r.tflops - 2.0 * 13 * 7 * 5 / (r.time_ms_median * 1e-3) / 1e12) < 1e-15);
    assert_true(r.peak_mem_bytes == 4096);
    assert_true(isnan(r.pct_of_spec));
}

static void test_lazy_impl_is_wrong_not_fast(void **state)
{
    struct sd_result r;
    row("lazy", &r, NULL);
    assert_int_equal(r.status, SD_WRONG);
    assert_string_equal(r.verify, "fail");
    assert_non_null(strstr(r.reason, "NaN"));
    assert_true(isnan(r.time_ms_median) && isnan(r.tflops));
}

static void test_wrong_answer_is_wrong(void **state)
{
    struct sd_result r;
    row("wrong", &r, NULL);
    assert_int_equal(r.status, SD_WRONG);
    assert_true(r.max_rel_err > r.tolerance);
    assert_true(isnan(r.time_ms_median));
}

static void test_prepare_failures_are_rows(void **state)
{
    struct sd_result r;
    row("oom", &r, NULL);
    assert_int_equal(r.status, SD_OOM);
    assert_string_equal(r.reason, "fake: 12 bytes do not fit");
    row("broken", &r, NULL);
    assert_int_equal(r.status, SD_ERROR);
    assert_string_equal(r.reason, "fake: kernel build failed");
    assert_true(isnan(r.time_ms_median));
}

/* A shape the device accepts but whose fp32 host copies cannot fit (gemm 10^6 cubed: 12 TB) is a
 * quick `oom` row: the harness must not malloc/fill terabytes (ASan aborts, or the OOM killer). */
static void test_huge_shape_is_host_oom_not_malloc(void **state)
{
    struct sd_run_opts o;
    opts(&o);
    struct sd_workload wl;
    gemm_wl(&wl);
    wl.m = wl.n = wl.k = 1000000;
    struct sd_device_info dev;
    fake_info(NULL, &dev);
    snprintf(dev.backend, sizeof dev.backend, "fake");
    struct sd_result r;
    sd_run_row(&fake, (void *)1, &dev, &wl, "roomy", &o, &r);
    assert_int_equal(r.status, SD_OOM);
    assert_non_null(strstr(r.reason, "host memory"));
    assert_true(isnan(r.time_ms_median));
    /* the same check with a small shape and a host that has 100 bytes free (the fp32 copies need 764) */
    setenv("SDMARK_HOST_MEM_AVAILABLE", "100", 1);
    row("good", &r, NULL);
    unsetenv("SDMARK_HOST_MEM_AVAILABLE");
    assert_int_equal(r.status, SD_OOM);
    assert_non_null(strstr(r.reason, "needs 0.0 MiB, 0.0 MiB available"));
    row("good", &r, NULL);
    assert_int_equal(r.status, SD_OK);
}

/* A backend that switches to the host clock during the row's samples: the timer column says so. */
static void test_timer_is_the_one_samples_used(void **state)
{
    struct sd_result r;
    fake_timer_now = "fake_event";
    row("fallback", &r, NULL);
    assert_int_equal(r.status, SD_OK);
    assert_string_equal(r.timer, "host_monotonic");
    fake_timer_now = "fake_event";
}

/* Cold-cache rotation stays within the backend's own limit (max_alloc_bytes: the cpu backend's
 * SDMARK_CPU_MEM_LIMIT), not just the device memory: rotation must not make a fitting row oom. */
static void test_rotation_respects_backend_limit(void **state)
{
    struct sd_run_opts o;
    opts(&o);
    struct sd_workload wl;
    gemm_wl(&wl); /* inputs: (13*5 + 5*7) * 4 = 400 bytes per set */
    struct sd_device_info dev;
    fake_info(NULL, &dev);
    snprintf(dev.backend, sizeof dev.backend, "fake");
    struct sd_result r;
    sd_run_row(&fake, (void *)1, &dev, &wl, "good", &o, &r);
    assert_int_equal(fake_last_nsets, 16);
    dev.max_alloc_bytes = 8000; /* budget 1/8 = 1000 bytes: two sets */
    sd_run_row(&fake, (void *)1, &dev, &wl, "good", &o, &r);
    assert_int_equal(r.status, SD_OK);
    assert_int_equal(fake_last_nsets, 2);
}

/* A backend that flushes its caches (cuda): no rotation, a flush before every timed sample (and
 * only then), cache_mode "flush", and its plan note in the ok row's reason. */
static int flushes, timed_runs, unflushed_timed_runs;
static enum sd_status flushing_run(struct sd_plan *pl, int set, double *ms, char *r, size_t l)
{
    if (ms) {
        timed_runs++;
        unflushed_timed_runs += flushes == 0;
        flushes = 0;
    }
    return fake_run(pl, set, ms, r, l);
}
static enum sd_status count_flush(struct sd_plan *pl, char *r, size_t l)
{
    flushes++;
    return SD_OK;
}
static void note(struct sd_plan *pl, char *n, size_t l) { snprintf(n, l, "algo=fake workspace=64"); }

static void test_flush_instead_of_rotation(void **state)
{
    struct sd_backend_ops ops = fake;
    ops.run = flushing_run;
    ops.flush_cache = count_flush;
    ops.plan_note = note;
    struct sd_run_opts o;
    opts(&o);
    struct sd_workload wl;
    gemm_wl(&wl);
    struct sd_device_info dev;
    fake_info(NULL, &dev);
    struct sd_result r;
    sd_run_row(&ops, (void *)1, &dev, &wl, "good", &o, &r);
    assert_int_equal(r.status, SD_OK);
    assert_int_equal(fake_last_nsets, 1);
    assert_string_equal(r.cache_mode, "flush");
    assert_string_equal(r.reason, "algo=fake workspace=64");
    assert_int_equal(unflushed_timed_runs, 1); /* only the verification run is not flushed */
    assert_int_equal(timed_runs, r.samples + 1);
    o.hot = true; /* hot rows are never flushed */
    timed_runs = unflushed_timed_runs = 0;
    sd_run_row(&ops, (void *)1, &dev, &wl, "good", &o, &r);
    assert_string_equal(r.cache_mode, "hot");
    assert_int_equal(unflushed_timed_runs, timed_runs);
}

static void test_pct_of_spec_uses_card(void **state)
{
    struct sd_cards cards;
    char path[4096], err[512];
    snprintf(path, sizeof path, "%s/cards.csv", SDMARK_BENCH_DIR_FOR_TESTS);
    assert_int_equal(sd_cards_load(path, &cards, err, sizeof err), 0);
    const struct sd_card *c = sd_cards_find(&cards, "RTX 4090");
    assert_non_null(c);
    struct sd_result r;
    row("good", &r, c);
    assert_int_equal(r.status, SD_OK);
    double peak = sd_card_peak_tflops(c, SD_FP32, SD_FP32);
    assert_true(fabs(r.pct_of_spec - 100.0 * r.tflops / peak) < 1e-12);
    sd_cards_free(&cards);
}

static void test_slug_and_counts(void **state)
{
    struct sd_device_info dev;
    memset(&dev, 0, sizeof dev);
    snprintf(dev.backend, sizeof dev.backend, "opencl");
    snprintf(dev.name, sizeof dev.name, "pthread-skylake-avx512-Intel(R) Xeon(R) Processor");
    char slug[128];
    sd_device_slug(&dev, slug, sizeof slug);
    assert_string_equal(slug, "opencl-pthread-skylake-avx512-intel-r-xeon-r-processor");

    struct sd_suite s;
    char err[256];
    const char *text = "gemm a 1 m=2 n=2 k=2 dtype=fp32,fp16\nconv2d c 1 c_in=1 c_out=1 h=2 w=2 r=1 s=1\n";
    assert_int_equal(sd_suite_parse("t", "t.suite", text, strlen(text), &s, err, sizeof err), 0);
    struct sd_run_opts o;
    opts(&o);
    assert_int_equal(sd_count_rows(&fake, &s, &o), 18); /* 2 gemm items x 9 impls; no conv impls */
    o.impls = "good,oom";
    assert_int_equal(sd_count_rows(&fake, &s, &o), 4);
    o.dtype_mask = 1u << SD_FP16;
    assert_int_equal(sd_count_rows(&fake, &s, &o), 2);
    sd_suite_free(&s);
}

/* --impl: a word selects an impl by its whole name or by its library prefix before '_' (the
 * oneDNN rows are onednn, onednn_unfused and onednn_sliced); a plain name never selects a
 * library's variant of it, and a longer name sharing the prefix is not selected. */
static void test_impl_filter_library_prefix(void **state)
{
    assert_true(sd_impl_selected(NULL, "onednn_unfused"));
    assert_true(sd_impl_selected("", "openblas"));
    const char *cpu_impls[] = {"openblas", "im2col", "unfused", "sliced", "onednn", "onednn_unfused", "onednn_sliced"};
    const int want_onednn[] = {0, 0, 0, 0, 1, 1, 1};
    const int want_unfused[] = {0, 0, 1, 0, 0, 0, 0};
    const int want_exact[] = {0, 0, 0, 1, 0, 1, 0};
    for (int i = 0; i < 7; i++) {
        assert_int_equal(sd_impl_selected("onednn", cpu_impls[i]), want_onednn[i]);
        assert_int_equal(sd_impl_selected("unfused", cpu_impls[i]), want_unfused[i]);
        assert_int_equal(sd_impl_selected("sliced,onednn_unfused", cpu_impls[i]), want_exact[i]);
    }
    assert_false(sd_impl_selected("onedn", "onednn"));      /* a prefix of the name is not a word */
    assert_false(sd_impl_selected("onednn", "onednnx"));    /* the library word ends at '_' */
    assert_false(sd_impl_selected("onednn_", "onednn"));
    assert_false(sd_impl_selected(",", "onednn"));          /* empty words select nothing */
    assert_true(sd_impl_selected("own,onednn", "onednn_sliced"));
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* A published time is "honest" within 3x of what the impl's runs really took: of the median of
 * single runs, or (a coarse clock groups runs per sample, so a sample is a mean) of their mean. A
 * loaded host stretches some runs, so the two can differ a lot. */
static int within_3x_of(int mode, double ms)
{
    int n = fake_true_n[mode];
    double mean = 0;
    for (int i = 0; i < n; i++)
        mean += fake_true[mode][i] / n;
    qsort(fake_true[mode], (size_t)n, sizeof(double), cmp_double);
    double median = n ? fake_true[mode][n / 2] : NAN;
    int ok = ms >= median / 3 && ms <= (mean > median ? mean : median) * 3;
    if (!ok)
        print_message("published %.4g ms, honest median %.4g ms, mean %.4g ms\n", ms, median, mean);
    return ok;
}
#define within_3x(ms) within_3x_of(last_mode, ms)

static void test_zero_timer_is_retimed_with_host_clock(void **state)
{
    struct sd_result r;
    row("zero", &r, NULL);
    assert_int_equal(r.status, SD_OK);
    assert_string_equal(r.timer, "host_monotonic");
    assert_non_null(strstr(r.reason, "re-timed with the host clock"));
    assert_true(within_3x(r.time_ms_median));
}

static void test_scaled_timer_is_retimed_with_host_clock(void **state)
{
    struct sd_result r;
    row("scaled", &r, NULL);
    assert_int_equal(r.status, SD_OK);
    assert_string_equal(r.timer, "host_monotonic");
    assert_non_null(strstr(r.reason, "longer than the wall time"));
    assert_true(within_3x(r.time_ms_median));
}

/* A 4 ms clock on 0.5 ms runs: calls are grouped per sample (or the host clock takes over). */
static void test_coarse_timer_groups_calls(void **state)
{
    struct sd_result r;
    row("coarse", &r, NULL);
    assert_int_equal(r.status, SD_OK);
    assert_true(strstr(r.reason, "runs per sample") || !strcmp(r.timer, "host_monotonic"));
    assert_true(within_3x(r.time_ms_median));
}

/* 910 FLOP in 1 ns is 0.91 TFLOP/s on a device bounded at 0.512: an error naming the bound. */
static void test_too_fast_is_an_error_naming_the_bound(void **state)
{
    struct sd_result r;
    row("toofast", &r, NULL);
    assert_int_equal(r.status, SD_ERROR);
    assert_non_null(strstr(r.reason, "implausible: "));
    assert_non_null(strstr(r.reason, "> bound 0.512 TFLOP/s (1 CUs x 1000 MHz x 128 lanes x 2"));
    assert_true(isnan(r.time_ms_median) && isnan(r.tflops));
    /* a spec sheet is the bound where there is one: a card at 1e-9 TFLOP/s makes even `good` too fast */
    struct sd_card tiny;
    memset(&tiny, 0, sizeof tiny);
    snprintf(tiny.name, sizeof tiny.name, "Tiny");
    tiny.fp32 = tiny.tf32 = tiny.fp16 = tiny.fp16_f32acc = tiny.bf16 = 1e-9;
    tiny.bw_gbs = NAN;
    row("good", &r, &tiny);
    assert_int_equal(r.status, SD_ERROR);
    assert_non_null(strstr(r.reason, "(Tiny spec fp32 peak)"));
}

/* A CPU device is bounded by its SIMD peak from cpu_features, with the 2x margin named. */
static void test_cpu_device_bound_from_flags(void **state)
{
    struct sd_device_info dev;
    fake_info(NULL, &dev);
    dev.kind = SD_DEVICE_CPU;
    struct sd_workload wl;
    gemm_wl(&wl);
    struct sd_bound b;
    sd_bound_for(&dev, &wl, NULL, false, &b);
    assert_true(b.tflops > 0 && isfinite(b.tflops));
    assert_non_null(strstr(b.tflops_basis, "cpu fp32 peak"));
    assert_non_null(strstr(b.tflops_basis, "x2 margin"));
    char why[256];
    assert_int_equal(sd_bound_exceeded(&b, b.tflops * 1.01, NAN, why, sizeof why), 1);
    assert_int_equal(sd_bound_exceeded(&b, b.tflops * 0.99, NAN, why, sizeof why), 0);
    /* a GPU without CU count or clock has no derived bound; bandwidth only from a spec, cold only */
    dev.kind = SD_DEVICE_GPU;
    dev.clock_mhz = 0;
    sd_bound_for(&dev, &wl, NULL, false, &b);
    assert_true(isinf(b.tflops) && isinf(b.gbs));
    struct sd_spec spec = {NAN, 1000, "Card"};
    sd_bound_for(&dev, &wl, &spec, false, &b);
    assert_true(b.gbs == 2000 && strstr(b.gbs_basis, "Card spec 1000 GB/s x2 margin"));
    sd_bound_for(&dev, &wl, &spec, true, &b);
    assert_true(isinf(b.gbs));
}

static void test_cross_check_thresholds(void **state)
{
    char why[256];
    assert_int_equal(sd_timer_disagrees(10, 10.2, 5, why, sizeof why), 0);   /* honest */
    assert_int_equal(sd_timer_disagrees(0.05, 2, 5, why, sizeof why), 0);    /* short calls: overhead */
    assert_int_equal(sd_timer_disagrees(12, 10, 5, why, sizeof why), 1);     /* longer than wall */
    assert_non_null(strstr(why, "12 ms vs 10 ms host wall over 5 runs"));
    assert_int_equal(sd_timer_disagrees(3, 10, 5, why, sizeof why), SD_XCHECK_SHORT); /* 2 ms calls, 0.6 */
    assert_int_equal(sd_timer_disagrees(0, 10, 5, why, sizeof why), 1);
    assert_int_equal(sd_timer_disagrees(NAN, 10, 5, why, sizeof why), 1);
}

/* The same lies through SDMARK_FAULT=timer=... on the honest impl (what the end-to-end binary uses). */
static void test_fault_injected_timer_lies(void **state)
{
    const char *lies[] = {"timer=zero", "timer=scaled", "timer=coarse"};
    for (int i = 0; i < 3; i++) {
        setenv("SDMARK_FAULT", lies[i], 1);
        sd_fault_reset();
        struct sd_result r;
        row("good", &r, NULL);
        assert_int_equal(r.status, SD_OK);
        assert_true(within_3x(r.time_ms_median));
        assert_true(r.reason[0] != 0); /* the row says what happened to its timer */
    }
    unsetenv("SDMARK_FAULT");
    sd_fault_reset();
}

/* Every impl of the fake through sd_run_suite into a CSV, read back: no `ok` row is implausible or
 * more than 3x from the honest time. */
static void test_no_lie_reaches_a_file_as_ok(void **state)
{
    char dir[] = "/tmp/sdmark-test-run-XXXXXX";
    assert_non_null(mkdtemp(dir));
    struct sd_suite s;
    char err[256], path[512];
    const char *text = "gemm g 1 m=13 n=7 k=5 dtype=fp32\n";
    assert_int_equal(sd_suite_parse("t", "t.suite", text, strlen(text), &s, err, sizeof err), 0);
    struct sd_run_opts o;
    opts(&o);
    o.out_dir = dir;
    o.csv = 1;
    struct sd_device_info dev;
    fake_info(NULL, &dev);
    snprintf(dev.backend, sizeof dev.backend, "fake");
    struct sd_result *rows = NULL, *back = NULL;
    size_t n = 0, nb = 0;
    int idx = 0;
    assert_int_equal(sd_run_suite(&fake, (void *)1, &dev, &s, &o, &idx, 9, sd_now_s(), &rows, &n), 0);
    snprintf(path, sizeof path, "%s/fake-fake-gpu-rtx-4090-t.csv", dir);
    assert_int_equal(sd_results_read(path, &back, &nb, err, sizeof err), 0);
    assert_int_equal(nb, 9);
    int ok = 0;
    for (size_t i = 0; i < nb; i++) {
        assert_string_equal(back[i].device_kind, "gpu");
        if (back[i].status != SD_OK)
            continue;
        ok++;
        int mode = 0;
        for (int m = 0; gemm_impls[m]; m++)
            if (!strcmp(gemm_impls[m], back[i].impl))
                mode = m; /* gemm_impls and the modes of fake_prepare share their order */
        assert_true(within_3x_of(mode, back[i].time_ms_median));
        assert_true(back[i].tflops <= 0.512);
    }
    assert_int_equal(ok, 4); /* good, zero, coarse, scaled: the last three re-timed */
    free(rows);
    free(back);
    sd_suite_free(&s);
    remove(path);
    rmdir(dir);
}

/* Warm-up: the check run counts toward warmup_ms. A check run shorter than warmup_ms is followed by
 * at least one more run before sampling; one as long as warmup_ms is the whole warm-up (no extra
 * run: on a CPU the multi-second SD rows would pay one more run each for nothing). */
static int count_runs;
static enum sd_status counting_run(struct sd_plan *p, int set, double *ms, char *r, size_t l)
{
    count_runs++;
    if (ms)
        *ms = 0.001;
    return SD_OK;
}

static void test_check_run_counts_as_warmup(void **state)
{
    const struct sd_backend_ops be = {.name = "counting", .run = counting_run};
    struct sd_sample_opts so = {.nsets = 1};
    sd_measure_defaults(&so.m);
    so.m.warmup_ms = 50, so.m.min_time_s = 0, so.m.min_samples = so.m.max_samples = 3;
    struct sd_samples sm;
    char reason[SD_REASON_LEN];

    so.first_wall_ms = 80; /* the check run already lasted longer than warmup_ms */
    count_runs = 0;
    assert_int_equal(sd_row_sample(&be, NULL, NULL, &so, &sm, reason, sizeof reason), SD_OK);
    assert_int_equal(count_runs, 3);
    assert_true(sm.warmup_ms >= 80);

    so.first_wall_ms = 0.01; /* a short check run: at least one more run, until 50 ms in all */
    count_runs = 0;
    assert_int_equal(sd_row_sample(&be, NULL, NULL, &so, &sm, reason, sizeof reason), SD_OK);
    assert_true(count_runs >= 4);
    assert_true(sm.warmup_ms >= 50);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_row_is_timed),
        cmocka_unit_test(test_lazy_impl_is_wrong_not_fast),
        cmocka_unit_test(test_impl_filter_library_prefix),
        cmocka_unit_test(test_wrong_answer_is_wrong),
        cmocka_unit_test(test_prepare_failures_are_rows),
        cmocka_unit_test(test_huge_shape_is_host_oom_not_malloc),
        cmocka_unit_test(test_timer_is_the_one_samples_used),
        cmocka_unit_test(test_rotation_respects_backend_limit),
        cmocka_unit_test(test_flush_instead_of_rotation),
        cmocka_unit_test(test_pct_of_spec_uses_card),
        cmocka_unit_test(test_slug_and_counts),
        cmocka_unit_test(test_zero_timer_is_retimed_with_host_clock),
        cmocka_unit_test(test_scaled_timer_is_retimed_with_host_clock),
        cmocka_unit_test(test_coarse_timer_groups_calls),
        cmocka_unit_test(test_too_fast_is_an_error_naming_the_bound),
        cmocka_unit_test(test_cpu_device_bound_from_flags),
        cmocka_unit_test(test_cross_check_thresholds),
        cmocka_unit_test(test_fault_injected_timer_lies),
        cmocka_unit_test(test_no_lie_reaches_a_file_as_ok),
        cmocka_unit_test(test_check_run_counts_as_warmup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
