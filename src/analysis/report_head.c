/* report_head.c — the report's first screen (which device, how fast, measured or against what)
 * and its provenance block (when, where, with which versions the rows were measured). */
#define _GNU_SOURCE
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_parts.h"
#include "sdmark/estimate.h"
#include "sdmark/text_util.h"

/* SD 1.5 and SDXL estimates of every measured device (NULL entries where not estimable). */
struct head {
    size_t n;
    struct sd_estimate *e[2];   /* [0] sd15, [1] sdxl; n entries each */
    bool ok[2][64];
    int cpu;                    /* fastest CPU device by SD 1.5 step, -1 if none */
};

static void estimate_model(const struct sd_rset *s, const char *model, struct sd_estimate *e, bool *ok)
{
    struct sd_suite su = {0}, vae = {0};
    char err[512];
    if (sd_suite_open(model, &su, err, sizeof err))
        return;
    bool hv = !sd_suite_open("vae", &vae, err, sizeof err);
    struct sd_est_opts o;
    sd_est_opts_default(&o);
    for (size_t d = 0; d < s->ndev && d < 64; d++)
        ok[d] = !sd_estimate_device(s, (int)d, &su, hv ? &vae : NULL, &o, &e[d], err, sizeof err) &&
                e[d].coverage > 0 && isfinite(e[d].it_per_s);
    sd_suite_free(&su);
    if (hv)
        sd_suite_free(&vae);
}

static int head_build(const struct sd_rset *s, struct head *h)
{
    memset(h, 0, sizeof *h);
    h->n = s->ndev < 64 ? s->ndev : 64;
    h->cpu = -1;
    for (int m = 0; m < 2; m++)
        if (!(h->e[m] = calloc(h->n + 1, sizeof *h->e[m])))
            return -1;
    estimate_model(s, "sd15", h->e[0], h->ok[0]);
    estimate_model(s, "sdxl", h->e[1], h->ok[1]);
    for (size_t d = 0; d < h->n; d++)
        if (h->ok[0][d] && !sd_device_is_gpu(&s->dev[d]) &&
            (h->cpu < 0 || h->e[0][d].step_ms < h->e[0][h->cpu].step_ms))
            h->cpu = (int)d;
    return 0;
}

static void head_free(struct head *h)
{
    free(h->e[0]);
    free(h->e[1]);
}

static void cell(FILE *f, int md, const char *text)
{
    if (md)
        fprintf(f, " %s |", text);
    else {
        fprintf(f, "<td>");
        sd_html_esc(f, text);
        fprintf(f, "</td>");
    }
}

/* it/s and s per image of one model on device d, or "not measured". */
static void model_cells(FILE *f, int md, const struct head *h, int m, size_t d)
{
    char a[48], b[48];
    if (!h->ok[m][d]) {
        cell(f, md, "not measured");
        cell(f, md, "not measured");
        return;
    }
    const struct sd_estimate *e = &h->e[m][d];
    sd_fmt_sig3(e->it_per_s, a, sizeof a);
    sd_fmt_sig3(e->image_s, b, sizeof b);
    snprintf(b + strlen(b), sizeof b - strlen(b), " s%s", isfinite(e->vae_ms) ? "" : " (no VAE)");
    if (e->kernel_extrapolated)
        snprintf(a + strlen(a), sizeof a - strlen(a), " (%.0f %% measured)", 100 * e->coverage);
    cell(f, md, a);
    cell(f, md, b);
}

static void head_row(FILE *f, int md, const struct sd_rset *s, const struct head *h, size_t d)
{
    char name[200], ratio[48] = "n/a (no CPU rows)";
    sd_device_display(&s->dev[d], name, sizeof name);
    fprintf(f, md ? "|" : "<tr>");
    cell(f, md, name);
    cell(f, md, s->dev[d].card ? s->dev[d].card->name : (sd_device_is_gpu(&s->dev[d]) ? "GPU (no spec row)" : "CPU"));
    cell(f, md, "measured");
    model_cells(f, md, h, 0, d);
    model_cells(f, md, h, 1, d);
    if (h->cpu >= 0 && h->ok[0][d])
        snprintf(ratio, sizeof ratio, "%.3gx", h->e[0][h->cpu].step_ms / h->e[0][d].step_ms);
    cell(f, md, ratio);
    fprintf(f, md ? "\n" : "</tr>\n");
}

/* One sentence: the fastest measured device on SD 1.5. */
static void lead(FILE *f, int md, const struct sd_rset *s, const struct head *h)
{
    int best = -1;
    for (size_t d = 0; d < h->n; d++)
        if (h->ok[0][d] && (best < 0 || h->e[0][d].step_ms < h->e[0][best].step_ms))
            best = (int)d;
    if (best < 0) {
        fprintf(f, md ? "No device has usable SD 1.5 rows yet.\n\n" : "<p>No device has usable SD 1.5 rows yet.</p>\n");
        return;
    }
    char name[200], it[32], img[32];
    sd_device_display(&s->dev[best], name, sizeof name);
    sd_fmt_sig3(h->e[0][best].it_per_s, it, sizeof it);
    sd_fmt_sig3(h->e[0][best].image_s, img, sizeof img);
    fprintf(f, md ? "**Fastest measured: " : "<p class=\"lead\">Fastest measured: <b>");
    sd_html_esc(f, name);
    fprintf(f, md ? "**: %s it/s on SD 1.5 (512², 20 steps), %s s per image, measured"
                  : "</b>: <b>%s it/s</b> on SD 1.5 (512², 20 steps), <b>%s s</b> per image, measured",
            it, img);
    if (h->cpu >= 0 && h->cpu != best)
        fprintf(f, "; %.3gx the fastest CPU", h->e[0][h->cpu].step_ms / h->e[0][best].step_ms);
    bool gpu = false; /* without a GPU the reader must not take a CPU figure for a card's */
    for (size_t d = 0; d < h->n; d++)
        gpu = gpu || sd_device_is_gpu(&s->dev[d]);
    if (!gpu)
        fprintf(f, "; no GPU in these results, so no card is projected");
    fprintf(f, md ? ".\n\n" : ".</p>\n");
}

