/* test_compare.c — noise-aware verdicts (unit), geometric mean, and `sdmark compare` on synthetic
 * files with known noise (tests/data/analysis/cmp-a.csv, cmp-b.csv: see gen_fixtures.c), rows in
 * one file only, failed rows, and refusal of an unknown schema_version. */
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

static void test_verdicts(void **state)
{
    (void)state;
    double thr;
    assert_int_equal(sd_cmp_verdict(1, 0.005, 1.003, 0.005, &thr), SD_CMP_SAME);
    assert_true(fabs(thr - 2 * sqrt(2) * 0.005) < 1e-12);
    assert_int_equal(sd_cmp_verdict(1, 0.005, 0.9, 0.005, NULL), SD_CMP_FASTER);
    assert_int_equal(sd_cmp_verdict(1, 0.005, 1.2, 0.005, NULL), SD_CMP_SLOWER);
    /* noisy rows: 4 % is inside 2*sqrt(0.03^2+0.03^2) = 8.5 % */
    assert_int_equal(sd_cmp_verdict(1, 0.03, 1.04, 0.03, NULL), SD_CMP_SAME);
    assert_int_equal(sd_cmp_verdict(1, 0.03, 1.10, 0.03, NULL), SD_CMP_SLOWER);
    /* quiet rows: the 1 % floor */
    assert_int_equal(sd_cmp_verdict(1, 0.0001, 1.008, 0.0001, &thr), SD_CMP_SAME);
    assert_true(thr == 0.01);
    assert_int_equal(sd_cmp_verdict(1, 0.0001, 1.02, 0.0001, NULL), SD_CMP_SLOWER);
    /* unknown noise: 5 % */
    assert_int_equal(sd_cmp_verdict(1, NAN, 1.04, 0.001, &thr), SD_CMP_SAME);
    assert_true(thr == 0.05);
    assert_int_equal(sd_cmp_verdict(1, NAN, 0.94, NAN, NULL), SD_CMP_FASTER);
    double x[] = {2, 0.5, 4, 0.25};
    assert_true(fabs(sd_geomean(x, 4) - 1) < 1e-12);
    assert_true(isnan(sd_geomean(x, 0)));
}

static char *run(const char *args, int *rc)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "'%s' %s 2>&1", SDMARK_BINARY, args);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t cap = 1 << 20, n = 0, got;
    char *out = calloc(cap, 1);
    while ((got = fread(out + n, 1, cap - 1 - n, p)) > 0)
        n += got;
    *rc = WEXITSTATUS(pclose(p));
    return out;
}

static const char *verdict_of(cJSON *rows, const char *label)
{
    cJSON *r;
    cJSON_ArrayForEach(r, rows) if (!strcmp(cJSON_GetObjectItem(r, "label")->valuestring, label)) return cJSON_GetObjectItem(r, "verdict")->valuestring;
    return NULL;
}

static int has_label(cJSON *arr, const char *label)
{
    cJSON *r;
    cJSON_ArrayForEach(r, arr)
    {
        const char *s = cJSON_IsString(r) ? r->valuestring : cJSON_GetObjectItem(r, "key")->valuestring;
        if (strstr(s, label))
            return 1;
    }
    return 0;
}

static void test_cli_json(void **state)
{
    (void)state;
    int rc;
    char *out = run("compare " DATA "/cmp-a.csv " DATA "/cmp-b.csv --format json", &rc);
    assert_int_equal(rc, 1); /* g3 is 20 % slower: a regression beyond the default 5 % */
    cJSON *j = cJSON_Parse(out);
    assert_non_null(j);
    cJSON *c = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "comparisons"), 0);
    cJSON *rows = cJSON_GetObjectItem(c, "rows");
    assert_int_equal(cJSON_GetArraySize(rows), 4);
    assert_string_equal(verdict_of(rows, "g1"), "same");
    assert_string_equal(verdict_of(rows, "g2"), "faster");
    assert_string_equal(verdict_of(rows, "g3"), "slower");
    assert_string_equal(verdict_of(rows, "g4"), "same");
    assert_int_equal(cJSON_GetObjectItem(c, "regressions")->valueint, 1);
    assert_true(has_label(cJSON_GetObjectItem(c, "only_in_baseline"), "|g5|"));
    assert_true(has_label(cJSON_GetObjectItem(c, "only_in_file"), "|g6|"));
    assert_true(has_label(cJSON_GetObjectItem(c, "failed"), "|g7|"));
    double want = pow(1 / 1.003 * 1 / 0.9 * 1 / 1.2 * 1 / 1.04, 0.25);
    double got = cJSON_GetObjectItem(cJSON_GetObjectItem(c, "geomean_speedup"), "overall")->valuedouble;
    assert_true(fabs(got - want) < 1e-9);
    cJSON_Delete(j);
    free(out);
}

