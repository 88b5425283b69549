/* compare_print.c — render comparisons (compare.c) as text, JSON (cJSON) or markdown. The
 * baseline A is always named first. */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "sdmark/json_out.h"
#include "sdmark/compare.h"

static const char *rule_text(const struct sd_cmp_opts *o, char *b, size_t l)
{
    snprintf(b, l, "rows matched by %s; same when |tB/tA-1| <= max(2*sqrt(noiseA^2+noiseB^2), 1%%) (5%% if a noise is "
             "unknown); regression = slower beyond that and by more than %.1f %%; speedup = tA/tB",
             o->key == SD_CMP_BY_IMPL ? "workload and impl" : "workload (fastest usable impl on each side)",
             100 * o->threshold);
    return b;
}

/* ------------------------------------------------------------------ text and markdown */

static void print_row(FILE *f, const struct sd_cmp_row *r, int md)
{
    const char *v = r->regression ? "slower REGRESSION" : sd_cmp_verdict_name(r->verdict);
    if (md)
        fprintf(f, "| %s | %s | %s | %s | %s | %s | %.4g | %.4g | %.3f | %.1f %% | %s |\n", sd_op_name(r->op), r->label,
                r->impl_a, r->impl_b, r->dtype, r->shape, r->ta, r->tb, r->speedup, 100 * r->noise_thr, v);
    else
        fprintf(f, "%-9s %-22s %-8s %-8s %-5s %-30s %10.4g %10.4g %7.3fx %5.1f%%  %s\n", sd_op_name(r->op), r->label,
                r->impl_a, r->impl_b, r->dtype, r->shape, r->ta, r->tb, r->speedup, 100 * r->noise_thr, v);
}

static void print_lists(FILE *f, const struct sd_cmp_pair *p, int md)
{
    const char *gap = md ? "\n" : "";
    if (p->nonly_a)
        fprintf(f, "%sonly in A %s (baseline):\n", gap, p->baseline);
    for (size_t i = 0; i < p->nonly_a; i++)
        fprintf(f, "  %s\n", p->only_a[i]);
    if (p->nonly_b)
        fprintf(f, "%sonly in B %s:\n", gap, p->file);
    for (size_t i = 0; i < p->nonly_b; i++)
        fprintf(f, "  %s\n", p->only_b[i]);
    if (p->nfailed)
        fprintf(f, "%sfailed in either (not compared):\n", gap);
    for (size_t i = 0; i < p->nfailed; i++)
        fprintf(f, "  %s\n    A: %s\n    B: %s\n", p->failed[i].key, p->failed[i].a, p->failed[i].b);
    if (p->nduplicates)
        fprintf(f, "%s%zu duplicate rows (same workload and impl twice on one side): the first was used\n", gap,
                p->nduplicates);
}

static void print_text_pair(FILE *f, const struct sd_cmp_pair *p, const struct sd_cmp_opts *o, int md)
{
    if (md)
        fprintf(f, "### %s vs baseline %s\n\nA = %s (baseline), B = %s\n\n| op | label | impl A | impl B | dtype | "
                   "shape | A ms | B ms | speedup A/B | noise band | verdict |\n|---|---|---|---|---|---|---|---|---|---|---|\n",
                p->file, p->baseline, p->dev_a, p->dev_b);
    else
        fprintf(f, "A = %s (%s, baseline)\nB = %s (%s)\n%-9s %-22s %-8s %-8s %-5s %-30s %10s %10s %8s %6s  %s\n",
                p->baseline, p->dev_a, p->file, p->dev_b, "op", "label", "impl A", "impl B", "dtype", "shape", "A ms",
                "B ms", "A/B", "+-thr", "verdict");
    for (size_t i = 0; i < p->nrows; i++)
        print_row(f, &p->rows[i], md);
    fprintf(f, md ? "\n**Geometric-mean speedup A/B**:" : "\ngeomean speedup A/B:");
    for (int op = 0; op <= SD_OP_COUNT; op++)
        if (p->ngeo[op])
            fprintf(f, " %s %.3fx (%zu rows)%s", op == SD_OP_COUNT ? "overall" : sd_op_name((enum sd_op)op),
                    p->geomean[op], p->ngeo[op], op == SD_OP_COUNT ? "" : ",");
    if (!p->ngeo[SD_OP_COUNT])
        fprintf(f, " none (no row usable in both)");
    fprintf(f, "\n%s%d faster, %d slower, %d same within noise; %zu regression%s beyond %.1f %%\n", md ? "\n" : "",
            p->counts[SD_CMP_FASTER], p->counts[SD_CMP_SLOWER], p->counts[SD_CMP_SAME], p->nregressions,
            p->nregressions == 1 ? "" : "s", 100 * o->threshold);
    print_lists(f, p, md);
    fprintf(f, "\n");
}

/* ------------------------------------------------------------------ JSON */

