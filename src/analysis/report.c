/* report.c — one self-contained HTML file (inline CSS + SVG, no scripts, no network) or a markdown
 * summary, from a result set, bench/cards.csv, the model suites and the memory model, in the order
 * a reader needs: the headline (which device, how fast, measured, against the CPU), predicted it/s
 * and it/s per dollar per card (measured or projected), throughput per op and shape per device
 * (report_svg.c), the roofline, the memory-tier table, the claims and the provenance
 * (report_head.c). */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdmark/analysis.h"
#include "report_parts.h"
#include "sdmark/text_util.h"

struct card_row {
    const struct sd_card *card;
    char device[200];
    bool measured;
    struct sd_estimate e;
};

/* Estimates for every measured device (by its card if any) and every card projected. */
static struct card_row *estimates(const struct sd_rset *s, const struct sd_cards *cards, size_t *n)
{
    struct sd_suite sd15, vae;
    char err[512];
    *n = 0;
    if (sd_suite_open("sd15", &sd15, err, sizeof err))
        return NULL;
    int hv = !sd_suite_open("vae", &vae, err, sizeof err);
    size_t nc = cards ? cards->n : 0;
    struct card_row *v = calloc(s->ndev + nc + 1, sizeof *v);
    struct sd_est_opts o;
    sd_est_opts_default(&o);
    for (size_t d = 0; d < s->ndev; d++) {
        struct card_row *r = &v[*n];
        if (sd_estimate_device(s, (int)d, &sd15, hv ? &vae : NULL, &o, &r->e, err, sizeof err) || !(r->e.coverage > 0))
            continue;
        r->card = s->dev[d].card;
        r->measured = true;
        sd_device_display(&s->dev[d], r->device, sizeof r->device);
        (*n)++;
    }
    for (size_t k = 0; k < nc; k++) {
        bool have = false;
        for (size_t i = 0; i < *n; i++)
            have |= v[i].card == &cards->v[k];
        if (have)
            continue;
        struct card_row *r = &v[*n];
        if (sd_estimate_project(s, &cards->v[k], &sd15, hv ? &vae : NULL, &o, &r->e, err, sizeof err) ||
            !(r->e.coverage > 0))
            continue;
        r->card = &cards->v[k];
        snprintf(r->device, sizeof r->device, "%s", cards->v[k].name);
        (*n)++;
    }
    sd_suite_free(&sd15);
    if (hv)
        sd_suite_free(&vae);
    return v;
}

/* ------------------------------------------------------------------ tables */

