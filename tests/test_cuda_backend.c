/* test_cuda_backend.c — the cuda backend.
 * Host-side tests (run everywhere the backend is built, no GPU needed): the row-major ->
 * column-major cuBLAS mapping, the launch configurations and the NVML loader with a missing
 * library (the tracked-allocation accounting is the core's: test_memtrack.c).
 * GPU tests (skip with a reason when probe() finds no device): every impl x dtype at odd shapes
 * against the CPU reference, an OOM row, poison, timing, memory stats. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sdmark/backend.h"
#include "sdmark/verify.h"
#include "sdmark/workload.h"
#include "shapes.h"

#ifdef SDMARK_WITH_CUDA
#include "../src/backends/cuda/cuda_plan.h"
#include "../src/backends/cuda/nvml_loader.h"

extern const struct sd_backend_ops sd_backend_cuda;

/* ------------------------------------------------------------------ host: cuBLAS mapping */

/* Reference column-major GEMM: C(m x n, ldc) = op(A) * op(B); X(i,j) = X[i + j*ld]. */
static void colmajor_gemm(int ta, int tb, int64_t m, int64_t n, int64_t k, const double *A, int64_t lda,
                          const double *B, int64_t ldb, double *C, int64_t ldc)
{
    for (int64_t j = 0; j < n; j++)
        for (int64_t i = 0; i < m; i++) {
            double s = 0;
            for (int64_t p = 0; p < k; p++) {
                double a = ta ? A[p + i * lda] : A[i + p * lda];
                double b = tb ? B[j + p * ldb] : B[p + j * ldb];
                s += a * b;
            }
            C[i + j * ldc] = s;
        }
}

static void check_map(int64_t M, int64_t N, int64_t K, int b_trans)
{
    double *A = malloc(sizeof(double) * M * K), *B = malloc(sizeof(double) * K * N);
    double *C = malloc(sizeof(double) * M * N), *R = malloc(sizeof(double) * M * N);
    for (int64_t i = 0; i < M * K; i++)
        A[i] = (double)((i * 7 + 3) % 11) - 5;
    for (int64_t i = 0; i < K * N; i++)
        B[i] = (double)((i * 5 + 1) % 13) - 6;
    /* row-major reference: C[i][j] = sum_p A[i][p] * Bop[p][j] */
    for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < N; j++) {
            double s = 0;
            for (int64_t p = 0; p < K; p++)
                s += A[i * K + p] * (b_trans ? B[j * K + p] : B[p * N + j]);
            R[i * N + j] = s;
        }
    struct sd_cuda_colmajor cm;
    sd_cuda_gemm_colmajor_map(M, N, K, b_trans, &cm);
    assert_int_equal(cm.m, N);
    assert_int_equal(cm.n, M);
    assert_int_equal(cm.k, K);
    assert_int_equal(cm.trans_second, 0);
    colmajor_gemm(cm.trans_first, cm.trans_second, cm.m, cm.n, cm.k, B, cm.ld_first, A, cm.ld_second, C,
                  cm.ldc);
    for (int64_t i = 0; i < M * N; i++)
        assert_true(C[i] == R[i]);
    free(A);
    free(B);
    free(C);
    free(R);
}

static void test_colmajor_map(void **state)
{
    (void)state;
    check_map(3, 5, 7, 0);
    check_map(3, 5, 7, 1);
    check_map(1, 77, 1, 0);
    check_map(77, 1, 9, 1);
    check_map(33, 77, 40, 1); /* Q K^T at an attention shape */
    check_map(33, 40, 77, 0); /* P V */
    struct sd_cuda_colmajor cm;
    sd_cuda_gemm_colmajor_map(8192, 320, 640, 0, &cm);
    assert_int_equal(cm.trans_first, 0);
    assert_int_equal(cm.ld_first, 320);
    assert_int_equal(cm.ld_second, 640);
    assert_int_equal(cm.ldc, 320);
    sd_cuda_gemm_colmajor_map(4096, 77, 40, 1, &cm);
    assert_int_equal(cm.trans_first, 1);
    assert_int_equal(cm.ld_first, 40);
}

/* ------------------------------------------------------------------ host: launch configs */

