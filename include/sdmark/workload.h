/* workload.h — one benchmark workload: (op, shape, dtype) plus its suite context.
 *
 * Pure data, no backend knowledge. Shapes follow docs/sd-shapes.md (suite keys: docs/suites.md):
 *   gemm       C[m,n] = A[m,k] * B[k,n], row-major, `batch` independent products
 *   conv2d     NCHW: X[batch,c_in,h*stride,w*stride] (*) W[c_out,c_in,r,s] -> Y[batch,c_out,h,w]
 *              (h, w are the OUTPUT spatial size, as in sd-shapes.md)
 *   attention  Q[bh,seq_q,d], K[bh,seq_kv,d], V[bh,seq_kv,d] -> O[bh,seq_q,d],
 *              O = softmax(Q K^T / sqrt(d)) V
 */
#ifndef SDMARK_WORKLOAD_H
#define SDMARK_WORKLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum sd_op { SD_OP_GEMM, SD_OP_CONV2D, SD_OP_ATTENTION, SD_OP_COUNT };

/* Storage / compute types. TF32 is fp32 storage computed on tensor cores. */
enum sd_dtype { SD_FP32, SD_TF32, SD_FP16, SD_BF16, SD_DTYPE_COUNT };

#define SD_NAME_LEN 64

struct sd_workload {
    char suite[SD_NAME_LEN];   /* suite name ("sd15", "quick", ...) */
    char label[SD_NAME_LEN];   /* row label from the suite file */
    enum sd_op op;
    double count;              /* count_per_step: occurrences per UNet call */
    enum sd_dtype dtype;       /* storage type of inputs/outputs */
    enum sd_dtype acc;         /* accumulate type (SD_FP32 unless acc=fp16) */
    char layout[8];            /* "row" (gemm), "NCHW" (conv2d), "BSD" (attention) */
    int64_t batch, m, n, k;
    int64_t c_in, c_out, h, w, r, s, stride, pad;
    int64_t batch_heads, seq_q, seq_kv, head_dim;
    const char *file;          /* suite file it came from (static lifetime), may be NULL */
    int line;                  /* line in that file, 0 if synthetic */
};

/* Element counts of the inputs and the output. */
struct sd_tensors {
    int n_in;          /* 2 (gemm, conv2d) or 3 (attention) */
    size_t in[3];      /* elements of each input */
    size_t out;        /* elements of the output */
};

const char *sd_op_name(enum sd_op op);
int sd_op_parse(const char *s, enum sd_op *out);          /* 0 on success */
const char *sd_dtype_name(enum sd_dtype t);
int sd_dtype_parse(const char *s, enum sd_dtype *out);    /* 0 on success */
/* Whether an --impl filter (comma list; NULL or "" = all) selects impl: a word matches an impl
 * name exactly or as its library prefix before '_' ("onednn" selects onednn_unfused too). Shared
 * by `sdmark run` and `sdmark estimate`. */
int sd_impl_selected(const char *filter, const char *impl);
size_t sd_dtype_size(enum sd_dtype t);                    /* bytes per element in storage */

/* Fill defaults (batch=1, stride=1, acc=fp32, layout by op). */
void sd_workload_init(struct sd_workload *wl, enum sd_op op);

/* Check the shape is possible (all dims > 0, no byte count overflows 64 bits, conv output
 * formula consistent). Returns 0, or -1 with a one-line message in err. */
int sd_workload_validate(const struct sd_workload *wl, char *err, size_t errlen);

void sd_workload_tensors(const struct sd_workload *wl, struct sd_tensors *t);
double sd_workload_flops(const struct sd_workload *wl);     /* useful FLOPs of one run */
double sd_workload_bytes_min(const struct sd_workload *wl); /* compulsory traffic of one run */
int64_t sd_conv_in_h(const struct sd_workload *wl);         /* input spatial size */
int64_t sd_conv_in_w(const struct sd_workload *wl);

/* A short human-readable shape string, e.g. "m=8192 n=320 k=320". */
void sd_workload_shape_str(const struct sd_workload *wl, char *buf, size_t len);

/* Round host fp32 data to what the dtype can hold (so the CPU reference sees the same inputs
 * the device gets). fp32/tf32: unchanged (tf32 rounding is the device's business). */
void sd_round_to_dtype(float *x, size_t n, enum sd_dtype t);

/* fp16 / bf16 conversion helpers shared by backends. */
uint16_t sd_float_to_half(float f);
float sd_half_to_float(uint16_t h);
uint16_t sd_float_to_bf16(float f);
float sd_bf16_to_float(uint16_t h);

#endif
