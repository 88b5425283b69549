/* test_backend_ops.c — every compiled-in backend (device 0) x op x impl x dtype x one shared list of
 * awkward shapes, through the harness's own phases (include/sdmark/row_phases.h), like ggml's
 * test-backend-ops: build inputs, upload, poison + run once + verify against the fp64 reference;
 * then the whole output against the full fp64 reference at the dtype's tolerance, poison alone
 * leaves NaN, release returns every tracked byte, and a short cross-checked sampling pass keeps the
 * backend's own timer (an honest driver is not re-timed). Backends without a device skip with the
 * reason. Backend-specific checks (kernel parameter variants, OOM, tuning) stay in
 * test_<backend>_backend.c. */
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
#include "sdmark/row_phases.h"
#include "sdmark/verify.h"
#include "shapes.h"

/* Tails (1, 7, 13 ...), k not a multiple of any tile (5, 33, 131, 257, 300, 520), head_dim 40 and
 * 13, seq_kv 77 / 1 / 513, stride 2, c_in 4, 1x1 and 5x5 kernels. */
static struct sd_workload shape(enum sd_op op, int i, int *more)
{
    static const int64_t g[][4] = {{1, 1, 1, 1},      {1, 1, 37, 5},    {1, 77, 45, 1},  {1, 97, 65, 257},
                                   {3, 13, 200, 300}, {1, 130, 17, 33}, {2, 7, 129, 520}, {1, 193, 131, 64}};
    static const int64_t c[][8] = {
        /* b, ci, co, h, w, r, stride, pad */
        {1, 5, 7, 9, 11, 3, 1, 1},   {2, 3, 5, 7, 6, 3, 2, 1},   {1, 4, 6, 5, 5, 3, 2, 1},
        {2, 9, 11, 4, 7, 1, 2, 0},   {1, 1, 1, 1, 1, 3, 1, 1},   {1, 33, 70, 13, 15, 3, 1, 1},
        {1, 40, 17, 10, 3, 3, 2, 1}, {1, 300, 5, 3, 3, 1, 1, 0}, {1, 2, 3, 6, 6, 5, 1, 2},
    };
    static const int64_t a[][4] = {{2, 67, 77, 40}, {1, 1, 77, 64},  {3, 33, 1, 8},    {1, 50, 300, 13},
                                   {2, 16, 16, 64}, {1, 7, 513, 80}, {2, 130, 129, 64}};
    int n = op == SD_OP_GEMM ? 8 : op == SD_OP_CONV2D ? 9 : 7;
    *more = i + 1 < n;
    if (op == SD_OP_GEMM)
        return gemm_wl(g[i][0], g[i][1], g[i][2], g[i][3]);
    if (op == SD_OP_CONV2D)
        return conv_wl(c[i][0], c[i][1], c[i][2], c[i][3], c[i][4], c[i][5], c[i][6], c[i][7]);
    return attn_wl(a[i][0], a[i][1], a[i][2], a[i][3]);
}

struct bk {
    const struct sd_backend_ops *be;
    enum sd_op op;
    char name[48];
};

/* max |out - ref| / rms(ref) over the whole output (the harness's verify samples it). */
static double full_rel_err(const struct sd_workload *wl, const struct sd_row_inputs *h)
{
    double *ref = malloc(h->t.out * sizeof(double));
    assert_non_null(ref);
    sd_ref(wl, (const float *const *)h->in, ref);
    double ss = 0, mx = 0;
    for (size_t i = 0; i < h->t.out; i++) {
        ss += ref[i] * ref[i];
        double e = fabs((double)h->out[i] - ref[i]);
        if (!(e <= mx))
            mx = e; /* NaN propagates */
    }
    free(ref);
    double rms = sqrt(ss / (double)h->t.out);
    return mx / (rms > 0 ? rms : 1);
}

/* After the check: poison alone leaves NaN everywhere (an impl that writes nothing fails). */
static void poison_leaves_nan(const struct sd_backend_ops *be, struct sd_plan *p, struct sd_row_inputs *h)
{
    char reason[SD_REASON_LEN] = "";
    if (!be->poison)
        return;
    assert_int_equal(be->poison(p, reason, sizeof reason), SD_OK);
    assert_int_equal(be->download(p, h->out, reason, sizeof reason), SD_OK);
    for (size_t i = 0; i < h->t.out; i++)
        assert_true(isnan(h->out[i]));
}

/* A short sampling pass through the cross-check. An honest driver's timer survives it. Mesa's
 * llvmpipe (rusticl) is a real driver whose profiling events read ~5 ns for any kernel (Mesa 22.3):
 * there the device timer must be caught and replaced by the host clock, or the test fails. */
