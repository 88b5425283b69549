/* results.c — the results file: column table, CSV and JSON writers and readers.
 *
 * One table (`columns`) defines every column: name, type and where it lives in struct sd_result.
 * The CSV header, the CSV rows, the JSON objects and both readers are generated from it, so adding
 * a column is one line here (and a schema_version bump, and a line in docs/results.md).
 * Numbers are formatted and parsed under a private "C" locale (uselocale), so the user's
 * LC_NUMERIC (decimal comma) can never change a file. NaN/Inf are written as empty fields / null.
 * Files are written to a temp file in the same directory and renamed over the target (atomic). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cJSON.h>

#include "sdmark/fault.h"
#include "sdmark/result.h"

enum col_type { T_STR, T_INT, T_U64, T_I64, T_DBL, T_OP, T_DTYPE, T_STATUS, T_BOOLSTR };

struct column {
    const char *name;
    enum col_type type;
    size_t off;
    size_t size; /* for strings: buffer size */
};

#define S(name, field) {name, T_STR, offsetof(struct sd_result, field), sizeof(((struct sd_result *)0)->field)}
#define I(name, field) {name, T_INT, offsetof(struct sd_result, field), 0}
#define U(name, field) {name, T_U64, offsetof(struct sd_result, field), 0}
#define L(name, field) {name, T_I64, offsetof(struct sd_result, field), 0}
#define D(name, field) {name, T_DBL, offsetof(struct sd_result, field), 0}

static const struct column columns[] = {
    /* provenance */
    I("schema_version", schema_version), S("sdmark_version", sdmark_version), S("git_commit", git_commit),
    S("run_id", run_id), S("timestamp_utc", timestamp_utc), S("host", host),
    /* device */
    S("backend", dev.backend), S("device_kind", device_kind), S("device_name", dev.name), S("arch", dev.arch),
    S("driver_version", dev.driver_version), S("api_version", dev.api_version),
    I("compute_units", dev.compute_units), I("threads", dev.threads), I("clock_mhz", dev.clock_mhz),
    U("mem_bytes", dev.mem_bytes), U("last_level_cache_bytes", dev.l2_bytes),
    /* workload */
    S("suite", wl.suite), {"op", T_OP, offsetof(struct sd_result, wl.op), 0}, S("impl", impl),
    S("label", wl.label), {"dtype", T_DTYPE, offsetof(struct sd_result, wl.dtype), 0},
    {"acc", T_DTYPE, offsetof(struct sd_result, wl.acc), 0}, S("layout", wl.layout),
    L("batch", wl.batch), L("m", wl.m), L("n", wl.n), L("k", wl.k), L("c_in", wl.c_in), L("c_out", wl.c_out),
    L("h", wl.h), L("w", wl.w), L("r", wl.r), L("s", wl.s), L("stride", wl.stride), L("pad", wl.pad),
    L("batch_heads", wl.batch_heads), L("seq_q", wl.seq_q), L("seq_kv", wl.seq_kv), L("head_dim", wl.head_dim),
    D("count_per_step", wl.count), D("flops", flops), D("bytes_min", bytes_min),
    /* method */
    S("timer", timer), S("cache_mode", cache_mode), D("warmup_ms", warmup_ms), I("samples", samples),
    S("stop_reason", stop_reason),
    /* results */
    D("time_ms_median", time_ms_median), D("time_ms_min", time_ms_min), D("time_ms_p10", time_ms_p10),
    D("time_ms_p90", time_ms_p90), D("rel_noise", rel_noise), D("tflops", tflops), D("gbs", gbs),
    D("pct_of_spec", pct_of_spec),
    /* environment */
    D("clock_mhz_mean", clock_mhz_mean), D("temp_c_max", temp_c_max), D("power_w_mean", power_w_mean),
    I("throttled", throttled), D("peak_mem_bytes", peak_mem_bytes),
    /* verification */
    S("verify", verify), D("max_rel_err", max_rel_err), D("tolerance", tolerance),
    {"status", T_STATUS, offsetof(struct sd_result, status), 0}, S("reason", reason),
};
#define NCOLS (sizeof columns / sizeof columns[0])

/* Columns that files of an older schema lack: a reader accepts their absence (the field stays
 * unknown). v1 had no device_kind. */
static const char *const added_after_v1[] = {"device_kind", NULL};

static int optional_column(const char *name)
{
    for (const char *const *p = added_after_v1; *p; p++)
        if (!strcmp(*p, name))
            return 1;
    return 0;
}

