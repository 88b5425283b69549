/* fuzz_entry.h — the fuzzing entry points, shared by the libFuzzer targets (tests/fuzz/fuzz_*.c,
 * built by scripts/fuzz.sh) and by the regression test (tests/test_fuzz_regressions.c, normal
 * ASan+UBSan test build), so a saved crash input replays through exactly the code that found it.
 *
 * Oracles beyond "no crash, no leak, no UB":
 *  - suite: a successful parse yields >= 1 valid workload (sd_workload_validate passes on each);
 *    a failed parse yields a one-line, non-empty "name:..." error and an empty suite.
 *  - results: the input is read as .csv and as .json. When a read succeeds, the rows are written
 *    back (CSV and JSON) and read again, twice: every re-read must succeed with the same row count,
 *    and the 2nd and 3rd writes must be byte-identical (writer and reader agree on what they emit).
 * An oracle failure calls abort(), which both libFuzzer and the test runner report as a crash. */
#ifndef SDMARK_FUZZ_ENTRY_H
#define SDMARK_FUZZ_ENTRY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sdmark/result.h"
#include "sdmark/suite.h"
#include "sdmark/workload.h"

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz oracle failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__);        \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static void fuzz_check_err(const char *err, const char *prefix)
{
    FUZZ_CHECK(err[0] != 0);
    FUZZ_CHECK(strchr(err, '\n') == NULL);
    FUZZ_CHECK(strncmp(err, prefix, strlen(prefix)) == 0);
}

static int fuzz_suite_one(const uint8_t *data, size_t size)
{
    struct sd_suite s;
    char err[512] = "";
    int rc = sd_suite_parse("fuzz", "fuzz.suite", (const char *)data, size, &s, err, sizeof err);
    if (rc == 0) {
        FUZZ_CHECK(s.n >= 1 && s.items != NULL);
        for (size_t i = 0; i < s.n; i++) {
            char verr[512];
            FUZZ_CHECK(sd_workload_validate(&s.items[i], verr, sizeof verr) == 0);
            FUZZ_CHECK(s.items[i].label[0] != 0);
            (void)sd_workload_flops(&s.items[i]);
            (void)sd_workload_bytes_min(&s.items[i]);
        }
        (void)sd_suite_flops_per_call(&s);
        sd_suite_free(&s);
    } else {
        fuzz_check_err(err, "fuzz.suite:");
        FUZZ_CHECK(s.n == 0 && s.items == NULL);
    }
    return 0;
}

/* Per-process scratch directory for the temp files (tmpfs when there is one), removed at exit
 * (the entry points unlink their files after each input). */
static char fuzz_dir_buf[256];
static void fuzz_dir_remove(void) { rmdir(fuzz_dir_buf); }

static const char *fuzz_dir(void)
{
    char *dir = fuzz_dir_buf;
    if (!dir[0]) {
        const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
        snprintf(dir, sizeof fuzz_dir_buf, "%s/sdmark-fuzz-XXXXXX", base);
        if (!mkdtemp(dir)) {
            perror("mkdtemp");
            abort();
        }
        atexit(fuzz_dir_remove);
    }
    return dir;
}

static int fuzz_write_file(const char *path, const uint8_t *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    int ok = fwrite(data, 1, size, f) == size;
    return (fclose(f) == 0 && ok) ? 0 : -1;
}

static char *fuzz_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *b = malloc(cap);
    for (size_t got; b && (got = fread(b + n, 1, cap - n, f)) > 0;) {
        n += got;
        if (n == cap) {
            char *nb = realloc(b, cap *= 2);
            if (!nb) {
                free(b);
                b = NULL;
            }
            b = nb;
        }
    }
    fclose(f);
    *len = n;
    return b;
}

/* rows -> write(fmt) -> read -> write(fmt) -> read -> write(fmt): every read of a written file must
 * succeed with the same row count, and the file must be a fixed point after one normalisation
 * (the first write may legitimately differ: e.g. a '\n' in a string is written as ' ' in CSV). */
static void fuzz_roundtrip(const struct sd_result *rows, size_t n, const char *fmt)
{
    char p[3][300], err[512] = "";
    struct sd_result *back[2] = {NULL, NULL};
    const struct sd_result *cur = rows;
    for (int k = 0; k < 3; k++) {
        snprintf(p[k], sizeof p[k], "%s/rt%d.%s", fuzz_dir(), k, fmt);
        if (sd_results_write(p[k], fmt, cur, n, err, sizeof err) != 0) {
            fprintf(stderr, "write of %s failed: %s\n", fmt, err);
            abort();
        }
        if (k == 2)
            break;
        size_t nb = 0;
        if (sd_results_read(p[k], &back[k], &nb, err, sizeof err) != 0) {
            fprintf(stderr, "re-read of written %s failed: %s\n", fmt, err);
            abort();
        }
        FUZZ_CHECK(nb == n);
        cur = back[k];
    }
    size_t l1 = 0, l2 = 0;
    char *a = fuzz_slurp(p[1], &l1), *b = fuzz_slurp(p[2], &l2);
    FUZZ_CHECK(a && b);
    if (l1 != l2 || memcmp(a, b, l1) != 0) {
        fprintf(stderr, "%s write/read/write not a fixed point:\n--- second\n%.*s\n--- third\n%.*s\n", fmt,
                (int)l1, a, (int)l2, b);
        abort();
    }
    free(a);
    free(b);
    free(back[0]);
    free(back[1]);
    for (int k = 0; k < 3; k++)
        unlink(p[k]);
}

static int fuzz_results_one(const uint8_t *data, size_t size)
{
    static const char *const exts[] = {"csv", "json"};
    for (int e = 0; e < 2; e++) {
        char path[300], err[512] = "";
        snprintf(path, sizeof path, "%s/in.%s", fuzz_dir(), exts[e]);
        if (fuzz_write_file(path, data, size)) {
            perror(path);
            abort();
        }
        struct sd_result *rows = (struct sd_result *)1;
        size_t n = 12345;
        int rc = sd_results_read(path, &rows, &n, err, sizeof err);
        if (rc == 0) {
            FUZZ_CHECK(n == 0 || rows != NULL);
            for (size_t i = 0; i < n; i++) {
                char key[512];
                sd_result_key(&rows[i], key, sizeof key);
            }
            fuzz_roundtrip(rows, n, "csv");
            fuzz_roundtrip(rows, n, "json");
            free(rows);
        } else {
            fuzz_check_err(err, path);
            FUZZ_CHECK(rows == NULL && n == 0);
        }
        unlink(path);
    }
    return 0;
}

#endif