static void test_igemm_config(void **state)
{
    (void)state;
    char why[160];
    struct sd_cuda_launch l;
    struct sd_cuda_igemm_args a = {0};
    a.dtype = SD_FP16;
    a.m = 1; a.n = 77; a.k = 1; a.batch = 1; a.lda = 1; a.ldb = 77; a.ldc = 77;
    assert_int_equal(sd_cuda_igemm_config(&a, &l, why, sizeof(why)), 0);
    assert_int_equal(l.grid[0], 1);
    assert_int_equal(l.grid[1], 1);
    assert_int_equal(l.grid[2], 1);
    assert_int_equal(l.block[0], 256);
    assert_int_equal(l.variant, SD_IGEMM_SCALAR);

    a.dtype = SD_BF16;
    a.m = 8192; a.n = 320; a.k = 320; a.batch = 2; a.lda = 320; a.ldb = 320; a.ldc = 320;
    a.sa = 8192 * 320; a.sb = 320 * 320; a.sc = 8192 * 320;
    assert_int_equal(sd_cuda_igemm_config(&a, &l, why, sizeof(why)), 0);
    assert_int_equal(l.grid[0], 3);   /* ceil(320/128) */
    assert_int_equal(l.grid[1], 64);  /* 8192/128 */
    assert_int_equal(l.grid[2], 2);
    assert_int_equal(l.variant, SD_IGEMM_VEC);

    a.n = 321; a.ldb = 321; a.ldc = 321; /* n not a multiple of 8: no 16-byte B chunks */
    assert_int_equal(sd_cuda_igemm_config(&a, &l, why, sizeof(why)), 0);
    assert_int_equal(l.variant, SD_IGEMM_SCALAR);

    /* conv: c_out=320, h*w=64*64, c_in*9=2880 (multiple of 8) -> vector weight loads */
    struct sd_cuda_igemm_args cv = {0};
    cv.dtype = SD_FP16; cv.conv = 1;
    cv.m = 320; cv.n = 4096; cv.k = 2880; cv.batch = 2; cv.lda = 2880; cv.ldb = 4096; cv.ldc = 4096;
    cv.sb = 320 * 64 * 64; cv.sc = 320 * 4096;
    assert_int_equal(sd_cuda_igemm_config(&cv, &l, why, sizeof(why)), 0);
    assert_int_equal(l.variant, SD_IGEMM_CONV_VECA);
    assert_int_equal(l.grid[0], 32);
    assert_int_equal(l.grid[1], 3);
    cv.k = 27; cv.lda = 27; /* c_in = 3 */
    assert_int_equal(sd_cuda_igemm_config(&cv, &l, why, sizeof(why)), 0);
    assert_int_equal(l.variant, SD_IGEMM_CONV);

    /* limits and dtypes */
    a.m = 128LL * 70000; /* grid.y > 65535 */
    assert_int_equal(sd_cuda_igemm_config(&a, &l, why, sizeof(why)), -1);
    assert_non_null(strstr(why, "grid"));
    a.m = 16; a.dtype = SD_FP32;
    assert_int_equal(sd_cuda_igemm_config(&a, &l, why, sizeof(why)), -1);
}

static void test_flash_config(void **state)
{
    (void)state;
    char why[160];
    struct sd_cuda_launch l;
    assert_int_equal(sd_cuda_flash_padded_dim(1), 32);
    assert_int_equal(sd_cuda_flash_padded_dim(40), 48);
    assert_int_equal(sd_cuda_flash_padded_dim(64), 64);
    assert_int_equal(sd_cuda_flash_padded_dim(80), 80);
    assert_int_equal(sd_cuda_flash_padded_dim(100), 128);
    assert_int_equal(sd_cuda_flash_padded_dim(160), 160);
    assert_int_equal(sd_cuda_flash_padded_dim(161), 0);

    struct sd_cuda_attn_args a = {0};
    a.dtype = SD_FP16; a.bh = 16; a.sq = 4096; a.skv = 77; a.d = 40;
    assert_int_equal(sd_cuda_flash_config(&a, &l, why, sizeof(why)), 0);
    assert_int_equal(l.variant, 48);
    assert_int_equal(l.grid[0], 64);
    assert_int_equal(l.grid[1], 16);
    assert_int_equal(l.block[0], 128);
    assert_int_equal(l.smem, 3 * 64 * 56 * 2);
    a.sq = 33; a.d = 160;
    assert_int_equal(sd_cuda_flash_config(&a, &l, why, sizeof(why)), 0);
    assert_int_equal(l.grid[0], 1);
    assert_int_equal(l.variant, 160);
    assert_true(l.smem <= 64 * 1024); /* fits sm_75's 64 KiB opt-in limit */
    a.dtype = SD_FP32;
    assert_int_equal(sd_cuda_flash_config(&a, &l, why, sizeof(why)), 0);
    assert_int_equal(l.variant, 0);
    assert_int_equal(l.block[0], 256);
    assert_int_equal(l.grid[0], 5); /* ceil(33/8) */
    assert_true(l.smem <= 48 * 1024);
    a.d = 161;
    assert_int_equal(sd_cuda_flash_config(&a, &l, why, sizeof(why)), -1);
    assert_non_null(strstr(why, "head_dim"));
    /* the VAE's head_dim 512: the wide-head kernel (fp16/bf16 only, d % 8 == 0, d <= 512) */
    a.d = 512; a.sq = 4096; a.skv = 4096; a.bh = 1;
    assert_int_equal(sd_cuda_flash_config(&a, &l, why, sizeof(why)), -1); /* fp32 */
    a.dtype = SD_BF16;
    assert_int_equal(sd_cuda_flash_config(&a, &l, why, sizeof(why)), 0);
    assert_int_equal(l.variant, 512);
    assert_int_equal(l.grid[0], 128);
    assert_int_equal(l.block[0], 256);
    assert_int_equal(l.smem, 3 * 32 * 520 * 2 + 8 * 32 * 40 * 4 + 32 * 40 * 2 + 2 * 32 * 4);
    a.d = 164;
    assert_int_equal(sd_cuda_flash_config(&a, &l, why, sizeof(why)), -1);
    a.d = 520;
    assert_int_equal(sd_cuda_flash_config(&a, &l, why, sizeof(why)), -1);
    a.d = 168;
    assert_int_equal(sd_cuda_flash_config(&a, &l, why, sizeof(why)), 0);
    assert_int_equal(l.variant, 512);
    a.dtype = SD_FP16; a.d = 161;
    a.d = 64; a.bh = 70000;
    assert_int_equal(sd_cuda_flash_config(&a, &l, why, sizeof(why)), -1);
    a.bh = 2; a.dtype = SD_TF32;
    assert_int_equal(sd_cuda_flash_config(&a, &l, why, sizeof(why)), -1);

    assert_int_equal(sd_cuda_softmax_config(65536, 4096, &l, why, sizeof(why)), 0);
    assert_int_equal(l.grid[0], 8192);
    assert_int_equal(l.block[0], 256);
    assert_int_equal(sd_cuda_softmax_config(0, 7, &l, why, sizeof(why)), -1);
}

