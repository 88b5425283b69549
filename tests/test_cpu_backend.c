/* test_cpu_backend.c — what only the cpu backend has (OpenBLAS; oneDNN where built with it): device
 * info, OOM via SDMARK_CPU_MEM_LIMIT, unsupported dtypes with their reasons, oneDNN's dtype rules and
 * bf16 precision, peak-memory accounting (oneDNN's scratchpad and score matrix included). Every impl x
 * dtype at odd sizes against the fp64 reference (and poison) is tests/test_backend_ops.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdmark/backend.h"
#include "sdmark/cpu_features.h"
#include "sdmark/verify.h"
#include "sdmark/workload.h"
#include "shapes.h"

#ifdef SDMARK_WITH_CPU

static const struct sd_backend_ops *ops(void)
{
    const struct sd_backend_ops *o = sd_backend_find("cpu");
    assert_non_null(o);
    return o;
}

static void *open_cpu(void)
{
    void *ctx = NULL;
    char reason[SD_REASON_LEN] = "";
    assert_int_equal(ops()->open(0, &ctx, reason, sizeof reason), SD_OK);
    assert_non_null(ctx);
    return ctx;
}

static void test_info(void **state)
{
    (void)state;
    const struct sd_backend_ops *o = ops();
    assert_string_equal(o->name, "cpu");
    struct sd_device_info d[2];
    assert_int_equal(o->probe(d, 2), 1);
    assert_int_equal(o->probe(NULL, 0), 1);
    assert_string_equal(d[0].backend, "cpu");
    assert_true(strlen(d[0].name) > 0);
    assert_true(strlen(d[0].arch) > 0);
    assert_true(d[0].compute_units >= 1);
    assert_true(d[0].mem_bytes > 0);
    assert_true(d[0].threads >= 1);
    assert_false(d[0].fp16);
    assert_true(strncmp(d[0].api_version, "OpenBLAS", 8) == 0);
    void *ctx = open_cpu();
    struct sd_device_info info;
    o->device_info(ctx, &info);
    fprintf(stderr, "  name '%s' vendor '%s' arch '%s' api '%s' driver '%s' cu %d clock %d MHz\n"
                    "  mem %.1f GiB llc %.1f MiB threads %d limit %.1f GiB\n",
            info.name, info.vendor, info.arch, info.api_version, info.driver_version,
            info.compute_units, info.clock_mhz, info.mem_bytes / 1073741824.0,
            info.l2_bytes / 1048576.0, info.threads, info.max_alloc_bytes / 1073741824.0);
    assert_string_equal(o->timer_name(ctx), "host_monotonic");
    char reason[SD_REASON_LEN];
    void *ctx2 = NULL;
    assert_int_not_equal(o->open(1, &ctx2, reason, sizeof reason), SD_OK);
    o->close(ctx);
    assert_string_equal(o->impls[SD_OP_GEMM][0], "openblas");
    assert_string_equal(o->impls[SD_OP_CONV2D][0], "im2col");
    assert_string_equal(o->impls[SD_OP_ATTENTION][0], "unfused");
    assert_string_equal(o->impls[SD_OP_ATTENTION][1], "sliced");
#ifdef SDMARK_HAVE_ONEDNN
    assert_string_equal(o->impls[SD_OP_GEMM][1], "onednn");
    assert_string_equal(o->impls[SD_OP_CONV2D][1], "onednn");
    assert_string_equal(o->impls[SD_OP_ATTENTION][2], "onednn_unfused");
    assert_string_equal(o->impls[SD_OP_ATTENTION][3], "onednn_sliced");
    assert_null(o->impls[SD_OP_ATTENTION][4]);
    assert_non_null(strstr(d[0].api_version, "+ oneDNN 2."));
    assert_non_null(strstr(d[0].driver_version, "onednn isa "));
#else
    assert_null(o->impls[SD_OP_GEMM][1]);
    assert_null(o->impls[SD_OP_ATTENTION][2]);
#endif
}

/* Does the backend run impl at bf16 here? onednn impls where the device reports a bf16 unit. */
static int bf16_expected(const char *impl)
{
    struct sd_device_info d;
    ops()->probe(&d, 1);
    return d.bf16 && !strncmp(impl, "onednn", 6);
}

