/* test_estimate.c — the estimator: sums against a hand-computed mini suite, missing rows named,
 * impl choice, the pipeline terms (measured bandwidth / floor x modelled traffic), the VAE and
 * image time, projection arithmetic onto another card, quick-suite rows, and the CLI (--format
 * json keys, --card errors). */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cJSON.h>

#include "sdmark/analysis.h"

#define DATA SDMARK_TEST_DATA "/analysis"

static void close_to(double got, double want, double rel)
{
    if (!(fabs(got - want) <= rel * fabs(want))) {
        fprintf(stderr, "got %.9g want %.9g\n", got, want);
        fail();
    }
}

static struct sd_cards cards;

static int setup(void **state)
{
    (void)state;
    char err[512];
    setenv("SDMARK_BENCH_DIR", DATA "/bench", 1); /* mini sd15 + vae suites; cards fall back */
    return sd_cards_load(SDMARK_BENCH_DIR_FOR_TESTS "/cards.csv", &cards, err, sizeof err);
}

static int teardown(void **state)
{
    (void)state;
    sd_cards_free(&cards);
    return 0;
}

static void load(struct sd_rset *s, const char *path)
{
    char err[512];
    memset(s, 0, sizeof *s);
    if (sd_rset_add(s, path, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        fail();
    }
    sd_rset_index(s, &cards);
}

static void open_suite(const char *name, const char *dir, struct sd_suite *su)
{
    char err[512], path[1024];
    snprintf(path, sizeof path, "%s/%s.suite", dir, name);
    if (sd_suite_load(path, su, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        fail();
    }
}

static void test_hand_computed(void **state)
{
    (void)state;
    struct sd_rset s;
    struct sd_suite su, vae;
    load(&s, DATA "/mini.csv");
    open_suite("sd15", DATA "/bench", &su);
    open_suite("vae", DATA "/bench", &vae);
    assert_int_equal(s.ndev, 1);
    assert_non_null(s.dev[0].card);
    assert_string_equal(s.dev[0].card->name, "RTX 4090");
    struct sd_est_opts o;
    sd_est_opts_default(&o);
    struct sd_estimate *e = calloc(1, sizeof *e);
    char err[512];
    assert_int_equal(sd_estimate_device(&s, 0, &su, &vae, &o, e, err, sizeof err), 0);
    /* fastest impl: gemm cublas 0.10 ms x 30, conv 0.50 ms x 7; attention oom -> missing */
    close_to(e->kernel_ms_measured, 30 * 0.10 + 7 * 0.50, 1e-12);
    double fg = sd_workload_flops(&su.items[0]) * 30, fc = sd_workload_flops(&su.items[1]) * 7,
           fa = sd_workload_flops(&su.items[2]) * 5;
    close_to(e->coverage, (fg + fc) / (fg + fc + fa), 1e-12);
    assert_true(e->kernel_extrapolated);
    close_to(e->kernel_ms, 6.5 / e->coverage, 1e-12);
    assert_int_equal(e->nmissing, 1);
    assert_string_equal(e->missing[0].label, "self.64");
    assert_non_null(strstr(e->missing[0].why, "oom"));
    close_to(e->missing[0].flops_share, fa / (fg + fc + fa), 1e-12);
    assert_string_equal(e->dtype, "fp16");
    /* pipeline: bw.stream row at 900 GB/s, launch.empty 4 us, traffic from the model's shapes */
    close_to(e->bw_gbs, 900, 1e-6);
    close_to(e->launch_us, 4, 1e-9);
    double small = sd_model_small_ms(SD_MODEL_SD15, 512, 1, 2, SD_ATTN_UNFUSED, 900, 4);
    close_to(e->small_ms, small, 1e-6); /* the bandwidth went through the CSV's decimal digits */
    close_to(e->step_ms, e->kernel_ms + small, 1e-6);
    close_to(e->it_per_s, 1000 / e->step_ms, 1e-12);
    /* VAE: 5 x 2.0 ms; image = 20 steps + VAE */
    close_to(e->vae_ms, 10.0, 1e-12);
    close_to(e->image_s, 20 * e->step_ms / 1000 + 0.010, 1e-12);
    /* --impl own: 30 x 0.20 + 7 x 0.50 */
    o.impl = "own";
    assert_int_equal(sd_estimate_device(&s, 0, &su, &vae, &o, e, err, sizeof err), 0);
    close_to(e->kernel_ms_measured, 30 * 0.20 + 7 * 0.50, 1e-12);
    /* --impl cublas: the conv has no cublas row -> named missing */
    o.impl = "cublas";
    assert_int_equal(sd_estimate_device(&s, 0, &su, &vae, &o, e, err, sizeof err), 0);
    close_to(e->kernel_ms_measured, 3.0, 1e-12);
    assert_int_equal(e->nmissing, 2);
    /* a dtype the suite does not list is an error naming the suite */
    sd_est_opts_default(&o);
    o.dtype = SD_BF16;
    assert_int_equal(sd_estimate_device(&s, 0, &su, &vae, &o, e, err, sizeof err), -1);
    assert_non_null(strstr(err, "bf16"));
    free(e);
    sd_suite_free(&su);
    sd_suite_free(&vae);
    sd_rset_free(&s);
}

static void test_projection_arithmetic(void **state)
{
    (void)state;
    struct sd_rset s;
    struct sd_suite su, vae;
    load(&s, DATA "/mini.csv");
    open_suite("sd15", DATA "/bench", &su);
    open_suite("vae", DATA "/bench", &vae);
    const struct sd_card *src = sd_cards_find(&cards, "RTX 4090"), *dst = sd_cards_find(&cards, "RTX 3090");
    struct sd_est_opts o;
    sd_est_opts_default(&o);
    struct sd_estimate *e = calloc(1, sizeof *e);
    char err[512];
    assert_int_equal(sd_closest_device(&s, dst), 0);
    assert_int_equal(sd_estimate_project(&s, dst, &su, &vae, &o, e, err, sizeof err), 0);
    assert_true(e->projected);
    assert_string_equal(e->card, "RTX 3090");
    /* Each row: compute-bound (intensity above the 4090's fp16 ridge 165.2e12 / 1008e9) scales by
     * 165.2 / 71, memory-bound by 1008 / 936. attn_proj (8192x320x320) has intensity 157 (< 164:
     * memory-bound); the 3x3 conv 1225 (compute-bound). */
    double ridge = src->fp16_f32acc * 1e12 / (src->bw_gbs * 1e9);
    double want = 0;
    double t[2] = {0.10, 0.50};
    for (int i = 0; i < 2; i++) {
        double ai = sd_workload_flops(&su.items[i]) / sd_workload_bytes_min(&su.items[i]);
        double f = ai < ridge ? src->bw_gbs / dst->bw_gbs : src->fp16_f32acc / dst->fp16_f32acc;
        want += su.items[i].count * t[i] * f;
    }
    close_to(want, 30 * 0.10 * 1008 / 936.0 + 7 * 0.50 * 165.2 / 71, 1e-12);
    close_to(e->kernel_ms_measured, want, 1e-12);
    close_to(e->bw_gbs, 900 * 936 / 1008.0, 1e-6);
    close_to(e->launch_us, 4, 1e-12);
    /* no other vendor's efficiency is borrowed */
    assert_int_equal(sd_estimate_project(&s, sd_cards_find(&cards, "RX 7900 XTX"), &su, &vae, &o, e, err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "amd"));
    free(e);
    sd_suite_free(&su);
    sd_suite_free(&vae);
    sd_rset_free(&s);
}

static void test_quick_rows_and_spec_bound(void **state)
{
    (void)state;
    struct sd_rset s;
    struct sd_suite su;
    load(&s, DATA "/fleet/pocl.csv");
    open_suite("sd15", SDMARK_BENCH_DIR_FOR_TESTS, &su);
    struct sd_est_opts o;
    sd_est_opts_default(&o);
    struct sd_estimate *e = calloc(1, sizeof *e);
    char err[512];
    assert_int_equal(sd_estimate_device(&s, 0, &su, NULL, &o, e, err, sizeof err), 0);
    assert_true(e->nquick_used > 0);      /* sd15.* rows of the quick suite, same shapes */
    assert_true(e->coverage > 0 && e->coverage < 1);
    assert_true(e->nmissing > 0);
    assert_true(isnan(e->bw_gbs));        /* no bw.* row: small kernels not included, said so */
    assert_non_null(strstr(e->bw_source, "NOT included"));
    assert_true(isnan(e->vae_ms));
    /* spec bound: sum of max(flops/peak, bytes/bw) */
    const struct sd_card *c = sd_cards_find(&cards, "RTX 4090");
    double b = sd_spec_bound_ms(&su, c, SD_FP16, SD_FP32);
    assert_true(b > 1606e9 / 165.2e12 * 1e3 * 0.999);
    free(e);
    sd_suite_free(&su);
    sd_rset_free(&s);
}

static char *run(const char *args, int *rc)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "SDMARK_BENCH_DIR=%s/bench '%s' %s 2>&1", DATA, SDMARK_BINARY, args);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t cap = 1 << 20, n = 0;
    char *out = calloc(cap, 1);
    size_t got;
    while ((got = fread(out + n, 1, cap - 1 - n, p)) > 0)
        n += got;
    int st = pclose(p);
    *rc = WEXITSTATUS(st);
    return out;
}

