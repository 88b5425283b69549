/* report_svg.c — the report's inline SVG charts (no scripts): throughput bars per op and suite on
 * a log axis with value labels, and the roofline. Every value a chart shows is also printed as
 * text on the chart, so screenshots and print keep it. */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_parts.h"
#include "sdmark/text_util.h"

const char *const sd_report_palette[SD_REPORT_NCOLORS] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                                          "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};

static double row_tflops(const struct sd_result *r)
{
    return (isfinite(r->flops) ? r->flops : sd_workload_flops(&r->wl)) / (r->time_ms_median * 1e9);
}

/* Rows that a throughput chart shows: usable, timed in the step (count > 0). */
static bool charted(const struct sd_result *r, enum sd_op op)
{
    return r->wl.op == op && sd_row_usable(r) && r->wl.count > 0;
}

size_t sd_report_suites(const struct sd_rset *s, enum sd_op op, char names[][SD_NAME_LEN], size_t n)
{
    size_t k = 0;
    for (int quick = 0; quick < 2; quick++)
        for (size_t i = 0; i < s->n; i++) {
            const char *su = s->rows[i].wl.suite;
            if (!charted(&s->rows[i], op) || (!strcmp(su, "quick")) != quick)
                continue;
            size_t j;
            for (j = 0; j < k && strcmp(names[j], su); j++)
                ;
            if (j == k && k < n)
                snprintf(names[k++], SD_NAME_LEN, "%s", su);
        }
    return k;
}

/* ------------------------------------------------------------------ bars */

enum { MAXDEV = 16 };
struct bar_group {
    char key[SD_NAME_LEN + 8];
    double v[MAXDEV];   /* TFLOP/s per device, 0 = none */
};

/* One group per (label, dtype), the fastest usable impl per device. */
static size_t bar_groups(const struct sd_rset *s, enum sd_op op, const char *suite, struct bar_group *g,
                         double *vmin, double *vmax)
{
    size_t ng = 0;
    *vmin = INFINITY;
    *vmax = 0;
    for (size_t i = 0; i < s->n; i++) {
        const struct sd_result *r = &s->rows[i];
        if (!charted(r, op) || strcmp(r->wl.suite, suite) || s->dev_of[i] >= MAXDEV)
            continue;
        char key[sizeof g->key];
        snprintf(key, sizeof key, "%s %s", r->wl.label, sd_dtype_name(r->wl.dtype));
        size_t k;
        for (k = 0; k < ng && strcmp(g[k].key, key); k++)
            ;
        if (k == ng)
            snprintf(g[ng++].key, sizeof g->key, "%s", key);
        double t = row_tflops(r);
        if (t > g[k].v[s->dev_of[i]])
            g[k].v[s->dev_of[i]] = t;
        *vmin = fmin(*vmin, t);
        *vmax = fmax(*vmax, t);
    }
    return ng;
}

/* x position of v on a log axis from 10^lo to 10^hi over width w. */
static double logx(double v, double lo, double hi, double w) { return (log10(v) - lo) / (hi - lo) * w; }

static void bar_axis(FILE *f, double lo, double hi, int left, int plot, int top, int height)
{
    for (double e = lo; e <= hi + 1e-9; e++) {
        double x = left + logx(pow(10, e), lo, hi, plot);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#ddd\"/>\n", x, top, x, top + height);
        fprintf(f, "<text x=\"%.1f\" y=\"%d\" font-size=\"11\" text-anchor=\"%s\">%g</text>\n", x, top - 4,
                e >= hi - 1e-9 ? "end" : "middle", pow(10, e));
    }
}

/* A label left of a bar, right-aligned at x: SVG text does not wrap and would run off the picture's
 * left edge, so a name longer than maxch characters keeps its start and end around an ellipsis; the
 * whole name stays in a tooltip. */
