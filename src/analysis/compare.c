/* compare.c — two result sets (files or directories), rows matched by key, the first set being
 * the baseline A.
 *
 * Key: by workload (suite|op|label|dtype|acc|shape), taking on each side the fastest usable impl
 * of that workload, so a cpu run and an OpenCL run meet on every workload; or, with
 * SD_CMP_BY_IMPL, by backend, workload and impl (sd_result_key), same impl on both sides.
 *
 * Verdict per row, using both rows' noise (rel_noise = stdev/mean of batch medians):
 *   d = t_B / t_A - 1;  threshold = max(2 * sqrt(noise_A^2 + noise_B^2), 1 %)
 *   (5 % when either row has no noise figure);  |d| <= threshold -> same,
 *   d < 0 -> faster (B takes less time), d > 0 -> slower.
 * The 2·σ of the difference of two independent estimates is a ~95 % band; the 1 % floor keeps
 * clock/thermal drift between runs (docs/measurement.md: 10–30 % without control, ~1 % with)
 * from being reported as a change. A regression (what fails CI) is a row slower beyond its noise
 * band AND by more than the user's threshold: nvbench_compare's max(noise, threshold) rule.
 * Speedup = t_A / t_B; geometric means per op and overall are over rows usable in both sets.
 * Rows in only one set, and rows that failed in either, are listed separately and never enter a
 * mean. */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdmark/compare.h"

const char *sd_cmp_verdict_name(enum sd_cmp_verdict v)
{
    return v == SD_CMP_FASTER ? "faster" : v == SD_CMP_SLOWER ? "slower" : "same";
}

enum sd_cmp_verdict sd_cmp_verdict(double ta, double na, double tb, double nb, double *thr)
{
    double t;
    if (isfinite(na) && isfinite(nb) && na >= 0 && nb >= 0)
        t = fmax(2.0 * sqrt(na * na + nb * nb), 0.01);
    else
        t = 0.05;
    if (thr)
        *thr = t;
    double d = tb / ta - 1.0;
    if (fabs(d) <= t)
        return SD_CMP_SAME;
    return d < 0 ? SD_CMP_FASTER : SD_CMP_SLOWER;
}

double sd_geomean(const double *x, size_t n)
{
    if (!n)
        return NAN;
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += log(x[i]);
    return exp(s / (double)n);
}

static void row_key(const struct sd_result *r, enum sd_cmp_key k, char *buf, size_t len)
{
    if (k == SD_CMP_BY_IMPL) { /* an impl name belongs to its backend ("own" on cpu is not "own" on OpenCL) */
        char key[380];
        sd_result_key(r, key, sizeof key);
        snprintf(buf, len, "%s:%s", r->dev.backend, key);
        return;
    }
    char shape[160];
    sd_workload_shape_str(&r->wl, shape, sizeof shape);
    snprintf(buf, len, "%s|%s|%s|%s|%s|%s", r->wl.suite, sd_op_name(r->wl.op), r->wl.label,
             sd_dtype_name(r->wl.dtype), sd_dtype_name(r->wl.acc), shape);
}

static bool better(const struct sd_result *r, const struct sd_result *cur)
{
    return sd_row_usable(r) && (!sd_row_usable(cur) || r->time_ms_median < cur->time_ms_median);
}

size_t sd_cmp_index(const struct sd_rset *s, int dev, enum sd_cmp_key k, struct sd_cmp_keyed **out, size_t *ndup)
{
    struct sd_cmp_keyed *v = calloc(s->n + 1, sizeof *v);
    size_t n = 0;
    for (size_t i = 0; v && i < s->n; i++) {
        if (dev >= 0 && s->dev_of[i] != dev)
            continue;
        char key[400];
        row_key(&s->rows[i], k, key, sizeof key);
        size_t j;
        for (j = 0; j < n && strcmp(v[j].key, key); j++)
            ;
        if (j == n) {
            snprintf(v[n].key, sizeof v[n].key, "%s", key);
            v[n++].r = &s->rows[i];
        } else if (k == SD_CMP_BY_IMPL)
            (*ndup)++;
        else if (better(&s->rows[i], v[j].r))
            v[j].r = &s->rows[i];
    }
    *out = v;
    return n;
}

static const char *state_txt(const struct sd_result *r, char *b, size_t l)
{
    if (sd_row_usable(r))
        snprintf(b, l, "ok (%s)", r->impl);
    else if (r->status == SD_OK)
        snprintf(b, l, "ok but unusable (%s, verify %s)", r->impl, r->verify);
    else
        snprintf(b, l, "%s (%s): %.120s", sd_status_name(r->status), r->impl, r->reason);
    return b;
}

/* "name" for one device, "name; name; ..." for several, "(empty)" for none. */
static void side_devices(const struct sd_rset *s, char *buf, size_t len)
{
    size_t o = 0;
    buf[0] = 0;
    for (size_t d = 0; d < s->ndev && o < len; d++) {
        char name[200];
        sd_device_display(&s->dev[d], name, sizeof name);
        o += (size_t)snprintf(buf + o, len - o, "%s%s", d ? "; " : "", name);
    }
    if (!s->ndev)
        snprintf(buf, len, "(empty)");
}

