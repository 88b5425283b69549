/* row_phases.h — the phases of measuring one row, callable on their own: build the host inputs,
 * upload them, run once and verify, take timed samples (with the timer cross-check).
 *
 * The harness (src/core/run.c) strings them together for `sdmark run`; a backend's tuner
 * (src/backends/opencl/ocl_tune.c) and tests/test_backend_ops.c call the same functions, so a row,
 * a tuning candidate and a test case are verified and timed by one piece of code.
 * Lives in sdmark_core (backends link it; it knows backends only through struct sd_backend_ops).
 * The rule for trusting a device timer is docs/measurement.md "Timer cross-check". */
#ifndef SDMARK_ROW_PHASES_H
#define SDMARK_ROW_PHASES_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "sdmark/backend.h"
#include "sdmark/measure.h"
#include "sdmark/verify.h"
#include "sdmark/workload.h"

/* Host fp32 inputs (rounded to the row's storage dtype) and the output buffer of one row. */
struct sd_row_inputs {
    struct sd_tensors t;
    float *in[3];
    float *out;
};

/* Allocate and fill the inputs from the fixed seed of the workload's label (the same data on every
 * run and every backend) and allocate the output. SD_OOM with a reason when malloc fails. */
enum sd_status sd_row_inputs_make(const struct sd_workload *wl, struct sd_row_inputs *h, char *reason,
                                  size_t len);
void sd_row_inputs_free(struct sd_row_inputs *h);

/* Upload the one host copy into every rotation set 0..nsets-1. */
enum sd_status sd_row_upload(const struct sd_backend_ops *be, struct sd_plan *p, int nsets,
                             const struct sd_row_inputs *h, char *reason, size_t len);

/* Correctness first: poison the output, run once on set 0, download, verify against the fp64
 * reference. Returns the backend's error status, or SD_WRONG with vr->reason, or SD_OK.
 * *wall_ms: host time of that first run (it counts toward the warm-up). */
enum sd_status sd_row_check(const struct sd_backend_ops *be, struct sd_plan *p, const struct sd_workload *wl,
                            struct sd_row_inputs *h, struct sd_verify_result *vr, double *wall_ms,
                            char *reason, size_t len);

struct sd_sample_opts {
    struct sd_measure_opts m;
    int nsets;                              /* rotation sets uploaded (samples cycle through them) */
    double first_wall_ms;                   /* the check run's wall time (counts as warm-up) */
    volatile sig_atomic_t *interrupted;     /* stop between samples when *interrupted != 0; may be NULL */
    bool flush;                             /* call be->flush_cache before every timed run (cold rows of a
                                             * backend that can flush); the flush is outside both clocks */
};

struct sd_samples {
    struct sd_stats st;                     /* of the published samples, ms per call */
    const char *stop;                       /* stopping rule that ended sampling, or "interrupted" */
    double warmup_ms;
    int calls_per_sample;                   /* > 1 when the device clock is coarser than one call */
    char timer[24];                         /* the clock the published samples came from */
    char note[SD_REASON_LEN];               /* why the timer changed or calls were grouped, or "" */
    struct sd_env env;                      /* env_begin/env_end around the samples (NaN/-1 if n/a) */
};

/* Warm up, then take samples until the stopping rule says enough. Every batch of samples is also
 * timed with the host monotonic clock; a device timer that disagrees with it is dropped and the
 * row re-sampled with the host clock (out->timer, out->note say so). Returns the backend's error
 * status if a run fails (reason), else SD_OK. */
enum sd_status sd_row_sample(const struct sd_backend_ops *be, void *ctx, struct sd_plan *p,
                             const struct sd_sample_opts *o, struct sd_samples *out, char *reason, size_t len);

/* Cross-check thresholds (docs/measurement.md). A batch of `calls` runs whose device timer summed
 * to dev_ms while the host clock saw wall_ms: SD_XCHECK_AGREE, or SD_XCHECK_IMPOSSIBLE (no time, or
 * longer than the wall time) / SD_XCHECK_SHORT (far shorter) with both times in `why`. The sampler
 * drops a device timer on IMPOSSIBLE batch totals, or when most samples of the pass (and at least
 * SD_XCHECK_SHORT_VOTES) are SHORT on their own. */
enum { SD_XCHECK_AGREE = 0, SD_XCHECK_IMPOSSIBLE = 1, SD_XCHECK_SHORT = 2 };
#define SD_XCHECK_LONG_FACTOR 1.05          /* device may exceed wall by 5 % ... */
#define SD_XCHECK_LONG_SLACK_MS 0.05        /* ... plus 50 us per call (clock domains, rounding) */
#define SD_XCHECK_SHORT_MIN_CALL_MS 1.0     /* "far shorter" is judged only on calls >= 1 ms wall */
#define SD_XCHECK_SHORT_FACTOR 3.0          /* device < wall / 3 there is not launch overhead */
#define SD_XCHECK_BATCH 5                   /* samples per cross-check batch */
#define SD_XCHECK_SHORT_VOTES 3             /* "far shorter" needs >= 3 samples and most of them */
#define SD_COARSE_MAX_SAMPLE_MS 200.0       /* group calls per sample up to this much wall time */
#define SD_COARSE_TICKS 10.0                /* a grouped sample spans >= 10 ticks of a coarse clock */
int sd_timer_disagrees(double dev_ms, double wall_ms, int calls, char *why, size_t len);

#endif
