/* compare_fleet.c — every node of a fleet against the fleet median (rules in compare.h). */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "sdmark/compare.h"
#include "sdmark/json_out.h"
#include "sdmark/text_util.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Time of `key` on a node (its fastest usable row), or NaN. */
static double node_time(const struct sd_cmp_keyed *k, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(k[i].key, key))
            return sd_row_usable(k[i].r) ? k[i].r->time_ms_median : NAN;
    return NAN;
}

/* Node `me` of a group of nn nodes (their keyed rows in k[], counts in nk[]) against the median. */
static void judge_node(struct sd_fleet_node *node, size_t me, struct sd_cmp_keyed **k, const size_t *nk, size_t nn,
                       double thr)
{
    double *t = calloc(nn, sizeof *t), lsum = 0;
    for (size_t j = 0; t && j < nk[me]; j++) {
        if (!sd_row_usable(k[me][j].r))
            continue;
        size_t m = 0;
        for (size_t o = 0; o < nn; o++) {
            double x = o == me ? k[me][j].r->time_ms_median : node_time(k[o], nk[o], k[me][j].key);
            if (isfinite(x))
                t[m++] = x;
        }
        if (m < 2)
            continue; /* only this node measured it */
        double r = k[me][j].r->time_ms_median / median(t, m);
        lsum += log(r);
        node->rows++;
        node->slow_rows += r > 1 + thr;
        if (r > node->worst_ratio) {
            node->worst_ratio = r;
            snprintf(node->worst, sizeof node->worst, "%s", k[me][j].key);
        }
    }
    free(t);
    node->ratio = node->rows ? exp(lsum / (double)node->rows) : NAN;
    node->outlier = node->rows && node->ratio > 1 + thr;
}

static int judge_group(const struct sd_rset *s, struct sd_fleet_group *g, const int *devs, double thr)
{
    struct sd_cmp_keyed **k = calloc(g->n, sizeof *k);
    size_t *nk = calloc(g->n, sizeof *nk), dup = 0;
    int rc = k && nk ? 0 : -1;
    for (size_t i = 0; !rc && i < g->n; i++) {
        nk[i] = sd_cmp_index(s, devs[i], SD_CMP_BY_WORKLOAD, &k[i], &dup);
        rc = k[i] ? 0 : -1;
        sd_device_display(&s->dev[devs[i]], g->nodes[i].device, sizeof g->nodes[i].device);
    }
    for (size_t i = 0; !rc && i < g->n; i++)
        judge_node(&g->nodes[i], i, k, nk, g->n, thr);
    for (size_t i = 0; k && i < g->n; i++)
        free(k[i]);
    free(k);
    free(nk);
    return rc;
}

/* Devices of backend:name of device d that no earlier group took; returns how many. */
static size_t members(const struct sd_rset *s, size_t d, int *devs)
{
    size_t n = 0;
    for (size_t e = 0; e < s->ndev; e++)
        if (!strcmp(s->dev[e].backend, s->dev[d].backend) && !strcmp(s->dev[e].name, s->dev[d].name)) {
            if (e < d)
                return 0; /* the group was formed at its first device */
            devs[n++] = (int)e;
        }
    return n;
}

int sd_fleet_compare(const struct sd_rset *s, double threshold, struct sd_fleet *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->threshold = threshold;
    out->g = calloc(s->ndev + 1, sizeof *out->g);
    int *devs = calloc(s->ndev + 1, sizeof *devs);
    int rc = out->g && devs ? 0 : -1;
    for (size_t d = 0; !rc && d < s->ndev; d++) {
        size_t n = members(s, d, devs);
        if (n < 2)
            continue;
        struct sd_fleet_group *g = &out->g[out->ng++];
        snprintf(g->name, sizeof g->name, "%s:%s", s->dev[d].backend, s->dev[d].name);
        g->nodes = calloc(n, sizeof *g->nodes);
        g->n = n;
        rc = g->nodes ? judge_group(s, g, devs, threshold) : -1;
        for (size_t i = 0; !rc && i < n; i++)
            out->noutliers += g->nodes[i].outlier;
    }
    free(devs);
    if (rc)
        snprintf(err, errlen, "out of memory comparing the fleet");
    return rc;
}

void sd_fleet_free(struct sd_fleet *f)
{
    for (size_t i = 0; f->g && i < f->ng; i++)
        free(f->g[i].nodes);
    free(f->g);
    memset(f, 0, sizeof *f);
}

/* ------------------------------------------------------------------ print */

