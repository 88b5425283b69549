/* plausibility.h — the fastest a device can physically be, so that a row faster than that is never
 * published as `ok` (docs/measurement.md "Physical plausibility").
 *
 * The harness does not hold spec sheets: the caller (cmd_run, through the analysis layer's cards)
 * supplies a lookup that answers "what does the spec sheet say for this device and dtype". Without
 * a spec, the bound is derived from what the device reports, with a stated margin. */
#ifndef SDMARK_PLAUSIBILITY_H
#define SDMARK_PLAUSIBILITY_H

#include <stdbool.h>
#include <stddef.h>

#include "sdmark/backend.h"
#include "sdmark/workload.h"

/* What a spec sheet says for one device and row (NaN = not known). */
struct sd_spec {
    double peak_tflops;   /* dense peak for the row's dtype/acc */
    double bw_gbs;        /* memory bandwidth */
    char name[48];        /* the card ("RTX 4090") */
};

/* Supplied by the caller of the harness; lookup returns 0 and fills *out when the device has a
 * spec sheet, -1 when it has none. */
struct sd_spec_source {
    int (*lookup)(void *arg, const struct sd_device_info *dev, const struct sd_workload *wl, struct sd_spec *out);
    void *arg;
};

/* Upper bounds for one row (INFINITY = no bound known) and what each is derived from. */
struct sd_bound {
    double tflops, gbs;
    char tflops_basis[128], gbs_basis[96];
};

#define SD_BOUND_CPU_MARGIN 2.0   /* VMs report the base clock; turbo may be far above it */
#define SD_BOUND_CPU_ASSUMED_MHZ 5000.0  /* when the CPU reports no clock at all */
#define SD_BOUND_GPU_LANES 128    /* fp32 lanes per compute unit: the widest there is (NVIDIA SM) */
#define SD_BOUND_GPU_MARGIN 2.0   /* dual issue, boost clocks above the reported one */
#define SD_BOUND_MATRIX_FACTOR 16.0 /* fp16/bf16/tf32 matrix units over the fp32 rate (H100: ~15x) */
#define SD_BOUND_BW_MARGIN 2.0    /* bytes_min/time vs the spec bandwidth (cold cache only) */

/* The bound for a row of wl on dev. spec may be NULL (no spec sheet); hot: hot-cache mode (no
 * bandwidth bound: inputs may live in cache). */
void sd_bound_for(const struct sd_device_info *dev, const struct sd_workload *wl, const struct sd_spec *spec,
                  bool hot, struct sd_bound *b);

/* 1 when tflops/gbs exceed the bound: why says which, with the bound and its basis. */
int sd_bound_exceeded(const struct sd_bound *b, double tflops, double gbs, char *why, size_t len);

#endif
