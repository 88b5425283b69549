/* cmd_estimate.c — `sdmark estimate`: predicted UNet step time, it/s and seconds per image from
 * measured rows (estimate.c), or projected onto a card of bench/cards.csv. */
#define _GNU_SOURCE
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "sdmark/analysis.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: sdmark estimate --suite sd15|sd21|sdxl|FILE [--results FILE|DIR ...] [--card NAME]\n"
            "                       [--device TEXT] [--dtype fp16|fp32|bf16|tf32] [--acc fp32|fp16]\n"
            "                       [--impl NAME] [--steps N] [--vae-suite NAME|none] [--format text|json]\n\n"
            "Predict one UNet step from measured rows: sum over the suite of count_per_step x median time\n"
            "(kernel-bound ceiling), plus the small memory-bound kernels (norms, activations, residual\n"
            "adds, head copies) modelled from the model's shapes at the device's measured bandwidth and\n"
            "per-kernel floor (expected pipeline). Seconds per image = steps x step + VAE decode (vae\n"
            "suite). Missing or failed rows are listed by name; coverage = FLOP fraction measured.\n"
            "Rows of the 'quick' suite (scaled shapes) are never used for a model's estimate.\n\n"
            "  --suite S       model suite (name in bench/ or a path), required\n"
            "  --results F     results files or directories (default: ./results)\n"
            "  --card NAME     a card of bench/cards.csv (case-insensitive, e.g. 'RTX 4090'): its measured\n"
            "                  device if present, else PROJECTED from the closest measured GPU by the\n"
            "                  efficiency (achieved / spec peak or bandwidth) measured there\n"
            "  --device TEXT   only devices whose 'backend:name' contains TEXT\n"
            "  --dtype T       default: fp16 where the device has usable fp16 rows, else fp32\n"
            "  --acc A         accumulate type for fp16 rows (default fp32, PyTorch's)\n"
            "  --impl NAME     only this impl (default: the fastest usable impl per workload)\n"
            "  --steps N       denoising steps per image (default 20)\n"
            "  --vae-suite S   VAE suite for the decode time (default vae; 'none' to leave it out)\n"
            "  --format F      text (default) or json: one object per device (an array when several),\n"
            "                  with model, card, step_ms, it_per_s, image_s, coverage, projected, ...\n");
}