/* ------------------------------------------------------------------ host: NVML missing */

static void test_nvml_missing(void **state)
{
    (void)state;
    char why[160] = "";
    setenv("SDMARK_NVML_LIB", "/nonexistent/sdmark-test/libnvidia-ml.so.1", 1);
    struct sd_nvml *n = sd_nvml_open("0000:00:00.0", why, sizeof(why));
    unsetenv("SDMARK_NVML_LIB");
    assert_null(n);
    assert_non_null(strstr(why, "not available"));
    struct sd_env env = {1, 1, 1, 1};
    sd_nvml_begin(NULL, 20);
    sd_nvml_end(NULL, &env);
    assert_true(env.clock_mhz_mean < 0);
    assert_true(env.temp_c_max < 0);
    assert_true(env.power_w_mean < 0);
    assert_int_equal(env.throttled, -1);
    char buf[32];
    assert_int_equal(sd_nvml_driver_version(NULL, buf, sizeof(buf)), -1);
}

/* ------------------------------------------------------------------ host: NVML energy + throttle */

static void test_nvml_pure(void **state)
{
    (void)state;
    assert_int_equal(sd_nvml_reasons_throttled(0), 0);
    assert_int_equal(sd_nvml_reasons_throttled(0x1 | 0x2 | 0x10 | 0x100), 0); /* idle, app clocks, sync, display */
    assert_int_equal(sd_nvml_reasons_throttled(0x4), 1);                      /* SW power cap */
    assert_int_equal(sd_nvml_reasons_throttled(0x40 | 0x1), 1);               /* HW thermal */
    assert_true(fabs(sd_nvml_power_from_energy(1000, 6000, 0.5) - 10.0) < 1e-12);
    assert_true(sd_nvml_power_from_energy(5000, 5000, 1.0) < 0); /* counter did not advance */
    assert_true(sd_nvml_power_from_energy(6000, 5000, 1.0) < 0); /* went backwards */
    assert_true(sd_nvml_power_from_energy(1000, 6000, 0.0) < 0);
}

/* The loader against a fake NVML: power over the row comes from the energy counter (250 W), not
 * from the stale one-second power reading (999 W); throttle reasons are read per call. */
static void test_nvml_energy_fake(void **state)
{
    (void)state;
#ifndef SDMARK_FAKE_NVML
    print_message("skipped: the fake NVML library was not built\n");
    skip();
#else
    char why[160] = "";
    setenv("SDMARK_NVML_LIB", SDMARK_FAKE_NVML, 1);
    struct sd_nvml *n = sd_nvml_open("0000:00:00.0", why, sizeof(why));
    unsetenv("SDMARK_NVML_LIB");
    if (!n)
        fail_msg("fake NVML did not load: %s", why);
    struct sd_env env;
    sd_nvml_begin(n, 20);
    struct timespec ts = {0, 300 * 1000000L};
    nanosleep(&ts, NULL);
    sd_nvml_end(n, &env);
    print_message("  fake NVML: power %.1f W over 0.3 s, clock %.0f MHz, throttled %d\n", env.power_w_mean,
                  env.clock_mhz_mean, env.throttled);
    assert_true(fabs(env.power_w_mean - 250.0) < 25.0);
    assert_true(env.clock_mhz_mean == 1980);
    assert_int_equal(env.throttled, 0);
    assert_int_equal(sd_nvml_throttled_now(n), 0);
    setenv("SDMARK_FAKE_NVML_REASONS", "0x20", 1); /* SW thermal slowdown */
    assert_int_equal(sd_nvml_throttled_now(n), 1);
    unsetenv("SDMARK_FAKE_NVML_REASONS");
    assert_int_equal(sd_nvml_throttled_now(NULL), -1);
    sd_nvml_close(n);
#endif
}

