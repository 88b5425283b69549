/* cmd_claims.c — `sdmark claims [RESULTS...]`: verdicts on claims C1–C9 (claims.c), printed by
 * claims_print.c. */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>

#include "analysis_args.h"
#include "cli.h"
#include "sdmark/analysis.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: sdmark claims [FILE|DIR ...] [--format text|json|md]\n\n"
               "For each claim C1-C9 of docs/claims.md: the evidence (estimates from the result files,\n"
               "cards projected from bench/cards.csv by the efficiency measured on the closest measured GPU,\n"
               "memory-model figures) and a verdict: supported | refuted | partly | no data. Each evidence\n"
               "line says whether it was measured on a device, projected from spec, or comes from the\n"
               "memory model. The verdict rules are written at the top of src/analysis/claims.c.\n"
               "Works on whatever results exist (none, CPU only, or GPUs).\n\n" SD_INPUTS_HELP
               "Default input: ./results. Without cards.csv, the claims about named cards have no data.\n\n"
               "  -f, --format F   text (default), json (a list of {id, claim, verdict, evidence, basis}) or md\n"
                "Docs: docs/claims.md (the claims and their sources)%s\n", SD_DOCS_INSTALLED);
}

int sd_cmd_claims(int argc, char **argv)
{
    static const struct option opts[] = {{"format", required_argument, 0, 'f'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    enum sd_format fmt = SD_FMT_TEXT;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "f:h", opts, NULL)) != -1) {
        if (c == 'f' && !sd_cli_format("claims", optarg, SD_FMT_TEXT | SD_FMT_JSON | SD_FMT_MD, &fmt))
            continue;
        if (c == 'h') {
            usage(stdout);
            return SD_EXIT_OK;
        }
        if (c != 'f')
            usage(stderr);
        return SD_EXIT_USAGE;
    }
    struct sd_inputs in;
    int rc = SD_EXIT_FAIL;
    char err[1024];
    struct sd_claim_result res[SD_NCLAIMS];
    if (sd_cli_positional_inputs("claims", argc, argv, SD_INPUTS_DEFAULT_RESULTS | SD_INPUTS_CARDS, &in))
        goto out;
    if (sd_claims_eval(&in.set, &in.cards, res, err, sizeof err)) {
        fprintf(stderr, "sdmark claims: %s\n", err);
        goto out;
    }
    sd_claims_print(stdout, res, fmt);
    sd_claims_free(res);
    rc = SD_EXIT_OK;
out:
    sd_inputs_free(&in);
    return rc;
}
