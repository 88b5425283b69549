/* test_measure.c — sample statistics, percentiles and the adaptive stopping rule (src/core/measure.c).
 * Expected values are hand-computed: percentile = linear interpolation at pct/100*(n-1) of the
 * sorted samples; noise = sample stdev / mean (n < 10) or of the medians of batches of 5. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <stdlib.h>

#include "sdmark/fault.h"
#include "sdmark/measure.h"

#define EPS 1e-12
static int near(double a, double b) { return fabs(a - b) <= EPS * (1 + fabs(b)); }
#define assert_near(a, b) assert_true(near((a), (b)))

static void test_stats_known_samples(void **state)
{
    (void)state;
    /* 1..10, shuffled: the input must stay unchanged */
    double x[10] = {7, 3, 10, 1, 9, 2, 8, 5, 4, 6}, copy[10];
    memcpy(copy, x, sizeof x);
    struct sd_stats st;
    sd_stats_compute(x, 10, &st);
    assert_memory_equal(x, copy, sizeof x);
    assert_int_equal(st.n, 10);
    assert_near(st.min, 1);
    assert_near(st.max, 10);
    assert_near(st.mean, 5.5);
    assert_near(st.median, 5.5); /* pos 4.5 */
    assert_near(st.p10, 1.9);    /* pos 0.9: 1*0.1 + 2*0.9 */
    assert_near(st.p90, 9.1);    /* pos 8.1: 9*0.9 + 10*0.1 */
    /* n = 10: noise over the 2 batch medians in time order: [7,3,10,1,9] -> 7, [2,8,5,4,6] -> 5;
     * mean 6, stdev sqrt(2) -> sqrt(2)/6 */
    assert_near(st.rel_noise, sqrt(2.0) / 6.0);
}

static void test_stats_odd_count_and_small_n(void **state)
{
    (void)state;
    double x[5] = {5, 1, 4, 2, 3};
    struct sd_stats st;
    sd_stats_compute(x, 5, &st);
    assert_near(st.median, 3);
    assert_near(st.p10, 1.4);  /* pos 0.4 */
    assert_near(st.p90, 4.6);  /* pos 3.6 */
    assert_near(st.min, 1);
    /* n < 10: relative stdev of the samples: mean 3, var 2.5 */
    assert_near(st.rel_noise, sqrt(2.5) / 3.0);

    double one = 2.5;
    sd_stats_compute(&one, 1, &st);
    assert_int_equal(st.n, 1);
    assert_near(st.median, 2.5);
    assert_near(st.min, 2.5);
    assert_near(st.max, 2.5);
    assert_near(st.p10, 2.5);
    assert_near(st.p90, 2.5);
    assert_true(isnan(st.rel_noise));

    double two[2] = {2, 4};
    sd_stats_compute(two, 2, &st);
    assert_near(st.median, 3);
    assert_near(st.p10, 2.2);
    assert_near(st.p90, 3.8);
    assert_near(st.rel_noise, sqrt(2.0) / 3.0);

    sd_stats_compute(NULL, 0, &st);
    assert_int_equal(st.n, 0);
    assert_true(isnan(st.median) && isnan(st.min) && isnan(st.max) && isnan(st.mean));
    assert_true(isnan(st.p10) && isnan(st.p90) && isnan(st.rel_noise));
    sd_stats_compute(x, -3, &st);
    assert_true(isnan(st.median));
}

static void test_noise_constant_is_zero(void **state)
{
    (void)state;
    double x[1000];
    for (int i = 0; i < 1000; i++)
        x[i] = 0.125;
    struct sd_stats st;
    for (int n = 2; n <= 1000; n += (n < 30 ? 1 : 97)) {
        sd_stats_compute(x, n, &st);
        assert_true(st.rel_noise == 0.0);
        assert_true(st.median == 0.125 && st.p10 == 0.125 && st.p90 == 0.125 && st.min == 0.125);
    }
    /* all-zero samples: relative noise is undefined, not 0 and not a division by zero */
    double z[10] = {0};
    sd_stats_compute(z, 10, &st);
    assert_true(isnan(st.rel_noise));
}