/* ------------------------------------------------------------------ host: plan policies */

static void test_layouts(void **state)
{
    (void)state;
    enum { N = 2, C = 3, H = 4, W = 5 };
    float a[N * C * H * W], b[N * C * H * W], r[N * C * H * W];
    for (int i = 0; i < N * C * H * W; i++)
        a[i] = (float)i;
    sd_cuda_nchw_to_nhwc(a, b, N, C, H, W);
    /* NHWC[n][y][x][c] == NCHW[n][c][y][x] */
    assert_true(b[((1 * H + 2) * W + 3) * C + 1] == a[((1 * C + 1) * H + 2) * W + 3]);
    assert_true(b[1] == a[H * W]); /* second element of NHWC: channel 1 of pixel 0 */
    sd_cuda_nhwc_to_nchw(b, r, N, C, H, W);
    assert_memory_equal(a, r, sizeof(a));
}

/* cuDNN 9 codes (cudnn_graph.h; cuda_dnn.c asserts them against the header at compile time). */
static void test_cudnn_status_class(void **state)
{
    (void)state;
    assert_int_equal(sd_cuda_cudnn_status_class(0), SD_OK);
    const int unsupported[] = {3000, 3001, 3002, 3003, 3004, 3007, 3010, 3014};
    for (size_t i = 0; i < sizeof(unsupported) / sizeof(unsupported[0]); i++)
        assert_int_equal(sd_cuda_cudnn_status_class(unsupported[i]), SD_UNSUPPORTED);
    assert_int_equal(sd_cuda_cudnn_status_class(4004), SD_OOM); /* INTERNAL_ERROR_DEVICE_ALLOCATION_FAILED */
    assert_int_equal(sd_cuda_cudnn_status_class(4003), SD_OOM); /* HOST_ALLOCATION_FAILED = ALLOC_FAILED */
    const int errors[] = {1001, 2000, 2001, 2005, 4000, 4001, 5000, 5003};
    for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++)
        assert_int_equal(sd_cuda_cudnn_status_class(errors[i]), SD_ERROR);
}

static void test_score_dtype_and_verdict(void **state)
{
    (void)state;
    assert_int_equal(sd_cuda_score_dtype(SD_FP16, SD_FP32), SD_FP32); /* the SD 2.x upcast */
    assert_int_equal(sd_cuda_score_dtype(SD_BF16, SD_FP32), SD_FP32);
    assert_int_equal(sd_cuda_score_dtype(SD_FP32, SD_FP32), SD_FP32);
    assert_int_equal(sd_cuda_score_dtype(SD_TF32, SD_FP32), SD_FP32);
    assert_int_equal(sd_cuda_score_dtype(SD_FP16, SD_FP16), SD_FP16); /* asked for fp16 accumulation */
    assert_int_equal(sd_cuda_sample_verdict(0, 0, 0, 3), SD_SAMPLE_KEEP);
    assert_int_equal(sd_cuda_sample_verdict(0, -1, 0, 3), SD_SAMPLE_KEEP); /* no NVML: keep */
    assert_int_equal(sd_cuda_sample_verdict(0, 1, 0, 3), SD_SAMPLE_RETAKE);
    assert_int_equal(sd_cuda_sample_verdict(1, 0, 2, 3), SD_SAMPLE_RETAKE);
    assert_int_equal(sd_cuda_sample_verdict(0, 1, 3, 3), SD_SAMPLE_KEEP_FLAGGED);
}

/* ------------------------------------------------------------------ GPU tests */

struct gpu {
    void *ctx;
};

static int gpu_setup(void **state)
{
    static struct gpu g;
    struct sd_device_info info[8];
    char reason[SD_REASON_LEN];
    g.ctx = NULL;
    if (sd_backend_cuda.probe(info, 8) > 0 && sd_backend_cuda.open(0, &g.ctx, reason, sizeof(reason)) != SD_OK) {
        fprintf(stderr, "cuda open failed: %s\n", reason);
        g.ctx = NULL;
    }
    *state = &g;
    return 0;
}

static int gpu_teardown(void **state)
{
    struct gpu *g = *state;
    if (g->ctx)
        sd_backend_cuda.close(g->ctx);
    g->ctx = NULL;
    return 0;
}

#define NEED_GPU(g)                                                                               \
    do {                                                                                          \
        if (!(g)->ctx) {                                                                          \
            print_message("skipped: no CUDA device (probe() found none or open failed)\n");       \
            skip();                                                                               \
        }                                                                                         \
    } while (0)

