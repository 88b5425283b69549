/* report.c — one self-contained HTML file (inline CSS + SVG, no scripts, no network) or a markdown
 * summary, from a result set, bench/cards.csv, the sd15/vae suites and the memory model:
 * throughput per op and shape per device, a roofline chart against each measured card's spec
 * peaks, predicted it/s and it/s per dollar per card (measured or projected), the memory-tier
 * table and the claims table. */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdmark/analysis.h"

static void esc(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        default: fputc(*s, f);
        }
    }
}

static const char *const palette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                      "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};

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

/* ------------------------------------------------------------------ SVG charts */

static void bars_svg(FILE *f, const struct sd_rset *s, enum sd_op op)
{
    /* one group per (suite, label, dtype), one bar per device: fastest usable impl's TFLOP/s */
    struct item {
        char key[200];
        double v[16];
    } *it = calloc(s->n + 1, sizeof *it);
    size_t ni = 0, nd = s->ndev < 16 ? s->ndev : 16;
    double vmax = 0;
    for (size_t i = 0; i < s->n; i++) {
        const struct sd_result *r = &s->rows[i];
        if (r->wl.op != op || !sd_row_usable(r) || s->dev_of[i] >= 16 || r->wl.count <= 0)
            continue;
        char key[200];
        snprintf(key, sizeof key, "%s/%s %s", r->wl.suite, r->wl.label, sd_dtype_name(r->wl.dtype));
        size_t k;
        for (k = 0; k < ni && strcmp(it[k].key, key); k++)
            ;
        if (k == ni)
            snprintf(it[ni++].key, sizeof it[0].key, "%s", key);
        double t = (isfinite(r->flops) ? r->flops : sd_workload_flops(&r->wl)) / (r->time_ms_median * 1e9);
        if (t > it[k].v[s->dev_of[i]])
            it[k].v[s->dev_of[i]] = t;
        if (t > vmax)
            vmax = t;
    }
    if (!ni) {
        fprintf(f, "<p>No usable %s rows.</p>\n", sd_op_name(op));
        free(it);
        return;
    }
    int bh = 6, gap = 6, left = 260, width = 900;
    int gh = (int)nd * bh + gap;
    int h = (int)ni * gh + 40;
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" role=\"img\" "
               "aria-label=\"%s throughput\">\n", width, h, sd_op_name(op));
    for (size_t k = 0; k < ni; k++) {
        int y = 20 + (int)k * gh;
        fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"9\" text-anchor=\"end\">", left - 4, y + (int)nd * bh / 2 + 3);
        esc(f, it[k].key);
        fprintf(f, "</text>\n");
        for (size_t d = 0; d < nd; d++) {
            double w = vmax > 0 ? it[k].v[d] / vmax * (width - left - 80) : 0;
            if (w > 0)
                fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\"><title>%.3g TFLOP/s</title></rect>\n",
                        left, y + (int)d * bh, w, bh - 1, palette[d % 10], it[k].v[d]);
        }
    }
    fprintf(f, "<text x=\"%d\" y=\"12\" font-size=\"10\">TFLOP/s (max %.3g), fastest usable impl per device</text>\n",
            left, vmax);
    fprintf(f, "</svg>\n");
    free(it);
}

static double lx(double v, double lo, double hi, double w) { return (log10(v) - log10(lo)) / (log10(hi) - log10(lo)) * w; }

