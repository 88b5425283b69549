/* test_cpu_features.c — CPU flags, clock and the physical FMA peak (src/core/cpu_features.c),
 * on cpuinfo fixtures (tests/data/cpuinfo/) so the answers do not depend on this machine. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sdmark/cpu_features.h"

static void read_fixture(const char *name, struct sd_cpu_features *f)
{
    char path[512];
    snprintf(path, sizeof path, "%s/cpuinfo/%s", SDMARK_TEST_DATA, name);
    assert_int_equal(sd_cpu_features_read(f, path), 0);
    f->cores = 2; /* the fixture's core count, not this machine's */
}

static void test_amx_server(void **state)
{
    (void)state;
    struct sd_cpu_features f;
    read_fixture("spr-amx.txt", &f);
    assert_string_equal(f.model, "Intel(R) Xeon(R) Platinum 8480+");
    assert_true(f.avx512f && f.avx512_bf16 && f.avx512_fp16 && f.amx_bf16 && f.amx_tile && f.amx_int8);
    assert_int_equal(f.fp32_lanes, 16);
    assert_true(fabs(f.max_mhz - 3800.0) < 1e-9); /* highest MHz line wins */
    /* 2 cores x 16 lanes x 2 FMA x 2 FLOP x 3.8 GHz */
    assert_true(fabs(sd_cpu_fp32_peak_gflops(&f, 0) - 2 * 16 * 2 * 2 * 3.8) < 1e-6);
    assert_true(fabs(sd_cpu_fp32_peak_gflops(&f, 1) - 16 * 2 * 2 * 3.8) < 1e-6); /* threads cap */
    assert_true(sd_cpu_bf16_peak_gflops(&f, 0) > 10 * sd_cpu_fp32_peak_gflops(&f, 0)); /* AMX */
    char d[256];
    sd_cpu_features_describe(&f, d, sizeof d);
    assert_non_null(strstr(d, "amx_bf16"));
    assert_non_null(strstr(d, "avx512_fp16"));
}

static void test_avx2_desktop_whole_words_only(void **state)
{
    (void)state;
    struct sd_cpu_features f;
    read_fixture("avx2-only.txt", &f);
    assert_true(f.avx2 && f.fma);
    assert_false(f.avx512f); /* "avx512_fake_flag" must not count as avx512f */
    assert_false(f.amx_bf16);
    assert_int_equal(f.fp32_lanes, 8);
    assert_true(fabs(sd_cpu_bf16_peak_gflops(&f, 0) - sd_cpu_fp32_peak_gflops(&f, 0)) < 1e-9);
}

static void test_missing_file_and_unknown_clock(void **state)
{
    (void)state;
    struct sd_cpu_features f;
    assert_int_equal(sd_cpu_features_read(&f, "/nonexistent/cpuinfo"), -1);
    memset(&f, 0, sizeof f);
    sd_cpu_features_parse_flags(&f, "sse2 avx2 fma");
    f.cores = 4;
    assert_true(sd_cpu_fp32_peak_gflops(&f, 0) == 0); /* no clock: no bound, never a made-up one */
}

static void test_this_machine_reads(void **state)
{
    (void)state;
    struct sd_cpu_features f;
    if (sd_cpu_features_read(&f, NULL) != 0)
        skip(); /* no /proc/cpuinfo (not Linux) */
    assert_true(f.cores >= 1);
    assert_true(f.fp32_lanes >= 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_amx_server),
        cmocka_unit_test(test_avx2_desktop_whole_words_only),
        cmocka_unit_test(test_missing_file_and_unknown_clock),
        cmocka_unit_test(test_this_machine_reads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
