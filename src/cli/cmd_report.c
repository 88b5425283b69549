/* cmd_report.c — `sdmark report RESULTS... -o report.html` (report.c). */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "analysis_args.h"
#include "cli.h"
#include "sdmark/analysis.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: sdmark report [FILE|DIR ...] [-o OUT] [--format html|md]\n\n"
               "One self-contained HTML file (inline SVG, no scripts, no network access): throughput per op\n"
               "and shape per device, a roofline chart against each measured card's spec peaks, predicted\n"
               "it/s and it/s per dollar per card (measured or projected), the memory-tier table and the\n"
               "claims table. --format md writes a markdown summary to paste into a review.\n\n" SD_INPUTS_HELP
               "Default input: ./results. Without cards.csv there is no card column and nothing projected.\n\n"
               "  -o, --output OUT   output file (default: stdout); written via a temp file + rename\n"
               "  -f, --format F     html (default) or md\n"
                "Docs: docs/measurement.md, docs/sd-shapes.md, docs/cards.md, docs/claims.md%s\n",
            SD_DOCS_INSTALLED);
}

static int render(FILE *f, const struct sd_inputs *in, enum sd_format fmt)
{
    char err[512];
    return fmt == SD_FMT_MD ? sd_report_md(f, &in->set, &in->cards, err, sizeof err)
                            : sd_report_html(f, &in->set, &in->cards, err, sizeof err);
}

/* Write to `out` through OUT.tmp + rename, so a failed run never leaves half a report. */
static int write_atomic(const char *out, const struct sd_inputs *in, enum sd_format fmt)
{
    if (!out)
        return render(stdout, in, fmt) ? SD_EXIT_FAIL : SD_EXIT_OK;
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", out);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        fprintf(stderr, "sdmark report: %s: %s\n", tmp, strerror(errno));
        return SD_EXIT_FAIL;
    }
    int r = render(f, in, fmt);
    if (fclose(f) || r) {
        fprintf(stderr, "sdmark report: %s: write failed\n", out);
        unlink(tmp);
        return SD_EXIT_FAIL;
    }
    if (rename(tmp, out)) {
        fprintf(stderr, "sdmark report: %s: %s\n", out, strerror(errno));
        unlink(tmp);
        return SD_EXIT_FAIL;
    }
    return SD_EXIT_OK;
}

int sd_cmd_report(int argc, char **argv)
{
    static const struct option opts[] = {{"output", required_argument, 0, 'o'}, {"format", required_argument, 0, 'f'},
                                         {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    const char *out = NULL;
    enum sd_format fmt = SD_FMT_HTML;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:f:h", opts, NULL)) != -1) {
        if (c == 'o')
            out = optarg;
        else if (c == 'f' && sd_cli_format("report", optarg, SD_FMT_HTML | SD_FMT_MD, &fmt))
            return SD_EXIT_USAGE;
        else if (c == 'h') {
            usage(stdout);
            return SD_EXIT_OK;
        } else if (c != 'f') {
            usage(stderr);
            return SD_EXIT_USAGE;
        }
    }
    struct sd_inputs in;
    int rc = SD_EXIT_FAIL;
    const unsigned flags = SD_INPUTS_DEFAULT_RESULTS | SD_INPUTS_CARDS | SD_INPUTS_NEED_ROWS;
    if (!sd_cli_positional_inputs("report", argc, argv, flags, &in))
        rc = write_atomic(out, &in, fmt);
    sd_inputs_free(&in);
    return rc;
}
