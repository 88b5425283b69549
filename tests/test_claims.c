/* test_claims.c — claims C1–C9 on a fixture directory of result files (tests/data/analysis/fleet:
 * an RTX 4090, the cpu backend and PoCL), on CPU-only results, and on no results at all. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cJSON.h>

#include "sdmark/analysis.h"

#define DATA SDMARK_TEST_DATA "/analysis"

static struct sd_cards cards;

static int setup(void **state)
{
    (void)state;
    char err[512];
    unsetenv("SDMARK_BENCH_DIR");
    return sd_cards_load(SDMARK_BENCH_DIR_FOR_TESTS "/cards.csv", &cards, err, sizeof err);
}

static int teardown(void **state)
{
    (void)state;
    sd_cards_free(&cards);
    return 0;
}

static void eval(const char *const *paths, struct sd_claim_result *c)
{
    struct sd_rset s = {0};
    char err[512];
    for (int i = 0; paths[i]; i++)
        assert_int_equal(sd_rset_add(&s, paths[i], err, sizeof err), 0);
    sd_rset_index(&s, &cards);
    assert_int_equal(sd_claims_eval(&s, &cards, c, err, sizeof err), 0);
    sd_rset_free(&s);
    for (int i = 0; i < SD_NCLAIMS; i++) {
        char id[4];
        snprintf(id, sizeof id, "C%d", i + 1);
        assert_string_equal(c[i].id, id);
        assert_true(c[i].verdict <= SD_V_NO_DATA);
        assert_non_null(c[i].evidence);
        assert_true(strlen(c[i].evidence) > 0);
    }
}

static void test_fleet(void **state)
{
    (void)state;
    const char *p[] = {DATA "/fleet", NULL};
    struct sd_claim_result c[SD_NCLAIMS];
    eval(p, c);
    /* C1: the 4090 measures ~940x the 2-core CPU */
    assert_int_equal(c[0].verdict, SD_V_SUPPORTED);
    assert_non_null(strstr(c[0].evidence, "measured on cpu:"));
    assert_non_null(strstr(c[0].evidence, "measured on cuda:"));
    /* C2: model + 100 % agreeing memory checks */
    assert_int_equal(c[1].verdict, SD_V_SUPPORTED);
    assert_non_null(strstr(c[1].evidence, "agree within 10 %"));
    /* C3: fp16 TC 2x fp32 on an Ada card */
    assert_int_equal(c[2].verdict, SD_V_SUPPORTED);
    assert_non_null(strstr(c[2].evidence, "2.00x"));
    /* C4: projected entry cards included, marked projected */
    assert_non_null(strstr(c[3].evidence, "projected from spec"));
    /* C5: SD 1.5 inference fits 4 GB (refutes "12 GB to start"), LoRA+full SD 1.5 fit 16 GB */
    assert_int_equal(c[4].verdict, SD_V_PARTLY);
    /* C8: no card measured with both CUDA and OpenCL */
    assert_int_equal(c[7].verdict, SD_V_NO_DATA);
    assert_non_null(strstr(c[7].evidence, "DirectML"));
    sd_claims_free(c);
}

static void test_cpu_only(void **state)
{
    (void)state;
    const char *p[] = {DATA "/fleet/cpu.csv", DATA "/fleet/pocl.csv", NULL};
    struct sd_claim_result c[SD_NCLAIMS];
    eval(p, c);
    /* the CPU side of C1 is measured, the GPU side is not: no data, the spec bound shown as context */
    assert_int_equal(c[0].verdict, SD_V_NO_DATA);
    assert_non_null(strstr(c[0].evidence, "measured on cpu:"));
    assert_non_null(strstr(c[0].evidence, "spec bound"));
    assert_int_equal(c[1].verdict, SD_V_SUPPORTED); /* memory model */
    assert_int_equal(c[2].verdict, SD_V_NO_DATA);
    assert_int_equal(c[3].verdict, SD_V_NO_DATA);
    assert_int_equal(c[4].verdict, SD_V_PARTLY);
    assert_int_equal(c[5].verdict, SD_V_NO_DATA);
    assert_int_equal(c[6].verdict, SD_V_NO_DATA);
    assert_int_equal(c[8].verdict, SD_V_PARTLY);  /* memory half only */
    sd_claims_free(c);
}

