/* cli.c — subcommand dispatch and top-level help. */
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

struct command {
    const char *name;
    int (*fn)(int, char **);
    const char *summary;
};

static const struct command commands[] = {
    {"devices", sd_cmd_devices, "list every backend and device sdmark can see"},
    {"run", sd_cmd_run, "run suites, verify, measure, write results/<device>-<suite>.csv/.json"},
    {"tune", sd_cmd_tune, "pick kernel tile/work-group parameters for a device (cached)"},
    /* analysis commands read result files only (no backend): */
    {"estimate", sd_cmd_estimate, "predicted UNet step time, it/s and s/image from results (or projected to a card)"},
    {"memory", sd_cmd_memory, "memory model: weights, activations, training footprint, which VRAM tiers run it"},
    {"compare", sd_cmd_compare, "compare results files row by row with noise-aware verdicts"},
    {"claims", sd_cmd_claims, "verdicts on the article's claims C1-C9 with their evidence"},
    {"report", sd_cmd_report, "self-contained HTML (or markdown) report: charts, estimates, memory, claims"},
    {NULL, NULL, NULL},
};

static void usage(FILE *f)
{
    fprintf(f, "sdmark %s — GPU micro-benchmarks at Stable Diffusion shapes\n\n"
               "usage: sdmark <command> [options]   (sdmark <command> --help for its options)\n\n"
               "commands:\n",
            SDMARK_VERSION);
    for (const struct command *c = commands; c->name; c++)
        fprintf(f, "  %-9s %s\n", c->name, c->summary);
    fprintf(f, "\n`make bench` runs `sdmark run`: the default suites on the best device found.\n"
               "Results: results/<backend>-<device>-<suite>.csv and .json (columns: docs/results.md).\n"
               "Docs: docs/ in the source tree%s\n", SD_DOCS_INSTALLED);
}

int sd_cli_main(int argc, char **argv)
{
    /* Numbers in files are written with '.' whatever the user's locale: keep the C locale for
     * LC_NUMERIC (we never call setlocale(LC_ALL, "")). */
    setlocale(LC_CTYPE, "");
    if (argc < 2) {
        usage(stderr);
        return SD_EXIT_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return SD_EXIT_OK;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("sdmark %s (%s)\n", SDMARK_VERSION, SDMARK_GIT_COMMIT);
        return SD_EXIT_OK;
    }
    for (const struct command *c = commands; c->name; c++)
        if (!strcmp(argv[1], c->name))
            return c->fn(argc - 1, argv + 1);
    fprintf(stderr, "sdmark: unknown command '%s' (try sdmark --help)\n", argv[1]);
    return SD_EXIT_USAGE;
}
