/* cuda_blas.c — the cuBLAS paths: gemm "cublas" and attention "unfused" / "sliced".
 *
 * Attention scores are fp32 unless the row accumulates in fp16 (sd_cuda_score_dtype): Q K^T is
 * written as fp32 (cuBLAS: 16-bit A/B, fp32 C, fp32 compute), the softmax reads fp32 and writes the
 * 16-bit P over the first half of each fp32 row, and P V reads P with row stride 2*seq_kv. The
 * score buffer is therefore 4 bytes per element, the figure the memory check expects for fp32
 * scores. The cuBLAS workspace is the plan's, tracked, and named in the row note so the memory
 * check can take it out of the unfused - flash difference. */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cuda_internal.h"

bool sd_cuda_uses_cublas(const struct sd_plan *p)
{
    return p->impl == IMPL_GEMM_CUBLAS || p->impl == IMPL_ATTN_UNFUSED || p->impl == IMPL_ATTN_SLICED;
}

static cudaDataType_t cuda_dtype(int t)
{
    switch (t) {
    case SD_FP16: return CUDA_R_16F;
    case SD_BF16: return CUDA_R_16BF;
    default: return CUDA_R_32F;
    }
}

static cublasComputeType_t cublas_compute(const struct sd_workload *wl)
{
    if (wl->dtype == SD_TF32)
        return CUBLAS_COMPUTE_32F_FAST_TF32;
    if (wl->dtype == SD_FP16 && wl->acc == SD_FP16)
        return CUBLAS_COMPUTE_16F;
    return CUBLAS_COMPUTE_32F;
}

/* One row-major product C[M,N] = alpha * A[M,K] * op(B), `batch` times with element strides.
 * A may have its own leading dimension (P over fp32 score rows); B and C are dense. */
struct rm_gemm {
    int64_t M, N, K;
    int b_trans;
    const void *A;
    int64_t lda, sA;
    int a_dtype;          /* enum sd_dtype of A and B */
    const void *B;
    int64_t sB;
    void *C;
    int64_t sC;
    int c_dtype;          /* enum sd_dtype of C */
    int64_t batch;
    float alpha;
};

static enum sd_status rowmajor_gemm(struct sd_plan *p, const struct rm_gemm *g, char *reason, size_t len)
{
    struct cuda_ctx *c = p->ctx;
    struct sd_cuda_colmajor cm;
    sd_cuda_gemm_colmajor_map(g->M, g->N, g->K, g->b_trans, &cm);
    /* alpha/beta have the compute type's scalar type: half for CUBLAS_COMPUTE_16F. */
    const cublasComputeType_t ct = cublas_compute(&p->wl);
    const float fa = g->alpha, fb = 0.f;
    const uint16_t ha = sd_float_to_half(g->alpha), hb = sd_float_to_half(0.f);
    const void *alpha = ct == CUBLAS_COMPUTE_16F ? (const void *)&ha : (const void *)&fa;
    const void *beta = ct == CUBLAS_COMPUTE_16F ? (const void *)&hb : (const void *)&fb;
    const cudaDataType_t at = cuda_dtype(g->a_dtype), ctp = cuda_dtype(g->c_dtype);
    const cublasOperation_t opf = cm.trans_first ? CUBLAS_OP_T : CUBLAS_OP_N;
    const int lda = (int)(g->lda ? g->lda : cm.ld_second);
    if (g->batch == 1)
        CUBLAS_TRY(c, cublasGemmEx(c->cublas, opf, CUBLAS_OP_N, (int)cm.m, (int)cm.n, (int)cm.k, alpha,
                                   g->B, at, (int)cm.ld_first, g->A, at, lda, beta, g->C, ctp, (int)cm.ldc,
                                   ct, CUBLAS_GEMM_DEFAULT));
    else
        CUBLAS_TRY(c, cublasGemmStridedBatchedEx(c->cublas, opf, CUBLAS_OP_N, (int)cm.m, (int)cm.n,
                                                 (int)cm.k, alpha, g->B, at, (int)cm.ld_first,
                                                 (long long)g->sB, g->A, at, lda, (long long)g->sA, beta,
                                                 g->C, ctp, (int)cm.ldc, (long long)g->sC, (int)g->batch,
                                                 ct, CUBLAS_GEMM_DEFAULT));
    return SD_OK;
}

/* cuBLAS default workspace sizes: 32 MiB on Hopper+, 4 MiB before. Tracked, per plan; attention
 * plans add their score buffer (all heads, or one head for "sliced"). */
