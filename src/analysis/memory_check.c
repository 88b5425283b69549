/* memcheck.c — the memory model's per-layer figures against what the backends measured
 * (peak_mem_bytes, tracked allocations incl. library workspaces) for the same shape.
 *
 * Attention: the unfused impl allocates the whole score matrix, the fused (flash) impl none, the
 * sliced impl one head's slice; with the same inputs, output and rotation sets the difference of
 * their peaks is the score matrix (less the slice against sliced). An unfused row is paired within
 * its library family (unfused with flash/sliced; onednn_unfused with onednn_sliced: the cpu
 * backend has no fused attention), fused first. The difference must agree with
 * bh × seq_q × seq_kv × element size (against sliced: (bh-1) heads) within 10 %; the row's dtype is
 * tried first, then fp32 (a backend may keep fp32 scores for an fp16 row — said in the note). An
 * unfused row without a partner is listed as not judged.
 * Conv: a hot-cache row holds one set of tensors (input, weights, output): its peak must agree with
 * that within 10 % (cold-cache rows rotate several input sets and are reported, not judged).
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdmark/analysis.h"

static bool same_wl(const struct sd_workload *a, const struct sd_workload *b)
{
    char sa[160], sb[160];
    sd_workload_shape_str(a, sa, sizeof sa);
    sd_workload_shape_str(b, sb, sizeof sb);
    return a->op == b->op && a->dtype == b->dtype && !strcmp(sa, sb);
}

/* Library workspace an ok row names in its reason ("workspace=N", the cuda backend's note): it is
 * neither scores nor tensors, so the checks take it out of the measured peak. */
static double row_workspace(const struct sd_result *r)
{
    const char *w = strstr(r->reason, "workspace=");
    return w ? strtod(w + strlen("workspace="), NULL) : 0;
}

/* The partner of an unfused attention row: a row of the same library family (the impl name up to
 * "unfused": "" for the plain impls, "onednn_" for oneDNN's), device, shape, dtype and cache mode
 * whose score memory is known — fused (flash) first: no score matrix; else sliced: one head's
 * slice (every backend's sliced impl holds seq_q x seq_kv scores, see docs/memory.md). */
static const struct sd_result *attn_partner(const struct sd_rset *s, size_t i, size_t prefix_len)
{
    static const char *const kinds[] = {"flash", "fused", "sliced"};
    const struct sd_result *u = &s->rows[i];
    for (int k = 0; k < 3; k++)
        for (size_t j = 0; j < s->n; j++) {
            const struct sd_result *r = &s->rows[j];
            if ((!s->dev_of || s->dev_of[j] == s->dev_of[i]) && r->status == SD_OK && isfinite(r->peak_mem_bytes) &&
                !strncmp(r->impl, u->impl, prefix_len) && !strcmp(r->impl + prefix_len, kinds[k]) &&
                same_wl(&r->wl, &u->wl) && !strcmp(r->cache_mode, u->cache_mode))
                return r;
        }
    return NULL;
}

/* Score bytes that peak(unfused) - peak(partner) should be: the whole matrix against a fused
 * partner, all heads but one against a sliced one. */
static double attn_model(const struct sd_workload *wl, const struct sd_result *partner, size_t elem)
{
    double all = sd_mem_row_scores(wl, elem);
    if (!partner || strstr(partner->impl, "sliced") == NULL)
        return all;
    struct sd_workload one = *wl;
    one.batch_heads = 1;
    return all - sd_mem_row_scores(&one, elem);
}

/* Unfused attention (impl "unfused" or "<library>_unfused"): measured scores against the model.
 * Without a partner the row is listed, not judged, and the note says why. */
static void attn_check(const struct sd_rset *s, size_t i, const char *shape, struct sd_mem_check *c)
{
    const struct sd_result *u = &s->rows[i];
    const struct sd_result *f = attn_partner(s, i, strlen(u->impl) - strlen("unfused"));
    const char *dt = sd_dtype_name(u->wl.dtype);
    double m1 = attn_model(&u->wl, f, sd_dtype_size(u->wl.dtype)), m2 = attn_model(&u->wl, f, 4);
    c->model = m1;
    if (!f) {
        snprintf(c->what, sizeof c->what, "attention scores %s %s (%s)", shape, dt, u->impl);
        c->measured = u->peak_mem_bytes - row_workspace(u);
        c->ok = true; /* nothing to disagree with */
        snprintf(c->note, sizeof c->note, "not judged: no fused or sliced row of this impl family, shape and dtype "
                                          "to subtract (measured = the row's whole peak)");
        return;
    }
    c->judged = true;
    snprintf(c->what, sizeof c->what, "attention scores %s %s (%s - %s peak)", shape, dt, u->impl, f->impl);
    c->measured = (u->peak_mem_bytes - row_workspace(u)) - (f->peak_mem_bytes - row_workspace(f));
    c->ok = fabs(c->measured - m1) <= 0.10 * m1;
    if (!c->ok && m2 != m1 && fabs(c->measured - m2) <= 0.10 * m2) {
        c->model = m2;
        c->ok = true;
        snprintf(c->note, sizeof c->note, "backend keeps fp32 scores (2x the %s figure)", dt);
    }
    if (strstr(f->impl, "sliced"))
        snprintf(c->note + strlen(c->note), sizeof c->note - strlen(c->note),
                 "%smodel: all heads' scores less the one-head slice %s keeps", c->note[0] ? "; " : "", f->impl);
}

/* Conv: a hot-cache row holds one set of tensors; a cold one rotates several input sets. */
static void conv_check(const struct sd_result *u, const char *shape, struct sd_mem_check *c)
{
    double m = sd_mem_row_tensors(&u->wl);
    snprintf(c->what, sizeof c->what, "conv2d tensors %s %s (%s)", shape, sd_dtype_name(u->wl.dtype), u->impl);
    c->measured = u->peak_mem_bytes - row_workspace(u);
    c->model = m;
    c->judged = true;
    if (!strcmp(u->cache_mode, "cold")) {
        c->ok = c->measured >= 0.9 * m;
        snprintf(c->note, sizeof c->note, "cold cache: %.1f input sets' worth, not judged beyond >= model",
                 c->measured / m);
    } else
        c->ok = fabs(c->measured - m) <= 0.10 * m;
}

static bool is_unfused(const char *impl)
{
    size_t n = strlen(impl), k = strlen("unfused");
    return n >= k && !strcmp(impl + n - k, "unfused") && (n == k || impl[n - k - 1] == '_');
}

size_t sd_mem_check_rows(const struct sd_rset *s, struct sd_mem_check *out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < s->n && n < max; i++) {
        const struct sd_result *u = &s->rows[i];
        if (u->status != SD_OK || !isfinite(u->peak_mem_bytes) || u->peak_mem_bytes <= 0)
            continue;
        bool attn = u->wl.op == SD_OP_ATTENTION && is_unfused(u->impl);
        if (!attn && u->wl.op != SD_OP_CONV2D)
            continue;
        char shape[160];
        sd_workload_shape_str(&u->wl, shape, sizeof shape);
        struct sd_mem_check *c = &out[n++];
        memset(c, 0, sizeof *c);
        if (s->dev)
            sd_device_display(&s->dev[s->dev_of[i]], c->device, sizeof c->device);
        if (attn)
            attn_check(s, i, shape, c);
        else
            conv_check(u, shape, c);
    }
    return n;
}