/* Columns renamed by a schema bump: {old name, current name}. v1/v2 called the last-level cache
 * "l2_bytes" although CPUs and some GPUs report their L3 there (v3: last_level_cache_bytes). */
static const char *const renamed[][2] = {{"l2_bytes", "last_level_cache_bytes"}};

/* The current name of a column as an older file spells it. */
static const char *current_name(const char *name)
{
    for (size_t i = 0; i < sizeof renamed / sizeof renamed[0]; i++)
        if (!strcmp(renamed[i][0], name))
            return renamed[i][1];
    return name;
}

/* The name column i has in a file of an older schema, or NULL when it never had another. */
static const char *old_name(size_t i)
{
    for (size_t k = 0; k < sizeof renamed / sizeof renamed[0]; k++)
        if (!strcmp(renamed[k][1], columns[i].name))
            return renamed[k][0];
    return NULL;
}

void sd_result_init(struct sd_result *r)
{
    memset(r, 0, sizeof *r);
    r->schema_version = SD_SCHEMA_VERSION;
    for (size_t i = 0; i < NCOLS; i++)
        if (columns[i].type == T_DBL)
            *(double *)((char *)r + columns[i].off) = NAN;
    r->throttled = -1;
    r->status = SD_ERROR;
    snprintf(r->verify, sizeof r->verify, "none");
}

const char *sd_csv_header(void)
{
    static char hdr[2048];
    if (!hdr[0]) {
        size_t pos = 0;
        for (size_t i = 0; i < NCOLS; i++)
            pos += (size_t)snprintf(hdr + pos, sizeof hdr - pos, "%s%s", i ? "," : "", columns[i].name);
    }
    return hdr;
}

/* Format column i of r into buf, locale-independently (caller holds the C locale). Returns 0 when the
 * value is unknown (empty field / JSON null). */
static int format_value(const struct sd_result *r, size_t i, char *buf, size_t len)
{
    const struct column *c = &columns[i];
    const char *p = (const char *)r + c->off;
    switch (c->type) {
    case T_STR:
        snprintf(buf, len, "%s", p);
        return 1;
    case T_INT:
        snprintf(buf, len, "%d", *(const int *)p);
        return 1;
    case T_U64:
        snprintf(buf, len, "%llu", (unsigned long long)*(const uint64_t *)p);
        return 1;
    case T_I64:
        snprintf(buf, len, "%lld", (long long)*(const int64_t *)p);
        return 1;
    case T_DBL: {
        double d = *(const double *)p;
        if (!isfinite(d)) {
            buf[0] = 0;
            return 0;
        }
        /* Whole numbers (byte counts, FLOPs) exactly; fractions to 9 significant digits. */
        if (d == floor(d) && fabs(d) < 9007199254740992.0)
            snprintf(buf, len, "%.0f", d);
        else
            snprintf(buf, len, "%.9g", d);
        return 1;
    }
    case T_OP:
        snprintf(buf, len, "%s", sd_op_name(*(const enum sd_op *)p));
        return 1;
    case T_DTYPE:
        snprintf(buf, len, "%s", sd_dtype_name(*(const enum sd_dtype *)p));
        return 1;
    case T_STATUS:
        snprintf(buf, len, "%s", sd_status_name(*(const enum sd_status *)p));
        return 1;
    default:
        buf[0] = 0;
        return 0;
    }
}

static void csv_field(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\n\r")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s == '\n' || *s == '\r' ? ' ' : *s, f);
    }
    fputc('"', f);
}

static int write_csv(FILE *f, const struct sd_result *rows, size_t n)
{
    fprintf(f, "%s\n", sd_csv_header());
    char buf[512];
    for (size_t r = 0; r < n; r++) {
        for (size_t i = 0; i < NCOLS; i++) {
            if (i)
                fputc(',', f);
            format_value(&rows[r], i, buf, sizeof buf);
            csv_field(f, buf);
        }
        fputc('\n', f);
    }
    return ferror(f) ? -1 : 0;
}

/* Returns NULL when any member could not be added (out of memory): the caller must not write a
 * file that silently lacks a column. */
