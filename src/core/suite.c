/* suite.c — parser for bench/NAME.suite files (format in docs/suites.md and suite.h).
 * Every error is one line "file:line: message". */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sdmark/bench_dir.h"
#include "sdmark/suite.h"

#define SD_SUITE_MAX_FILE (64u << 20)   /* a suite is a few KB; refuse absurd files */
#define SD_SUITE_MAX_LINE 4096

/* The integer keys a suite line may set, by CSV column name. */
struct int_key {
    const char *name;
    size_t off;
};
#define K(f) {#f, offsetof(struct sd_workload, f)}
static const struct int_key int_keys[] = {
    K(batch), K(m), K(n), K(k), K(c_in), K(c_out), K(h), K(w), K(r), K(s), K(stride), K(pad),
    K(batch_heads), K(seq_q), K(seq_kv), K(head_dim),
};
#undef K

/* Parse a decimal int64 strictly: digits only (optional sign), no overflow. */
static int parse_i64(const char *s, int64_t *out)
{
    if (!*s)
        return -1;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (errno == ERANGE || *end)
        return -1;
    *out = v;
    return 0;
}

static void set_err(char *err, size_t errlen, const char *path, int line, const char *fmt, const char *a,
                    const char *b)
{
    char msg[512];
    snprintf(msg, sizeof msg, fmt, a ? a : "", b ? b : "");
    if (line > 0)
        snprintf(err, errlen, "%s:%d: %s", path, line, msg);
    else
        snprintf(err, errlen, "%s: %s", path, msg);
}

/* Truncate a token for messages (a 10 MB token must not become a 10 MB error line). */
static const char *clip(const char *s, char *buf, size_t len)
{
    size_t n = strlen(s);
    if (n < len) {
        memcpy(buf, s, n + 1);
    } else {
        memcpy(buf, s, len - 4);
        strcpy(buf + len - 4, "...");
    }
    for (char *p = buf; *p; p++)
        if (!isprint((unsigned char)*p))
            *p = '?';
    return buf;
}

static int push(struct sd_suite *s, size_t *cap, const struct sd_workload *wl)
{
    if (s->n == *cap) {
        size_t nc = *cap ? *cap * 2 : 64;
        struct sd_workload *p = realloc(s->items, nc * sizeof *p);
        if (!p)
            return -1;
        s->items = p;
        *cap = nc;
    }
    s->items[s->n++] = *wl;
    return 0;
}

/* Where a line's errors go: every message is "file:line: ...". */
struct line_ctx {
    const char *path;
    int lineno;
    char *err;
    size_t errlen;
};

static int line_err(const struct line_ctx *L, const char *fmt, const char *a, const char *b)
{
    set_err(L->err, L->errlen, L->path, L->lineno, fmt, a, b);
    return -1;
}

/* op, label and count: the three leading fields. The label must be new in this suite. */
static int parse_head(const struct sd_suite *s, const struct line_ctx *L, char **save, char *line,
                      struct sd_workload *wl)
{
    char tok_buf[80];
    char *op_s = strtok_r(line, " \t", save);
    char *label = strtok_r(NULL, " \t", save);
    char *count_s = strtok_r(NULL, " \t", save);
    if (!op_s || !label || !count_s)
        return line_err(L, "expected 'op label count key=value...'%s%s", NULL, NULL);
    enum sd_op op;
    if (sd_op_parse(op_s, &op))
        return line_err(L, "unknown op '%s' (expected gemm, conv2d or attention)%s",
                        clip(op_s, tok_buf, sizeof tok_buf), NULL);
    if (strlen(label) >= SD_NAME_LEN || strchr(label, '=') || strchr(label, ',') || strchr(label, '"'))
        return line_err(L, "invalid label '%s' (max 63 chars, no '=', ',' or quotes)%s",
                        clip(label, tok_buf, sizeof tok_buf), NULL);
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->items[i].label, label) == 0) {
            char prev[32];
            snprintf(prev, sizeof prev, "%d", s->items[i].line);
            return line_err(L, "duplicate label '%s' (first defined on line %s)", label, prev);
        }
    sd_workload_init(wl, op);
    snprintf(wl->suite, sizeof wl->suite, "%s", s->name);
    snprintf(wl->label, sizeof wl->label, "%s", label);
    wl->file = s->path;
    wl->line = L->lineno;
    char *end;
    errno = 0;
    wl->count = strtod(count_s, &end);
    if (*end || errno == ERANGE || !(wl->count >= 0) || wl->count > 1e9)
        return line_err(L, "invalid count '%s' (a number >= 0)%s", clip(count_s, tok_buf, sizeof tok_buf), NULL);
    return 0;
}

