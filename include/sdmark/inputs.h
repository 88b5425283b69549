/* inputs.h — the one loader of analysis inputs, used by every analysis command (estimate, memory,
 * claims, compare, report): result files and directories, bench/cards.csv, devices indexed.
 * Implementation: src/analysis/inputs.c. Reads result files and cards only, never a backend.
 *
 * Rules, the same for every command (and said in each --help through SD_INPUTS_HELP):
 *  - any number of paths: a results file (.csv or .json) or a directory (every *.csv in it, sorted);
 *  - no path given: ./results when it exists (commands that take results by default);
 *  - no result row at all: an error naming the paths, for the commands that need rows;
 *  - cards.csv missing: one warning, the command goes on without cards (devices are not matched to
 *    cards, nothing is projected); a malformed cards.csv is an error naming file:line. */
#ifndef SDMARK_INPUTS_H
#define SDMARK_INPUTS_H

#include <stdbool.h>
#include <stddef.h>
#include "sdmark/cards.h"
#include "sdmark/result_set.h"

enum sd_inputs_flags {
    SD_INPUTS_DEFAULT_RESULTS = 1,   /* no path: ./results when it exists */
    SD_INPUTS_CARDS = 2,             /* load cards.csv (missing: warning; malformed: error) */
    SD_INPUTS_NEED_ROWS = 4,         /* no result row at all is an error (estimate, compare, report);
                                      * claims and memory answer from the model without results */
};

struct sd_inputs {
    struct sd_rset set;
    struct sd_cards cards;           /* n = 0 when cards.csv was not loaded */
    bool have_cards;
    char warning[1100];              /* "" or one line for stderr (cards.csv missing) */
};

/* Load `paths` (or the default), cards.csv and index devices. Returns 0, or -1 with a one-line
 * message naming the file in err. */
int sd_inputs_load(struct sd_inputs *in, const char *const *paths, size_t npaths, unsigned flags, char *err,
                   size_t errlen);
void sd_inputs_free(struct sd_inputs *in);
/* The cards step alone: `path` (NULL = cards.csv in the bench folder). Missing: in->warning set,
 * 0; malformed: -1 with file:line in err. */
int sd_inputs_cards(struct sd_inputs *in, const char *path, char *err, size_t errlen);

#define SD_INPUTS_HELP                                                                                             \
    "Inputs: any number of results files (.csv or .json) and directories (every *.csv in them).\n"             \
    "Cards: bench/cards.csv, found in $SDMARK_BENCH_DIR, next to the sdmark binary or in ./bench; when\n"        \
    "it is missing the command warns once and goes on without cards (devices are not matched to a card\n"      \
    "and nothing is projected); a malformed cards.csv is an error naming file:line. Paths that hold no\n"       \
    "result row at all are an error for estimate, compare and report.\n"

#endif
