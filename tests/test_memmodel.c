/* test_memmodel.c — the memory model against docs/sd-shapes.md (score matrices, parameter
 * counts x bytes, 16 B/param training), tier logic, the small-kernel traffic model, and the
 * model-vs-measured peak-memory check. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "sdmark/analysis.h"

static struct sd_mem_report mem(enum sd_model m, int res, enum sd_attn_mode a, enum sd_train_mode t)
{
    struct sd_mem_opts o;
    sd_mem_opts_default(&o, m);
    if (res)
        o.res = res;
    o.attn = a;
    o.train = t;
    struct sd_mem_report r;
    char err[256];
    assert_int_equal(sd_mem_compute(&o, &r, err, sizeof err), 0);
    return r;
}

static void close_to(double got, double want, double rel)
{
    if (fabs(got - want) > rel * fabs(want)) {
        fprintf(stderr, "got %.6g want %.6g (rel %.3g)\n", got, want, rel);
        fail();
    }
}

static void test_score_matrices(void **state)
{
    (void)state;
    /* sd-shapes.md "Memory facts": SD 1.5 0.54 GB (16 x 4096^2 x 2 B), SD 2.1 1.70 GB, SDXL 0.67 GB,
     * VAE 512^2 32 MB (1 x 4096^2 x 2), VAE 1024^2 0.54 GB (1 x 16384^2 x 2) */
    assert_true(mem(SD_MODEL_SD15, 0, SD_ATTN_UNFUSED, SD_TRAIN_NONE).score_largest == 16.0 * 4096 * 4096 * 2);
    close_to(mem(SD_MODEL_SD21, 0, SD_ATTN_UNFUSED, SD_TRAIN_NONE).score_largest, 1.70e9, 0.005);
    close_to(mem(SD_MODEL_SDXL, 0, SD_ATTN_UNFUSED, SD_TRAIN_NONE).score_largest, 0.67e9, 0.005);
    assert_true(mem(SD_MODEL_SD15, 512, SD_ATTN_UNFUSED, SD_TRAIN_NONE).vae_score == 4096.0 * 4096 * 2);
    assert_true(mem(SD_MODEL_SD15, 1024, SD_ATTN_UNFUSED, SD_TRAIN_NONE).vae_score == 16384.0 * 16384 * 2);
    /* flash: no score matrix allocated */
    assert_true(mem(SD_MODEL_SD15, 0, SD_ATTN_FLASH, SD_TRAIN_NONE).score_largest == 0);
    assert_true(mem(SD_MODEL_SD15, 0, SD_ATTN_FLASH, SD_TRAIN_NONE).total <
                mem(SD_MODEL_SD15, 0, SD_ATTN_UNFUSED, SD_TRAIN_NONE).total);
}

static void test_parameters(void **state)
{
    (void)state;
    /* the layer list reproduces the published UNet sizes (860 M, 865 M, 2.6 B) within 1 % */
    close_to(sd_model_unet_params_derived(SD_MODEL_SD15), 860e6, 0.01);
    close_to(sd_model_unet_params_derived(SD_MODEL_SD21), 865e6, 0.01);
    close_to(sd_model_unet_params_derived(SD_MODEL_SDXL), 2.6e9, 0.015);
    struct sd_mem_report r = mem(SD_MODEL_SD15, 0, SD_ATTN_UNFUSED, SD_TRAIN_NONE);
    assert_true(r.w_unet_fp16 == 860e6 * 2 && r.w_unet_fp32 == 860e6 * 4);
    assert_true(r.w_text_fp16 == 123e6 * 2 && r.w_vae_fp16 == 84e6 * 2);
    struct sd_mem_report x = mem(SD_MODEL_SDXL, 0, SD_ATTN_UNFUSED, SD_TRAIN_NONE);
    assert_true(x.w_text_fp16 == (123e6 + 695e6) * 2);
    /* inference total = weights + max(UNet activations, VAE decode) */
    assert_true(r.total == r.weights + fmax(r.unet_act_peak, r.vae_decode_peak));
}

static void test_training(void **state)
{
    (void)state;
    struct sd_mem_report f = mem(SD_MODEL_SD15, 0, SD_ATTN_FLASH, SD_TRAIN_FULL);
    assert_true(f.train_state == 16.0 * 860e6); /* fp16 w + fp32 master + Adam m, v + fp16 grads */
    assert_true(f.total == f.weights + f.train_state + f.train_act);
    struct sd_mem_report l = mem(SD_MODEL_SD15, 0, SD_ATTN_FLASH, SD_TRAIN_LORA);
    assert_true(l.lora_params > 1e5 && l.lora_params < 5e6); /* rank 4 on attention projections */
    assert_true(l.train_state == 16.0 * l.lora_params);
    assert_true(l.total < f.total);
    /* unfused attention in training stores score matrices */
    assert_true(mem(SD_MODEL_SD15, 0, SD_ATTN_UNFUSED, SD_TRAIN_FULL).train_act > f.train_act);
}

