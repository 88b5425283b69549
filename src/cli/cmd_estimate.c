/* cmd_estimate.c — `sdmark estimate`: predicted UNet step time, it/s and seconds per image from
 * measured rows (estimate.c), or projected onto a card of bench/cards.csv; printed by
 * estimate_print.c. */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis_args.h"
#include "cli.h"
#include "sdmark/analysis.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: sdmark estimate --suite sd15|sd21|sdxl|FILE [FILE|DIR ...] [--results FILE|DIR ...]\n"
            "                       [--card NAME] [--device TEXT] [--dtype fp16|fp32|bf16|tf32] [--acc fp32|fp16]\n"
            "                       [--impl NAME] [--steps N] [--vae-suite NAME|none] [--format text|json|md]\n\n"
            "Predict one UNet step from measured rows: sum over the suite of count_per_step x median time\n"
            "(kernel-bound ceiling), plus the small memory-bound kernels (norms, activations, residual\n"
            "adds, head copies) modelled from the model's shapes at the device's measured bandwidth and\n"
            "per-kernel floor (expected pipeline). Seconds per image = steps x step + VAE decode (vae\n"
            "suite). Missing or failed rows are listed by name; coverage = FLOP fraction measured.\n"
            "Rows of the 'quick' suite are used only where one carries a model workload verbatim (label\n"
            "<model>.<label>, same shape); its other rows never are. Each device is estimated on its own\n"
            "rows: the same card on two hosts is two devices, never merged.\n\n"
            SD_INPUTS_HELP
            "Default input: ./results. Without cards.csv, --card is an error.\n\n"
            "  --suite S       model suite (name in bench/ or a path), required\n"
            "  --results F     results files or directories (the same as positional arguments)\n"
            "  --card NAME     a card of bench/cards.csv, by name or by its `match` column (case-insensitive,\n"
            "                  e.g. 'RTX 4090', 'rtx 3060'): its measured device if present, else PROJECTED\n"
            "                  from the closest measured GPU by the efficiency (achieved / spec peak or\n"
            "                  bandwidth) measured there\n"
            "  --device TEXT   only devices whose 'backend:name' (or 'backend:name@host' when one name was\n"
            "                  measured on several hosts) contains TEXT\n"
            "  --dtype T       default: the fastest of fp16, bf16 and fp32 among those that cover the most\n"
            "                  of the suite, within 1 %% of its FLOPs (fp16 on GPUs, bf16 on CPUs with a\n"
            "                  bf16 unit once it is measured as widely as fp32, else fp32); the other\n"
            "                  dtypes measured are printed as \"also measured\": coverage, extrapolated\n"
            "                  ceiling, speed against the dtype used on the workloads both cover\n"
            "  --acc A         accumulate type for fp16 rows (default fp32, PyTorch's)\n"
            "  --impl NAME     only this impl, or a library's impls by the prefix before '_' (onednn:\n"
            "                  onednn, onednn_unfused, onednn_sliced); default: the fastest usable\n"
            "                  impl per workload\n"
            "  --steps N       denoising steps per image (default 20)\n"
            "  --vae-suite S   VAE suite for the decode time (default vae; 'none' to leave it out)\n"
            "  --format F      text (default), json (one object per device, an array when several, with\n"
            "                  model, card, step_ms, it_per_s, image_s, coverage, projected, ...) or md\n"
            "Docs: docs/sd-shapes.md (shapes, counts per step), docs/cards.md (spec sheets), docs/cpu.md\n"
            "(a CPU's dtype and impls)%s\n",
            SD_DOCS_INSTALLED);
}

struct est_args {
    const char *suite, *card, *device, *vae;
    enum sd_format fmt;
    struct sd_est_opts o;
    struct sd_paths paths;
};