static void add_row(struct sd_cmp_pair *p, const struct sd_cmp_keyed *ka, const struct sd_result *b, double thr_user)
{
    const struct sd_result *a = ka->r;
    struct sd_cmp_row *x = &p->rows[p->nrows++];
    snprintf(x->key, sizeof x->key, "%s", ka->key);
    x->op = a->wl.op;
    snprintf(x->label, sizeof x->label, "%s", a->wl.label);
    snprintf(x->dtype, sizeof x->dtype, "%s", sd_dtype_name(a->wl.dtype));
    sd_workload_shape_str(&a->wl, x->shape, sizeof x->shape);
    snprintf(x->impl_a, sizeof x->impl_a, "%s", a->impl);
    snprintf(x->impl_b, sizeof x->impl_b, "%s", b->impl);
    x->ta = a->time_ms_median;
    x->tb = b->time_ms_median;
    x->speedup = x->ta / x->tb;
    x->verdict = sd_cmp_verdict(x->ta, a->rel_noise, x->tb, b->rel_noise, &x->noise_thr);
    x->regression = x->verdict == SD_CMP_SLOWER && x->tb / x->ta - 1 > thr_user;
    p->counts[x->verdict]++;
    p->nregressions += x->regression;
}

static void add_failed(struct sd_cmp_pair *p, const struct sd_cmp_keyed *ka, const struct sd_result *b)
{
    struct sd_cmp_failed *x = &p->failed[p->nfailed++];
    snprintf(x->key, sizeof x->key, "%s", ka->key);
    state_txt(ka->r, x->a, sizeof x->a);
    state_txt(b, x->b, sizeof x->b);
}

/* Geometric-mean speedups per op and overall over the compared rows. */
static void geomeans(struct sd_cmp_pair *p)
{
    double *x = calloc(p->nrows + 1, sizeof *x);
    for (int op = 0; op <= SD_OP_COUNT; op++) {
        size_t n = 0;
        for (size_t i = 0; x && i < p->nrows; i++)
            if (op == SD_OP_COUNT || p->rows[i].op == (enum sd_op)op)
                x[n++] = p->rows[i].speedup;
        p->ngeo[op] = n;
        p->geomean[op] = sd_geomean(x, n);
    }
    free(x);
}

static int alloc_pair(struct sd_cmp_pair *p, size_t na, size_t nb)
{
    p->rows = calloc(na + 1, sizeof *p->rows);
    p->failed = calloc(na + 1, sizeof *p->failed);
    p->only_a = calloc(na + 1, sizeof *p->only_a);
    p->only_b = calloc(nb + 1, sizeof *p->only_b);
    return p->rows && p->failed && p->only_a && p->only_b ? 0 : -1;
}

static void match_rows(struct sd_cmp_pair *p, struct sd_cmp_keyed *ka, size_t na, struct sd_cmp_keyed *kb, size_t nb,
                       double thr_user)
{
    for (size_t i = 0; i < na; i++) {
        struct sd_cmp_keyed *b = NULL;
        for (size_t j = 0; j < nb && !b; j++)
            if (!kb[j].matched && !strcmp(ka[i].key, kb[j].key))
                b = &kb[j];
        if (!b)
            snprintf(p->only_a[p->nonly_a++], sizeof p->only_a[0], "%s", ka[i].key);
        else if (!sd_row_usable(ka[i].r) || !sd_row_usable(b->r))
            add_failed(p, &ka[i], b->r);
        else
            add_row(p, &ka[i], b->r, thr_user);
        if (b)
            b->matched = true;
    }
    for (size_t j = 0; j < nb; j++)
        if (!kb[j].matched)
            snprintf(p->only_b[p->nonly_b++], sizeof p->only_b[0], "%s", kb[j].key);
}

int sd_compare_sets(const struct sd_rset *a, const char *name_a, const struct sd_rset *b, const char *name_b,
                    const struct sd_cmp_opts *o, struct sd_cmp_pair *p, char *err, size_t errlen)
{
    memset(p, 0, sizeof *p);
    snprintf(p->baseline, sizeof p->baseline, "%s", name_a);
    snprintf(p->file, sizeof p->file, "%s", name_b);
    side_devices(a, p->dev_a, sizeof p->dev_a);
    side_devices(b, p->dev_b, sizeof p->dev_b);
    struct sd_cmp_keyed *ka = NULL, *kb = NULL;
    size_t na = sd_cmp_index(a, -1, o->key, &ka, &p->nduplicates), nb = sd_cmp_index(b, -1, o->key, &kb, &p->nduplicates);
    int rc = 0;
    if (!ka || !kb || alloc_pair(p, na, nb)) {
        snprintf(err, errlen, "out of memory comparing %s with %s", name_b, name_a);
        rc = -1;
    } else {
        match_rows(p, ka, na, kb, nb, o->threshold);
        geomeans(p);
    }
    free(ka);
    free(kb);
    return rc;
}

void sd_cmp_pair_free(struct sd_cmp_pair *p)
{
    free(p->rows);
    free(p->failed);
    free(p->only_a);
    free(p->only_b);
    memset(p, 0, sizeof *p);
}
