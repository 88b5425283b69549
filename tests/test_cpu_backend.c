/* test_cpu_backend.c — what only the cpu (OpenBLAS) backend has: its device info, OOM via
 * SDMARK_CPU_MEM_LIMIT, unsupported dtypes, peak-memory accounting. Every impl at odd sizes against
 * the fp64 reference (and poison) is tests/test_backend_ops.c. */
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
    assert_null(o->impls[SD_OP_ATTENTION][2]);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_info),
        cmocka_unit_test(test_unsupported),
        cmocka_unit_test(test_oom_limit),
        cmocka_unit_test(test_peak_accounting),
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