static void timer_cross_checked(const struct sd_backend_ops *be, void *ctx, struct sd_plan *p, const char *what,
                                bool timer_lies)
{
    struct sd_sample_opts so = {.nsets = 1};
    sd_measure_defaults(&so.m);
    so.m.warmup_ms = 0, so.m.min_time_s = 0, so.m.min_samples = so.m.max_samples = SD_XCHECK_BATCH;
    struct sd_samples sm;
    char reason[SD_REASON_LEN] = "";
    assert_int_equal(sd_row_sample(be, ctx, p, &so, &sm, reason, sizeof reason), SD_OK);
    assert_int_equal(sm.st.n, SD_XCHECK_BATCH);
    assert_true(sm.st.median > 0);
    bool kept = !strcmp(sm.timer, be->timer_name(ctx)) && sm.calls_per_sample == 1;
    if (!timer_lies && !kept)
        fail_msg("%s: honest timer %s replaced by %s: %s", what, be->timer_name(ctx), sm.timer, sm.note);
    if (timer_lies && strcmp(sm.timer, "host_monotonic") && sm.calls_per_sample == 1 && sm.st.median < 1e-4)
        fail_msg("%s: lying timer %s published %.3g ms", what, be->timer_name(ctx), sm.st.median);
}

/* One (impl, dtype, shape) case. Returns 1 when run, 0 when the backend does not support it. */
static int one_case(const struct sd_backend_ops *be, void *ctx, const struct sd_workload *wl, const char *impl,
                    int sample, bool timer_lies)
{
    char reason[SD_REASON_LEN] = "", what[256], shp[128];
    sd_workload_shape_str(wl, shp, sizeof shp);
    snprintf(what, sizeof what, "%s %s/%s %s [%s]", be->name, sd_op_name(wl->op), impl, sd_dtype_name(wl->dtype),
             shp);
    if (be->supports && be->supports(ctx, wl, impl, reason, sizeof reason) != SD_OK)
        return 0;
    struct sd_plan *p = NULL;
    enum sd_status st = be->prepare(ctx, wl, impl, 2, &p, reason, sizeof reason);
    if (st != SD_OK)
        fail_msg("%s: prepare: %s: %s", what, sd_status_name(st), reason);
    struct sd_row_inputs h;
    struct sd_verify_result vr;
    double wall;
    assert_int_equal(sd_row_inputs_make(wl, &h, reason, sizeof reason), SD_OK);
    assert_int_equal(sd_row_upload(be, p, 2, &h, reason, sizeof reason), SD_OK);
    st = sd_row_check(be, p, wl, &h, &vr, &wall, reason, sizeof reason);
    if (st != SD_OK)
        fail_msg("%s: %s: %s", what, sd_status_name(st), reason);
    double err = full_rel_err(wl, &h);
    if (!(err <= vr.tolerance))
        fail_msg("%s: full output max_rel_err %.3g > %.3g", what, err, vr.tolerance);
    poison_leaves_nan(be, p, &h);
    if (sample)
        timer_cross_checked(be, ctx, p, what, timer_lies);
    be->release(p);
    sd_row_inputs_free(&h);
    if (be->mem_stats) {
        struct sd_mem_stats ms;
        be->mem_stats(ctx, &ms);
        assert_int_equal(ms.current_bytes, 0);
    }
    return 1;
}

static void test_backend_op(void **state)
{
    const struct bk *k = *state;
    struct sd_device_info info[4];
    char reason[SD_REASON_LEN] = "";
    void *ctx = NULL;
    if (k->be->probe(info, 4) <= 0) {
        print_message("skipped: %s: no device\n", k->be->name);
        skip();
    }
    if (k->be->open(0, &ctx, reason, sizeof reason) != SD_OK) {
        print_message("skipped: %s: cannot open device 0: %s\n", k->be->name, reason);
        skip();
    }
    bool timer_lies = !strncmp(info[0].name, "llvmpipe", 8); /* see timer_cross_checked */
    int ran = 0, unsupported = 0;
    for (const char *const *im = k->be->impls[k->op]; *im; im++)
        for (int dt = 0; dt < SD_DTYPE_COUNT; dt++) {
            int more = 1, sampled = 0;
            for (int i = 0; more; i++) {
                struct sd_workload wl = shape(k->op, i, &more);
                wl.dtype = (enum sd_dtype)dt;
                int r = one_case(k->be, ctx, &wl, *im, !more && !sampled, timer_lies);
                sampled |= r && !more;
                ran += r;
                unsupported += !r;
            }
        }
    k->be->close(ctx);
    print_message("%s: %d cases verified, %d unsupported (impl x dtype x shape)\n", k->name, ran, unsupported);
    assert_true(ran > 0);
}

int main(void)
{
    static struct bk ks[3 * 8];
    struct CMUnitTest tests[3 * 8];
    int n = 0;
    for (int b = 0; sd_backends[b] && n < 3 * 8 - 3; b++)
        for (int op = 0; op < SD_OP_COUNT; op++) {
            if (!sd_backends[b]->impls[op])
                continue;
            ks[n] = (struct bk){sd_backends[b], (enum sd_op)op, ""};
            snprintf(ks[n].name, sizeof ks[n].name, "%s/%s", sd_backends[b]->name, sd_op_name((enum sd_op)op));
            tests[n] = (struct CMUnitTest){ks[n].name, test_backend_op, NULL, NULL, &ks[n]};
            n++;
        }
    if (!n) {
        print_message("no backend compiled in\n");
        return 0;
    }
    return _cmocka_run_group_tests("backend_ops", tests, (size_t)n, NULL, NULL);
}
