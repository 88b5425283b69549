/* inputs.c — load what an analysis command reads: result files/directories, cards.csv, the
 * device index (rules in inputs.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "sdmark/bench_dir.h"
#include "sdmark/inputs.h"

static bool is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

int sd_inputs_cards(struct sd_inputs *in, const char *path, char *err, size_t errlen)
{
    char def[1024];
    if (!path) {
        sd_cards_default_path(def, sizeof def);
        path = def;
    }
    struct stat st;
    if (stat(path, &st) != 0) {
        snprintf(in->warning, sizeof in->warning,
                 "warning: no cards.csv in %s: going on without cards (devices not matched to a card, nothing "
                 "projected)", sd_bench_search_text());
        return 0;
    }
    if (sd_cards_load(path, &in->cards, err, errlen))
        return -1;
    in->have_cards = true;
    return 0;
}

int sd_inputs_load(struct sd_inputs *in, const char *const *paths, size_t npaths, unsigned flags, char *err,
                   size_t errlen)
{
    memset(in, 0, sizeof *in);
    if ((flags & SD_INPUTS_CARDS) && sd_inputs_cards(in, NULL, err, errlen))
        return -1;
    static const char *const def[] = {"results"};
    if (!npaths && (flags & SD_INPUTS_DEFAULT_RESULTS) && is_dir("results")) {
        paths = def;
        npaths = 1;
    }
    for (size_t i = 0; i < npaths; i++)
        if (sd_rset_add(&in->set, paths[i], err, errlen))
            return -1;
    sd_rset_index(&in->set, in->have_cards ? &in->cards : NULL);
    if ((flags & SD_INPUTS_NEED_ROWS) && !in->set.n) {
        if (npaths)
            snprintf(err, errlen, "no result rows in %s%s (give results files or directories, or run `sdmark run` "
                     "first)", paths[0], npaths > 1 ? " and the other paths" : "");
        else
            snprintf(err, errlen, "no result rows: no path given and no ./results folder (give results files or "
                     "directories, or run `sdmark run` first)");
        return -1;
    }
    return 0;
}

void sd_inputs_free(struct sd_inputs *in)
{
    sd_rset_free(&in->set);
    sd_cards_free(&in->cards);
    in->have_cards = false;
}