static void test_cli(void **state)
{
    (void)state;
    int rc;
    char *out = run("estimate --suite sd15 --results " DATA "/mini.csv --format json", &rc);
    assert_int_equal(rc, 0);
    cJSON *j = cJSON_Parse(out);
    assert_non_null(j);
    const char *keys[] = {"model", "card", "step_ms", "it_per_s", "image_s", "coverage", "projected"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        assert_non_null(cJSON_GetObjectItem(j, keys[i]));
    assert_string_equal(cJSON_GetObjectItem(j, "model")->valuestring, "sd15");
    assert_string_equal(cJSON_GetObjectItem(j, "card")->valuestring, "RTX 4090");
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(j, "projected")));
    cJSON_Delete(j);
    free(out);
    out = run("estimate --suite sd15 --results " DATA "/mini.csv --card 'rtx 4070 TI' --format json", &rc);
    assert_int_equal(rc, 0);
    j = cJSON_Parse(out);
    assert_non_null(j);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "projected")));
    assert_string_equal(cJSON_GetObjectItem(j, "card")->valuestring, "RTX 4070 Ti");
    cJSON_Delete(j);
    free(out);
    out = run("estimate --suite sd15 --results " DATA "/mini.csv", &rc);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "self.64"));          /* missing rows are named */
    assert_non_null(strstr(out, "kernel-bound ceiling"));
    assert_non_null(strstr(out, "expected pipeline"));
    free(out);
    out = run("estimate --suite sd15 --results " DATA "/mini.csv --card 'RTX 9999'", &rc);
    assert_int_equal(rc, 2);
    assert_non_null(strstr(out, "RTX 9999"));
    free(out);
    out = run("estimate --suite sd15 --results /nonexistent.csv", &rc);
    assert_int_equal(rc, 1);
    assert_non_null(strstr(out, "/nonexistent.csv"));
    free(out);
    out = run("estimate --help", &rc);
    assert_int_equal(rc, 0);
    free(out);
}

