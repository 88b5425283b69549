/* test_fuzz_regressions.c — replays every saved fuzzer input through the fuzzing entry points
 * (tests/fuzz/fuzz_entry.h) under the normal ASan+UBSan test build:
 *   files in tests/fuzz/regressions/suite/    -> fuzz_suite_one   (sd_suite_parse)
 *   files in tests/fuzz/regressions/results/  -> fuzz_results_one (sd_results_read as .csv and .json,
 *                                                          write/read round trip of what it accepts)
 * plus the seed corpora under tests/fuzz/corpus/{suite,results}/. Passing = no crash, no sanitizer
 * report, no oracle abort: each input parses or fails with a clean one-line error.
 * To add a regression: copy the crashing file from tests/fuzz/crashes/ into the matching
 * regressions directory (any name) once the bug is fixed. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fuzz/fuzz_entry.h"

#define FUZZ_ROOT SDMARK_TEST_DATA "/../fuzz"

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Feed every regular file of dir (sorted, for stable output) to fn; returns how many. */
static int replay_dir(const char *dir, int (*fn)(const uint8_t *, size_t))
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    char *names[4096];
    int n = 0;
    for (struct dirent *e; (e = readdir(d)) && n < 4096;)
        if (e->d_name[0] != '.')
            names[n++] = strdup(e->d_name);
    closedir(d);
    qsort(names, (size_t)n, sizeof names[0], cmp_str);
    int done = 0;
    for (int i = 0; i < n; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        struct stat st;
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
            size_t len = 0;
            char *data = fuzz_slurp(path, &len);
            assert_non_null(data);
            print_message("[ REPLAY   ] %s (%zu bytes)\n", path, len);
            fn((const uint8_t *)data, len);
            free(data);
            done++;
        }
        free(names[i]);
    }
    return done;
}

static void test_suite_regressions(void **state)
{
    (void)state;
    int n = replay_dir(FUZZ_ROOT "/regressions/suite", fuzz_suite_one);
    assert_true(n > 0);
}

static void test_suite_seed_corpus(void **state)
{
    (void)state;
    int n = replay_dir(FUZZ_ROOT "/corpus/suite", fuzz_suite_one);
    assert_true(n > 0);
}

static void test_results_regressions(void **state)
{
    (void)state;
    int n = replay_dir(FUZZ_ROOT "/regressions/results", fuzz_results_one);
    assert_true(n > 0);
}

static void test_results_seed_corpus(void **state)
{
    (void)state;
    int n = replay_dir(FUZZ_ROOT "/corpus/results", fuzz_results_one);
    assert_true(n > 0);
}

static void test_entry_points_on_edge_inputs(void **state)
{
    (void)state;
    /* the degenerate inputs every fuzzer tries first */
    fuzz_suite_one((const uint8_t *)"", 0);
    fuzz_results_one((const uint8_t *)"", 0);
    static const uint8_t nul[1] = {0};
    fuzz_suite_one(nul, 1);
    fuzz_results_one(nul, 1);
    fuzz_suite_one((const uint8_t *)"\n", 1);
    fuzz_results_one((const uint8_t *)"\"", 1);
    fuzz_results_one((const uint8_t *)"{}", 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_suite_regressions),
        cmocka_unit_test(test_suite_seed_corpus),
        cmocka_unit_test(test_results_regressions),
        cmocka_unit_test(test_results_seed_corpus),
        cmocka_unit_test(test_entry_points_on_edge_inputs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
