/* test_workload.c — shape arithmetic (FLOPs, compulsory bytes, tensor sizes), validation messages,
 * op/dtype names, and the fp16/bf16 conversions (src/core/workload.c). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sdmark/workload.h"

static struct sd_workload gemm(int64_t b, int64_t m, int64_t n, int64_t k)
{
    struct sd_workload w;
    sd_workload_init(&w, SD_OP_GEMM);
    w.batch = b, w.m = m, w.n = n, w.k = k;
    return w;
}

static struct sd_workload conv(int64_t b, int64_t ci, int64_t co, int64_t h, int64_t w_, int64_t r, int64_t s,
                               int64_t stride, int64_t pad)
{
    struct sd_workload w;
    sd_workload_init(&w, SD_OP_CONV2D);
    w.batch = b, w.c_in = ci, w.c_out = co, w.h = h, w.w = w_, w.r = r, w.s = s, w.stride = stride, w.pad = pad;
    return w;
}

static struct sd_workload attn(int64_t bh, int64_t q, int64_t kv, int64_t d)
{
    struct sd_workload w;
    sd_workload_init(&w, SD_OP_ATTENTION);
    w.batch_heads = bh, w.seq_q = q, w.seq_kv = kv, w.head_dim = d;
    return w;
}

static void expect_invalid(const struct sd_workload *w, const char *want)
{
    char err[512] = "";
    assert_int_equal(sd_workload_validate(w, err, sizeof err), -1);
    assert_string_equal(err, want);
}

static void expect_valid(const struct sd_workload *w)
{
    char err[512] = "";
    int rc = sd_workload_validate(w, err, sizeof err);
    if (rc)
        print_error("unexpected: %s\n", err);
    assert_int_equal(rc, 0);
}

/* ------------------------------------------------------------------ arithmetic */

static void test_init_defaults(void **state)
{
    (void)state;
    struct sd_workload w;
    memset(&w, 0x5a, sizeof w);
    sd_workload_init(&w, SD_OP_CONV2D);
    assert_int_equal(w.op, SD_OP_CONV2D);
    assert_true(w.count == 1);
    assert_int_equal(w.dtype, SD_FP32);
    assert_int_equal(w.acc, SD_FP32);
    assert_int_equal(w.batch, 1);
    assert_int_equal(w.stride, 1);
    assert_int_equal(w.pad, 0);
    assert_int_equal(w.m, 0);
    assert_string_equal(w.layout, "NCHW");
    assert_string_equal(w.label, "");
    assert_null(w.file);
    assert_int_equal(w.line, 0);
    sd_workload_init(&w, SD_OP_GEMM);
    assert_string_equal(w.layout, "row");
    sd_workload_init(&w, SD_OP_ATTENTION);
    assert_string_equal(w.layout, "BSD");
}

static void test_flops(void **state)
{
    (void)state;
    struct sd_workload w = gemm(1, 8192, 320, 320);
    assert_true(sd_workload_flops(&w) == 1677721600.0); /* 2*8192*320*320 */
    w = gemm(3, 2, 5, 7);
    assert_true(sd_workload_flops(&w) == 2.0 * 3 * 2 * 5 * 7);
    w = conv(2, 320, 320, 64, 64, 3, 3, 1, 1);
    assert_true(sd_workload_flops(&w) == 15099494400.0); /* 2*2*320*64*64*320*9 */
    w = conv(2, 320, 320, 32, 32, 3, 3, 2, 1); /* stride 2: output size counts, not input */
    assert_true(sd_workload_flops(&w) == 15099494400.0 / 4);
    w = attn(16, 4096, 77, 40);
    assert_true(sd_workload_flops(&w) == 807403520.0); /* 4*16*4096*77*40 */
    /* large shapes are computed in double without int64 overflow */
    w = gemm(1, 1 << 20, 1 << 20, 1 << 20);
    assert_true(sd_workload_flops(&w) == 2.0 * 1099511627776.0 * 1048576.0);
    w.op = SD_OP_COUNT;
    assert_true(sd_workload_flops(&w) == 0);
}

