/* cards.c — bench/cards.csv: the spec sheet of the cards sdmark projects onto and compares with.
 * Comment lines start with '#'; the first other line is the header; fields follow RFC 4180
 * (double quotes around fields with commas, "" for a quote). Numbers are parsed with strtod under
 * the C locale the CLI keeps for LC_NUMERIC. */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdmark/analysis.h"
#include "sdmark/bench_dir.h"

void sd_cards_default_path(char *buf, size_t len)
{
    sd_bench_path("cards.csv", buf, len);
}

/* Normalise a name for matching: lowercase, drop "(tm)"/"(r)", '-' '_' -> space, collapse spaces. */
static void norm(const char *in, char *out, size_t len)
{
    size_t o = 0;
    int space = 1;
    for (const char *p = in; *p && o + 1 < len; p++) {
        if (!strncasecmp(p, "(tm)", 4) || !strncasecmp(p, "(r)", 3)) {
            p += (p[1] == 't' || p[1] == 'T') ? 3 : 2;
            continue;
        }
        char c = (char)tolower((unsigned char)*p);
        if (c == '-' || c == '_' || isspace((unsigned char)c)) {
            if (!space)
                out[o++] = ' ';
            space = 1;
            continue;
        }
        out[o++] = c;
        space = 0;
    }
    while (o > 0 && out[o - 1] == ' ')
        o--;
    out[o] = 0;
}

bool sd_name_eq(const char *a, const char *b)
{
    char na[256], nb[256];
    norm(a, na, sizeof na);
    norm(b, nb, sizeof nb);
    return strcmp(na, nb) == 0;
}

/* Split one CSV record starting at *pos. Fields point into `out` (NUL-separated). Returns the
 * number of fields, or -1 on an unterminated quote. Advances *pos past the record's newline and
 * counts newlines inside quotes into *lines. */
static int csv_split(const char *t, size_t len, size_t *pos, char *out, size_t cap, char **f, int maxf,
                     int *lines)
{
    size_t p = *pos, o = 0;
    int nf = 0;
    f[nf++] = out;
    int inq = 0;
    while (p < len) {
        char c = t[p++];
        if (inq) {
            if (c == '"') {
                if (p < len && t[p] == '"') {
                    if (o + 1 < cap)
                        out[o++] = '"';
                    p++;
                } else
                    inq = 0;
            } else {
                if (c == '\n')
                    (*lines)++;
                if (o + 1 < cap)
                    out[o++] = c;
            }
            continue;
        }
        if (c == '"') {
            inq = 1;
        } else if (c == ',') {
            if (o + 1 < cap)
                out[o++] = 0;
            if (nf < maxf)
                f[nf++] = out + o;
        } else if (c == '\n') {
            break;
        } else if (c != '\r') {
            if (o + 1 < cap)
                out[o++] = c;
        }
    }
    out[o < cap ? o : cap - 1] = 0;
    *pos = p;
    return inq ? -1 : nf;
}

static const char *const card_cols[] = {"card", "vendor", "arch", "sm", "fp32_tflops", "tf32_tflops",
                                        "fp16_tc_tflops", "fp16_tc_fp32acc_tflops", "bf16_tflops", "mem_gb",
                                        "bw_gbs", "msrp_usd", "match", "source", "date"};
#define NCARDCOLS (int)(sizeof card_cols / sizeof card_cols[0])

static int parse_num(const char *s, double *out, int required)
{
    while (isspace((unsigned char)*s))
        s++;
    if (!*s) {
        *out = NAN;
        return required ? -1 : 0;
    }
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    while (isspace((unsigned char)*end))
        end++;
    if (errno || *end || !isfinite(v) || v < 0)
        return -1;
    *out = v;
    return 0;
}

