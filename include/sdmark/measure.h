/* measure.h — sample statistics and the adaptive stopping rule (nvbench-style). */
#ifndef SDMARK_MEASURE_H
#define SDMARK_MEASURE_H

#include <stddef.h>

struct sd_measure_opts {
    double warmup_ms;      /* warm-up by time; the check run counts (see row_phases.c warm_up) */
    double min_time_s;     /* minimum total sampled time before stopping on min_time */
    int min_samples;
    int max_samples;
    double max_noise;      /* stop when rel noise <= this (0.005 = 0.5 %) */
    double timeout_s;      /* hard limit per row */
};

void sd_measure_defaults(struct sd_measure_opts *o);

struct sd_stats {
    int n;
    double median, min, max, mean, p10, p90;
    double rel_noise;      /* stdev/mean of batch medians (batches of 5), or of samples if n < 10 */
};

/* Compute statistics of samples (sorted copy; input unchanged). */
void sd_stats_compute(const double *samples, int n, struct sd_stats *st);

/* Stopping rule. elapsed_s: wall time since sampling began. Returns NULL to continue or the
 * stop_reason: "noise", "min_time", "max_samples", "timeout". */
const char *sd_measure_should_stop(const struct sd_measure_opts *o, const double *samples, int n,
                                   double elapsed_s);

/* Percentile (0..100) of a sorted array, linear interpolation. */
double sd_percentile_sorted(const double *sorted, int n, double pct);

double sd_now_s(void);     /* monotonic clock, seconds */

#endif
