/* test_opencl_backend.c - what only the OpenCL backend has: its kernel parameter variants (GPU- and
 * CPU-style tiles) against the double-precision CPU reference at odd shapes, plus OOM, poison,
 * unsupported dtypes, build errors, the kernel-dir override and the tuning cache. Every impl with
 * its default parameters is covered by tests/test_backend_ops.c. Skips when no OpenCL device is
 * present. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sdmark/backend.h"
#include "sdmark/verify.h"
#include "sdmark/workload.h"
#include "shapes.h"
#include "../src/backends/opencl/ocl.h" /* internal: parameter sets for GPU-style kernels */

extern const struct sd_backend_ops sd_backend_opencl;
static const struct sd_backend_ops *B = &sd_backend_opencl;

static void *g_ctx;
static struct sd_device_info g_info;
static char g_skip[256];

static int group_setup(void **state)
{
    struct sd_device_info infos[8];
    int n = B->probe(infos, 8);
    if (n <= 0) {
        snprintf(g_skip, sizeof(g_skip), "no OpenCL device");
        return 0;
    }
    char reason[SD_REASON_LEN] = "";
    if (B->open(0, &g_ctx, reason, sizeof(reason)) != SD_OK) {
        snprintf(g_skip, sizeof(g_skip), "cannot open OpenCL device 0: %.100s", reason);
        g_ctx = NULL;
        return 0;
    }
    B->device_info(g_ctx, &g_info);
    return 0;
}

static int group_teardown(void **state)
{
    if (g_ctx)
        B->close(g_ctx);
    return 0;
}

#define NEED_DEVICE()                                                                              \
    do {                                                                                           \
        if (!g_ctx) {                                                                              \
            print_message("skipped: %s\n", g_skip);                                                \
            skip();                                                                                \
        }                                                                                          \
    } while (0)

static int g_verified, g_limited; /* rows checked / refused for a device limit, per process */

/* Reasons ocl_prepare gives for a row a driver's limits rule out (see ocl_limits.c). */
static int device_limit(const char *reason)
{
    return strstr(reason, "loop iterations per work-item") || strstr(reason, "bytes of local memory");
}

typedef void (*fill_fn)(float *x, size_t n, int i);

/* Run `wl` with `impl` (or explicit params when prm != NULL) on inputs from fill (NULL: random in
 * [-1, 1]) and compare the whole output with sd_ref_*: max |out - ref| / rms(ref) <= tol. */
static void check_run_fill(const struct sd_workload *wl, const char *impl, const struct ocl_params *prm,
                           double tol, fill_fn fill)
{
    char shape[128], reason[SD_REASON_LEN] = "";
    sd_workload_shape_str(wl, shape, sizeof(shape));
    struct sd_tensors t;
    sd_workload_tensors(wl, &t);
    float *in[3] = {NULL, NULL, NULL};
    for (int i = 0; i < t.n_in; i++) {
        in[i] = malloc(t.in[i] * sizeof(float));
        if (fill)
            fill(in[i], t.in[i], i);
        else
            sd_fill_random(in[i], t.in[i], 100 + i);
        sd_round_to_dtype(in[i], t.in[i], wl->dtype);
    }
    float *out = malloc(t.out * sizeof(float));
    double *ref = malloc(t.out * sizeof(double));
    struct sd_plan *p = NULL;
    enum sd_status st = prm ? ocl_prepare_with(g_ctx, wl, impl, 2, prm, &p, reason, sizeof(reason))
                            : B->prepare(g_ctx, wl, impl, 2, &p, reason, sizeof(reason));
    if (st == SD_UNSUPPORTED && device_limit(reason)) {
        /* the device cannot run this row with these parameters and says why (ocl_limits.c) */
        print_message("  not run on this device: %s %s [%s]: %s\n", sd_op_name(wl->op), impl, shape, reason);
        g_limited++;
        for (int i = 0; i < 3; i++)
            free(in[i]);
        free(out);
        free(ref);
        return;
    }
    if (st != SD_OK)
        fail_msg("%s %s [%s]: prepare: %s: %s", sd_op_name(wl->op), impl, shape, sd_status_name(st), reason);
    g_verified++;
    /* set 1 gets other data; run set 1 first so a stale output would be caught */
    float *other[3] = {NULL, NULL, NULL};
    for (int i = 0; i < t.n_in; i++) {
        other[i] = malloc(t.in[i] * sizeof(float));
        sd_fill_random(other[i], t.in[i], 900 + i);
    }
    assert_int_equal(B->upload(p, 1, (const float *const *)other, reason, sizeof(reason)), SD_OK);
    assert_int_equal(B->upload(p, 0, (const float *const *)in, reason, sizeof(reason)), SD_OK);
    assert_int_equal(B->run(p, 1, NULL, reason, sizeof(reason)), SD_OK);
    assert_int_equal(B->poison(p, reason, sizeof(reason)), SD_OK);
    double ms = -1;
    st = B->run(p, 0, &ms, reason, sizeof(reason));
    if (st != SD_OK)
        fail_msg("%s %s [%s]: run: %s", sd_op_name(wl->op), impl, shape, reason);
    assert_true(ms >= 0);
    assert_int_equal(B->download(p, out, reason, sizeof(reason)), SD_OK);
    B->release(p);
    sd_ref(wl, (const float *const *)in, ref);
    double rms = 0, maxe = 0;
    size_t at = 0;
    for (size_t j = 0; j < t.out; j++)
        rms += ref[j] * ref[j];
    rms = sqrt(rms / (double)t.out) + 1e-30;
    for (size_t j = 0; j < t.out; j++) {
        double e = fabs((double)out[j] - ref[j]) / rms;
        if (!(e <= maxe)) {
            maxe = e;
            at = j;
            if (isnan(e))
                break;
        }
    }
    if (!(maxe <= tol))
        fail_msg("%s %s [%s]: max_rel_err %.3g at %zu (out %g ref %g) > %g", sd_op_name(wl->op), impl,
                 shape, maxe, at, out[at], ref[at], tol);
    for (int i = 0; i < 3; i++) {
        free(in[i]);
        free(other[i]);
    }
    free(out);
    free(ref);
}

