/* memory_summary.h — what `sdmark memory` reports: the memory model of one configuration, which
 * memory tiers run it and, with results, the model checked against measured peaks; rendered as
 * text, JSON or markdown by one printer. Build: src/analysis/memory_summary.c; print:
 * src/analysis/memory_print.c. Memory sizes print in GiB (tiers and cards are binary: a "12 GB"
 * card has 12 GiB); the JSON keeps bytes. */
#ifndef SDMARK_MEMORY_SUMMARY_H
#define SDMARK_MEMORY_SUMMARY_H

#include <stdbool.h>
#include <stdio.h>
#include "sdmark/memory_check.h"
#include "sdmark/memory_model.h"
#include "sdmark/result_set.h"
#include "sdmark/text_util.h"

struct sd_mem_summary {
    struct sd_mem_opts o;
    struct sd_mem_report r;
    struct sd_model_params p;
    bool checked;                 /* results were given: the checks below were tried */
    struct sd_mem_check *checks;  /* owned */
    size_t nchecks;
    bool checks_ok;               /* every check agrees within 10 % */
};

/* Model `o`; with a result set (may be NULL) also check it against measured peaks. */
int sd_mem_summarize(const struct sd_mem_opts *o, const struct sd_rset *s, struct sd_mem_summary *m, char *err,
                     size_t errlen);
void sd_mem_summary_free(struct sd_mem_summary *m);
void sd_mem_print(FILE *f, const struct sd_mem_summary *m, enum sd_format fmt);

const char *sd_attn_mode_name(enum sd_attn_mode a);   /* "unfused" | "flash" */
const char *sd_train_mode_name(enum sd_train_mode t); /* "none" | "lora" | "full" */

#endif
