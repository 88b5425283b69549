/* run.c — the measurement harness (see run.h for the per-row order). */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "run.h"
#include "sdmark/analysis.h"
#include "sdmark/verify.h"

volatile sig_atomic_t sd_interrupted = 0;

static void on_signal(int sig)
{
    if (sd_interrupted) /* second Ctrl-C: leave at once; completed rows are already on disk */
        _exit(128 + sig);
    sd_interrupted = sig;
    static const char msg[] = "\nsdmark: interrupted - finishing the current sample, keeping completed rows "
                              "(press Ctrl-C again to quit at once)\n";
    ssize_t w = write(STDERR_FILENO, msg, sizeof msg - 1);
    (void)w;
}

void sd_install_signal_handlers(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

void sd_result_provenance(struct sd_result *r, const char *run_id)
{
    snprintf(r->sdmark_version, sizeof r->sdmark_version, "%s", SDMARK_VERSION);
    snprintf(r->git_commit, sizeof r->git_commit, "%s", SDMARK_GIT_COMMIT);
    snprintf(r->run_id, sizeof r->run_id, "%s", run_id ? run_id : "");
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(r->timestamp_utc, sizeof r->timestamp_utc, "%Y-%m-%dT%H:%M:%SZ", &tm);
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    snprintf(r->host, sizeof r->host, "%s", host);
}

void sd_device_slug(const struct sd_device_info *dev, char *buf, size_t len)
{
    char raw[256];
    snprintf(raw, sizeof raw, "%s-%s", dev->backend, dev->name);
    size_t o = 0;
    int dash = 0;
    for (const char *p = raw; *p && o + 1 < len && o < 80; p++) {
        unsigned char c = (unsigned char)*p;
        if (isalnum(c)) {
            buf[o++] = (char)tolower(c);
            dash = 0;
        } else if (!dash && o > 0) {
            buf[o++] = '-';
            dash = 1;
        }
    }
    while (o > 0 && buf[o - 1] == '-')
        o--;
    buf[o] = 0;
}

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a: fixed seed per workload label */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

/* Host memory the kernel says is available for new allocations (MemAvailable, else free pages);
 * SDMARK_HOST_MEM_AVAILABLE (bytes) overrides it for tests. 0 if unknown. */
double sd_host_mem_available(void)
{
    const char *e = getenv("SDMARK_HOST_MEM_AVAILABLE");
    if (e && *e) {
        char *end;
        double v = strtod(e, &end);
        if (end != e && v > 0)
            return v;
    }
    FILE *f = fopen("/proc/meminfo", "r");
    if (f) {
        char line[256];
        unsigned long long kb = 0;
        int found = 0;
        while (fgets(line, sizeof line, f))
            if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1) {
                found = 1;
                break;
            }
        fclose(f);
        if (found)
            return (double)kb * 1024.0;
    }
    long pages = sysconf(_SC_AVPHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
    return (pages > 0 && psz > 0) ? (double)pages * (double)psz : 0;
}

static void fail_row(struct sd_result *row, enum sd_status st, const char *reason)
{
    row->status = st;
    snprintf(row->reason, sizeof row->reason, "%s", reason);
    /* one line, no separators that would need quoting surprises */
    for (char *p = row->reason; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
}

void sd_run_row(const struct sd_backend_ops *be, void *ctx, const struct sd_device_info *dev,
                const struct sd_workload *wl, const char *impl, const struct sd_run_opts *o,
                struct sd_result *row)
{
    char reason[SD_REASON_LEN] = "";
    sd_result_init(row);
    sd_result_provenance(row, o->run_id);
    row->dev = *dev;
    row->wl = *wl;
    snprintf(row->impl, sizeof row->impl, "%s", impl);
    row->flops = sd_workload_flops(wl);
    row->bytes_min = sd_workload_bytes_min(wl);
    snprintf(row->cache_mode, sizeof row->cache_mode, "%s", o->hot ? "hot" : be->flush_cache ? "flush" : "cold");
    snprintf(row->timer, sizeof row->timer, "%s", be->timer_name ? be->timer_name(ctx) : "host_monotonic");
    row->tolerance = sd_verify_tolerance(wl);

    if (!be->prepare || !be->run || !be->upload || !be->download) {
        fail_row(row, SD_UNSUPPORTED, "backend has no run path");
        return;
    }
    if (be->supports) {
        enum sd_status st = be->supports(ctx, wl, impl, reason, sizeof reason);
        if (st != SD_OK) {
            fail_row(row, st, reason[0] ? reason : "not supported");
            return;
        }
    }

    /* Inputs: fp32 on the host, rounded to the storage dtype so the reference sees what the device
     * sees. One host copy is uploaded into every rotation set. The host arrays are allocated only
     * after the backend's prepare() accepted the shape, and only if they fit in the host's
     * available memory: a shape that cannot fit is a quick `oom` row, never a terabyte malloc/fill. */
    struct sd_tensors t;
    sd_workload_tensors(wl, &t);
    float *in[3] = {NULL, NULL, NULL};
    float *out = NULL;
    struct sd_plan *plan = NULL;
    double in_bytes = 0, host_bytes = (double)t.out * sizeof(float);
    for (int i = 0; i < t.n_in; i++) {
        in_bytes += (double)t.in[i] * (double)sd_dtype_size(wl->dtype);
        host_bytes += (double)t.in[i] * sizeof(float);
    }
    /* Cold cache: rotate enough input sets that consecutive samples never find their inputs in the
     * last-level cache (>= 3x its size in total). */
    int nsets = 1;
    if (!o->hot && !be->flush_cache) { /* a backend that flushes its caches needs no rotation */
        double llc = dev->l2_bytes ? (double)dev->l2_bytes : 32.0 * 1024 * 1024;
        double want = ceil(3.0 * llc / (in_bytes > 1 ? in_bytes : 1));
        /* ...but never spend more than 1/8 of the device memory (or 1 GiB) on copies: a VM may
         * report a huge "LLC", and rotation must not turn a fitting row into an oom row. */
        double budget = dev->mem_bytes ? (double)dev->mem_bytes / 8 : 1073741824.0;
        /* A backend may hold a row to less than the device memory (cpu: SDMARK_CPU_MEM_LIMIT,
         * reported as max_alloc_bytes; OpenCL: the largest single buffer). */
        if (dev->max_alloc_bytes && (double)dev->max_alloc_bytes / 8 < budget)
            budget = (double)dev->max_alloc_bytes / 8;
        if (budget > 1073741824.0)
            budget = 1073741824.0;
        double fit = floor(budget / (in_bytes > 1 ? in_bytes : 1));
        if (want > fit)
            want = fit;
        nsets = want < 1 ? 1 : want > 16 ? 16 : (int)want;
    }
    if (be->reset_peak)
        be->reset_peak(ctx);
    enum sd_status st = be->prepare(ctx, wl, impl, nsets, &plan, reason, sizeof reason);
    if (st != SD_OK) {
        fail_row(row, st, reason[0] ? reason : "prepare failed");
        plan = NULL;
        goto done;
    }
    {
        /* A backend whose "device" is host memory (cpu) reserved its buffers in prepare without
         * touching them yet: they will come out of the same available memory. */
        double avail0 = sd_host_mem_available(), avail = avail0;
        if (avail0 > 0 && !strcmp(dev->backend, "cpu") && be->mem_stats) {
            struct sd_mem_stats ms;
            memset(&ms, 0, sizeof ms);
            be->mem_stats(ctx, &ms);
            avail -= (double)ms.current_bytes;
        }
        if (host_bytes >= (double)SIZE_MAX / 2 || (avail0 > 0 && host_bytes > avail)) {
            snprintf(reason, sizeof reason,
                     "host memory for the fp32 inputs and output: needs %.1f MiB, %.1f MiB available",
                     host_bytes / 1048576.0, (avail > 0 ? avail : 0) / 1048576.0);
            fail_row(row, SD_OOM, reason);
            goto done;
        }
    }
    for (int i = 0; i < t.n_in; i++) {
        in[i] = malloc(t.in[i] * sizeof(float));
        if (!in[i]) {
            fail_row(row, SD_OOM, "host memory for the inputs");
            goto done;
        }
        sd_fill_random(in[i], t.in[i], hash_str(wl->label) + (uint64_t)i * 7919u);
        sd_round_to_dtype(in[i], t.in[i], wl->dtype);
    }
    out = malloc(t.out * sizeof(float));
    if (!out) {
        fail_row(row, SD_OOM, "host memory for the output");
        goto done;
    }
    for (int s = 0; s < nsets; s++) {
        st = be->upload(plan, s, (const float *const *)in, reason, sizeof reason);
        if (st != SD_OK) {
            fail_row(row, st, reason);
            goto done;
        }
    }
    /* Correctness first: poison, run once, verify. */
    if (be->poison && (st = be->poison(plan, reason, sizeof reason)) != SD_OK) {
        fail_row(row, st, reason);
        goto done;
    }
    double first_ms = NAN;
    double t0 = sd_now_s();
    st = be->run(plan, 0, &first_ms, reason, sizeof reason);
    double first_wall_ms = (sd_now_s() - t0) * 1e3;
    if (st != SD_OK) {
        fail_row(row, st, reason);
        goto done;
    }
    if ((st = be->download(plan, out, reason, sizeof reason)) != SD_OK) {
        fail_row(row, st, reason);
        goto done;
    }
    struct sd_verify_result vr;
    sd_verify(wl, (const float *const *)in, out, &vr);
    row->max_rel_err = vr.max_rel_err;
    row->tolerance = vr.tolerance;
    snprintf(row->verify, sizeof row->verify, "%s", vr.pass ? "pass" : "fail");
    if (!vr.pass) {
        fail_row(row, SD_WRONG, vr.reason);
        goto done;
    }
    if (sd_interrupted) {
        fail_row(row, SD_ERROR, "interrupted");
        goto done;
    }

    /* Warm-up by time (at least one more run: first launches may compile or page in). */
    double warm_start = sd_now_s();
    int set = 1 % nsets;
    do {
        st = be->run(plan, set, NULL, reason, sizeof reason);
        set = (set + 1) % nsets;
        if (st != SD_OK) {
            fail_row(row, st, reason);
            goto done;
        }
    } while ((sd_now_s() - warm_start) * 1e3 < o->m.warmup_ms &&
             (sd_now_s() - warm_start) * 1e3 + first_wall_ms < o->m.timeout_s * 1e3 && !sd_interrupted);
    row->warmup_ms = (sd_now_s() - warm_start) * 1e3 + first_wall_ms;

    /* Timed samples until the stopping rule says enough. */
    int cap = 256, n = 0;
    double *samples = malloc(sizeof(double) * (size_t)cap);
    if (!samples) {
        fail_row(row, SD_ERROR, "host memory for samples");
        goto done;
    }
    if (be->env_begin)
        be->env_begin(ctx);
    double s_start = sd_now_s();
    const char *stop = NULL;
    while (!stop) {
        double ms = NAN;
        if (!o->hot && be->flush_cache && (st = be->flush_cache(plan, reason, sizeof reason)) != SD_OK)
            break;
        st = be->run(plan, set, &ms, reason, sizeof reason);
        set = (set + 1) % nsets;
        if (st != SD_OK)
            break;
        if (!(ms > 0) || !isfinite(ms)) {
            st = SD_ERROR;
            snprintf(reason, sizeof reason, "timer returned an invalid time (%g ms)", ms);
            break;
        }
        if (n == cap) {
            double *p = realloc(samples, sizeof(double) * (size_t)(cap *= 2));
            if (!p) {
                st = SD_ERROR;
                snprintf(reason, sizeof reason, "host memory for samples");
                break;
            }
            samples = p;
        }
        samples[n++] = ms;
        if (sd_interrupted) {
            stop = "interrupted";
            break;
        }
        stop = sd_measure_should_stop(&o->m, samples, n, sd_now_s() - s_start);
    }
    struct sd_env env = {NAN, NAN, NAN, -1};
    if (be->env_end)
        be->env_end(ctx, &env);
    if (st != SD_OK) {
        free(samples);
        fail_row(row, st, reason);
        goto done;
    }
    if (sd_interrupted && n < o->m.min_samples) {
        free(samples);
        fail_row(row, SD_ERROR, "interrupted");
        goto done;
    }
    struct sd_stats stt;
    sd_stats_compute(samples, n, &stt);
    free(samples);
    row->samples = n;
    snprintf(row->stop_reason, sizeof row->stop_reason, "%s", stop);
    row->time_ms_median = stt.median;
    row->time_ms_min = stt.min;
    row->time_ms_p10 = stt.p10;
    row->time_ms_p90 = stt.p90;
    row->rel_noise = stt.rel_noise;
    row->tflops = row->flops / (stt.median * 1e-3) / 1e12;
    row->gbs = row->bytes_min / (stt.median * 1e-3) / 1e9;
    if (o->card) {
        double peak = sd_card_peak_tflops(o->card, wl->dtype, wl->acc);
        if (peak > 0)
            row->pct_of_spec = 100.0 * row->tflops / peak;
    }
    row->clock_mhz_mean = env.clock_mhz_mean;
    row->temp_c_max = env.temp_c_max;
    row->power_w_mean = env.power_w_mean;
    row->throttled = env.throttled;
    /* The backend may have fallen back to the host clock during this row (OpenCL: profiling
     * events it judged garbage): the column names the timer the samples actually came from. */
    snprintf(row->timer, sizeof row->timer, "%s", be->timer_name ? be->timer_name(ctx) : "host_monotonic");
    row->status = SD_OK;
    if (be->plan_note)
        be->plan_note(plan, row->reason, sizeof row->reason);
done:
    if (be->mem_stats) {
        struct sd_mem_stats ms;
        be->mem_stats(ctx, &ms);
        row->peak_mem_bytes = (double)ms.peak_bytes;
    }
    if (plan && be->release)
        be->release(plan);
    for (int i = 0; i < 3; i++)
        free(in[i]);
    free(out);
}

/* Impl list for op after the --impl filter. */
static int impl_selected(const struct sd_run_opts *o, const char *impl)
{
    if (!o->impls || !*o->impls)
        return 1;
    const char *p = o->impls;
    size_t n = strlen(impl);
    while (*p) {
        const char *e = strchr(p, ',');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        if (l == n && !strncmp(p, impl, n))
            return 1;
        if (!e)
            break;
        p = e + 1;
    }
    return 0;
}

static int wl_selected(const struct sd_run_opts *o, const struct sd_workload *wl)
{
    if (o->op_mask && !(o->op_mask & (1u << wl->op)))
        return 0;
    if (o->dtype_mask && !(o->dtype_mask & (1u << wl->dtype)))
        return 0;
    return 1;
}

int sd_count_rows(const struct sd_backend_ops *be, const struct sd_suite *suite, const struct sd_run_opts *o)
{
    int total = 0;
    for (size_t i = 0; i < suite->n; i++) {
        const struct sd_workload *wl = &suite->items[i];
        if (!wl_selected(o, wl) || !be->impls[wl->op])
            continue;
        for (const char *const *im = be->impls[wl->op]; *im; im++)
            total += impl_selected(o, *im);
    }
    return total;
}

static void fmt_dur(double s, char *buf, size_t len)
{
    if (s < 60)
        snprintf(buf, len, "%.0fs", s);
    else
        snprintf(buf, len, "%dm%02ds", (int)(s / 60), (int)fmod(s, 60));
}

static int write_outputs(const struct sd_run_opts *o, const char *base, const struct sd_result *rows, size_t n)
{
    char path[4200], err[512];
    int rc = 0;
    if (o->csv) {
        snprintf(path, sizeof path, "%s.csv", base);
        if (sd_results_write(path, "csv", rows, n, err, sizeof err)) {
            fprintf(stderr, "sdmark: %s\n", err);
            rc = -1;
        }
    }
    if (o->json) {
        snprintf(path, sizeof path, "%s.json", base);
        if (sd_results_write(path, "json", rows, n, err, sizeof err)) {
            fprintf(stderr, "sdmark: %s\n", err);
            rc = -1;
        }
    }
    return rc;
}

int sd_run_suite(const struct sd_backend_ops *be, void *ctx, const struct sd_device_info *dev,
                 const struct sd_suite *suite, const struct sd_run_opts *o, int *row_index, int row_total,
                 double t_start, struct sd_result **rows, size_t *nrows)
{
    char slug[128], base[4096];
    sd_device_slug(dev, slug, sizeof slug);
    /* Identical cards (two of the same GPU, `--device all`) share a slug: the index keeps their
     * files apart, or one device's rows would overwrite the other's. */
    if (o->device_index > 0)
        snprintf(base, sizeof base, "%s/%s-dev%d-%s", o->out_dir, slug, o->device_index, suite->name);
    else
        snprintf(base, sizeof base, "%s/%s-%s", o->out_dir, slug, suite->name);
    /* This suite's rows live in a contiguous tail of *rows: the file holds exactly them. */
    size_t first = *nrows;
    int write_failed = 0;
    for (size_t i = 0; i < suite->n && !sd_interrupted; i++) {
        const struct sd_workload *wl = &suite->items[i];
        if (!wl_selected(o, wl) || !be->impls[wl->op])
            continue;
        for (const char *const *im = be->impls[wl->op]; *im && !sd_interrupted; im++) {
            if (!impl_selected(o, *im))
                continue;
            (*row_index)++;
            char shape[160];
            sd_workload_shape_str(wl, shape, sizeof shape);
            double el = sd_now_s() - t_start;
            if (!o->quiet) {
                char e1[32], e2[32];
                fmt_dur(el, e1, sizeof e1);
                if (*row_index > 1) {
                    fmt_dur(el / (*row_index - 1) * (row_total - *row_index + 1), e2, sizeof e2);
                } else {
                    snprintf(e2, sizeof e2, "?");
                }
                fprintf(stderr, "[%3d/%d] %s %s %s/%s %s %s  (elapsed %s, ~%s left)\n", *row_index, row_total,
                        dev->backend, suite->name, sd_op_name(wl->op), *im, wl->label, sd_dtype_name(wl->dtype), e1,
                        e2);
            }
            struct sd_result *p = realloc(*rows, (*nrows + 1) * sizeof **rows);
            if (!p) {
                fprintf(stderr, "sdmark: out of host memory for result rows\n");
                return -1;
            }
            *rows = p;
            struct sd_result *row = &(*rows)[*nrows];
            sd_run_row(be, ctx, dev, wl, *im, o, row);
            if (sd_interrupted && row->status == SD_ERROR && !strcmp(row->reason, "interrupted"))
                break; /* the row in flight is not a result */
            (*nrows)++;
            if (!o->quiet) {
                if (row->status == SD_OK)
                    fprintf(stderr, "        ok  %.4g ms  %.4g TFLOP/s  noise %.2f%%  (%d samples, %s)\n",
                            row->time_ms_median, row->tflops, row->rel_noise * 100, row->samples, row->stop_reason);
                else
                    fprintf(stderr, "        %s: %s\n", sd_status_name(row->status), row->reason);
            }
            /* Rewrite the file after every row (atomically): an interruption loses nothing done. */
            /* A failed write is retried with the next row (each write holds every row so far);
             * the run fails only if the last write failed. */
            write_failed = write_outputs(o, base, *rows + first, *nrows - first) != 0;
        }
    }
    if (*nrows == first)
        return sd_interrupted ? 1 : 0;
    if (write_failed)
        return -1;
    if (!o->quiet)
        fprintf(stderr, "sdmark: wrote %s.%s\n", base, o->csv && o->json ? "{csv,json}" : o->csv ? "csv" : "json");
    return sd_interrupted ? 1 : 0;
}

void sd_print_table(FILE *f, const struct sd_result *rows, size_t n)
{
    fprintf(f, "%-7s %-10s %-9s %-9s %-22s %-5s %-11s %10s %9s %8s %7s\n", "backend", "suite", "op", "impl", "label",
            "dtype", "status", "median_ms", "TFLOP/s", "GB/s", "noise%");
    for (size_t i = 0; i < n; i++) {
        const struct sd_result *r = &rows[i];
        if (r->status == SD_OK)
            fprintf(f, "%-7s %-10s %-9s %-9s %-22s %-5s %-11s %10.4g %9.4g %8.4g %7.2f\n", r->dev.backend, r->wl.suite,
                    sd_op_name(r->wl.op), r->impl, r->wl.label, sd_dtype_name(r->wl.dtype), "ok", r->time_ms_median,
                    r->tflops, r->gbs, r->rel_noise * 100);
        else
            fprintf(f, "%-7s %-10s %-9s %-9s %-22s %-5s %-11s %.60s\n", r->dev.backend, r->wl.suite,
                    sd_op_name(r->wl.op), r->impl, r->wl.label, sd_dtype_name(r->wl.dtype), sd_status_name(r->status),
                    r->reason);
    }
}