/* Whole file into a NUL-terminated buffer (malloc'd), or NULL with a message. */
static char *read_all(const char *path, size_t *len, char *err, size_t errlen)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        snprintf(err, errlen, "%s: cannot open card spec table: %s", path, strerror(errno));
        return NULL;
    }
    char *text = NULL, chunk[8192];
    size_t cap = 0, got;
    *len = 0;
    while ((got = fread(chunk, 1, sizeof chunk, fp)) > 0) {
        if (*len + got + 1 > cap) {
            cap = (*len + got + 1) * 2;
            char *t = realloc(text, cap);
            if (!t)
                break;
            text = t;
        }
        memcpy(text + *len, chunk, got);
        *len += got;
    }
    fclose(fp);
    if (!text)
        snprintf(err, errlen, "%s: empty card spec table", path);
    else
        text[*len] = 0;
    return text;
}

/* Column positions from the header line; -1 with a message naming the missing column. */
static int parse_header(char **f, int nf, int idx[], const char *path, int line, char *err, size_t errlen)
{
    for (int k = 0; k < NCARDCOLS; k++) {
        idx[k] = -1;
        for (int c = 0; c < nf; c++)
            if (!strcmp(f[c], card_cols[k]))
                idx[k] = c;
        if (idx[k] < 0) {
            snprintf(err, errlen, "%s:%d: missing column '%s' in the header", path, line, card_cols[k]);
            return -1;
        }
    }
    return 0;
}

/* One data record into a card; -1 with a message naming file:line and the column. */
static int parse_card(char **f, int nf, const int idx[], struct sd_card *c, const char *path, int line, char *err,
                      size_t errlen)
{
    for (int k = 0; k < NCARDCOLS; k++)
        if (idx[k] >= nf) {
            snprintf(err, errlen, "%s:%d: %d fields, expected %d", path, line, nf, NCARDCOLS);
            return -1;
        }
    memset(c, 0, sizeof *c);
    snprintf(c->name, sizeof c->name, "%s", f[idx[0]]);
    snprintf(c->vendor, sizeof c->vendor, "%s", f[idx[1]]);
    snprintf(c->arch, sizeof c->arch, "%s", f[idx[2]]);
    snprintf(c->sm, sizeof c->sm, "%s", f[idx[3]]);
    double *nums[] = {&c->fp32, &c->tf32, &c->fp16, &c->fp16_f32acc, &c->bf16, &c->mem_gb, &c->bw_gbs, &c->msrp_usd};
    /* fp32, memory and bandwidth are required: every card has them. */
    const int required[] = {1, 0, 0, 0, 0, 1, 1, 0};
    for (int k = 0; k < 8; k++)
        if (parse_num(f[idx[4 + k]], nums[k], required[k])) {
            snprintf(err, errlen, "%s:%d: column '%s' of card '%s': '%s' is not a non-negative number%s", path, line,
                     card_cols[4 + k], c->name, f[idx[4 + k]], required[k] ? " (required)" : "");
            return -1;
        }
    snprintf(c->match, sizeof c->match, "%s", f[idx[12]]);
    snprintf(c->source, sizeof c->source, "%s", f[idx[13]]);
    snprintf(c->date, sizeof c->date, "%s", f[idx[14]]);
    if (!c->name[0]) {
        snprintf(err, errlen, "%s:%d: empty card name", path, line);
        return -1;
    }
    return 0;
}

/* Append a parsed card; -1 when the name is listed twice or memory runs out. */
static int add_card(struct sd_cards *out, size_t *capn, const struct sd_card *c, const char *path, int line, char *err,
                    size_t errlen)
{
    for (size_t j = 0; j < out->n; j++)
        if (sd_name_eq(out->v[j].name, c->name)) {
            snprintf(err, errlen, "%s:%d: card '%s' listed twice", path, line, c->name);
            return -1;
        }
    if (out->n == *capn) {
        size_t cap = *capn ? *capn * 2 : 32;
        struct sd_card *v = realloc(out->v, cap * sizeof *v);
        if (!v) {
            snprintf(err, errlen, "%s:%d: out of memory", path, line);
            return -1;
        }
        out->v = v;
        *capn = cap;
    }
    out->v[out->n++] = *c;
    return 0;
}