static void test_unsupported(void **state)
{
    (void)state;
    void *ctx = open_cpu();
    char reason[SD_REASON_LEN] = "";
    struct sd_plan *p = (struct sd_plan *)1;
    struct sd_workload g = gemm_wl(1, 8, 8, 8);
    g.dtype = SD_FP16;
    assert_int_equal(ops()->supports(ctx, &g, "openblas", reason, sizeof reason), SD_UNSUPPORTED);
    assert_non_null(strstr(reason, "fp32"));
    assert_non_null(strstr(reason, "fp16"));
    reason[0] = 0;
    assert_int_equal(ops()->prepare(ctx, &g, "openblas", 1, &p, reason, sizeof reason), SD_UNSUPPORTED);
    assert_null(p);
    assert_true(strlen(reason) > 0);
    g.dtype = SD_BF16;
    assert_int_equal(ops()->supports(ctx, &g, "openblas", reason, sizeof reason), SD_UNSUPPORTED);
    g.dtype = SD_TF32;
    assert_int_equal(ops()->supports(ctx, &g, "openblas", reason, sizeof reason), SD_UNSUPPORTED);
    g.dtype = SD_FP32;
    g.acc = SD_FP16;
    assert_int_equal(ops()->supports(ctx, &g, "openblas", reason, sizeof reason), SD_UNSUPPORTED);
    g.acc = SD_FP32;
    assert_int_equal(ops()->supports(ctx, &g, "openblas", reason, sizeof reason), SD_OK);
    assert_int_equal(ops()->supports(ctx, &g, "cublas", reason, sizeof reason), SD_UNSUPPORTED);
    assert_non_null(strstr(reason, "cublas"));
    struct sd_workload a = attn_wl(1, 4, 4, 4);
    a.dtype = SD_FP16;
    assert_int_equal(ops()->supports(ctx, &a, "flash", reason, sizeof reason), SD_UNSUPPORTED);
    assert_int_equal(ops()->supports(ctx, &a, "sliced", reason, sizeof reason), SD_UNSUPPORTED);
    struct sd_mem_stats ms;
    ops()->mem_stats(ctx, &ms);
    assert_int_equal(ms.current_bytes, 0);
    ops()->close(ctx);
}

