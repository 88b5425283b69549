/* estimate_print.c — render estimates (estimate.c) as text, JSON (cJSON) or a markdown table.
 * Labels say where each number comes from: [measured], [projected from <device>], or
 * "not measured" when no row of the suite was usable (never "n/a = n/a"). it/s are printed with
 * three significant digits (SDXL on a CPU runs at 0.00x it/s). */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <cJSON.h>

#include "sdmark/json_out.h"
#include "sdmark/estimate.h"
#include "sdmark/text_util.h"

static void num(FILE *f, const char *fmt, double v)
{
    if (isfinite(v))
        fprintf(f, fmt, v);
    else
        fprintf(f, "n/a");
}

/* "ms/step = it/s" with three significant digits for the rate. */
static void step_line(FILE *f, const char *what, double ms, double it_s, const char *tag)
{
    char r[32];
    sd_fmt_sig3(it_s, r, sizeof r);
    fprintf(f, "  %-21s: %.2f ms/step = %s it/s", what, ms, r);
    if (tag)
        fprintf(f, "   [%s]", tag);
    fprintf(f, "\n");
}

static void kernel_tag(const struct sd_estimate *e, char *b, size_t l)
{
    if (e->projected)
        snprintf(b, l, "projected from %s%s", e->projected_from,
                 e->kernel_extrapolated ? ", extrapolated by FLOPs to the missing rows" : "");
    else
        snprintf(b, l, "%s", e->kernel_extrapolated ? "measured rows, extrapolated by FLOPs to the missing ones"
                                                    : "measured");
}

static void print_small(FILE *f, const struct sd_estimate *e)
{
    fprintf(f, "  small kernels        : ");
    num(f, "%.2f ms/step", e->small_ms);
    fprintf(f, "   [modelled from shapes: %.0f kernels, %.2f GB/step; bandwidth ", e->traffic.n_small,
            e->traffic.bytes / 1e9);
    num(f, "%.1f GB/s", e->bw_gbs);
    fprintf(f, " %s; floor ", e->bw_source);
    num(f, "%.1f us", e->launch_us);
    fprintf(f, " %s]\n", e->launch_source);
}

static void print_notes(FILE *f, const struct sd_estimate *e)
{
    if (e->nquick_used)
        fprintf(f, "  note: %zu rows taken from the 'quick' suite (same label and shape as %s's)\n", e->nquick_used,
                e->model);
    if (e->nquick_ignored)
        fprintf(f, "  note: %zu rows of the 'quick' suite not used (scaled shapes or other models)\n",
                e->nquick_ignored);
    if (!e->nmissing)
        return;
    fprintf(f, "  missing or failed (%zu):\n", e->nmissing);
    for (size_t i = 0; i < e->nmissing; i++)
        fprintf(f, "    %-10s %-24s %5.1f %% of FLOPs  %s\n", e->missing[i].op, e->missing[i].label,
                100 * e->missing[i].flops_share, e->missing[i].why);
}

/* The dtypes the estimate did not use: the rule prefers coverage, so a faster dtype measured on
 * fewer workloads (bf16 on a CPU after `make bench`) is named here with its like-with-like speed. */
static void print_other_dtypes(FILE *f, const struct sd_estimate *e)
{
    for (size_t i = 0; i < e->nother; i++) {
        const struct sd_est_dtype *x = &e->other[i];
        fprintf(f, "  also measured        : %s on %.1f %% of FLOPs, ceiling %.2f ms/step%s", x->dtype,
                100 * x->coverage, x->kernel_ms, x->coverage < 1 - 1e-9 ? " extrapolated" : "");
        if (isfinite(x->speedup))
            fprintf(f, "; %.2fx the %s speed on the %.1f %% both cover", x->speedup, e->dtype, 100 * x->common_coverage);
        fprintf(f, " (--dtype %s)\n", x->dtype);
    }
}