static void memory_table(FILE *f, int md)
{
    struct cfg {
        enum sd_model m;
        enum sd_attn_mode a;
        enum sd_train_mode t;
        const char *what;
    } cf[] = {
        {SD_MODEL_SD15, SD_ATTN_UNFUSED, SD_TRAIN_NONE, "SD 1.5 512² inference, unfused"},
        {SD_MODEL_SD15, SD_ATTN_FLASH, SD_TRAIN_NONE, "SD 1.5 512² inference, flash"},
        {SD_MODEL_SD21, SD_ATTN_UNFUSED, SD_TRAIN_NONE, "SD 2.1 768² inference, unfused"},
        {SD_MODEL_SD21, SD_ATTN_FLASH, SD_TRAIN_NONE, "SD 2.1 768² inference, flash"},
        {SD_MODEL_SDXL, SD_ATTN_UNFUSED, SD_TRAIN_NONE, "SDXL 1024² inference, unfused"},
        {SD_MODEL_SDXL, SD_ATTN_FLASH, SD_TRAIN_NONE, "SDXL 1024² inference, flash"},
        {SD_MODEL_SD15, SD_ATTN_FLASH, SD_TRAIN_LORA, "SD 1.5 LoRA training"},
        {SD_MODEL_SD15, SD_ATTN_FLASH, SD_TRAIN_FULL, "SD 1.5 full fine-tune"},
        {SD_MODEL_SDXL, SD_ATTN_FLASH, SD_TRAIN_LORA, "SDXL LoRA training"},
        {SD_MODEL_SDXL, SD_ATTN_FLASH, SD_TRAIN_FULL, "SDXL full fine-tune"},
    };
    if (md) {
        fprintf(f, "| configuration (batch 1, fp16) | total |");
        for (int i = 0; i < sd_mem_ntiers; i++)
            fprintf(f, " %d GiB |", sd_mem_tiers_gb[i]);
        fprintf(f, "\n|---|---|");
        for (int i = 0; i < sd_mem_ntiers; i++)
            fprintf(f, "---|");
        fprintf(f, "\n");
    } else {
        fprintf(f, "<table><tr><th>configuration (batch 1, fp16)</th><th>total</th>");
        for (int i = 0; i < sd_mem_ntiers; i++)
            fprintf(f, "<th>%d GiB</th>", sd_mem_tiers_gb[i]);
        fprintf(f, "</tr>\n");
    }
    for (size_t k = 0; k < sizeof cf / sizeof cf[0]; k++) {
        struct sd_mem_opts o;
        sd_mem_opts_default(&o, cf[k].m);
        o.attn = cf[k].a;
        o.train = cf[k].t;
        struct sd_mem_report r;
        char err[128], b[32];
        if (sd_mem_compute(&o, &r, err, sizeof err))
            continue;
        sd_fmt_gib(r.total, b, sizeof b);
        fprintf(f, md ? "| %s | %s |" : "<tr><td>%s</td><td>%s</td>", cf[k].what, b);
        for (int i = 0; i < sd_mem_ntiers; i++) {
            bool fit = sd_mem_fits(r.total, sd_mem_tiers_gb[i]);
            if (md)
                fprintf(f, " %s |", fit ? "yes" : "no");
            else
                fprintf(f, "<td class=\"%s\">%s</td>", fit ? "y" : "n", fit ? "yes" : "no");
        }
        fprintf(f, md ? "\n" : "</tr>\n");
    }
    if (!md)
        fprintf(f, "</table>\n");
}

static void est_table(FILE *f, struct card_row *v, size_t n, int md)
{
    if (md)
        fprintf(f, "| device / card | basis | dtype | it/s (pipeline) | it/s (kernel ceiling) | s per 512² image | coverage "
                   "| MSRP $ | it/s per $1000 |\n|---|---|---|---|---|---|---|---|---|\n");
    else
        fprintf(f, "<table><tr><th>device / card</th><th>basis</th><th>dtype</th><th>it/s (pipeline)</th><th>it/s (kernel "
                   "ceiling)</th><th>s per 512² image</th><th>coverage</th><th>MSRP $</th><th>it/s per $1000</th></tr>\n");
    for (size_t i = 0; i < n; i++) {
        const struct card_row *r = &v[i];
        double price = r->card ? r->card->msrp_usd : NAN;
        char basis[300];
        if (r->measured)
            snprintf(basis, sizeof basis, "measured");
        else
            snprintf(basis, sizeof basis, "projected from %s", r->e.projected_from);
        char it[32], kit[32], img[32]; /* three significant digits, as the headline prints them */
        sd_fmt_sig3(r->e.it_per_s, it, sizeof it);
        sd_fmt_sig3(r->e.kernel_it_per_s, kit, sizeof kit);
        sd_fmt_sig3(r->e.image_s, img, sizeof img);
        if (md)
            fprintf(f, "| %s | %s | %s | %s | %s | %s | %.0f %% |", r->device, basis, r->e.dtype, it, kit, img,
                    100 * r->e.coverage);
        else {
            fprintf(f, "<tr><td>");
            sd_html_esc(f, r->device);
            fprintf(f, "</td><td>");
            sd_html_esc(f, basis);
            fprintf(f, "</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%.0f %%</td>", r->e.dtype, it, kit, img,
                    100 * r->e.coverage);
        }
        if (price > 0)
            fprintf(f, md ? " %.0f | %.3g |\n" : "<td>%.0f</td><td>%.3g</td></tr>\n", price, 1000 * r->e.it_per_s / price);
        else
            fprintf(f, md ? " n/a | n/a |\n" : "<td>n/a</td><td>n/a</td></tr>\n");
    }
    if (!md)
        fprintf(f, "</table>\n");
}

