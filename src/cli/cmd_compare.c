/* cmd_compare.c — `sdmark compare A.csv B.csv [...]` (see compare.c for the rules). */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "sdmark/analysis.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: sdmark compare BASELINE.csv OTHER.csv [MORE.csv ...] [--format text|json|md]\n\n"
            "Match rows by workload key (suite, op, impl, label, dtype, acc, shape) and compare each OTHER\n"
            "file with BASELINE: per-row speedup (baseline time / other time) and a verdict using both\n"
            "rows' noise: same when |t_other/t_base - 1| <= max(2*sqrt(noise_base^2 + noise_other^2), 1%%)\n"
            "(5%% when a row has no noise figure), else faster / slower. Geometric mean speedup per op\n"
            "and overall. Rows present in only one file and rows that failed in either are listed\n"
            "separately. Files of an unknown schema_version are refused; older known ones are read.\n\n"
            "  -f, --format FMT   text (default), json or md (markdown table)\n"
            "  -h, --help         this help\n");
}

int sd_cmd_compare(int argc, char **argv)
{
    static const struct option opts[] = {{"format", required_argument, 0, 'f'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    const char *format = "text";
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "f:h", opts, NULL)) != -1) {
        switch (c) {
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
    if (strcmp(format, "text") && strcmp(format, "json") && strcmp(format, "md")) {
        fprintf(stderr, "sdmark compare: --format '%s': expected text, json or md\n", format);
        return SD_EXIT_USAGE;
    }
    int n = argc - optind;
    if (n < 2) {
        fprintf(stderr, "sdmark compare: need at least two results files (try --help)\n");
        return SD_EXIT_USAGE;
    }
    char err[512];
    if (sd_compare_files(stdout, (const char *const *)argv + optind, n, format, err, sizeof err)) {
        fprintf(stderr, "sdmark compare: %s\n", err);
        return SD_EXIT_FAIL;
    }
    return SD_EXIT_OK;
}
