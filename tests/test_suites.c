/* test_suites.c — the shipped suite files (bench/<name>.suite) against docs/sd-shapes.md.
 *
 * For each suite: it loads, every line is valid, every label is unique and carries both fp16 and
 * fp32, counts are > 0, specific anchor rows from sd-shapes.md are present, and the FLOPs per
 * UNet call (Σ count × flops over each label once) are within 2 % of the sd-shapes.md total.
 *
 * FLOP convention (workload.c): gemm 2·M·N·K, conv 2·N·Cout·H·W·Cin·R·S, attention 4·BH·Sq·Skv·d.
 * With that convention the faithful shape lists give (TFLOP per call):
 *   sd15  1.6064 = attention 0.2521 + gemm 0.4664 + conv 0.8879   (ref ≈ 1.61, 401.6 GMAC/sample)
 *   sd21  4.2981 = attention 1.2563 + gemm 1.1592 + conv 1.8826   (ref ≈ 4.30)
 *   sdxl 13.5224 = attention 1.5678 + gemm 8.7083 + conv 3.2462   (ref ≈ 13.5)
 *   vae   2.5059 = attention 0.0344 + conv 2.4716                 (ref ≈ 2.5; 1024²: 10.436 vs ≈ 10.5)
 * All four references are consistent with their own shape lists; no count was adjusted.
 * One reading choice: sd-shapes.md lists each stride-2 conv under the level it reads from
 * ("64²: … s2 320→320[1]"); the suites write it at its real output size (h = 32, input 64),
 * which is what the totals above assume and what matches "401.6 GMAC per sample" exactly (the
 * other reading, h = 64 from a 128² input, would add 34 GFLOP = 2.1 % to sd15).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sdmark/suite.h"
#include "sdmark/workload.h"

#define BENCH SDMARK_BENCH_DIR_FOR_TESTS

static void load(const char *name, struct sd_suite *s)
{
    char path[1024], err[512] = "";
    snprintf(path, sizeof path, "%s/%s.suite", BENCH, name);
    int rc = sd_suite_load(path, s, err, sizeof err);
    if (rc)
        print_error("%s\n", err);
    assert_int_equal(rc, 0);
    assert_string_equal(s->name, name);
    assert_true(s->n > 0);
}

/* Number of non-blank, non-comment lines of a suite file (each must become one label). */
static size_t workload_lines(const char *name)
{
    char path[1024], line[4096];
    snprintf(path, sizeof path, "%s/%s.suite", BENCH, name);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = 0;
    while (fgets(line, sizeof line, f)) {
        char *h = strchr(line, '#');
        if (h)
            *h = 0;
        for (char *p = line; *p; p++)
            if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') {
                n++;
                break;
            }
    }
    fclose(f);
    return n;
}

/* Measurement probes for `sdmark estimate` (bw.*, launch.*): count 0, never part of the sums. */
static int is_probe(const char *label) { return !strncmp(label, "bw.", 3) || !strncmp(label, "launch.", 7); }

static int first_with_label(const struct sd_suite *s, size_t i)
{
    for (size_t j = 0; j < i; j++)
        if (!strcmp(s->items[j].label, s->items[i].label))
            return 0;
    return 1;
}