static int parse_dtype(const char *opt, const char *s, int *out)
{
    enum sd_dtype t;
    if (sd_dtype_parse(s, &t)) {
        fprintf(stderr, "sdmark estimate: --%s '%s': expected fp32, tf32, fp16 or bf16\n", opt, s);
        return -1;
    }
    *out = (int)t;
    return 0;
}

/* Options into `a`. Returns -1 to go on, else the exit code. */
static int parse_args(int argc, char **argv, struct est_args *a)
{
    static const struct option opts[] = {
        {"suite", required_argument, 0, 's'},     {"results", required_argument, 0, 'R'},
        {"card", required_argument, 0, 'c'},      {"device", required_argument, 0, 'd'},
        {"dtype", required_argument, 0, 't'},     {"acc", required_argument, 0, 'a'},
        {"impl", required_argument, 0, 'i'},      {"steps", required_argument, 0, 'n'},
        {"vae-suite", required_argument, 0, 'v'}, {"format", required_argument, 0, 'f'},
        {"help", no_argument, 0, 'h'},            {0, 0, 0, 0}};
    int c, bad = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "s:R:c:d:t:a:i:n:v:f:h", opts, NULL)) != -1) {
        switch (c) {
        case 's': a->suite = optarg; break;
        case 'R': sd_paths_add(&a->paths, optarg); break;
        case 'c': a->card = optarg; break;
        case 'd': a->device = optarg; break;
        case 't': bad |= parse_dtype("dtype", optarg, &a->o.dtype); break;
        case 'a': bad |= parse_dtype("acc", optarg, &a->o.acc); break;
        case 'i': a->o.impl = optarg; break;
        case 'n': bad |= sd_cli_int("estimate", "steps", optarg, 1, 10000, &a->o.steps); break;
        case 'v': a->vae = optarg; break;
        case 'f': bad |= sd_cli_format("estimate", optarg, SD_FMT_TEXT | SD_FMT_JSON | SD_FMT_MD, &a->fmt); break;
        case 'h': usage(stdout); return SD_EXIT_OK;
        default: usage(stderr); return SD_EXIT_USAGE;
        }
        if (bad)
            return SD_EXIT_USAGE;
    }
    sd_paths_rest(&a->paths, argc, argv);
    if (!a->suite) {
        fprintf(stderr, "sdmark estimate: --suite is required (sd15, sd21, sdxl or a suite file)\n");
        return SD_EXIT_USAGE;
    }
    return -1;
}

/* Does device d have rows of the suite (its own, or the quick suite's "<suite>.<label>" copies)? */
static bool has_suite_rows(const struct sd_rset *s, size_t d, const char *suite)
{
    size_t sl = strlen(suite);
    for (size_t i = 0; i < s->n; i++) {
        const struct sd_result *r = &s->rows[i];
        if (s->dev_of[i] == (int)d &&
            (!strcmp(r->wl.suite, suite) ||
             (!strcmp(r->wl.suite, "quick") && !strncmp(r->wl.label, suite, sl) && r->wl.label[sl] == '.')))
            return true;
    }
    return false;
}

/* Devices to estimate: --device and --card filters, rows of the suite. */
static size_t pick_devices(const struct sd_rset *s, const struct est_args *a, const struct sd_card *card,
                           const char *suite, int *devs)
{
    size_t nd = 0;
    for (size_t d = 0; d < s->ndev; d++) {
        char name[200];
        sd_device_display(&s->dev[d], name, sizeof name);
        if ((a->device && !strcasestr(name, a->device)) || (card && s->dev[d].card != card))
            continue;
        if (has_suite_rows(s, d, suite))
            devs[nd++] = (int)d;
    }
    return nd;
}

static int find_card(const struct sd_inputs *in, const char *name, const struct sd_card **out)
{
    char close[1024];
    *out = NULL;
    if (!name)
        return 0;
    if (!in->have_cards) {
        fprintf(stderr, "sdmark estimate: --card '%s' needs bench/cards.csv, which was not found\n", name);
        return -1;
    }
    *out = sd_cards_lookup(&in->cards, name, close, sizeof close);
    if (!*out)
        fprintf(stderr, "sdmark estimate: --card '%s' names no single card of cards.csv (by name or `match` "
                "string); candidates: %s\n", name, close);
    return *out ? 0 : -1;
}