/* dtype=fp16,fp32: each listed dtype becomes one row of the same shape. */
static int parse_dtypes(const struct line_ctx *L, const char *val, enum sd_dtype *dtypes, int *ndtypes)
{
    char tok_buf[80], vbuf[128];
    *ndtypes = 0;
    if (strlen(val) >= sizeof vbuf) /* would be silently truncated */
        return line_err(L, "unknown dtype '%s' (expected fp32, tf32, fp16, bf16)%s",
                        clip(val, tok_buf, sizeof tok_buf), NULL);
    snprintf(vbuf, sizeof vbuf, "%s", val);
    char *s2 = NULL;
    for (char *d = strtok_r(vbuf, ",", &s2); d; d = strtok_r(NULL, ",", &s2)) {
        enum sd_dtype t;
        if (sd_dtype_parse(d, &t) || *ndtypes == SD_DTYPE_COUNT)
            return line_err(L, "unknown dtype '%s' (expected fp32, tf32, fp16, bf16)%s",
                            clip(d, tok_buf, sizeof tok_buf), NULL);
        for (int j = 0; j < *ndtypes; j++)
            if (dtypes[j] == t) /* would be two rows with the same label and dtype */
                return line_err(L, "dtype '%s' listed twice%s", d, NULL);
        dtypes[(*ndtypes)++] = t;
    }
    if (!*ndtypes)
        return line_err(L, "empty dtype list%s%s", NULL, NULL);
    return 0;
}

/* One integer shape key (a CSV column name). `seen` has a bit per int_keys[] entry. */
static int parse_int_key(const struct line_ctx *L, const char *key, const char *val, unsigned *seen,
                         struct sd_workload *wl)
{
    char tok_buf[80], tok_buf2[80];
    size_t i;
    for (i = 0; i < sizeof int_keys / sizeof int_keys[0]; i++)
        if (!strcmp(key, int_keys[i].name))
            break;
    if (i == sizeof int_keys / sizeof int_keys[0])
        return line_err(L, "unknown key '%s'%s", clip(key, tok_buf, sizeof tok_buf), NULL);
    if (*seen & (1u << i))
        return line_err(L, "key '%s' given twice%s", key, NULL);
    *seen |= 1u << i;
    int64_t v;
    if (parse_i64(val, &v))
        return line_err(L, "invalid value '%s' for %s (an integer)", clip(val, tok_buf2, sizeof tok_buf2), key);
    *(int64_t *)((char *)wl + int_keys[i].off) = v;
    return 0;
}

/* One key=value token: dtype, acc, layout or an integer shape key. */
static int parse_kv(const struct line_ctx *L, char *kv, unsigned *seen, struct sd_workload *wl,
                    enum sd_dtype *dtypes, int *ndtypes)
{
    char tok_buf[80];
    char *eq = strchr(kv, '=');
    if (!eq || eq == kv)
        return line_err(L, "expected key=value, got '%s'%s", clip(kv, tok_buf, sizeof tok_buf), NULL);
    *eq = 0;
    const char *key = kv, *val = eq + 1;
    /* dtype, acc and layout take bits 16..18 of `seen` (after the int keys) */
    int sk = !strcmp(key, "dtype") ? 16 : !strcmp(key, "acc") ? 17 : !strcmp(key, "layout") ? 18 : -1;
    if (sk < 0)
        return parse_int_key(L, key, val, seen, wl);
    if (*seen & (1u << sk))
        return line_err(L, "key '%s' given twice%s", key, NULL);
    *seen |= 1u << sk;
    if (sk == 16)
        return parse_dtypes(L, val, dtypes, ndtypes);
    if (sk == 17) {
        if (sd_dtype_parse(val, &wl->acc) || (wl->acc != SD_FP32 && wl->acc != SD_FP16))
            return line_err(L, "invalid acc '%s' (expected fp32 or fp16)%s", clip(val, tok_buf, sizeof tok_buf), NULL);
        return 0;
    }
    if (strlen(val) >= sizeof wl->layout)
        return line_err(L, "invalid layout '%s'%s", clip(val, tok_buf, sizeof tok_buf), NULL);
    snprintf(wl->layout, sizeof wl->layout, "%s", val);
    return 0;
}

/* Parse one non-empty line (already stripped of comment / CR): one row per listed dtype. */
static int parse_line(struct sd_suite *s, size_t *cap, const char *path, int lineno, char *line, char *err,
                      size_t errlen)
{
    const struct line_ctx L = {path, lineno, err, errlen};
    char *save = NULL;
    struct sd_workload wl;
    if (parse_head(s, &L, &save, line, &wl))
        return -1;
    enum sd_dtype dtypes[SD_DTYPE_COUNT] = {SD_FP32};
    int ndtypes = 1;
    unsigned seen = 0;
    for (char *kv; (kv = strtok_r(NULL, " \t", &save));)
        if (parse_kv(&L, kv, &seen, &wl, dtypes, &ndtypes))
            return -1;
    char verr[400];
    if (sd_workload_validate(&wl, verr, sizeof verr))
        return line_err(&L, "%s%s", verr, NULL);
    for (int d = 0; d < ndtypes; d++) {
        wl.dtype = dtypes[d];
        if (push(s, cap, &wl))
            return line_err(&L, "out of memory%s%s", NULL, NULL);
    }
    return 0;
}

