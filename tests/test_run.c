/* test_run.c — the harness (src/core/run.c) against a fake in-memory backend: a correct impl gets a
 * verified time; an impl that writes nothing (poisoned output) or a wrong answer is `wrong` with no
 * time; prepare failures become oom/error rows; pct_of_spec follows the card; slugs; row counts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "run.h"
#include "sdmark/analysis.h"

static const char *fake_timer_now = "fake_event";
static int fake_last_nsets;

struct fake_plan {
    struct sd_workload wl;
    int mode; /* 0 good, 1 lazy (writes nothing), 2 wrong (off by 1 %) */
    int nsets;
    float *in[16][2];
    float *out;
};

static int fake_probe(struct sd_device_info *out, int max)
{
    if (max > 0) {
        memset(out, 0, sizeof *out);
        snprintf(out->name, sizeof out->name, "Fake GPU (RTX 4090)");
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

static const char *const gemm_impls[] = {"good", "lazy", "wrong", "oom", "broken", NULL};

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
    p->mode = !strcmp(impl, "lazy") ? 1 : !strcmp(impl, "wrong") ? 2 : !strcmp(impl, "fallback") ? 4 : 0;
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
    if (ms)
        *ms = 0.5; /* a fixed "device" time: the statistics are known exactly */
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

static void row(const char *impl, struct sd_result *r, const struct sd_card *card)
{
    struct sd_run_opts o;
    opts(&o);
    o.card = card;
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
    assert_true(r.time_ms_median == 0.5 && r.time_ms_min == 0.5 && r.rel_noise == 0);
    assert_true(r.samples >= 5);
    assert_string_equal(r.timer, "fake_event");
    assert_true(fabs(r.tflops - 2.0 * 13 * 7 * 5 / 0.5e-3 / 1e12) < 1e-15);
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
    assert_int_equal(sd_count_rows(&fake, &s, &o), 10); /* 2 gemm items x 5 impls; no conv impls */
    o.impls = "good,oom";
    assert_int_equal(sd_count_rows(&fake, &s, &o), 4);
    o.dtype_mask = 1u << SD_FP16;
    assert_int_equal(sd_count_rows(&fake, &s, &o), 2);
    sd_suite_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_row_is_timed),
        cmocka_unit_test(test_lazy_impl_is_wrong_not_fast),
        cmocka_unit_test(test_wrong_answer_is_wrong),
        cmocka_unit_test(test_prepare_failures_are_rows),
        cmocka_unit_test(test_huge_shape_is_host_oom_not_malloc),
        cmocka_unit_test(test_timer_is_the_one_samples_used),
        cmocka_unit_test(test_rotation_respects_backend_limit),
        cmocka_unit_test(test_flush_instead_of_rotation),
        cmocka_unit_test(test_pct_of_spec_uses_card),
        cmocka_unit_test(test_slug_and_counts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