static void test_tensors_and_bytes(void **state)
{
    (void)state;
    struct sd_tensors t;
    struct sd_workload w = gemm(2, 3, 5, 7);
    sd_workload_tensors(&w, &t);
    assert_int_equal(t.n_in, 2);
    assert_int_equal(t.in[0], 2 * 3 * 7);
    assert_int_equal(t.in[1], 2 * 7 * 5);
    assert_int_equal(t.out, 2 * 3 * 5);
    assert_true(sd_workload_bytes_min(&w) == (42 + 70 + 30) * 4.0);
    w.dtype = SD_FP16;
    assert_true(sd_workload_bytes_min(&w) == (42 + 70 + 30) * 2.0);
    w.dtype = SD_BF16;
    assert_true(sd_workload_bytes_min(&w) == (42 + 70 + 30) * 2.0);
    w.dtype = SD_TF32;
    assert_true(sd_workload_bytes_min(&w) == (42 + 70 + 30) * 4.0);

    /* conv: the input is (h*stride) x (w*stride); h, w are the output size */
    w = conv(2, 3, 4, 8, 6, 3, 3, 2, 1);
    assert_int_equal(sd_conv_in_h(&w), 16);
    assert_int_equal(sd_conv_in_w(&w), 12);
    sd_workload_tensors(&w, &t);
    assert_int_equal(t.n_in, 2);
    assert_int_equal(t.in[0], 2 * 3 * 16 * 12);
    assert_int_equal(t.in[1], 4 * 3 * 3 * 3);
    assert_int_equal(t.out, 2 * 4 * 8 * 6);
    assert_true(sd_workload_bytes_min(&w) == (1152.0 + 108 + 384) * 4);
    w = conv(1, 320, 640, 64, 64, 1, 1, 1, 0);
    sd_workload_tensors(&w, &t);
    assert_int_equal(t.in[0], 320 * 64 * 64);
    assert_int_equal(t.in[1], 640 * 320);
    assert_int_equal(t.out, 640 * 64 * 64);

    /* attention: Q, K, V in, O out; the score matrix is not compulsory traffic */
    w = attn(16, 4096, 77, 40);
    w.dtype = SD_FP16;
    sd_workload_tensors(&w, &t);
    assert_int_equal(t.n_in, 3);
    assert_int_equal(t.in[0], 16 * 4096 * 40);
    assert_int_equal(t.in[1], 16 * 77 * 40);
    assert_int_equal(t.in[2], 16 * 77 * 40);
    assert_int_equal(t.out, 16 * 4096 * 40);
    assert_true(sd_workload_bytes_min(&w) == (2.0 * 16 * 4096 * 40 + 2.0 * 16 * 77 * 40) * 2);

    w.op = SD_OP_COUNT;
    sd_workload_tensors(&w, &t);
    assert_int_equal(t.n_in, 0);
    assert_int_equal(t.out, 0);
    assert_true(sd_workload_bytes_min(&w) == 0);
}

static void test_shape_str(void **state)
{
    (void)state;
    char buf[128];
    struct sd_workload w = gemm(1, 8192, 320, 768);
    sd_workload_shape_str(&w, buf, sizeof buf);
    assert_string_equal(buf, "m=8192 n=320 k=768");
    w.batch = 4;
    sd_workload_shape_str(&w, buf, sizeof buf);
    assert_string_equal(buf, "b=4 m=8192 n=320 k=768");
    w = conv(2, 320, 640, 32, 32, 3, 3, 2, 1);
    sd_workload_shape_str(&w, buf, sizeof buf);
    assert_string_equal(buf, "2x320x32x32->640 3x3 s2 p1");
    w = attn(16, 4096, 77, 40);
    sd_workload_shape_str(&w, buf, sizeof buf);
    assert_string_equal(buf, "bh=16 q=4096 kv=77 d=40");
    w.op = SD_OP_COUNT;
    sd_workload_shape_str(&w, buf, sizeof buf);
    assert_string_equal(buf, "?");
    w = gemm(1, 1, 2, 3);
    sd_workload_shape_str(&w, buf, 6); /* truncates safely */
    assert_string_equal(buf, "m=1 n");
}