/* Predicted it/s per measured device and projected card, or why there are none. */
static void est_section(FILE *f, const struct sd_rset *s, const struct sd_cards *cards, int md)
{
    size_t n = 0;
    struct card_row *v = estimates(s, cards, &n);
    if (n && !md) {
        struct sd_it_bar *bars = calloc(n, sizeof *bars);
        for (size_t i = 0; bars && i < n; i++)
            bars[i] = (struct sd_it_bar){v[i].device, v[i].e.it_per_s, !v[i].measured, v[i].e.coverage};
        if (bars)
            sd_report_it_chart(f, bars, n);
        free(bars);
    }
    if (n)
        est_table(f, v, n, md);
    else
        fprintf(f, md ? "No estimates (no results with sd15 rows).\n" : "<p>No estimates (no results with sd15 rows).</p>\n");
    free(v);
}

static void claims_table(FILE *f, const struct sd_rset *s, const struct sd_cards *cards, int md)
{
    struct sd_claim_result c[SD_NCLAIMS];
    char err[256];
    if (sd_claims_eval(s, cards, c, err, sizeof err))
        return;
    if (md) {
        sd_claims_print(f, c, SD_FMT_MD);
        sd_claims_free(c);
        return;
    }
    fprintf(f, "<table><tr><th>id</th><th>verdict</th><th>basis</th><th>claim</th><th>evidence</th></tr>\n");
    for (int i = 0; i < SD_NCLAIMS; i++) {
        fprintf(f, "<tr><td>%s</td><td class=\"v\">%s</td><td>", c[i].id, sd_verdict_name(c[i].verdict));
        sd_html_esc(f, c[i].basis);
        fprintf(f, "</td><td>");
        sd_html_esc(f, c[i].claim);
        fprintf(f, "</td><td><ul>");
        char *dup = strdup(c[i].evidence), *save = NULL;
        for (char *l = strtok_r(dup, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
            fprintf(f, "<li>");
            sd_html_esc(f, l);
            fprintf(f, "</li>");
        }
        free(dup);
        fprintf(f, "</ul></td></tr>\n");
    }
    fprintf(f, "</table>\n");
    sd_claims_free(c);
}

static void html_head(FILE *f)
{
    fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>sdmark report</title>\n"
               "<style>body{font-family:sans-serif;max-width:1200px;margin:1em auto;font-size:14px}"
               "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:2px 6px;"
               "vertical-align:top;text-align:left}td.y{background:#dfd}td.n{background:#fdd}td.v{font-weight:bold}"
               "p.lead{font-size:18px}ul{margin:0;padding-left:1.2em}"
               "@media print{section{break-inside:avoid-page}body{max-width:none}}</style>\n</head>\n<body>\n"
               "<h1>sdmark report</h1>\n");
}

/* Colour key of the charts: one colour per device. */
static void devices_table(FILE *f, const struct sd_rset *s)
{
    fprintf(f, "<table><tr><th>colour</th><th>device</th><th>card (bench/cards.csv)</th></tr>\n");
    for (size_t d = 0; d < s->ndev; d++) {
        char name[200];
        sd_device_display(&s->dev[d], name, sizeof name);
        fprintf(f, "<tr><td style=\"background:%s\"></td><td>", sd_report_palette[d % SD_REPORT_NCOLORS]);
        sd_html_esc(f, name);
        fprintf(f, "</td><td>");
        sd_html_esc(f, s->dev[d].card ? s->dev[d].card->name : "none (no spec row)");
        fprintf(f, "</td></tr>\n");
    }
    fprintf(f, "</table>\n");
}

/* Per op, one chart per suite: model shapes first, the quick suite's scaled shapes apart. */
static void throughput_section(FILE *f, const struct sd_rset *s)
{
    fprintf(f, "<section id=\"throughput\">\n<h2>Throughput per op at each SD shape</h2>\n");
    devices_table(f, s);
    for (int op = 0; op < SD_OP_COUNT; op++) {
        char suites[16][SD_NAME_LEN];
        size_t n = sd_report_suites(s, (enum sd_op)op, suites, 16);
        fprintf(f, "<h3>%s</h3>\n", sd_op_name((enum sd_op)op));
        if (!n)
            fprintf(f, "<p>No usable %s rows.</p>\n", sd_op_name((enum sd_op)op));
        for (size_t i = 0; i < n; i++) {
            bool quick = !strcmp(suites[i], "quick");
            fprintf(f, "<p><b>%s</b>%s</p>\n", suites[i],
                    quick ? " (scaled shapes for a quick check: not the models' shapes)" : "");
            sd_report_bars(f, s, (enum sd_op)op, suites[i]);
        }
    }
    fprintf(f, "</section>\n");
}