/* Run one workload with one impl: prepare, upload, poison, [flush], run, download, verify.
 * Inputs are scaled by `scale` (large activations); `note` (may be NULL) gets the plan note.
 * Returns the status; on SD_OK *vr holds the verification. */
static enum sd_status run_one_ex(void *ctx, const struct sd_workload *wl, const char *impl, float scale,
                                 bool flush, char *note, struct sd_verify_result *vr, char *reason, size_t len)
{
    const struct sd_backend_ops *b = &sd_backend_cuda;
    enum sd_status st = b->supports(ctx, wl, impl, reason, len);
    if (st != SD_OK)
        return st;
    struct sd_tensors t;
    sd_workload_tensors(wl, &t);
    float *in[3] = {NULL, NULL, NULL};
    for (int i = 0; i < t.n_in; i++) {
        in[i] = malloc(t.in[i] * sizeof(float));
        sd_fill_random(in[i], t.in[i], 1234 + 17 * i);
        for (size_t j = 0; j < t.in[i]; j++)
            in[i][j] *= scale;
        sd_round_to_dtype(in[i], t.in[i], wl->dtype);
    }
    float *out = malloc(t.out * sizeof(float));
    struct sd_plan *p = NULL;
    st = b->prepare(ctx, wl, impl, 2, &p, reason, len);
    if (st == SD_OK)
        st = b->upload(p, 0, (const float *const *)in, reason, len);
    if (st == SD_OK)
        st = b->upload(p, 1, (const float *const *)in, reason, len);
    if (st == SD_OK)
        st = b->poison(p, reason, len);
    if (st == SD_OK && flush)
        st = b->flush_cache(p, reason, len);
    double ms = -1;
    if (st == SD_OK)
        st = b->run(p, 1, &ms, reason, len);
    if (st == SD_OK)
        st = b->download(p, out, reason, len);
    if (st == SD_OK) {
        assert_true(ms > 0);
        sd_verify(wl, (const float *const *)in, out, vr);
        if (note)
            b->plan_note(p, note, SD_REASON_LEN);
    }
    if (p)
        b->release(p);
    for (int i = 0; i < 3; i++)
        free(in[i]);
    free(out);
    return st;
}

static enum sd_status run_one(void *ctx, const struct sd_workload *wl, const char *impl,
                              struct sd_verify_result *vr, char *reason, size_t len)
{
    return run_one_ex(ctx, wl, impl, 1.0f, false, NULL, vr, reason, len);
}

static const enum sd_dtype all_dtypes[] = {SD_FP32, SD_TF32, SD_FP16, SD_BF16};

/* Every impl x dtype: the impl either passes verification or is cleanly unsupported. Impls that
 * must support a dtype on sm_80+ are listed in `must`. */
static void check_impls(void *ctx, struct sd_workload *wl, const char *const *impls,
                        int (*must)(const char *impl, enum sd_dtype dt))
{
    struct sd_device_info info;
    sd_backend_cuda.device_info(ctx, &info);
    for (int ii = 0; impls[ii]; ii++)
        for (size_t di = 0; di < sizeof(all_dtypes) / sizeof(all_dtypes[0]); di++) {
            for (int acc16 = 0; acc16 < 2; acc16++) {
                wl->dtype = all_dtypes[di];
                wl->acc = acc16 ? SD_FP16 : SD_FP32;
                if (acc16 && wl->dtype != SD_FP16)
                    continue;
                char reason[SD_REASON_LEN] = "", shape[128];
                struct sd_verify_result vr;
                memset(&vr, 0, sizeof(vr));
                sd_workload_shape_str(wl, shape, sizeof(shape));
                enum sd_status st = run_one(ctx, wl, impls[ii], &vr, reason, sizeof(reason));
                print_message("  %-7s %-6s %-4s %s%s: %s %s (max_rel_err %.3g, tol %.3g)\n", sd_op_name(wl->op),
                              impls[ii], sd_dtype_name(wl->dtype), acc16 ? "acc=fp16 " : "", shape,
                              sd_status_name(st), st == SD_OK ? (vr.pass ? "pass" : vr.reason) : reason,
                              vr.max_rel_err, vr.tolerance);
                if (st == SD_UNSUPPORTED) {
                    bool new_enough = info.bf16; /* sm_80+ */
                    if (new_enough && !acc16 && must(impls[ii], wl->dtype))
                        fail_msg("%s %s unexpectedly unsupported: %s", impls[ii], sd_dtype_name(wl->dtype),
                                 reason);
                    continue;
                }
                assert_int_equal(st, SD_OK);
                if (!vr.pass)
                    fail_msg("%s %s %s: %s", impls[ii], sd_dtype_name(wl->dtype), shape, vr.reason);
            }
        }
}