/* ------------------------------------------------------------------ validation */

static void test_validate_ok(void **state)
{
    (void)state;
    struct sd_workload w = gemm(1, 8192, 320, 320);
    expect_valid(&w);
    w = conv(2, 320, 320, 64, 64, 3, 3, 1, 1);
    expect_valid(&w);
    w = conv(2, 320, 320, 32, 32, 3, 3, 2, 1);
    expect_valid(&w);
    w = conv(1, 4, 4, 64, 64, 1, 1, 1, 0);
    expect_valid(&w);
    w = attn(16, 4096, 77, 40);
    expect_valid(&w);
    w.count = 0; /* count 0 = reference row */
    expect_valid(&w);
}

static void test_validate_zero_negative(void **state)
{
    (void)state;
    struct sd_workload w = gemm(1, 0, 1, 1);
    expect_invalid(&w, "m=0 must be a positive integer (impossible shape)");
    w = gemm(1, 1, -3, 1);
    expect_invalid(&w, "n=-3 must be a positive integer (impossible shape)");
    w = gemm(0, 1, 1, 1);
    expect_invalid(&w, "batch=0 must be a positive integer (impossible shape)");
    w = gemm(1, 1, 1, INT64_MIN);
    expect_invalid(&w, "k=-9223372036854775808 must be a positive integer (impossible shape)");
    w = conv(1, 1, 0, 4, 4, 1, 1, 1, 0);
    expect_invalid(&w, "c_out=0 must be a positive integer (impossible shape)");
    w = conv(1, 1, 1, 4, 4, 1, 1, -1, 0);
    expect_invalid(&w, "stride=-1 must be a positive integer (impossible shape)");
    w = conv(1, 1, 1, 4, 4, 3, 3, 1, -1);
    expect_invalid(&w, "pad=-1 must not be negative");
    w = attn(1, 1, 1, 0);
    expect_invalid(&w, "head_dim=0 must be a positive integer (impossible shape)");
    w = attn(-1, 1, 1, 1);
    expect_invalid(&w, "batch_heads=-1 must be a positive integer (impossible shape)");
    w = gemm(1, 1, 1, 1);
    w.count = -1;
    expect_invalid(&w, "count must be a finite number >= 0");
    w.count = NAN;
    expect_invalid(&w, "count must be a finite number >= 0");
    w.count = INFINITY;
    expect_invalid(&w, "count must be a finite number >= 0");
    w.op = SD_OP_COUNT;
    expect_invalid(&w, "unknown op");
    /* gemm ignores conv keys, and vice versa (only the op's dims are checked) */
    w = gemm(1, 1, 1, 1);
    w.h = -5;
    expect_valid(&w);
}

static void test_validate_overflow(void **state)
{
    (void)state;
    const char *ovf = "shape too large: a tensor's byte count overflows 64 bits";
    struct sd_workload w = gemm(1, INT64_MAX, INT64_MAX, 1);
    expect_invalid(&w, ovf);
    w = gemm(1, (int64_t)1 << 62, 1, 1); /* 2^62 elements * 4 bytes = 2^64 */
    expect_invalid(&w, ovf);
    w = gemm(1, (int64_t)1 << 61, 1, 1); /* A: 2^63 bytes fits, FLOPs 2^62 fit */
    expect_valid(&w);
    w = gemm(1, 1 << 21, 1 << 21, 1 << 21); /* flops 2*2^63 = 2^64 */
    expect_invalid(&w, ovf);
    w = gemm(2, 1 << 30, 1 << 30, 1); /* C: 2*2^60*4 = 2^63 bytes fits; flops 2^62 */
    expect_valid(&w);
    w = gemm(4, 1 << 30, 1 << 30, 1); /* C: 2^64 bytes */
    expect_invalid(&w, ovf);
    w = attn(1, (int64_t)1 << 31, (int64_t)1 << 31, 1); /* scores 2^62 * 4 = 2^64 */
    expect_invalid(&w, ovf);
    w = attn(1, (int64_t)1 << 30, (int64_t)1 << 30, 2); /* scores 2^62 bytes, flops 2^63 */
    expect_valid(&w);
    w = conv(1, (int64_t)1 << 40, 1, (int64_t)1 << 20, 4, 1, 1, 1, 0);
    expect_invalid(&w, ovf);
    w = conv(INT64_MAX, INT64_MAX, INT64_MAX, INT64_MAX, INT64_MAX, 1, 1, 1, 0);
    expect_invalid(&w, ovf);
}