static void check_run(const struct sd_workload *wl, const char *impl, const struct ocl_params *prm, double tol)
{
    check_run_fill(wl, impl, prm, tol, NULL);
}

/* SDMARK_TEST_SHAPES=small: every other shape of each list (slow software drivers such as
 * rusticl on llvmpipe; tests/CMakeLists.txt sets it for them). Every kernel variant still runs. */
static size_t shape_step(void)
{
    const char *s = getenv("SDMARK_TEST_SHAPES");
    return s && !strcmp(s, "small") ? 2 : 1;
}

static const int64_t gemm_shapes[][4] = {
    {1, 1, 1, 1},       {1, 1, 37, 5},    {1, 77, 45, 1},   {1, 97, 65, 257},
    {3, 13, 200, 300},  {1, 130, 17, 33}, {2, 7, 129, 520},
    /* M x NB floats of C over 1 MiB: the CPU design's shared packed B (gemm_pack_b, then blocks
     * reading it) even where B is larger than the cache (see llc_variants); an odd index, so
     * the small shape mode (llvmpipe, which never self-packs) leaves it out */
    {1, 8300, 41, 20},
    {1, 193, 131, 64},
};
#define NGEMM (sizeof(gemm_shapes) / sizeof(gemm_shapes[0]))

/* ------------------------------------------------------------------------------------------ */

static void test_probe_open(void **state)
{
    NEED_DEVICE();
    struct sd_device_info infos[4];
    int n = B->probe(infos, 4);
    assert_true(n >= 1);
    assert_string_equal(infos[0].backend, "opencl");
    assert_true(g_info.name[0] != 0);
    assert_true(g_info.driver_version[0] != 0);
    assert_true(g_info.api_version[0] != 0);
    assert_true(g_info.arch[0] != 0);
    assert_true(g_info.compute_units > 0);
    assert_true(g_info.mem_bytes > 0);
    assert_true(g_info.max_alloc_bytes > 0);
    print_message("device: %s | arch %s | driver %s | %s | %d CU | fp16 %d | max alloc %llu\n",
                  g_info.name, g_info.arch, g_info.driver_version, g_info.api_version,
                  g_info.compute_units, (int)g_info.fp16, (unsigned long long)g_info.max_alloc_bytes);
    char reason[SD_REASON_LEN] = "";
    void *c2 = NULL;
    assert_int_not_equal(B->open(n + 5, &c2, reason, sizeof(reason)), SD_OK);
    assert_null(c2);
    assert_true(reason[0] != 0);
}

/* The CPU design packs B inside gemm_packed (one work-group per column block, every row) when B
 * would not stay in the last-level cache between a packing pass and its use, and the test
 * shapes' B is small: cache variant 1 makes the device report a 64 KiB last-level cache, so
 * every shape whose C panel fits in L2 takes that path (mm_blocks in ocl_ops.c). A device with
 * a loop limit (llvmpipe) never takes it: only variant 0 (the cache it reports) runs there. */
