/* result.h — one results row (a CSV line / JSON object) and the file readers/writers.
 *
 * Columns in file order, schema_version first; their meanings and the schema history are in
 * docs/results.md. Bump SD_SCHEMA_VERSION on any column change and keep the reader accepting the
 * older versions it knows.
 * Numbers are written locale-independently ('.' decimal separator) and never as nan/inf:
 * an unknown number is an empty field.
 */
#ifndef SDMARK_RESULT_H
#define SDMARK_RESULT_H

#include <stddef.h>
#include <stdint.h>

#include "sdmark/backend.h"
#include "sdmark/status.h"
#include "sdmark/workload.h"

/* v2 adds device_kind (v1 files read with it empty; analysis then falls back to backend names).
 * v3 renames l2_bytes to last_level_cache_bytes (what every backend stores there: the L2 of a GPU,
 * the L3 of a CPU); v1/v2 files read with the old name. The struct field keeps its name. */
#define SD_SCHEMA_VERSION 3
#define SD_REASON_MAX 256

struct sd_result {
    /* provenance */
    int schema_version;
    char sdmark_version[32];
    char git_commit[48];
    char run_id[48];
    char timestamp_utc[32];
    char host[64];
    /* device */
    struct sd_device_info dev;     /* backend, name, arch, driver/api version, cu, clock, mem, l2 */
    char device_kind[8];           /* cpu | gpu | other; "" in schema-1 files (kind unknown) */
    /* workload */
    struct sd_workload wl;         /* suite, op, label, dtype, acc, layout, shape, count */
    char impl[32];
    double flops, bytes_min;
    /* method */
    char timer[24];                /* cl_event | cuda_event | host_monotonic */
    char cache_mode[8];            /* hot | cold (input sets rotated) | flush (caches flushed per sample) */
    double warmup_ms;
    int samples;
    char stop_reason[24];          /* noise | min_time | timeout | max_samples | "" */
    /* results (NaN = unknown -> empty field) */
    double time_ms_median, time_ms_min, time_ms_p10, time_ms_p90, rel_noise;
    double tflops, gbs, pct_of_spec;
    /* environment (NaN = unknown) */
    double clock_mhz_mean, temp_c_max, power_w_mean;
    int throttled;                 /* 1 throttled during the row, 0 not, -1 unknown */
    double peak_mem_bytes;
    /* verification */
    char verify[8];                /* pass | fail | none */
    double max_rel_err, tolerance;
    enum sd_status status;
    char reason[SD_REASON_MAX];
};

/* Set every number to "unknown" and strings to "". */
void sd_result_init(struct sd_result *r);

/* The CSV header line (no newline) of the current schema. */
const char *sd_csv_header(void);

/* Write rows to `path` atomically (temp file in the same directory + rename).
 * format: "csv" or "json". Returns 0, or -1 with a message in err. */
int sd_results_write(const char *path, const char *format, const struct sd_result *rows, size_t n,
                     char *err, size_t errlen);

/* Read a CSV (or JSON, by extension) results file. Rejects unknown/newer schema versions and
 * missing columns with a one-line error naming the file and line. Caller frees *rows. */
int sd_results_read(const char *path, struct sd_result **rows, size_t *n, char *err, size_t errlen);

/* Workload key used to match rows across files: suite|op|impl|label|dtype|acc|shape. */
void sd_result_key(const struct sd_result *r, char *buf, size_t len);

#endif