static cJSON *row_to_json(const struct sd_result *r)
{
    cJSON *o = cJSON_CreateObject();
    char buf[512];
    for (size_t i = 0; o && i < NCOLS; i++) {
        const struct column *c = &columns[i];
        int known = format_value(r, i, buf, sizeof buf);
        cJSON *item;
        if (c->type == T_STR || c->type == T_OP || c->type == T_DTYPE || c->type == T_STATUS)
            item = cJSON_CreateString(buf);
        else if (!known)
            item = cJSON_CreateNull();
        else if (c->type == T_DBL)
            item = cJSON_CreateNumber(*(const double *)((const char *)r + c->off));
        else if (fabs(strtod(buf, NULL)) >= 9007199254740992.0) /* >= 2^53: readers (cJSON too) parse */
            item = cJSON_CreateString(buf);                      /* numbers as doubles: keep as text */
        else /* integers: written exactly as a raw text number to keep 64-bit precision */
            item = cJSON_CreateRaw(buf);
        if (!item || !cJSON_AddItemToObject(o, c->name, item)) {
            cJSON_Delete(item);
            cJSON_Delete(o);
            return NULL;
        }
    }
    return o;
}

static int write_json(FILE *f, const struct sd_result *rows, size_t n)
{
    cJSON *root = cJSON_CreateObject();
    if (!root)
        return -1;
    cJSON *arr = NULL;
    if (!cJSON_AddNumberToObject(root, "schema_version", SD_SCHEMA_VERSION) ||
        !(arr = cJSON_AddArrayToObject(root, "rows"))) {
        cJSON_Delete(root);
        return -1;
    }
    for (size_t r = 0; r < n; r++) {
        cJSON *o = row_to_json(&rows[r]);
        if (!o || !cJSON_AddItemToArray(arr, o)) {
            cJSON_Delete(o);
            cJSON_Delete(root);
            return -1; /* never a file that silently lacks rows */
        }
    }
    char *s = cJSON_Print(root);
    cJSON_Delete(root);
    if (!s)
        return -1;
    fputs(s, f);
    fputc('\n', f);
    free(s);
    return ferror(f) ? -1 : 0;
}

int sd_results_write(const char *path, const char *format, const struct sd_result *rows, size_t n, char *err,
                     size_t errlen)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.XXXXXX", path) >= (int)sizeof tmp) {
        snprintf(err, errlen, "%s: path too long", path);
        return -1;
    }
    int fd = sd_fault_hit(SD_FAULT_WRITE) ? (errno = EACCES, -1) : mkstemp(tmp);
    if (fd < 0) {
        snprintf(err, errlen, "%s: cannot write results (temp file): %s", path, strerror(errno));
        return -1;
    }
    fchmod(fd, 0644);
    FILE *f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        unlink(tmp);
        snprintf(err, errlen, "%s: cannot write results: %s", path, strerror(errno));
        return -1;
    }
    locale_t cloc = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    locale_t old = cloc ? uselocale(cloc) : (locale_t)0;
    int rc = !strcmp(format, "json") ? write_json(f, rows, n) : write_csv(f, rows, n);
    if (cloc) {
        uselocale(old);
        freelocale(cloc);
    }
    if (fflush(f) != 0 || fsync(fileno(f)) != 0)
        rc = -1;
    int saved = errno;
    if (fclose(f) != 0)
        rc = -1;
    if (rc == 0 && rename(tmp, path) != 0) {
        saved = errno;
        rc = -1;
    }
    if (rc) {
        unlink(tmp);
        snprintf(err, errlen, "%s: cannot write results: %s", path, strerror(saved ? saved : EIO));
        return -1;
    }
    return 0;
}

void sd_result_key(const struct sd_result *r, char *buf, size_t len)
{
    char shape[160];
    sd_workload_shape_str(&r->wl, shape, sizeof shape);
    snprintf(buf, len, "%s|%s|%s|%s|%s|%s|%s", r->wl.suite, sd_op_name(r->wl.op), r->impl, r->wl.label,
             sd_dtype_name(r->wl.dtype), sd_dtype_name(r->wl.acc), shape);
}

/* ---------------------------------------------------------------- readers */