/* Labels: a projection is tagged with its source, never [measured]; --card takes a `match` string. */
static void test_cli_labels(void **state)
{
    (void)state;
    int rc;
    char *out = run("estimate --suite sd15 --results " DATA "/mini.csv --card 'rtx 3060'", &rc);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "RTX 3060 12GB (projected)"));
    assert_non_null(strstr(out, "[projected from cuda:"));
    assert_null(strstr(out, "[measured]"));
    assert_null(strstr(out, "n/a = n/a"));
    free(out);
    out = run("estimate --suite sd15 --results " DATA "/mini.csv --card 'rtx 4060 ti'", &rc);
    assert_int_equal(rc, 2); /* two cards list that string: both named */
    assert_non_null(strstr(out, "'RTX 4060 Ti 8GB', 'RTX 4060 Ti 16GB'"));
    free(out);
    out = run("estimate --suite sd15 --results " DATA "/mini.csv --vae-suite none", &rc);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "VAE decode NOT included"));
    assert_null(strstr(out, "+ VAE decode"));
    free(out);
}

/* A CPU after `make bench` (tests/data/analysis/cpu-dtypes, README there): fp32 on every workload,
 * bf16 on two of three. The estimate keeps the better-covered fp32 and names bf16 beside it with its
 * coverage and like-with-like speed; once bf16 covers as much, the faster bf16 is the estimate. */