/* Structural checks shared by all suites. Returns the number of distinct labels. */
static size_t check_structure(const char *name, const struct sd_suite *s)
{
    size_t labels = 0;
    for (size_t i = 0; i < s->n; i++) {
        const struct sd_workload *wl = &s->items[i];
        char err[400] = "";
        if (sd_workload_validate(wl, err, sizeof err))
            print_error("%s:%d %s: %s\n", name, wl->line, wl->label, err);
        assert_int_equal(sd_workload_validate(wl, err, sizeof err), 0);
        assert_true(wl->count > 0 || (is_probe(wl->label) && wl->count == 0));
        assert_true(wl->count == (double)(int64_t)wl->count); /* whole occurrences per call */
        assert_true(wl->line > 0);
        assert_true(strlen(wl->label) > 0);
        assert_true(sd_workload_flops(wl) > 0);
        if (!first_with_label(s, i))
            continue;
        labels++;
        /* Each label: exactly one fp16, one bf16 and one fp32 item, from the same line, same shape
         * (bf16: what SDXL front-ends and CPUs with AVX512-BF16/AMX run). */
        int n16 = 0, nbf = 0, n32 = 0, nother = 0;
        for (size_t j = 0; j < s->n; j++) {
            const struct sd_workload *o = &s->items[j];
            if (strcmp(o->label, wl->label))
                continue;
            assert_int_equal(o->line, wl->line);
            assert_true(o->count == wl->count);
            assert_true(sd_workload_flops(o) == sd_workload_flops(wl));
            if (o->dtype == SD_FP16)
                n16++;
            else if (o->dtype == SD_BF16)
                nbf++;
            else if (o->dtype == SD_FP32)
                n32++;
            else
                nother++;
        }
        if (n16 != 1 || nbf != 1 || n32 != 1 || nother)
            print_error("%s: label %s has fp16 x%d, bf16 x%d, fp32 x%d, other x%d\n", name, wl->label, n16, nbf, n32,
                        nother);
        assert_int_equal(n16, 1);
        assert_int_equal(nbf, 1);
        assert_int_equal(n32, 1);
        assert_int_equal(nother, 0);
    }
    /* Distinct labels are distinct lines (the parser rejects a repeated label), and no line was
     * dropped. */
    assert_int_equal(labels, workload_lines(name));
    assert_int_equal(s->n, 3 * labels);
    return labels;
}

/* Σ count × flops over each label once, by op; also checks sd_suite_flops_per_call agrees. */
static double total_flops(const char *name, const struct sd_suite *s)
{
    double by_op[SD_OP_COUNT] = {0}, total = 0;
    for (size_t i = 0; i < s->n; i++) {
        if (!first_with_label(s, i))
            continue;
        double f = s->items[i].count * sd_workload_flops(&s->items[i]);
        by_op[s->items[i].op] += f;
        total += f;
    }
    print_message("%s: %.4f TFLOP per call (attention %.4f, gemm %.4f, conv2d %.4f)\n", name, total / 1e12,
                  by_op[SD_OP_ATTENTION] / 1e12, by_op[SD_OP_GEMM] / 1e12, by_op[SD_OP_CONV2D] / 1e12);
    double lib = sd_suite_flops_per_call(s);
    assert_true(lib > 0);
    assert_true(lib >= total * (1 - 1e-12) && lib <= total * (1 + 1e-12));
    return total;
}

static void assert_near(double got, double want, double rel)
{
    if (!(got >= want * (1 - rel) && got <= want * (1 + rel)))
        print_error("got %.6g, want %.6g within %.1f %%\n", got, want, rel * 100);
    assert_true(got >= want * (1 - rel) && got <= want * (1 + rel));
}

/* Anchor lookups: the row with this exact shape; returns its count (one dtype), 0 if absent. */
static double count_gemm(const struct sd_suite *s, int64_t m, int64_t n, int64_t k)
{
    for (size_t i = 0; i < s->n; i++) {
        const struct sd_workload *w = &s->items[i];
        if (w->op == SD_OP_GEMM && w->dtype == SD_FP16 && w->batch == 1 && w->m == m && w->n == n && w->k == k)
            return w->count;
    }
    return 0;
}

static double count_attn(const struct sd_suite *s, int64_t bh, int64_t sq, int64_t skv, int64_t d)
{
    for (size_t i = 0; i < s->n; i++) {
        const struct sd_workload *w = &s->items[i];
        if (w->op == SD_OP_ATTENTION && w->dtype == SD_FP16 && w->batch_heads == bh && w->seq_q == sq &&
            w->seq_kv == skv && w->head_dim == d)
            return w->count;
    }
    return 0;
}