static void test_no_results(void **state)
{
    (void)state;
    const char *p[] = {NULL};
    struct sd_claim_result c[SD_NCLAIMS];
    eval(p, c);
    assert_int_equal(c[0].verdict, SD_V_NO_DATA);
    assert_int_equal(c[4].verdict, SD_V_PARTLY);
    assert_string_equal(c[4].basis, "memory model");
    sd_claims_free(c);
}

/* C1 takes the CPU a user would run: bf16 where it was measured faster (oneDNN), naming dtype, impl
 * and the CPU's matrix unit; without usable bf16 rows it stays fp32 and says why. Rows and a
 * one-label sd15 suite with fp32 and bf16 items are written to a temp dir. */
static void c1_cpu_case(const char *dir, bool bf16_ok, const char *want1, const char *want2)
{
    static const struct { const char *impl; enum sd_dtype dt; double ms; } rows[] = {
        {"openblas", SD_FP32, 100}, {"onednn", SD_FP32, 90}, {"onednn", SD_BF16, 40}};
    struct sd_result r[3];
    for (int i = 0; i < 3; i++) {
        sd_result_init(&r[i]);
        snprintf(r[i].dev.backend, sizeof r[i].dev.backend, "cpu");
        snprintf(r[i].dev.name, sizeof r[i].dev.name, "Test CPU");
        snprintf(r[i].dev.driver_version, sizeof r[i].dev.driver_version, "Zen pthreads, onednn isa avx512_core_bf16");
        r[i].dev.kind = SD_DEVICE_CPU;
        sd_workload_init(&r[i].wl, SD_OP_GEMM);
        snprintf(r[i].wl.suite, sizeof r[i].wl.suite, "sd15");
        snprintf(r[i].wl.label, sizeof r[i].wl.label, "attn_proj.64");
        r[i].wl.m = 8192, r[i].wl.n = 320, r[i].wl.k = 320, r[i].wl.count = 30, r[i].wl.dtype = rows[i].dt;
        snprintf(r[i].impl, sizeof r[i].impl, "%s", rows[i].impl);
        r[i].status = SD_OK;
        snprintf(r[i].verify, sizeof r[i].verify, "pass");
        r[i].time_ms_median = rows[i].ms;
    }
    if (!bf16_ok) {
        r[2].status = SD_UNSUPPORTED;
        r[2].time_ms_median = NAN;
        snprintf(r[2].reason, sizeof r[2].reason, "cpu: this CPU has neither AVX512-BF16 nor AMX-BF16");
    }
    char path[600], err[512];
    snprintf(path, sizeof path, "%s/cpu.csv", dir);
    assert_int_equal(sd_results_write(path, "csv", r, 3, err, sizeof err), 0);
    const char *p[] = {path, NULL};
    struct sd_claim_result c[SD_NCLAIMS];
    eval(p, c);
    assert_non_null(strstr(c[0].evidence, want1));
    assert_non_null(strstr(c[0].evidence, want2));
    sd_claims_free(c);
}

static void test_c1_cpu_best_dtype(void **state)
{
    (void)state;
    char dir[] = "/tmp/sdmark-c1-XXXXXX", path[600];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/sd15.suite", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "gemm attn_proj.64 30 m=8192 n=320 k=320 dtype=fp32,bf16\n");
    fclose(f);
    setenv("SDMARK_BENCH_DIR", dir, 1);
    c1_cpu_case(dir, true, "(bf16, mostly impl onednn;", "no matrix unit (no AMX");
    c1_cpu_case(dir, false, "(fp32, mostly impl onednn;", "CPU bf16: cpu: this CPU has neither AVX512-BF16");
    unsetenv("SDMARK_BENCH_DIR");
    remove(path);
    snprintf(path, sizeof path, "%s/cpu.csv", dir);
    remove(path);
    rmdir(dir);
}

/* After `make bench` a CPU has fp32 on every sd15 row and bf16 on fewer (tests/data/analysis/
 * cpu-dtypes): C1's ratio keeps fp32 (better covered) but names bf16 as the CPU at its best with its
 * like-with-like speed and impl, and says there is no matrix unit; with bf16 on every row, C1 uses
 * bf16. No fp16 workloads in this suite: no spec-bound line with a NaN. */
