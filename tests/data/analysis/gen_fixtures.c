/* gen_fixtures.c — writes the result-file fixtures of tests/data/analysis/ (not built by CMake).
 * Regenerate after a schema change:
 *   cc -std=gnu11 -I include tests/data/analysis/gen_fixtures.c build/src/libsdmark_lib.a \
 *      build/src/backends/libsdmark_backends.a $(pkg-config --libs libcjson) -lm -o /tmp/gen && \
 *   (cd tests/data/analysis && /tmp/gen)
 * Times are synthetic: flops / (efficiency x card peak), so tests can compute every expectation.
 *   mini.csv          RTX 4090, the mini sd15/vae suites of bench/ here (hand-computed estimator test)
 *   fleet/4090.csv    RTX 4090, full bench/sd15 + vae suites, fp16 (gemm cublas 70 %, own 50 %,
 *                     conv 55 %, attention flash 45 % / unfused 30 % of 165.2 TFLOP/s), bw/launch rows
 *   fleet/cpu.csv     cpu backend (OpenBLAS), sd15 + vae fp32 at 150/100/60 GFLOP/s
 *   fleet/pocl.csv    OpenCL PoCL CPU device, quick-suite rows fp32
 *   cmp-a.csv, cmp-b.csv  two runs of six rows with known noise (compare verdicts)
 *   bad-schema.csv    schema_version 99
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdmark/result.h"
#include "sdmark/suite.h"

static struct sd_device_info dev_4090 = {.backend = "cuda", .name = "NVIDIA GeForce RTX 4090", .arch = "sm_89",
                                         .driver_version = "550.54", .api_version = "CUDA 12.4", .compute_units = 128,
                                         .clock_mhz = 2520, .mem_bytes = 25757220864ull, .l2_bytes = 75497472};
static struct sd_device_info dev_cpu = {.backend = "cpu", .name = "AMD EPYC 7B13 (2 threads)", .arch = "x86_64",
                                        .api_version = "OpenBLAS 0.3.21", .compute_units = 2, .mem_bytes = 8ull << 30};
static struct sd_device_info dev_pocl = {.backend = "opencl", .name = "pthread-haswell-AMD EPYC 7B13",
                                         .arch = "haswell", .api_version = "OpenCL 3.0 PoCL 3.1", .compute_units = 2,
                                         .mem_bytes = 3ull << 30};

static struct sd_result mk(const struct sd_device_info *d, const struct sd_workload *wl, const char *impl, double ms,
                           double noise, enum sd_status st)
{
    struct sd_result r;
    sd_result_init(&r);
    snprintf(r.sdmark_version, sizeof r.sdmark_version, "0.1.0");
    snprintf(r.git_commit, sizeof r.git_commit, "fixture");
    snprintf(r.run_id, sizeof r.run_id, "fixture-%s", d->backend);
    snprintf(r.timestamp_utc, sizeof r.timestamp_utc, "2026-01-01T00:00:00Z");
    snprintf(r.host, sizeof r.host, "fixture-host");
    r.dev = *d;
    r.wl = *wl;
    r.wl.file = NULL;
    r.wl.line = 0;
    snprintf(r.impl, sizeof r.impl, "%s", impl);
    r.flops = sd_workload_flops(wl);
    r.bytes_min = sd_workload_bytes_min(wl);
    snprintf(r.timer, sizeof r.timer, "%s", strcmp(d->backend, "cuda") ? "host_monotonic" : "cuda_event");
    snprintf(r.cache_mode, sizeof r.cache_mode, "hot");
    r.status = st;
    if (st == SD_OK) {
        r.warmup_ms = 25;
        r.samples = 30;
        snprintf(r.stop_reason, sizeof r.stop_reason, "noise");
        r.time_ms_median = ms;
        r.time_ms_min = ms * (1 - noise);
        r.time_ms_p10 = ms * (1 - noise);
        r.time_ms_p90 = ms * (1 + noise);
        r.rel_noise = noise;
        r.tflops = r.flops / (ms * 1e9);
        r.gbs = r.bytes_min / (ms * 1e6);
        snprintf(r.verify, sizeof r.verify, "pass");
        r.max_rel_err = 1e-4;
        r.tolerance = 5e-3;
        r.peak_mem_bytes = r.bytes_min;
        if (wl->op == SD_OP_ATTENTION && !strcmp(impl, "unfused"))
            r.peak_mem_bytes += (double)wl->batch_heads * wl->seq_q * wl->seq_kv * sd_dtype_size(wl->dtype);
    } else {
        snprintf(r.reason, sizeof r.reason, "%s", st == SD_OOM ? "out of memory allocating the score matrix"
                                                               : "impl does not support this shape");
    }
    return r;
}

static struct sd_result rows[4096];
static size_t nrows;

static void put(struct sd_result r) { rows[nrows++] = r; }

static void flush(const char *path)
{
    char err[512];
    if (sd_results_write(path, "csv", rows, nrows, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        exit(1);
    }
    nrows = 0;
}

static struct sd_suite load(const char *p)
{
    struct sd_suite s;
    char err[512];
    if (sd_suite_load(p, &s, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        exit(1);
    }
    return s;
}

static struct sd_workload gemm(const char *suite, const char *label, int64_t m, int64_t n, int64_t k, enum sd_dtype t)
{
    struct sd_workload w;
    sd_workload_init(&w, SD_OP_GEMM);
    snprintf(w.suite, sizeof w.suite, "%s", suite);
    snprintf(w.label, sizeof w.label, "%s", label);
    w.m = m, w.n = n, w.k = k, w.dtype = t, w.count = 0;
    return w;
}

int main(void)
{
    const double peak = 165.2e12; /* RTX 4090 fp16 TC with fp32 accumulate */
    /* ---- mini.csv: hand-computed estimator test */
    struct sd_suite mini = load("bench/sd15.suite"), mvae = load("bench/vae.suite");
    put(mk(&dev_4090, &mini.items[0], "cublas", 0.10, 0.002, SD_OK));
    put(mk(&dev_4090, &mini.items[0], "own", 0.20, 0.002, SD_OK));
    put(mk(&dev_4090, &mini.items[1], "own", 0.50, 0.002, SD_OK));
    put(mk(&dev_4090, &mini.items[2], "flash", 0, 0, SD_OOM));
    put(mk(&dev_4090, &mvae.items[0], "own", 2.0, 0.002, SD_OK));
    struct sd_workload bw = gemm("bw", "bw.stream", 16777216, 1, 1, SD_FP16); /* 64 MiB of traffic */
    put(mk(&dev_4090, &bw, "own", sd_workload_bytes_min(&bw) / 0.9e12 * 1e3, 0.002, SD_OK)); /* 900 GB/s */
    struct sd_workload ln = gemm("bw", "launch.empty", 1, 1, 1, SD_FP16);
    put(mk(&dev_4090, &ln, "own", 0.004, 0.01, SD_OK));
    flush("mini.csv");

    /* ---- fleet/: full suites */
    struct sd_suite sd15 = load("../../../bench/sd15.suite"), vae = load("../../../bench/vae.suite"),
                    quick = load("../../../bench/quick.suite");
    for (int pass = 0; pass < 2; pass++) {
        const struct sd_suite *s = pass ? &vae : &sd15;
        for (size_t i = 0; i < s->n; i++) {
            const struct sd_workload *w = &s->items[i];
            if (w->dtype != SD_FP16)
                continue;
            double f = sd_workload_flops(w);
            if (w->op == SD_OP_GEMM) {
                put(mk(&dev_4090, w, "cublas", f / (0.70 * peak) * 1e3, 0.002, SD_OK));
                put(mk(&dev_4090, w, "own", f / (0.50 * peak) * 1e3, 0.003, SD_OK));
            } else if (w->op == SD_OP_CONV2D) {
                put(mk(&dev_4090, w, "own", f / (0.55 * peak) * 1e3, 0.003, SD_OK));
            } else {
                put(mk(&dev_4090, w, "flash", f / (0.45 * peak) * 1e3, 0.003, SD_OK));
                put(mk(&dev_4090, w, "unfused", f / (0.30 * peak) * 1e3, 0.003, SD_OK));
            }
        }
    }
    /* fp32 GEMMs on the same card for C3 (tensor-core fp16 vs fp32 SIMT: 70 % of 82.6) */
    for (size_t i = 0; i < sd15.n; i++) {
        const struct sd_workload *w = &sd15.items[i];
        if (w->dtype == SD_FP32 && w->op == SD_OP_GEMM)
            put(mk(&dev_4090, w, "cublas", sd_workload_flops(w) / (0.70 * 82.6e12) * 1e3, 0.002, SD_OK));
    }
    put(mk(&dev_4090, &bw, "own", sd_workload_bytes_min(&bw) / 0.9e12 * 1e3, 0.002, SD_OK));
    put(mk(&dev_4090, &ln, "own", 0.004, 0.01, SD_OK));
    flush("fleet/4090.csv");

    for (int pass = 0; pass < 2; pass++) {
        const struct sd_suite *s = pass ? &vae : &sd15;
        for (size_t i = 0; i < s->n; i++) {
            const struct sd_workload *w = &s->items[i];
            if (w->dtype != SD_FP32)
                continue;
            double f = sd_workload_flops(w);
            double rate = w->op == SD_OP_GEMM ? 150e9 : w->op == SD_OP_CONV2D ? 100e9 : 60e9;
            put(mk(&dev_cpu, w, w->op == SD_OP_ATTENTION ? "unfused" : "openblas", f / rate * 1e3, 0.01, SD_OK));
        }
    }
    flush("fleet/cpu.csv");

    for (size_t i = 0; i < quick.n; i++) {
        const struct sd_workload *w = &quick.items[i];
        if (w->dtype != SD_FP32)
            continue;
        double f = sd_workload_flops(w);
        put(mk(&dev_pocl, w, w->op == SD_OP_ATTENTION ? "unfused" : "own", f / 40e9 * 1e3, 0.02, SD_OK));
    }
    flush("fleet/pocl.csv");

    /* ---- compare fixtures: A and B with known noise
     * g1: 1.000 -> 1.003 ms, noise 0.5 % each: threshold max(2*0.707 %, 1 %) = 1.41 % -> same
     * g2: 1.000 -> 0.900 ms, noise 0.5 %: -10 % -> faster (speedup 1.111)
     * g3: 1.000 -> 1.200 ms, noise 0.5 %: +20 % -> slower
     * g4: 1.000 -> 1.040 ms, noise 3 % each: threshold 8.49 % -> same
     * g5: only in A;  g6: only in B;  g7: ok in A, oom in B (failed) */
    struct sd_workload g[8];
    for (int i = 1; i <= 7; i++) {
        char l[16];
        snprintf(l, sizeof l, "g%d", i);
        g[i] = gemm("cmp", l, 1024 * i, 1024, 1024, SD_FP16);
    }
    put(mk(&dev_4090, &g[1], "cublas", 1.000, 0.005, SD_OK));
    put(mk(&dev_4090, &g[2], "cublas", 1.000, 0.005, SD_OK));
    put(mk(&dev_4090, &g[3], "cublas", 1.000, 0.005, SD_OK));
    put(mk(&dev_4090, &g[4], "cublas", 1.000, 0.03, SD_OK));
    put(mk(&dev_4090, &g[5], "cublas", 1.000, 0.005, SD_OK));
    put(mk(&dev_4090, &g[7], "cublas", 1.000, 0.005, SD_OK));
    flush("cmp-a.csv");
    put(mk(&dev_4090, &g[1], "cublas", 1.003, 0.005, SD_OK));
    put(mk(&dev_4090, &g[2], "cublas", 0.900, 0.005, SD_OK));
    put(mk(&dev_4090, &g[3], "cublas", 1.200, 0.005, SD_OK));
    put(mk(&dev_4090, &g[4], "cublas", 1.040, 0.03, SD_OK));
    put(mk(&dev_4090, &g[6], "cublas", 1.000, 0.005, SD_OK));
    put(mk(&dev_4090, &g[7], "cublas", 0, 0, SD_OOM));
    flush("cmp-b.csv");
    return 0;
}
