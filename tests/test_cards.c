/* test_cards.c — bench/cards.csv: loading, case-insensitive lookup, dtype peaks, driver-name
 * matching, provenance columns, and one-line errors naming file:line for malformed tables. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include "sdmark/analysis.h"
#include "sdmark/bench_dir.h"

static struct sd_cards cards;

static int setup(void **state)
{
    char err[512];
    (void)state;
    return sd_cards_load(SDMARK_BENCH_DIR_FOR_TESTS "/cards.csv", &cards, err, sizeof err);
}

static int teardown(void **state)
{
    (void)state;
    sd_cards_free(&cards);
    return 0;
}

static void test_every_card_of_reference(void **state)
{
    (void)state;
    /* docs/cards.md lists 19 cards */
    assert_int_equal(cards.n, 19);
    for (size_t i = 0; i < cards.n; i++) {
        assert_true(cards.v[i].fp32 > 0);
        assert_true(cards.v[i].mem_gb > 0);
        assert_true(cards.v[i].bw_gbs > 0);
        assert_true(strlen(cards.v[i].source) > 5);
        assert_true(strlen(cards.v[i].date) >= 7);
    }
}

static void test_find_case_insensitive(void **state)
{
    (void)state;
    const struct sd_card *c = sd_cards_find(&cards, "rtx 4090");
    assert_non_null(c);
    assert_string_equal(c->name, "RTX 4090");
    assert_non_null(sd_cards_find(&cards, "A100 80GB SXM"));
    assert_non_null(sd_cards_find(&cards, "h100   sxm"));
    assert_non_null(sd_cards_find(&cards, "RTX-4060-Ti-16GB"));
    assert_null(sd_cards_find(&cards, "RTX 9999"));
}

static void test_peaks_by_dtype(void **state)
{
    (void)state;
    const struct sd_card *c = sd_cards_find(&cards, "RTX 4090");
    assert_true(fabs(sd_card_peak_tflops(c, SD_FP16, SD_FP32) - 165.2) < 1e-9);
    assert_true(fabs(sd_card_peak_tflops(c, SD_FP16, SD_FP16) - 330.3) < 1e-9);
    assert_true(fabs(sd_card_peak_tflops(c, SD_FP32, SD_FP32) - 82.6) < 1e-9);
    assert_true(fabs(sd_card_peak_tflops(c, SD_BF16, SD_FP32) - 165.2) < 1e-9);
    const struct sd_card *t = sd_cards_find(&cards, "RTX 2060 12GB");
    assert_true(isnan(sd_card_peak_tflops(t, SD_TF32, SD_FP32)));
    assert_true(isnan(sd_card_peak_tflops(t, SD_BF16, SD_FP32)));
    assert_true(isnan(sd_cards_find(&cards, "RTX 2060 12GB")->msrp_usd));
    const struct sd_card *h = sd_cards_find(&cards, "H100 SXM");
    assert_true(fabs(sd_card_peak_tflops(h, SD_FP16, SD_FP32) - 989) < 1e-9); /* data-centre: full rate */
}