/* Nodes of a fleet (one card on several hosts) against the fleet median; nothing without one. */
static void fleet_section(FILE *f, const struct sd_rset *s, int md)
{
    struct sd_fleet fl;
    char err[128];
    if (!sd_fleet_compare(s, 0.05, &fl, err, sizeof err) && fl.ng) {
        fprintf(f, md ? "\n### Fleet: each node against the fleet median\n" : "<section id=\"fleet\">\n<h2>Fleet: each "
                        "node against the fleet median</h2>\n");
        sd_fleet_print(f, &fl, md ? SD_FMT_MD : SD_FMT_HTML);
        if (!md)
            fprintf(f, "</section>\n");
    }
    sd_fleet_free(&fl);
}

/* Memory tiers, claims and provenance: the same sections in HTML and markdown. */
static void tail_sections(FILE *f, const struct sd_rset *s, const struct sd_cards *cards, int md)
{
    static const char *const ids[] = {"memory", "claims", "provenance"},
                             *const titles[] = {"Memory tiers (memory model)", "Claims C1–C9", "Provenance"};
    for (int i = 0; i < 3; i++) {
        if (md)
            fprintf(f, "\n### %s\n\n", titles[i]);
        else
            fprintf(f, "<section id=\"%s\">\n<h2>%s</h2>\n", ids[i], titles[i]);
        if (i == 0)
            memory_table(f, md);
        else if (i == 1)
            claims_table(f, s, cards, md);
        else
            sd_report_provenance(f, s, md);
        if (!md)
            fprintf(f, "</section>\n");
    }
}

int sd_report_html(FILE *f, const struct sd_rset *s, const struct sd_cards *cards, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    html_head(f);
    fprintf(f, "<section id=\"headline\">\n<h2>At a glance</h2>\n");
    sd_report_headline(f, s, cards, 0);
    fprintf(f, "</section>\n<section id=\"estimates\">\n<h2>Predicted SD 1.5 it/s per card</h2>\n"
               "<p>512², 20 steps, fp16 where measured. Pipeline = measured kernels + small kernels modelled from the "
               "model's shapes at the measured bandwidth; projected cards scale each row by the efficiency measured on "
               "the closest measured GPU of the same vendor.</p>\n");
    est_section(f, s, cards, 0);
    fprintf(f, "</section>\n");
    fleet_section(f, s, 0);
    throughput_section(f, s);
    fprintf(f, "<section id=\"roofline\">\n<h2>Roofline</h2>\n<p>Achieved TFLOP/s against arithmetic intensity. "
               "Roofs: a measured card's spec sheet (solid: fp16 tensor core with fp32 accumulate, dashed: fp32; "
               "slope: spec bandwidth), or for a device without a spec row its best measured GEMM and bw.* probe "
               "(dashed, labelled measured).</p>\n");
    sd_report_roofline(f, s);
    fprintf(f, "</section>\n");
    tail_sections(f, s, cards, 0);
    fprintf(f, "<p>Generated by sdmark %s.</p>\n</body>\n</html>\n", SDMARK_VERSION);
    return ferror(f) ? -1 : 0;
}

int sd_report_md(FILE *f, const struct sd_rset *s, const struct sd_cards *cards, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    fprintf(f, "## sdmark summary\n\n");
    sd_report_headline(f, s, cards, 1);
    fprintf(f, "### Predicted SD 1.5 it/s (512², 20 steps)\n\n");
    est_section(f, s, cards, 1);
    fleet_section(f, s, 1);
    tail_sections(f, s, cards, 1);
    return ferror(f) ? -1 : 0;
}
