/* bench_dir.h — where the bench/ folder (suites and cards.csv) is found (src/core/bench_dir.c).
 * One lookup for every file sdmark ships in bench/, tried in this order:
 *   1. $SDMARK_BENCH_DIR
 *   2. next to the executable: <exe dir>/bench, <exe dir>/../share/sdmark/bench (an install
 *      prefix), <exe dir>/../bench
 *   3. the source tree's bench/ compiled into the binary (a build tree; never shown in messages)
 *   4. ./bench
 * A file is looked up in each folder in turn, so $SDMARK_BENCH_DIR may hold only some files. */
#ifndef SDMARK_BENCH_DIR_H
#define SDMARK_BENCH_DIR_H

#include <stddef.h>

/* Path of bench file `name` (e.g. "cards.csv", "sd15.suite"): 0 when found, else -1 with
 * "bench/<name>" in `path` (for a message that names the file, not the build machine). */
int sd_bench_path(const char *name, char *path, size_t len);
/* The folders searched, for messages: "$SDMARK_BENCH_DIR, <exe dir>/bench, ..., ./bench". */
const char *sd_bench_search_text(void);

#endif
