/* memory_summary.c — the record `sdmark memory` prints: model figures, published parameters and,
 * with results, the model-vs-measured checks (memory_summary.h). */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "sdmark/memory_summary.h"

const char *sd_attn_mode_name(enum sd_attn_mode a) { return a == SD_ATTN_FLASH ? "flash" : "unfused"; }

const char *sd_train_mode_name(enum sd_train_mode t)
{
    return t == SD_TRAIN_FULL ? "full" : t == SD_TRAIN_LORA ? "lora" : "none";
}

int sd_mem_summarize(const struct sd_mem_opts *o, const struct sd_rset *s, struct sd_mem_summary *m, char *err,
                     size_t errlen)
{
    memset(m, 0, sizeof *m);
    m->o = *o;
    if (sd_mem_compute(o, &m->r, err, errlen))
        return -1;
    sd_model_published_params(o->model, &m->p);
    m->checks_ok = true;
    if (!s)
        return 0;
    m->checked = true;
    m->checks = calloc(s->n + 1, sizeof *m->checks); /* at most one check per row */
    if (!m->checks) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    m->nchecks = sd_mem_check_rows(s, m->checks, s->n);
    for (size_t i = 0; i < m->nchecks; i++)
        m->checks_ok &= m->checks[i].ok;
    return 0;
}

void sd_mem_summary_free(struct sd_mem_summary *m)
{
    free(m->checks);
    m->checks = NULL;
    m->nchecks = 0;
}