/* Parse a text value into column i of r. Returns 0, or -1 with a message (no file:line prefix). */
static int parse_value(struct sd_result *r, size_t i, const char *v, char *msg, size_t mlen)
{
    const struct column *c = &columns[i];
    char *p = (char *)r + c->off;
    char *end;
    errno = 0;
    switch (c->type) {
    case T_STR:
        if (strlen(v) >= c->size) {
            snprintf(msg, mlen, "column '%s': value too long (%zu chars, max %zu)", c->name, strlen(v), c->size - 1);
            return -1;
        }
        memcpy(p, v, strlen(v) + 1);
        return 0;
    case T_INT: {
        if (!*v) {
            *(int *)p = c->off == offsetof(struct sd_result, throttled) ? -1 : 0;
            return 0;
        }
        long x = strtol(v, &end, 10);
        if (*end || errno || x < -2147483647L || x > 2147483647L)
            goto bad;
        *(int *)p = (int)x;
        return 0;
    }
    case T_U64: {
        if (!*v) {
            *(uint64_t *)p = 0;
            return 0;
        }
        if (*v == '-')
            goto bad;
        unsigned long long x = strtoull(v, &end, 10);
        if (*end || errno)
            goto bad;
        *(uint64_t *)p = x;
        return 0;
    }
    case T_I64: {
        if (!*v) {
            *(int64_t *)p = 0;
            return 0;
        }
        long long x = strtoll(v, &end, 10);
        if (*end || errno)
            goto bad;
        *(int64_t *)p = x;
        return 0;
    }
    case T_DBL: {
        if (!*v) {
            *(double *)p = NAN;
            return 0;
        }
        double x = strtod(v, &end);
        if (*end)
            goto bad;
        if (!isfinite(x)) {
            snprintf(msg, mlen, "column '%s': non-finite value '%.32s' (unknown numbers must be empty)", c->name, v);
            return -1;
        }
        *(double *)p = x;
        return 0;
    }
    case T_OP:
        if (sd_op_parse(v, (enum sd_op *)p))
            goto bad;
        return 0;
    case T_DTYPE:
        if (sd_dtype_parse(v, (enum sd_dtype *)p))
            goto bad;
        return 0;
    case T_STATUS:
        if (sd_status_parse(v, (enum sd_status *)p))
            goto bad;
        return 0;
    default:
        return 0;
    }
bad:
    snprintf(msg, mlen, "column '%s': invalid value '%.40s'", c->name, v);
    return -1;
}

/* Split one CSV record (RFC 4180 quoting) starting at *pos. Fields point into `out` storage.
 * Returns number of fields, or -1 on malformed quoting. Advances *pos past the record and counts
 * physical lines in *lines. */
static int csv_record(const char *text, size_t len, size_t *pos, char *out, size_t outcap, char **fields,
                      int maxf, int *lines)
{
    size_t i = *pos, o = 0;
    int nf = 0;
    if (maxf < 1 || outcap < 1)
        return -1;
    fields[nf++] = out;
    int quoted = 0;
    for (;;) {
        if (i >= len) {
            if (quoted)
                return -1;
            break;
        }
        char ch = text[i++];
        if (quoted) {
            if (ch == '"') {
                if (i < len && text[i] == '"') {
                    ch = '"';
                    i++;
                } else {
                    quoted = 0;
                    continue;
                }
            } else if (ch == '\n')
                (*lines)++;
        } else if (ch == '"') {
            quoted = 1;
            continue;
        } else if (ch == ',') {
            if (o + 1 >= outcap || nf >= maxf)
                return -1;
            out[o++] = 0;
            fields[nf++] = out + o;
            continue;
        } else if (ch == '\n') {
            break;
        } else if (ch == '\r') {
            continue;
        }
        if (o + 1 >= outcap)
            return -1;
        out[o++] = ch;
    }
    out[o] = 0;
    (*lines)++;
    *pos = i;
    return nf;
}