static int llc_variants(void)
{
    return ((struct ocl_ctx *)g_ctx)->loop_limit ? 1 : 2;
}

/* Sets the last-level cache the device reports for `variant`; returns the size to restore. */
static uint64_t set_llc_variant(int variant)
{
    struct ocl_ctx *oc = g_ctx;
    assert_true(variant < llc_variants()); /* variant 1 would change nothing on a loop-limited device */
    const uint64_t was = oc->info.l2_bytes;
    if (variant == 1)
        oc->info.l2_bytes = 64 * 1024;
    return was;
}

static void restore_llc(uint64_t bytes)
{
    ((struct ocl_ctx *)g_ctx)->info.l2_bytes = bytes;
}

static void test_gemm_own_gpu_style(void **state)
{
    NEED_DEVICE();
    struct ocl_params prm;
    ocl_params_defaults(g_ctx, &prm);
    const struct ocl_mm_params gpu[] = {
        {.style = OCL_STYLE_GPU, .mb = 96, .nb = 64, .kb = 256, .mr = 6, .vw = 16, .nv = 1, .tx = 16, .ty = 16, .rm = 4, .rn = 4, .bk = 16},
    {.style = OCL_STYLE_GPU, .mb = 96, .nb = 64, .kb = 256, .mr = 6, .vw = 16, .nv = 1, .tx = 8, .ty = 4, .rm = 2, .rn = 3, .bk = 8},
    };
    const struct ocl_mm_params cpu[] = {
        {.style = OCL_STYLE_CPU, .mb = 50, .nb = 40, .kb = 33, .mr = 4, .vw = 8, .nv = 2, .tx = 16, .ty = 16, .rm = 4, .rn = 4, .bk = 16}, /* odd blocks, k-block split */
        {.style = OCL_STYLE_CPU, .mb = 24, .nb = 32, .kb = 48, .mr = 6, .vw = 16, .nv = 1, .tx = 16, .ty = 16, .rm = 4, .rn = 4, .bk = 16},   /* fits 32 KiB local memory */
    };
    for (int v = 0; v < 2 + 2 * llc_variants(); v++) { /* gpu[0..1], then cpu[0..1] per cache variant */
        prm.gemm = v < 2 ? gpu[v] : cpu[(v - 2) % 2];
        const uint64_t llc = set_llc_variant(v < 2 ? 0 : (v - 2) / 2);
        for (size_t i = 0; i < NGEMM; i += shape_step()) {
            struct sd_workload wl = gemm_wl(gemm_shapes[i][0], gemm_shapes[i][1], gemm_shapes[i][2], gemm_shapes[i][3]);
            check_run(&wl, "own", &prm, 1e-5);
        }
        restore_llc(llc);
    }
}

static const int64_t conv_shapes[][8] = {
    /* b, ci, co, h, w, r, stride, pad */
    {1, 5, 7, 9, 11, 3, 1, 1},   {2, 3, 5, 7, 6, 3, 2, 1},   {1, 7, 3, 5, 9, 1, 1, 0},
    {2, 9, 11, 4, 7, 1, 2, 0},   {1, 1, 1, 1, 1, 3, 1, 1},   {1, 33, 70, 13, 15, 3, 1, 1},
    {1, 40, 17, 10, 3, 3, 2, 1}, {1, 300, 5, 3, 3, 1, 1, 0},
    {1, 6, 5, 5, 20, 3, 2, 1}, /* stride 2, output rows wider than a strip: conv_pack_b's even-lane copy */
};
#define NCONV (sizeof(conv_shapes) / sizeof(conv_shapes[0]))

static void conv_all(const struct ocl_params *prm)
{
    for (size_t i = 0; i < NCONV; i += shape_step()) {
        const int64_t *s = conv_shapes[i];
        struct sd_workload wl = conv_wl(s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]);
        char err[160];
        assert_int_equal(sd_workload_validate(&wl, err, sizeof(err)), 0);
        check_run(&wl, "own", prm, 1e-5);
    }
}

static void test_conv2d_own_variants(void **state)
{
    NEED_DEVICE();
    struct ocl_params prm;
    ocl_params_defaults(g_ctx, &prm);
    prm.conv = (struct ocl_mm_params){.style = OCL_STYLE_GPU, .mb = 96, .nb = 64, .kb = 256, .mr = 6, .vw = 16, .nv = 1, .tx = 8, .ty = 8, .rm = 2, .rn = 2, .bk = 8};
    conv_all(&prm);
    prm.conv = (struct ocl_mm_params){.style = OCL_STYLE_CPU, .mb = 20, .nb = 24, .kb = 40, .mr = 4, .vw = 8, .nv = 1, .tx = 16, .ty = 16, .rm = 4, .rn = 4, .bk = 16};
    conv_all(&prm);
}