static int gemm_must(const char *impl, enum sd_dtype dt)
{
    return strcmp(impl, "cublas") == 0 || dt == SD_FP16 || dt == SD_BF16;
}
static int conv_must(const char *impl, enum sd_dtype dt)
{
    return strcmp(impl, "cudnn") == 0 || dt == SD_FP16 || dt == SD_BF16;
}
static int attn_must(const char *impl, enum sd_dtype dt)
{
    return strcmp(impl, "flash") != 0 || dt != SD_TF32;
}
static int attn_wide_must(const char *impl, enum sd_dtype dt)
{
    (void)dt;
    return strcmp(impl, "flash") != 0;
}

static void test_gpu_gemm(void **state)
{
    struct gpu *g = *state;
    NEED_GPU(g);
    static const int64_t shapes[][4] = {
        /* m, n, k, batch */
        {1, 77, 1, 1}, {1, 1, 1, 1}, {77, 33, 9, 1}, {130, 77, 40, 1}, {129, 136, 72, 2},
        {256, 320, 320, 1}, {200, 264, 1000, 1}, {3, 520, 64, 3},
        {154, 320, 768, 1}, {70, 136, 1000, 2}, /* split-K plans (the text context's K/V) */
    };
    for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
        struct sd_workload wl = gemm_wl(shapes[i][3], shapes[i][0], shapes[i][1], shapes[i][2]);
        check_impls(g->ctx, &wl, sd_backend_cuda.impls[SD_OP_GEMM], gemm_must);
    }
}

static void test_gpu_conv2d(void **state)
{
    struct gpu *g = *state;
    NEED_GPU(g);
    static const int64_t shapes[][8] = {
        /* batch, c_in, c_out, h, w, r(=s), stride, pad */
        {2, 3, 5, 7, 7, 3, 1, 1},   {1, 16, 20, 9, 9, 3, 2, 1}, {2, 8, 12, 5, 5, 1, 1, 0},
        {1, 7, 9, 11, 13, 1, 1, 0}, {1, 32, 136, 12, 12, 3, 1, 1}, {2, 40, 24, 5, 6, 3, 2, 1},
        /* NHWC v4: c_in 8 (four taps per k-tile), stride 2; a small image with a long K (split-K) */
        {2, 8, 20, 7, 9, 3, 2, 1}, {2, 64, 40, 4, 4, 3, 1, 1},
    };
    for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
        struct sd_workload wl = conv_wl(shapes[i][0], shapes[i][1], shapes[i][2], shapes[i][3], shapes[i][4],
                                        shapes[i][5], shapes[i][6], shapes[i][7]);
        char err[160];
        assert_int_equal(sd_workload_validate(&wl, err, sizeof(err)), 0);
        check_impls(g->ctx, &wl, sd_backend_cuda.impls[SD_OP_CONV2D], conv_must);
    }
}

static void test_gpu_attention(void **state)
{
    struct gpu *g = *state;
    NEED_GPU(g);
    static const int64_t shapes[][4] = {
        /* bh, seq_q, seq_kv, head_dim */
        {2, 33, 77, 40}, {1, 65, 77, 80}, {2, 17, 130, 160}, {1, 1, 1, 64}, {3, 100, 64, 64},
        {1, 70, 129, 37}, {2, 128, 200, 8},
    };
    for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
        struct sd_workload wl = attn_wl(shapes[i][0], shapes[i][1], shapes[i][2], shapes[i][3]);
        check_impls(g->ctx, &wl, sd_backend_cuda.impls[SD_OP_ATTENTION], attn_must);
    }
    /* head_dim 161..512 (the VAE's 512): flash runs the wide-head kernel for fp16/bf16 where its
     * 143.6 KB of shared memory fit (sm_80, sm_90); elsewhere it may be cleanly unsupported */
    static const int64_t wide[][4] = {{1, 70, 100, 512}, {2, 33, 40, 168}};
    for (size_t i = 0; i < sizeof(wide) / sizeof(wide[0]); i++) {
        struct sd_workload wl = attn_wl(wide[i][0], wide[i][1], wide[i][2], wide[i][3]);
        check_impls(g->ctx, &wl, sd_backend_cuda.impls[SD_OP_ATTENTION], attn_wide_must);
    }
}

static void test_gpu_oom(void **state)
{
    struct gpu *g = *state;
    NEED_GPU(g);
    const struct sd_backend_ops *b = &sd_backend_cuda;
    struct sd_mem_stats before, after;
    b->mem_stats(g->ctx, &before);
    /* 64 heads x 65536 x 65536 fp16 scores = 512 GiB: the score matrix cannot be allocated */
    struct sd_workload wl;
    sd_workload_init(&wl, SD_OP_ATTENTION);
    wl.dtype = SD_FP16;
    wl.batch_heads = 64;
    wl.seq_q = wl.seq_kv = 65536;
    wl.head_dim = 40;
    struct sd_plan *p = NULL;
    char reason[SD_REASON_LEN] = "";
    enum sd_status st = b->prepare(g->ctx, &wl, "unfused", 1, &p, reason, sizeof(reason));
    print_message("  oom row: %s: %s\n", sd_status_name(st), reason);
    assert_int_equal(st, SD_OOM);
    assert_null(p);
    assert_non_null(strstr(reason, "bytes"));
    b->mem_stats(g->ctx, &after);
    assert_int_equal(after.current_bytes, before.current_bytes); /* everything was freed */
    /* the context is still usable */
    wl.seq_q = wl.seq_kv = 64;
    wl.batch_heads = 2;
    st = b->prepare(g->ctx, &wl, "unfused", 1, &p, reason, sizeof(reason));
    assert_int_equal(st, SD_OK);
    b->release(p);
}