static void test_oom_limit(void **state)
{
    (void)state;
    /* bh=4, 512x512 scores = 4 MiB; q/k/v/out = 4*512*40*4 = 320 KiB each */
    struct sd_workload a = attn_wl(4, 512, 512, 40);
    setenv("SDMARK_CPU_MEM_LIMIT", "3M", 1);
    void *ctx = open_cpu();
    unsetenv("SDMARK_CPU_MEM_LIMIT");
    char reason[SD_REASON_LEN] = "";
    struct sd_plan *p = NULL;
    assert_int_equal(ops()->prepare(ctx, &a, "unfused", 1, &p, reason, sizeof reason), SD_OOM);
    assert_null(p);
    assert_non_null(strstr(reason, "score matrix"));
    assert_non_null(strstr(reason, "SDMARK_CPU_MEM_LIMIT"));
    struct sd_mem_stats ms;
    ops()->mem_stats(ctx, &ms);
    assert_int_equal(ms.current_bytes, 0);

    /* sliced needs 1 MiB of scores: fits */
    assert_int_equal(ops()->prepare(ctx, &a, "sliced", 1, &p, reason, sizeof reason), SD_OK);
    ops()->mem_stats(ctx, &ms);
    assert_true(ms.current_bytes > 1024 * 1024 && ms.current_bytes < 3 * 1024 * 1024);
    ops()->release(p);
    p = NULL;

    /* a later allocation fails (inputs of 8 sets): what was allocated is freed again */
    assert_int_equal(ops()->prepare(ctx, &a, "sliced", 8, &p, reason, sizeof reason), SD_OOM);
    assert_null(p);
    assert_non_null(strstr(reason, "input"));
    ops()->mem_stats(ctx, &ms);
    assert_int_equal(ms.current_bytes, 0);
    assert_true(ms.peak_bytes <= 3 * 1024 * 1024);
    ops()->close(ctx);

    /* byte count without suffix */
    setenv("SDMARK_CPU_MEM_LIMIT", "1000", 1);
    ctx = open_cpu();
    unsetenv("SDMARK_CPU_MEM_LIMIT");
    struct sd_workload g = gemm_wl(1, 16, 16, 16); /* 1 KiB per matrix */
    assert_int_equal(ops()->prepare(ctx, &g, "openblas", 1, &p, reason, sizeof reason), SD_OOM);
    ops()->close(ctx);

    /* default limit: RAM/2, an absurd row is an honest OOM, not a malloc attempt */
    ctx = open_cpu();
    struct sd_device_info info;
    ops()->device_info(ctx, &info);
    assert_true(info.max_alloc_bytes > 0 && info.max_alloc_bytes <= info.mem_bytes / 2 + 1);
    struct sd_workload huge = attn_wl(64, 65536, 65536, 40); /* 1 TiB of scores */
    assert_int_equal(ops()->prepare(ctx, &huge, "unfused", 1, &p, reason, sizeof reason), SD_OOM);
    fprintf(stderr, "  oom reason: %s\n", reason);
    ops()->close(ctx);
}

static void test_peak_accounting(void **state)
{
    (void)state;
    struct sd_workload a = attn_wl(8, 256, 300, 40);
    const uint64_t score_bytes = 8ull * 256 * 300 * 4, slice_bytes = 256ull * 300 * 4;
    const uint64_t io_bytes = (8ull * 256 * 40 * 2 + 8ull * 300 * 40 * 2) * 4; /* q,o + k,v */
    void *ctx = open_cpu();
    char reason[SD_REASON_LEN];
    struct sd_plan *p = NULL;
    struct sd_mem_stats ms;

    ops()->reset_peak(ctx);
    assert_int_equal(ops()->prepare(ctx, &a, "unfused", 1, &p, reason, sizeof reason), SD_OK);
    assert_int_equal(ops()->run(p, 0, NULL, reason, sizeof reason), SD_OK);
    ops()->release(p);
    ops()->mem_stats(ctx, &ms);
    uint64_t peak_unfused = ms.peak_bytes;
    assert_int_equal(ms.current_bytes, 0);
    assert_true(peak_unfused >= score_bytes);
    assert_true(peak_unfused == score_bytes + io_bytes);
    assert_true(ms.device_total > 0);

    ops()->reset_peak(ctx);
    ops()->mem_stats(ctx, &ms);
    assert_int_equal(ms.peak_bytes, 0);
    assert_int_equal(ops()->prepare(ctx, &a, "sliced", 1, &p, reason, sizeof reason), SD_OK);
    assert_int_equal(ops()->run(p, 0, NULL, reason, sizeof reason), SD_OK);
    ops()->release(p);
    ops()->mem_stats(ctx, &ms);
    assert_true(ms.peak_bytes < peak_unfused);
    assert_true(ms.peak_bytes == slice_bytes + io_bytes);

    /* im2col workspace is tracked; 1x1 convs need none */
    struct sd_workload c3 = conv_wl(2, 16, 8, 10, 10, 3, 1, 1), c1 = conv_wl(2, 16, 8, 10, 10, 1, 1, 0);
    ops()->reset_peak(ctx);
    assert_int_equal(ops()->prepare(ctx, &c3, "im2col", 1, &p, reason, sizeof reason), SD_OK);
    ops()->mem_stats(ctx, &ms);
    assert_true(ms.current_bytes == (2ull * 16 * 100 + 8ull * 16 * 9 + 2ull * 8 * 100 + 16ull * 9 * 100) * 4);
    ops()->release(p);
    assert_int_equal(ops()->prepare(ctx, &c1, "im2col", 1, &p, reason, sizeof reason), SD_OK);
    ops()->mem_stats(ctx, &ms);
    assert_true(ms.current_bytes == (2ull * 16 * 100 + 8ull * 16 + 2ull * 8 * 100) * 4);
    ops()->release(p);

    /* input sets are counted */
    struct sd_workload g = gemm_wl(1, 64, 32, 16);
    ops()->reset_peak(ctx);
    assert_int_equal(ops()->prepare(ctx, &g, "openblas", 3, &p, reason, sizeof reason), SD_OK);
    ops()->mem_stats(ctx, &ms);
    assert_true(ms.current_bytes == (3ull * (64 * 16 + 16 * 32) + 64 * 32) * 4);
    assert_true(ms.peak_bytes == ms.current_bytes);
    ops()->release(p);
    ops()->close(ctx);
}