static const int64_t attn_shapes[][4] = {
    {2, 67, 77, 40}, {1, 1, 77, 64}, {3, 33, 1, 8}, {1, 50, 300, 13}, {2, 16, 16, 64}, {1, 7, 513, 80},
    {1, 37, 45, 512}, /* the VAE's head_dim */
    {2, 8300, 33, 8}, /* Q K^T with the shared packed B (transposed): see gemm_shapes */
};
#define NATTN (sizeof(attn_shapes) / sizeof(attn_shapes[0]))

static void attn_all(const char *impl, const struct ocl_params *prm)
{
    for (size_t i = 0; i < NATTN; i += shape_step()) {
        const int64_t *s = attn_shapes[i];
        struct sd_workload wl = attn_wl(s[0], s[1], s[2], s[3]);
        check_run(&wl, impl, prm, 2e-5);
    }
}


static void test_attention_flash_variants(void **state)
{
    NEED_DEVICE();
    struct ocl_params prm;
    ocl_params_defaults(g_ctx, &prm);
    prm.flash = (struct ocl_flash_params){.style = OCL_STYLE_GPU, .qr = 6, .qs = 8, .nkv = 2, .kc = 256, .vd = 16, .bq = 16, .bkv = 8};
    attn_all("flash", &prm);
    prm.flash = (struct ocl_flash_params){.style = OCL_STYLE_CPU, .qr = 2, .qs = 3, .nkv = 1, .kc = 16, .vd = 8, .bq = 64, .bkv = 32}; /* < 32 KiB local */
    if (shape_step() == 1) {
        attn_all("flash", &prm);
        return;
    }
    /* Small mode (the rusticl variant): llvmpipe compiles flash_cpu's unrolled register tiles in
     * 30-70 s per head_dim under ASan with an empty shader cache (a fresh CI machine), so the CPU
     * design is verified there at one head_dim (its rescale with growing scores on PoCL only); every
     * head_dim runs on PoCL, and the GPU design at every shape on both. */
    struct sd_workload wl = attn_wl(attn_shapes[0][0], attn_shapes[0][1], attn_shapes[0][2], attn_shapes[0][3]);
    check_run(&wl, "flash", &prm, 2e-5);
}

/* Scores that grow along the keys (key j scaled by j / 20: with head_dim 16 the row max rises by
 * ~2^4.6 every 16 keys): flash_cpu's running max must move and rescale every block or two, not just
 * on the first one (random inputs in [-1, 1] keep every score within a few units of the first
 * block's max). */
static void fill_growing(float *x, size_t n, int i)
{
    sd_fill_random(x, n, 300 + i);
    for (size_t j = 0; j < n; j++)
        x[j] = i == 0 ? 1.0f + 0.1f * x[j] : i == 1 ? (float)(j / 16) / 20.0f * (1.0f + 0.1f * x[j]) : x[j];
}

static void test_attention_flash_rescale(void **state)
{
    NEED_DEVICE();
    struct ocl_params prm;
    ocl_params_defaults(g_ctx, &prm);
    struct sd_workload wl = attn_wl(2, 9, 300, 16);
    /* scores reach ~90 in log2 units: their fp32 rounding alone moves outputs by ~1e-5 of the rms;
     * a lost rescale moves them by O(1) */
    check_run_fill(&wl, "flash", &prm, 1e-4, fill_growing);
    prm.flash = (struct ocl_flash_params){.style = OCL_STYLE_CPU, .qr = 2, .qs = 3, .nkv = 1, .kc = 16, .vd = 8, .bq = 64, .bkv = 32};
    if (shape_step() == 1) /* flash_cpu's lazy rescale: on PoCL (llvmpipe spends minutes compiling it, see above) */
        check_run_fill(&wl, "flash", &prm, 1e-4, fill_growing);
    check_run_fill(&wl, "unfused", &prm, 1e-4, fill_growing);
}

