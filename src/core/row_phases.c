/* row_phases.c — build inputs, upload, run once + verify, take samples (see row_phases.h).
 *
 * Sampling never trusts a device timer on its word: each sample is also timed with the host
 * monotonic clock around the run() calls (each run() waits for the device), and every batch of
 * SD_XCHECK_BATCH samples is compared (sd_timer_disagrees). A device clock that reads zero for a
 * run is coarser than one run: calls are grouped per sample (doubling) until every sample reads a
 * positive time and spans SD_COARSE_TICKS ticks of it; past SD_COARSE_MAX_SAMPLE_MS per sample, or
 * on any disagreement, the samples so far are dropped and the row is re-sampled with the host clock. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdmark/fault.h"
#include "sdmark/row_phases.h"

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a: fixed seed per workload label */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

enum sd_status sd_row_inputs_make(const struct sd_workload *wl, struct sd_row_inputs *h, char *reason,
                                  size_t len)
{
    memset(h, 0, sizeof *h);
    sd_workload_tensors(wl, &h->t);
    for (int i = 0; i < h->t.n_in; i++) {
        h->in[i] = malloc(h->t.in[i] * sizeof(float));
        if (!h->in[i]) {
            snprintf(reason, len, "host memory for the inputs");
            return SD_OOM;
        }
        sd_fill_random(h->in[i], h->t.in[i], hash_str(wl->label) + (uint64_t)i * 7919u);
        sd_round_to_dtype(h->in[i], h->t.in[i], wl->dtype);
    }
    h->out = malloc(h->t.out * sizeof(float));
    if (!h->out) {
        snprintf(reason, len, "host memory for the output");
        return SD_OOM;
    }
    return SD_OK;
}

void sd_row_inputs_free(struct sd_row_inputs *h)
{
    for (int i = 0; i < 3; i++)
        free(h->in[i]);
    free(h->out);
    memset(h, 0, sizeof *h);
}

enum sd_status sd_row_upload(const struct sd_backend_ops *be, struct sd_plan *p, int nsets,
                             const struct sd_row_inputs *h, char *reason, size_t len)
{
    for (int s = 0; s < nsets; s++) {
        enum sd_status st = be->upload(p, s, (const float *const *)h->in, reason, len);
        if (st != SD_OK)
            return st;
    }
    return SD_OK;
}

enum sd_status sd_row_check(const struct sd_backend_ops *be, struct sd_plan *p, const struct sd_workload *wl,
                            struct sd_row_inputs *h, struct sd_verify_result *vr, double *wall_ms,
                            char *reason, size_t len)
{
    enum sd_status st;
    memset(vr, 0, sizeof *vr);
    vr->max_rel_err = NAN;
    vr->tolerance = sd_verify_tolerance(wl);
    if (be->poison && (st = be->poison(p, reason, len)) != SD_OK)
        return st;
    double ms = NAN, t0 = sd_now_s();
    st = be->run(p, 0, &ms, reason, len);
    *wall_ms = (sd_now_s() - t0) * 1e3;
    if (st != SD_OK)
        return st;
    if ((st = be->download(p, h->out, reason, len)) != SD_OK)
        return st;
    sd_verify(wl, (const float *const *)h->in, h->out, vr);
    if (!vr->pass) {
        snprintf(reason, len, "%s", vr->reason);
        return SD_WRONG;
    }
    return SD_OK;
}

int sd_timer_disagrees(double dev_ms, double wall_ms, int calls, char *why, size_t len)
{
    const char *what = NULL;
    int verdict = SD_XCHECK_IMPOSSIBLE;
    if (!(dev_ms > 0) || !isfinite(dev_ms))
        what = "no usable time";
    else if (dev_ms > wall_ms * SD_XCHECK_LONG_FACTOR + SD_XCHECK_LONG_SLACK_MS * calls)
        what = "longer than the wall time around it";
    else if (wall_ms / calls >= SD_XCHECK_SHORT_MIN_CALL_MS && dev_ms * SD_XCHECK_SHORT_FACTOR < wall_ms) {
        what = "far shorter than the wall time (more than launch overhead explains)";
        verdict = SD_XCHECK_SHORT;
    }
    if (!what)
        return SD_XCHECK_AGREE;
    snprintf(why, len, "device timer %s: %.4g ms vs %.4g ms host wall over %d runs", what, dev_ms, wall_ms, calls);
    return verdict;
}

