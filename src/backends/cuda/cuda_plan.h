/* cuda_plan.h — pure C pieces of the cuda backend, shared by the host code (C), the kernels (.cu)
 * and the host tests (no CUDA header needed, no GPU needed):
 *   - the row-major -> column-major operand mapping for cuBLAS,
 *   - kernel argument structs and launch configurations (shape -> grid/block/shared memory).
 * The tracked-allocation bookkeeping is the core's (sdmark/memtrack.h).
 */
#ifndef SDMARK_CUDA_PLAN_H
#define SDMARK_CUDA_PLAN_H

#include <stddef.h>
#include <stdint.h>

struct sd_workload;

#ifdef __cplusplus
extern "C" {
#endif

/* ---- cuBLAS mapping -------------------------------------------------------------------------
 * Row-major C[M,N] = A[M,K] * op(B), where B is stored row-major as [K,N] (b_trans = 0, ld N) or
 * as [N,K] (b_trans = 1, ld K; i.e. C = A * B^T, as in Q K^T). cuBLAS is column-major: a
 * row-major X[r,c] is the column-major X^T[c,r] with the same leading dimension, so we compute
 * C^T = op(B)^T * A^T: the FIRST cuBLAS operand is the row-major B, the SECOND is A, m <-> n. */
struct sd_cuda_colmajor {
    int trans_first;   /* 1 = CUBLAS_OP_T for the first operand (row-major B), 0 = CUBLAS_OP_N */
    int trans_second;  /* always 0: A^T in column-major is A row-major, no transpose needed */
    int64_t m, n, k;   /* column-major m = N, n = M, k = K */
    int64_t ld_first;  /* leading dimension of the first operand (row-major B) */
    int64_t ld_second; /* leading dimension of the second operand (row-major A) = K */
    int64_t ldc;       /* = N */
};
void sd_cuda_gemm_colmajor_map(int64_t M, int64_t N, int64_t K, int b_trans,
                               struct sd_cuda_colmajor *out);

/* ---- launch configurations ----------------------------------------------------------------- */
struct sd_cuda_launch {
    uint32_t grid[3];
    uint32_t block[3];
    uint32_t smem;     /* dynamic shared memory bytes */
    int variant;       /* kernel variant (see each config function) */
};

/* Implicit-GEMM tensor-core kernel (gemm.cu / conv2d.cu), fp16/bf16 in, fp32 accumulate.
 * Per batch index z: C[z][m,n] = A[z][m,k] * B[z][k,n]; row-major with leading dimensions.
 * conv = SD_IGEMM_CONV_NCHW: B is not stored; it is the im2col view of an NCHW image:
 *   B[kk, p] = X[z, ci, oh*stride - pad + ri, ow*stride - pad + si]  (0 outside the image)
 *   with kk = (ci*r + ri)*s + si, p = oh*out_w + ow; the weights W[c_out, c_in*r*s] are A and
 *   Y[z, c_out, h*w] is C: NCHW in, NCHW out, no layout conversion.
 * conv = SD_IGEMM_CONV_NHWC (conv v4): one GEMM over all images (batch = 1), A is not stored:
 *   A[pm, kk] = X[z, oh*stride - pad + ri, ow*stride - pad + si, ci]  (NHWC, 0 outside)
 *   with pm = z*hw + oh*out_w + ow, kk = (ri*s + si)*c_in + ci; B = the filter in KRSC as
 *   [c_out][r*s*c_in] (ldb = k, read K-major); C = Y in NHWC [batch*hw][c_out]. */
#define SD_IGEMM_CONV_NCHW 1
#define SD_IGEMM_CONV_NHWC 2
#define SD_IGEMM_BM 128
#define SD_IGEMM_BN 128
#define SD_IGEMM_BK 32
#define SD_IGEMM_THREADS 256
enum sd_igemm_variant {
    SD_IGEMM_SCALAR = 0,        /* element loads with bounds checks (any shape/alignment) */
    SD_IGEMM_VEC = 1,           /* 16-byte (cp.async on sm_80+) loads of A and B */
    SD_IGEMM_CONV = 2,          /* scalar A, im2col gather of B */
    SD_IGEMM_CONV_VECA = 3,     /* 16-byte A, im2col gather of B */
    SD_IGEMM_CONV_NHWC_VEC = 4, /* NHWC: 16-byte gathers of A, 16-byte K-major B (conv v4) */
};
struct sd_cuda_igemm_args {
    const void *a, *b;
    void *c;
    int dtype;                  /* enum sd_dtype: SD_FP16 or SD_BF16 */
    int64_t m, n, k;
    int64_t lda, ldb, ldc;
    int64_t sa, sb, sc;         /* batch strides in elements (sa may be 0: shared weights) */
    int64_t batch;
    int conv;                   /* 0, SD_IGEMM_CONV_NCHW or SD_IGEMM_CONV_NHWC */
    int64_t in_h, in_w, out_w, r, s, stride, pad;
    int64_t c_in, hw;           /* NHWC: input channels, output pixels per image */
    /* v3/v4 kernel plan (sd_cuda_igemm_plan): split >= 1 = planned: tile index (igemm_layout.h)
     * and k-split; split > 1 needs ws (sd_ig_splitk_ws_bytes, counters zeroed once). split 0 =
     * not planned: the launcher chooses the tile, no split. */
    int tile, split;
    void *ws;
};
/* Own conv2d as an implicit GEMM: fills *a (pointers excluded) for the workload (op conv2d) and
 * conv kernel version (SDMARK_CUDA_CONV_KERNEL: 4 = NHWC where it applies, else NCHW). 1x1
 * stride-1 unpadded convs are a plain batched GEMM (conv = 0, NCHW). NHWC (conv v4) needs
 * c_in % 8 == 0 and an image, filter and output of fewer than 2^31 - 2^24 elements each.
 * Returns a->conv. */
int sd_cuda_conv_igemm_args(const struct sd_workload *wl, int version, struct sd_cuda_igemm_args *a);
/* SDMARK_CUDA_*_KERNEL value s as a version in lo..hi; NULL or anything else: dflt */
int sd_cuda_parse_version(const char *s, int dflt, int lo, int hi);
/* The v3/v4 plan of *a for a device with `sms` multiprocessors: a->tile and a->split (k-split up
 * to max_split; 1 = none) from sd_ig_choose (kernels/cuda/igemm_layout.h). Returns the split-K
 * workspace bytes the caller must allocate into a->ws and zero (0: none). */
size_t sd_cuda_igemm_plan(struct sd_cuda_igemm_args *a, int max_split, int sms);
/* Returns 0 and fills l, or -1 with a reason (grid too large, bad args). */
int sd_cuda_igemm_config(const struct sd_cuda_igemm_args *a, struct sd_cuda_launch *l,
                         char *why, size_t len);

/* Attention kernels (attention.cu). Q[bh,sq,d], K/V[bh,skv,d], O[bh,sq,d], row-major. */
#define SD_FLASH_MAX_HEAD_DIM 160
struct sd_cuda_attn_args {
    const void *q, *k, *v;
    void *o;
    int dtype;                  /* SD_FP32 (CUDA-core kernel), SD_FP16, SD_BF16 (tensor cores) */
    int64_t bh, sq, skv, d;
    float scale;                /* 1/sqrt(d) */
};
/* Flash: variant = padded head dim DP of the tensor-core kernel (32, 48, 64, 80, 128 or 160), 512
 * for the wide-head kernel (fp16/bf16, head_dim 161..512, d % 8 == 0), or 0 for the fp32 CUDA-core
 * kernel (head_dim <= 160). */
int sd_cuda_flash_config(const struct sd_cuda_attn_args *a, struct sd_cuda_launch *l,
                         char *why, size_t len);
/* Padded head dim the tensor-core flash kernel uses for d (0 if d is not supported). */
int sd_cuda_flash_padded_dim(int64_t d);

/* Row softmax over a [rows, cols] matrix, one warp per row. */
int sd_cuda_softmax_config(int64_t rows, int64_t cols, struct sd_cuda_launch *l, char *why,
                           size_t len);

/* ---- layouts (cuDNN NHWC plans) ------------------------------------------------------------
 * The harness's host tensors are NCHW (filters KCRS). A plan that runs NHWC (filters KRSC, the
 * same permutation with n = c_out) converts on upload and converts the output back on download. */
void sd_cuda_nchw_to_nhwc(const float *src, float *dst, int64_t n, int64_t c, int64_t h, int64_t w);
void sd_cuda_nhwc_to_nchw(const float *src, float *dst, int64_t n, int64_t c, int64_t h, int64_t w);

/* ---- cuDNN 9 status -> row status ----------------------------------------------------------
 * cuDNN 9 codes are category*1000 + sub-code (CUDNN_STATUS_CATEGORY). NOT_SUPPORTED and every
 * NOT_SUPPORTED_* sub-code -> SD_UNSUPPORTED; INTERNAL_ERROR_DEVICE_ALLOCATION_FAILED and
 * INTERNAL_ERROR_HOST_ALLOCATION_FAILED (= the deprecated ALLOC_FAILED) -> SD_OOM; SUCCESS ->
 * SD_OK; anything else -> SD_ERROR. Takes the int value so the host tests need no cuDNN. */
int sd_cuda_cudnn_status_class(int cudnn_status);

/* ---- unfused attention scores --------------------------------------------------------------
 * dtype of the score matrix: fp32 unless the row accumulates in fp16 (fp16 scores overflow with
 * real activations: the SD 2.x upcast problem); fp16/bf16 rows write 16-bit P over the fp32 rows. */
int sd_cuda_score_dtype(int dtype, int acc);

/* ---- timed samples -------------------------------------------------------------------------
 * After a timed sample: keep it, or take it again because the stream hold timed out (the host's
 * enqueue time is in it) or the GPU reported a throttle reason (1 = throttled, 0 no, -1 n/a).
 * After max_retakes attempts the sample is kept and flagged. */
enum sd_cuda_verdict { SD_SAMPLE_KEEP = 0, SD_SAMPLE_RETAKE, SD_SAMPLE_KEEP_FLAGGED };
enum sd_cuda_verdict sd_cuda_sample_verdict(int hold_timed_out, int throttled, int attempt,
                                            int max_retakes);

#ifdef __cplusplus
}
#endif
#endif
