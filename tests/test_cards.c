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

#include "sdmark/analysis.h"

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_card_of_reference), cmocka_unit_test(test_find_case_insensitive),
        cmocka_unit_test(test_peaks_by_dtype), cmocka_unit_test(test_match_driver_names),
        cmocka_unit_test(test_bad_tables),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