/* Skip a comment or blank line at *pos; returns 1 when one was skipped. */
static int skip_comment(const char *text, size_t len, size_t *pos)
{
    if (text[*pos] != '#' && text[*pos] != '\n' && text[*pos] != '\r')
        return 0;
    while (*pos < len && text[*pos] != '\n')
        (*pos)++;
    (*pos)++;
    return 1;
}

int sd_cards_load(const char *path, struct sd_cards *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    snprintf(out->path, sizeof out->path, "%s", path);
    size_t len = 0, pos = 0, capn = 0;
    char *text = read_all(path, &len, err, errlen);
    if (!text)
        return -1;
    int idx[NCARDCOLS], have_header = 0, line = 1, rc = 0;
    char buf[4096], *f[64];
    while (!rc && pos < len) {
        int rec_line = line, extra = 0;
        if (skip_comment(text, len, &pos)) {
            line++;
            continue;
        }
        int nf = csv_split(text, len, &pos, buf, sizeof buf, f, 64, &extra);
        line += 1 + extra;
        struct sd_card c;
        if (nf < 0) {
            snprintf(err, errlen, "%s:%d: unterminated quoted field", path, rec_line);
            rc = -1;
        } else if (!have_header) {
            rc = parse_header(f, nf, idx, path, rec_line, err, errlen);
            have_header = 1;
        } else if (!(nf == 1 && !f[0][0]))
            rc = parse_card(f, nf, idx, &c, path, rec_line, err, errlen) ||
                 add_card(out, &capn, &c, path, rec_line, err, errlen);
    }
    if (!rc && !have_header) {
        snprintf(err, errlen, "%s: no header line", path);
        rc = -1;
    }
    free(text);
    if (rc)
        sd_cards_free(out);
    return rc ? -1 : 0;
}

void sd_cards_free(struct sd_cards *c)
{
    free(c->v);
    c->v = NULL;
    c->n = 0;
}

const struct sd_card *sd_cards_find(const struct sd_cards *c, const char *name)
{
    if (!c || !name)
        return NULL;
    for (size_t i = 0; i < c->n; i++)
        if (sd_name_eq(c->v[i].name, name))
            return &c->v[i];
    return NULL;
}

/* Does `name` equal one of the card's ';'-separated match strings (normalised)? */
static bool match_token_eq(const struct sd_card *card, const char *name)
{
    char pats[sizeof card->match];
    snprintf(pats, sizeof pats, "%s", card->match);
    char *save = NULL;
    for (char *tok = strtok_r(pats, ";", &save); tok; tok = strtok_r(NULL, ";", &save))
        if (sd_name_eq(tok, name))
            return true;
    return false;
}

/* Does the card's name share a word of two or more characters with `name`? */
static bool shares_word(const char *card_name, const char *name)
{
    char a[256], b[256];
    norm(card_name, a, sizeof a);
    norm(name, b, sizeof b);
    char *save = NULL;
    for (char *w = strtok_r(b, " ", &save); w; w = strtok_r(NULL, " ", &save))
        if (strlen(w) >= 2 && strstr(a, w) && strcmp(w, "rtx") && strcmp(w, "gb"))
            return true;
    return false;
}

static void list_names(const struct sd_cards *c, const char *name, bool (*keep)(const struct sd_card *, const char *),
                       char *buf, size_t len)
{
    size_t o = 0;
    buf[0] = 0;
    for (size_t i = 0; i < c->n && o < len; i++)
        if (!keep || keep(&c->v[i], name))
            o += (size_t)snprintf(buf + o, len - o, "%s'%s'", o ? ", " : "", c->v[i].name);
}

static bool keep_close(const struct sd_card *k, const char *name)
{
    return shares_word(k->name, name) || shares_word(k->match, name); /* "Radeon 7900": the match names it */
}

/* Levenshtein distance of two normalised names (first 63 characters). */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strnlen(a, 63), lb = strnlen(b, 63), row[64];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j], best = diag + (a[i - 1] != b[j - 1]);
            best = up + 1 < best ? up + 1 : best;
            best = row[j - 1] + 1 < best ? row[j - 1] + 1 : best;
            diag = up;
            row[j] = best;
        }
    }
    return row[lb];
}