static int read_all(const char *path, char **buf, size_t *len, char *err, size_t errlen)
{
    /* O_NONBLOCK: opening a FIFO without a writer must not hang (it is rejected just below) */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    FILE *f = fd >= 0 ? fdopen(fd, "rb") : NULL;
    if (!f) {
        snprintf(err, errlen, "%s: cannot open results file: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    struct stat st;
    if (fstat(fileno(f), &st) || !S_ISREG(st.st_mode)) {
        fclose(f);
        snprintf(err, errlen, "%s: not a regular file", path);
        return -1;
    }
    if (st.st_size > (off_t)1 << 30) {
        fclose(f);
        snprintf(err, errlen, "%s: file too large for a results file (> 1 GiB)", path);
        return -1;
    }
    *buf = malloc((size_t)st.st_size + 1);
    if (!*buf) {
        fclose(f);
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    *len = fread(*buf, 1, (size_t)st.st_size, f);
    (*buf)[*len] = 0;
    int e = ferror(f);
    fclose(f);
    if (e) {
        free(*buf);
        snprintf(err, errlen, "%s: read error", path);
        return -1;
    }
    return 0;
}

static int push_row(struct sd_result **rows, size_t *n, size_t *cap, const struct sd_result *r)
{
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 64;
        struct sd_result *p = realloc(*rows, nc * sizeof *p);
        if (!p)
            return -1;
        *rows = p;
        *cap = nc;
    }
    (*rows)[(*n)++] = *r;
    return 0;
}

/* Rebuild the workload-derived fields a row needs (file/line are not stored). */
static void finish_row(struct sd_result *r)
{
    r->wl.file = NULL;
    r->wl.line = 0;
    /* dev.kind mirrors the column; a v1 row (no column) keeps OTHER and an empty device_kind. */
    r->dev.kind = !strcmp(r->device_kind, "cpu") ? SD_DEVICE_CPU : !strcmp(r->device_kind, "gpu") ? SD_DEVICE_GPU
                                                                                                : SD_DEVICE_OTHER;
}

/* The CSV header: schema_version first, every column this schema needs (older schemas may lack the
 * optional ones); map[f] = our column index of file column f, or -1 for a column we do not know. */
static int map_header(const char *path, char *const *fields, int nhdr, int *map, char *err, size_t errlen)
{
    if (strcmp(fields[0], "schema_version") != 0) {
        snprintf(err, errlen, "%s:1: not a sdmark results file (first column is '%.40s', expected 'schema_version')",
                 path, fields[0]);
        return -1;
    }
    int present[NCOLS];
    memset(present, 0, sizeof present);
    for (int f = 0; f < nhdr; f++) {
        map[f] = -1;
        for (size_t i = 0; i < NCOLS; i++)
            if (!strcmp(current_name(fields[f]), columns[i].name)) {
                map[f] = (int)i;
                present[i] = 1;
            }
    }
    for (size_t i = 0; i < NCOLS; i++)
        if (!present[i] && !optional_column(columns[i].name)) {
            snprintf(err, errlen, "%s:1: missing column '%s' (schema_version %d needs it)", path, columns[i].name,
                     SD_SCHEMA_VERSION);
            return -1;
        }
    return 0;
}

static int read_csv(const char *path, const char *text, size_t len, struct sd_result **rows, size_t *n,
                    char *err, size_t errlen)
{
    size_t pos = 0, cap = 0;
    int line = 0;
    if (len >= 3 && (unsigned char)text[0] == 0xEF && (unsigned char)text[1] == 0xBB && (unsigned char)text[2] == 0xBF)
        pos = 3;
    if (memchr(text, 0, len)) {
        snprintf(err, errlen, "%s: binary data (NUL byte): not a CSV results file", path);
        return -1;
    }
    enum { MAXF = 256 };
    char *fields[MAXF];
    size_t cap_rec = len + 2;
    char *rec = malloc(cap_rec);
    int map[MAXF]; /* file column -> our column index, or -1 */
    int nhdr = 0;
    if (!rec) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    int start_line = line + 1;
    nhdr = csv_record(text, len, &pos, rec, cap_rec, fields, MAXF, &line);
    if (nhdr < 0) { /* was reported as "empty file" */
        snprintf(err, errlen, "%s:1: malformed CSV header (unbalanced quotes or too many fields)", path);
        goto fail;
    }
    if (nhdr == 0 || (nhdr == 1 && !fields[0][0])) {
        snprintf(err, errlen, "%s: empty file: not a sdmark results file", path);
        goto fail;
    }
    if (map_header(path, fields, nhdr, map, err, errlen))
        goto fail;
    while (pos < len) {
        start_line = line + 1;
        int nf = csv_record(text, len, &pos, rec, cap_rec, fields, MAXF, &line);
        if (nf < 0) {
            snprintf(err, errlen, "%s:%d: malformed CSV record (unbalanced quotes or too many fields)", path,
                     start_line);
            goto fail;
        }
        if (nf == 1 && !fields[0][0])
            continue; /* blank line */
        if (nf != nhdr) {
            snprintf(err, errlen, "%s:%d: %d fields, header has %d", path, start_line, nf, nhdr);
            goto fail;
        }
        struct sd_result r;
        sd_result_init(&r);
        char msg[200];
        for (int f = 0; f < nf; f++) {
            if (map[f] < 0)
                continue;
            if (parse_value(&r, (size_t)map[f], fields[f], msg, sizeof msg)) {
                snprintf(err, errlen, "%s:%d: %s", path, start_line, msg);
                goto fail;
            }
        }
        if (r.schema_version > SD_SCHEMA_VERSION || r.schema_version < 1) {
            snprintf(err, errlen,
                     "%s:%d: schema_version %d is not known to this sdmark (knows 1..%d); upgrade sdmark to read it",
                     path, start_line, r.schema_version, SD_SCHEMA_VERSION);
            goto fail;
        }
        finish_row(&r);
        if (push_row(rows, n, &cap, &r)) {
            snprintf(err, errlen, "%s: out of memory", path);
            goto fail;
        }
    }
    free(rec);
    return 0;
fail:
    free(rec);
    free(*rows);
    *rows = NULL;
    *n = 0;
    return -1;
}

static int read_json(const char *path, const char *text, size_t len, struct sd_result **rows, size_t *n, char *err,
                     size_t errlen)
{
    cJSON *root = cJSON_ParseWithLength(text, len);
    size_t cap = 0;
    if (!root) {
        snprintf(err, errlen, "%s: not valid JSON", path);
        return -1;
    }
    cJSON *ver = cJSON_GetObjectItemCaseSensitive(root, "schema_version");
    cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, "rows");
    if (!cJSON_IsNumber(ver) || !cJSON_IsArray(arr)) {
        snprintf(err, errlen, "%s: not a sdmark results file (needs schema_version and rows)", path);
        goto fail;
    }
    if (ver->valuedouble > SD_SCHEMA_VERSION || ver->valuedouble < 1) {
        snprintf(err, errlen, "%s: schema_version %g is not known to this sdmark (knows 1..%d)", path, ver->valuedouble,
                 SD_SCHEMA_VERSION);
        goto fail;
    }
    int idx = 0;
    cJSON *o;
    cJSON_ArrayForEach(o, arr)
    {
        struct sd_result r;
        sd_result_init(&r);
        char msg[200], vbuf[512];
        for (size_t i = 0; i < NCOLS; i++) {
            cJSON *it = cJSON_GetObjectItemCaseSensitive(o, columns[i].name);
            if (!it && old_name(i))
                it = cJSON_GetObjectItemCaseSensitive(o, old_name(i));
            if (!it && optional_column(columns[i].name))
                continue;
            if (!it) {
                snprintf(err, errlen, "%s: row %d: missing key '%s'", path, idx, columns[i].name);
                goto fail;
            }
            const char *v;
            if (cJSON_IsNull(it))
                v = "";
            else if (cJSON_IsString(it))
                v = it->valuestring;
            else if (cJSON_IsNumber(it)) {
                if (columns[i].type == T_DBL)
                    snprintf(vbuf, sizeof vbuf, "%.17g", it->valuedouble);
                else
                    snprintf(vbuf, sizeof vbuf, "%.0f", it->valuedouble);
                v = vbuf;
            } else {
                snprintf(err, errlen, "%s: row %d: key '%s' has the wrong type", path, idx, columns[i].name);
                goto fail;
            }
            if (parse_value(&r, i, v, msg, sizeof msg)) {
                snprintf(err, errlen, "%s: row %d: %s", path, idx, msg);
                goto fail;
            }
        }
        if (r.schema_version > SD_SCHEMA_VERSION || r.schema_version < 1) { /* as the CSV reader */
            snprintf(err, errlen, "%s: row %d: schema_version %d is not known to this sdmark (knows 1..%d)", path,
                     idx, r.schema_version, SD_SCHEMA_VERSION);
            goto fail;
        }
        finish_row(&r);
        if (push_row(rows, n, &cap, &r)) {
            snprintf(err, errlen, "%s: out of memory", path);
            goto fail;
        }
        idx++;
    }
    cJSON_Delete(root);
    return 0;
fail:
    cJSON_Delete(root);
    free(*rows);
    *rows = NULL;
    *n = 0;
    return -1;
}

int sd_results_read(const char *path, struct sd_result **rows, size_t *n, char *err, size_t errlen)
{
    *rows = NULL;
    *n = 0;
    char *text;
    size_t len;
    if (read_all(path, &text, &len, err, errlen))
        return -1;
    locale_t cloc = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    locale_t old = cloc ? uselocale(cloc) : (locale_t)0;
    size_t pl = strlen(path);
    int rc = (pl > 5 && !strcasecmp(path + pl - 5, ".json")) ? read_json(path, text, len, rows, n, err, errlen)
                                                         : read_csv(path, text, len, rows, n, err, errlen);
    if (cloc) {
        uselocale(old);
        freelocale(cloc);
    }
    free(text);
    for (char *p = err; rc && *p; p++) /* messages quote file bytes: keep them one printable line */
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
    return rc;
}