static void roofline_svg(FILE *f, const struct sd_rset *s)
{
    double xlo = 0.1, xhi = 10000, ylo = 1e-3, yhi = 2000;
    int W = 800, H = 480, L = 60, B = 40;
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" role=\"img\" aria-label=\"roofline\">\n",
            W, H);
    fprintf(f, "<rect x=\"%d\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#999\"/>\n", L, W - L, H - B);
    for (double x = xlo; x <= xhi * 1.01; x *= 10)
        fprintf(f, "<text x=\"%.1f\" y=\"%d\" font-size=\"9\" text-anchor=\"middle\">%g</text>\n",
                L + lx(x, xlo, xhi, W - L), H - B + 12, x);
    for (double y = ylo; y <= yhi * 1.01; y *= 10)
        fprintf(f, "<text x=\"%d\" y=\"%.1f\" font-size=\"9\" text-anchor=\"end\">%g</text>\n", L - 3,
                H - B - lx(y, ylo, yhi, H - B) + 3, y);
    fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"10\" text-anchor=\"middle\">arithmetic intensity (FLOP/byte, "
               "compulsory traffic)</text>\n", L + (W - L) / 2, H - 8);
    fprintf(f, "<text x=\"12\" y=\"%d\" font-size=\"10\" transform=\"rotate(-90 12 %d)\" text-anchor=\"middle\">"
               "achieved TFLOP/s</text>\n", (H - B) / 2, (H - B) / 2);
    /* spec roofs of each measured card: fp16 TC/fp32acc and fp32 */
    for (size_t d = 0; d < s->ndev && d < 10; d++) {
        const struct sd_card *c = s->dev[d].card;
        if (!c)
            continue;
        double peaks[2] = {c->fp16_f32acc, c->fp32};
        for (int p = 0; p < 2; p++) {
            if (!(peaks[p] > 0))
                continue;
            double ridge = peaks[p] * 1e12 / (c->bw_gbs * 1e9);
            double x0 = xlo, y0 = c->bw_gbs * x0 / 1e3;
            if (y0 < ylo) {
                x0 = ylo * 1e3 / c->bw_gbs;
                y0 = ylo;
            }
            fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-dasharray=\"%s\" points=\"%.1f,%.1f %.1f,%.1f %.1f,%.1f\"/>\n",
                    palette[d % 10], p ? "4 3" : "none", L + lx(x0, xlo, xhi, W - L), H - B - lx(y0, ylo, yhi, H - B),
                    L + lx(ridge, xlo, xhi, W - L), H - B - lx(peaks[p], ylo, yhi, H - B), (double)W,
                    H - B - lx(peaks[p], ylo, yhi, H - B));
        }
    }
    for (size_t i = 0; i < s->n; i++) {
        const struct sd_result *r = &s->rows[i];
        if (!sd_row_usable(r))
            continue;
        double fl = isfinite(r->flops) ? r->flops : sd_workload_flops(&r->wl);
        double by = isfinite(r->bytes_min) ? r->bytes_min : sd_workload_bytes_min(&r->wl);
        double ai = fl / by, tf = fl / (r->time_ms_median * 1e9);
        if (!(ai > xlo && ai < xhi && tf > ylo && tf < yhi))
            continue;
        fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"%s\"><title>", L + lx(ai, xlo, xhi, W - L),
                H - B - lx(tf, ylo, yhi, H - B), palette[s->dev_of[i] % 10]);
        esc(f, r->wl.label);
        fprintf(f, " %s %s: %.3g TFLOP/s</title></circle>\n", r->impl, sd_dtype_name(r->wl.dtype), tf);
    }
    fprintf(f, "</svg>\n");
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
        fprintf(f, "| device / card | basis | it/s (pipeline) | it/s (kernel ceiling) | s per 512² image | coverage | MSRP $ | it/s per $1000 |\n"
                   "|---|---|---|---|---|---|---|---|\n");
    else
        fprintf(f, "<table><tr><th>device / card</th><th>basis</th><th>it/s (pipeline)</th><th>it/s (kernel "
                   "ceiling)</th><th>s per 512² image</th><th>coverage</th><th>MSRP $</th><th>it/s per $1000</th></tr>\n");
    for (size_t i = 0; i < n; i++) {
        const struct card_row *r = &v[i];
        double price = r->card ? r->card->msrp_usd : NAN;
        char basis[300];
        if (r->measured)
            snprintf(basis, sizeof basis, "measured");
        else
            snprintf(basis, sizeof basis, "projected from %s", r->e.projected_from);
        char it[32], kit[32];
        sd_fmt_sig3(r->e.it_per_s, it, sizeof it);
        sd_fmt_sig3(r->e.kernel_it_per_s, kit, sizeof kit);
        if (md)
            fprintf(f, "| %s | %s | %s | %s | %.2f | %.0f %% |", r->device, basis, it, kit, r->e.image_s,
                    100 * r->e.coverage);
        else {
            fprintf(f, "<tr><td>");
            esc(f, r->device);
            fprintf(f, "</td><td>");
            esc(f, basis);
            fprintf(f, "</td><td>%s</td><td>%s</td><td>%.2f</td><td>%.0f %%</td>", it, kit, r->e.image_s,
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
        esc(f, c[i].basis);
        fprintf(f, "</td><td>");
        esc(f, c[i].claim);
        fprintf(f, "</td><td><ul>");
        char *dup = strdup(c[i].evidence), *save = NULL;
        for (char *l = strtok_r(dup, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
            fprintf(f, "<li>");
            esc(f, l);
            fprintf(f, "</li>");
        }
        free(dup);
        fprintf(f, "</ul></td></tr>\n");
    }
    fprintf(f, "</table>\n");
    sd_claims_free(c);
}

int sd_report_html(FILE *f, const struct sd_rset *s, const struct sd_cards *cards, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>sdmark report</title>\n"
               "<style>body{font-family:sans-serif;max-width:1200px;margin:1em auto;font-size:14px}"
               "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:2px 6px;"
               "vertical-align:top}td.y{background:#dfd}td.n{background:#fdd}td.v{font-weight:bold}"
               "ul{margin:0;padding-left:1.2em}</style>\n</head>\n<body>\n<h1>sdmark report</h1>\n");
    fprintf(f, "<section id=\"sources\">\n<h2>Result files and devices</h2>\n<ul>\n");
    for (size_t i = 0; i < s->nfiles; i++) {
        fprintf(f, "<li>");
        esc(f, s->files[i]);
        fprintf(f, "</li>\n");
    }
    fprintf(f, "</ul>\n<table><tr><th>colour</th><th>device</th><th>card (bench/cards.csv)</th></tr>\n");
    for (size_t d = 0; d < s->ndev; d++) {
        char name[200];
        sd_device_display(&s->dev[d], name, sizeof name);
        fprintf(f, "<tr><td style=\"background:%s\"></td><td>", palette[d % 10]);
        esc(f, name);
        fprintf(f, "</td><td>");
        esc(f, s->dev[d].card ? s->dev[d].card->name : "none (no spec row)");
        fprintf(f, "</td></tr>\n");
    }
    fprintf(f, "</table>\n</section>\n");
    fprintf(f, "<section id=\"throughput\">\n<h2>Throughput per op at each SD shape</h2>\n");
    for (int op = 0; op < SD_OP_COUNT; op++) {
        fprintf(f, "<h3>%s</h3>\n", sd_op_name((enum sd_op)op));
        bars_svg(f, s, (enum sd_op)op);
    }
    fprintf(f, "</section>\n<section id=\"roofline\">\n<h2>Roofline</h2>\n<p>Achieved TFLOP/s against arithmetic "
               "intensity, with each measured card's spec roofs (solid: fp16 tensor core with fp32 accumulate, dashed: "
               "fp32; slope: spec bandwidth).</p>\n");
    roofline_svg(f, s);
    fprintf(f, "</section>\n<section id=\"estimates\">\n<h2>Predicted SD 1.5 it/s per card</h2>\n"
               "<p>512², 20 steps, fp16 where measured. Pipeline = measured kernels + small kernels modelled from the "
               "model's shapes at the measured bandwidth; projected cards scale each row by the efficiency measured on "
               "the closest measured GPU of the same vendor.</p>\n");
    est_section(f, s, cards, 0);
    fprintf(f, "</section>\n<section id=\"memory\">\n<h2>Memory tiers (memory model)</h2>\n");
    memory_table(f, 0);
    fprintf(f, "</section>\n<section id=\"claims\">\n<h2>Claims C1–C9</h2>\n");
    claims_table(f, s, cards, 0);
    fprintf(f, "</section>\n<p>Generated by sdmark %s.</p>\n</body>\n</html>\n", SDMARK_VERSION);
    return ferror(f) ? -1 : 0;
}

int sd_report_md(FILE *f, const struct sd_rset *s, const struct sd_cards *cards, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    fprintf(f, "## sdmark summary\n\nResult files:");
    for (size_t i = 0; i < s->nfiles; i++)
        fprintf(f, " `%s`", s->files[i]);
    fprintf(f, "%s\n\n### Predicted SD 1.5 it/s (512², 20 steps)\n\n", s->nfiles ? "" : " none");
    est_section(f, s, cards, 1);
    fprintf(f, "\n### Memory tiers (memory model)\n\n");
    memory_table(f, 1);
    fprintf(f, "\n### Claims\n\n");
    claims_table(f, s, cards, 1);
    return ferror(f) ? -1 : 0;
}