/* unfused / sliced run gemm_packed or gemm_tiled (+ softmax_rows): both styles on every device */
static void test_attention_gemm_variants(void **state)
{
    NEED_DEVICE();
    struct ocl_params prm;
    ocl_params_defaults(g_ctx, &prm);
    prm.gemm = (struct ocl_mm_params){.style = OCL_STYLE_GPU, .mb = 96, .nb = 64, .kb = 256, .mr = 6, .vw = 16, .nv = 1, .tx = 8, .ty = 8, .rm = 2, .rn = 3, .bk = 8};
    attn_all("unfused", &prm);
    attn_all("sliced", &prm);
    prm.gemm = (struct ocl_mm_params){.style = OCL_STYLE_CPU, .mb = 24, .nb = 32, .kb = 48, .mr = 6, .vw = 16, .nv = 1, .tx = 16, .ty = 16, .rm = 4, .rn = 4, .bk = 16};
    for (int variant = 0; variant < llc_variants(); variant++) {
        const uint64_t llc = set_llc_variant(variant);
        attn_all("unfused", &prm);
        attn_all("sliced", &prm);
        restore_llc(llc);
    }
}

static void test_oom(void **state)
{
    NEED_DEVICE();
    char reason[SD_REASON_LEN] = "";
    struct sd_mem_stats ms0, ms1;
    B->reset_peak(g_ctx);
    B->mem_stats(g_ctx, &ms0);
    /* unfused attention: the whole score matrix exceeds the largest allocation */
    int64_t bh = 17, seq = 4096;
    while ((uint64_t)bh * seq * seq * 4 <= g_info.max_alloc_bytes)
        bh *= 2;
    struct sd_workload wl = attn_wl(bh, seq, seq, 40);
    struct sd_plan *p = NULL;
    enum sd_status st = B->prepare(g_ctx, &wl, "unfused", 1, &p, reason, sizeof(reason));
    print_message("unfused bh=%lld: %s: %s\n", (long long)bh, sd_status_name(st), reason);
    assert_int_equal(st, SD_OOM);
    assert_null(p);
    assert_non_null(strstr(reason, "bytes"));
    B->mem_stats(g_ctx, &ms1);
    assert_int_equal(ms1.current_bytes, ms0.current_bytes); /* everything freed */
    /* ...and nothing was created (and first-touched) before the score matrix was found not to fit */
    assert_int_equal(ms1.peak_bytes, ms0.current_bytes);
    /* a gemm whose A alone exceeds the largest allocation */
    int64_t m = 1;
    while ((uint64_t)m * 16384 * 4 <= g_info.max_alloc_bytes)
        m *= 2;
    wl = gemm_wl(1, m, 8, 16384);
    st = B->prepare(g_ctx, &wl, "own", 1, &p, reason, sizeof(reason));
    assert_int_equal(st, SD_OOM);
    assert_null(p);
    /* total over global memory: simulate a nearly full device (allocating GBs on a shared CI
     * box is not an option; PoCL reports a global size derived from the host's free memory) */
    struct ocl_ctx *oc = g_ctx;
    uint64_t saved_cur = oc->mem.current, saved_peak = oc->mem.peak;
    oc->mem.current = g_info.mem_bytes - (1u << 20);
    wl = gemm_wl(1, 1024, 1024, 1024); /* 4 MiB per matrix */
    st = B->prepare(g_ctx, &wl, "own", 2, &p, reason, sizeof(reason));
    print_message("gemm 1024^3 on a full device: %s: %s\n", sd_status_name(st), reason);
    assert_int_equal(st, SD_OOM);
    assert_null(p);
    assert_int_equal(oc->mem.current, g_info.mem_bytes - (1u << 20));
    oc->mem.current = saved_cur;
    oc->mem.peak = saved_peak;
    B->mem_stats(g_ctx, &ms1);
    assert_int_equal(ms1.current_bytes, ms0.current_bytes);
    /* the sliced impl needs one head's scores only */
    wl = attn_wl(bh, 256, 4096, 40);
    st = B->prepare(g_ctx, &wl, "sliced", 1, &p, reason, sizeof(reason));
    if (st == SD_UNSUPPORTED && oc->loop_limit && device_limit(reason))
        return; /* fits in memory, but llvmpipe cannot loop over 4096 keys in one work-item */
    assert_int_equal(st, SD_OK);
    B->release(p);
}