/* Sampling state shared by the helpers below. */
struct sampler {
    const struct sd_backend_ops *be;
    bool flush;     /* flush the device cache before each timed run (not timed by either clock) */
    struct sd_plan *p;
    int nsets, set;
    double *v;  /* published samples, ms per call */
    int n, cap;
    int saw_zero;   /* a device reading of 0: the clock is coarser than a call */
    double min_pos; /* smallest positive single-call device reading: >= one tick of a coarse clock */
};

/* k calls, timed by the device (summed, through any configured timer lie) and by the host. */
static enum sd_status timed_calls(struct sampler *S, int k, double *dev_ms, double *wall_ms, char *reason,
                                  size_t len)
{
    double d = 0, w = 0;
    for (int i = 0; i < k; i++) {
        enum sd_status st = S->flush ? S->be->flush_cache(S->p, reason, len) : SD_OK;
        if (st != SD_OK)
            return st;
        double ms = NAN, c0 = sd_now_s();
        st = S->be->run(S->p, S->set, &ms, reason, len);
        w += (sd_now_s() - c0) * 1e3;
        S->set = (S->set + 1) % S->nsets;
        if (st != SD_OK)
            return st;
        ms = sd_fault_timer_ms(ms, c0);
        S->saw_zero |= ms == 0;
        if (ms > 0 && !(ms >= S->min_pos))
            S->min_pos = ms;
        d += ms;
    }
    *dev_ms = d;
    *wall_ms = w;
    return SD_OK;
}

static int push(struct sampler *S, double x)
{
    if (S->n == S->cap) {
        int cap = S->cap ? S->cap * 2 : 256;
        double *p = realloc(S->v, sizeof(double) * (size_t)cap);
        if (!p)
            return -1;
        S->v = p;
        S->cap = cap;
    }
    S->v[S->n++] = x;
    return 0;
}

/* Warm-up by time. The check run (sd_row_check) was the row's first run: it paid the one-time costs
 * (kernel compile on first launch, lazy module load, page-in of the buffers) and counts toward
 * warmup_ms. When it lasted at least warmup_ms there is no further warm-up run: on a CPU device the
 * SD rows that take seconds per run would otherwise spend one more run each for nothing. A shorter
 * check run is followed by at least one more run (until warmup_ms in all). */
static enum sd_status warm_up(struct sampler *S, const struct sd_sample_opts *o, double *warm_ms, char *reason,
                              size_t len)
{
    *warm_ms = o->first_wall_ms;
    if (o->first_wall_ms >= o->m.warmup_ms)
        return SD_OK;
    double start = sd_now_s();
    do {
        enum sd_status st = S->be->run(S->p, S->set, NULL, reason, len);
        S->set = (S->set + 1) % S->nsets;
        if (st != SD_OK)
            return st;
    } while ((sd_now_s() - start) * 1e3 + o->first_wall_ms < o->m.warmup_ms &&
             (sd_now_s() - start) * 1e3 + o->first_wall_ms < o->m.timeout_s * 1e3 &&
             !(o->interrupted && *o->interrupted));
    *warm_ms = (sd_now_s() - start) * 1e3 + o->first_wall_ms;
    return SD_OK;
}

enum pass_result { PASS_DONE, PASS_GROUP_MORE, PASS_USE_HOST, PASS_FAILED };

/* One sampling pass with k calls per sample. use_dev: publish the device time (cross-checked);
 * else the host time. Returns what the caller does next; *st holds a backend failure. */
