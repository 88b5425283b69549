/* memcheck.c — the memory model's per-layer figures against what the backends measured
 * (peak_mem_bytes, tracked allocations incl. library workspaces) for the same shape.
 *
 * Attention: the unfused impl allocates the whole score matrix, the fused (flash) impl none; with
 * the same inputs, output and rotation sets the difference of their peaks is the score matrix.
 * It must agree with bh × seq_q × seq_kv × element size within 10 %; the row's dtype is tried
 * first, then fp32 (a backend may keep fp32 scores for an fp16 row — said in the note).
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

size_t sd_mem_check_rows(const struct sd_rset *s, struct sd_mem_check *out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < s->n && n < max; i++) {
        const struct sd_result *u = &s->rows[i];
        if (u->status != SD_OK || !isfinite(u->peak_mem_bytes) || u->peak_mem_bytes <= 0)
            continue;
        char shape[160];
        sd_workload_shape_str(&u->wl, shape, sizeof shape);
        struct sd_mem_check *c = &out[n];
        memset(c, 0, sizeof *c);
        if (s->dev)
            sd_device_display(&s->dev[s->dev_of[i]], c->device, sizeof c->device);
        if (u->wl.op == SD_OP_ATTENTION && !strcmp(u->impl, "unfused")) {
            const struct sd_result *f = NULL;
            for (size_t j = 0; j < s->n; j++) {
                const struct sd_result *r = &s->rows[j];
                if ((!s->dev_of || s->dev_of[j] == s->dev_of[i]) && r->status == SD_OK &&
                    (!strcmp(r->impl, "flash") || !strcmp(r->impl, "fused")) && isfinite(r->peak_mem_bytes) &&
                    same_wl(&r->wl, &u->wl) && !strcmp(r->cache_mode, u->cache_mode)) {
                    f = r;
                    break;
                }
            }
            if (!f)
                continue;
            double meas = (u->peak_mem_bytes - row_workspace(u)) - (f->peak_mem_bytes - row_workspace(f));
            double m1 = sd_mem_row_scores(&u->wl, sd_dtype_size(u->wl.dtype));
            double m2 = sd_mem_row_scores(&u->wl, 4);
            snprintf(c->what, sizeof c->what, "attention scores %s %s (unfused - %s peak)", shape,
                     sd_dtype_name(u->wl.dtype), f->impl);
            c->measured = meas;
            c->model = m1;
            c->ok = fabs(meas - m1) <= 0.10 * m1;
            if (!c->ok && m2 != m1 && fabs(meas - m2) <= 0.10 * m2) {
                c->model = m2;
                c->ok = true;
                snprintf(c->note, sizeof c->note, "backend keeps fp32 scores (2x the %s figure)",
                         sd_dtype_name(u->wl.dtype));
            }
            n++;
        } else if (u->wl.op == SD_OP_CONV2D) {
            double m = sd_mem_row_tensors(&u->wl);
            snprintf(c->what, sizeof c->what, "conv2d tensors %s %s (%s)", shape, sd_dtype_name(u->wl.dtype),
                     u->impl);
            c->measured = u->peak_mem_bytes - row_workspace(u);
            c->model = m;
            if (!strcmp(u->cache_mode, "cold")) {
                c->ok = c->measured >= 0.9 * m;
                snprintf(c->note, sizeof c->note, "cold cache: %.1f input sets' worth, not judged beyond >= model",
                         c->measured / m);
            } else
                c->ok = fabs(c->measured - m) <= 0.10 * m;
            n++;
        }
    }
    return n;
}