/* h = OUTPUT size; r = 3 implies pad 1, r = 1 pad 0. */
static double count_conv(const struct sd_suite *s, int64_t batch, int64_t cin, int64_t cout, int64_t h, int64_t r,
                         int64_t stride)
{
    for (size_t i = 0; i < s->n; i++) {
        const struct sd_workload *w = &s->items[i];
        if (w->op == SD_OP_CONV2D && w->dtype == SD_FP16 && w->batch == batch && w->c_in == cin &&
            w->c_out == cout && w->h == h && w->w == h && w->r == r && w->s == r && w->stride == stride &&
            w->pad == (r == 3 ? 1 : 0))
            return w->count;
    }
    return 0;
}

/* Conventions every SD suite follows: 3×3 pad 1, 1×1 pad 0 stride 1, stride ∈ {1, 2}. */
static void check_conv_conventions(const struct sd_suite *s, int64_t batch)
{
    for (size_t i = 0; i < s->n; i++) {
        const struct sd_workload *w = &s->items[i];
        if (w->op != SD_OP_CONV2D)
            continue;
        assert_int_equal(w->batch, batch);
        assert_int_equal(w->h, w->w);
        assert_int_equal(w->r, w->s);
        assert_true(w->r == 1 || w->r == 3);
        assert_int_equal(w->pad, w->r == 3 ? 1 : 0);
        assert_true(w->stride == 1 || (w->stride == 2 && w->r == 3));
    }
}

static void test_sd15(void **state)
{
    (void)state;
    struct sd_suite s;
    load("sd15", &s);
    size_t labels = check_structure("sd15", &s);
    assert_int_equal(labels, 58 + 2); /* + the bw./launch. probes */
    check_conv_conventions(&s, 2);
    double t = total_flops("sd15", &s);
    assert_near(t, 1.61e12, 0.02);
    assert_near(t / 4, 401.6e9, 0.005); /* "401.6 GMAC per sample" (2 FLOP/MAC, N = 2) */

    /* Attention */
    assert_true(count_attn(&s, 16, 4096, 4096, 40) == 5);
    assert_true(count_attn(&s, 16, 4096, 77, 40) == 5);
    assert_true(count_attn(&s, 16, 1024, 1024, 80) == 5);
    assert_true(count_attn(&s, 16, 256, 77, 160) == 5);
    assert_true(count_attn(&s, 16, 64, 64, 160) == 1);
    /* GEMMs */
    assert_true(count_gemm(&s, 8192, 320, 320) == 30);
    assert_true(count_gemm(&s, 8192, 2560, 320) == 5);
    assert_true(count_gemm(&s, 8192, 320, 1280) == 5);
    assert_true(count_gemm(&s, 154, 320, 768) == 10);
    assert_true(count_gemm(&s, 2048, 640, 640) == 30);
    assert_true(count_gemm(&s, 512, 10240, 1280) == 5);
    assert_true(count_gemm(&s, 128, 1280, 1280) == 6);
    assert_true(count_gemm(&s, 128, 1280, 5120) == 1);
    assert_true(count_gemm(&s, 154, 1280, 768) == 12);
    /* Convs */
    assert_true(count_conv(&s, 2, 4, 320, 64, 3, 1) == 1);
    assert_true(count_conv(&s, 2, 320, 320, 64, 3, 1) == 7);
    assert_true(count_conv(&s, 2, 320, 4, 64, 3, 1) == 1);
    assert_true(count_conv(&s, 2, 320, 320, 32, 3, 2) == 1); /* 64² → 32² downsampler */
    assert_true(count_conv(&s, 2, 640, 640, 16, 3, 2) == 1);
    assert_true(count_conv(&s, 2, 1280, 1280, 8, 3, 2) == 1);
    assert_true(count_conv(&s, 2, 320, 320, 64, 1, 1) == 10); /* proj_in/out as 1×1 conv */
    assert_true(count_conv(&s, 2, 1280, 1280, 8, 1, 1) == 2);
    assert_true(count_conv(&s, 2, 960, 320, 64, 1, 1) == 1);
    assert_true(count_conv(&s, 2, 1920, 640, 32, 3, 1) == 1);
    assert_true(count_conv(&s, 2, 1280, 1280, 16, 3, 1) == 7);
    assert_true(count_conv(&s, 2, 1280, 1280, 8, 3, 1) == 11);
    assert_true(count_conv(&s, 2, 2560, 1280, 8, 1, 1) == 3);
    sd_suite_free(&s);
}