/* Projections need a measured GPU with a spec row (estimate.c). */
static bool can_project(const struct sd_rset *s, const struct sd_cards *cards)
{
    for (size_t d = 0; cards && cards->n && d < s->ndev; d++)
        if (s->dev[d].card)
            return true;
    return false;
}

void sd_report_headline(FILE *f, const struct sd_rset *s, const struct sd_cards *cards, int md)
{
    struct head h;
    if (head_build(s, &h)) {
        head_free(&h);
        return;
    }
    lead(f, md, s, &h);
    static const char *const cols[] = {"device", "card", "basis", "SD 1.5 it/s", "SD 1.5 s/image", "SDXL it/s",
                                       "SDXL s/image", "SD 1.5 vs fastest CPU"};
    fprintf(f, md ? "|" : "<table><tr>");
    for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++)
        fprintf(f, md ? " %s |" : "<th>%s</th>", cols[i]);
    fprintf(f, md ? "\n|---|---|---|---|---|---|---|---|\n" : "</tr>\n");
    for (size_t d = 0; d < h.n; d++)
        head_row(f, md, s, &h, d);
    if (!md)
        fprintf(f, "</table>\n");
    fprintf(f, md ? "\nit/s = expected pipeline (measured kernels + small kernels modelled at the measured bandwidth); "
                    "s/image = 20 steps + VAE decode.%s\n\n"
                  : "<p>it/s = expected pipeline (measured kernels + small kernels modelled at the measured "
                    "bandwidth); s/image = 20 steps + VAE decode.%s</p>\n",
            can_project(s, cards) ? " Cards nobody measured are projected in the per-card table below." : "");
    head_free(&h);
}

/* ------------------------------------------------------------------ provenance */

/* Distinct values of a string field over the rows, "a, b, c" (at most len). */
static void distinct(const struct sd_rset *s, size_t off, char *buf, size_t len)
{
    size_t o = 0;
    buf[0] = 0;
    for (size_t i = 0; i < s->n && o + 1 < len; i++) {
        const char *v = (const char *)&s->rows[i] + off;
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = !strcmp(v, (const char *)&s->rows[j] + off);
        if (!seen && *v)
            o += (size_t)snprintf(buf + o, len - o, "%s%s", o ? ", " : "", v);
    }
    if (!buf[0])
        snprintf(buf, len, "not recorded");
}

static void prov_line(FILE *f, int md, const char *what, const char *value)
{
    if (md) {
        fprintf(f, "| %s | %s |\n", what, value);
        return;
    }
    fprintf(f, "<tr><th>%s</th><td>", what);
    sd_html_esc(f, value);
    fprintf(f, "</td></tr>\n");
}

static void time_range(const struct sd_rset *s, char *buf, size_t len)
{
    const char *lo = NULL, *hi = NULL;
    for (size_t i = 0; i < s->n; i++) {
        const char *t = s->rows[i].timestamp_utc;
        if (!*t)
            continue;
        if (!lo || strcmp(t, lo) < 0)
            lo = t;
        if (!hi || strcmp(t, hi) > 0)
            hi = t;
    }
    if (lo)
        snprintf(buf, len, "%s .. %s (UTC)", lo, hi);
    else
        snprintf(buf, len, "not recorded");
}

void sd_report_provenance(FILE *f, const struct sd_rset *s, int md)
{
    char buf[2048];
    fprintf(f, md ? "| what | value |\n|---|---|\n" : "<table>\n");
    time_range(s, buf, sizeof buf);
    prov_line(f, md, "measured", buf);
    static const struct {
        const char *what;
        size_t off;
    } fields[] = {{"hosts", offsetof(struct sd_result, host)},
                  {"sdmark version", offsetof(struct sd_result, sdmark_version)},
                  {"git commit", offsetof(struct sd_result, git_commit)},
                  {"drivers", offsetof(struct sd_result, dev.driver_version)},
                  {"APIs / libraries", offsetof(struct sd_result, dev.api_version)},
                  {"device arch", offsetof(struct sd_result, dev.arch)},
                  {"timers", offsetof(struct sd_result, timer)}};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        distinct(s, fields[i].off, buf, sizeof buf);
        prov_line(f, md, fields[i].what, buf);
    }
    size_t o = 0;
    buf[0] = 0;
    for (size_t i = 0; i < s->nfiles && o + 1 < sizeof buf; i++)
        o += (size_t)snprintf(buf + o, sizeof buf - o, "%s%s", i ? ", " : "", s->files[i]);
    prov_line(f, md, "result files", s->nfiles ? buf : "none");
    snprintf(buf, sizeof buf, "%zu rows, %zu devices", s->n, s->ndev);
    prov_line(f, md, "rows", buf);
    if (!md)
        fprintf(f, "</table>\n");
}