int sd_suite_parse(const char *name, const char *path, const char *text, size_t len, struct sd_suite *out,
                   char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    snprintf(out->name, sizeof out->name, "%s", name);
    out->path = strdup(path);
    if (!out->path) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    size_t cap = 0, pos = 0;
    int lineno = 0;
    /* A UTF-8 BOM at the start is accepted and skipped. */
    if (len >= 3 && (unsigned char)text[0] == 0xEF && (unsigned char)text[1] == 0xBB &&
        (unsigned char)text[2] == 0xBF)
        pos = 3;
    char *line = malloc(SD_SUITE_MAX_LINE + 1);
    if (!line) {
        snprintf(err, errlen, "%s: out of memory", path);
        sd_suite_free(out);
        return -1;
    }
    while (pos < len) {
        lineno++;
        size_t start = pos;
        while (pos < len && text[pos] != '\n')
            pos++;
        size_t n = pos - start;
        if (pos < len)
            pos++; /* skip '\n' */
        if (memchr(text + start, '\0', n)) {
            set_err(err, errlen, path, lineno, "binary data (NUL byte) in a text suite file%s%s", NULL, NULL);
            goto fail;
        }
        if (n > SD_SUITE_MAX_LINE) {
            char b[32];
            snprintf(b, sizeof b, "%zu", n);
            set_err(err, errlen, path, lineno, "line too long (%s bytes, max 4096)%s", b, NULL);
            goto fail;
        }
        memcpy(line, text + start, n);
        line[n] = 0;
        if (n && line[n - 1] == '\r') /* CRLF files are fine */
            line[--n] = 0;
        char *hash = strchr(line, '#');
        if (hash)
            *hash = 0;
        char *p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p)
            continue;
        for (char *q = p; *q; q++)
            if ((unsigned char)*q < 0x20 && *q != '\t') {
                set_err(err, errlen, path, lineno, "control character in line (not a text suite file?)%s%s",
                        NULL, NULL);
                goto fail;
            }
        if (parse_line(out, &cap, path, lineno, p, err, errlen))
            goto fail;
    }
    free(line);
    if (out->n == 0) {
        set_err(err, errlen, path, 0, "no workloads (empty suite file)%s%s", NULL, NULL);
        sd_suite_free(out);
        return -1;
    }
    return 0;
fail:
    free(line);
    sd_suite_free(out);
    return -1;
}

int sd_suite_load(const char *path, struct sd_suite *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open suite file: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        fclose(f);
        snprintf(err, errlen, "%s: is a directory, not a suite file", path);
        return -1;
    }
    size_t cap = 65536, len = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (len < cap)
            break;
        if (cap >= SD_SUITE_MAX_FILE) {
            free(buf);
            fclose(f);
            snprintf(err, errlen, "%s: file too large for a suite (> 64 MiB)", path);
            return -1;
        }
        char *nb = realloc(buf, cap * 2);
        if (!nb) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = nb;
        cap *= 2;
    }
    int rerr = ferror(f);
    fclose(f);
    if (!buf || rerr) {
        free(buf);
        snprintf(err, errlen, "%s: cannot read suite file", path);
        return -1;
    }
    /* Suite name = file stem. */
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    char name[SD_NAME_LEN];
    snprintf(name, sizeof name, "%s", base);
    char *dot = strrchr(name, '.');
    if (dot && dot != name)
        *dot = 0;
    int rc = sd_suite_parse(name, path, buf, len, out, err, errlen);
    free(buf);
    return rc;
}

void sd_suite_free(struct sd_suite *s)
{
    free(s->items);
    free(s->path);
    s->items = NULL;
    s->path = NULL;
    s->n = 0;
}

static int file_exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

int sd_suite_resolve(const char *name, char *path, size_t len, char *err, size_t errlen)
{
    if (strchr(name, '/') || (strlen(name) > 6 && !strcmp(name + strlen(name) - 6, ".suite"))) {
        snprintf(path, len, "%s", name);
        if (file_exists(path))
            return 0;
        snprintf(err, errlen, "%s: suite file not found", name);
        return -1;
    }
    char file[SD_NAME_LEN + 8];
    snprintf(file, sizeof file, "%s.suite", name);
    if (sd_bench_path(file, path, len) == 0)
        return 0;
    snprintf(err, errlen, "unknown suite '%s' (no %s in %s; give a path or set SDMARK_BENCH_DIR)", name, file,
             sd_bench_search_text());
    return -1;
}

double sd_suite_flops_per_call(const struct sd_suite *s)
{
    double total = 0;
    for (size_t i = 0; i < s->n; i++) {
        int dup = 0;
        for (size_t j = 0; j < i && !dup; j++)
            dup = !strcmp(s->items[j].label, s->items[i].label);
        if (!dup)
            total += s->items[i].count * sd_workload_flops(&s->items[i]);
    }
    return total;
}