static void test_validate_conv_shape(void **state)
{
    (void)state;
    struct sd_workload w = conv(1, 1, 1, 4, 4, 3, 3, 1, 0);
    expect_invalid(&w, "impossible conv shape: input 4x4 (h*stride) with r=3 s=3 pad=0 stride=1 gives 2x2, not h=4 w=4");
    w = conv(1, 1, 1, 32, 32, 3, 3, 2, 0); /* input 64, (64-3)/2+1 = 31 */
    expect_invalid(&w,
                   "impossible conv shape: input 64x64 (h*stride) with r=3 s=3 pad=0 stride=2 gives 31x31, not h=32 w=32");
    w = conv(1, 1, 1, 8, 8, 3, 1, 1, 1); /* w: (8+2-1)/1+1 = 10 */
    expect_invalid(&w, "impossible conv shape: input 8x8 (h*stride) with r=3 s=1 pad=1 stride=1 gives 8x10, not h=8 w=8");
    w = conv(1, 1, 1, 8, 8, 1, 1, 1, 0);
    expect_valid(&w);
    w = conv(1, 1, 1, 8, 8, 5, 5, 1, 2);
    expect_valid(&w);
    w = conv(1, 1, 1, 8, 8, 65, 1, 1, 32);
    expect_invalid(&w, "r, s, stride and pad must be <= 64");
    w = conv(1, 1, 1, 8, 8, 1, 1, 65, 0);
    expect_invalid(&w, "r, s, stride and pad must be <= 64");
    w = conv(1, 1, 1, 8, 8, 1, 1, 1, 65);
    expect_invalid(&w, "r, s, stride and pad must be <= 64");
    /* a short error buffer truncates, never overflows */
    char err[10];
    w = conv(1, 1, 1, 4, 4, 3, 3, 1, 0);
    assert_int_equal(sd_workload_validate(&w, err, sizeof err), -1);
    assert_string_equal(err, "impossibl");
}

/* ------------------------------------------------------------------ names */

static void test_op_dtype_names(void **state)
{
    (void)state;
    const char *ops[] = {"gemm", "conv2d", "attention"};
    for (int i = 0; i < SD_OP_COUNT; i++) {
        enum sd_op op = SD_OP_COUNT;
        assert_string_equal(sd_op_name((enum sd_op)i), ops[i]);
        assert_int_equal(sd_op_parse(ops[i], &op), 0);
        assert_int_equal(op, i);
    }
    enum sd_op op = SD_OP_GEMM;
    assert_int_equal(sd_op_parse("Gemm", &op), -1);
    assert_int_equal(sd_op_parse("", &op), -1);
    assert_int_equal(sd_op_parse("gemm ", &op), -1);
    assert_int_equal(sd_op_parse("conv", &op), -1);
    assert_string_equal(sd_op_name(SD_OP_COUNT), "?");
    assert_string_equal(sd_op_name((enum sd_op)-1), "?");

    const char *dts[] = {"fp32", "tf32", "fp16", "bf16"};
    const size_t sizes[] = {4, 4, 2, 2};
    for (int i = 0; i < SD_DTYPE_COUNT; i++) {
        enum sd_dtype t = SD_DTYPE_COUNT;
        assert_string_equal(sd_dtype_name((enum sd_dtype)i), dts[i]);
        assert_int_equal(sd_dtype_parse(dts[i], &t), 0);
        assert_int_equal(t, i);
        assert_int_equal(sd_dtype_size(t), sizes[i]);
    }
    enum sd_dtype t = SD_FP32;
    assert_int_equal(sd_dtype_parse("FP16", &t), -1);
    assert_int_equal(sd_dtype_parse("fp64", &t), -1);
    assert_int_equal(sd_dtype_parse("", &t), -1);
    assert_int_equal(t, SD_FP32); /* untouched on failure */
    assert_string_equal(sd_dtype_name(SD_DTYPE_COUNT), "?");
}

