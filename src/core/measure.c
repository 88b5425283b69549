/* measure.c — statistics of timing samples and the adaptive stopping rule.
 *
 * Noise is the relative standard deviation of the medians of consecutive batches of 5 samples
 * (robust against single outliers, like nvbench's stdrel on batch means). With fewer than 10
 * samples it is the relative stdev of the samples themselves. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sdmark/measure.h"

#define BATCH 5

void sd_measure_defaults(struct sd_measure_opts *o)
{
    o->warmup_ms = 100;
    o->min_time_s = 0.5;
    o->min_samples = 10;
    o->max_samples = 10000;
    o->max_noise = 0.005;
    o->timeout_s = 15;
}

double sd_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double sd_percentile_sorted(const double *s, int n, double pct)
{
    if (n <= 0)
        return NAN;
    if (isnan(pct))
        return NAN;
    if (n == 1 || pct <= 0) /* pct < 0 read s[-1]; a huge pct overflowed the (int) cast */
        return s[0];
    if (pct >= 100)
        return s[n - 1];
    double pos = pct / 100.0 * (n - 1);
    int i = (int)floor(pos);
    if (i >= n - 1)
        return s[n - 1];
    double f = pos - i;
    return s[i] * (1 - f) + s[i + 1] * f;
}

static double rel_std(const double *x, int n)
{
    if (n < 2)
        return NAN;
    double mean = 0, var = 0;
    for (int i = 0; i < n; i++)
        mean += x[i];
    mean /= n;
    for (int i = 0; i < n; i++)
        var += (x[i] - mean) * (x[i] - mean);
    var /= (n - 1);
    return mean > 0 ? sqrt(var) / mean : NAN;
}

static double noise_of(const double *samples, int n)
{
    if (n < 2 * BATCH)
        return rel_std(samples, n);
    int nb = n / BATCH;
    double med[nb > 0 ? nb : 1], tmp[BATCH];
    for (int b = 0; b < nb; b++) {
        memcpy(tmp, samples + b * BATCH, sizeof tmp);
        qsort(tmp, BATCH, sizeof(double), cmp_d);
        med[b] = tmp[BATCH / 2];
    }
    return rel_std(med, nb);
}

void sd_stats_compute(const double *samples, int n, struct sd_stats *st)
{
    memset(st, 0, sizeof *st);
    st->n = n;
    if (n <= 0) {
        st->median = st->min = st->max = st->mean = st->p10 = st->p90 = st->rel_noise = NAN;
        return;
    }
    double *s = malloc(sizeof(double) * (size_t)n);
    if (!s) {
        st->median = st->min = st->max = st->mean = st->p10 = st->p90 = st->rel_noise = NAN;
        return;
    }
    memcpy(s, samples, sizeof(double) * (size_t)n);
    qsort(s, (size_t)n, sizeof(double), cmp_d);
    double sum = 0;
    for (int i = 0; i < n; i++)
        sum += s[i];
    st->mean = sum / n;
    st->min = s[0];
    st->max = s[n - 1];
    st->median = sd_percentile_sorted(s, n, 50);
    st->p10 = sd_percentile_sorted(s, n, 10);
    st->p90 = sd_percentile_sorted(s, n, 90);
    st->rel_noise = n >= 2 ? noise_of(samples, n) : NAN;
    free(s);
}

const char *sd_measure_should_stop(const struct sd_measure_opts *o, const double *samples, int n,
                                   double elapsed_s)
{
    if (n >= o->max_samples)
        return "max_samples";
    if (elapsed_s >= o->timeout_s && n >= 1)
        return "timeout";
    if (n < o->min_samples)
        return NULL;
    /* Check the noise on whole batches only, so each decision sees the same statistic. */
    if (n % BATCH == 0) {
        double noise = noise_of(samples, n);
        if (noise <= o->max_noise && n >= 2 * BATCH)
            return "noise";
    }
    if (elapsed_s >= o->min_time_s)
        return "min_time";
    return NULL;
}
