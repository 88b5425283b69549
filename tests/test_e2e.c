/* test_e2e.c — the sdmark binary end to end: `sdmark run` of a tiny suite on the OpenCL device
 * (PoCL here) and the cpu backend, then the CSV/JSON it wrote are read back and checked; Ctrl-C
 * (SIGINT) keeps completed rows; fault injection yields status rows and intact files. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "run.h"
#include "sdmark/backend.h"
#include "sdmark/result.h"

static char tmpdir[256];

static int has_backend_device(const char *name)
{
    const struct sd_backend_ops *be = sd_backend_find(name);
    struct sd_device_info info;
    return be && be->probe(&info, 1) > 0;
}

/* Run the sdmark binary with args (NULL-terminated), env additions "K=V" (NULL-terminated).
 * Returns the exit status; stdout+stderr go to <tmpdir>/log. */
static int run_sdmark(const char *const *args, const char *const *envs)
{
    pid_t pid = fork();
    if (pid == 0) {
        char logp[512];
        snprintf(logp, sizeof logp, "%s/log", tmpdir);
        FILE *lf = freopen(logp, "a", stdout);
        (void)lf;
        dup2(STDOUT_FILENO, STDERR_FILENO);
        for (int i = 0; envs && envs[i]; i++)
            putenv((char *)envs[i]);
        const char *av[40];
        int n = 0;
        av[n++] = SDMARK_BINARY;
        for (int i = 0; args[i] && n < 39; i++)
            av[n++] = args[i];
        av[n] = NULL;
        execv(SDMARK_BINARY, (char *const *)av);
        _exit(127);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int setup(void **state)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/sdmark-e2e-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Read the one results file for (backend, suite) under dir. */
static int read_results(const char *dir, const char *backend_prefix, const char *suite, const char *ext,
                        struct sd_result **rows, size_t *n)
{
    char cmd[800], path[600] = "";
    snprintf(cmd, sizeof cmd, "ls %s/%s-*-%s.%s 2>/dev/null | head -1", dir, backend_prefix, suite, ext);
    FILE *p = popen(cmd, "r");
    if (!p || !fgets(path, sizeof path, p)) {
        if (p)
            pclose(p);
        return -1;
    }
    pclose(p);
    path[strcspn(path, "\n")] = 0;
    char err[512];
    int rc = sd_results_read(path, rows, n, err, sizeof err);
    if (rc)
        fprintf(stderr, "%s\n", err);
    return rc;
}

static void check_rows_verified(const struct sd_result *rows, size_t n)
{
    size_t ok = 0;
    for (size_t i = 0; i < n; i++) {
        const struct sd_result *r = &rows[i];
        assert_int_equal(r->schema_version, SD_SCHEMA_VERSION);
        if (r->status == SD_OK) {
            ok++;
            assert_string_equal(r->verify, "pass");
            assert_true(r->max_rel_err <= r->tolerance);
            assert_true(r->time_ms_median > 0);
            assert_true(r->time_ms_min <= r->time_ms_median);
            assert_true(r->tflops > 0);
            assert_true(r->samples >= 3);
            assert_true(r->peak_mem_bytes > 0);
        } else {
            /* a failure row never carries a time */
            assert_true(r->reason[0] != 0);
            assert_true(!(r->time_ms_median > 0));
        }
        assert_int_not_equal(r->status, SD_WRONG);
        assert_int_not_equal(r->status, SD_ERROR);
    }
    assert_true(ok > 0);
}

static const char *fast[] = {"--min-time", "0.02", "--min-samples", "3", "--warmup-ms", "1", "--quiet", "--no-tune", NULL};

static void argv_join(const char **out, const char *const *a, const char *const *b)
{
    int n = 0;
    for (int i = 0; a[i]; i++)
        out[n++] = a[i];
    for (int i = 0; b[i]; i++)
        out[n++] = b[i];
    out[n] = NULL;
}

static void test_run_tiny_opencl_and_cpu(void **state)
{
    if (!has_backend_device("opencl")) {
        print_message("skip: no OpenCL device (install pocl-opencl-icd)\n");
        skip();
    }
    char out[300];
    snprintf(out, sizeof out, "%s/r1", tmpdir);
    const char *base[] = {"run", "--suite", SDMARK_TEST_DATA "/tiny.suite", "--backend", "opencl,cpu", "--out", out, NULL};
    const char *args[40];
    argv_join(args, base, fast);
    assert_int_equal(run_sdmark(args, NULL), 0);

    struct sd_result *rows;
    size_t n;
    assert_int_equal(read_results(out, "opencl", "tiny", "csv", &rows, &n), 0);
    assert_true(n >= 7); /* every workload x every opencl impl */
    check_rows_verified(rows, n);
    int ops[SD_OP_COUNT] = {0};
    for (size_t i = 0; i < n; i++)
        if (rows[i].status == SD_OK)
            ops[rows[i].wl.op]++;
    assert_true(ops[SD_OP_GEMM] > 0 && ops[SD_OP_CONV2D] > 0 && ops[SD_OP_ATTENTION] > 0);
    free(rows);

    /* The JSON mirrors the CSV. */
    struct sd_result *jrows;
    size_t jn;
    assert_int_equal(read_results(out, "opencl", "tiny", "json", &jrows, &jn), 0);
    assert_int_equal(jn, n);
    free(jrows);

    if (sd_backend_find("cpu")) {
        assert_int_equal(read_results(out, "cpu", "tiny", "csv", &rows, &n), 0);
        check_rows_verified(rows, n);
        free(rows);
    }
}

/* SIGINT while a run is going: the process exits 130 and the file holds the completed rows only,
 * every one of them complete and parseable. */
static void interrupt_run(int sig, const char *dir, int twice)
{
    if (!has_backend_device("cpu") && !has_backend_device("opencl")) {
        print_message("skip: neither the cpu nor an OpenCL device is available\n");
        skip();
    }
    const char *backend = sd_backend_find("cpu") ? "cpu" : "opencl";
    char out[300], suite[300];
    snprintf(out, sizeof out, "%s/%s", tmpdir, dir);
    snprintf(suite, sizeof suite, "%s/slow.suite", tmpdir);
    FILE *f = fopen(suite, "w");
    assert_non_null(f);
    for (int i = 0; i < 40; i++)
        fprintf(f, "gemm g%d 1 m=%d n=64 k=64\n", i, 64 + i);
    fclose(f);
    pid_t pid = fork();
    if (pid == 0) {
        char logp[512];
        snprintf(logp, sizeof logp, "%s/log", tmpdir);
        FILE *lf = freopen(logp, "a", stderr);
        lf = freopen("/dev/null", "w", stdout);
        (void)lf;
        execl(SDMARK_BINARY, SDMARK_BINARY, "run", "--suite", suite, "--backend", backend, "--out", out, "--min-time",
              "0.2", "--warmup-ms", "1", "--format", "csv", (char *)NULL);
        _exit(127);
    }
    /* Wait until at least two rows are on disk, then interrupt. */
    char pattern[700];
    snprintf(pattern, sizeof pattern, "cat %s/%s-*-slow.csv 2>/dev/null | wc -l", out, backend);
    int lines = 0;
    for (int t = 0; t < 600 && lines < 3; t++) {
        usleep(50000);
        FILE *p = popen(pattern, "r");
        if (p) {
            if (fscanf(p, "%d", &lines) != 1)
                lines = 0;
            pclose(p);
        }
    }
    assert_true(lines >= 3);
    kill(pid, sig);
    double t_kill = sd_now_s();
    if (twice) {
        usleep(20000);
        kill(pid, sig);
    }
    int st;
    waitpid(pid, &st, 0);
    assert_true(sd_now_s() - t_kill < 5.0); /* stops within a sample, not after the suite */
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 130);
    struct sd_result *rows;
    size_t n;
    assert_int_equal(read_results(out, backend, "slow", "csv", &rows, &n), 0);
    assert_true(n >= 2 && n < 40);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(rows[i].status, SD_OK);
    free(rows);
}

/* A bad suite file is a one-line error naming file:line and exit status 2, and nothing is written. */
static void test_bad_suite_is_usage_error(void **state)
{
    char suite[300], out[300];
    snprintf(suite, sizeof suite, "%s/bad.suite", tmpdir);
    snprintf(out, sizeof out, "%s/r3", tmpdir);
    FILE *f = fopen(suite, "w");
    assert_non_null(f);
    fprintf(f, "gemm ok 1 m=4 n=4 k=4\ngemm bad 1 m=4 n=4 sq=4\n");
    fclose(f);
    const char *args[] = {"run", "--suite", suite, "--out", out, NULL};
    assert_int_equal(run_sdmark(args, NULL), 2);
    char logp[512], line[1024], want[600];
    snprintf(logp, sizeof logp, "%s/log", tmpdir);
    snprintf(want, sizeof want, "sdmark run: %s:2: unknown key 'sq'", suite);
    FILE *lf = fopen(logp, "r");
    assert_non_null(lf);
    int found = 0;
    while (fgets(line, sizeof line, lf))
        if (strstr(line, want))
            found = 1;
    fclose(lf);
    assert_true(found);
    struct stat st;
    assert_int_not_equal(stat(out, &st), 0);
}

/* Count rows by status in the cpu or opencl results of suite `tiny` under out. */
static size_t count_status(const char *out, const char *backend, enum sd_status st, const char *reason_part,
                           size_t *total)
{
    struct sd_result *rows;
    size_t n, c = 0;
    assert_int_equal(read_results(out, backend, "tiny", "csv", &rows, &n), 0);
    for (size_t i = 0; i < n; i++)
        if (rows[i].status == st && (!reason_part || strstr(rows[i].reason, reason_part)))
            c++;
    free(rows);
    *total = n;
    return c;
}

/* SDMARK_FAULT: the Nth allocation / build / enqueue fails -> that row is oom / error with the
 * reason, every other row is measured, and the file is complete and parseable. */
static void run_fault(const char *backend, const char *fault, enum sd_status want, const char *dir)
{
    char out[300], env[64];
    snprintf(out, sizeof out, "%s/%s", tmpdir, dir);
    snprintf(env, sizeof env, "SDMARK_FAULT=%s", fault);
    const char *base[] = {"run", "--suite", SDMARK_TEST_DATA "/tiny.suite", "--backend", backend, "--out", out,
                          "--format", "csv", NULL};
    const char *args[40];
    argv_join(args, base, fast);
    const char *envs[] = {env, NULL};
    assert_int_equal(run_sdmark(args, envs), 0);
    size_t total, ok, bad = count_status(out, backend, want, "injected", &total);
    ok = count_status(out, backend, SD_OK, NULL, &total);
    assert_int_equal(bad, 1);
    assert_int_equal(ok + 1, total);
}

static void test_fault_alloc_cpu(void **state)
{
    if (!has_backend_device("cpu")) {
        print_message("skip: no cpu device in this build/machine\n");
        skip();
    }
    run_fault("cpu", "alloc=4", SD_OOM, "f1");
}

static void test_fault_enqueue_cpu(void **state)
{
    if (!has_backend_device("cpu")) {
        print_message("skip: no cpu device in this build/machine\n");
        skip();
    }
    run_fault("cpu", "enqueue=9", SD_ERROR, "f2");
}

static void test_fault_opencl(void **state)
{
    if (!has_backend_device("opencl")) {
        print_message("skip: no opencl device in this build/machine\n");
        skip();
    }
    run_fault("opencl", "alloc=5", SD_OOM, "f3");
    run_fault("opencl", "build=1", SD_ERROR, "f4");
    run_fault("opencl", "enqueue=7", SD_ERROR, "f5");
}

/* The results file cannot be written for one row (directory unwritable mid-run): the run goes on,
 * the next write carries every row. If the LAST write fails, exit 1 and the file on disk still
 * holds every row before it, intact. */
static void test_fault_write(void **state)
{
    if (!has_backend_device("cpu")) {
        print_message("skip: no cpu device in this build/machine\n");
        skip();
    }
    char out[300];
    snprintf(out, sizeof out, "%s/f6", tmpdir);
    const char *base[] = {"run", "--suite", SDMARK_TEST_DATA "/tiny.suite", "--backend", "cpu", "--out", out,
                          "--format", "csv", NULL};
    const char *args[40];
    argv_join(args, base, fast);
    const char *e1[] = {"SDMARK_FAULT=write=2", NULL};
    assert_int_equal(run_sdmark(args, e1), 0);
    size_t total, ok = count_status(out, "cpu", SD_OK, NULL, &total);
    assert_true(total >= 7);
    assert_int_equal(ok, total);
    /* now fail the last write: total rows == total writes with --format csv */
    char env[64];
    snprintf(env, sizeof env, "SDMARK_FAULT=write=%zu", total);
    snprintf(out, sizeof out, "%s/f7", tmpdir);
    const char *e2[] = {env, NULL};
    assert_int_equal(run_sdmark(args, e2), 1);
    size_t total2;
    ok = count_status(out, "cpu", SD_OK, NULL, &total2);
    assert_int_equal(total2, total - 1);
    assert_int_equal(ok, total2);
}

static void test_sigint_keeps_completed_rows(void **state) { interrupt_run(SIGINT, "r2", 0); }
static void test_sigterm_keeps_completed_rows(void **state) { interrupt_run(SIGTERM, "r2t", 0); }
/* A second Ctrl-C exits at once (the row in flight is dropped; the file holds completed rows). */
static void test_second_sigint_exits_at_once(void **state) { interrupt_run(SIGINT, "r2d", 1); }

/* `--device all` on two identical devices (PoCL with POCL_DEVICES="pthread pthread"): each device
 * keeps its own results file; they used to share one name and the last writer won. */
static void test_device_all_identical_devices_keep_both_files(void **state)
{
    if (!has_backend_device("opencl")) {
        print_message("skip: no OpenCL device (install pocl-opencl-icd)\n");
        skip();
    }
    struct sd_device_info di; /* POCL_DEVICES makes the two devices: PoCL only */
    if (sd_backend_find("opencl")->probe(&di, 1) < 1 || !strstr(di.api_version, "PoCL")) {
        print_message("skip: OpenCL device 0 is not PoCL (%s); POCL_DEVICES cannot double it\n", di.name);
        skip();
    }
    char out[300];
    snprintf(out, sizeof out, "%s/dall", tmpdir);
    const char *base[] = {"run", "--suite", SDMARK_TEST_DATA "/tiny.suite", "--backend", "opencl", "--device", "all",
                          "--op", "gemm", "--impl", "own", "--out", out, NULL};
    const char *args[40];
    argv_join(args, base, fast);
    const char *env[] = {"POCL_DEVICES=pthread pthread", NULL};
    assert_int_equal(run_sdmark(args, env), 0);
    char cmd[800];
    snprintf(cmd, sizeof cmd, "test $(ls %s/opencl-*-tiny.csv | wc -l) -eq 2 && ls %s/opencl-*-dev1-tiny.csv >/dev/null",
             out, out);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_suite_is_usage_error),
        cmocka_unit_test(test_run_tiny_opencl_and_cpu),
        cmocka_unit_test(test_sigint_keeps_completed_rows),
        cmocka_unit_test(test_sigterm_keeps_completed_rows),
        cmocka_unit_test(test_second_sigint_exits_at_once),
        cmocka_unit_test(test_fault_alloc_cpu),
        cmocka_unit_test(test_fault_enqueue_cpu),
        cmocka_unit_test(test_fault_opencl),
        cmocka_unit_test(test_fault_write),
        cmocka_unit_test(test_device_all_identical_devices_keep_both_files),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
