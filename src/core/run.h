/* run.h — the harness: drives one backend device through a suite, row by row.
 * Order per row (never changed): supports -> prepare -> upload -> poison -> run once -> download ->
 * verify against the CPU reference -> warm-up by time -> timed samples (cross-checked with the host
 * clock) until the stopping rule -> statistics -> physical plausibility bound. Only a verified,
 * plausible output gets a time. The phases are include/sdmark/row_phases.h. */
#ifndef SDMARK_RUN_H
#define SDMARK_RUN_H

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>

#include "sdmark/backend.h"
#include "sdmark/measure.h"
#include "sdmark/plausibility.h"
#include "sdmark/result.h"
#include "sdmark/suite.h"

struct sd_run_opts {
    struct sd_measure_opts m;
    bool hot;                    /* hot-cache mode (default cold: rotate input sets >= 3x LLC) */
    unsigned op_mask;            /* bit per enum sd_op; 0 = all */
    unsigned dtype_mask;         /* bit per enum sd_dtype; 0 = all the suite lists */
    const char *impls;           /* comma list filter, NULL = every impl of the backend */
    const char *out_dir;         /* results directory */
    bool csv, json;
    bool quiet;                  /* no progress on stderr */
    char run_id[48];
    int device_index;            /* index within the backend; > 0 adds "-devN" to the file name */
    /* Spec sheets (pct_of_spec and the plausibility bound), supplied by the caller: the harness
     * holds no cards table. lookup NULL = no spec sheets (bounds from what the device reports). */
    struct sd_spec_source spec;
};

/* Set by the SIGINT/SIGTERM handler; the harness stops between samples and rows. */
extern volatile sig_atomic_t sd_interrupted;
void sd_install_signal_handlers(void);

/* Fill a row's provenance (version, commit, run id, timestamp, host). */
void sd_result_provenance(struct sd_result *r, const char *run_id);

/* Measure one (workload, impl) on an open backend context. Always fills a row (status + reason). */
void sd_run_row(const struct sd_backend_ops *be, void *ctx, const struct sd_device_info *dev,
                const struct sd_workload *wl, const char *impl, const struct sd_run_opts *o,
                struct sd_result *row);

/* Run a whole suite on one device, writing <out_dir>/<slug>-<suite>.csv/.json after every row.
 * Rows are appended to *rows (caller frees). Returns 0, 1 if interrupted, -1 if the results file
 * cannot be written (rows measured so far are kept in memory and reported). progress: [i/N] base. */
int sd_run_suite(const struct sd_backend_ops *be, void *ctx, const struct sd_device_info *dev,
                 const struct sd_suite *suite, const struct sd_run_opts *o, int *row_index, int row_total,
                 double t_start, struct sd_result **rows, size_t *nrows);

/* Host memory available for new allocations in bytes (/proc/meminfo MemAvailable; the
 * SDMARK_HOST_MEM_AVAILABLE environment variable overrides it), 0 if unknown. */
double sd_host_mem_available(void);

/* Number of rows sd_run_suite will produce for this suite/backend/filter. */
int sd_count_rows(const struct sd_backend_ops *be, const struct sd_suite *suite, const struct sd_run_opts *o);

/* "opencl-pthread-skylake-avx512" style slug from backend + device name. */
void sd_device_slug(const struct sd_device_info *dev, char *buf, size_t len);

/* Print the results table (stdout). */
void sd_print_table(FILE *f, const struct sd_result *rows, size_t n);

#endif