static void test_gpu_poison_and_stats(void **state)
{
    struct gpu *g = *state;
    NEED_GPU(g);
    const struct sd_backend_ops *b = &sd_backend_cuda;
    for (size_t di = 0; di < sizeof(all_dtypes) / sizeof(all_dtypes[0]); di++) {
        struct sd_workload wl;
        sd_workload_init(&wl, SD_OP_GEMM);
        wl.m = 64; wl.n = 48; wl.k = 32;
        wl.dtype = all_dtypes[di];
        char reason[SD_REASON_LEN];
        if (b->supports(g->ctx, &wl, "cublas", reason, sizeof(reason)) != SD_OK)
            continue;
        b->reset_peak(g->ctx);
        struct sd_plan *p = NULL;
        assert_int_equal(b->prepare(g->ctx, &wl, "cublas", 3, &p, reason, sizeof(reason)), SD_OK);
        struct sd_mem_stats ms;
        b->mem_stats(g->ctx, &ms);
        size_t es = sd_dtype_size(wl.dtype);
        uint64_t need = 3 * (64 * 32 + 32 * 48) * es + 64 * 48 * es + (4u << 20); /* + cublas ws */
        assert_true(ms.peak_bytes >= need);
        assert_true(ms.device_total > 0);
        float *out = malloc(64 * 48 * sizeof(float));
        assert_int_equal(b->poison(p, reason, sizeof(reason)), SD_OK);
        assert_int_equal(b->download(p, out, reason, sizeof(reason)), SD_OK);
        for (int i = 0; i < 64 * 48; i++)
            assert_true(isnan(out[i]));
        free(out);
        b->release(p);
    }
    assert_string_equal(b->timer_name(g->ctx), "cuda_event");
    struct sd_device_info info;
    b->device_info(g->ctx, &info);
    assert_string_equal(info.backend, "cuda");
    assert_true(strncmp(info.arch, "sm_", 3) == 0);
    assert_true(info.compute_units > 0 && info.mem_bytes > 0 && info.l2_bytes > 0);
    print_message("  device: %s %s, %d SMs, %d MHz, driver %s, %s\n", info.name, info.arch, info.compute_units,
                  info.clock_mhz, info.driver_version, info.api_version);
    struct sd_env env;
    b->env_begin(g->ctx);
    b->env_end(g->ctx, &env);
    print_message("  env: clock %.0f MHz, temp %.0f C, power %.1f W, throttled %d\n", env.clock_mhz_mean,
                  env.temp_c_max, env.power_w_mean, env.throttled);
}

/* The stream hold works (no timeout, no fallback), the L2 flush runs before the sample and the
 * ok row's note names the library workspace and the timing method. */
static void test_gpu_timing_notes(void **state)
{
    struct gpu *g = *state;
    NEED_GPU(g);
    struct sd_workload wl = gemm_wl(1, 256, 320, 320);
    wl.dtype = SD_FP16;
    char reason[SD_REASON_LEN] = "", note[SD_REASON_LEN] = "";
    struct sd_verify_result vr;
    assert_int_equal(run_one_ex(g->ctx, &wl, "cublas", 1.0f, true, note, &vr, reason, sizeof(reason)), SD_OK);
    print_message("  cublas note: %s\n", note);
    assert_true(vr.pass);
    assert_non_null(strstr(note, "workspace="));
    assert_non_null(strstr(note, "L2 flushed"));
    assert_null(strstr(note, "stream hold")); /* neither timed out nor unavailable */
}

/* cuDNN Find over NCHW and NHWC: the kept algorithm is named, and the output (converted back from
 * NHWC where that layout won) verifies. */
static void test_gpu_cudnn_find(void **state)
{
    struct gpu *g = *state;
    NEED_GPU(g);
    struct sd_workload wl = conv_wl(2, 64, 64, 32, 32, 3, 1, 1);
    wl.dtype = SD_FP16;
    char reason[SD_REASON_LEN] = "", note[SD_REASON_LEN] = "";
    struct sd_verify_result vr;
    enum sd_status st = run_one_ex(g->ctx, &wl, "cudnn", 1.0f, false, note, &vr, reason, sizeof(reason));
    if (st == SD_UNSUPPORTED && strstr(reason, "without cuDNN")) {
        print_message("skipped: built without cuDNN\n");
        skip();
    }
    print_message("  cudnn: %s %s\n", sd_status_name(st), st == SD_OK ? note : reason);
    assert_int_equal(st, SD_OK);
    assert_true(vr.pass);
    assert_non_null(strstr(note, "algo="));
    assert_non_null(strstr(note, "Find: NCHW"));
}

