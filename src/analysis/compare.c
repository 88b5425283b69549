/* compare.c — two or more results files, rows matched by workload key
 * (suite|op|impl|label|dtype|acc|shape, sd_result_key), the first file being the baseline.
 *
 * Verdict per row, using both rows' noise (rel_noise = stdev/mean of batch medians):
 *   d = t_B / t_A - 1;  threshold = max(2 * sqrt(noise_A^2 + noise_B^2), 1 %)
 *   (5 % when either row has no noise figure);  |d| <= threshold -> same,
 *   d < 0 -> faster (B takes less time), d > 0 -> slower.
 * The 2·σ of the difference of two independent estimates is a ~95 % band; the 1 % floor keeps
 * clock/thermal drift between runs (docs/measurement.md: 10–30 % without control, ~1 % with)
 * from being reported as a change. Speedup = t_A / t_B; geometric means per op and overall are
 * over rows usable in both files. Rows in only one file, and rows that failed in either, are
 * listed separately and never enter a mean. */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "sdmark/analysis.h"

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

struct keyed {
    char key[400];
    const struct sd_result *r;
    int line;
    int matched;
};

static int load(const char *path, struct sd_result **rows, size_t *n, struct keyed **k, char *err, size_t errlen)
{
    if (sd_results_read(path, rows, n, err, errlen))
        return -1;
    *k = calloc(*n + 1, sizeof **k);
    for (size_t i = 0; i < *n; i++) {
        sd_result_key(&(*rows)[i], (*k)[i].key, sizeof (*k)[i].key);
        (*k)[i].r = &(*rows)[i];
        (*k)[i].line = (int)i + 2;
        for (size_t j = 0; j < i; j++)
            if (!strcmp((*k)[j].key, (*k)[i].key)) {
                fprintf(stderr, "sdmark compare: %s:%d: duplicate workload %s (first at line %d); using the first\n",
                        path, (int)i + 2, (*k)[i].key, (*k)[j].line);
                (*k)[i].matched = -1; /* ignored */
                break;
            }
    }
    return 0;
}

static const char *devname(const struct sd_result *rows, size_t n)
{
    return n ? rows[0].dev.name : "(empty)";
}

static void shape_of(const struct sd_result *r, char *b, size_t l) { sd_workload_shape_str(&r->wl, b, l); }

static const char *failtxt(const struct sd_result *r, char *b, size_t l)
{
    if (sd_row_usable(r))
        snprintf(b, l, "ok");
    else if (r->status == SD_OK)
        snprintf(b, l, "ok but unusable (verify %s)", r->verify);
    else
        snprintf(b, l, "%s: %.120s", sd_status_name(r->status), r->reason);
    return b;
}