static void bar_label(FILE *f, int x, int y, const char *name, size_t maxch)
{
    fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"11\" text-anchor=\"end\">", x, y);
    size_t n = strlen(name);
    if (n <= maxch) {
        sd_html_esc(f, name);
    } else {
        size_t head = (maxch - 1) / 2, tail = maxch - 1 - head;
        char buf[256];
        snprintf(buf, sizeof buf, "%.*s\u2026%s", (int)head, name, name + n - tail);
        sd_html_esc(f, buf);
        fprintf(f, "<title>");
        sd_html_esc(f, name);
        fprintf(f, "</title>");
    }
    fprintf(f, "</text>\n");
}

void sd_report_bars(FILE *f, const struct sd_rset *s, enum sd_op op, const char *suite)
{
    struct bar_group *g = calloc(s->n + 1, sizeof *g);
    double vmin, vmax;
    size_t ng = g ? bar_groups(s, op, suite, g, &vmin, &vmax) : 0, nd = s->ndev < MAXDEV ? s->ndev : MAXDEV;
    if (!ng) {
        fprintf(f, "<p>No usable %s rows.</p>\n", sd_op_name(op));
        free(g);
        return;
    }
    double lo = floor(log10(vmin)), hi = ceil(log10(vmax));
    if (hi <= lo)
        hi = lo + 1;
    /* one bar slot per device that has a bar in this chart, in device order (colours stay the device's) */
    size_t slot[MAXDEV], ns = 0;
    for (size_t d = 0; d < nd; d++) {
        bool any = false;
        for (size_t k = 0; k < ng && !any; k++)
            any = g[k].v[d] > 0;
        slot[d] = any ? ns++ : (size_t)-1;
    }
    int bh = 12, left = 230, plot = 560, top = 34, gh = (int)ns * bh + 8, h = top + (int)ng * gh + 8;
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" role=\"img\" "
               "aria-label=\"%s %s throughput\">\n", left + plot + 90, h, sd_op_name(op), suite);
    fprintf(f, "<text x=\"%d\" y=\"12\" font-size=\"12\">TFLOP/s, log scale (fastest usable impl per device)</text>\n",
            left);
    bar_axis(f, lo, hi, left, plot, top, h - top);
    for (size_t k = 0; k < ng; k++) {
        int y = top + (int)k * gh;
        bar_label(f, left - 6, y + (int)ns * bh / 2 + 3, g[k].key, 36);
        for (size_t d = 0; d < nd; d++) {
            if (!(g[k].v[d] > 0))
                continue;
            int yb = y + (int)slot[d] * bh;
            double w = fmax(logx(g[k].v[d], lo, hi, plot), 1);
            char val[32];
            sd_fmt_sig3(g[k].v[d], val, sizeof val);
            fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\"/>"
                       "<text x=\"%.1f\" y=\"%d\" font-size=\"10\">%s</text>\n",
                    left, yb, w, bh - 2, sd_report_palette[d % SD_REPORT_NCOLORS], left + w + 3, yb + bh - 3, val);
        }
    }
    fprintf(f, "</svg>\n");
    free(g);
}

/* ------------------------------------------------------------------ roofline */

struct frame {
    double xlo, xhi, ylo, yhi;   /* decades: 10^xlo .. 10^xhi */
    int W, H, L, B, R;
};

static double fx(const struct frame *fr, double v) { return fr->L + logx(v, fr->xlo, fr->xhi, fr->W - fr->L - fr->R); }
static double fy(const struct frame *fr, double v) { return fr->H - fr->B - logx(v, fr->ylo, fr->yhi, fr->H - fr->B - 10); }

