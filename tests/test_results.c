/* test_results.c — results files (src/core/result_file.c): CSV and JSON round trips with every column
 * filled, atomic replacement, failure modes of the writer (missing / unwritable directory,
 * SDMARK_FAULT=write=N), locale independence, and every reader error with its exact text. */
#include <dirent.h>
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "sdmark/fault.h"
#include "sdmark/result.h"

static char tmpdir[256];

static int setup_dir(void **state)
{
    (void)state;
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/sdmark-results-test-XXXXXX", base && *base ? base : "/tmp");
    unsetenv("SDMARK_FAULT");
    sd_fault_reset();
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_dir(void **state)
{
    (void)state;
    char cmd[700];
    snprintf(cmd, sizeof cmd, "chmod -R u+w '%s'; rm -rf '%s'", tmpdir, tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static void tpath(char *buf, size_t len, const char *name) { snprintf(buf, len, "%s/%s", tmpdir, name); }

static void write_text(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static char buf[1 << 20];
    *len = fread(buf, 1, sizeof buf - 1, f);
    buf[*len] = 0;
    fclose(f);
    char *copy = malloc(*len + 1);
    assert_non_null(copy);
    memcpy(copy, buf, *len + 1);
    return copy;
}

/* Number of directory entries other than . and .. */
static int dir_entries(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            n++;
    closedir(d);
    return n;
}

/* A row with every column set to a non-default value; i varies it. */
static void fill_row(struct sd_result *r, int i)
{
    sd_result_init(r);
    r->schema_version = 1;
    snprintf(r->sdmark_version, sizeof r->sdmark_version, "0.1.%d", i);
    snprintf(r->git_commit, sizeof r->git_commit, "0123456789ab-dirty");
    snprintf(r->run_id, sizeof r->run_id, "run-%d", i);
    snprintf(r->timestamp_utc, sizeof r->timestamp_utc, "2024-05-0%dT12:34:56Z", i + 1);
    snprintf(r->host, sizeof r->host, "host,with \"comma\" %d", i);
    snprintf(r->dev.backend, sizeof r->dev.backend, "opencl");
    snprintf(r->dev.name, sizeof r->dev.name, "NVIDIA H100 80GB HBM3, \"rev\" %d", i);
    snprintf(r->dev.arch, sizeof r->dev.arch, "sm_90");
    snprintf(r->dev.driver_version, sizeof r->dev.driver_version, "550.54.15");
    snprintf(r->dev.api_version, sizeof r->dev.api_version, "OpenCL 3.0 CUDA 12.4.131");
    r->dev.compute_units = 132;
    r->dev.threads = 16 + i;
    r->dev.clock_mhz = 1980;
    r->dev.mem_bytes = UINT64_MAX - (uint64_t)i;         /* beyond 2^53 and int64 */
    r->dev.l2_bytes = (UINT64_C(1) << 53) + 1;          /* not representable as a double */
    sd_workload_init(&r->wl, (enum sd_op)(i % SD_OP_COUNT));
    snprintf(r->wl.suite, sizeof r->wl.suite, "sd15");
    snprintf(r->wl.label, sizeof r->wl.label, "attn_proj.%d", 64 >> i);
    r->wl.dtype = SD_BF16;
    r->wl.acc = SD_FP16;
    snprintf(r->wl.layout, sizeof r->wl.layout, "NHWC");
    r->wl.batch = 2, r->wl.m = INT64_MAX - i, r->wl.n = 320, r->wl.k = 768;
    r->wl.c_in = 4, r->wl.c_out = 5, r->wl.h = 6, r->wl.w = 7, r->wl.r = 3, r->wl.s = 1, r->wl.stride = 2;
    r->wl.pad = INT64_MIN + i; /* negative 64-bit */
    r->wl.batch_heads = 16, r->wl.seq_q = 4096, r->wl.seq_kv = 77, r->wl.head_dim = 40;
    r->wl.count = 2.5 + i;
    snprintf(r->impl, sizeof r->impl, "cublas");
    r->flops = 1.6777216e9;
    r->bytes_min = 1234567.5;
    snprintf(r->timer, sizeof r->timer, "cuda_event");
    snprintf(r->cache_mode, sizeof r->cache_mode, "cold");
    r->warmup_ms = 100.25;
    r->samples = 123 + i;
    snprintf(r->stop_reason, sizeof r->stop_reason, "max_samples");
    r->time_ms_median = 0.123456789;
    r->time_ms_min = 1e-9;
    r->time_ms_p10 = 0.1;
    r->time_ms_p90 = 1e300;
    r->rel_noise = 0.0045;
    r->tflops = -0.0; /* written as "-0" */
    r->gbs = 2039.5;
    r->pct_of_spec = 73.25;
    r->clock_mhz_mean = 1755.5;
    r->temp_c_max = -12.5;
    r->power_w_mean = 699.875;
    r->throttled = i & 1;
    r->peak_mem_bytes = 858993459.0;
    snprintf(r->verify, sizeof r->verify, "fail");
    r->max_rel_err = 3.5e-3;
    r->tolerance = 1e-2;
    r->status = (enum sd_status)(SD_WRONG - i % 2);
    snprintf(r->reason, sizeof r->reason, "max err 3.5e-3, \"tol\" 1e-2,\nsee line %d\r\nend", i);
}

static void assert_dbl_same(double a, double b)
{
    if (isnan(b))
        assert_true(isnan(a));
    else
        assert_true(a == b && signbit(a) == signbit(b));
}

/* Every column of the file, compared; `reason_expected` is the reason after a round trip. */
static void assert_row_equal(const struct sd_result *a, const struct sd_result *b, const char *reason_expected)
{
    assert_int_equal(a->schema_version, b->schema_version);
    assert_string_equal(a->sdmark_version, b->sdmark_version);
    assert_string_equal(a->git_commit, b->git_commit);
    assert_string_equal(a->run_id, b->run_id);
    assert_string_equal(a->timestamp_utc, b->timestamp_utc);
    assert_string_equal(a->host, b->host);
    assert_string_equal(a->dev.backend, b->dev.backend);
    assert_string_equal(a->dev.name, b->dev.name);
    assert_string_equal(a->dev.arch, b->dev.arch);
    assert_string_equal(a->dev.driver_version, b->dev.driver_version);
    assert_string_equal(a->dev.api_version, b->dev.api_version);
    assert_int_equal(a->dev.compute_units, b->dev.compute_units);
    assert_int_equal(a->dev.threads, b->dev.threads);
    assert_int_equal(a->dev.clock_mhz, b->dev.clock_mhz);
    assert_true(a->dev.mem_bytes == b->dev.mem_bytes);
    assert_true(a->dev.l2_bytes == b->dev.l2_bytes);
    assert_string_equal(a->wl.suite, b->wl.suite);
    assert_int_equal(a->wl.op, b->wl.op);
    assert_string_equal(a->impl, b->impl);
    assert_string_equal(a->wl.label, b->wl.label);
    assert_int_equal(a->wl.dtype, b->wl.dtype);
    assert_int_equal(a->wl.acc, b->wl.acc);
    assert_string_equal(a->wl.layout, b->wl.layout);
    const int64_t *ia[] = {&a->wl.batch, &a->wl.m, &a->wl.n, &a->wl.k, &a->wl.c_in, &a->wl.c_out, &a->wl.h,
                           &a->wl.w, &a->wl.r, &a->wl.s, &a->wl.stride, &a->wl.pad, &a->wl.batch_heads,
                           &a->wl.seq_q, &a->wl.seq_kv, &a->wl.head_dim};
    const int64_t *ib[] = {&b->wl.batch, &b->wl.m, &b->wl.n, &b->wl.k, &b->wl.c_in, &b->wl.c_out, &b->wl.h,
                           &b->wl.w, &b->wl.r, &b->wl.s, &b->wl.stride, &b->wl.pad, &b->wl.batch_heads,
                           &b->wl.seq_q, &b->wl.seq_kv, &b->wl.head_dim};
    for (size_t i = 0; i < sizeof ia / sizeof ia[0]; i++)
        assert_true(*ia[i] == *ib[i]);
    assert_dbl_same(a->wl.count, b->wl.count);
    assert_dbl_same(a->flops, b->flops);
    assert_dbl_same(a->bytes_min, b->bytes_min);
    assert_string_equal(a->timer, b->timer);
    assert_string_equal(a->cache_mode, b->cache_mode);
    assert_dbl_same(a->warmup_ms, b->warmup_ms);
    assert_int_equal(a->samples, b->samples);
    assert_string_equal(a->stop_reason, b->stop_reason);
    assert_dbl_same(a->time_ms_median, b->time_ms_median);
    assert_dbl_same(a->time_ms_min, b->time_ms_min);
    assert_dbl_same(a->time_ms_p10, b->time_ms_p10);
    assert_dbl_same(a->time_ms_p90, b->time_ms_p90);
    assert_dbl_same(a->rel_noise, b->rel_noise);
    assert_dbl_same(a->tflops, b->tflops);
    assert_dbl_same(a->gbs, b->gbs);
    assert_dbl_same(a->pct_of_spec, b->pct_of_spec);
    assert_dbl_same(a->clock_mhz_mean, b->clock_mhz_mean);
    assert_dbl_same(a->temp_c_max, b->temp_c_max);
    assert_dbl_same(a->power_w_mean, b->power_w_mean);
    assert_int_equal(a->throttled, b->throttled);
    assert_dbl_same(a->peak_mem_bytes, b->peak_mem_bytes);
    assert_string_equal(a->verify, b->verify);
    assert_dbl_same(a->max_rel_err, b->max_rel_err);
    assert_dbl_same(a->tolerance, b->tolerance);
    assert_int_equal(a->status, b->status);
    assert_string_equal(a->reason, reason_expected);
    assert_null(a->wl.file);
    assert_int_equal(a->wl.line, 0);
}

static void write_ok(const char *path, const char *fmt, const struct sd_result *rows, size_t n)
{
    char err[512] = "";
    int rc = sd_results_write(path, fmt, rows, n, err, sizeof err);
    if (rc)
        print_error("write failed: %s\n", err);
    assert_int_equal(rc, 0);
}

static struct sd_result *read_ok(const char *path, size_t *n)
{
    char err[512] = "";
    struct sd_result *rows = NULL;
    int rc = sd_results_read(path, &rows, n, err, sizeof err);
    if (rc)
        print_error("read failed: %s\n", err);
    assert_int_equal(rc, 0);
    return rows;
}

/* Read `path`, expect failure with exactly "<path><suffix>". */
static void read_err(const char *path, const char *suffix)
{
    char err[512] = "", want[1024];
    struct sd_result *rows = (struct sd_result *)&want; /* must be reset to NULL */
    size_t n = 99;
    assert_int_equal(sd_results_read(path, &rows, &n, err, sizeof err), -1);
    snprintf(want, sizeof want, "%s%s", path, suffix);
    assert_string_equal(err, want);
    assert_null(rows);
    assert_int_equal(n, 0);
}

/* Write text as name and expect the reader error "<path><suffix>". */
static void text_err(const char *name, const char *text, const char *suffix)
{
    char path[512];
    tpath(path, sizeof path, name);
    write_text(path, text, strlen(text));
    read_err(path, suffix);
}

/* ------------------------------------------------------------------ basics */

static void test_init_and_header(void **state)
{
    (void)state;
    struct sd_result r;
    memset(&r, 0x77, sizeof r);
    sd_result_init(&r);
    assert_int_equal(r.schema_version, SD_SCHEMA_VERSION);
    assert_true(isnan(r.time_ms_median) && isnan(r.tflops) && isnan(r.flops) && isnan(r.wl.count));
    assert_true(isnan(r.peak_mem_bytes) && isnan(r.max_rel_err) && isnan(r.warmup_ms));
    assert_int_equal(r.throttled, -1);
    assert_int_equal(r.status, SD_ERROR);
    assert_string_equal(r.verify, "none");
    assert_string_equal(r.reason, "");
    assert_string_equal(r.dev.name, "");

    const char *h = sd_csv_header();
    assert_int_equal(strncmp(h, "schema_version,sdmark_version,git_commit,run_id,timestamp_utc,host,backend,", 75), 0);
    const char *tail = ",verify,max_rel_err,tolerance,status,reason";
    assert_string_equal(h + strlen(h) - strlen(tail), tail);
    assert_null(strchr(h, '\n'));
    /* the columns of docs/results.md appear in its order */
    const char *cols[] = {"schema_version", "device_name", "compute_units", "mem_bytes", "last_level_cache_bytes", "suite", "op",
                          "impl", "label", "dtype", "acc", "layout", "batch", "head_dim", "count_per_step", "flops",
                          "bytes_min", "timer", "cache_mode", "warmup_ms", "samples", "stop_reason",
                          "time_ms_median", "time_ms_min", "time_ms_p10", "time_ms_p90", "rel_noise", "tflops",
                          "gbs", "pct_of_spec", "clock_mhz_mean", "temp_c_max", "power_w_mean", "peak_mem_bytes",
                          "verify", "status", "reason"};
    const char *p = h;
    for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++) {
        char needle[64];
        snprintf(needle, sizeof needle, "%s%s,", i ? "," : "", cols[i]);
        const char *q = i ? strstr(p, needle) : h;
        if (i == sizeof cols / sizeof cols[0] - 1)
            q = strstr(p, ",reason");
        assert_non_null(q);
        p = q + 1;
    }
    assert_ptr_equal(sd_csv_header(), h); /* stable */
}

static void test_result_key(void **state)
{
    (void)state;
    struct sd_result r;
    sd_result_init(&r);
    sd_workload_init(&r.wl, SD_OP_GEMM);
    snprintf(r.wl.suite, sizeof r.wl.suite, "sd15");
    snprintf(r.wl.label, sizeof r.wl.label, "ff_in.64");
    snprintf(r.impl, sizeof r.impl, "own");
    r.wl.m = 8192, r.wl.n = 2560, r.wl.k = 320;
    r.wl.dtype = SD_FP16;
    char key[256];
    sd_result_key(&r, key, sizeof key);
    assert_string_equal(key, "sd15|gemm|own|ff_in.64|fp16|fp32|m=8192 n=2560 k=320");
    char small[8];
    sd_result_key(&r, small, sizeof small);
    assert_string_equal(small, "sd15|ge");
}

/* ------------------------------------------------------------------ round trips */

static void test_csv_round_trip_all_columns(void **state)
{
    (void)state;
    struct sd_result rows[3];
    for (int i = 0; i < 3; i++)
        fill_row(&rows[i], i);
    char path[512];
    tpath(path, sizeof path, "rt.csv");
    write_ok(path, "csv", rows, 3);

    /* the file: header + exactly one physical line per row (newlines in strings become spaces) */
    size_t len;
    char *text = slurp(path, &len);
    int lines = 0;
    for (size_t i = 0; i < len; i++)
        lines += text[i] == '\n';
    assert_int_equal(lines, 4);
    assert_int_equal(text[len - 1], '\n');
    assert_int_equal(strncmp(text, sd_csv_header(), strlen(sd_csv_header())), 0);
    assert_non_null(strstr(text, "\n1,0.1.0,0123456789ab-dirty,run-0,2024-05-01T12:34:56Z,\"host,with \"\"comma\"\" 0\","));
    assert_non_null(strstr(text, ",18446744073709551615,9007199254740993,"));
    assert_non_null(strstr(text, ",9223372036854775807,320,768,"));
    assert_non_null(strstr(text, ",-9223372036854775808,"));
    assert_non_null(strstr(text, ",\"max err 3.5e-3, \"\"tol\"\" 1e-2, see line 0  end\"\n"));
    assert_non_null(strstr(text, ",0.123456789,1e-09,0.1,1e+300,0.0045,-0,2039.5,73.25,1755.5,-12.5,699.875,0,"));
    assert_null(strstr(text, "nan"));
    free(text);

    size_t n = 0;
    struct sd_result *back = read_ok(path, &n);
    assert_int_equal(n, 3);
    for (int i = 0; i < 3; i++) {
        char reason[SD_REASON_MAX];
        snprintf(reason, sizeof reason, "max err 3.5e-3, \"tol\" 1e-2, see line %d  end", i);
        assert_row_equal(&back[i], &rows[i], reason);
    }
    free(back);
}

static void test_csv_unknown_numbers_are_empty(void **state)
{
    (void)state;
    struct sd_result r[2];
    sd_result_init(&r[0]); /* everything unknown */
    fill_row(&r[1], 1);
    r[1].time_ms_median = INFINITY; /* never written as inf */
    r[1].gbs = -INFINITY;
    r[1].tflops = NAN;
    char path[512];
    tpath(path, sizeof path, "nan.csv");
    write_ok(path, "csv", r, 2);
    size_t len;
    char *text = slurp(path, &len);
    assert_null(strstr(text, "nan"));
    assert_null(strstr(text, "inf"));
    /* row 0: every double empty, throttled -1, status error */
    assert_non_null(strstr(text, "\n3,,,,,,,,,,,,0,0,0,0,0,,gemm,,,fp32,fp32,,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,"
                                 ",,,,,,0,,,,,,,,,,,,,-1,,none,,,error,\n"));
    free(text);
    size_t n;
    struct sd_result *back = read_ok(path, &n);
    assert_int_equal(n, 2);
    assert_true(isnan(back[0].time_ms_median) && isnan(back[0].wl.count) && isnan(back[0].peak_mem_bytes));
    assert_int_equal(back[0].throttled, -1);
    assert_int_equal(back[0].status, SD_ERROR);
    assert_true(isnan(back[1].time_ms_median) && isnan(back[1].gbs) && isnan(back[1].tflops));
    assert_true(back[1].gbs != back[1].gbs);
    assert_dbl_same(back[1].pct_of_spec, 73.25);
    free(back);
}

static void test_csv_precision(void **state)
{
    (void)state;
    /* numbers are written with 9 significant digits: exact for such values, ~1e-9 relative otherwise */
    struct sd_result r;
    fill_row(&r, 0);
    r.time_ms_median = 1.0 / 3.0;
    r.flops = 13421772800.0;
    r.peak_mem_bytes = 85899345921.0; /* 11 digits: written as 8.58993459e+10 */
    char path[512];
    tpath(path, sizeof path, "prec.csv");
    write_ok(path, "csv", &r, 1);
    size_t n;
    struct sd_result *back = read_ok(path, &n);
    assert_true(fabs(back[0].time_ms_median - 1.0 / 3.0) < 1e-9);
    assert_true(back[0].flops == 13421772800.0);
    assert_true(fabs(back[0].peak_mem_bytes - 85899345921.0) <= 85899345921.0 * 1e-9);
    free(back);
}

static void test_csv_reader_tolerance(void **state)
{
    (void)state;
    /* BOM, CRLF, blank lines, columns in another order, an unknown extra column: all fine */
    struct sd_result r;
    fill_row(&r, 0);
    char path[512];
    tpath(path, sizeof path, "t.csv");
    write_ok(path, "csv", &r, 1);
    size_t len;
    char *text = slurp(path, &len);
    char *nl = strchr(text, '\n');
    *nl = 0;
    const char *row = nl + 1;
    /* move the first column (schema_version) to stay first but add "extra" at the end, CRLF, BOM */
    char *buf = malloc(2 * len + 100);
    assert_non_null(buf);
    char *rowcopy = strdup(row);
    rowcopy[strlen(rowcopy) - 1] = 0; /* drop \n */
    int k = sprintf(buf, "\xEF\xBB\xBF%s,extra\r\n\r\n%s,whatever\r\n\n", text, rowcopy);
    tpath(path, sizeof path, "t2.csv");
    write_text(path, buf, (size_t)k);
    size_t n;
    struct sd_result *back = read_ok(path, &n);
    assert_int_equal(n, 1);
    assert_row_equal(&back[0], &r, "max err 3.5e-3, \"tol\" 1e-2, see line 0  end");
    free(back);

    /* header only: zero rows, no allocation */
    k = sprintf(buf, "%s\n", text);
    tpath(path, sizeof path, "hdr.csv");
    write_text(path, buf, (size_t)k);
    back = read_ok(path, &n);
    assert_int_equal(n, 0);
    assert_null(back);

    /* swapped columns (host <-> run_id) are matched by name */
    char *h2 = strdup(text);
    char *pos = strstr(h2, "run_id,timestamp_utc,host");
    memcpy(pos, "host,timestamp_utc,run_id", 25);
    /* the remaining columns come from a row without quoted fields */
    struct sd_result s;
    fill_row(&s, 0);
    snprintf(s.host, sizeof s.host, "plainhost");
    tpath(path, sizeof path, "plain.csv");
    write_ok(path, "csv", &s, 1);
    free(text);
    text = slurp(path, &len);
    row = strchr(text, '\n') + 1;
    const char *rest = row;
    for (int c = 0; c < 6; c++)
        rest = strchr(rest, ',') + 1;
    k = sprintf(buf, "%s\n1,v,c,HOSTVAL,ts,RUNVAL,%s", h2, rest);
    tpath(path, sizeof path, "swapped.csv");
    write_text(path, buf, (size_t)k);
    back = read_ok(path, &n);
    assert_int_equal(n, 1);
    assert_string_equal(back[0].host, "HOSTVAL");
    assert_string_equal(back[0].run_id, "RUNVAL");
    assert_string_equal(back[0].impl, "cublas");
    free(back);
    free(h2);
    free(rowcopy);
    free(buf);
    free(text);
}

static void test_json_round_trip_all_columns(void **state)
{
    (void)state;
    struct sd_result rows[3];
    for (int i = 0; i < 3; i++)
        fill_row(&rows[i], i);
    rows[2].time_ms_median = NAN; /* -> null */
    rows[2].throttled = -1;
    rows[2].dev.mem_bytes = 81559732224ull; /* a real value: stays a JSON number */
    rows[2].wl.m = 8192;
    rows[2].wl.pad = 1;
    char path[512];
    tpath(path, sizeof path, "rt.json");
    write_ok(path, "json", rows, 3);
    size_t len;
    char *text = slurp(path, &len);
    assert_non_null(strstr(text, "\"schema_version\":\t3,"));
    assert_non_null(strstr(text, "\"time_ms_median\":\tnull"));
    assert_non_null(strstr(text, "\"mem_bytes\":\t81559732224,"));
    assert_non_null(strstr(text, "\"m\":\t8192,"));
    assert_non_null(strstr(text, "\"reason\":\t\"max err 3.5e-3, \\\"tol\\\" 1e-2,\\nsee line 0\\r\\nend\""));
    assert_null(strstr(text, "nan"));
    free(text);
    size_t n;
    struct sd_result *back = read_ok(path, &n);
    assert_int_equal(n, 3);
    for (int i = 0; i < 3; i++) {
        char reason[SD_REASON_MAX];
        snprintf(reason, sizeof reason, "max err 3.5e-3, \"tol\" 1e-2,\nsee line %d\r\nend", i); /* JSON keeps them */
        assert_row_equal(&back[i], &rows[i], reason);
    }
    /* CSV and JSON of the same rows read back the same (modulo the CSV newline rule) */
    char cpath[512];
    tpath(cpath, sizeof cpath, "rt-json.csv");
    write_ok(cpath, "csv", back, n);
    size_t nc;
    struct sd_result *viacsv = read_ok(cpath, &nc);
    assert_int_equal(nc, 3);
    assert_row_equal(&viacsv[1], &back[1], "max err 3.5e-3, \"tol\" 1e-2, see line 1  end");
    free(viacsv);
    free(back);

    /* zero rows */
    tpath(path, sizeof path, "empty.json");
    write_ok(path, "json", NULL, 0);
    back = read_ok(path, &n);
    assert_int_equal(n, 0);
    free(back);
}

/* ------------------------------------------------------------------ writer failure modes */

static void test_atomic_replace(void **state)
{
    (void)state;
    char dir[512], path[600];
    tpath(dir, sizeof dir, "atomic");
    assert_int_equal(mkdir(dir, 0755), 0);
    snprintf(path, sizeof path, "%s/r.csv", dir);
    struct sd_result r[2];
    fill_row(&r[0], 0);
    fill_row(&r[1], 1);
    write_ok(path, "csv", r, 1);
    struct stat st1, st2;
    assert_int_equal(stat(path, &st1), 0);
    assert_int_equal(st1.st_mode & 0777, 0644);
    write_ok(path, "csv", r, 2); /* replace */
    assert_int_equal(stat(path, &st2), 0);
    assert_true(st1.st_ino != st2.st_ino); /* a new file renamed over the old, not rewritten in place */
    assert_int_equal(dir_entries(dir), 1); /* no temp file left behind */
    size_t n;
    struct sd_result *back = read_ok(path, &n);
    assert_int_equal(n, 2);
    free(back);
    write_ok(path, "json", r, 1); /* format by argument, not by extension */
    assert_int_equal(dir_entries(dir), 1);
    size_t len;
    char *text = slurp(path, &len);
    assert_int_equal(text[0], '{');
    free(text);
}

static void assert_unchanged(const char *path, const char *before, size_t blen)
{
    size_t len;
    char *now = slurp(path, &len);
    assert_int_equal(len, blen);
    assert_memory_equal(now, before, blen);
    free(now);
}

static void test_write_into_missing_or_unwritable_dir(void **state)
{
    (void)state;
    struct sd_result r;
    fill_row(&r, 0);
    char path[600], err[512], want[800];
    /* nonexistent directory */
    snprintf(path, sizeof path, "%s/no/such/dir/r.csv", tmpdir);
    assert_int_equal(sd_results_write(path, "csv", &r, 1, err, sizeof err), -1);
    snprintf(want, sizeof want, "%s: cannot write results (temp file): No such file or directory", path);
    assert_string_equal(err, want);
    /* a regular file used as a directory */
    char file[512];
    tpath(file, sizeof file, "plainfile");
    write_text(file, "x", 1);
    snprintf(path, sizeof path, "%s/r.csv", file);
    assert_int_equal(sd_results_write(path, "csv", &r, 1, err, sizeof err), -1);
    snprintf(want, sizeof want, "%s: cannot write results (temp file): Not a directory", path);
    assert_string_equal(err, want);
    /* the target is a directory: rename fails, temp file removed */
    char dir[512];
    tpath(dir, sizeof dir, "targetdir");
    assert_int_equal(mkdir(dir, 0755), 0);
    assert_int_equal(sd_results_write(dir, "csv", &r, 1, err, sizeof err), -1);
    snprintf(want, sizeof want, "%s: cannot write results: Is a directory", dir);
    assert_string_equal(err, want);
    /* read-only directory with an old file: error, old file untouched, nothing left behind */
    char ro[512];
    tpath(ro, sizeof ro, "ro");
    assert_int_equal(mkdir(ro, 0755), 0);
    snprintf(path, sizeof path, "%s/old.csv", ro);
    write_ok(path, "csv", &r, 1);
    size_t blen;
    char *before = slurp(path, &blen);
    assert_int_equal(chmod(ro, 0555), 0);
    if (access(ro, W_OK) == 0) {
        /* root ignores directory permissions: the EACCES case is covered by SDMARK_FAULT below */
        print_message("[  INFO    ] running as root: read-only directory case not testable, skipped\n");
    } else {
        struct sd_result r2;
        fill_row(&r2, 1);
        assert_int_equal(sd_results_write(path, "csv", &r2, 1, err, sizeof err), -1);
        snprintf(want, sizeof want, "%s: cannot write results (temp file): Permission denied", path);
        assert_string_equal(err, want);
        assert_unchanged(path, before, blen);
        assert_int_equal(dir_entries(ro), 1);
    }
    assert_int_equal(chmod(ro, 0755), 0);
    free(before);
    /* path too long for the temp name */
    static char longp[5000], lerr[6000];
    memset(longp, 'a', sizeof longp - 1);
    longp[sizeof longp - 1] = 0;
    assert_int_equal(sd_results_write(longp, "csv", &r, 1, lerr, sizeof lerr), -1);
    assert_non_null(strstr(lerr, ": path too long"));
}

static void test_fault_injection_write(void **state)
{
    (void)state;
    struct sd_result r[2];
    fill_row(&r[0], 0);
    fill_row(&r[1], 1);
    char dir[512], path[600], err[512], want[800];
    tpath(dir, sizeof dir, "fault");
    assert_int_equal(mkdir(dir, 0755), 0);
    snprintf(path, sizeof path, "%s/r.csv", dir);
    write_ok(path, "csv", r, 1); /* the old file */
    size_t blen;
    char *before = slurp(path, &blen);

    setenv("SDMARK_FAULT", "write=1", 1);
    sd_fault_reset();
    assert_int_equal(sd_results_write(path, "csv", r, 2, err, sizeof err), -1);
    snprintf(want, sizeof want, "%s: cannot write results (temp file): Permission denied", path);
    assert_string_equal(err, want);
    assert_unchanged(path, before, blen);
    assert_int_equal(dir_entries(dir), 1);
    write_ok(path, "csv", r, 2); /* only the first write fails */
    size_t n;
    struct sd_result *back = read_ok(path, &n);
    assert_int_equal(n, 2);
    free(back);

    setenv("SDMARK_FAULT", "alloc=3,write=2", 1);
    sd_fault_reset();
    write_ok(path, "json", r, 1);
    assert_int_equal(sd_results_write(path, "csv", r, 2, err, sizeof err), -1);
    assert_string_equal(err, want);
    write_ok(path, "csv", r, 2);

    unsetenv("SDMARK_FAULT");
    sd_fault_reset();
    write_ok(path, "csv", r, 1);
    free(before);
}

/* ------------------------------------------------------------------ locale */

static void test_locale_independent(void **state)
{
    (void)state;
    struct sd_result r[2];
    fill_row(&r[0], 0);
    fill_row(&r[1], 1);
    char pc[512], pl[512], jc[512], jl[512];
    tpath(pc, sizeof pc, "loc-c.csv");
    tpath(pl, sizeof pl, "loc-l.csv");
    tpath(jc, sizeof jc, "loc-c.json");
    tpath(jl, sizeof jl, "loc-l.json");
    assert_non_null(setlocale(LC_ALL, "C"));
    write_ok(pc, "csv", r, 2);
    write_ok(jc, "json", r, 2);
    const char *tried[] = {"de_DE.UTF-8", "de_DE.utf8", "de_DE", "fr_FR.UTF-8", "fr_FR.utf8", "fr_FR"};
    const char *got = NULL;
    for (size_t i = 0; i < sizeof tried / sizeof tried[0] && !got; i++)
        if (setlocale(LC_ALL, tried[i]))
            got = tried[i];
    if (!got) {
        /* Not installed system-wide (CI boxes ship only C): compile de_DE.UTF-8 from glibc's locale
         * sources (Debian `locales`, installed by scripts/install-deps.sh) into the test's temp dir
         * and point LOCPATH at it - no root, no system change. */
        char dir[600], cmd[1400];
        tpath(dir, sizeof dir, "locale");
        snprintf(cmd, sizeof cmd, "mkdir -p '%s' && localedef -i de_DE -f UTF-8 '%s/de_DE.UTF-8' >/dev/null 2>&1", dir,
                 dir);
        if (system(cmd) == 0) {
            setenv("LOCPATH", dir, 1);
            if (setlocale(LC_ALL, "de_DE.UTF-8"))
                got = "de_DE.UTF-8 (compiled with localedef)";
        }
    }
    if (!got) {
        setlocale(LC_ALL, "C");
        print_message("[  SKIP    ] no decimal-comma locale (none installed, localedef failed: install 'locales')\n");
        skip();
    }
    char probe[32];
    snprintf(probe, sizeof probe, "%.2f", 1.5);
    print_message("[  INFO    ] locale %s formats 1.5 as %s\n", got, probe);
    write_ok(pl, "csv", r, 2);
    write_ok(jl, "json", r, 2);
    size_t n;
    struct sd_result *back = read_ok(pl, &n); /* reading under the locale too */
    assert_int_equal(n, 2);
    assert_dbl_same(back[0].time_ms_median, 0.123456789);
    assert_dbl_same(back[0].wl.count, 2.5);
    free(back);
    back = read_ok(jl, &n);
    assert_dbl_same(back[1].warmup_ms, 100.25);
    free(back);
    setlocale(LC_ALL, "C");
    size_t a, b;
    char *x = slurp(pc, &a), *y = slurp(pl, &b);
    assert_int_equal(a, b);
    assert_memory_equal(x, y, a);
    free(x);
    free(y);
    x = slurp(jc, &a), y = slurp(jl, &b);
    assert_int_equal(a, b);
    assert_memory_equal(x, y, a);
    free(x);
    free(y);
}

/* ------------------------------------------------------------------ reader errors */

/* A valid CSV with one row, as text (caller frees). */
static char *valid_csv(void)
{
    struct sd_result r;
    fill_row(&r, 0);
    snprintf(r.host, sizeof r.host, "plainhost");
    snprintf(r.dev.name, sizeof r.dev.name, "plainname");
    snprintf(r.reason, sizeof r.reason, "plainreason");
    char path[512];
    tpath(path, sizeof path, "valid.csv");
    write_ok(path, "csv", &r, 1);
    size_t len;
    return slurp(path, &len);
}

/* Replace the first occurrence of `from` in text (a new string). */
static char *replace(const char *text, const char *from, const char *to)
{
    const char *p = strstr(text, from);
    assert_non_null(p);
    size_t len = strlen(text) - strlen(from) + strlen(to);
    char *out = malloc(len + 1);
    assert_non_null(out);
    size_t pre = (size_t)(p - text);
    memcpy(out, text, pre);
    strcpy(out + pre, to);
    strcat(out, p + strlen(from));
    return out;
}

static void test_reader_missing_column(void **state)
{
    (void)state;
    char *csv = valid_csv();
    char *bad = replace(csv, ",status,reason\n", ",status\n");
    text_err("miss.csv", bad, ":1: missing column 'reason' (schema_version 3 needs it)");
    free(bad);
    bad = replace(csv, ",tflops,", ",tflopz,");
    text_err("miss2.csv", bad, ":1: missing column 'tflops' (schema_version 3 needs it)");
    free(bad);
    text_err("only.csv", "schema_version\n1\n", ":1: missing column 'sdmark_version' (schema_version 3 needs it)");
    free(csv);
}

static void test_reader_newer_schema(void **state)
{
    (void)state;
    char *csv = valid_csv();
    char *bad = replace(csv, "\n1,", "\n4,");
    text_err("v4.csv", bad, ":2: schema_version 4 is not known to this sdmark (knows 1..3); upgrade sdmark to read it");
    free(bad);
    bad = replace(csv, "\n1,", "\n0,");
    text_err("v0.csv", bad, ":2: schema_version 0 is not known to this sdmark (knows 1..3); upgrade sdmark to read it");
    free(bad);
    bad = replace(csv, "\n1,", "\n,");
    text_err("vempty.csv", bad,
             ":2: schema_version 0 is not known to this sdmark (knows 1..3); upgrade sdmark to read it");
    free(bad);
    free(csv);
    text_err("v4.json", "{\"schema_version\": 4, \"rows\": []}",
             ": schema_version 4 is not known to this sdmark (knows 1..3)");
    text_err("v0.json", "{\"schema_version\": 0.5, \"rows\": []}",
             ": schema_version 0.5 is not known to this sdmark (knows 1..3)");
    /* a row-level schema_version is checked in JSON too */
    struct sd_result r;
    fill_row(&r, 0);
    char path[512];
    tpath(path, sizeof path, "rowv.json");
    write_ok(path, "json", &r, 1);
    size_t len;
    char *j = slurp(path, &len);
    /* the first occurrence is the file's; change the row's (second) one */
    char *second = strstr(strstr(j, "\"rows\""), "\"schema_version\":\t1");
    assert_non_null(second);
    second[strlen("\"schema_version\":\t")] = '7';
    text_err("rowv7.json", j, ": row 0: schema_version 7 is not known to this sdmark (knows 1..3)");
    free(j);
}

/* Schema 1 had no device_kind: such a file still reads, with the kind unknown (""). A v2 row
 * carries the kind and the reader sets dev.kind from it. */
static void test_reader_schema1_without_device_kind(void **state)
{
    (void)state;
    struct sd_result r;
    fill_row(&r, 0);
    snprintf(r.host, sizeof r.host, "plainhost");
    snprintf(r.dev.name, sizeof r.dev.name, "plainname");
    snprintf(r.reason, sizeof r.reason, "plainreason");
    snprintf(r.device_kind, sizeof r.device_kind, "gpu");
    char path[512];
    tpath(path, sizeof path, "kind.csv");
    write_ok(path, "csv", &r, 1);
    struct sd_result *rows;
    size_t n;
    char err[512];
    assert_int_equal(sd_results_read(path, &rows, &n, err, sizeof err), 0);
    assert_string_equal(rows[0].device_kind, "gpu");
    assert_int_equal(rows[0].dev.kind, SD_DEVICE_GPU);
    free(rows);
    size_t len;
    char *csv = slurp(path, &len);
    char *v1 = replace(csv, ",device_kind,", ",");
    char *v1b = replace(v1, ",gpu,", ",");
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(v1b, f);
    fclose(f);
    assert_int_equal(sd_results_read(path, &rows, &n, err, sizeof err), 0);
    assert_int_equal(n, 1);
    assert_string_equal(rows[0].device_kind, "");
    assert_int_equal(rows[0].dev.kind, SD_DEVICE_OTHER);
    free(rows);
    /* the same in JSON: a row without the key reads with the kind unknown */
    tpath(path, sizeof path, "kind.json");
    write_ok(path, "json", &r, 1);
    char *json = slurp(path, &len);
    char *j1 = replace(json, "\"device_kind\":\t\"gpu\",", "");
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(j1, f);
    fclose(f);
    assert_int_equal(sd_results_read(path, &rows, &n, err, sizeof err), 0);
    assert_string_equal(rows[0].device_kind, "");
    free(rows);
    free(json);
    free(j1);
    free(csv);
    free(v1);
    free(v1b);
}

/* Schema 3 renamed l2_bytes to last_level_cache_bytes: a v2 file (CSV or JSON) with the old name
 * still reads, with the value, and a new file has only the new name. */
static void test_reader_schema2_l2_bytes(void **state)
{
    (void)state;
    struct sd_result r;
    fill_row(&r, 0);
    r.dev.l2_bytes = 33554432;
    const char *fmts[] = {"csv", "json"};
    const char *from[] = {",last_level_cache_bytes,", "\"last_level_cache_bytes\":"};
    const char *to[] = {",l2_bytes,", "\"l2_bytes\":"};
    for (int k = 0; k < 2; k++) {
        char path[512], name[32];
        snprintf(name, sizeof name, "llc.%s", fmts[k]);
        tpath(path, sizeof path, name);
        write_ok(path, fmts[k], &r, 1);
        size_t len;
        char *text = slurp(path, &len);
        assert_non_null(strstr(text, from[k]));
        assert_null(strstr(text, "l2_bytes"));
        char *old = replace(text, from[k], to[k]);
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs(old, f);
        fclose(f);
        struct sd_result *rows;
        size_t n;
        char err[512];
        assert_int_equal(sd_results_read(path, &rows, &n, err, sizeof err), 0);
        assert_int_equal(n, 1);
        assert_true(rows[0].dev.l2_bytes == 33554432);
        free(rows);
        free(old);
        free(text);
    }
}

static void test_reader_nonfinite(void **state)
{
    (void)state;
    char *csv = valid_csv();
    const char *vals[] = {"nan", "inf", "-inf", "NaN", "1e999", "infinity"};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        char rep[64], want[200], name[32];
        snprintf(rep, sizeof rep, ",%s,0.0045,", vals[i]);
        char *bad = replace(csv, ",1e+300,0.0045,", rep);
        snprintf(want, sizeof want,
                 ":2: column 'time_ms_p90': non-finite value '%s' (unknown numbers must be empty)", vals[i]);
        snprintf(name, sizeof name, "nf%zu.csv", i);
        text_err(name, bad, want);
        free(bad);
    }
    free(csv);
}

static void test_reader_foreign_and_empty(void **state)
{
    (void)state;
    text_err("foreign.csv", "name,value\nx,1\n",
             ":1: not a sdmark results file (first column is 'name', expected 'schema_version')");
    text_err("foreign2.csv", "\"schema_version \",x\n",
             ":1: not a sdmark results file (first column is 'schema_version ', expected 'schema_version')");
    /* file bytes quoted in an error never break the one-line error */
    text_err("foreign3.csv", "\"a\nb\x1b[2J\",x\n",
             ":1: not a sdmark results file (first column is 'a?b?[2J', expected 'schema_version')");
    text_err("qhdr.csv", "\"schema_version,sdmark_version\n1,2\n",
             ":1: malformed CSV header (unbalanced quotes or too many fields)");
    text_err("empty.csv", "", ": empty file: not a sdmark results file");
    text_err("blank.csv", "\n\n", ": empty file: not a sdmark results file");
    text_err("bom.csv", "\xEF\xBB\xBF", ": empty file: not a sdmark results file");
    char path[512];
    tpath(path, sizeof path, "nul.csv");
    write_text(path, "schema_version\0,x\n", 18);
    read_err(path, ": binary data (NUL byte): not a CSV results file");
    text_err("empty.json", "", ": not valid JSON");
    text_err("bad.json", "{\"schema_version\": 1, \"rows\": [", ": not valid JSON");
    text_err("arr.json", "[1,2]", ": not a sdmark results file (needs schema_version and rows)");
    text_err("norows.json", "{\"schema_version\": 1}", ": not a sdmark results file (needs schema_version and rows)");
    text_err("strver.json", "{\"schema_version\": \"1\", \"rows\": []}",
             ": not a sdmark results file (needs schema_version and rows)");
}

static void test_reader_malformed_quotes_and_field_count(void **state)
{
    (void)state;
    char *csv = valid_csv();
    char *bad = replace(csv, ",plainreason\n", ",\"plainreason\n");
    text_err("q.csv", bad, ":2: malformed CSV record (unbalanced quotes or too many fields)");
    free(bad);
    /* a record spanning lines: the error names the line the bad record starts on */
    char *two = replace(csv, ",plainreason\n", ",\"multi\nline\"\n");
    size_t l = strlen(two);
    char *three = malloc(l + 64);
    sprintf(three, "%s1,2,3\n", two);
    text_err("span.csv", three, ":4: 3 fields, header has 66");
    free(three);
    free(two);
    /* too few / too many fields */
    bad = replace(csv, ",plainreason\n", "\n");
    text_err("few.csv", bad, ":2: 65 fields, header has 66");
    free(bad);
    bad = replace(csv, ",plainreason\n", ",plainreason,extra\n");
    text_err("many.csv", bad, ":2: 67 fields, header has 66");
    free(bad);
    /* more fields than the reader can hold */
    char *wide = malloc(strlen(csv) + 1000);
    strcpy(wide, csv);
    char *end = wide + strlen(wide) - 1;
    for (int i = 0; i < 300; i++)
        *end++ = ',';
    strcpy(end, "\n");
    text_err("wide.csv", wide, ":2: malformed CSV record (unbalanced quotes or too many fields)");
    free(wide);
    free(csv);
}

static void test_reader_invalid_values(void **state)
{
    (void)state;
    char *csv = valid_csv();
    struct { const char *from, *to, *want; } cases[] = {
        {",123,max_samples,", ",12x,max_samples,", ":2: column 'samples': invalid value '12x'"},
        {",123,max_samples,", ",99999999999,max_samples,", ":2: column 'samples': invalid value '99999999999'"},
        {",gemm,cublas,", ",matmul,cublas,", ":2: column 'op': invalid value 'matmul'"},
        {",bf16,fp16,", ",fp8,fp16,", ":2: column 'dtype': invalid value 'fp8'"},
        {",fail,0.0035,0.01,wrong,", ",fail,0.0035,0.01,crashed,", ":2: column 'status': invalid value 'crashed'"},
        {",fail,0.0035,0.01,wrong,", ",fail,0.0035,0.01,,", ":2: column 'status': invalid value ''"},
        {",18446744073709551615,", ",-1,", ":2: column 'mem_bytes': invalid value '-1'"},
        {",18446744073709551615,", ",18446744073709551616,", ":2: column 'mem_bytes': invalid value '18446744073709551616'"},
        {",9223372036854775807,", ",9223372036854775808,", ":2: column 'm': invalid value '9223372036854775808'"},
        {",0.0045,", ",0.0045x,", ":2: column 'rel_noise': invalid value '0.0045x'"},
        {",0.0045,", ",0,0045,", ":2: 67 fields, header has 66"},
        {",cublas,", ",cublas_with_a_name_longer_than_31,", ":2: column 'impl': value too long (33 chars, max 31)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *bad = replace(csv, cases[i].from, cases[i].to);
        char name[32];
        snprintf(name, sizeof name, "iv%zu.csv", i);
        text_err(name, bad, cases[i].want);
        free(bad);
    }
    free(csv);
    /* JSON: missing key, wrong type, invalid value */
    struct sd_result r;
    fill_row(&r, 0);
    char path[512];
    tpath(path, sizeof path, "j.json");
    write_ok(path, "json", &r, 1);
    size_t len;
    char *j = slurp(path, &len);
    char *bad = replace(j, "\"host\":", "\"hostx\":");
    text_err("j1.json", bad, ": row 0: missing key 'host'");
    free(bad);
    bad = replace(j, "\"samples\":\t123", "\"samples\":\ttrue");
    text_err("j2.json", bad, ": row 0: key 'samples' has the wrong type");
    free(bad);
    bad = replace(j, "\"samples\":\t123", "\"samples\":\t[1]");
    text_err("j3.json", bad, ": row 0: key 'samples' has the wrong type");
    free(bad);
    bad = replace(j, "\"op\":\t\"gemm\"", "\"op\":\t\"matmul\"");
    text_err("j4.json", bad, ": row 0: column 'op': invalid value 'matmul'");
    free(bad);
    bad = replace(j, "\"samples\":\t123", "\"samples\":\t1e300");
    text_err("j5.json", bad, ": row 0: column 'samples': invalid value '1000000000000000052504760255204420248704'");
    free(bad);
    text_err("j6.json", "{\"schema_version\": 1, \"rows\": [5]}", ": row 0: missing key 'schema_version'");
    free(j);
}

static void test_reader_not_regular_file(void **state)
{
    (void)state;
    char dir[512];
    tpath(dir, sizeof dir, "adir.csv");
    assert_int_equal(mkdir(dir, 0755), 0);
    read_err(dir, ": not a regular file");
    read_err("/dev/null", ": not a regular file");
    /* a FIFO with no writer: rejected at once, not a hang in open() */
    char fifo[512];
    tpath(fifo, sizeof fifo, "fifo.csv");
    assert_int_equal(mkfifo(fifo, 0644), 0);
    read_err(fifo, ": not a regular file");
    char path[512];
    tpath(path, sizeof path, "missing.csv");
    read_err(path, ": cannot open results file: No such file or directory");
    /* a symlink to a regular file is fine */
    struct sd_result r;
    fill_row(&r, 0);
    char target[512], link[512];
    tpath(target, sizeof target, "target.csv");
    tpath(link, sizeof link, "link.csv");
    write_ok(target, "csv", &r, 1);
    assert_int_equal(symlink(target, link), 0);
    size_t n;
    struct sd_result *back = read_ok(link, &n);
    assert_int_equal(n, 1);
    free(back);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_and_header),
        cmocka_unit_test(test_result_key),
        cmocka_unit_test(test_csv_round_trip_all_columns),
        cmocka_unit_test(test_csv_unknown_numbers_are_empty),
        cmocka_unit_test(test_csv_precision),
        cmocka_unit_test(test_csv_reader_tolerance),
        cmocka_unit_test(test_json_round_trip_all_columns),
        cmocka_unit_test(test_atomic_replace),
        cmocka_unit_test(test_write_into_missing_or_unwritable_dir),
        cmocka_unit_test(test_fault_injection_write),
        cmocka_unit_test(test_locale_independent),
        cmocka_unit_test(test_reader_missing_column),
        cmocka_unit_test(test_reader_newer_schema),
        cmocka_unit_test(test_reader_schema1_without_device_kind),
        cmocka_unit_test(test_reader_schema2_l2_bytes),
        cmocka_unit_test(test_reader_nonfinite),
        cmocka_unit_test(test_reader_foreign_and_empty),
        cmocka_unit_test(test_reader_malformed_quotes_and_field_count),
        cmocka_unit_test(test_reader_invalid_values),
        cmocka_unit_test(test_reader_not_regular_file),
    };
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