#ifdef SDMARK_HAVE_ONEDNN
#include "../src/backends/cpu/cpu_onednn.h"

/* dtype reasons, decided from the CPU's flags (fake feature sets: any machine tests every branch). */
static void test_onednn_dtype_rules(void **state)
{
    (void)state;
    struct sd_cpu_features none, fp16;
    memset(&none, 0, sizeof none);
    sd_cpu_features_parse_flags(&none, "sse2 avx avx2 fma avx512f");
    sd_cpu_features_parse_flags(&fp16, "sse2 avx avx2 fma avx512f avx512_bf16 avx512_fp16 amx_tile amx_bf16");
    char reason[SD_REASON_LEN] = "";
    struct sd_workload g = gemm_wl(1, 8, 8, 8);
    assert_int_equal(cpu_dnnl_supports(&none, &g, reason, sizeof reason), SD_OK);
    g.dtype = SD_BF16;
    assert_int_equal(cpu_dnnl_supports(&none, &g, reason, sizeof reason), SD_UNSUPPORTED);
    assert_non_null(strstr(reason, "AVX512-BF16"));
    assert_false(cpu_dnnl_has_bf16(&none));
    g.dtype = SD_FP16;
    assert_int_equal(cpu_dnnl_supports(&none, &g, reason, sizeof reason), SD_UNSUPPORTED);
    assert_non_null(strstr(reason, "no AVX512-FP16"));
    assert_int_equal(cpu_dnnl_supports(&fp16, &g, reason, sizeof reason), SD_UNSUPPORTED);
    assert_non_null(strstr(reason, "oneDNN 2."));
    g.dtype = SD_TF32;
    assert_int_equal(cpu_dnnl_supports(&fp16, &g, reason, sizeof reason), SD_UNSUPPORTED);
    g.dtype = SD_FP32;
    g.acc = SD_FP16;
    assert_int_equal(cpu_dnnl_supports(&fp16, &g, reason, sizeof reason), SD_UNSUPPORTED);
    assert_non_null(strstr(reason, "fp32"));

    /* this machine: the device's bf16 flag follows its CPU flags */
    struct sd_cpu_features here;
    sd_cpu_features_read(&here, NULL);
    struct sd_device_info d;
    ops()->probe(&d, 1);
    fprintf(stderr, "  %s, %s; bf16 %s\n", d.api_version, d.driver_version, d.bf16 ? "yes" : "no");
    if (!here.avx512_bf16 && !here.amx_bf16)
        assert_false(d.bf16);
    void *ctx = open_cpu();
    g.acc = SD_FP32;
    g.dtype = SD_FP16;
    assert_int_equal(ops()->supports(ctx, &g, "onednn", reason, sizeof reason), SD_UNSUPPORTED);
    assert_non_null(strstr(reason, "AVX512-FP16"));
    ops()->close(ctx);
}