static int compare_pair(FILE *out, const char *fa, const char *fb, const char *format, cJSON *jarr, char *err,
                        size_t errlen)
{
    struct sd_result *ra = NULL, *rb = NULL;
    size_t na = 0, nb = 0;
    struct keyed *ka = NULL, *kb = NULL;
    int rc = -1;
    if (load(fa, &ra, &na, &ka, err, errlen) || load(fb, &rb, &nb, &kb, err, errlen))
        goto done;
    int md = !strcmp(format, "md"), js = !strcmp(format, "json");
    cJSON *jc = NULL, *jrows = NULL, *jonlya = NULL, *jonlyb = NULL, *jfail = NULL;
    if (js) {
        jc = cJSON_CreateObject();
        cJSON_AddStringToObject(jc, "baseline", fa);
        cJSON_AddStringToObject(jc, "baseline_device", devname(ra, na));
        cJSON_AddStringToObject(jc, "file", fb);
        cJSON_AddStringToObject(jc, "device", devname(rb, nb));
        jrows = cJSON_AddArrayToObject(jc, "rows");
        jonlya = cJSON_AddArrayToObject(jc, "only_in_baseline");
        jonlyb = cJSON_AddArrayToObject(jc, "only_in_file");
        jfail = cJSON_AddArrayToObject(jc, "failed");
        cJSON_AddItemToArray(jarr, jc);
    } else if (md) {
        fprintf(out, "### %s vs baseline %s\n\nB = %s, A = %s\n\n", fb, fa, devname(rb, nb), devname(ra, na));
        fprintf(out, "| op | label | impl | dtype | shape | A ms | B ms | speedup A/B | threshold | verdict |\n"
                     "|---|---|---|---|---|---|---|---|---|---|\n");
    } else {
        fprintf(out, "B = %s (%s)\nA = %s (%s, baseline)\n", fb, devname(rb, nb), fa, devname(ra, na));
        fprintf(out, "%-9s %-22s %-8s %-5s %-30s %10s %10s %8s %6s  %s\n", "op", "label", "impl", "dtype", "shape",
                "A ms", "B ms", "A/B", "+-thr", "verdict");
    }
    double *sp[SD_OP_COUNT + 1];
    size_t nsp[SD_OP_COUNT + 1] = {0};
    for (int i = 0; i <= SD_OP_COUNT; i++)
        sp[i] = calloc(na + 1, sizeof(double));
    int counts[3] = {0};
    struct sd_buf fails = {0}, onlya = {0}, onlyb = {0};
    for (size_t i = 0; i < na; i++) {
        if (ka[i].matched < 0)
            continue;
        const struct sd_result *a = ka[i].r, *b = NULL;
        for (size_t j = 0; j < nb; j++)
            if (kb[j].matched >= 0 && !kb[j].matched && !strcmp(ka[i].key, kb[j].key)) {
                b = kb[j].r;
                kb[j].matched = 1;
                break;
            }
        char shape[160], f1[200], f2[200];
        shape_of(a, shape, sizeof shape);
        if (!b) {
            if (js)
                cJSON_AddItemToArray(jonlya, cJSON_CreateString(ka[i].key));
            else
                sd_buf_printf(&onlya, "  %s\n", ka[i].key);
            continue;
        }
        if (!sd_row_usable(a) || !sd_row_usable(b)) {
            failtxt(a, f1, sizeof f1);
            failtxt(b, f2, sizeof f2);
            if (js) {
                cJSON *x = cJSON_CreateObject();
                cJSON_AddStringToObject(x, "key", ka[i].key);
                cJSON_AddStringToObject(x, "baseline", f1);
                cJSON_AddStringToObject(x, "file", f2);
                cJSON_AddItemToArray(jfail, x);
            } else
                sd_buf_printf(&fails, "  %s\n    A: %s\n    B: %s\n", ka[i].key, f1, f2);
            continue;
        }
        double thr;
        enum sd_cmp_verdict v = sd_cmp_verdict(a->time_ms_median, a->rel_noise, b->time_ms_median, b->rel_noise, &thr);
        double s = a->time_ms_median / b->time_ms_median;
        counts[v]++;
        sp[a->wl.op][nsp[a->wl.op]++] = s;
        sp[SD_OP_COUNT][nsp[SD_OP_COUNT]++] = s;
        if (js) {
            cJSON *x = cJSON_CreateObject();
            cJSON_AddStringToObject(x, "key", ka[i].key);
            cJSON_AddStringToObject(x, "op", sd_op_name(a->wl.op));
            cJSON_AddStringToObject(x, "label", a->wl.label);
            cJSON_AddStringToObject(x, "impl", a->impl);
            cJSON_AddStringToObject(x, "dtype", sd_dtype_name(a->wl.dtype));
            cJSON_AddStringToObject(x, "shape", shape);
            cJSON_AddNumberToObject(x, "baseline_ms", a->time_ms_median);
            cJSON_AddNumberToObject(x, "ms", b->time_ms_median);
            cJSON_AddNumberToObject(x, "speedup", s);
            cJSON_AddNumberToObject(x, "threshold", thr);
            cJSON_AddStringToObject(x, "verdict", sd_cmp_verdict_name(v));
            cJSON_AddItemToArray(jrows, x);
        } else if (md) {
            fprintf(out, "| %s | %s | %s | %s | %s | %.4g | %.4g | %.3f | %.1f %% | %s |\n", sd_op_name(a->wl.op),
                    a->wl.label, a->impl, sd_dtype_name(a->wl.dtype), shape, a->time_ms_median, b->time_ms_median, s,
                    100 * thr, sd_cmp_verdict_name(v));
        } else {
            fprintf(out, "%-9s %-22s %-8s %-5s %-30s %10.4g %10.4g %7.3fx %5.1f%%  %s\n", sd_op_name(a->wl.op),
                    a->wl.label, a->impl, sd_dtype_name(a->wl.dtype), shape, a->time_ms_median, b->time_ms_median, s,
                    100 * thr, sd_cmp_verdict_name(v));
        }
    }
    for (size_t j = 0; j < nb; j++)
        if (!kb[j].matched) {
            if (js)
                cJSON_AddItemToArray(jonlyb, cJSON_CreateString(kb[j].key));
            else
                sd_buf_printf(&onlyb, "  %s\n", kb[j].key);
        }
    cJSON *jg = js ? cJSON_AddObjectToObject(jc, "geomean_speedup") : NULL;
    if (!js)
        fprintf(out, md ? "\n**Geometric-mean speedup A/B**: " : "\ngeomean speedup A/B:");
    for (int op = 0; op <= SD_OP_COUNT; op++) {
        if (!nsp[op])
            continue;
        double g = sd_geomean(sp[op], nsp[op]);
        const char *name = op == SD_OP_COUNT ? "overall" : sd_op_name((enum sd_op)op);
        if (js)
            cJSON_AddNumberToObject(jg, name, g);
        else
            fprintf(out, " %s %.3fx (%zu rows)%s", name, g, nsp[op], op == SD_OP_COUNT ? "" : ",");
    }
    if (js) {
        cJSON *jv = cJSON_AddObjectToObject(jc, "verdicts");
        cJSON_AddNumberToObject(jv, "faster", counts[SD_CMP_FASTER]);
        cJSON_AddNumberToObject(jv, "slower", counts[SD_CMP_SLOWER]);
        cJSON_AddNumberToObject(jv, "same", counts[SD_CMP_SAME]);
    } else {
        if (!nsp[SD_OP_COUNT])
            fprintf(out, " none (no row usable in both files)");
        fprintf(out, "\n%s%d faster, %d slower, %d same within noise\n", md ? "\n" : "", counts[SD_CMP_FASTER],
                counts[SD_CMP_SLOWER], counts[SD_CMP_SAME]);
        if (onlya.len)
            fprintf(out, "%sonly in %s (%s):\n%s", md ? "\n" : "", fa, "baseline", onlya.s);
        if (onlyb.len)
            fprintf(out, "%sonly in %s:\n%s", md ? "\n" : "", fb, onlyb.s);
        if (fails.len)
            fprintf(out, "%sfailed in either file (not compared):\n%s", md ? "\n" : "", fails.s);
        fprintf(out, "\n");
    }
    sd_buf_free(&fails);
    sd_buf_free(&onlya);
    sd_buf_free(&onlyb);
    for (int i = 0; i <= SD_OP_COUNT; i++)
        free(sp[i]);
    rc = 0;
done:
    free(ra);
    free(rb);
    free(ka);
    free(kb);
    return rc;
}

int sd_compare_files(FILE *out, const char *const *files, int n, const char *format, char *err, size_t errlen)
{
    if (n < 2) {
        snprintf(err, errlen, "compare needs at least two results files");
        return -1;
    }
    cJSON *root = NULL, *arr = NULL;
    if (!strcmp(format, "json")) {
        root = cJSON_CreateObject();
        cJSON_AddStringToObject(root, "baseline", files[0]);
        cJSON_AddStringToObject(root, "verdict_rule",
                                "same when |tB/tA-1| <= max(2*sqrt(noiseA^2+noiseB^2), 1%) (5% if a noise is "
                                "unknown); speedup = tA/tB");
        arr = cJSON_AddArrayToObject(root, "comparisons");
    }
    int rc = 0;
    for (int i = 1; i < n && !rc; i++)
        rc = compare_pair(out, files[0], files[i], format, arr, err, errlen);
    if (root) {
        if (!rc) {
            char *s = cJSON_Print(root);
            fprintf(out, "%s\n", s);
            free(s);
        }
        cJSON_Delete(root);
    }
    return rc;
}
