/* analysis.h — everything that turns result files into answers, without any backend:
 * card spec sheets (bench/cards.csv), result sets, the UNet/VAE memory and traffic model,
 * the step-time estimator (measured and projected), claims C1–C9, compare and report.
 *
 * Who may know whom (DESIGN.md): these modules read result files, suites and bench/cards.csv
 * only. They never include backend headers beyond the plain device-info struct result.h needs.
 */
#ifndef SDMARK_ANALYSIS_H
#define SDMARK_ANALYSIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sdmark/result.h"
#include "sdmark/suite.h"
#include "sdmark/workload.h"

/* ================================================================ cards (src/cards.c) */

/* One row of bench/cards.csv: dense peaks (TFLOP/s, NaN = not available on that card). */
struct sd_card {
    char name[48];        /* "RTX 4090" — matched case-insensitively */
    char vendor[16];      /* nvidia | amd | intel */
    char arch[24];        /* "Ada", "Ampere", "Hopper", ... */
    char sm[8];           /* "8.9" or "" */
    double fp32, tf32, fp16, fp16_f32acc, bf16;
    double mem_gb;        /* marketed memory, GB (binary: an "8 GB" card has 8 GiB) */
    double bw_gbs;        /* memory bandwidth, GB/s (decimal) */
    double msrp_usd;      /* NaN = no launch price */
    char match[160];      /* ';'-separated substrings of driver device names that are this card */
    char source[160];
    char date[16];
};

struct sd_cards {
    struct sd_card *v;
    size_t n;
    char path[512];
};

/* Default path: $SDMARK_BENCH_DIR/cards.csv, else <source tree>/bench/cards.csv, else
 * ./bench/cards.csv. */
void sd_cards_default_path(char *buf, size_t len);
/* Load cards.csv (RFC 4180 quoting). Errors name file:line. */
int sd_cards_load(const char *path, struct sd_cards *out, char *err, size_t errlen);
void sd_cards_free(struct sd_cards *c);
/* Exact name, case-insensitive, runs of spaces/'-'/'_' treated as one space. NULL if none. */
const struct sd_card *sd_cards_find(const struct sd_cards *c, const char *name);
/* The card a driver device name belongs to (longest `match` substring wins). NULL if none. */
const struct sd_card *sd_cards_match_device(const struct sd_cards *c, const char *device_name,
                                           uint64_t mem_bytes);
/* Peak TFLOP/s for a storage dtype + accumulate type (fp16/fp16 -> fp16 column, fp16/fp32 ->
 * fp16_f32acc, bf16 -> bf16, tf32 -> tf32, fp32 -> fp32). NaN when the card has no such path. */
double sd_card_peak_tflops(const struct sd_card *card, enum sd_dtype dtype, enum sd_dtype acc);
/* Case-insensitive equality with the normalisation of sd_cards_find. */
bool sd_name_eq(const char *a, const char *b);

/* ================================================================ result sets (src/resultset.c) */

/* A device seen in result files: (backend, device name). */
struct sd_device_ref {
    char backend[16];
    char name[128];
    char arch[64];
    const struct sd_card *card;   /* matched spec row, or NULL (CPUs, unknown GPUs) */
};

struct sd_rset {
    struct sd_result *rows;
    size_t n;
    size_t *file_of;              /* index into files[] per row */
    int *line_of;                 /* line of the row in its file (CSV), 0 for JSON */
    char **files;
    size_t nfiles;
    struct sd_device_ref *dev;
    size_t ndev;
    int *dev_of;                  /* device index per row */
};

/* Add one results file, or every *.csv in a directory (sorted). Errors name the file. */
int sd_rset_add(struct sd_rset *s, const char *path, char *err, size_t errlen);
/* Match devices to cards (call after adding; cards may be NULL). */
void sd_rset_index(struct sd_rset *s, const struct sd_cards *cards);
void sd_rset_free(struct sd_rset *s);
/* "cuda:NVIDIA GeForce RTX 4090" style display name. */
void sd_device_display(const struct sd_device_ref *d, char *buf, size_t len);
bool sd_device_is_gpu(const struct sd_device_ref *d);
/* A row is usable as a time: status ok, verify not 'fail', finite positive median. */
bool sd_row_usable(const struct sd_result *r);

/* ================================================================ model (src/memmodel.c) */