static void test_noise_batch_medians_ignore_outliers(void **state)
{
    (void)state;
    /* one huge outlier per batch does not move the batch medians */
    double x[20];
    for (int i = 0; i < 20; i++)
        x[i] = (i % 5 == 2) ? 1000.0 : 1.0;
    struct sd_stats st;
    sd_stats_compute(x, 20, &st);
    assert_true(st.rel_noise == 0.0);
    assert_near(st.max, 1000);
    /* partial last batch is ignored: 12 samples = 2 full batches */
    double y[12] = {1, 1, 1, 1, 1, 3, 3, 3, 3, 3, 50, 50};
    sd_stats_compute(y, 12, &st);
    assert_near(st.rel_noise, sqrt(2.0) / 2.0); /* medians 1 and 3 */
}

static void test_percentile_edges(void **state)
{
    (void)state;
    const double s[4] = {10, 20, 30, 40};
    assert_near(sd_percentile_sorted(s, 4, 0), 10);
    assert_near(sd_percentile_sorted(s, 4, 100), 40);
    assert_near(sd_percentile_sorted(s, 4, 50), 25);
    assert_near(sd_percentile_sorted(s, 4, 100.0 / 3.0), 20); /* pos exactly 1 */
    assert_near(sd_percentile_sorted(s, 4, 99.999), 40 - 0.0003);
    /* out of range percentiles clamp instead of reading outside the array */
    assert_near(sd_percentile_sorted(s, 4, -5), 10);
    assert_near(sd_percentile_sorted(s, 4, -1e300), 10);
    assert_near(sd_percentile_sorted(s, 4, 150), 40);
    assert_near(sd_percentile_sorted(s, 4, 1e300), 40);
    assert_near(sd_percentile_sorted(s, 4, INFINITY), 40);
    assert_near(sd_percentile_sorted(s, 4, -INFINITY), 10);
    assert_true(isnan(sd_percentile_sorted(s, 4, NAN)));
    /* degenerate sizes */
    assert_true(isnan(sd_percentile_sorted(s, 0, 50)));
    assert_true(isnan(sd_percentile_sorted(NULL, 0, 50)));
    assert_true(isnan(sd_percentile_sorted(s, -1, 50)));
    assert_near(sd_percentile_sorted(s, 1, 0), 10);
    assert_near(sd_percentile_sorted(s, 1, 90), 10);
    assert_near(sd_percentile_sorted(s, 1, -7), 10);
}

static void test_measure_defaults(void **state)
{
    (void)state;
    struct sd_measure_opts o;
    memset(&o, 0xff, sizeof o);
    sd_measure_defaults(&o);
    assert_near(o.max_noise, 0.005); /* docs/measurement.md: 0.5 % */
    assert_true(o.min_samples >= 1 && o.min_samples <= o.max_samples);
    assert_true(o.min_time_s > 0 && o.timeout_s > o.min_time_s);
    assert_true(o.warmup_ms > 0);
}

static struct sd_measure_opts opts(void)
{
    struct sd_measure_opts o = {.warmup_ms = 10, .min_time_s = 0.5, .min_samples = 10, .max_samples = 100,
                                .max_noise = 0.005, .timeout_s = 15};
    return o;
}

static void test_stop_min_samples(void **state)
{
    (void)state;
    struct sd_measure_opts o = opts();
    double x[100];
    for (int i = 0; i < 100; i++)
        x[i] = 1.0;
    /* fewer than min_samples: continue, however quiet and however long (short of the timeout) */
    for (int n = 0; n < 10; n++) {
        assert_null(sd_measure_should_stop(&o, x, n, 0.0));
        assert_null(sd_measure_should_stop(&o, x, n, 14.9));
    }
    /* min_samples reached with zero noise: stop on noise */
    assert_string_equal(sd_measure_should_stop(&o, x, 10, 0.0), "noise");
    /* the noise rule needs two whole batches even when min_samples is lower */
    o.min_samples = 2;
    for (int n = 2; n < 10; n++)
        assert_null(sd_measure_should_stop(&o, x, n, 0.01));
    assert_string_equal(sd_measure_should_stop(&o, x, 10, 0.01), "noise");
}