static void roof_axes(FILE *f, const struct frame *fr)
{
    fprintf(f, "<rect x=\"%d\" y=\"10\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#999\"/>\n", fr->L,
            fr->W - fr->L - fr->R, fr->H - fr->B - 10);
    for (double e = fr->xlo; e <= fr->xhi + 1e-9; e++)
        fprintf(f, "<text x=\"%.1f\" y=\"%d\" font-size=\"11\" text-anchor=\"%s\">%g</text>\n", fx(fr, pow(10, e)),
                fr->H - fr->B + 14, e >= fr->xhi - 1e-9 ? "end" : "middle", pow(10, e));
    for (double e = fr->ylo; e <= fr->yhi + 1e-9; e++)
        fprintf(f, "<text x=\"%d\" y=\"%.1f\" font-size=\"11\" text-anchor=\"end\">%g</text>\n", fr->L - 4,
                fy(fr, pow(10, e)) + 4, pow(10, e));
    fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"12\" text-anchor=\"middle\">arithmetic intensity (FLOP/byte, "
               "compulsory traffic)</text>\n", fr->L + (fr->W - fr->L) / 2, fr->H - 6);
    fprintf(f, "<text x=\"14\" y=\"%d\" font-size=\"12\" transform=\"rotate(-90 14 %d)\" text-anchor=\"middle\">"
               "achieved TFLOP/s</text>\n", (fr->H - fr->B) / 2, (fr->H - fr->B) / 2);
}

/* One roof: bandwidth slope up to the ridge, then flat at the peak; flat alone when the bandwidth
 * is unknown (bw_gbs <= 0). Dashed roofs are labelled below their line, solid ones above, so a
 * card's two roofs stay readable. */
static void roof(FILE *f, const struct frame *fr, double peak_tflops, double bw_gbs, const char *color, bool dashed,
                 const char *label)
{
    if (!(peak_tflops > 0))
        return;
    double xe = pow(10, fr->xhi), x0 = pow(10, fr->xlo), ridge = x0;
    if (bw_gbs > 0) {
        ridge = peak_tflops * 1e12 / (bw_gbs * 1e9);
        double y0 = bw_gbs * x0 / 1e3;
        if (y0 < pow(10, fr->ylo)) {
            y0 = pow(10, fr->ylo);
            x0 = y0 * 1e3 / bw_gbs;
        }
        fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-dasharray=\"%s\" points=\"%.1f,%.1f %.1f,%.1f\"/>\n",
                color, dashed ? "5 3" : "none", fx(fr, x0), fy(fr, y0), fx(fr, ridge), fy(fr, peak_tflops));
    }
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-dasharray=\"%s\"/>\n",
            fx(fr, ridge), fy(fr, peak_tflops), fx(fr, xe), fy(fr, peak_tflops), color, dashed ? "5 3" : "none");
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" text-anchor=\"end\" fill=\"%s\">", fx(fr, xe) - 2,
            fy(fr, peak_tflops) + (dashed ? 12 : -3), color);
    sd_html_esc(f, label);
    fprintf(f, "</text>\n");
}

/* Without a spec row: the best measured GEMM as the compute roof, a bw.* row as the slope. */
static void measured_roof(FILE *f, const struct frame *fr, const struct sd_rset *s, size_t d, const char *color)
{
    double best = 0, bw = 0;
    for (size_t i = 0; i < s->n; i++) {
        const struct sd_result *r = &s->rows[i];
        if (s->dev_of[i] != (int)d || !sd_row_usable(r))
            continue;
        if (!strncmp(r->wl.label, "bw.", 3))
            bw = fmax(bw, (isfinite(r->bytes_min) ? r->bytes_min : sd_workload_bytes_min(&r->wl)) /
                              (r->time_ms_median * 1e6));
        else if (r->wl.op == SD_OP_GEMM)
            best = fmax(best, row_tflops(r));
    }
    char label[96];
    if (bw > 0)
        snprintf(label, sizeof label, "measured roof %.3g TFLOP/s, %.3g GB/s", best, bw);
    else
        snprintf(label, sizeof label, "best measured GEMM %.3g TFLOP/s (no bw.* row)", best);
    roof(f, fr, best, bw, color, true, label);
}

