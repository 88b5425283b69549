/* analysis_args.h — what the analysis commands (estimate, memory, claims, compare, report) share
 * on the command line: the results paths (every --results value and every positional argument, no
 * limit), --format, integer options, and loading the inputs with one message style
 * (src/cli/analysis_args.c; the loading rules are in include/sdmark/inputs.h). */
#ifndef SDMARK_ANALYSIS_ARGS_H
#define SDMARK_ANALYSIS_ARGS_H

#include <stddef.h>
#include "sdmark/inputs.h"
#include "sdmark/text_util.h"

struct sd_paths {
    const char **v;   /* pointers into argv */
    size_t n, cap;
};
/* Room for every argument of the command (paths only ever come from argv). */
int sd_paths_init(struct sd_paths *p, int argc);
void sd_paths_add(struct sd_paths *p, const char *path);
/* Add argv[optind..argc-1] (the positional arguments left by getopt). */
void sd_paths_rest(struct sd_paths *p, int argc, char **argv);
void sd_paths_free(struct sd_paths *p);

/* --format: 0, or a message and -1 (the caller returns SD_EXIT_USAGE). */
int sd_cli_format(const char *cmd, const char *s, unsigned allowed, enum sd_format *out);
/* An integer option in [lo, hi]: 0, or a message and -1. */
int sd_cli_int(const char *cmd, const char *opt, const char *s, int lo, int hi, int *out);
/* sd_inputs_load with the command's name on the error or the warning (stderr): 0 or -1. */
int sd_cli_inputs(const char *cmd, struct sd_inputs *in, const struct sd_paths *p, unsigned flags);
/* The same for the positional arguments left by getopt (argv[optind..]). */
int sd_cli_positional_inputs(const char *cmd, int argc, char **argv, unsigned flags, struct sd_inputs *in);

#endif