/* Largest |q.k|/sqrt(d) of run_one_ex's inputs (same seeds) scaled by `scale`, fp16-rounded. */
static double max_score(const struct sd_workload *wl, float scale)
{
    struct sd_tensors t;
    sd_workload_tensors(wl, &t);
    float *q = malloc(t.in[0] * sizeof(float)), *k = malloc(t.in[1] * sizeof(float));
    sd_fill_random(q, t.in[0], 1234);
    sd_fill_random(k, t.in[1], 1234 + 17);
    for (size_t j = 0; j < t.in[0]; j++)
        q[j] *= scale;
    for (size_t j = 0; j < t.in[1]; j++)
        k[j] *= scale;
    sd_round_to_dtype(q, t.in[0], wl->dtype);
    sd_round_to_dtype(k, t.in[1], wl->dtype);
    const int64_t sq = wl->seq_q, skv = wl->seq_kv, d = wl->head_dim;
    double mx = 0;
    for (int64_t h = 0; h < wl->batch_heads; h++)
        for (int64_t i = 0; i < sq; i++)
            for (int64_t j = 0; j < skv; j++) {
                double s = 0;
                for (int64_t x = 0; x < d; x++)
                    s += (double)q[(h * sq + i) * d + x] * k[(h * skv + j) * d + x];
                s = fabs(s) / sqrt((double)d);
                mx = s > mx ? s : mx;
            }
    free(q);
    free(k);
    return mx;
}

/* Scores of real-sized activations overflow fp16 (|q.k|/sqrt(d) > 65504): the unfused and sliced
 * impls keep fp32 scores for fp16 rows and still verify. */
static void test_gpu_fp16_scores_large(void **state)
{
    struct gpu *g = *state;
    NEED_GPU(g);
    struct sd_workload wl = attn_wl(2, 64, 77, 64);
    wl.dtype = SD_FP16;
    const float scale = 400.0f;
    const double mx = max_score(&wl, scale);
    print_message("  largest |score| %.0f (fp16 max 65504)\n", mx);
    assert_true(mx > 65504.0 * 1.5); /* the test means something: fp16 scores would be inf */
    const char *impls[] = {"unfused", "sliced"};
    for (int i = 0; i < 2; i++) {
        char reason[SD_REASON_LEN] = "", note[SD_REASON_LEN] = "";
        struct sd_verify_result vr;
        memset(&vr, 0, sizeof(vr));
        enum sd_status st = run_one_ex(g->ctx, &wl, impls[i], scale, false, note, &vr, reason, sizeof(reason));
        print_message("  %s x400: %s %s (max_rel_err %.3g) note: %s\n", impls[i], sd_status_name(st),
                      st == SD_OK ? (vr.pass ? "pass" : vr.reason) : reason, vr.max_rel_err, note);
        assert_int_equal(st, SD_OK);
        assert_true(vr.pass);
        assert_non_null(strstr(note, "scores fp32"));
    }
}

int main(void)
{
    const struct CMUnitTest host[] = {
        cmocka_unit_test(test_colmajor_map),
        cmocka_unit_test(test_igemm_config),
        cmocka_unit_test(test_flash_config),
        cmocka_unit_test(test_nvml_missing),
        cmocka_unit_test(test_nvml_pure),
        cmocka_unit_test(test_nvml_energy_fake),
        cmocka_unit_test(test_layouts),
        cmocka_unit_test(test_cudnn_status_class),
        cmocka_unit_test(test_score_dtype_and_verdict),
    };
    const struct CMUnitTest gpu[] = {
        cmocka_unit_test(test_gpu_gemm),
        cmocka_unit_test(test_gpu_conv2d),
        cmocka_unit_test(test_gpu_attention),
        cmocka_unit_test(test_gpu_oom),
        cmocka_unit_test(test_gpu_poison_and_stats),
        cmocka_unit_test(test_gpu_timing_notes),
        cmocka_unit_test(test_gpu_cudnn_find),
        cmocka_unit_test(test_gpu_fp16_scores_large),
    };
    int fails = cmocka_run_group_tests_name("cuda_host", host, NULL, NULL);
    fails += cmocka_run_group_tests_name("cuda_gpu", gpu, gpu_setup, gpu_teardown);
    return fails;
}

#else /* !SDMARK_WITH_CUDA */

static void test_cuda_not_built(void **state)
{
    (void)state;
    print_message("skipped: sdmark was built without the cuda backend (no CUDA toolkit)\n");
    skip();
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_cuda_not_built)};
    return cmocka_run_group_tests_name("cuda", tests, NULL, NULL);
}
#endif