static void test_sd21(void **state)
{
    (void)state;
    struct sd_suite s;
    load("sd21", &s);
    size_t labels = check_structure("sd21", &s);
    assert_int_equal(labels, 54 + 2); /* sd15 minus the four 1×1 proj convs, + 2 probes */
    check_conv_conventions(&s, 2);
    assert_near(total_flops("sd21", &s), 4.30e12, 0.02);

    assert_true(count_attn(&s, 10, 9216, 9216, 64) == 5);
    assert_true(count_attn(&s, 10, 9216, 77, 64) == 5);
    assert_true(count_attn(&s, 20, 2304, 2304, 64) == 5);
    assert_true(count_attn(&s, 40, 576, 576, 64) == 5);
    assert_true(count_attn(&s, 40, 144, 77, 64) == 1);
    /* Linear proj_in/out: 40 (M, C, C) per level, 8 at mid; context K = 1024 */
    assert_true(count_gemm(&s, 18432, 320, 320) == 40);
    assert_true(count_gemm(&s, 4608, 640, 640) == 40);
    assert_true(count_gemm(&s, 1152, 1280, 1280) == 40);
    assert_true(count_gemm(&s, 288, 1280, 1280) == 8);
    assert_true(count_gemm(&s, 18432, 2560, 320) == 5);
    assert_true(count_gemm(&s, 288, 10240, 1280) == 1);
    assert_true(count_gemm(&s, 154, 320, 1024) == 10);
    assert_true(count_gemm(&s, 154, 640, 1024) == 10);
    assert_true(count_gemm(&s, 154, 1280, 1024) == 12);
    assert_true(count_gemm(&s, 154, 320, 768) == 0);
    /* Convs: the SD 1.5 list at 96/48/24/12 without the 1×1 proj convs (square 1×1) ... */
    for (size_t i = 0; i < s.n; i++)
        if (s.items[i].op == SD_OP_CONV2D && s.items[i].r == 1)
            assert_true(s.items[i].c_in != s.items[i].c_out);
    /* ... but with the ResNet 1×1 shortcuts */
    assert_true(count_conv(&s, 2, 640, 320, 96, 1, 1) == 2);
    assert_true(count_conv(&s, 2, 320, 640, 48, 1, 1) == 1);
    assert_true(count_conv(&s, 2, 2560, 1280, 12, 1, 1) == 3);
    assert_true(count_conv(&s, 2, 4, 320, 96, 3, 1) == 1);
    assert_true(count_conv(&s, 2, 320, 320, 48, 3, 2) == 1);
    assert_true(count_conv(&s, 2, 1280, 1280, 12, 3, 1) == 11);
    sd_suite_free(&s);
}