static void test_cpu_dtype_choice(void **state)
{
    (void)state;
    struct sd_rset s;
    struct sd_suite su;
    load(&s, DATA "/cpu-dtypes/cpu-quick.csv");
    open_suite("sd15", DATA "/cpu-dtypes/bench", &su);
    struct sd_est_opts o;
    sd_est_opts_default(&o);
    struct sd_estimate *e = calloc(1, sizeof *e);
    char err[512];
    assert_int_equal(sd_estimate_device(&s, 0, &su, NULL, &o, e, err, sizeof err), 0);
    double fg = sd_workload_flops(&su.items[0]) * 30, fc = sd_workload_flops(&su.items[2]) * 7,
           fa = sd_workload_flops(&su.items[4]) * 5, bcov = (fg + fc) / (fg + fc + fa);
    assert_string_equal(e->dtype, "fp32");
    close_to(e->coverage, 1, 1e-12);
    close_to(e->kernel_ms, 30 * 8 + 7 * 80 + 5 * 500, 1e-12); /* onednn beats openblas/im2col/unfused */
    assert_int_equal(e->nother, 1);
    assert_string_equal(e->other[0].dtype, "bf16");
    close_to(e->other[0].coverage, bcov, 1e-12);
    close_to(e->other[0].kernel_ms, (30 * 4 + 7 * 40) / bcov, 1e-12);
    close_to(e->other[0].common_coverage, bcov, 1e-12);
    close_to(e->other[0].speedup, (30 * 8 + 7 * 80) / (30 * 4 + 7 * 40.0), 1e-12);
    /* --impl onednn: every oneDNN row (onednn_unfused included), like `sdmark run --impl onednn` */
    o.impl = "onednn";
    assert_int_equal(sd_estimate_device(&s, 0, &su, NULL, &o, e, err, sizeof err), 0);
    close_to(e->coverage, 1, 1e-12);
    close_to(e->kernel_ms, 30 * 8 + 7 * 80 + 5 * 500, 1e-12);
    o.impl = "unfused"; /* the OpenBLAS impl only, never onednn_unfused */
    assert_int_equal(sd_estimate_device(&s, 0, &su, NULL, &o, e, err, sizeof err), 0);
    close_to(e->kernel_ms_measured, 5 * 700, 1e-12);
    o.impl = NULL;
    /* the full bf16 run's attention row: equal coverage, bf16 faster -> bf16 */
    char e2[256];
    assert_int_equal(sd_rset_add(&s, DATA "/cpu-dtypes/bf16-attention.csv", e2, sizeof e2), 0);
    sd_rset_index(&s, &cards);
    assert_int_equal(s.ndev, 1);
    assert_int_equal(sd_estimate_device(&s, 0, &su, NULL, &o, e, err, sizeof err), 0);
    assert_string_equal(e->dtype, "bf16");
    close_to(e->kernel_ms, 30 * 4 + 7 * 40 + 5 * 250, 1e-12);
    assert_int_equal(e->nother, 1);
    close_to(e->other[0].speedup, 0.5, 1e-12);
    free(e);
    sd_suite_free(&su);
    sd_rset_free(&s);
    /* the CLI says both: the dtype used with its coverage, and the faster one beside it */
    int rc;
    char *out = run("estimate --suite " DATA "/cpu-dtypes/bench/sd15.suite " DATA "/cpu-dtypes/cpu-quick.csv", &rc);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "suite sd15, fp32 (acc fp32)"));
    assert_non_null(strstr(out, "coverage: 100.0 %"));
    assert_non_null(strstr(out, "also measured        : bf16 on 42.1 % of FLOPs"));
    assert_non_null(strstr(out, "2.00x the fp32 speed on the 42.1 % both cover (--dtype bf16)"));
    free(out);
    out = run("estimate --suite " DATA "/cpu-dtypes/bench/sd15.suite " DATA "/cpu-dtypes/cpu-quick.csv --dtype bf16 "
              "--format json", &rc);
    assert_int_equal(rc, 0);
    cJSON *j = cJSON_Parse(out);
    assert_non_null(j);
    assert_string_equal(cJSON_GetObjectItem(j, "dtype")->valuestring, "bf16");
    cJSON *od = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "other_dtypes"), 0);
    assert_string_equal(cJSON_GetObjectItem(od, "dtype")->valuestring, "fp32");
    close_to(cJSON_GetObjectItem(od, "speedup_vs_dtype")->valuedouble, 0.5, 1e-9);
    cJSON_Delete(j);
    free(out);
}