static void print_text(FILE *f, const struct sd_estimate *e)
{
    char tag[300];
    fprintf(f, "%s on %s%s\n", e->model, e->device, e->projected ? " — PROJECTED" : "");
    if (e->projected)
        fprintf(f, "  projected from measurements on %s, scaled row by row with cards.csv peaks/bandwidth\n",
                e->projected_from);
    fprintf(f, "  suite %s, %s (acc %s), %s, %d x %d image, %d steps, CFG batch 2\n", e->suite, e->dtype, e->acc,
            e->impl_rule, e->res, e->res, e->steps);
    fprintf(f, "  coverage: %.1f %% of the suite's %.3f TFLOP per UNet call measured (%zu rows used)\n",
            100 * e->coverage, e->flops_per_call / 1e12, e->nused);
    print_other_dtypes(f, e);
    if (!(e->coverage > 0)) {
        fprintf(f, "  no usable row of this suite: nothing to estimate (see the missing rows below)\n");
        print_notes(f, e);
        return;
    }
    kernel_tag(e, tag, sizeof tag);
    step_line(f, "kernel-bound ceiling", e->kernel_ms, e->kernel_it_per_s, tag);
    print_small(f, e);
    step_line(f, "expected pipeline", e->step_ms, e->it_per_s,
              isfinite(e->small_ms) ? "ceiling + modelled small kernels" : "ceiling only: small kernels NOT included");
    fprintf(f, "  VAE decode           : ");
    num(f, "%.1f ms", e->vae_ms);
    fprintf(f, "   [%s]\n", e->vae_note);
    fprintf(f, "  seconds per image    : %.2f s (%d steps%s)\n", e->image_s, e->steps,
            isfinite(e->vae_ms) ? " + VAE decode" : "; VAE decode NOT included");
    print_notes(f, e);
}

static void json_basis(cJSON *o, const struct sd_estimate *e)
{
    cJSON *parts = cJSON_AddObjectToObject(o, "basis");
    cJSON_AddStringToObject(parts, "big_kernels",
                            e->projected ? "projected from spec x measured efficiency"
                                         : (e->kernel_extrapolated ? "measured, extrapolated by FLOPs" : "measured"));
    cJSON_AddStringToObject(parts, "small_kernels", "modelled from the model's shapes (bytes, kernel count)");
    cJSON *miss = cJSON_AddArrayToObject(o, "missing");
    for (size_t i = 0; i < e->nmissing; i++) {
        cJSON *m = cJSON_CreateObject();
        cJSON_AddStringToObject(m, "label", e->missing[i].label);
        cJSON_AddStringToObject(m, "op", e->missing[i].op);
        cJSON_AddStringToObject(m, "why", e->missing[i].why);
        cJSON_AddNumberToObject(m, "flops_share", e->missing[i].flops_share);
        cJSON_AddItemToArray(miss, m);
    }
}

/* "other_dtypes": what print_other_dtypes says in text. */
static void json_other_dtypes(cJSON *o, const struct sd_estimate *e)
{
    cJSON *od = cJSON_AddArrayToObject(o, "other_dtypes");
    for (size_t i = 0; i < e->nother; i++) {
        cJSON *x = cJSON_CreateObject();
        cJSON_AddStringToObject(x, "dtype", e->other[i].dtype);
        sd_json_num(x, "coverage", e->other[i].coverage);
        sd_json_num(x, "kernel_step_ms", e->other[i].kernel_ms);
        sd_json_num(x, "common_coverage", e->other[i].common_coverage);
        sd_json_num(x, "speedup_vs_dtype", e->other[i].speedup);
        cJSON_AddItemToArray(od, x);
    }
}

