/* estimate.h — the step-time estimator: Σ count × median over a suite, a pipeline model for the small kernels,
 * projection onto cards that were not measured.
 * Implementation: src/analysis/estimate.c. Reads result files and suites only, never a backend. */
#ifndef SDMARK_ESTIMATE_H
#define SDMARK_ESTIMATE_H

#include <stdbool.h>
#include <stdio.h>
#include "sdmark/cards.h"
#include "sdmark/memory_model.h"
#include "sdmark/result_set.h"
#include "sdmark/suite.h"
#include "sdmark/text_util.h"

enum { SD_EST_MAX_MISSING = 256 };

struct sd_est_opts {
    const char *impl;        /* NULL = fastest usable impl per workload */
    int dtype;               /* -1 = the fastest of fp16/bf16/fp32 among those covering the most of the suite */
    int acc;                 /* -1 = fp32 accumulate (PyTorch default); else an sd_dtype */
    int steps;               /* 20 */
    int res;                 /* 0 = model default */
};
void sd_est_opts_default(struct sd_est_opts *o);

struct sd_est_missing {
    char label[SD_NAME_LEN];
    char op[16];
    char why[160];
    double flops_share;      /* of the suite's FLOPs */
};

/* Another dtype the device measured for the suite, beside the one the estimate uses. */
struct sd_est_dtype {
    char dtype[8];
    double coverage;         /* FLOP fraction of the suite with usable rows in this dtype */
    double kernel_ms;        /* its kernel-bound ceiling, extrapolated by FLOPs (measured / coverage) */
    double common_coverage;  /* FLOP fraction with usable rows in both this and the estimate's dtype */
    double speedup;          /* over those workloads: time in the estimate's dtype / time in this one
                                (> 1: this dtype is faster); NaN when they share none */
};

struct sd_estimate {
    char model[16];
    char suite[SD_NAME_LEN];
    char device[200];        /* display name of the measured device used */
    char card[48];           /* card name ("" when the device has no spec row) */
    bool projected;          /* numbers scaled from another device via cards.csv */
    char projected_from[200];
    char dtype[8], acc[8], impl_rule[64];
    int res, steps;
    /* kernel-bound ceiling (sum of the suite's big kernels) */
    double kernel_ms_measured;   /* Σ count × median over covered rows */
    double coverage;             /* FLOP fraction of the suite covered by usable rows */
    double kernel_ms;            /* measured / coverage when coverage < 1 (extrapolated) */
    bool kernel_extrapolated;
    /* pipeline model */
    double bw_gbs;               /* bandwidth used for the small kernels */
    char bw_source[256];
    double launch_us;            /* per-kernel floor */
    char launch_source[256];
    struct sd_traffic traffic;
    double small_ms;             /* Σ max(bytes_i / bw, floor) over small kernels */
    double step_ms;              /* kernel_ms + small_ms: expected pipeline */
    double it_per_s, kernel_it_per_s;
    /* VAE + image */
    double vae_ms;               /* NaN when not available */
    char vae_note[256];
    double image_s;              /* steps × step_ms + vae_ms (NaN parts named in notes) */
    double flops_per_call;
    size_t nmissing;
    struct sd_est_missing missing[SD_EST_MAX_MISSING];
    size_t nused;                /* rows used */
    size_t nquick_ignored;       /* rows of the quick suite not used (scaled or other shapes) */
    size_t nquick_used;          /* rows taken from the quick suite (same label and shape) */
    struct sd_est_dtype other[2];/* the other dtypes with usable rows (of fp16, bf16, fp32) */
    size_t nother;
};

/* Estimate `suite` on device `dev` (index into s->dev). vae may be NULL. */
int sd_estimate_device(const struct sd_rset *s, int dev, const struct sd_suite *suite,
                       const struct sd_suite *vae, const struct sd_est_opts *o, struct sd_estimate *e,
                       char *err, size_t errlen);
/* Project onto `target` from the closest measured device that has a spec row. Picks the source
 * device itself (same vendor only; same arch first, then nearest fp16 peak). */
int sd_estimate_project(const struct sd_rset *s, const struct sd_card *target, const struct sd_suite *suite,
                        const struct sd_suite *vae, const struct sd_est_opts *o, struct sd_estimate *e,
                        char *err, size_t errlen);
/* Index of the measured device closest to `target` that has a card, or -1. */
int sd_closest_device(const struct sd_rset *s, const struct sd_card *target);
/* Roofline bound of a suite on a card from its spec sheet alone (100 % of peak, no measured
 * efficiency): Σ count × max(flops / peak, bytes_min / bandwidth), in ms. NaN if the card has no
 * path for the dtype. An upper bound of speed, never a prediction. */
double sd_spec_bound_ms(const struct sd_suite *suite, const struct sd_card *card, enum sd_dtype dtype,
                        enum sd_dtype acc);
/* Render n estimates (src/analysis/estimate_print.c): text blocks, JSON (an object for one, an
 * array for several) or a markdown table. */
void sd_estimate_print(FILE *f, const struct sd_estimate *e, size_t n, enum sd_format fmt);

#endif
