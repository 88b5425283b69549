/* text_util.c — small helpers shared by the analysis modules: suite opening, a growable string
 * buffer, byte and rate formatting, output-format names. */
#define _GNU_SOURCE
#include <math.h>
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

void sd_fmt_gib(double bytes, char *buf, size_t len)
{
    const double gib = 1073741824.0;
    if (!(bytes == bytes))
        snprintf(buf, len, "n/a");
    else if (bytes >= gib)
        snprintf(buf, len, "%.2f GiB", bytes / gib);
    else if (bytes >= gib / 1024)
        snprintf(buf, len, "%.1f MiB", bytes / (gib / 1024));
    else
        snprintf(buf, len, "%.1f KiB", bytes / 1024);
}

void sd_fmt_sig3(double v, char *buf, size_t len)
{
    if (!isfinite(v))
        snprintf(buf, len, "n/a");
    else if (fabs(v) >= 100)
        snprintf(buf, len, "%.0f", v);
    else
        snprintf(buf, len, "%#.3g", v);
}

static const char *const fmt_names[] = {"text", "json", "md", "html"};

int sd_format_parse(const char *s, unsigned allowed, enum sd_format *out)
{
    for (unsigned i = 0; i < 4; i++)
        if ((allowed & (1u << i)) && !strcmp(s, fmt_names[i])) {
            *out = (enum sd_format)(1u << i);
            return 0;
        }
    return -1;
}

void sd_format_list(unsigned allowed, char *buf, size_t len)
{
    size_t o = 0;
    unsigned n = 0, total = 0;
    for (unsigned i = 0; i < 4; i++)
        total += (allowed >> i) & 1;
    buf[0] = 0;
    for (unsigned i = 0; i < 4 && o < len; i++)
        if (allowed & (1u << i)) {
            n++;
            o += (size_t)snprintf(buf + o, len - o, "%s%s", n == 1 ? "" : n == total ? " or " : ", ", fmt_names[i]);
        }
}

void sd_html_esc(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        default: fputc(*s, f);
        }
    }
}

void sd_md_cell(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '|')
            fputc('\\', f);
        fputc(*s, f);
    }
}