/* Fleets: the same card on two hosts is two devices, each estimated on its own rows. */
static void test_hosts_kept_apart(void **state)
{
    (void)state;
    char other[] = "/tmp/sdmark-host-XXXXXX.csv", cmd[1024];
    int fd = mkstemps(other, 4);
    assert_true(fd >= 0);
    close(fd);
    /* node-b: the same 4090 rows from another host: a second device, not merged into the first */
    snprintf(cmd, sizeof cmd, "sed 's/,fixture-host,/,node-b,/' '%s/mini.csv' > '%s'", DATA, other);
    assert_int_equal(system(cmd), 0);
    struct sd_rset s;
    load(&s, DATA "/mini.csv");
    char err[256];
    assert_int_equal(sd_rset_add(&s, other, err, sizeof err), 0);
    sd_rset_index(&s, &cards);
    assert_int_equal(s.ndev, 2);
    char a[256], b[256];
    sd_device_display(&s.dev[0], a, sizeof a);
    sd_device_display(&s.dev[1], b, sizeof b);
    assert_non_null(strstr(a, "@fixture-host"));
    assert_non_null(strstr(b, "@node-b"));
    sd_rset_free(&s);
    int rc;
    snprintf(cmd, sizeof cmd, "estimate --suite sd15 %s/mini.csv %s --format json", DATA, other);
    char *out = run(cmd, &rc);
    assert_int_equal(rc, 0);
    cJSON *j = cJSON_Parse(out);
    assert_true(cJSON_IsArray(j));
    assert_int_equal(cJSON_GetArraySize(j), 2);
    cJSON_Delete(j);
    free(out);
    unlink(other);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hand_computed),
        cmocka_unit_test(test_projection_arithmetic),
        cmocka_unit_test(test_quick_rows_and_spec_bound),
        cmocka_unit_test(test_cli),
        cmocka_unit_test(test_cli_labels),
        cmocka_unit_test(test_hosts_kept_apart),
        cmocka_unit_test(test_cpu_dtype_choice),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
