/* suite.h — suite files (bench/NAME.suite): one workload per line, format in docs/suites.md.
 *   # comment
 *   op  label  count  key=value ...
 * `dtype=fp16,fp32` expands into one workload per dtype. Errors name file:line.
 */
#ifndef SDMARK_SUITE_H
#define SDMARK_SUITE_H

#include <stddef.h>
#include "sdmark/workload.h"

struct sd_suite {
    char name[SD_NAME_LEN];     /* file stem: "sd15" */
    char *path;                 /* owned */
    struct sd_workload *items;  /* owned */
    size_t n;
};

/* Parse a suite from a file path. Returns 0, or -1 with "path:line: message" in err. */
int sd_suite_load(const char *path, struct sd_suite *out, char *err, size_t errlen);
/* Parse from memory (name used for messages and as the suite name). */
int sd_suite_parse(const char *name, const char *path_for_msgs, const char *text, size_t len,
                   struct sd_suite *out, char *err, size_t errlen);
void sd_suite_free(struct sd_suite *s);

/* Resolve --suite NAME|FILE: an existing file path, else NAME.suite in the bench folder
 * (sd_bench_path, bench_dir.h: $SDMARK_BENCH_DIR, next to the binary, ..., ./bench). */
int sd_suite_resolve(const char *name_or_file, char *path, size_t len, char *err, size_t errlen);

/* Sum of count * flops over the suite (for one dtype: each label counted once). */
double sd_suite_flops_per_call(const struct sd_suite *s);

#endif
