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
#include "sdmark/plausibility.h"
#include "sdmark/row_phases.h"
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
    snprintf(r->host, sizeof r->host, "%.*s", (int)sizeof r->host - 1, host); /* long names are cut, not overflowed */
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

/* Identity and method columns, filled before anything can fail. */
static void row_begin(struct sd_result *row, const struct sd_backend_ops *be, void *ctx,
                      const struct sd_device_info *dev, const struct sd_workload *wl, const char *impl,
                      const struct sd_run_opts *o)
{
    sd_result_init(row);
    sd_result_provenance(row, o->run_id);
    row->dev = *dev;
    snprintf(row->device_kind, sizeof row->device_kind, "%s", sd_device_kind_name(dev->kind));
    row->wl = *wl;
    snprintf(row->impl, sizeof row->impl, "%s", impl);
    row->flops = sd_workload_flops(wl);
    row->bytes_min = sd_workload_bytes_min(wl);
    snprintf(row->cache_mode, sizeof row->cache_mode, "%s", o->hot ? "hot" : be->flush_cache ? "flush" : "cold");
    snprintf(row->timer, sizeof row->timer, "%s", be->timer_name ? be->timer_name(ctx) : "host_monotonic");
    row->tolerance = sd_verify_tolerance(wl);
}

/* Cold cache: rotate enough input sets that consecutive samples never find their inputs in the
 * last-level cache (>= 3x its size in total), within a memory budget. */
static int rotation_sets(const struct sd_backend_ops *be, const struct sd_device_info *dev,
                         const struct sd_workload *wl, bool hot)
{
    if (hot || be->flush_cache) /* a backend that flushes its cache before each sample needs no rotation */
        return 1;
    struct sd_tensors t;
    sd_workload_tensors(wl, &t);
    double in_bytes = 0;
    for (int i = 0; i < t.n_in; i++)
        in_bytes += (double)t.in[i] * (double)sd_dtype_size(wl->dtype);
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
    return want < 1 ? 1 : want > 16 ? 16 : (int)want;
}

/* The host fp32 copies are allocated only after prepare() accepted the shape, and only if they fit
 * in the host's available memory: a shape that cannot fit is a quick `oom` row, never a terabyte
 * malloc/fill. Returns 0 when they fit. */
static int host_copies_fit(const struct sd_backend_ops *be, void *ctx, const struct sd_device_info *dev,
                           const struct sd_workload *wl, char *reason, size_t len)
{
    struct sd_tensors t;
    sd_workload_tensors(wl, &t);
    double host_bytes = (double)t.out * sizeof(float);
    for (int i = 0; i < t.n_in; i++)
        host_bytes += (double)t.in[i] * sizeof(float);
    /* A device that is the host CPU reserved its buffers in prepare without touching them yet:
     * they come out of the same available memory. */
    double avail0 = sd_host_mem_available(), avail = avail0;
    if (avail0 > 0 && dev->kind == SD_DEVICE_CPU && be->mem_stats) {
        struct sd_mem_stats ms;
        memset(&ms, 0, sizeof ms);
        be->mem_stats(ctx, &ms);
        avail -= (double)ms.current_bytes;
    }
    if (host_bytes >= (double)SIZE_MAX / 2 || (avail0 > 0 && host_bytes > avail)) {
        snprintf(reason, len, "host memory for the fp32 inputs and output: needs %.1f MiB, %.1f MiB available",
                 host_bytes / 1048576.0, (avail > 0 ? avail : 0) / 1048576.0);
        return -1;
    }
    return 0;
}

/* Statistics into the row, then the physical bound: a row faster than the device can be is an
 * `error` row whose reason names the bound, never `ok`. */
static void row_publish(struct sd_result *row, const struct sd_samples *sm, const struct sd_run_opts *o)
{
    row->warmup_ms = sm->warmup_ms;
    row->samples = sm->st.n;
    snprintf(row->stop_reason, sizeof row->stop_reason, "%s", sm->stop);
    snprintf(row->timer, sizeof row->timer, "%s", sm->timer);
    row->clock_mhz_mean = sm->env.clock_mhz_mean;
    row->temp_c_max = sm->env.temp_c_max;
    row->power_w_mean = sm->env.power_w_mean;
    row->throttled = sm->env.throttled;
    double tflops = row->flops / (sm->st.median * 1e-3) / 1e12;
    double gbs = row->bytes_min / (sm->st.median * 1e-3) / 1e9;
    struct sd_spec spec = {NAN, NAN, ""}, *have = NULL;
    if (o->spec.lookup && o->spec.lookup(o->spec.arg, &row->dev, &row->wl, &spec) == 0)
        have = &spec;
    struct sd_bound b;
    sd_bound_for(&row->dev, &row->wl, have, o->hot, &b);
    char why[SD_REASON_LEN];
    if (sd_bound_exceeded(&b, tflops, gbs, why, sizeof why)) {
        fail_row(row, SD_ERROR, why); /* no time is published for it */
        return;
    }
    row->time_ms_median = sm->st.median;
    row->time_ms_min = sm->st.min;
    row->time_ms_p10 = sm->st.p10;
    row->time_ms_p90 = sm->st.p90;
    row->rel_noise = sm->st.rel_noise;
    row->tflops = tflops;
    row->gbs = gbs;
    if (have && spec.peak_tflops > 0)
        row->pct_of_spec = 100.0 * tflops / spec.peak_tflops;
    snprintf(row->reason, sizeof row->reason, "%s", sm->note);
    row->status = SD_OK;
}

