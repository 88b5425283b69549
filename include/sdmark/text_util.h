/* text_util.h — small text helpers for the analysis layer: suite lookup by name, a growable string
 * buffer, memory sizes in GiB, rates, HTML/markdown escaping, output-format names.
 * Implementation: src/analysis/text_util.c. Reads result files and suites only, never a backend. */
#ifndef SDMARK_TEXT_UTIL_H
#define SDMARK_TEXT_UTIL_H

#include <stddef.h>
#include <stdio.h>
#include "sdmark/suite.h"

/* Load a suite by name or path (sd_suite_resolve + sd_suite_load). */
int sd_suite_open(const char *name, struct sd_suite *out, char *err, size_t errlen);
/* Growable string buffer. */
struct sd_buf {
    char *s;
    size_t len, cap;
};
void sd_buf_printf(struct sd_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sd_buf_free(struct sd_buf *b);
/* Memory sizes in binary units ("46.5 GiB"): what memory tiers and cards are sold in. */
void sd_fmt_gib(double bytes, char *buf, size_t len);
/* A rate with three significant digits ("0.00813", "1.27", "12.7", "127"); "n/a" when not finite. */
void sd_fmt_sig3(double v, char *buf, size_t len);

/* Write s HTML-escaped (& < > "). */
void sd_html_esc(FILE *f, const char *s);
/* Write s for a markdown table cell ('|' escaped). */
void sd_md_cell(FILE *f, const char *s);

/* Output formats of the analysis printers (one printer per module renders each). */
enum sd_format { SD_FMT_TEXT = 1, SD_FMT_JSON = 2, SD_FMT_MD = 4, SD_FMT_HTML = 8 };
/* Parse "text" | "json" | "md" | "html" among `allowed` (a mask). -1 when not allowed. */
int sd_format_parse(const char *s, unsigned allowed, enum sd_format *out);
/* "text, json or md" for messages. */
void sd_format_list(unsigned allowed, char *buf, size_t len);

#endif
