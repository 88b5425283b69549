/* anautil.c — small helpers shared by the analysis commands: suite opening, a growable string
 * buffer, byte formatting. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdmark/analysis.h"

int sd_suite_open(const char *name, struct sd_suite *out, char *err, size_t errlen)
{
    char path[1024];
    memset(out, 0, sizeof *out);
    if (sd_suite_resolve(name, path, sizeof path, err, errlen))
        return -1;
    return sd_suite_load(path, out, err, errlen);
}

void sd_buf_printf(struct sd_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    va_list ap2;
    va_copy(ap2, ap);
    int need = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (need < 0) {
        va_end(ap2);
        return;
    }
    if (b->len + (size_t)need + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + (size_t)need + 1)
            cap *= 2;
        char *s = realloc(b->s, cap);
        if (!s) {
            va_end(ap2);
            return;
        }
        b->s = s;
        b->cap = cap;
    }
    vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap2);
    va_end(ap2);
    b->len += (size_t)need;
}

void sd_buf_free(struct sd_buf *b)
{
    free(b->s);
    b->s = NULL;
    b->len = b->cap = 0;
}

void sd_fmt_bytes(double bytes, char *buf, size_t len)
{
    if (!(bytes == bytes))
        snprintf(buf, len, "n/a");
    else if (bytes >= 1e9)
        snprintf(buf, len, "%.2f GB", bytes / 1e9);
    else if (bytes >= 1e6)
        snprintf(buf, len, "%.1f MB", bytes / 1e6);
    else if (bytes >= 1e3)
        snprintf(buf, len, "%.1f kB", bytes / 1e3);
    else
        snprintf(buf, len, "%.0f B", bytes);
}