static cJSON *json_row(const struct sd_cmp_row *r)
{
    cJSON *x = cJSON_CreateObject();
    cJSON_AddStringToObject(x, "key", r->key);
    cJSON_AddStringToObject(x, "op", sd_op_name(r->op));
    cJSON_AddStringToObject(x, "label", r->label);
    cJSON_AddStringToObject(x, "impl_baseline", r->impl_a);
    cJSON_AddStringToObject(x, "impl", r->impl_b);
    cJSON_AddStringToObject(x, "dtype", r->dtype);
    cJSON_AddStringToObject(x, "shape", r->shape);
    cJSON_AddNumberToObject(x, "baseline_ms", r->ta);
    cJSON_AddNumberToObject(x, "ms", r->tb);
    cJSON_AddNumberToObject(x, "speedup", r->speedup);
    cJSON_AddNumberToObject(x, "threshold", r->noise_thr);
    cJSON_AddStringToObject(x, "verdict", sd_cmp_verdict_name(r->verdict));
    cJSON_AddBoolToObject(x, "regression", r->regression);
    return x;
}

static void json_lists(cJSON *jc, const struct sd_cmp_pair *p)
{
    cJSON *oa = cJSON_AddArrayToObject(jc, "only_in_baseline"), *ob = cJSON_AddArrayToObject(jc, "only_in_file"),
          *jf = cJSON_AddArrayToObject(jc, "failed");
    for (size_t i = 0; i < p->nonly_a; i++)
        cJSON_AddItemToArray(oa, cJSON_CreateString(p->only_a[i]));
    for (size_t i = 0; i < p->nonly_b; i++)
        cJSON_AddItemToArray(ob, cJSON_CreateString(p->only_b[i]));
    for (size_t i = 0; i < p->nfailed; i++) {
        cJSON *x = cJSON_CreateObject();
        cJSON_AddStringToObject(x, "key", p->failed[i].key);
        cJSON_AddStringToObject(x, "baseline", p->failed[i].a);
        cJSON_AddStringToObject(x, "file", p->failed[i].b);
        cJSON_AddItemToArray(jf, x);
    }
}

static cJSON *json_pair(const struct sd_cmp_pair *p)
{
    cJSON *jc = cJSON_CreateObject();
    cJSON_AddStringToObject(jc, "baseline", p->baseline);
    cJSON_AddStringToObject(jc, "baseline_device", p->dev_a);
    cJSON_AddStringToObject(jc, "file", p->file);
    cJSON_AddStringToObject(jc, "device", p->dev_b);
    cJSON *rows = cJSON_AddArrayToObject(jc, "rows");
    for (size_t i = 0; i < p->nrows; i++)
        cJSON_AddItemToArray(rows, json_row(&p->rows[i]));
    json_lists(jc, p);
    cJSON *jg = cJSON_AddObjectToObject(jc, "geomean_speedup");
    for (int op = 0; op <= SD_OP_COUNT; op++)
        if (p->ngeo[op])
            cJSON_AddNumberToObject(jg, op == SD_OP_COUNT ? "overall" : sd_op_name((enum sd_op)op), p->geomean[op]);
    cJSON *jv = cJSON_AddObjectToObject(jc, "verdicts");
    cJSON_AddNumberToObject(jv, "faster", p->counts[SD_CMP_FASTER]);
    cJSON_AddNumberToObject(jv, "slower", p->counts[SD_CMP_SLOWER]);
    cJSON_AddNumberToObject(jv, "same", p->counts[SD_CMP_SAME]);
    cJSON_AddNumberToObject(jc, "regressions", (double)p->nregressions);
    cJSON_AddNumberToObject(jc, "duplicates", (double)p->nduplicates);
    return jc;
}

static void print_json(FILE *f, const struct sd_cmp_pair *p, size_t n, const struct sd_cmp_opts *o)
{
    char rule[400];
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "baseline", n ? p[0].baseline : "");
    cJSON_AddStringToObject(root, "key", o->key == SD_CMP_BY_IMPL ? "impl" : "workload");
    cJSON_AddNumberToObject(root, "threshold", o->threshold);
    cJSON_AddStringToObject(root, "verdict_rule", rule_text(o, rule, sizeof rule));
    cJSON *arr = cJSON_AddArrayToObject(root, "comparisons");
    for (size_t i = 0; i < n; i++)
        cJSON_AddItemToArray(arr, json_pair(&p[i]));
    sd_json_emit(f, root);
}

void sd_compare_print(FILE *f, const struct sd_cmp_pair *p, size_t n, const struct sd_cmp_opts *o, enum sd_format fmt)
{
    if (fmt == SD_FMT_JSON) {
        print_json(f, p, n, o);
        return;
    }
    char rule[400];
    if (fmt != SD_FMT_MD)
        fprintf(f, "%s\n\n", rule_text(o, rule, sizeof rule));
    for (size_t i = 0; i < n; i++)
        print_text_pair(f, &p[i], o, fmt == SD_FMT_MD);
}