static void test_match_driver_names(void **state)
{
    (void)state;
    struct {
        const char *dev;
        uint64_t mem;
        const char *card;
    } cases[] = {
        {"NVIDIA GeForce RTX 3060 Ti", 8ull << 30, "RTX 3060 Ti"},
        {"NVIDIA GeForce RTX 3060", 12ull << 30, "RTX 3060 12GB"},
        {"NVIDIA GeForce RTX 4060 Ti", 16ull << 30, "RTX 4060 Ti 16GB"},
        {"NVIDIA GeForce RTX 4060 Ti", 8ull << 30, "RTX 4060 Ti 8GB"},
        {"NVIDIA GeForce RTX 4070 Ti", 12ull << 30, "RTX 4070 Ti"},
        {"NVIDIA A100-SXM4-80GB", 80ull << 30, "A100 80GB SXM"},
        {"NVIDIA H100 80GB HBM3", 80ull << 30, "H100 SXM"},
        {"NVIDIA H100 PCIe", 80ull << 30, "H100 PCIe"},
        {"NVIDIA H200", 141ull << 30, "H200 SXM"},
        {"Intel(R) Arc(TM) A770 Graphics", 16ull << 30, "Arc A770 16GB"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct sd_card *c = sd_cards_match_device(&cards, cases[i].dev, cases[i].mem);
        assert_non_null(c);
        assert_string_equal(c->name, cases[i].card);
    }
    assert_null(sd_cards_match_device(&cards, "pthread-haswell-AMD EPYC 7B13", 0));
    assert_null(sd_cards_match_device(&cards, "NVIDIA GeForce RTX 30600", 0));
}

static void write_file(const char *p, const char *s)
{
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(s, f);
    fclose(f);
}

static void test_bad_tables(void **state)
{
    (void)state;
    char path[] = "/tmp/sdmark-cards-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    const char *hdr = "card,vendor,arch,sm,fp32_tflops,tf32_tflops,fp16_tc_tflops,fp16_tc_fp32acc_tflops,bf16_tflops,"
                      "mem_gb,bw_gbs,msrp_usd,match,source,date\n";
    char buf[2048], err[512];
    struct sd_cards c;
    /* quoted field with a comma and a doubled quote: fine */
    snprintf(buf, sizeof buf, "# comment\n%sX 1,nvidia,Ada,8.9,1,,2,1,1,8,100,,X 1,\"a, \"\"b\"\"\",2024-01\n", hdr);
    write_file(path, buf);
    assert_int_equal(sd_cards_load(path, &c, err, sizeof err), 0);
    assert_int_equal(c.n, 1);
    assert_string_equal(c.v[0].source, "a, \"b\"");
    sd_cards_free(&c);
    /* bad number names file:line and column */
    snprintf(buf, sizeof buf, "%sX 1,nvidia,Ada,8.9,fast,,2,1,1,8,100,,X 1,s,2024-01\n", hdr);
    write_file(path, buf);
    assert_int_equal(sd_cards_load(path, &c, err, sizeof err), -1);
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, ":2:"));
    assert_non_null(strstr(err, "fp32_tflops"));
    /* missing column */
    write_file(path, "card,vendor\nX,nvidia\n");
    assert_int_equal(sd_cards_load(path, &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "missing column"));
    /* duplicate card */
    snprintf(buf, sizeof buf, "%sX 1,nvidia,Ada,8.9,1,,2,1,1,8,100,,X 1,s,d\nx 1,nvidia,Ada,8.9,1,,2,1,1,8,100,,X,s,d\n",
             hdr);
    write_file(path, buf);
    assert_int_equal(sd_cards_load(path, &c, err, sizeof err), -1);
    assert_non_null(strstr(err, ":3:"));
    unlink(path);
}

/* --card NAME: a card name, or one card's `match` string; several or none -> NULL + candidates. */
static void test_lookup_by_match(void **state)
{
    (void)state;
    char close[1024];
    const struct sd_card *c = sd_cards_lookup(&cards, "rtx 3060", close, sizeof close);
    assert_non_null(c);
    assert_string_equal(c->name, "RTX 3060 12GB");
    c = sd_cards_lookup(&cards, "RTX 3060 Ti", close, sizeof close); /* the exact name wins */
    assert_string_equal(c->name, "RTX 3060 Ti");
    c = sd_cards_lookup(&cards, "h100 80gb hbm3", close, sizeof close);
    assert_string_equal(c->name, "H100 SXM");
    /* two cards list "RTX 4060 Ti": ambiguous, both named */
    assert_null(sd_cards_lookup(&cards, "rtx 4060 ti", close, sizeof close));
    assert_non_null(strstr(close, "'RTX 4060 Ti 8GB'"));
    assert_non_null(strstr(close, "'RTX 4060 Ti 16GB'"));
    assert_null(strstr(close, "RTX 4090"));
    /* nothing matches: names sharing a word */
    assert_null(sd_cards_lookup(&cards, "RTX 4090 Super", close, sizeof close));
    assert_non_null(strstr(close, "'RTX 4090'"));
    assert_null(strstr(close, "RTX 3060"));
    /* no shared word: the nearest names by edit distance, not the whole list */
    assert_null(sd_cards_lookup(&cards, "RTX 3070", close, sizeof close));
    assert_non_null(strstr(close, "'RTX 4070'"));
    assert_non_null(strstr(close, "'RTX 3090'"));
    assert_null(strstr(close, "H200"));
    assert_null(sd_cards_lookup(&cards, "RTX 409", close, sizeof close)); /* a typo: nearest first */
    assert_true(!strncmp(close, "'RTX 4090'", 10));
    assert_null(strstr(close, "H200"));
    /* nothing near: every name */
    assert_null(sd_cards_lookup(&cards, "Voodoo", close, sizeof close));
    assert_non_null(strstr(close, "'RTX 2060 12GB'"));
    assert_non_null(strstr(close, "'H200 SXM'"));
}

