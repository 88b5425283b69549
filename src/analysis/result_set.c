/* result_set.c — a set of results files loaded together (for estimate, claims, compare, report):
 * rows, the file and line each came from, and the distinct devices they were measured on. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sdmark/analysis.h"

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int add_file(struct sd_rset *s, const char *path, char *err, size_t errlen)
{
    struct sd_result *rows = NULL;
    size_t n = 0;
    if (sd_results_read(path, &rows, &n, err, errlen))
        return -1;
    char **files = realloc(s->files, (s->nfiles + 1) * sizeof *files);
    if (!files) {
        free(rows);
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    s->files = files;
    s->files[s->nfiles] = strdup(path);
    struct sd_result *all = realloc(s->rows, (s->n + n + 1) * sizeof *all);
    size_t *fo = realloc(s->file_of, (s->n + n + 1) * sizeof *fo);
    int *lo = realloc(s->line_of, (s->n + n + 1) * sizeof *lo);
    if (all)
        s->rows = all;
    if (fo)
        s->file_of = fo;
    if (lo)
        s->line_of = lo;
    if (!all || !fo || !lo) {
        free(rows);
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    size_t plen = strlen(path);
    int is_csv = plen < 5 || strcasecmp(path + plen - 5, ".json") != 0;
    for (size_t i = 0; i < n; i++) {
        s->rows[s->n + i] = rows[i];
        s->file_of[s->n + i] = s->nfiles;
        s->line_of[s->n + i] = is_csv ? (int)i + 2 : 0;
    }
    s->n += n;
    s->nfiles++;
    free(rows);
    return 0;
}

int sd_rset_add(struct sd_rset *s, const char *path, char *err, size_t errlen)
{
    struct stat st;
    if (stat(path, &st)) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode))
        return add_file(s, path, err, errlen);
    DIR *d = opendir(path);
    if (!d) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    char **names = NULL;
    size_t nn = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t L = strlen(e->d_name);
        if (L > 4 && !strcmp(e->d_name + L - 4, ".csv")) {
            names = realloc(names, (nn + 1) * sizeof *names);
            size_t pl = strlen(path);
            while (pl > 1 && path[pl - 1] == '/')
                pl--;
            if (asprintf(&names[nn], "%.*s/%s", (int)pl, path, e->d_name) < 0)
                names[nn] = NULL;
            nn++;
        }
    }
    closedir(d);
    if (nn) /* an empty folder: qsort must not get NULL */
        qsort(names, nn, sizeof *names, cmp_str);
    int rc = 0;
    for (size_t i = 0; i < nn; i++) {
        if (!rc && names[i] && add_file(s, names[i], err, errlen))
            rc = -1;
        free(names[i]);
    }
    free(names);
    return rc;
}

static bool same_device(const struct sd_device_ref *d, const struct sd_result *r)
{
    return !strcmp(d->host, r->host) && !strcmp(d->backend, r->dev.backend) && !strcmp(d->name, r->dev.name);
}

static void add_device(struct sd_rset *s, const struct sd_result *r, const struct sd_cards *cards)
{
    struct sd_device_ref *x = &s->dev[s->ndev++];
    memset(x, 0, sizeof *x);
    snprintf(x->host, sizeof x->host, "%s", r->host);
    snprintf(x->backend, sizeof x->backend, "%s", r->dev.backend);
    snprintf(x->name, sizeof x->name, "%s", r->dev.name);
    snprintf(x->arch, sizeof x->arch, "%s", r->dev.arch);
    snprintf(x->kind, sizeof x->kind, "%s", r->device_kind);
    /* A card spec applies only to a GPU device: the cpu backend and PoCL never match. */
    x->card = sd_device_is_gpu(x) ? sd_cards_match_device(cards, r->dev.name, r->dev.mem_bytes) : NULL;
}

void sd_rset_index(struct sd_rset *s, const struct sd_cards *cards)
{
    free(s->dev);
    free(s->dev_of);
    s->ndev = 0;
    s->dev = calloc(s->n + 1, sizeof *s->dev); /* at most one device per row */
    s->dev_of = calloc(s->n + 1, sizeof *s->dev_of);
    if (!s->dev || !s->dev_of)
        return;
    for (size_t i = 0; i < s->n; i++) {
        size_t d;
        for (d = 0; d < s->ndev && !same_device(&s->dev[d], &s->rows[i]); d++)
            ;
        if (d == s->ndev)
            add_device(s, &s->rows[i], cards);
        s->dev_of[i] = (int)d;
    }
    for (size_t a = 0; a < s->ndev; a++)
        for (size_t b = 0; b < s->ndev; b++)
            if (a != b && !strcmp(s->dev[a].backend, s->dev[b].backend) && !strcmp(s->dev[a].name, s->dev[b].name))
                s->dev[a].shared_name = true;
}

void sd_rset_free(struct sd_rset *s)
{
    for (size_t i = 0; i < s->nfiles; i++)
        free(s->files[i]);
    free(s->files);
    free(s->rows);
    free(s->file_of);
    free(s->line_of);
    free(s->dev);
    free(s->dev_of);
    memset(s, 0, sizeof *s);
}

void sd_device_display(const struct sd_device_ref *d, char *buf, size_t len)
{
    if (d->shared_name)
        snprintf(buf, len, "%s:%s@%s", d->backend, d->name, d->host[0] ? d->host : "(no host)");
    else
        snprintf(buf, len, "%s:%s", d->backend, d->name);
}

bool sd_device_is_gpu(const struct sd_device_ref *d)
{
    /* Files since schema 2 say what the device is; older files fall back to backend and name. */
    if (d->kind[0])
        return strcmp(d->kind, "cpu") != 0; /* as before: whatever is not a CPU is spec'd as a GPU */
    if (!strcmp(d->backend, "cuda"))
        return true;
    if (!strcmp(d->backend, "cpu"))
        return false;
    /* OpenCL: PoCL's CPU device names start with "pthread-" / "cpu-"; anything else that the
     * driver calls a CPU is recognised by its name. */
    if (!strncmp(d->name, "pthread", 7) || !strncmp(d->name, "cpu-", 4) || strstr(d->name, "CPU") ||
        strstr(d->name, "EPYC") || strstr(d->name, "Xeon") || strstr(d->name, "Core(TM)"))
        return false;
    return true;
}

bool sd_row_usable(const struct sd_result *r)
{
    return r->status == SD_OK && strcmp(r->verify, "fail") != 0 && isfinite(r->time_ms_median) &&
           r->time_ms_median > 0;
}