int sd_cmd_estimate(int argc, char **argv)
{
    static const struct option opts[] = {
        {"suite", required_argument, 0, 's'}, {"results", required_argument, 0, 'R'},
        {"card", required_argument, 0, 'c'},  {"device", required_argument, 0, 'd'},
        {"dtype", required_argument, 0, 't'}, {"acc", required_argument, 0, 'a'},
        {"impl", required_argument, 0, 'i'},  {"steps", required_argument, 0, 'n'},
        {"vae-suite", required_argument, 0, 'v'}, {"format", required_argument, 0, 'f'},
        {"help", no_argument, 0, 'h'},        {0, 0, 0, 0}};
    const char *suite_s = NULL, *card_s = NULL, *dev_s = NULL, *vae_s = "vae", *format = "text";
    const char *results[128];
    int nres = 0, c;
    struct sd_est_opts o;
    sd_est_opts_default(&o);
    optind = 1;
    while ((c = getopt_long(argc, argv, "s:R:c:d:t:a:i:n:v:f:h", opts, NULL)) != -1) {
        enum sd_dtype t;
        switch (c) {
        case 's':
            suite_s = optarg;
            break;
        case 'R':
            if (nres < 128)
                results[nres++] = optarg;
            break;
        case 'c':
            card_s = optarg;
            break;
        case 'd':
            dev_s = optarg;
            break;
        case 't':
        case 'a':
            if (sd_dtype_parse(optarg, &t)) {
                fprintf(stderr, "sdmark estimate: --%s '%s': expected fp32, tf32, fp16 or bf16\n",
                        c == 't' ? "dtype" : "acc", optarg);
                return SD_EXIT_USAGE;
            }
            if (c == 't')
                o.dtype = (int)t;
            else
                o.acc = (int)t;
            break;
        case 'i':
            o.impl = optarg;
            break;
        case 'n': {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (!*optarg || *end || v < 1 || v > 10000) {
                fprintf(stderr, "sdmark estimate: --steps '%s': expected 1..10000\n", optarg);
                return SD_EXIT_USAGE;
            }
            o.steps = (int)v;
            break;
        }
        case 'v':
            vae_s = optarg;
            break;
        case 'f':
            format = optarg;
            break;
        case 'h':
            usage(stdout);
            return SD_EXIT_OK;
        default:
            usage(stderr);
            return SD_EXIT_USAGE;
        }
    }
    while (optind < argc && nres < 128)
        results[nres++] = argv[optind++];
    if (strcmp(format, "text") && strcmp(format, "json")) {
        fprintf(stderr, "sdmark estimate: --format '%s': expected text or json\n", format);
        return SD_EXIT_USAGE;
    }
    if (!suite_s) {
        fprintf(stderr, "sdmark estimate: --suite is required (sd15, sd21, sdxl or a suite file)\n");
        return SD_EXIT_USAGE;
    }
    char err[1024];
    int rc = SD_EXIT_FAIL;
    struct sd_suite suite = {0}, vae = {0};
    struct sd_cards cards = {0};
    struct sd_rset set = {0};
    int have_vae = 0;
    struct sd_estimate *e = calloc(1, sizeof *e);
    if (sd_suite_open(suite_s, &suite, err, sizeof err)) {
        fprintf(stderr, "sdmark estimate: %s\n", err);
        goto out;
    }
    if (strcmp(vae_s, "none")) {
        if (sd_suite_open(vae_s, &vae, err, sizeof err)) {
            fprintf(stderr, "sdmark estimate: %s\n", err);
            goto out;
        }
        have_vae = 1;
    }
    char cpath[1024];
    sd_cards_default_path(cpath, sizeof cpath);
    if (sd_cards_load(cpath, &cards, err, sizeof err)) {
        if (card_s) {
            fprintf(stderr, "sdmark estimate: %s\n", err);
            goto out;
        }
        fprintf(stderr, "sdmark estimate: warning: %s (cards not matched)\n", err);
    }
    if (!nres) {
        struct stat st;
        if (!stat("results", &st) && S_ISDIR(st.st_mode))
            results[nres++] = "results";
    }
    for (int i = 0; i < nres; i++)
        if (sd_rset_add(&set, results[i], err, sizeof err)) {
            fprintf(stderr, "sdmark estimate: %s\n", err);
            goto out;
        }
    sd_rset_index(&set, &cards);
    const struct sd_card *card = NULL;
    if (card_s) {
        card = sd_cards_find(&cards, card_s);
        if (!card) {
            fprintf(stderr, "sdmark estimate: --card '%s' is not in %s; known cards:", card_s, cards.path);
            for (size_t i = 0; i < cards.n; i++)
                fprintf(stderr, "%s '%s'", i ? "," : "", cards.v[i].name);
            fprintf(stderr, "\n");
            rc = SD_EXIT_USAGE;
            goto out;
        }
    }
    if (!set.n && !card) {
        fprintf(stderr, "sdmark estimate: no results rows (give --results FILE|DIR, or run `sdmark run` first)\n");
        goto out;
    }
    int devs[256], nd = 0;
    for (size_t d = 0; d < set.ndev && nd < 256; d++) {
        char name[200];
        sd_device_display(&set.dev[d], name, sizeof name);
        if (dev_s && !strcasestr(name, dev_s))
            continue;
        if (card && set.dev[d].card != card)
            continue;
        int has = 0;
        size_t sl = strlen(suite.name);
        for (size_t i = 0; i < set.n && !has; i++) {
            const struct sd_result *r = &set.rows[i];
            has = set.dev_of[i] == (int)d &&
                  (!strcmp(r->wl.suite, suite.name) || (!strcmp(r->wl.suite, "quick") &&
                                                        !strncmp(r->wl.label, suite.name, sl) && r->wl.label[sl] == '.'));
        }
        if (has)
            devs[nd++] = (int)d;
    }
    int projected = 0;
    if (!nd) {
        if (!card) {
            fprintf(stderr, "sdmark estimate: no device in the results has rows of suite '%s'%s%s%s\n", suite.name,
                    dev_s ? " matching '" : "", dev_s ? dev_s : "", dev_s ? "'" : "");
            goto out;
        }
        projected = 1;
    }
    int json = !strcmp(format, "json");
    if (json && (nd > 1))
        printf("[\n");
    for (int k = 0; k < (projected ? 1 : nd); k++) {
        int r = projected ? sd_estimate_project(&set, card, &suite, have_vae ? &vae : NULL, &o, e, err, sizeof err)
                          : sd_estimate_device(&set, devs[k], &suite, have_vae ? &vae : NULL, &o, e, err, sizeof err);
        if (r) {
            fprintf(stderr, "sdmark estimate: %s\n", err);
            goto out;
        }
        if (json) {
            char *s = sd_estimate_json(e);
            printf("%s%s\n", s, json && nd > 1 && k < nd - 1 ? "," : "");
            free(s);
        } else {
            if (k)
                printf("\n");
            sd_estimate_print_text(stdout, e);
        }
    }
    if (json && nd > 1)
        printf("]\n");
    rc = SD_EXIT_OK;
out:
    free(e);
    sd_rset_free(&set);
    sd_cards_free(&cards);
    if (suite.items)
        sd_suite_free(&suite);
    if (have_vae)
        sd_suite_free(&vae);
    return rc;
}
