/* cmd_compare.c — `sdmark compare A B [...]`: each argument a results file or directory, B (and
 * more) against the baseline A (compare.c for the rules, compare_print.c for the output). The
 * exit status fails a CI job on a regression. */
#define _GNU_SOURCE
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis_args.h"
#include "cli.h"
#include "sdmark/analysis.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: sdmark compare BASELINE OTHER [MORE ...] [--threshold PCT] [--best|--by-impl] [--format text|json|md]\n"
            "       sdmark compare --fleet FILE|DIR ... [--threshold PCT] [--format text|json|md]\n\n"
            "Each argument is a results file or a directory (its *.csv files taken together). Rows are\n"
            "matched by workload (suite, op, label, dtype, acc, shape) taking the fastest usable impl on\n"
            "each side, so a cpu run and an OpenCL run meet on every workload; --by-impl matches the\n"
            "backend and impl too. Each OTHER is compared with BASELINE: per-row speedup (baseline time /\n"
            "other time) and a verdict using both rows' noise: same when |t_other/t_base - 1| <=\n"
            "max(2*sqrt(noise_base^2 + noise_other^2), 1%%) (5%% when a row has no noise figure), else\n"
            "faster / slower. A row is a REGRESSION when it is slower beyond its noise band and by more\n"
            "than --threshold. Geometric mean speedup per op and overall. Rows present on one side only\n"
            "and rows that failed on either are listed separately. Files of an unknown schema_version\n"
            "are refused.\n\n"
            "--fleet: all inputs together; a device (backend and name) measured on several hosts is a\n"
            "fleet, each host a node, and every node is set against the fleet median per workload: the\n"
            "geometric mean of its time / median, the rows slower than the median by more than\n"
            "--threshold, and OUTLIER when the geometric mean is.\n\n"
            "Exit status: 0 when no row regressed and no node is an outlier (a file against itself\n"
            "passes), 1 when one did or an input could not be read, 2 on a usage error.\n\n"
            "  -t, --threshold PCT  regression threshold in percent (default 5; 0 = the noise band only)\n"
            "  -b, --best           match rows by workload, the best usable impl and backend on each side\n"
            "                       (the default)\n"
            "  -i, --by-impl        match rows by backend, workload and impl\n"
            "      --fleet          every node of a fleet against the fleet median (see above)\n"
            "  -f, --format FMT     text (default), json or md (markdown table)\n"
            "  -h, --help           this help\n"
            "Docs: docs/results.md (columns), docs/fleet.md (fleets)%s\n", SD_DOCS_INSTALLED);
}

static int parse_threshold(const char *s, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (!*s || *end || !isfinite(v) || v < 0 || v > 1000) {
        fprintf(stderr, "sdmark compare: --threshold '%s': expected a percentage in 0..1000\n", s);
        return -1;
    }
    *out = v / 100;
    return 0;
}

/* Options into o and fmt; -1 to go on, else the exit code. */
static int parse_args(int argc, char **argv, struct sd_cmp_opts *o, enum sd_format *fmt, int *fleet)
{
    static const struct option opts[] = {{"format", required_argument, 0, 'f'},
                                         {"threshold", required_argument, 0, 't'},
                                         {"by-impl", no_argument, 0, 'i'},
                                         {"best", no_argument, 0, 'b'},
                                         {"fleet", no_argument, 0, 'F'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "f:t:ibh", opts, NULL)) != -1) {
        if ((c == 'f' && sd_cli_format("compare", optarg, SD_FMT_TEXT | SD_FMT_JSON | SD_FMT_MD, fmt)) ||
            (c == 't' && parse_threshold(optarg, &o->threshold)))
            return SD_EXIT_USAGE;
        if (c == 'i' || c == 'b') /* the last of --by-impl / --best wins */
            o->key = c == 'i' ? SD_CMP_BY_IMPL : SD_CMP_BY_WORKLOAD;
        else if (c == 'F')
            *fleet = 1;
        else if (c == 'h') {
            usage(stdout);
            return SD_EXIT_OK;
        } else if (c != 'f' && c != 't') {
            usage(stderr);
            return SD_EXIT_USAGE;
        }
    }
    if (*fleet && argc - optind < 1) {
        fprintf(stderr, "sdmark compare: --fleet needs results files or directories (try --help)\n");
        return SD_EXIT_USAGE;
    }
    if (!*fleet && argc - optind < 2) {
        fprintf(stderr, "sdmark compare: need a baseline and at least one other results file or directory (try "
                        "--help)\n");
        return SD_EXIT_USAGE;
    }
    return -1;
}

static int load_side(const char *path, struct sd_inputs *in)
{
    const char *one[1] = {path};
    struct sd_paths p = {.v = one, .n = 1, .cap = 1};
    return sd_cli_inputs("compare", in, &p, SD_INPUTS_NEED_ROWS); /* an empty side would pass CI */
}

/* --fleet: all inputs as one set, every node against its fleet's median. */
static int compare_fleet(int argc, char **argv, double threshold, enum sd_format fmt)
{
    struct sd_inputs in;
    struct sd_fleet fl = {0};
    char err[256];
    int rc = SD_EXIT_FAIL;
    if (!sd_cli_positional_inputs("compare", argc, argv, SD_INPUTS_NEED_ROWS, &in)) {
        if (sd_fleet_compare(&in.set, threshold, &fl, err, sizeof err))
            fprintf(stderr, "sdmark compare: %s\n", err);
        else {
            sd_fleet_print(stdout, &fl, fmt);
            rc = fl.noutliers ? SD_EXIT_FAIL : SD_EXIT_OK;
        }
    }
    sd_fleet_free(&fl);
    sd_inputs_free(&in);
    return rc;
}

int sd_cmd_compare(int argc, char **argv)
{
    struct sd_cmp_opts o = {.key = SD_CMP_BY_WORKLOAD, .threshold = 0.05};
    enum sd_format fmt = SD_FMT_TEXT;
    int fleet = 0;
    int rc = parse_args(argc, argv, &o, &fmt, &fleet);
    if (rc >= 0)
        return rc;
    if (fleet)
        return compare_fleet(argc, argv, o.threshold, fmt);
    size_t n = (size_t)(argc - optind - 1);
    const char *base = argv[optind];
    struct sd_inputs a = {0}, b = {0};
    struct sd_cmp_pair *pairs = calloc(n, sizeof *pairs);
    char err[512];
    size_t done = 0, regressions = 0;
    rc = !pairs || load_side(base, &a) ? SD_EXIT_FAIL : SD_EXIT_OK;
    for (; rc == SD_EXIT_OK && done < n; done++) {
        const char *other = argv[optind + 1 + done];
        if (load_side(other, &b) || sd_compare_sets(&a.set, base, &b.set, other, &o, &pairs[done], err, sizeof err))
            rc = SD_EXIT_FAIL;
        sd_inputs_free(&b);
        if (rc == SD_EXIT_OK)
            regressions += pairs[done].nregressions;
    }
    if (rc == SD_EXIT_OK) {
        sd_compare_print(stdout, pairs, n, &o, fmt);
        rc = regressions ? SD_EXIT_FAIL : SD_EXIT_OK;
    }
    for (size_t i = 0; pairs && i < n; i++)
        sd_cmp_pair_free(&pairs[i]);
    free(pairs);
    sd_inputs_free(&a);
    return rc;
}