static void test_cli_text_and_errors(void **state)
{
    (void)state;
    int rc;
    char *out = run("compare " DATA "/cmp-a.csv " DATA "/cmp-b.csv", &rc);
    assert_int_equal(rc, 1);
    assert_non_null(strstr(out, "1 faster, 1 slower, 2 same within noise; 1 regression beyond 5.0 %"));
    /* the baseline is named first */
    const char *pa = strstr(out, "A = "), *pb = strstr(out, "B = ");
    assert_non_null(pa);
    assert_non_null(pb);
    assert_true(pa < pb);
    assert_non_null(strstr(out, "only in"));
    assert_non_null(strstr(out, "oom"));
    free(out);
    out = run("compare " DATA "/cmp-a.csv " DATA "/cmp-b.csv --format md", &rc);
    assert_int_equal(rc, 1);
    assert_non_null(strstr(out, "| op | label |"));
    free(out);
    /* unknown schema: refused with the file named */
    out = run("compare " DATA "/cmp-a.csv " DATA "/bad-schema.csv", &rc);
    assert_int_equal(rc, 1);
    assert_non_null(strstr(out, "bad-schema.csv"));
    assert_non_null(strstr(out, "schema_version 99"));
    free(out);
    out = run("compare " DATA "/cmp-a.csv", &rc);
    assert_int_equal(rc, 2);
    free(out);
    /* a file compared with itself: everything the same */
    out = run("compare " DATA "/cmp-a.csv " DATA "/cmp-a.csv", &rc);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "0 faster, 0 slower, 6 same"));
    free(out);
}

/* --threshold: g3 (20 % slower) fails CI at 5 % and 19 %, passes at 25 %; a bad value is a usage error. */
static void test_threshold(void **state)
{
    (void)state;
    int rc;
    const struct {
        const char *pct;
        int rc;
    } cases[] = {{"0", 1}, {"19", 1}, {"25", 0}, {"-1", 2}, {"abc", 2}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char args[512];
        snprintf(args, sizeof args, "compare " DATA "/cmp-a.csv " DATA "/cmp-b.csv --threshold %s", cases[i].pct);
        char *out = run(args, &rc);
        assert_int_equal(rc, cases[i].rc);
        free(out);
    }
}

/* Directories are accepted; by workload the fastest usable impl meets the other side's whatever
 * its impl (cpu vs OpenCL), --by-impl keeps impls apart. */
static void test_dirs_and_keys(void **state)
{
    (void)state;
    int rc;
    /* fleet/: a cuda 4090, a cpu and a PoCL device; against itself nothing regresses */
    char *out = run("compare " DATA "/fleet " DATA "/fleet --format json", &rc);
    assert_int_equal(rc, 0);
    cJSON *j = cJSON_Parse(out);
    assert_non_null(j);
    cJSON *c = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "comparisons"), 0);
    assert_true(cJSON_GetArraySize(cJSON_GetObjectItem(c, "rows")) > 0);
    assert_int_equal(cJSON_GetObjectItem(c, "regressions")->valueint, 0);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(c, "only_in_file")), 0);
    cJSON_Delete(j);
    free(out);
    /* the same workloads measured by another backend and impl (cmp-a.csv with cuda/cublas made
     * opencl/clblast): by workload every usable row meets its twin, by impl none does */
    char other[] = "/tmp/sdmark-cmp-XXXXXX.csv", cmd[1024];
    int fd = mkstemps(other, 4);
    assert_true(fd >= 0);
    close(fd);
    snprintf(cmd, sizeof cmd, "sed 's/,cuda,/,opencl,/; s/,cublas,/,clblast,/' '%s/cmp-a.csv' > '%s'", DATA, other);
    assert_int_equal(system(cmd), 0);
    snprintf(cmd, sizeof cmd, "compare " DATA "/cmp-a.csv %s --format json", other);
    out = run(cmd, &rc);
    assert_int_equal(rc, 0);
    j = cJSON_Parse(out);
    c = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "comparisons"), 0);
    int by_workload = cJSON_GetArraySize(cJSON_GetObjectItem(c, "rows"));
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(c, "rows"), 0), "impl")->valuestring,
                        "clblast");
    cJSON_Delete(j);
    free(out);
    snprintf(cmd, sizeof cmd, "compare " DATA "/cmp-a.csv %s --format json --by-impl", other);
    out = run(cmd, &rc);
    assert_int_equal(rc, 0);
    j = cJSON_Parse(out);
    int by_impl = cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "comparisons"), 0), "rows"));
    cJSON_Delete(j);
    free(out);
    unlink(other);
    assert_int_equal(by_workload, 6);
    assert_int_equal(by_impl, 0);
}