/* ------------------------------------------------------------------ fp16 / bf16 */

static uint32_t fbits(float f)
{
    uint32_t x;
    memcpy(&x, &f, 4);
    return x;
}

static float bitsf(uint32_t x)
{
    float f;
    memcpy(&f, &x, 4);
    return f;
}

static void test_half_exact_values(void **state)
{
    (void)state;
    struct { float f; uint16_t h; } v[] = {
        {0.0f, 0x0000},      {1.0f, 0x3c00},       {-2.0f, 0xc000},       {0.5f, 0x3800},
        {65504.0f, 0x7bff},  {-65504.0f, 0xfbff},  {6.103515625e-05f, 0x0400}, /* min normal */
        {5.9604645e-08f, 0x0001},                  /* min subnormal 2^-24 */
        {6.0975552e-05f, 0x03ff},                  /* max subnormal 1023*2^-24 */
        {0.333251953125f, 0x3555},                 {1024.0f, 0x6400},     {3.140625f, 0x4248},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        assert_int_equal(sd_float_to_half(v[i].f), v[i].h);
        assert_true(sd_half_to_float(v[i].h) == v[i].f);
    }
    assert_int_equal(sd_float_to_half(-0.0f), 0x8000);
    assert_int_equal(fbits(sd_half_to_float(0x8000)), 0x80000000u);
    assert_int_equal(sd_float_to_half(0.1f), 0x2e66); /* 0.0999755859375 */
}

static void test_half_rounding(void **state)
{
    (void)state;
    /* ties to even between 1.0 (0x3c00) and 1+2^-10 (0x3c01): 1+2^-11 is the midpoint */
    assert_int_equal(sd_float_to_half(1.0f + 0x1p-11f), 0x3c00);
    assert_int_equal(sd_float_to_half(1.0f + 0x1p-11f + 0x1p-23f), 0x3c01); /* just above: up */
    assert_int_equal(sd_float_to_half(1.0f + 0x1p-11f - 0x1p-23f), 0x3c00); /* just below: down */
    assert_int_equal(sd_float_to_half(1.0f + 3 * 0x1p-11f), 0x3c02);        /* tie 0x3c01|0x3c02 -> even */
    assert_int_equal(sd_float_to_half(-(1.0f + 3 * 0x1p-11f)), 0xbc02);
    /* overflow: 65504 is the max; 65519.99 rounds down, 65520 (midpoint to 2^16) rounds to inf */
    assert_int_equal(sd_float_to_half(65519.0f), 0x7bff);
    assert_int_equal(sd_float_to_half(65520.0f), 0x7c00);
    assert_int_equal(sd_float_to_half(-65520.0f), 0xfc00);
    assert_int_equal(sd_float_to_half(1e10f), 0x7c00);
    assert_int_equal(sd_float_to_half(3.4028235e38f), 0x7c00);
    /* subnormals: 2^-25 is the midpoint between 0 and 2^-24 -> even (0) */
    assert_int_equal(sd_float_to_half(0x1p-25f), 0x0000);
    assert_int_equal(sd_float_to_half(0x1p-25f * 1.0000001f), 0x0001);
    assert_int_equal(sd_float_to_half(3 * 0x1p-25f), 0x0002); /* midpoint of 1 and 2 -> 2 */
    assert_int_equal(sd_float_to_half(5 * 0x1p-25f), 0x0002); /* midpoint of 2 and 3 -> 2 */
    assert_int_equal(sd_float_to_half(0x1p-26f), 0x0000);
    assert_int_equal(sd_float_to_half(-0x1p-26f), 0x8000);
    assert_int_equal(sd_float_to_half(1e-40f), 0x0000);       /* fp32 subnormal */
    assert_int_equal(sd_float_to_half(-1e-45f), 0x8000);
    /* largest subnormal rounding up carries into the smallest normal */
    assert_int_equal(sd_float_to_half(1023.5f * 0x1p-24f + 0x1p-36f), 0x0400);
    assert_int_equal(sd_float_to_half(1023.5f * 0x1p-24f), 0x0400); /* tie: 1023 odd -> 1024 */
    assert_int_equal(sd_float_to_half(1022.5f * 0x1p-24f), 0x03fe); /* tie: 1022 even stays */
}