static enum pass_result sample_pass(struct sampler *S, const struct sd_sample_opts *o, int use_dev, int *k,
                                    struct sd_samples *out, enum sd_status *st, char *reason, size_t len)
{
    double D = 0, W = 0, Dall = 0, Wall = 0, start = sd_now_s();
    int calls = 0, calls_all = 0, short_votes = 0;
    char scratch[SD_REASON_LEN];
    S->n = 0;
    for (out->stop = NULL; !out->stop;) {
        double d, w;
        if ((*st = timed_calls(S, *k, &d, &w, reason, len)) != SD_OK)
            return PASS_FAILED;
        /* A zero reading means the clock is coarser than a call: group calls until every sample reads
         * a positive time and spans >= SD_COARSE_TICKS ticks (quantisation error <= 1/SD_COARSE_TICKS). */
        if (use_dev && (!(d > 0) || (S->saw_zero && w < SD_COARSE_TICKS * S->min_pos))) {
            if (isfinite(d) && w * 2 <= SD_COARSE_MAX_SAMPLE_MS) {
                *k *= 2;
                return PASS_GROUP_MORE;
            }
            snprintf(out->note, sizeof out->note, "device timer read %.4g ms for %d runs that took %.4g ms wall", d,
                     *k, w);
            return PASS_USE_HOST;
        }
        D += d, W += w, calls += *k;
        Dall += d, Wall += w, calls_all += *k;
        short_votes += sd_timer_disagrees(d, w, *k, scratch, sizeof scratch) == SD_XCHECK_SHORT;
        if (push(S, (use_dev ? d : w) / *k)) {
            *st = SD_ERROR;
            snprintf(reason, len, "host memory for samples");
            return PASS_FAILED;
        }
        if (o->interrupted && *o->interrupted)
            out->stop = "interrupted";
        else
            out->stop = sd_measure_should_stop(&o->m, S->v, S->n, sd_now_s() - start);
        if (use_dev && (S->n % SD_XCHECK_BATCH == 0 || out->stop)) {
            /* "Longer" and "no time" are impossible on any batch's totals. "Far shorter" must hold
             * for most samples of the pass, at least SD_XCHECK_SHORT_VOTES of them: a few samples
             * stretched by a descheduled host thread are not a lying timer. */
            if (sd_timer_disagrees(D, W, calls, out->note, sizeof out->note) == SD_XCHECK_IMPOSSIBLE)
                return PASS_USE_HOST;
            if (short_votes >= SD_XCHECK_SHORT_VOTES && short_votes * 2 > S->n) {
                snprintf(out->note, sizeof out->note,
                         "device timer far shorter than the wall time on %d of %d samples: %.4g ms vs %.4g ms "
                         "host wall over %d runs", short_votes, S->n, Dall, Wall, calls_all);
                return PASS_USE_HOST;
            }
            out->note[0] = 0;
            D = W = 0, calls = 0;
        }
    }
    return PASS_DONE;
}

enum sd_status sd_row_sample(const struct sd_backend_ops *be, void *ctx, struct sd_plan *p,
                             const struct sd_sample_opts *o, struct sd_samples *out, char *reason, size_t len)
{
    memset(out, 0, sizeof *out);
    int nsets = o->nsets > 0 ? o->nsets : 1;
    struct sampler S = {be, o->flush && be->flush_cache, p, nsets, 1 % nsets, NULL, 0, 0, 0, INFINITY};
    enum sd_status st = warm_up(&S, o, &out->warmup_ms, reason, len);
    if (st != SD_OK)
        return st;
    if (be->env_begin)
        be->env_begin(ctx);
    int k = 1, use_dev = 1;
    enum pass_result r;
    while ((r = sample_pass(&S, o, use_dev, &k, out, &st, reason, len)) != PASS_DONE && r != PASS_FAILED) {
        if (r == PASS_USE_HOST) { /* drop the device samples; the host clock gets a fresh pass */
            use_dev = 0;
            k = 1;
        }
    }
    out->env = (struct sd_env){NAN, NAN, NAN, -1};
    if (be->env_end)
        be->env_end(ctx, &out->env);
    if (r == PASS_DONE) {
        sd_stats_compute(S.v, S.n, &out->st);
        out->calls_per_sample = k;
        const char *dev_timer = be->timer_name ? be->timer_name(ctx) : "host_monotonic";
        snprintf(out->timer, sizeof out->timer, "%s", use_dev ? dev_timer : "host_monotonic");
        char note[SD_REASON_LEN];
        snprintf(note, sizeof note, "%s", out->note);
        if (!use_dev)
            snprintf(out->note, sizeof out->note, "re-timed with the host clock: %.200s", note);
        else if (k > 1)
            snprintf(out->note, sizeof out->note, "device clock coarser than one run: %d runs per sample", k);
    }
    free(S.v);
    return r == PASS_FAILED ? st : SD_OK;
}