/* Inputs, upload, run once + verify, samples: the phases of src/core/row_phases.c in order. */
static void row_measure(const struct sd_backend_ops *be, void *ctx, struct sd_plan *plan, int nsets,
                        const struct sd_workload *wl, const struct sd_run_opts *o, struct sd_result *row)
{
    char reason[SD_REASON_LEN] = "";
    struct sd_row_inputs h;
    struct sd_verify_result vr;
    struct sd_samples sm;
    double first_wall_ms = 0;
    enum sd_status st = sd_row_inputs_make(wl, &h, reason, sizeof reason);
    if (st == SD_OK)
        st = sd_row_upload(be, plan, nsets, &h, reason, sizeof reason);
    if (st == SD_OK) {
        st = sd_row_check(be, plan, wl, &h, &vr, &first_wall_ms, reason, sizeof reason);
        row->max_rel_err = vr.max_rel_err;
        row->tolerance = vr.tolerance;
        if (st == SD_OK || st == SD_WRONG)
            snprintf(row->verify, sizeof row->verify, "%s", vr.pass ? "pass" : "fail");
    }
    sd_row_inputs_free(&h);
    if (st == SD_OK && sd_interrupted) {
        st = SD_ERROR;
        snprintf(reason, sizeof reason, "interrupted");
    }
    if (st != SD_OK) {
        fail_row(row, st, reason);
        return;
    }
    struct sd_sample_opts so = {o->m, nsets, first_wall_ms, &sd_interrupted, !o->hot};
    st = sd_row_sample(be, ctx, plan, &so, &sm, reason, sizeof reason);
    if (st == SD_OK && sd_interrupted && sm.st.n < o->m.min_samples) {
        st = SD_ERROR;
        snprintf(reason, sizeof reason, "interrupted");
    }
    if (st != SD_OK) {
        fail_row(row, st, reason);
        return;
    }
    row_publish(row, &sm, o);
    if (row->status == SD_OK && be->plan_note) { /* e.g. cuDNN's chosen algorithm, library workspace */
        char note[SD_REASON_LEN] = "", both[sizeof row->reason + SD_REASON_LEN + 2];
        be->plan_note(plan, note, sizeof note);
        snprintf(both, sizeof both, "%s%s%s", row->reason, row->reason[0] && note[0] ? "; " : "", note);
        snprintf(row->reason, sizeof row->reason, "%.*s", (int)sizeof row->reason - 1, both); /* cut to fit */
    }
}

void sd_run_row(const struct sd_backend_ops *be, void *ctx, const struct sd_device_info *dev,
                const struct sd_workload *wl, const char *impl, const struct sd_run_opts *o,
                struct sd_result *row)
{
    char reason[SD_REASON_LEN] = "";
    row_begin(row, be, ctx, dev, wl, impl, o);
    if (!be->prepare || !be->run || !be->upload || !be->download) {
        fail_row(row, SD_UNSUPPORTED, "backend has no run path");
        return;
    }
    enum sd_status st = be->supports ? be->supports(ctx, wl, impl, reason, sizeof reason) : SD_OK;
    if (st != SD_OK) {
        fail_row(row, st, reason[0] ? reason : "not supported");
        return;
    }
    int nsets = rotation_sets(be, dev, wl, o->hot);
    struct sd_plan *plan = NULL;
    if (be->reset_peak)
        be->reset_peak(ctx);
    st = be->prepare(ctx, wl, impl, nsets, &plan, reason, sizeof reason);
    if (st != SD_OK)
        fail_row(row, st, reason[0] ? reason : "prepare failed");
    else if (host_copies_fit(be, ctx, dev, wl, reason, sizeof reason))
        fail_row(row, SD_OOM, reason);
    else
        row_measure(be, ctx, plan, nsets, wl, o, row);
    if (be->mem_stats) {
        struct sd_mem_stats ms;
        be->mem_stats(ctx, &ms);
        row->peak_mem_bytes = (double)ms.peak_bytes;
    }
    if (st == SD_OK && plan && be->release)
        be->release(plan);
}

static int impl_selected(const struct sd_run_opts *o, const char *impl) { return sd_impl_selected(o->impls, impl); }

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
                    fprintf(stderr, "        ok  %.4g ms  %.4g TFLOP/s  noise %.2f%%  (%d samples, %s)%s%s\n",
                            row->time_ms_median, row->tflops, row->rel_noise * 100, row->samples, row->stop_reason,
                            row->reason[0] ? "\n        note: " : "", row->reason);
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