enum sd_model { SD_MODEL_SD15, SD_MODEL_SD21, SD_MODEL_SDXL, SD_MODEL_COUNT };
enum sd_attn_mode { SD_ATTN_UNFUSED, SD_ATTN_FLASH };
enum sd_train_mode { SD_TRAIN_NONE, SD_TRAIN_LORA, SD_TRAIN_FULL };

const char *sd_model_name(enum sd_model m);         /* "sd15" */
const char *sd_model_title(enum sd_model m);        /* "SD 1.5" */
int sd_model_parse(const char *s, enum sd_model *out);
int sd_model_default_res(enum sd_model m);           /* 512, 768, 1024 */

/* Published parameter counts (reference/sd-shapes.md "Memory facts"). */
struct sd_model_params {
    double unet, vae, text[2];                        /* text[1] = 0 unless SDXL */
    const char *text_name[2];
};
void sd_model_published_params(enum sd_model m, struct sd_model_params *p);
/* Parameter count of the UNet derived from the layer list (cross-check of the table). */
double sd_model_unet_params_derived(enum sd_model m);

struct sd_mem_opts {
    enum sd_model model;
    int res;                /* image pixels per side */
    int batch;              /* images; the UNet runs on 2*batch (CFG) for inference */
    enum sd_attn_mode attn;
    enum sd_train_mode train;
    int lora_rank;
    size_t act_bytes;       /* bytes per activation element (2 = fp16) */
};
void sd_mem_opts_default(struct sd_mem_opts *o, enum sd_model m);

struct sd_mem_layer {       /* one of the largest activation items */
    char what[64];
    double bytes;
};

struct sd_mem_report {
    /* weights per component */
    double w_unet_fp16, w_unet_fp32, w_text_fp16, w_text_fp32, w_vae_fp16, w_vae_fp32;
    double weights;             /* resident weights used for the total (fp16 inference / training rule) */
    double unet_act_peak;       /* inference UNet activations at their peak (skips + largest layer) */
    double score_largest;       /* unfused attention score matrix of the largest layer (0 when flash) */
    double score_largest_fp16;  /* same figure in fp16 whatever the mode (for reference checks) */
    double vae_decode_peak;     /* activations of the VAE decode at this resolution */
    double vae_score;           /* VAE mid-attention scores (unfused) */
    double train_state;         /* optimizer + master + grads (training only) */
    double train_act;           /* activations saved for backward (training only) */
    double lora_params;
    double total;               /* bytes needed */
    struct sd_mem_layer largest[6];
    int nlargest;
};
int sd_mem_compute(const struct sd_mem_opts *o, struct sd_mem_report *r, char *err, size_t errlen);

extern const int sd_mem_tiers_gb[];   /* 4, 6, 8, 10, 12, 16, 20, 24, 32, 48, 80 */
extern const int sd_mem_ntiers;
/* Does `bytes` fit a card of `gb` marketed GB (gb GiB)? */
bool sd_mem_fits(double bytes, double gb);
/* Largest resolution (multiple of 64, up to 4096) whose footprint fits `gb`; 0 if none. */
int sd_mem_max_res(const struct sd_mem_opts *base, double gb);

/* Per-layer figures the backends measure, for the memory check: bytes of one set of the row's
 * tensors (inputs + output) and, for unfused attention, the score matrix in `score_dtype_bytes`. */
double sd_mem_row_tensors(const struct sd_workload *wl);
double sd_mem_row_scores(const struct sd_workload *wl, size_t score_dtype_bytes);

/* The model-vs-measured memory check (src/memcheck.c): for every device, unfused attention rows
 * whose shape was also measured with a fused impl (flash) give measured score bytes =
 * peak(unfused) - peak(fused) (same inputs, rotation sets and output on both); hot-cache conv rows
 * give peak vs one set of tensors. Agreement = within 10 %. */
struct sd_mem_check {
    char device[200];
    char what[256];
    double model, measured;
    bool ok;
    char note[96];
};
/* Returns the number of checks written (up to max). */
size_t sd_mem_check_rows(const struct sd_rset *s, struct sd_mem_check *out, size_t max);

/* Memory-bound work outside the suite's big kernels, per UNet call, from the layer list:
 * group/layer norms, SiLU/GEGLU, residual adds, head reshapes, concat/upsample, time embedding. */