/* The bench folder: $SDMARK_BENCH_DIR first, then next to the executable, then the source tree. */
static void test_bench_path(void **state)
{
    (void)state;
    char path[1024], dir[] = "/tmp/sdmark-bench-XXXXXX", f[1100];
    assert_non_null(mkdtemp(dir));
    snprintf(f, sizeof f, "%s/cards.csv", dir);
    FILE *fp = fopen(f, "w");
    assert_non_null(fp);
    fclose(fp);
    setenv("SDMARK_BENCH_DIR", dir, 1);
    assert_int_equal(sd_bench_path("cards.csv", path, sizeof path), 0);
    assert_string_equal(path, f);
    /* a file not in $SDMARK_BENCH_DIR falls through to the next folders */
    assert_int_equal(sd_bench_path("sd15.suite", path, sizeof path), 0);
    assert_string_equal(path, SDMARK_BENCH_DIR_FOR_TESTS "/sd15.suite");
    unsetenv("SDMARK_BENCH_DIR");
    unlink(f);
    /* next to the executable: <exe dir>/bench comes before the compiled-in source tree */
    char exe[1024], probe[1200];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    assert_true(n > 0);
    exe[n] = 0;
    *strrchr(exe, '/') = 0;
    snprintf(probe, sizeof probe, "%s/bench", exe);
    int made = mkdir(probe, 0755) == 0;
    snprintf(probe, sizeof probe, "%s/bench/sdmark-probe.suite", exe);
    fp = fopen(probe, "w");
    assert_non_null(fp);
    fclose(fp);
    assert_int_equal(sd_bench_path("sdmark-probe.suite", path, sizeof path), 0);
    assert_string_equal(path, probe);
    unlink(probe);
    if (made) {
        snprintf(probe, sizeof probe, "%s/bench", exe);
        rmdir(probe);
    }
    /* nowhere: -1 and a path that names the file, not the build machine */
    assert_int_equal(sd_bench_path("nope.suite", path, sizeof path), -1);
    assert_string_equal(path, "bench/nope.suite");
    rmdir(dir);
}

/* The loader without cards.csv warns and goes on; a malformed one is an error naming file:line. */
static void test_inputs_cards(void **state)
{
    (void)state;
    struct sd_inputs in;
    char err[512] = "";
    memset(&in, 0, sizeof in);
    assert_int_equal(sd_inputs_cards(&in, "/nonexistent/cards.csv", err, sizeof err), 0);
    assert_false(in.have_cards);
    assert_non_null(strstr(in.warning, "no cards.csv"));
    assert_non_null(strstr(in.warning, "going on without cards"));
    sd_inputs_free(&in);
    char bad[] = "/tmp/sdmark-cards-XXXXXX";
    int fd = mkstemp(bad);
    assert_true(fd >= 0);
    assert_true(write(fd, "card,vendor\n", 12) == 12);
    close(fd);
    memset(&in, 0, sizeof in);
    assert_int_equal(sd_inputs_cards(&in, bad, err, sizeof err), -1);
    assert_non_null(strstr(err, ":1: missing column"));
    sd_inputs_free(&in);
    unlink(bad);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_card_of_reference), cmocka_unit_test(test_find_case_insensitive),
        cmocka_unit_test(test_peaks_by_dtype), cmocka_unit_test(test_match_driver_names),
        cmocka_unit_test(test_bad_tables), cmocka_unit_test(test_lookup_by_match),
        cmocka_unit_test(test_bench_path), cmocka_unit_test(test_inputs_cards),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