static void test_sdxl(void **state)
{
    (void)state;
    struct sd_suite s;
    load("sdxl", &s);
    size_t labels = check_structure("sdxl", &s);
    assert_int_equal(labels, 39 + 2);
    check_conv_conventions(&s, 2);
    assert_near(total_flops("sdxl", &s), 13.5e12, 0.02);

    assert_true(count_attn(&s, 20, 4096, 4096, 64) == 10);
    assert_true(count_attn(&s, 20, 4096, 77, 64) == 10);
    assert_true(count_attn(&s, 40, 1024, 1024, 64) == 60);
    assert_true(count_attn(&s, 40, 1024, 77, 64) == 60);
    for (size_t i = 0; i < s.n; i++) /* no attention at 128² */
        if (s.items[i].op == SD_OP_ATTENTION)
            assert_true(s.items[i].seq_q <= 4096);
    assert_true(count_gemm(&s, 8192, 640, 640) == 70);
    assert_true(count_gemm(&s, 8192, 5120, 640) == 10);
    assert_true(count_gemm(&s, 154, 640, 2048) == 20);
    assert_true(count_gemm(&s, 2048, 1280, 1280) == 372);
    assert_true(count_gemm(&s, 2048, 10240, 1280) == 60);
    assert_true(count_gemm(&s, 2048, 1280, 5120) == 60);
    assert_true(count_gemm(&s, 154, 1280, 2048) == 120);
    assert_true(count_conv(&s, 2, 4, 320, 128, 3, 1) == 1);
    assert_true(count_conv(&s, 2, 320, 320, 64, 3, 2) == 1);
    assert_true(count_conv(&s, 2, 640, 640, 32, 3, 2) == 1);
    assert_true(count_conv(&s, 2, 1280, 1280, 64, 3, 1) == 1);
    assert_true(count_conv(&s, 2, 1280, 1280, 32, 3, 1) == 10);
    assert_true(count_conv(&s, 2, 960, 320, 128, 1, 1) == 1);
    assert_true(count_conv(&s, 2, 2560, 1280, 32, 1, 1) == 2);
    assert_true(count_conv(&s, 2, 1280, 1280, 16, 3, 2) == 0); /* no downsampler below 32² */
    sd_suite_free(&s);
}

static void test_vae(void **state)
{
    (void)state;
    struct sd_suite s;
    load("vae", &s);
    size_t labels = check_structure("vae", &s);
    assert_int_equal(labels, 13 + 2);
    check_conv_conventions(&s, 1);
    for (size_t i = 0; i < s.n; i++)
        assert_true(s.items[i].op != SD_OP_CONV2D || s.items[i].stride == 1); /* decoder: no s2 */
    assert_near(total_flops("vae", &s), 2.5e12, 0.02);

    assert_true(count_attn(&s, 1, 4096, 4096, 512) == 1);
    assert_true(count_conv(&s, 1, 4, 512, 64, 3, 1) == 1);
    assert_true(count_conv(&s, 1, 512, 512, 64, 3, 1) == 10);
    assert_true(count_conv(&s, 1, 512, 512, 128, 3, 1) == 7);
    assert_true(count_conv(&s, 1, 512, 256, 256, 1, 1) == 1);
    assert_true(count_conv(&s, 1, 256, 256, 256, 3, 1) == 5);
    assert_true(count_conv(&s, 1, 128, 128, 512, 3, 1) == 5);
    assert_true(count_conv(&s, 1, 128, 3, 512, 3, 1) == 1);

    /* sd-shapes.md: ≈ 10.5 TFLOP at 1024² (all spatial sizes doubled). */
    double t1024 = 0;
    for (size_t i = 0; i < s.n; i++) {
        if (!first_with_label(&s, i))
            continue;
        struct sd_workload w = s.items[i];
        if (w.op == SD_OP_CONV2D) {
            w.h *= 2;
            w.w *= 2;
        } else {
            w.seq_q *= 4;
            w.seq_kv *= 4;
        }
        t1024 += w.count * sd_workload_flops(&w);
    }
    print_message("vae @1024^2: %.4f TFLOP per decode\n", t1024 / 1e12);
    assert_near(t1024, 10.5e12, 0.02);
    sd_suite_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sd15),
        cmocka_unit_test(test_sd21),
        cmocka_unit_test(test_sdxl),
        cmocka_unit_test(test_vae),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