static void test_stop_noise_only_on_whole_batches(void **state)
{
    (void)state;
    struct sd_measure_opts o = opts();
    double x[100];
    for (int i = 0; i < 100; i++)
        x[i] = 1.0;
    assert_null(sd_measure_should_stop(&o, x, 11, 0.1));
    assert_null(sd_measure_should_stop(&o, x, 14, 0.1));
    assert_string_equal(sd_measure_should_stop(&o, x, 15, 0.1), "noise");
    /* noisy batches: medians alternate 1 and 2 -> noise ~ 0.33 > 0.5 %: no noise stop */
    for (int i = 0; i < 100; i++)
        x[i] = ((i / 5) % 2) ? 2.0 : 1.0;
    assert_null(sd_measure_should_stop(&o, x, 20, 0.1));
    /* noise exactly at the threshold stops (<=) */
    double y[10] = {1, 1, 1, 1, 1, 2, 2, 2, 2, 2}; /* medians 1, 2: sqrt(0.5)/1.5 = 0.4714 */
    o.max_noise = sqrt(0.5) / 1.5;
    assert_string_equal(sd_measure_should_stop(&o, y, 10, 0.1), "noise");
    o.max_noise = sqrt(0.5) / 1.5 * 0.999;
    assert_null(sd_measure_should_stop(&o, y, 10, 0.1));
}

static void test_stop_min_time(void **state)
{
    (void)state;
    struct sd_measure_opts o = opts();
    double x[100];
    for (int i = 0; i < 100; i++)
        x[i] = ((i / 5) % 2) ? 2.0 : 1.0; /* never quiet */
    assert_null(sd_measure_should_stop(&o, x, 10, 0.49));
    assert_string_equal(sd_measure_should_stop(&o, x, 10, 0.5), "min_time");
    assert_string_equal(sd_measure_should_stop(&o, x, 13, 3.0), "min_time"); /* any n >= min_samples */
    /* min_time alone never stops before min_samples */
    assert_null(sd_measure_should_stop(&o, x, 9, 3.0));
    /* a quiet run past min_time on a whole batch reports noise (checked first) */
    double q[10];
    for (int i = 0; i < 10; i++)
        q[i] = 3.0;
    assert_string_equal(sd_measure_should_stop(&o, q, 10, 1.0), "noise");
}

static void test_stop_timeout_and_max_samples(void **state)
{
    (void)state;
    struct sd_measure_opts o = opts();
    double x[200];
    for (int i = 0; i < 200; i++)
        x[i] = ((i / 5) % 2) ? 2.0 : 1.0;
    /* timeout beats min_samples, but only once there is at least one sample */
    assert_null(sd_measure_should_stop(&o, x, 0, 100.0));
    assert_string_equal(sd_measure_should_stop(&o, x, 1, 15.0), "timeout");
    assert_string_equal(sd_measure_should_stop(&o, x, 3, 100.0), "timeout");
    assert_null(sd_measure_should_stop(&o, x, 3, 14.99));
    /* max_samples beats everything */
    assert_string_equal(sd_measure_should_stop(&o, x, 100, 0.0), "max_samples");
    assert_string_equal(sd_measure_should_stop(&o, x, 150, 100.0), "max_samples");
    double q[100];
    for (int i = 0; i < 100; i++)
        q[i] = 1.0;
    assert_string_equal(sd_measure_should_stop(&o, q, 100, 0.0), "max_samples");
    /* max_samples below min_samples: max_samples still stops */
    o.max_samples = 3;
    assert_string_equal(sd_measure_should_stop(&o, x, 3, 0.0), "max_samples");
    assert_null(sd_measure_should_stop(&o, x, 2, 0.0));
}