static void test_half_inf_nan(void **state)
{
    (void)state;
    assert_int_equal(sd_float_to_half(INFINITY), 0x7c00);
    assert_int_equal(sd_float_to_half(-INFINITY), 0xfc00);
    assert_true(isinf(sd_half_to_float(0x7c00)) && sd_half_to_float(0x7c00) > 0);
    assert_true(isinf(sd_half_to_float(0xfc00)) && sd_half_to_float(0xfc00) < 0);
    uint16_t h = sd_float_to_half(NAN);
    assert_int_equal(h & 0x7c00, 0x7c00);
    assert_true((h & 0x3ff) != 0);
    /* NaN with payload bits only in the low 13 (dropped) mantissa bits stays NaN (quiet bit set) */
    h = sd_float_to_half(bitsf(0x7f800001u));
    assert_int_equal(h & 0x7c00, 0x7c00);
    assert_true((h & 0x3ff) != 0);
    h = sd_float_to_half(bitsf(0xffc00000u)); /* negative quiet NaN */
    assert_int_equal(h & 0xfc00, 0xfc00);
    assert_true((h & 0x3ff) != 0);
    assert_true(isnan(sd_half_to_float(0x7e00)));
    assert_true(isnan(sd_half_to_float(0x7c01)));
    assert_true(isnan(sd_half_to_float(0xffff)));
}

static void test_half_all_values_round_trip(void **state)
{
    (void)state;
    for (uint32_t i = 0; i < 65536; i++) {
        uint16_t h = (uint16_t)i;
        float f = sd_half_to_float(h);
        unsigned e = (h >> 10) & 0x1f, m = h & 0x3ff;
        /* reference value: (-1)^s * m * 2^-24 (subnormal) or (1024+m) * 2^(e-25) */
        if (e == 31) {
            assert_true(m ? isnan(f) : isinf(f));
        } else {
            double ref = e == 0 ? ldexp(m, -24) : ldexp(1024 + m, (int)e - 25);
            if (h & 0x8000)
                ref = -ref;
            assert_true((double)f == ref);
            assert_true(!!signbit(f) == !!(h & 0x8000));
        }
        uint16_t back = sd_float_to_half(f);
        if (e == 31 && m)
            assert_true((back & 0x7c00) == 0x7c00 && (back & 0x3ff) && (back & 0x8000) == (h & 0x8000));
        else
            assert_int_equal(back, h);
    }
}