/* How far NAME is from a card: the nearest of its name and its `match` strings. */
static size_t card_distance(const struct sd_card *k, const char *name)
{
    char q[256], t[256], pats[sizeof k->match];
    norm(name, q, sizeof q);
    norm(k->name, t, sizeof t);
    size_t d = edit_distance(q, t);
    snprintf(pats, sizeof pats, "%s", k->match);
    char *save = NULL;
    for (char *tok = strtok_r(pats, ";", &save); tok; tok = strtok_r(NULL, ";", &save)) {
        norm(tok, t, sizeof t);
        size_t e = edit_distance(q, t);
        d = e < d ? e : d;
    }
    return d;
}

/* A typo or a neighbouring model ("RTX 3070"): up to 5 cards within a third of NAME's length
 * (at least 2 edits), nearest first. */
static void list_nearest(const struct sd_cards *c, const char *name, char *buf, size_t len)
{
    size_t limit = strlen(name) / 3 > 2 ? strlen(name) / 3 : 2, o = 0, shown = 0;
    buf[0] = 0;
    for (size_t d = 0; d <= limit && shown < 5; d++)
        for (size_t i = 0; i < c->n && shown < 5 && o < len; i++)
            if (card_distance(&c->v[i], name) == d) {
                o += (size_t)snprintf(buf + o, len - o, "%s'%s'", o ? ", " : "", c->v[i].name);
                shown++;
            }
}

const struct sd_card *sd_cards_lookup(const struct sd_cards *c, const char *name, char *close, size_t len)
{
    if (close && len)
        close[0] = 0;
    const struct sd_card *k = sd_cards_find(c, name);
    if (k || !c)
        return k;
    size_t hits = 0;
    for (size_t i = 0; i < c->n; i++)
        if (match_token_eq(&c->v[i], name)) {
            k = &c->v[i];
            hits++;
        }
    if (hits == 1)
        return k;
    if (close && len) {
        list_names(c, name, hits ? match_token_eq : keep_close, close, len);
        if (!close[0])
            list_nearest(c, name, close, len);
        if (!close[0])
            list_names(c, name, NULL, close, len);
    }
    return NULL;
}

const struct sd_card *sd_cards_match_device(const struct sd_cards *c, const char *device_name, uint64_t mem_bytes)
{
    if (!c || !device_name)
        return NULL;
    char dn[256];
    norm(device_name, dn, sizeof dn);
    const struct sd_card *best = NULL;
    size_t best_len = 0;
    double best_memdiff = INFINITY;
    for (size_t i = 0; i < c->n; i++) {
        char pats[sizeof c->v[i].match];
        snprintf(pats, sizeof pats, "%s", c->v[i].match);
        char *save = NULL;
        for (char *tok = strtok_r(pats, ";", &save); tok; tok = strtok_r(NULL, ";", &save)) {
            char np[160];
            norm(tok, np, sizeof np);
            if (!np[0])
                continue;
            /* whole-word containment: "rtx 3060" must not match "rtx 30600" */
            const char *hit = strstr(dn, np);
            size_t L = strlen(np);
            if (!hit || (hit[L] && hit[L] != ' ') || (hit != dn && hit[-1] != ' '))
                continue;
            double memdiff = mem_bytes ? fabs(c->v[i].mem_gb - (double)mem_bytes / 1073741824.0) : 0;
            if (L > best_len || (L == best_len && memdiff < best_memdiff)) {
                best = &c->v[i];
                best_len = L;
                best_memdiff = memdiff;
            }
        }
    }
    return best;
}

double sd_card_peak_tflops(const struct sd_card *card, enum sd_dtype dtype, enum sd_dtype acc)
{
    if (!card)
        return NAN;
    switch (dtype) {
    case SD_FP32:
        return card->fp32;
    case SD_TF32:
        return card->tf32;
    case SD_FP16:
        return acc == SD_FP16 ? card->fp16 : card->fp16_f32acc;
    case SD_BF16:
        return card->bf16;
    default:
        return NAN;
    }
}