struct sd_traffic {
    double bytes;          /* DRAM traffic of the small kernels (compulsory reads + writes) */
    double n_small;        /* small (memory-bound) kernel launches per UNet call */
    double n_big;          /* big kernels (GEMM/conv/attention cores) per UNet call */
};
void sd_model_traffic(enum sd_model m, int res, int batch, size_t elem_bytes, enum sd_attn_mode attn,
                      struct sd_traffic *t);
/* Σ over the small kernels of max(bytes_i / bw, floor): their expected time per UNet call (ms). */
double sd_model_small_ms(enum sd_model m, int res, int batch, size_t elem_bytes, enum sd_attn_mode attn,
                         double bw_gbs, double floor_us);
/* Does the suite name a model we know? ("sd15" -> SD_MODEL_SD15). */
int sd_model_from_suite(const char *suite, enum sd_model *out);

/* ================================================================ estimate (src/estimate.c) */

enum { SD_EST_MAX_MISSING = 256 };

struct sd_est_opts {
    const char *impl;        /* NULL = fastest usable impl per workload */
    int dtype;               /* -1 = fp16 if the device has usable fp16 rows for the suite, else fp32 */
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
/* Print an estimate as text or JSON (cJSON). */
void sd_estimate_print_text(FILE *f, const struct sd_estimate *e);
char *sd_estimate_json(const struct sd_estimate *e); /* malloc'd */

/* ================================================================ compare (src/compare.c) */

enum sd_cmp_verdict { SD_CMP_FASTER, SD_CMP_SLOWER, SD_CMP_SAME };
const char *sd_cmp_verdict_name(enum sd_cmp_verdict v);
/* Verdict for B against A (times in ms, relative noises as stdev/mean, NaN = unknown):
 * same when |tB/tA - 1| <= threshold, threshold = max(2*sqrt(nA^2 + nB^2), 0.01), and 0.05
 * when either noise is unknown. Returns the threshold used via *thr if non-NULL. */
enum sd_cmp_verdict sd_cmp_verdict(double ta, double na, double tb, double nb, double *thr);
double sd_geomean(const double *x, size_t n);
/* Compare files[1..n-1] against files[0] (the baseline) and print the result: format "text",
 * "json" or "md". Returns 0, or -1 with a message naming the file. */
int sd_compare_files(FILE *out, const char *const *files, int n, const char *format, char *err, size_t errlen);

/* ================================================================ claims (src/claims.c) */

enum sd_verdict { SD_V_SUPPORTED, SD_V_REFUTED, SD_V_PARTLY, SD_V_NO_DATA };
const char *sd_verdict_name(enum sd_verdict v);

#define SD_NCLAIMS 9
struct sd_claim_result {
    char id[4];
    const char *claim;
    enum sd_verdict verdict;
    char *evidence;      /* owned, lines separated by '\n' */
    char *basis;         /* "measured on X; projected from spec for Y" */
};
/* Evaluate C1..C9 from a result set (may be empty), cards and suites found in bench dir. */
int sd_claims_eval(const struct sd_rset *s, const struct sd_cards *cards, struct sd_claim_result out[SD_NCLAIMS],
                   char *err, size_t errlen);
void sd_claims_free(struct sd_claim_result out[SD_NCLAIMS]);
/* Table + evidence (text) or a JSON list of {id, claim, verdict, evidence[], basis}. */
int sd_claims_print(FILE *f, const struct sd_claim_result *c, int json);

/* ================================================================ report (src/report.c) */

int sd_report_html(FILE *f, const struct sd_rset *s, const struct sd_cards *cards, char *err, size_t errlen);
int sd_report_md(FILE *f, const struct sd_rset *s, const struct sd_cards *cards, char *err, size_t errlen);

/* ================================================================ helpers (src/anautil.c) */

/* Load a suite by name or path (sd_suite_resolve + sd_suite_load). */
int sd_suite_open(const char *name, struct sd_suite *out, char *err, size_t errlen);
/* Growable string buffer. */
struct sd_buf {
    char *s;
    size_t len, cap;
};
void sd_buf_printf(struct sd_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sd_buf_free(struct sd_buf *b);
/* Human-readable bytes ("1.72 GB", decimal). */
void sd_fmt_bytes(double bytes, char *buf, size_t len);

#endif