static void test_tiers(void **state)
{
    (void)state;
    assert_int_equal(sd_mem_ntiers, 11);
    assert_true(sd_mem_fits(8.0 * 1073741824.0, 8));
    assert_false(sd_mem_fits(8.0 * 1073741824.0 + 1, 8));
    assert_true(sd_mem_fits(mem(SD_MODEL_SD15, 0, SD_ATTN_UNFUSED, SD_TRAIN_NONE).total, 4));
    assert_false(sd_mem_fits(mem(SD_MODEL_SDXL, 0, SD_ATTN_UNFUSED, SD_TRAIN_NONE).total, 8));
    assert_false(sd_mem_fits(mem(SD_MODEL_SDXL, 0, SD_ATTN_FLASH, SD_TRAIN_FULL).total, 24));
    struct sd_mem_opts o;
    sd_mem_opts_default(&o, SD_MODEL_SD15);
    int prev = 0;
    for (int i = 0; i < sd_mem_ntiers; i++) {
        int r = sd_mem_max_res(&o, sd_mem_tiers_gb[i]);
        assert_true(r >= prev && r % 64 == 0);
        prev = r;
    }
    o.attn = SD_ATTN_FLASH;
    assert_true(sd_mem_max_res(&o, 8) > 896);
    char err[256];
    struct sd_mem_report r;
    o.res = 500;
    assert_int_equal(sd_mem_compute(&o, &r, err, sizeof err), -1);
    assert_non_null(strstr(err, "multiple of 64"));
}

static void test_traffic(void **state)
{
    (void)state;
    struct sd_traffic t, f, x;
    sd_model_traffic(SD_MODEL_SD15, 512, 1, 2, SD_ATTN_UNFUSED, &t);
    sd_model_traffic(SD_MODEL_SD15, 512, 1, 2, SD_ATTN_FLASH, &f);
    sd_model_traffic(SD_MODEL_SDXL, 1024, 1, 2, SD_ATTN_FLASH, &x);
    /* "a framework launches ~1,000+ kernels per UNet call": SD 1.5 ~850, SDXL ~1800 */
    assert_true(t.n_small + t.n_big > 700 && t.n_small + t.n_big < 1200);
    assert_true(x.n_small + x.n_big > 1500);
    assert_true(f.bytes < t.bytes && f.n_small < t.n_small);
    assert_true(t.bytes > 1e9 && t.bytes < 1e10);
    /* small-kernel time: all at the floor when bandwidth is infinite-ish; bytes/bw when floor 0 */
    close_to(sd_model_small_ms(SD_MODEL_SD15, 512, 1, 2, SD_ATTN_FLASH, 1e12, 10), f.n_small * 0.010, 1e-9);
    close_to(sd_model_small_ms(SD_MODEL_SD15, 512, 1, 2, SD_ATTN_FLASH, 100, 0), f.bytes / 100e6, 1e-9);
}

static struct sd_result attn_row(const char *impl, double peak)
{
    struct sd_result r;
    sd_result_init(&r);
    sd_workload_init(&r.wl, SD_OP_ATTENTION);
    r.wl.batch_heads = 16, r.wl.seq_q = 4096, r.wl.seq_kv = 4096, r.wl.head_dim = 40, r.wl.dtype = SD_FP16;
    snprintf(r.impl, sizeof r.impl, "%s", impl);
    snprintf(r.cache_mode, sizeof r.cache_mode, "hot");
    r.status = SD_OK;
    r.peak_mem_bytes = peak;
    return r;
}

static void test_check_against_measured(void **state)
{
    (void)state;
    double io = 4.0 * 16 * 4096 * 40 * 2, sc = 16.0 * 4096 * 4096 * 2;
    struct sd_result rows[4] = {attn_row("unfused", io + sc), attn_row("flash", io), attn_row("unfused", io + 1.25 * sc),
                                attn_row("unfused", io + 2 * sc)};
    int dev_of[4] = {0, 0, 0, 0};
    struct sd_rset s = {.rows = rows, .n = 4, .dev_of = dev_of};
    struct sd_mem_check c[8];
    size_t n = sd_mem_check_rows(&s, c, 8);
    assert_int_equal(n, 3);
    assert_true(c[0].ok && c[0].model == sc && c[0].measured == sc);
    assert_false(c[1].ok); /* 25 % off */
    assert_true(c[2].ok);  /* fp32 scores: matches 2x, said in the note */
    assert_non_null(strstr(c[2].note, "fp32"));
}

/* A backend that names its library workspace ("workspace=N" in an ok row's reason, cuda) has it
 * taken out: a 32 MiB cuBLAS workspace would otherwise swamp a 4 MiB score matrix. */