static void print_json(FILE *f, const struct sd_fleet *fl)
{
    cJSON *root = cJSON_CreateObject(), *groups = cJSON_AddArrayToObject(root, "fleets");
    cJSON_AddNumberToObject(root, "threshold", fl->threshold);
    cJSON_AddNumberToObject(root, "outliers", (double)fl->noutliers);
    for (size_t i = 0; i < fl->ng; i++) {
        cJSON *g = cJSON_CreateObject(), *nodes = cJSON_AddArrayToObject(g, "nodes");
        cJSON_AddStringToObject(g, "device", fl->g[i].name);
        for (size_t j = 0; j < fl->g[i].n; j++) {
            const struct sd_fleet_node *n = &fl->g[i].nodes[j];
            cJSON *x = cJSON_CreateObject();
            cJSON_AddStringToObject(x, "node", n->device);
            cJSON_AddNumberToObject(x, "rows", (double)n->rows);
            sd_json_num(x, "ratio_to_median", n->ratio);
            cJSON_AddNumberToObject(x, "slow_rows", (double)n->slow_rows);
            cJSON_AddStringToObject(x, "worst", n->worst);
            sd_json_num(x, "worst_ratio", n->rows ? n->worst_ratio : NAN);
            cJSON_AddBoolToObject(x, "outlier", n->outlier);
            cJSON_AddItemToArray(nodes, x);
        }
        cJSON_AddItemToArray(groups, g);
    }
    sd_json_emit(f, root);
}

static void print_html(FILE *f, const struct sd_fleet *fl)
{
    for (size_t i = 0; i < fl->ng; i++) {
        fprintf(f, "<p>Fleet of %zu nodes: ", fl->g[i].n);
        sd_html_esc(f, fl->g[i].name);
        fprintf(f, "</p>\n<table><tr><th>node</th><th>rows</th><th>time / fleet median "
                   "(geomean)</th><th>rows slower than +%.1f %%</th><th>verdict</th></tr>\n",
                100 * fl->threshold);
        for (size_t j = 0; j < fl->g[i].n; j++) {
            const struct sd_fleet_node *n = &fl->g[i].nodes[j];
            fprintf(f, "<tr><td>");
            sd_html_esc(f, n->device);
            fprintf(f, "</td><td>%zu</td><td>%.3fx</td><td>%zu</td><td class=\"%s\">%s</td></tr>\n", n->rows, n->ratio,
                    n->slow_rows, n->outlier ? "n" : "y", n->outlier ? "OUTLIER" : n->rows ? "ok" : "no shared rows");
        }
        fprintf(f, "</table>\n");
    }
}

void sd_fleet_print(FILE *f, const struct sd_fleet *fl, enum sd_format fmt)
{
    if (fmt == SD_FMT_JSON) {
        print_json(f, fl);
        return;
    }
    if (fmt == SD_FMT_HTML) {
        print_html(f, fl);
        return;
    }
    int md = fmt == SD_FMT_MD;
    if (!fl->ng)
        fprintf(f, "no fleet: no device (backend and name) was measured on more than one host\n");
    for (size_t i = 0; i < fl->ng; i++) {
        fprintf(f, md ? "\n### fleet of %zu nodes: %s\n\n| node | rows | time / fleet median (geomean) | rows slower "
                        "than +%.1f %% | slowest row | verdict |\n|---|---|---|---|---|---|\n"
                      : "fleet of %zu nodes: %s (rows slower than the fleet median by more than %.1f %% are counted)\n",
                fl->g[i].n, fl->g[i].name, 100 * fl->threshold);
        for (size_t j = 0; j < fl->g[i].n; j++) {
            const struct sd_fleet_node *n = &fl->g[i].nodes[j];
            const char *verdict = n->outlier ? "OUTLIER" : n->rows ? "ok" : "no shared rows";
            if (!md) {
                fprintf(f, "  %-50s %4zu rows  %.3fx median  %3zu slow  slowest %s %.3fx  %s\n", n->device, n->rows,
                        n->ratio, n->slow_rows, n->worst, n->worst_ratio, verdict);
                continue;
            }
            fprintf(f, "| %s | %zu | %.3fx | %zu | ", n->device, n->rows, n->ratio, n->slow_rows);
            sd_md_cell(f, n->worst);
            fprintf(f, " %.3fx | %s |\n", n->worst_ratio, verdict);
        }
    }
    fprintf(f, "%s%zu outlier node%s beyond %.1f %%\n", md ? "\n" : "", fl->noutliers, fl->noutliers == 1 ? "" : "s",
            100 * fl->threshold);
}
