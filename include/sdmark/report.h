/* report.h — self-contained HTML and markdown reports of a result set.
 * Implementation: src/analysis/report.c. Reads result files and suites only, never a backend. */
#ifndef SDMARK_REPORT_H
#define SDMARK_REPORT_H

#include <stdio.h>
#include "sdmark/cards.h"
#include "sdmark/result_set.h"

int sd_report_html(FILE *f, const struct sd_rset *s, const struct sd_cards *cards, char *err, size_t errlen);
int sd_report_md(FILE *f, const struct sd_rset *s, const struct sd_cards *cards, char *err, size_t errlen);

#endif