static void test_check_excludes_workspace(void **state)
{
    (void)state;
    double sc = 2.0 * 1024 * 1024 * 4, ws = 32.0 * 1048576; /* fp32 scores of an fp16 row */
    struct sd_result rows[3] = {attn_row("unfused", 1e6 + sc + ws), attn_row("flash", 1e6), attn_row("unfused", 1e6 + sc + ws)};
    for (int i = 0; i < 3; i++)
        rows[i].wl.batch_heads = 2, rows[i].wl.seq_q = rows[i].wl.seq_kv = 1024;
    snprintf(rows[0].reason, sizeof rows[0].reason, "scores fp32; cublas workspace=33554432");
    int dev_of[3] = {0, 0, 0};
    struct sd_rset s = {.rows = rows, .n = 3, .dev_of = dev_of};
    struct sd_mem_check c[4];
    assert_int_equal(sd_mem_check_rows(&s, c, 4), 2);
    assert_true(c[0].ok);
    assert_true(c[0].measured == sc);
    assert_false(c[1].ok); /* the same peak without the note: the workspace counts as scores */
}

/* The cpu backend has no fused attention: an unfused row pairs with the sliced row of its own
 * library family (onednn_unfused with onednn_sliced, whose one-head slice is the model's (bh-1)/bh
 * difference), fused first where both exist; a row with no partner is listed, not judged. */
static void test_check_pairs_within_family(void **state)
{
    (void)state;
    double io = 4.0 * 16 * 4096 * 40 * 2, head = 4096.0 * 4096 * 2, sc = 16 * head, scratch = 3e6;
    struct sd_result rows[6] = {attn_row("onednn_unfused", io + sc + scratch), attn_row("onednn_sliced", io + head + scratch),
                                attn_row("flash", io), attn_row("sliced", io + head), attn_row("unfused", io + sc),
                                attn_row("onednn_unfused", io + sc)};
    rows[5].wl.seq_kv = 77; /* no onednn_sliced (nor any row) of this shape */
    int dev_of[6] = {0};
    struct sd_rset s = {.rows = rows, .n = 6, .dev_of = dev_of};
    struct sd_mem_check c[8];
    assert_int_equal(sd_mem_check_rows(&s, c, 8), 3);
    /* onednn_unfused - onednn_sliced: 15 heads of bf16-sized scores, the scratchpads cancel */
    assert_true(c[0].judged && c[0].ok);
    assert_true(c[0].model == 15 * head && c[0].measured == 15 * head);
    assert_non_null(strstr(c[0].what, "onednn_unfused - onednn_sliced"));
    assert_non_null(strstr(c[0].note, "slice"));
    /* plain unfused: flash is preferred to sliced, so the model is the whole matrix */
    assert_true(c[1].judged && c[1].ok && c[1].model == sc);
    assert_non_null(strstr(c[1].what, "unfused - flash"));
    /* never paired across families (flash and sliced of this shape are not oneDNN's): not judged */
    assert_false(c[2].judged);
    assert_true(c[2].ok);
    assert_non_null(strstr(c[2].note, "not judged"));
    /* a wrong measurement against a sliced partner still fails */
    rows[0].peak_mem_bytes = io + 1.3 * sc + scratch; /* 19.8 heads: neither 15 (bf16) nor 30 (fp32) */
    assert_int_equal(sd_mem_check_rows(&s, c, 8), 3);
    assert_true(c[0].judged);
    assert_false(c[0].ok);
}

/* The VAE decodes the whole batch at once unless slicing is on (diffusers' default). */
static void test_vae_batch(void **state)
{
    (void)state;
    struct sd_mem_opts o;
    struct sd_mem_report r1, r4, r4s;
    char err[128];
    sd_mem_opts_default(&o, SD_MODEL_SD15);
    assert_int_equal(sd_mem_compute(&o, &r1, err, sizeof err), 0);
    o.batch = 4;
    assert_int_equal(sd_mem_compute(&o, &r4, err, sizeof err), 0);
    o.vae_slicing = true;
    assert_int_equal(sd_mem_compute(&o, &r4s, err, sizeof err), 0);
    assert_true(fabs(r4.vae_decode_peak - 4 * r1.vae_decode_peak) <= 1e-6 * r4.vae_decode_peak);
    assert_true(fabs(r4s.vae_decode_peak - r1.vae_decode_peak) <= 1e-6 * r1.vae_decode_peak);
    assert_true(r4s.total <= r4.total);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vae_batch),
        cmocka_unit_test(test_score_matrices), cmocka_unit_test(test_parameters),
        cmocka_unit_test(test_training),       cmocka_unit_test(test_tiers),
        cmocka_unit_test(test_traffic),        cmocka_unit_test(test_check_against_measured),
        cmocka_unit_test(test_check_pairs_within_family),
        cmocka_unit_test(test_check_excludes_workspace),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