/* --fleet: three hosts of one card; node-b (cmp-b.csv: g3 20 % slower, g2 10 % faster) against the
 * median of the three. Geomean of node-b / median over g1..g4 = (1.003 * 0.9 * 1.2 * 1.04)^(1/4) =
 * 1.033: not an outlier at 5 %, an outlier at 2 %. */
static void test_fleet(void **state)
{
    (void)state;
    char dir[] = "/tmp/sdmark-fleet-XXXXXX", cmd[2048];
    assert_non_null(mkdtemp(dir));
    snprintf(cmd, sizeof cmd,
             "sed 's/,fixture-host,/,node-a,/' '%s/cmp-a.csv' > '%s/a.csv' && "
             "sed 's/,fixture-host,/,node-b,/' '%s/cmp-b.csv' > '%s/b.csv' && "
             "sed 's/,fixture-host,/,node-c,/' '%s/cmp-a.csv' > '%s/c.csv'",
             DATA, dir, DATA, dir, DATA, dir);
    assert_int_equal(system(cmd), 0);
    int rc;
    snprintf(cmd, sizeof cmd, "compare --fleet %s --format json", dir);
    char *out = run(cmd, &rc);
    assert_int_equal(rc, 0);
    cJSON *j = cJSON_Parse(out);
    assert_non_null(j);
    cJSON *g = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "fleets"), 0);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(g, "nodes")), 3);
    cJSON *b = cJSON_GetArrayItem(cJSON_GetObjectItem(g, "nodes"), 1);
    assert_non_null(strstr(cJSON_GetObjectItem(b, "node")->valuestring, "@node-b"));
    double want = pow(1.003 * 0.9 * 1.2 * 1.04, 0.25);
    assert_true(fabs(cJSON_GetObjectItem(b, "ratio_to_median")->valuedouble - want) < 1e-9);
    assert_int_equal(cJSON_GetObjectItem(b, "slow_rows")->valueint, 1);
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(b, "outlier")));
    cJSON_Delete(j);
    free(out);
    snprintf(cmd, sizeof cmd, "compare --fleet %s --threshold 2", dir);
    out = run(cmd, &rc);
    assert_int_equal(rc, 1);
    assert_non_null(strstr(out, "1 outlier node beyond 2.0 %"));
    free(out);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

/* A side without a single result row (an empty folder: a CI job whose run produced nothing) fails
 * with the path named, instead of "0 regressions" and exit 0; report refuses it the same way. */
static void test_empty_side_fails(void **state)
{
    (void)state;
    char dir[] = "/tmp/sdmark-empty-XXXXXX", cmd[2048];
    assert_non_null(mkdtemp(dir));
    int rc;
    snprintf(cmd, sizeof cmd, "compare %s/cmp-a.csv %s", DATA, dir);
    char *out = run(cmd, &rc);
    assert_int_equal(rc, 1);
    assert_non_null(strstr(out, "no result rows in"));
    assert_non_null(strstr(out, dir));
    free(out);
    snprintf(cmd, sizeof cmd, "report %s -o %s/r.html", dir, dir);
    out = run(cmd, &rc);
    assert_int_equal(rc, 1);
    assert_non_null(strstr(out, "no result rows in"));
    free(out);
    snprintf(cmd, sizeof cmd, "%s/r.html", dir);
    assert_int_equal(access(cmd, F_OK), -1); /* nothing written */
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_verdicts),
        cmocka_unit_test(test_cli_json),
        cmocka_unit_test(test_cli_text_and_errors),
        cmocka_unit_test(test_threshold),
        cmocka_unit_test(test_dirs_and_keys),
        cmocka_unit_test(test_fleet),
        cmocka_unit_test(test_empty_side_fails),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
