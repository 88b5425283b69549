/* cmd_claims.c — `sdmark claims [RESULTS...]`: verdicts on claims C1–C9 (claims.c). */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cJSON.h>

#include "cli.h"
#include "sdmark/analysis.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: sdmark claims [FILE|DIR ...] [--format text|json]\n\n"
               "For each claim C1-C9 of docs/claims.md: the evidence (estimates from the result files,\n"
               "cards projected from bench/cards.csv by the efficiency measured on the closest measured GPU,\n"
               "memory-model figures) and a verdict: supported | refuted | partly | no data. Each evidence\n"
               "line says whether it was measured on a device, projected from spec, or comes from the\n"
               "memory model. The verdict rules are written at the top of src/analysis/claims.c.\n"
               "Works on whatever results exist (none, CPU only, or GPUs). Default input: ./results.\n\n"
               "  -f, --format F   text (default) or json (a list of {id, claim, verdict, evidence, basis})\n");
}

int sd_cmd_claims(int argc, char **argv)
{
    static const struct option opts[] = {{"format", required_argument, 0, 'f'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    const char *format = "text";
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "f:h", opts, NULL)) != -1) {
        if (c == 'f')
            format = optarg;
        else if (c == 'h') {
            usage(stdout);
            return SD_EXIT_OK;
        } else {
            usage(stderr);
            return SD_EXIT_USAGE;
        }
    }
    if (strcmp(format, "text") && strcmp(format, "json")) {
        fprintf(stderr, "sdmark claims: --format '%s': expected text or json\n", format);
        return SD_EXIT_USAGE;
    }
    char err[1024], cpath[1024];
    struct sd_cards cards = {0};
    sd_cards_default_path(cpath, sizeof cpath);
    if (sd_cards_load(cpath, &cards, err, sizeof err)) {
        fprintf(stderr, "sdmark claims: %s\n", err);
        return SD_EXIT_FAIL;
    }
    struct sd_rset set = {0};
    int rc = SD_EXIT_OK;
    if (optind == argc) {
        struct stat st;
        if (!stat("results", &st) && S_ISDIR(st.st_mode) && sd_rset_add(&set, "results", err, sizeof err)) {
            fprintf(stderr, "sdmark claims: %s\n", err);
            rc = SD_EXIT_FAIL;
        }
    }
    for (int i = optind; i < argc && rc == SD_EXIT_OK; i++)
        if (sd_rset_add(&set, argv[i], err, sizeof err)) {
            fprintf(stderr, "sdmark claims: %s\n", err);
            rc = SD_EXIT_FAIL;
        }
    if (rc == SD_EXIT_OK) {
        sd_rset_index(&set, &cards);
        struct sd_claim_result res[SD_NCLAIMS];
        if (sd_claims_eval(&set, &cards, res, err, sizeof err)) {
            fprintf(stderr, "sdmark claims: %s\n", err);
            rc = SD_EXIT_FAIL;
        } else {
            sd_claims_print(stdout, res, !strcmp(format, "json"));
            sd_claims_free(res);
        }
    }
    sd_rset_free(&set);
    sd_cards_free(&cards);
    return rc;
}