static void test_bf16(void **state)
{
    (void)state;
    assert_int_equal(sd_float_to_bf16(1.0f), 0x3f80);
    assert_int_equal(sd_float_to_bf16(-2.0f), 0xc000);
    assert_int_equal(sd_float_to_bf16(0.0f), 0x0000);
    assert_int_equal(sd_float_to_bf16(-0.0f), 0x8000);
    /* ties to even: 1+2^-8 is the midpoint between 0x3f80 and 0x3f81 */
    assert_int_equal(sd_float_to_bf16(1.0f + 0x1p-8f), 0x3f80);
    assert_int_equal(sd_float_to_bf16(1.0f + 0x1p-8f + 0x1p-23f), 0x3f81);
    assert_int_equal(sd_float_to_bf16(1.0f + 3 * 0x1p-8f), 0x3f82);
    assert_int_equal(sd_float_to_bf16(3.1415927f), 0x4049);
    /* overflow to inf when rounding up the largest finite float */
    assert_int_equal(sd_float_to_bf16(3.4028235e38f), 0x7f80);
    assert_int_equal(sd_float_to_bf16(bitsf(0x7f7f7fffu)), 0x7f7f); /* just below the midpoint */
    assert_int_equal(sd_float_to_bf16(INFINITY), 0x7f80);
    assert_int_equal(sd_float_to_bf16(-INFINITY), 0xff80);
    /* subnormals keep their top bits */
    assert_int_equal(sd_float_to_bf16(bitsf(0x00010000u)), 0x0001);
    assert_int_equal(sd_float_to_bf16(bitsf(0x00018000u)), 0x0002); /* tie, odd -> up */
    /* NaN stays NaN even when only low payload bits are set (no rounding into inf) */
    uint16_t b = sd_float_to_bf16(bitsf(0x7f800001u));
    assert_int_equal(b & 0x7f80, 0x7f80);
    assert_true((b & 0x7f) != 0);
    b = sd_float_to_bf16(bitsf(0xffffffffu));
    assert_true(isnan(sd_bf16_to_float(b)));
    assert_true(sd_bf16_to_float(0x3f80) == 1.0f);
    assert_int_equal(fbits(sd_bf16_to_float(0x1234)), 0x12340000u);
    /* all 65536 values round trip (NaNs stay NaN) */
    for (uint32_t i = 0; i < 65536; i++) {
        float f = sd_bf16_to_float((uint16_t)i);
        uint16_t back = sd_float_to_bf16(f);
        if (isnan(f))
            assert_true(isnan(sd_bf16_to_float(back)));
        else
            assert_int_equal(back, i);
    }
}

static void test_round_to_dtype(void **state)
{
    (void)state;
    float x[4] = {1.0f + 0x1p-12f, 0.1f, 1e6f, 70000.0f};
    float y[4];
    memcpy(y, x, sizeof x);
    sd_round_to_dtype(y, 4, SD_FP32);
    assert_memory_equal(x, y, sizeof x);
    sd_round_to_dtype(y, 4, SD_TF32); /* the device's business */
    assert_memory_equal(x, y, sizeof x);
    sd_round_to_dtype(y, 4, SD_FP16);
    assert_true(y[0] == 1.0f);
    assert_true(y[1] == 0.0999755859375f);
    assert_true(isinf(y[2]) && isinf(y[3]));
    memcpy(y, x, sizeof x);
    sd_round_to_dtype(y, 4, SD_BF16);
    assert_true(y[0] == 1.0f);
    assert_true(y[1] == sd_bf16_to_float(0x3dcd));
    assert_true(y[3] == 70144.0f);
    sd_round_to_dtype(NULL, 0, SD_FP16); /* n = 0: nothing touched */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_defaults),
        cmocka_unit_test(test_flops),
        cmocka_unit_test(test_tensors_and_bytes),
        cmocka_unit_test(test_shape_str),
        cmocka_unit_test(test_validate_ok),
        cmocka_unit_test(test_validate_zero_negative),
        cmocka_unit_test(test_validate_overflow),
        cmocka_unit_test(test_validate_conv_shape),
        cmocka_unit_test(test_op_dtype_names),
        cmocka_unit_test(test_half_exact_values),
        cmocka_unit_test(test_half_rounding),
        cmocka_unit_test(test_half_inf_nan),
        cmocka_unit_test(test_half_all_values_round_trip),
        cmocka_unit_test(test_bf16),
        cmocka_unit_test(test_round_to_dtype),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