static void test_poison_and_mem(void **state)
{
    NEED_DEVICE();
    char reason[SD_REASON_LEN] = "";
    struct sd_workload wl = gemm_wl(1, 33, 17, 9);
    B->reset_peak(g_ctx);
    struct sd_mem_stats m0, m1;
    B->mem_stats(g_ctx, &m0);
    struct sd_plan *p = NULL;
    assert_int_equal(B->prepare(g_ctx, &wl, "own", 3, &p, reason, sizeof(reason)), SD_OK);
    B->mem_stats(g_ctx, &m1);
    /* inputs x 3 sets, the output and, for the CPU-style kernels, gemm_pack_b's packed B: one
     * K-block (KB rows) of one NR-column strip here (k = 9, n = 17) */
    const struct ocl_mm_params *mp = &((struct ocl_ctx *)g_ctx)->params.gemm;
    const int64_t packed = mp->style == OCL_STYLE_CPU ? (int64_t)mp->kb * mp->vw * mp->nv * 4 : 0;
    assert_int_equal(m1.current_bytes - m0.current_bytes, (3 * (33 * 9 + 9 * 17) + 33 * 17) * 4 + packed);
    assert_true(m1.peak_bytes >= m1.current_bytes);
    assert_int_equal(B->poison(p, reason, sizeof(reason)), SD_OK);
    float out[33 * 17];
    assert_int_equal(B->download(p, out, reason, sizeof(reason)), SD_OK);
    for (int i = 0; i < 33 * 17; i++)
        assert_true(isnan(out[i]));
    B->release(p);
    B->mem_stats(g_ctx, &m1);
    assert_int_equal(m1.current_bytes, m0.current_bytes);
    assert_true(m1.peak_bytes > m1.current_bytes);
    const char *tn = B->timer_name(g_ctx);
    assert_true(strcmp(tn, "cl_event") == 0 || strcmp(tn, "host_monotonic") == 0);
}

static void test_unsupported(void **state)
{
    NEED_DEVICE();
    char reason[SD_REASON_LEN] = "";
    struct sd_workload wl = gemm_wl(1, 64, 64, 64);
    wl.dtype = SD_FP16;
    enum sd_status st = B->supports(g_ctx, &wl, "own", reason, sizeof(reason));
    if (!g_info.fp16) {
        assert_int_equal(st, SD_UNSUPPORTED);
        assert_non_null(strstr(reason, "cl_khr_fp16"));
        struct sd_plan *p = NULL;
        assert_int_equal(B->prepare(g_ctx, &wl, "own", 1, &p, reason, sizeof(reason)), SD_UNSUPPORTED);
        assert_null(p);
    } else {
        assert_int_equal(st, SD_OK);
        check_run(&wl, "own", NULL, 5e-3);
    }
    wl.dtype = SD_TF32;
    assert_int_equal(B->supports(g_ctx, &wl, "own", reason, sizeof(reason)), SD_UNSUPPORTED);
    wl.dtype = SD_BF16;
    assert_int_equal(B->supports(g_ctx, &wl, "own", reason, sizeof(reason)), SD_UNSUPPORTED);
    wl.dtype = SD_FP32;
    wl.acc = SD_FP16;
    assert_int_equal(B->supports(g_ctx, &wl, "own", reason, sizeof(reason)), SD_UNSUPPORTED);
    wl.acc = SD_FP32;
    assert_int_equal(B->supports(g_ctx, &wl, "cublas", reason, sizeof(reason)), SD_UNSUPPORTED);
    assert_int_equal(B->supports(g_ctx, &wl, "own", reason, sizeof(reason)), SD_OK);
    wl.m = 0;
    assert_int_equal(B->supports(g_ctx, &wl, "own", reason, sizeof(reason)), SD_UNSUPPORTED);
}

static void test_timing(void **state)
{
    NEED_DEVICE();
    char reason[SD_REASON_LEN] = "";
    struct sd_workload wl = gemm_wl(1, 512, 512, 512);
    struct sd_plan *p = NULL;
    assert_int_equal(B->prepare(g_ctx, &wl, "own", 1, &p, reason, sizeof(reason)), SD_OK);
    float *a = calloc(512 * 512, sizeof(float));
    const float *in[2] = {a, a};
    assert_int_equal(B->upload(p, 0, in, reason, sizeof(reason)), SD_OK);
    double ms = 0;
    assert_int_equal(B->run(p, 0, &ms, reason, sizeof(reason)), SD_OK);
    double best = 1e9;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(B->run(p, 0, &ms, reason, sizeof(reason)), SD_OK);
        assert_true(ms > 0);
        if (ms < best)
            best = ms;
    }
    print_message("gemm 512^3 own: %.3f ms (%.1f GFLOP/s, timer %s)\n", best,
                  2.0 * 512 * 512 * 512 / best * 1e-6, B->timer_name(g_ctx));
    B->release(p);
    free(a);
}

/* A device that ends kernels after N loop iterations per work-item (llvmpipe) refuses rows that
 * would need more, with the reason; simulated on any device by lowering the context's limit. */