/* Largest |out - ref| beyond half a bf16 ulp of ref (2^-8 |ref|: what storing the exact result in
 * bf16 may cost), relative to rms(ref); and the plain max error relative to rms in *plain. */
static double bf16_excess(const struct sd_workload *wl, const char *impl, double *plain)
{
    void *ctx = open_cpu();
    char reason[SD_REASON_LEN] = "";
    struct sd_tensors t;
    sd_workload_tensors(wl, &t);
    float *in[3] = {0};
    for (int i = 0; i < t.n_in; i++) {
        in[i] = malloc(t.in[i] * sizeof(float));
        sd_fill_random(in[i], t.in[i], 77 + i);
        sd_round_to_dtype(in[i], t.in[i], wl->dtype);
    }
    struct sd_plan *p = NULL;
    assert_int_equal(ops()->prepare(ctx, wl, impl, 1, &p, reason, sizeof reason), SD_OK);
    assert_int_equal(ops()->upload(p, 0, (const float *const *)in, reason, sizeof reason), SD_OK);
    assert_int_equal(ops()->run(p, 0, NULL, reason, sizeof reason), SD_OK);
    float *out = malloc(t.out * sizeof(float));
    double *ref = malloc(t.out * sizeof(double));
    assert_int_equal(ops()->download(p, out, reason, sizeof reason), SD_OK);
    sd_ref(wl, (const float *const *)in, ref);
    double ss = 0, ex = 0, mx = 0;
    for (size_t i = 0; i < t.out; i++) {
        double e = fabs((double)out[i] - ref[i]);
        ss += ref[i] * ref[i];
        mx = e > mx ? e : mx;
        double over = e - ldexp(fabs(ref[i]), -8);
        ex = over > ex ? over : ex;
    }
    double rms = sqrt(ss / (double)t.out);
    *plain = mx / rms;
    ops()->release(p);
    ops()->close(ctx);
    for (int i = 0; i < t.n_in; i++)
        free(in[i]);
    free(out);
    free(ref);
    return ex / rms;
}

/* bf16 rows really store bf16 (error well above fp32's), and what they compute is the fp32-accumulated
 * result rounded once: gemm and conv stay within half a bf16 ulp of the fp64 reference (+ fp32
 * accumulation noise); attention adds its bf16 probabilities, still far inside the tolerance. */
static void test_onednn_bf16_precision(void **state)
{
    (void)state;
    if (!bf16_expected("onednn")) {
        skip(); /* this CPU/library has no bf16 unit: the bf16 rows are unsupported (tested above) */
        return;
    }
    struct sd_workload w[] = {gemm_wl(1, 64, 96, 300), conv_wl(1, 32, 48, 9, 11, 3, 1, 1),
                              attn_wl(2, 130, 129, 64)};
    const char *impl[] = {"onednn", "onednn", "onednn_unfused"};
    for (int i = 0; i < 3; i++) {
        w[i].dtype = SD_BF16;
        double plain, ex = bf16_excess(&w[i], impl[i], &plain);
        fprintf(stderr, "  %s bf16: max rel err %.3g, beyond output rounding %.3g (tolerance %.3g)\n",
                sd_op_name(w[i].op), plain, ex, sd_verify_tolerance(&w[i]));
        assert_true(plain > 1e-4 && plain < sd_verify_tolerance(&w[i]));
        assert_true(ex < (w[i].op == SD_OP_ATTENTION ? 1e-2 : 1e-4));
    }
}

/* Bytes tracked while a prepared plan of (wl, impl) is alive. */
static uint64_t plan_bytes(void *ctx, const struct sd_workload *wl, const char *impl)
{
    char reason[SD_REASON_LEN] = "";
    struct sd_plan *p = NULL;
    enum sd_status st = ops()->prepare(ctx, wl, impl, 1, &p, reason, sizeof reason);
    if (st != SD_OK)
        fprintf(stderr, "prepare %s: %s\n", impl, reason);
    assert_int_equal(st, SD_OK);
    assert_int_equal(ops()->run(p, 0, NULL, reason, sizeof reason), SD_OK);
    struct sd_mem_stats ms;
    ops()->mem_stats(ctx, &ms);
    ops()->release(p);
    return ms.current_bytes;
}

