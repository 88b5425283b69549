/* analysis_args.c — command-line pieces the analysis commands share (analysis_args.h). */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis_args.h"

int sd_paths_init(struct sd_paths *p, int argc)
{
    p->n = 0;
    p->cap = argc > 0 ? (size_t)argc : 1;
    p->v = calloc(p->cap, sizeof *p->v);
    return p->v ? 0 : -1;
}

void sd_paths_add(struct sd_paths *p, const char *path)
{
    if (p->n < p->cap) /* cap = argc: every path is an argument */
        p->v[p->n++] = path;
}

void sd_paths_rest(struct sd_paths *p, int argc, char **argv)
{
    while (optind < argc)
        sd_paths_add(p, argv[optind++]);
}

void sd_paths_free(struct sd_paths *p)
{
    free(p->v);
    p->v = NULL;
    p->n = p->cap = 0;
}

int sd_cli_format(const char *cmd, const char *s, unsigned allowed, enum sd_format *out)
{
    if (!sd_format_parse(s, allowed, out))
        return 0;
    char list[64];
    sd_format_list(allowed, list, sizeof list);
    fprintf(stderr, "sdmark %s: --format '%s': expected %s\n", cmd, s, list);
    return -1;
}

int sd_cli_int(const char *cmd, const char *opt, const char *s, int lo, int hi, int *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < lo || v > hi) {
        fprintf(stderr, "sdmark %s: --%s '%s': expected an integer in %d..%d\n", cmd, opt, s, lo, hi);
        return -1;
    }
    *out = (int)v;
    return 0;
}

int sd_cli_inputs(const char *cmd, struct sd_inputs *in, const struct sd_paths *p, unsigned flags)
{
    char err[1024];
    if (sd_inputs_load(in, p->v, p->n, flags, err, sizeof err)) {
        fprintf(stderr, "sdmark %s: %s\n", cmd, err);
        return -1;
    }
    if (in->warning[0])
        fprintf(stderr, "sdmark %s: %s\n", cmd, in->warning);
    return 0;
}

int sd_cli_positional_inputs(const char *cmd, int argc, char **argv, unsigned flags, struct sd_inputs *in)
{
    struct sd_paths paths;
    memset(in, 0, sizeof *in);
    if (sd_paths_init(&paths, argc))
        return -1;
    sd_paths_rest(&paths, argc, argv);
    int rc = sd_cli_inputs(cmd, in, &paths, flags);
    sd_paths_free(&paths);
    return rc;
}