static void test_loop_limit(void **state)
{
    NEED_DEVICE();
    struct ocl_ctx *oc = g_ctx;
    const uint64_t saved = oc->loop_limit;
    char reason[SD_REASON_LEN] = "";
    struct sd_plan *p = NULL;
    struct sd_workload wl = attn_wl(1, 64, 4096, 64);
    oc->loop_limit = 65535;
    struct ocl_params cpu; /* flash_cpu: one work-item walks all keys, so it cannot be split */
    ocl_params_defaults(g_ctx, &cpu);
    cpu.flash = (struct ocl_flash_params){.style = OCL_STYLE_CPU, .qr = 2, .qs = 3, .nkv = 1, .kc = 16, .vd = 8, .bq = 64, .bkv = 32};
    enum sd_status st = ocl_prepare_with(g_ctx, &wl, "flash", 1, &cpu, &p, reason, sizeof(reason));
    print_message("flash_cpu kv=4096 under a 65535-iteration limit: %s: %s\n", sd_status_name(st), reason);
    assert_int_equal(st, SD_UNSUPPORTED);
    assert_null(p);
    assert_non_null(strstr(reason, "loop iterations per work-item"));
    wl = gemm_wl(1, 8, 8, 8); /* a small row stays within the limit in either kernel style */
    assert_int_equal(B->prepare(g_ctx, &wl, "own", 1, &p, reason, sizeof(reason)), SD_OK);
    B->release(p);
    /* the GPU-style kernels split K (gemm_tiled, conv_tiled: kbeg/kend/accum) or the keys
     * (flash_gpu: kvbeg/kvend + running state) over launches under the limit: with a limit of 8000
     * a 16x16x(4x4) tile covers 144 of K per launch, flash_gpu 32 keys */
    oc->loop_limit = 8000;
    struct ocl_params prm;
    ocl_params_defaults(g_ctx, &prm);
    prm.gemm = prm.conv = (struct ocl_mm_params){.style = OCL_STYLE_GPU, .mb = 96, .nb = 64, .kb = 256, .mr = 6, .vw = 16, .nv = 1, .tx = 16, .ty = 16, .rm = 4, .rn = 4, .bk = 16};
    prm.flash = (struct ocl_flash_params){.style = OCL_STYLE_GPU, .qr = 6, .qs = 8, .nkv = 2, .kc = 256, .vd = 16, .bq = 64, .bkv = 32};
    assert_int_equal(ocl_k_chunk(oc, &prm.gemm, 257), 144);
    assert_int_equal(ocl_kv_chunk(oc, &prm.flash, 200, 40), 32);
    wl = attn_wl(2, 67, 200, 40);
    check_run(&wl, "flash", &prm, 2e-5);
    wl = gemm_wl(2, 97, 65, 257);
    check_run(&wl, "own", &prm, 1e-5);
    wl = conv_wl(1, 33, 70, 13, 15, 3, 1, 1);
    check_run(&wl, "own", &prm, 1e-5);
    wl = attn_wl(2, 67, 200, 40);
    check_run(&wl, "sliced", &prm, 2e-5);
    oc->loop_limit = saved;
    print_message("rows verified so far: %d, refused for a device limit: %d\n", g_verified, g_limited);
    /* the limits may refuse some rows, never most of them */
    assert_true(g_verified > 3 * g_limited);
}

/* Fresh context so the per-context program cache does not hide the override. */
static void test_kernel_dir_and_build_errors(void **state)
{
    NEED_DEVICE();
    char reason[SD_REASON_LEN] = "";
    struct sd_workload wl = gemm_wl(1, 8, 8, 8);
    void *c = NULL;
    struct sd_plan *p = NULL;

    setenv("SDMARK_KERNEL_DIR", "/nonexistent-sdmark-kernels", 1);
    assert_int_equal(B->open(0, &c, reason, sizeof(reason)), SD_OK);
    enum sd_status st = B->prepare(c, &wl, "own", 1, &p, reason, sizeof(reason));
    assert_int_equal(st, SD_ERROR);
    assert_non_null(strstr(reason, "nonexistent-sdmark-kernels"));
    B->close(c);

    char dir[] = "/tmp/sdmark-ocl-test-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof(path), "%s/common.cl", dir);
    FILE *f = fopen(path, "w");
    fputs("#define A_T float\n#define B_T float\n#define C_T float\n", f);
    fclose(f);
    snprintf(path, sizeof(path), "%s/gemm.cl", dir);
    f = fopen(path, "w");
    fputs("__kernel void gemm_packed(__global float *a) { this is not C; }\n", f);
    fclose(f);
    setenv("SDMARK_KERNEL_DIR", dir, 1);
    assert_int_equal(B->open(0, &c, reason, sizeof(reason)), SD_OK);
    st = B->prepare(c, &wl, "own", 1, &p, reason, sizeof(reason));
    print_message("broken kernel: %s: %s\n", sd_status_name(st), reason);
    assert_int_equal(st, SD_ERROR);
    assert_non_null(strstr(reason, "clBuildProgram"));
    B->close(c);
    unsetenv("SDMARK_KERNEL_DIR");
    remove(path);
    snprintf(path, sizeof(path), "%s/common.cl", dir);
    remove(path);
    rmdir(dir);
}

