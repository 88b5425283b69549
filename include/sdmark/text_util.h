/* text_util.h — small text helpers for the analysis layer: suite lookup by name, a growable string buffer, byte formatting.
 * Implementation: src/analysis/text_util.c. Reads result files and suites only, never a backend. */
#ifndef SDMARK_TEXT_UTIL_H
#define SDMARK_TEXT_UTIL_H

#include <stddef.h>
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
/* Human-readable bytes ("1.72 GB", decimal). */
void sd_fmt_bytes(double bytes, char *buf, size_t len);

#endif
