/* test_memtrack.c — the core's memory tracker (sdmark/memtrack.h), used by every backend. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "sdmark/memtrack.h"

static void test_records(void **state)
{
    (void)state;
    struct sd_memtrack t = {0};
    int a, b, c; /* fake device pointers */
    assert_int_equal(sd_memtrack_add(&t, &a, 1000, "input"), 0);
    assert_int_equal(sd_memtrack_add(&t, &b, 32u << 20, "cublas workspace"), 0);
    assert_int_equal(t.current, 1000 + (32u << 20));
    assert_int_equal(t.peak, t.current);
    assert_ptr_equal(sd_memtrack_last(&t), &b);
    assert_int_equal(sd_memtrack_bytes_of(&t, "cublas workspace"), 32u << 20);
    assert_int_equal(sd_memtrack_remove(&t, &b), 32u << 20);
    assert_int_equal(t.current, 1000);
    assert_int_equal(t.peak, 1000 + (32u << 20)); /* the workspace still counts in the peak */
    assert_int_equal(sd_memtrack_remove(&t, &c), 0); /* unknown pointer */
    sd_memtrack_reset_peak(&t);
    assert_int_equal(t.peak, 1000);
    for (int i = 0; i < 100; i++) /* grows past the initial capacity */
        assert_int_equal(sd_memtrack_add(&t, (char *)&c + i, 10, "output"), 0);
    assert_int_equal(t.current, 2000);
    assert_int_equal(sd_memtrack_bytes_of(&t, "output"), 1000);
    for (int i = 0; i < 100; i++)
        assert_int_equal(sd_memtrack_remove(&t, (char *)&c + i), 10);
    assert_int_equal(sd_memtrack_remove(&t, &a), 1000);
    assert_int_equal(t.current, 0);
    assert_int_equal(t.peak, 2000);
    assert_null(sd_memtrack_last(&t));
    sd_memtrack_destroy(&t);
    assert_null(t.rec);
}

/* Byte counting (cpu, OpenCL): peak follows, removal never goes below zero. */
static void test_count(void **state)
{
    (void)state;
    struct sd_memtrack t = {0};
    sd_memtrack_count(&t, 300);
    sd_memtrack_count(&t, 700);
    sd_memtrack_count(&t, -600);
    assert_int_equal(t.current, 400);
    assert_int_equal(t.peak, 1000);
    sd_memtrack_count(&t, -5000); /* a library estimate returned larger than it was added */
    assert_int_equal(t.current, 0);
    struct sd_mem_stats ms = {0};
    sd_memtrack_reset_peak(&t);
    sd_memtrack_count(&t, 64);
    sd_memtrack_stats(&t, &ms);
    assert_int_equal(ms.current_bytes, 64);
    assert_int_equal(ms.peak_bytes, 64);
    sd_memtrack_destroy(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_records),
        cmocka_unit_test(test_count),
    };
    return cmocka_run_group_tests_name("memtrack", tests, NULL, NULL);
}