static void test_tune_cache(void **state)
{
    NEED_DEVICE();
    char dir[] = "/tmp/sdmark-ocl-cache-XXXXXX";
    assert_non_null(mkdtemp(dir));
    const char *old = getenv("SDMARK_CACHE_DIR");
    char *saved = old ? strdup(old) : NULL;
    setenv("SDMARK_CACHE_DIR", dir, 1);
    char path[128];
    snprintf(path, sizeof(path), "%s/opencl-tune.txt", dir);
    FILE *f = fopen(path, "w");
    fprintf(f, "# comment\nother device | 1.0\tgemm=gpu:1:1:1:1:8:1:8:8:1:1:8 conv=x flash=y\n");
    /* CPU-style sets small enough for 32 KiB of local memory (rusticl) */
    /* the same device and driver tuned for other kernel sources: stale, never used */
    fprintf(f, "%s | %s | kernels %08x\tgemm=gpu:1:1:1:1:8:1:8:8:1:1:8 conv=x flash=y\n", g_info.name,
            g_info.driver_version, (unsigned)ocl_kernels_hash() ^ 1u);
    fprintf(f, "%s | %s | kernels %08x\tgemm=cpu:24:32:48:6:16:1:16:16:4:4:16 conv=cpu:48:48:128:6:8:2:16:16:4:4:16 "
               "flash=cpu:4:4:1:32:8:64:32\n",
            g_info.name, g_info.driver_version, (unsigned)ocl_kernels_hash());
    fclose(f);
    void *c = NULL;
    char reason[SD_REASON_LEN] = "";
    assert_int_equal(B->open(0, &c, reason, sizeof(reason)), SD_OK);
    struct ocl_ctx *oc = c;
    assert_string_equal(oc->params.source, "cache");
    assert_int_equal(oc->params.gemm.mb, 24);
    assert_int_equal(oc->params.conv.nv, 2);
    assert_int_equal(oc->params.flash.kc, 32);
    /* tune without force uses the cache and returns at once */
    assert_int_equal(B->tune(c, 0, NULL, reason, sizeof(reason)), SD_OK);
    /* the cached parameters are used by prepare and give right answers */
    struct sd_workload wl = attn_wl(2, 67, 77, 40);
    void *saved_ctx = g_ctx;
    g_ctx = c;
    if (shape_step() == 1) /* the cached flash_cpu set: minutes of llvmpipe compile on rusticl */
        check_run(&wl, "flash", NULL, 2e-5);
    wl = gemm_wl(1, 97, 65, 257);
    check_run(&wl, "own", NULL, 1e-5);
    g_ctx = saved_ctx;
    B->close(c);
    remove(path);
    rmdir(dir);
    if (saved) {
        setenv("SDMARK_CACHE_DIR", saved, 1);
        free(saved);
    } else {
        unsetenv("SDMARK_CACHE_DIR");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_probe_open),
        cmocka_unit_test(test_gemm_own_gpu_style),
        cmocka_unit_test(test_conv2d_own_variants),
        cmocka_unit_test(test_attention_flash_variants),
        cmocka_unit_test(test_attention_flash_rescale),
        cmocka_unit_test(test_attention_gemm_variants),
        cmocka_unit_test(test_oom),
        cmocka_unit_test(test_poison_and_mem),
        cmocka_unit_test(test_unsupported),
        cmocka_unit_test(test_timing),
        cmocka_unit_test(test_loop_limit),
        cmocka_unit_test(test_kernel_dir_and_build_errors),
        cmocka_unit_test(test_tune_cache),
    };
    /* SDMARK_TEST_FILTER=test_gemm* runs only the matching tests (kernel development) */
    if (getenv("SDMARK_TEST_FILTER"))
        cmocka_set_test_filter(getenv("SDMARK_TEST_FILTER"));
    return cmocka_run_group_tests_name("opencl_backend", tests, group_setup, group_teardown);
}