static cJSON *to_json(const struct sd_estimate *e)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "model", e->model);
    cJSON_AddStringToObject(o, "suite", e->suite);
    if (e->card[0])
        cJSON_AddStringToObject(o, "card", e->card);
    else
        cJSON_AddNullToObject(o, "card");
    cJSON_AddStringToObject(o, "device", e->device);
    cJSON_AddBoolToObject(o, "projected", e->projected);
    if (e->projected)
        cJSON_AddStringToObject(o, "projected_from", e->projected_from);
    cJSON_AddStringToObject(o, "dtype", e->dtype);
    cJSON_AddStringToObject(o, "acc", e->acc);
    cJSON_AddStringToObject(o, "impl_rule", e->impl_rule);
    cJSON_AddNumberToObject(o, "res", e->res);
    cJSON_AddNumberToObject(o, "steps", e->steps);
    sd_json_num(o, "step_ms", e->step_ms);
    sd_json_num(o, "it_per_s", e->it_per_s);
    sd_json_num(o, "image_s", e->image_s);
    cJSON_AddBoolToObject(o, "image_includes_vae", isfinite(e->vae_ms));
    sd_json_num(o, "coverage", e->coverage);
    sd_json_num(o, "kernel_step_ms", e->kernel_ms);
    sd_json_num(o, "kernel_it_per_s", e->kernel_it_per_s);
    sd_json_num(o, "kernel_ms_measured", e->kernel_ms_measured);
    cJSON_AddBoolToObject(o, "kernel_extrapolated", e->kernel_extrapolated);
    sd_json_num(o, "small_kernels_ms", e->small_ms);
    sd_json_num(o, "small_kernels", e->traffic.n_small);
    sd_json_num(o, "small_kernel_bytes", e->traffic.bytes);
    sd_json_num(o, "bandwidth_gbs", e->bw_gbs);
    cJSON_AddStringToObject(o, "bandwidth_source", e->bw_source);
    sd_json_num(o, "launch_floor_us", e->launch_us);
    cJSON_AddStringToObject(o, "launch_source", e->launch_source);
    sd_json_num(o, "vae_ms", e->vae_ms);
    cJSON_AddStringToObject(o, "vae_note", e->vae_note);
    sd_json_num(o, "flops_per_call", e->flops_per_call);
    json_basis(o, e);
    json_other_dtypes(o, e);
    cJSON_AddNumberToObject(o, "quick_rows_used", (double)e->nquick_used);
    cJSON_AddNumberToObject(o, "quick_rows_ignored", (double)e->nquick_ignored);
    return o;
}

static void print_md(FILE *f, const struct sd_estimate *e, size_t n)
{
    fprintf(f, "| model | device / card | basis | dtype | ms/step | it/s | it/s (kernel ceiling) | s per image | "
               "coverage |\n|---|---|---|---|---|---|---|---|---|\n");
    for (size_t i = 0; i < n; i++) {
        char a[32], b[32], basis[300];
        sd_fmt_sig3(e[i].it_per_s, a, sizeof a);
        sd_fmt_sig3(e[i].kernel_it_per_s, b, sizeof b);
        kernel_tag(&e[i], basis, sizeof basis);
        fprintf(f, "| %s | %s | %s | %s | %.2f | %s | %s | %.2f%s | %.0f %% |\n", e[i].model, e[i].device, basis,
                e[i].dtype, e[i].step_ms, a, b, e[i].image_s, isfinite(e[i].vae_ms) ? "" : " (no VAE)",
                100 * e[i].coverage);
    }
}

void sd_estimate_print(FILE *f, const struct sd_estimate *e, size_t n, enum sd_format fmt)
{
    if (fmt == SD_FMT_JSON) {
        cJSON *j = n == 1 ? to_json(&e[0]) : cJSON_CreateArray();
        for (size_t i = 0; n != 1 && i < n; i++)
            cJSON_AddItemToArray(j, to_json(&e[i]));
        sd_json_emit(f, j);
    } else if (fmt == SD_FMT_MD) {
        print_md(f, e, n);
    } else {
        for (size_t i = 0; i < n; i++) {
            if (i)
                fprintf(f, "\n");
            print_text(f, &e[i]);
        }
    }
}
