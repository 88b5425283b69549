/* cmd_report.c — `sdmark report RESULTS... -o report.html` (report.c). */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "sdmark/analysis.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: sdmark report FILE|DIR ... [-o OUT] [--format html|md]\n\n"
               "One self-contained HTML file (inline SVG, no scripts, no network access): throughput per op\n"
               "and shape per device, a roofline chart against each measured card's spec peaks, predicted\n"
               "it/s and it/s per dollar per card (measured or projected), the memory-tier table and the\n"
               "claims table. --format md writes a markdown summary to paste into a review.\n\n"
               "  -o, --output OUT   output file (default: stdout); written via a temp file + rename\n"
               "  -f, --format F     html (default) or md\n");
}

int sd_cmd_report(int argc, char **argv)
{
    static const struct option opts[] = {{"output", required_argument, 0, 'o'}, {"format", required_argument, 0, 'f'},
                                         {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    const char *out = NULL, *format = "html";
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:f:h", opts, NULL)) != -1) {
        if (c == 'o')
            out = optarg;
        else if (c == 'f')
            format = optarg;
        else if (c == 'h') {
            usage(stdout);
            return SD_EXIT_OK;
        } else {
            usage(stderr);
            return SD_EXIT_USAGE;
        }
    }
    if (strcmp(format, "html") && strcmp(format, "md")) {
        fprintf(stderr, "sdmark report: --format '%s': expected html or md\n", format);
        return SD_EXIT_USAGE;
    }
    if (optind == argc) {
        fprintf(stderr, "sdmark report: give results files or directories (try --help)\n");
        return SD_EXIT_USAGE;
    }
    char err[1024], cpath[1024];
    struct sd_cards cards = {0};
    sd_cards_default_path(cpath, sizeof cpath);
    if (sd_cards_load(cpath, &cards, err, sizeof err)) {
        fprintf(stderr, "sdmark report: %s\n", err);
        return SD_EXIT_FAIL;
    }
    struct sd_rset set = {0};
    int rc = SD_EXIT_OK;
    for (int i = optind; i < argc && rc == SD_EXIT_OK; i++)
        if (sd_rset_add(&set, argv[i], err, sizeof err)) {
            fprintf(stderr, "sdmark report: %s\n", err);
            rc = SD_EXIT_FAIL;
        }
    if (rc == SD_EXIT_OK) {
        sd_rset_index(&set, &cards);
        char tmp[4096];
        FILE *f = stdout;
        if (out) {
            snprintf(tmp, sizeof tmp, "%s.tmp", out);
            f = fopen(tmp, "w");
            if (!f) {
                fprintf(stderr, "sdmark report: %s: %s\n", tmp, strerror(errno));
                rc = SD_EXIT_FAIL;
            }
        }
        if (f) {
            int r = !strcmp(format, "md") ? sd_report_md(f, &set, &cards, err, sizeof err)
                                          : sd_report_html(f, &set, &cards, err, sizeof err);
            if (out) {
                if (fclose(f) || r) {
                    fprintf(stderr, "sdmark report: %s: write failed\n", out);
                    unlink(tmp);
                    rc = SD_EXIT_FAIL;
                } else if (rename(tmp, out)) {
                    fprintf(stderr, "sdmark report: %s: %s\n", out, strerror(errno));
                    unlink(tmp);
                    rc = SD_EXIT_FAIL;
                }
            }
        }
    }
    sd_rset_free(&set);
    sd_cards_free(&cards);
    return rc;
}