enum sd_status sd_cuda_blas_setup(struct sd_plan *p, char *reason, size_t len)
{
    struct cuda_ctx *c = p->ctx;
    const struct sd_workload *wl = &p->wl;
    p->ws_bytes = c->cc_major >= 9 ? (32u << 20) : (4u << 20);
    enum sd_status st = sd_cuda_malloc(c, &p->ws, p->ws_bytes, "cublas workspace", reason, len);
    if (st != SD_OK)
        return st;
    CUBLAS_TRY(c, cublasSetWorkspace(c->cublas, p->ws, p->ws_bytes));
    if (p->impl == IMPL_GEMM_CUBLAS) {
        snprintf(p->note, sizeof(p->note), "cublas workspace=%zu", p->ws_bytes);
        return SD_OK;
    }
    p->score_dtype = sd_cuda_score_dtype(wl->dtype, wl->acc);
    const size_t per_head = (size_t)wl->seq_q * (size_t)wl->seq_kv * sd_dtype_size(p->score_dtype);
    const bool all = p->impl == IMPL_ATTN_UNFUSED;
    snprintf(p->note, sizeof(p->note), "scores %s%s; cublas workspace=%zu", sd_dtype_name(p->score_dtype),
             p->esz == 2 && p->score_dtype == SD_FP32 ? " (16-bit P written over them)" : "", p->ws_bytes);
    return sd_cuda_malloc(c, &p->scores, all ? per_head * (size_t)wl->batch_heads : per_head,
                          all ? "attention scores (all heads)" : "attention scores (one head)", reason, len);
}

enum sd_status sd_cuda_blas_gemm(struct sd_plan *p, void *const *in, char *reason, size_t len)
{
    const struct sd_workload *wl = &p->wl;
    const struct rm_gemm g = {
        .M = wl->m, .N = wl->n, .K = wl->k, .b_trans = 0,
        .A = in[0], .sA = wl->m * wl->k, .a_dtype = wl->dtype,
        .B = in[1], .sB = wl->k * wl->n,
        .C = p->out, .sC = wl->m * wl->n, .c_dtype = wl->dtype,
        .batch = wl->batch, .alpha = 1.0f,
    };
    return rowmajor_gemm(p, &g, reason, len);
}

/* S = scale * Q K^T, softmax, O = P V for heads [h0, h0 + nh). */
static enum sd_status attention_heads(struct sd_plan *p, void *const *in, int64_t h0, int64_t nh,
                                      char *reason, size_t len)
{
    struct cuda_ctx *c = p->ctx;
    const struct sd_workload *wl = &p->wl;
    const int64_t sq = wl->seq_q, skv = wl->seq_kv, d = wl->head_dim;
    const bool narrow = p->esz == 2 && p->score_dtype == SD_FP32; /* 16-bit P over fp32 rows */
    const struct rm_gemm qk = {
        .M = sq, .N = skv, .K = d, .b_trans = 1,
        .A = (const char *)in[0] + (size_t)(h0 * sq * d) * p->esz, .sA = sq * d, .a_dtype = wl->dtype,
        .B = (const char *)in[1] + (size_t)(h0 * skv * d) * p->esz, .sB = skv * d,
        .C = p->scores, .sC = sq * skv, .c_dtype = p->score_dtype,
        .batch = nh, .alpha = (float)(1.0 / sqrt((double)d)),
    };
    enum sd_status st = rowmajor_gemm(p, &qk, reason, len);
    if (st != SD_OK)
        return st;
    if (narrow)
        CUDA_TRY(c, sd_cuda_softmax_narrow_launch(p->scores, nh * sq, skv, wl->dtype, c->stream));
    else
        CUDA_TRY(c, sd_cuda_softmax_launch(p->scores, nh * sq, skv, wl->dtype, c->stream));
    const struct rm_gemm pv = {
        .M = sq, .N = d, .K = skv, .b_trans = 0,
        .A = p->scores, .lda = narrow ? 2 * skv : skv, .sA = narrow ? 2 * sq * skv : sq * skv,
        .a_dtype = wl->dtype,
        .B = (const char *)in[2] + (size_t)(h0 * skv * d) * p->esz, .sB = skv * d,
        .C = (char *)p->out + (size_t)(h0 * sq * d) * p->esz, .sC = sq * d, .c_dtype = wl->dtype,
        .batch = nh, .alpha = 1.0f,
    };
    return rowmajor_gemm(p, &pv, reason, len);
}

enum sd_status sd_cuda_blas_attention(struct sd_plan *p, void *const *in, char *reason, size_t len)
{
    const int64_t bh = p->wl.batch_heads;
    const int64_t per_call = p->impl == IMPL_ATTN_UNFUSED ? bh : 1;
    for (int64_t h0 = 0; h0 < bh; h0 += per_call) {
        enum sd_status st = attention_heads(p, in, h0, per_call, reason, len);
        if (st != SD_OK)
            return st;
    }
    return SD_OK;
}