static void test_c1_partial_bf16(void **state)
{
    (void)state;
    setenv("SDMARK_BENCH_DIR", DATA "/cpu-dtypes/bench", 1);
    const char *p1[] = {DATA "/cpu-dtypes/cpu-quick.csv", NULL};
    struct sd_claim_result c[SD_NCLAIMS];
    eval(p1, c);
    assert_non_null(strstr(c[0].evidence, "CPU: 3300 ms per SD 1.5 step (fp32, mostly impl onednn;"));
    assert_non_null(strstr(c[0].evidence, "CPU at its best: bf16 (mostly impl onednn) is 2.00x its fp32 speed on the "
                                          "42 % of FLOPs measured in both"));
    assert_non_null(strstr(c[0].evidence, "no matrix unit (no AMX; oneDNN isa avx512_core_bf16"));
    assert_null(strstr(c[0].evidence, "nan"));
    sd_claims_free(c);
    const char *p2[] = {DATA "/cpu-dtypes/cpu-quick.csv", DATA "/cpu-dtypes/bf16-attention.csv", NULL};
    eval(p2, c);
    assert_non_null(strstr(c[0].evidence, "CPU: 1650 ms per SD 1.5 step (bf16, mostly impl onednn;"));
    assert_null(strstr(c[0].evidence, "CPU at its best"));
    sd_claims_free(c);
    unsetenv("SDMARK_BENCH_DIR");
}

static void test_cli_json(void **state)
{
    (void)state;
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "'%s' claims %s/fleet --format json", SDMARK_BINARY, DATA);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    static char out[1 << 20];
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = 0;
    assert_int_equal(WEXITSTATUS(pclose(p)), 0);
    cJSON *j = cJSON_Parse(out);
    assert_non_null(j);
    assert_true(cJSON_IsArray(j));
    assert_int_equal(cJSON_GetArraySize(j), SD_NCLAIMS);
    cJSON *o;
    cJSON_ArrayForEach(o, j)
    {
        assert_true(cJSON_IsString(cJSON_GetObjectItem(o, "id")));
        assert_true(cJSON_IsString(cJSON_GetObjectItem(o, "claim")));
        const char *v = cJSON_GetObjectItem(o, "verdict")->valuestring;
        assert_true(!strcmp(v, "supported") || !strcmp(v, "refuted") || !strcmp(v, "partly") || !strcmp(v, "no data"));
        assert_true(cJSON_IsArray(cJSON_GetObjectItem(o, "evidence")));
    }
    cJSON_Delete(j);
}

/* One card on three hosts: the claims quote the median node, never the first or the fastest of
 * all, and each node stays its own device. */
static void test_card_on_several_hosts(void **state)
{
    (void)state;
    char dir[] = "/tmp/sdmark-claims-XXXXXX", cmd[4096], pa[600], pb[600], pc[600];
    assert_non_null(mkdtemp(dir));
    snprintf(pa, sizeof pa, "%s/a.csv", dir);
    snprintf(pb, sizeof pb, "%s/b.csv", dir);
    snprintf(pc, sizeof pc, "%s/c.csv", dir);
    snprintf(cmd, sizeof cmd,
             "sed 's/,fixture-host,/,node-a,/' '%s/fleet/4090.csv' > '%s' && "
             "sed 's/,fixture-host,/,node-b,/' '%s/fleet/4090.csv' > '%s' && "
             "sed 's/,fixture-host,/,node-c,/' '%s/fleet/4090.csv' > '%s'",
             DATA, pa, DATA, pb, DATA, pc);
    assert_int_equal(system(cmd), 0);
    const char *p[] = {pa, pb, pc, NULL};
    struct sd_claim_result c[SD_NCLAIMS];
    eval(p, c);
    /* C1 lists every node of the card; C4 quotes the card from its median node (node-b) */
    assert_non_null(strstr(c[0].evidence, "@node-a"));
    assert_non_null(strstr(c[0].evidence, "@node-c"));
    const char *line = strstr(c[3].evidence, "\nRTX 4090: ");
    assert_non_null(line);
    const char *end = strchr(line + 1, '\n');
    char quoted[512];
    snprintf(quoted, sizeof quoted, "%.*s", end ? (int)(end - line) : (int)strlen(line), line);
    assert_non_null(strstr(quoted, "measured on cuda:NVIDIA GeForce RTX 4090@node-b"));
    sd_claims_free(c);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fleet),
        cmocka_unit_test(test_cpu_only),
        cmocka_unit_test(test_no_results),
        cmocka_unit_test(test_cli_json),
        cmocka_unit_test(test_card_on_several_hosts),
        cmocka_unit_test(test_c1_cpu_best_dtype),
        cmocka_unit_test(test_c1_partial_bf16),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
