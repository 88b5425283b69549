/* memory_model.h — the UNet/VAE memory and traffic model: weights, activations, attention scores, training state,
 * memory tiers, and the memory-bound small kernels per UNet call.
 * Implementation: src/analysis/memory_model.c. Reads result files and suites only, never a backend. */
#ifndef SDMARK_MEMORY_MODEL_H
#define SDMARK_MEMORY_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include "sdmark/workload.h"

enum sd_model { SD_MODEL_SD15, SD_MODEL_SD21, SD_MODEL_SDXL, SD_MODEL_COUNT };
enum sd_attn_mode { SD_ATTN_UNFUSED, SD_ATTN_FLASH };
enum sd_train_mode { SD_TRAIN_NONE, SD_TRAIN_LORA, SD_TRAIN_FULL };

const char *sd_model_name(enum sd_model m);         /* "sd15" */
const char *sd_model_title(enum sd_model m);        /* "SD 1.5" */
int sd_model_parse(const char *s, enum sd_model *out);
int sd_model_default_res(enum sd_model m);           /* 512, 768, 1024 */

/* Published parameter counts (docs/sd-shapes.md "Memory facts"). */
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
    bool vae_slicing;       /* decode one image at a time (diffusers enable_vae_slicing); default: the
                               whole batch at once, as diffusers does unless slicing is on */
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

#endif