static void test_stop_sequence_terminates(void **state)
{
    (void)state;
    /* Drive the rule like the harness does: it must stop, and at a sane point. */
    struct sd_measure_opts o;
    sd_measure_defaults(&o);
    static double x[20000];
    int n = 0;
    const char *why = NULL;
    double t = 0;
    while (!why) {
        assert_true(n < 20000);
        x[n] = 1.0 + 0.001 * ((n * 7919) % 13); /* ~0.4 % spread, batch medians close */
        n++;
        t += 1e-3;
        why = sd_measure_should_stop(&o, x, n, t);
    }
    assert_true(n >= o.min_samples && n <= o.max_samples);
    assert_true(!strcmp(why, "noise") || !strcmp(why, "min_time"));
}

static void test_clock_monotonic(void **state)
{
    (void)state;
    double a = sd_now_s();
    double prev = a;
    for (int i = 0; i < 1000; i++) {
        double b = sd_now_s();
        assert_true(b >= prev);
        prev = b;
    }
    assert_true(a > 0);
}

/* The lying timers SDMARK_FAULT=timer=... simulates (the harness must catch each, test_run.c). */
static void test_fault_timer_lies(void **state)
{
    (void)state;
    unsetenv("SDMARK_FAULT");
    sd_fault_reset();
    assert_int_equal(sd_fault_timer(), SD_FAULT_TIMER_HONEST);
    assert_true(sd_fault_timer_ms(1.25, 100.0) == 1.25);
    setenv("SDMARK_FAULT", "alloc=3,timer=zero", 1);
    sd_fault_reset();
    assert_true(sd_fault_timer_ms(1.25, 100.0) == 0);
    setenv("SDMARK_FAULT", "timer=scaled", 1);
    sd_fault_reset();
    assert_true(sd_fault_timer_ms(1.25, 100.0) == 12.5);
    setenv("SDMARK_FAULT", "timer=fast", 1);
    sd_fault_reset();
    assert_true(fabs(sd_fault_timer_ms(1.25, 100.0) - 1.25e-3) < 1e-15);
    setenv("SDMARK_FAULT", "timer=coarse", 1);
    sd_fault_reset();
    /* 4 ms ticks: a 1 ms run reads 0 or 4; one starting 0.5 ms before a tick reads 4 */
    assert_true(sd_fault_timer_ms(1.0, 100.0) == 0);      /* t = 100000 .. 100001 ms: no tick */
    assert_true(sd_fault_timer_ms(1.0, 100.0035) == 4);   /* crosses the tick at 100004 ms */
    assert_true(sd_fault_timer_ms(9.0, 100.0) == 8);      /* whole ticks, within one of the truth */
    setenv("SDMARK_FAULT", "timer=bogus", 1);
    sd_fault_reset();
    assert_int_equal(sd_fault_timer(), SD_FAULT_TIMER_HONEST);
    unsetenv("SDMARK_FAULT");
    sd_fault_reset();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stats_known_samples),
        cmocka_unit_test(test_stats_odd_count_and_small_n),
        cmocka_unit_test(test_noise_constant_is_zero),
        cmocka_unit_test(test_noise_batch_medians_ignore_outliers),
        cmocka_unit_test(test_percentile_edges),
        cmocka_unit_test(test_measure_defaults),
        cmocka_unit_test(test_stop_min_samples),
        cmocka_unit_test(test_stop_noise_only_on_whole_batches),
        cmocka_unit_test(test_stop_min_time),
        cmocka_unit_test(test_stop_timeout_and_max_samples),
        cmocka_unit_test(test_stop_sequence_terminates),
        cmocka_unit_test(test_clock_monotonic),
        cmocka_unit_test(test_fault_timer_lies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
