/* bench_dir.c — find bench/ files: $SDMARK_BENCH_DIR, next to the executable (/proc/self/exe),
 * the compiled-in source tree, ./bench (order and reasons in bench_dir.h). */
#define _GNU_SOURCE
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sdmark/bench_dir.h"

static int is_file(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* Folder of the running executable, or "" where /proc is absent. */
static void exe_dir(char *buf, size_t len)
{
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    buf[0] = 0;
    if (n <= 0)
        return;
    exe[n] = 0;
    snprintf(buf, len, "%s", dirname(exe));
}

int sd_bench_path(const char *name, char *path, size_t len)
{
    char exe[4096];
    exe_dir(exe, sizeof exe);
    static const char *const rel[] = {"bench", "../share/sdmark/bench", "../bench"};
    const char *env = getenv("SDMARK_BENCH_DIR");
    if (env && *env) {
        snprintf(path, len, "%s/%s", env, name);
        if (is_file(path))
            return 0;
    }
    for (size_t i = 0; exe[0] && i < sizeof rel / sizeof rel[0]; i++) {
        char p[4096 + 64], real[PATH_MAX];
        snprintf(p, sizeof p, "%s/%s/%s", exe, rel[i], name);
        if (is_file(p)) { /* "<prefix>/share/...", not "<prefix>/bin/../share/..." in messages */
            snprintf(path, len, "%s", realpath(p, real) ? real : p);
            return 0;
        }
    }
#ifdef SDMARK_SOURCE_BENCH_DIR
    snprintf(path, len, "%s/%s", SDMARK_SOURCE_BENCH_DIR, name);
    if (is_file(path))
        return 0;
#endif
    snprintf(path, len, "bench/%s", name);
    return is_file(path) ? 0 : -1;
}

const char *sd_bench_search_text(void)
{
    return "$SDMARK_BENCH_DIR, <sdmark dir>/bench, <sdmark dir>/../share/sdmark/bench, <sdmark dir>/../bench, "
           "./bench";
}