void sd_report_roofline(FILE *f, const struct sd_rset *s)
{
    const struct frame fr = {-1, 4, -3, 4, 800, 480, 64, 40, 12};
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" role=\"img\" aria-label=\"roofline\">\n",
            fr.W, fr.H);
    roof_axes(f, &fr);
    for (size_t d = 0; d < s->ndev && d < SD_REPORT_NCOLORS; d++) {
        const struct sd_card *c = s->dev[d].card;
        const char *color = sd_report_palette[d];
        if (!c) {
            measured_roof(f, &fr, s, d, color);
            continue;
        }
        char label[96];
        snprintf(label, sizeof label, "%s spec fp16 TC %.3g TFLOP/s", c->name, c->fp16_f32acc);
        roof(f, &fr, c->fp16_f32acc, c->bw_gbs, color, false, label);
        snprintf(label, sizeof label, "%s spec fp32 %.3g TFLOP/s", c->name, c->fp32);
        roof(f, &fr, c->fp32, c->bw_gbs, color, true, label);
    }
    for (size_t i = 0; i < s->n; i++) {
        const struct sd_result *r = &s->rows[i];
        if (!sd_row_usable(r))
            continue;
        double fl = isfinite(r->flops) ? r->flops : sd_workload_flops(&r->wl);
        double by = isfinite(r->bytes_min) ? r->bytes_min : sd_workload_bytes_min(&r->wl);
        double ai = fl / by, tf = row_tflops(r);
        if (!(ai > pow(10, fr.xlo) && ai < pow(10, fr.xhi) && tf > pow(10, fr.ylo) && tf < pow(10, fr.yhi)))
            continue;
        fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"%s\"><title>", fx(&fr, ai), fy(&fr, tf),
                sd_report_palette[s->dev_of[i] % SD_REPORT_NCOLORS]);
        sd_html_esc(f, r->wl.label);
        fprintf(f, " %s %s: %.3g TFLOP/s</title></circle>\n", r->impl, sd_dtype_name(r->wl.dtype), tf);
    }
    fprintf(f, "</svg>\n");
}

/* ------------------------------------------------------------------ it/s per card */

void sd_report_it_chart(FILE *f, const struct sd_it_bar *bars, size_t n)
{
    double vmax = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(bars[i].its))
            vmax = fmax(vmax, bars[i].its);
    if (!(vmax > 0))
        return;
    int bh = 16, left = 260, plot = 520, top = 24, h = top + (int)n * (bh + 4) + 8;
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" role=\"img\" "
               "aria-label=\"predicted it/s per card\">\n", left + plot + 170, h);
    fprintf(f, "<text x=\"%d\" y=\"14\" font-size=\"12\">SD 1.5 it/s, expected pipeline. Solid: measured; light, "
               "dashed: projected (basis below)</text>\n", left);
    for (size_t i = 0; i < n; i++) {
        const struct sd_it_bar *b = &bars[i];
        int y = top + (int)i * (bh + 4);
        double w = isfinite(b->its) ? fmax(b->its / vmax * plot, 1) : 0;
        char val[32], note[48] = "";
        sd_fmt_sig3(b->its, val, sizeof val);
        if (b->projected)
            snprintf(note, sizeof note, " (projected)");
        else if (b->coverage < 0.995) /* partial: the bar is too long by the work nobody measured */
            snprintf(note, sizeof note, " (%.0f %% of FLOPs measured)", 100 * b->coverage);
        bar_label(f, left - 6, y + bh - 4, b->name, 40);
        fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\"%s/>"
                   "<text x=\"%.1f\" y=\"%d\" font-size=\"11\">%s%s</text>\n",
                left, y, w, bh, b->projected ? "#9ecae1" : "#1f77b4",
                b->projected ? " stroke=\"#1f77b4\" stroke-dasharray=\"4 2\"" : "", left + w + 4, y + bh - 4, val,
                note);
    }
    fprintf(f, "</svg>\n");
}