/* oneDNN's buffers are tracked: score matrix / slice, layout copies, scratchpad; OOM names them. */
static void test_onednn_memory(void **state)
{
    (void)state;
    void *ctx = open_cpu();
    struct sd_workload a = attn_wl(8, 256, 300, 40);
    const uint64_t io = (8ull * 256 * 40 * 2 + 8ull * 300 * 40 * 2) * 4;
    uint64_t unfused = plan_bytes(ctx, &a, "onednn_unfused"), sliced = plan_bytes(ctx, &a, "onednn_sliced");
    fprintf(stderr, "  attention tracked bytes: unfused %llu, sliced %llu, io %llu\n", (unsigned long long)unfused,
            (unsigned long long)sliced, (unsigned long long)io);
    assert_true(unfused >= io + 8ull * 256 * 300 * 4);
    assert_true(sliced >= io + 256ull * 300 * 4 && sliced < unfused);

    /* conv with 32 channels: oneDNN's blocked copies of input, weights and output are tracked */
    struct sd_workload c = conv_wl(2, 32, 32, 10, 10, 3, 1, 1);
    const uint64_t cio = (2ull * 32 * 100 * 2 + 32ull * 32 * 9) * 4;
    uint64_t conv = plan_bytes(ctx, &c, "onednn");
    fprintf(stderr, "  conv tracked bytes %llu (io %llu)\n", (unsigned long long)conv, (unsigned long long)cio);
    assert_true(conv >= cio);

    /* a bf16 gemm's scratchpad (oneDNN packs A/B blocks there) goes through the allocator */
    struct sd_workload g = gemm_wl(1, 512, 512, 512);
    g.dtype = bf16_expected("onednn") ? SD_BF16 : SD_FP32;
    uint64_t gio = 3ull * 512 * 512 * sd_dtype_size(g.dtype);
    uint64_t gb = plan_bytes(ctx, &g, "onednn");
    fprintf(stderr, "  %s gemm 512^3 tracked bytes %llu (io %llu)\n", sd_dtype_name(g.dtype), (unsigned long long)gb,
            (unsigned long long)gio);
    assert_true(gb >= gio);
    ops()->close(ctx);

    setenv("SDMARK_CPU_MEM_LIMIT", "3M", 1);
    ctx = open_cpu();
    unsetenv("SDMARK_CPU_MEM_LIMIT");
    char reason[SD_REASON_LEN] = "";
    struct sd_plan *p = NULL;
    struct sd_workload big = attn_wl(4, 512, 512, 40); /* 4 MiB of fp32 scores */
    assert_int_equal(ops()->prepare(ctx, &big, "onednn_unfused", 1, &p, reason, sizeof reason), SD_OOM);
    assert_null(p);
    assert_non_null(strstr(reason, "score matrix"));
    struct sd_mem_stats ms;
    ops()->mem_stats(ctx, &ms);
    assert_int_equal(ms.current_bytes, 0);
    ops()->close(ctx);
}
#endif

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_info),
        cmocka_unit_test(test_unsupported),
        cmocka_unit_test(test_oom_limit),
        cmocka_unit_test(test_peak_accounting),
#ifdef SDMARK_HAVE_ONEDNN
        cmocka_unit_test(test_onednn_dtype_rules),
        cmocka_unit_test(test_onednn_bf16_precision),
        cmocka_unit_test(test_onednn_memory),
#endif
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

#else /* no cpu backend in this build */

static void test_no_cpu_backend(void **state)
{
    (void)state;
    skip();
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_no_cpu_backend)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}

#endif