/* Estimate every picked device, or project onto the card; print. */
static int estimate_and_print(const struct sd_inputs *in, const struct est_args *a, const struct sd_card *card,
                              const struct sd_suite *suite, const struct sd_suite *vae)
{
    const struct sd_rset *s = &in->set;
    int *devs = calloc(s->ndev + 1, sizeof *devs);
    struct sd_estimate *e = calloc(s->ndev + 1, sizeof *e);
    char err[1024];
    int rc = SD_EXIT_FAIL;
    size_t nd = devs && e ? pick_devices(s, a, card, suite->name, devs) : 0;
    if (!devs || !e)
        fprintf(stderr, "sdmark estimate: out of memory\n");
    else if (!nd && !card)
        fprintf(stderr, "sdmark estimate: no device in the results has rows of suite '%s'%s%s%s\n", suite->name,
                a->device ? " matching '" : "", a->device ? a->device : "", a->device ? "'" : "");
    else {
        size_t i = 0;
        int r = 0;
        if (!nd)
            r = sd_estimate_project(s, card, suite, vae, &a->o, &e[i++], err, sizeof err);
        for (; !r && i < nd; i++)
            r = sd_estimate_device(s, devs[i], suite, vae, &a->o, &e[i], err, sizeof err);
        if (r)
            fprintf(stderr, "sdmark estimate: %s\n", err);
        else {
            sd_estimate_print(stdout, e, nd ? nd : 1, a->fmt);
            rc = SD_EXIT_OK;
        }
    }
    free(devs);
    free(e);
    return rc;
}

static int open_suites(const struct est_args *a, struct sd_suite *suite, struct sd_suite *vae, bool *have_vae)
{
    char err[1024];
    *have_vae = false;
    if (sd_suite_open(a->suite, suite, err, sizeof err)) {
        fprintf(stderr, "sdmark estimate: %s\n", err);
        return -1;
    }
    if (!strcmp(a->vae, "none"))
        return 0;
    if (sd_suite_open(a->vae, vae, err, sizeof err)) {
        fprintf(stderr, "sdmark estimate: %s\n", err);
        return -1;
    }
    *have_vae = true;
    return 0;
}

int sd_cmd_estimate(int argc, char **argv)
{
    struct est_args a = {.vae = "vae", .fmt = SD_FMT_TEXT};
    sd_est_opts_default(&a.o);
    if (sd_paths_init(&a.paths, argc))
        return SD_EXIT_FAIL;
    int rc = parse_args(argc, argv, &a);
    struct sd_suite suite = {0}, vae = {0};
    bool have_vae = false;
    struct sd_inputs in = {0};
    const struct sd_card *card = NULL;
    if (rc >= 0)
        goto out;
    rc = SD_EXIT_FAIL;
    if (open_suites(&a, &suite, &vae, &have_vae) ||
        sd_cli_inputs("estimate", &in, &a.paths, SD_INPUTS_DEFAULT_RESULTS | SD_INPUTS_CARDS))
        goto out;
    if (find_card(&in, a.card, &card)) {
        rc = SD_EXIT_USAGE;
        goto out;
    }
    if (!in.set.n && !card)
        fprintf(stderr, "sdmark estimate: no results rows (give results files or directories, or run `sdmark run` "
                "first)\n");
    else
        rc = estimate_and_print(&in, &a, card, &suite, have_vae ? &vae : NULL);
out:
    sd_inputs_free(&in);
    sd_paths_free(&a.paths);
    if (suite.items)
        sd_suite_free(&suite);
    if (have_vae)
        sd_suite_free(&vae);
    return rc;
}
