/* cuda_plan.c — pure C helpers of the cuda backend (see cuda_plan.h); unit-tested on the host. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda_plan.h"
#include "flash_layout.h" /* kernels/cuda: the wide-head flash kernel's block and shared memory */
#include "igemm_layout.h" /* kernels/cuda: the tile and split-K choice */
#include "sdmark/status.h"
#include "sdmark/workload.h"

void sd_cuda_gemm_colmajor_map(int64_t M, int64_t N, int64_t K, int b_trans,
                               struct sd_cuda_colmajor *out)
{
    out->m = N;
    out->n = M;
    out->k = K;
    out->trans_first = b_trans ? 1 : 0;
    out->ld_first = b_trans ? K : N;
    out->trans_second = 0;
    out->ld_second = K;
    out->ldc = N;
}

#define GRID_X_MAX 2147483647LL
#define GRID_YZ_MAX 65535LL

static int64_t cdiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

int sd_cuda_parse_version(const char *s, int dflt, int lo, int hi)
{
    const int v = s ? atoi(s) : dflt;
    return v >= lo && v <= hi ? v : dflt;
}

/* the NHWC kernel's 32-bit offsets (image, filter; the output too, conservatively): elements plus
 * headroom for the largest negative base (padding) */
#define NHWC_MAX_ELEMS (2147483647LL - (1LL << 24))

int sd_cuda_conv_igemm_args(const struct sd_workload *wl, int version, struct sd_cuda_igemm_args *a)
{
    const int64_t P = wl->h * wl->w, K = wl->c_in * wl->r * wl->s;
    const int64_t in_h = sd_conv_in_h(wl), in_w = sd_conv_in_w(wl);
    memset(a, 0, sizeof(*a));
    a->dtype = wl->dtype;
    a->r = wl->r; a->s = wl->s; a->stride = wl->stride; a->pad = wl->pad;
    a->in_h = in_h; a->in_w = in_w; a->out_w = wl->w; a->c_in = wl->c_in; a->hw = P;
    if (wl->r == 1 && wl->s == 1 && wl->stride == 1 && wl->pad == 0) {
        a->conv = 0;              /* 1x1: X[z] is already the [c_in, h*w] B matrix (NCHW) */
    } else if (version >= 4 && wl->c_in % 8 == 0 && wl->batch * wl->c_in * in_h * in_w < NHWC_MAX_ELEMS &&
               wl->batch * P * wl->c_out < NHWC_MAX_ELEMS && wl->c_out * K < NHWC_MAX_ELEMS) {
        a->conv = SD_IGEMM_CONV_NHWC;
        a->m = wl->batch * P; a->n = wl->c_out; a->k = K; a->batch = 1;
        a->lda = K; a->ldb = K; a->ldc = wl->c_out;
        return a->conv;
    } else {
        a->conv = SD_IGEMM_CONV_NCHW;
    }
    a->m = wl->c_out; a->n = P; a->k = K; a->batch = wl->batch;
    a->lda = K; a->ldb = P; a->ldc = P;
    a->sa = 0;                    /* the weights are shared by every image */
    a->sb = wl->c_in * in_h * in_w;
    a->sc = wl->c_out * P;
    return a->conv;
}

size_t sd_cuda_igemm_plan(struct sd_cuda_igemm_args *a, int max_split, int sms)
{
    int split = 1;
    const int tile = sd_ig_choose(a->m, a->n, a->k, a->batch, sms, max_split, &split);
    a->ws = NULL;
    if (tile < 0) { /* no grid fits: the launcher decides (and refuses) */
        a->tile = -1;
        a->split = 0;
        return 0;
    }
    a->tile = tile;
    a->split = split;
    return (size_t)sd_ig_splitk_ws_bytes(tile, a->m, a->n, a->batch, split);
}

int sd_cuda_igemm_config(const struct sd_cuda_igemm_args *a, struct sd_cuda_launch *l,
                         char *why, size_t len)
{
    memset(l, 0, sizeof(*l));
    if (a->dtype != SD_FP16 && a->dtype != SD_BF16) {
        snprintf(why, len, "own tensor-core gemm needs fp16 or bf16 storage");
        return -1;
    }
    if (a->m <= 0 || a->n <= 0 || a->k <= 0 || a->batch <= 0) {
        snprintf(why, len, "own gemm: empty shape");
        return -1;
    }
    int64_t gx = cdiv(a->n, SD_IGEMM_BN), gy = cdiv(a->m, SD_IGEMM_BM), gz = a->batch;
    if (gx > GRID_X_MAX || gy > GRID_YZ_MAX || gz > GRID_YZ_MAX) {
        snprintf(why, len, "own gemm: grid %lldx%lldx%lld exceeds CUDA limits", (long long)gx,
                 (long long)gy, (long long)gz);
        return -1;
    }
    /* 16-byte chunks of 8 elements must be entirely inside or outside the matrix and aligned:
     * the row length and leading dimension must be multiples of 8 (and the batch stride). */
    int veca = a->k % 8 == 0 && a->lda % 8 == 0 && a->sa % 8 == 0;
    int vecb = a->n % 8 == 0 && a->ldb % 8 == 0 && a->sb % 8 == 0;
    if (a->conv == SD_IGEMM_CONV_NHWC) {
        if (a->c_in % 8 != 0 || a->k != a->c_in * a->r * a->s || a->batch != 1 || a->ldb % 8 != 0) {
            snprintf(why, len, "own conv NHWC: needs c_in %% 8 == 0 and one GEMM over all images");
            return -1;
        }
        l->variant = SD_IGEMM_CONV_NHWC_VEC;
    } else if (a->conv)
        l->variant = veca ? SD_IGEMM_CONV_VECA : SD_IGEMM_CONV;
    else
        l->variant = (veca && vecb) ? SD_IGEMM_VEC : SD_IGEMM_SCALAR;
    l->grid[0] = (uint32_t)gx;
    l->grid[1] = (uint32_t)gy;
    l->grid[2] = (uint32_t)gz;
    l->block[0] = SD_IGEMM_THREADS;
    l->block[1] = l->block[2] = 1;
    l->smem = 0; /* static shared memory: 2 stages x (128x40 + 32x136) x 2 bytes = 37888 */
    return 0;
}

int sd_cuda_flash_padded_dim(int64_t d)
{
    static const int dps[] = {32, 48, 64, 80, 128, 160};
    for (size_t i = 0; i < sizeof(dps) / sizeof(dps[0]); i++)
        if (d <= dps[i])
            return d > 0 ? dps[i] : 0;
    return 0;
}

int sd_cuda_flash_config(const struct sd_cuda_attn_args *a, struct sd_cuda_launch *l, char *why,
                         size_t len)
{
    memset(l, 0, sizeof(*l));
    const int wide = a->d > SD_FLASH_MAX_HEAD_DIM && a->d <= SD_FW_DP && a->d % 8 == 0 &&
                     (a->dtype == SD_FP16 || a->dtype == SD_BF16);
    if (a->d <= 0 || (a->d > SD_FLASH_MAX_HEAD_DIM && !wide)) {
        snprintf(why, len, "flash supports head_dim 1..%d (fp16/bf16 also %d..%d with head_dim %% 8 == 0), "
                 "not %lld", SD_FLASH_MAX_HEAD_DIM, SD_FLASH_MAX_HEAD_DIM + 8, SD_FW_DP, (long long)a->d);
        return -1;
    }
    if (a->bh <= 0 || a->sq <= 0 || a->skv <= 0) {
        snprintf(why, len, "flash: empty shape");
        return -1;
    }
    int64_t gx, gy = a->bh;
    if (wide) { /* flashw_kernel: 32 query rows per block, head dim split over 8 warps */
        l->variant = SD_FW_DP;
        gx = cdiv(a->sq, SD_FW_BR);
        l->block[0] = 32 * SD_FW_WARPS;
        l->smem = (uint32_t)sd_fw_smem_bytes();
    } else if (a->dtype == SD_FP16 || a->dtype == SD_BF16) {
        int dp = sd_cuda_flash_padded_dim(a->d);
        l->variant = dp;
        gx = cdiv(a->sq, 64);       /* 64 query rows per block, 16 per warp */
        l->block[0] = 128;
        l->smem = (uint32_t)(3 * 64 * (dp + 8) * 2); /* Q, K, V tiles (+8 halves of padding) */
    } else if (a->dtype == SD_FP32) {
        l->variant = 0;
        gx = cdiv(a->sq, 8);        /* one warp per query row, 8 warps */
        l->block[0] = 256;
        l->smem = (uint32_t)((32 * (a->d + 1) + 32 * a->d + 8 * a->d) * 4);
    } else {
        snprintf(why, len, "flash: no kernel for dtype %s", sd_dtype_name((enum sd_dtype)a->dtype));
        return -1;
    }
    if (gx > GRID_X_MAX || gy > GRID_YZ_MAX) {
        snprintf(why, len, "flash: grid %lldx%lld exceeds CUDA limits (batch_heads <= 65535)",
                 (long long)gx, (long long)gy);
        return -1;
    }
    l->grid[0] = (uint32_t)gx;
    l->grid[1] = (uint32_t)gy;
    l->grid[2] = 1;
    l->block[1] = l->block[2] = 1;
    return 0;
}

int sd_cuda_softmax_config(int64_t rows, int64_t cols, struct sd_cuda_launch *l, char *why,
                           size_t len)
{
    memset(l, 0, sizeof(*l));
    if (rows <= 0 || cols <= 0) {
        snprintf(why, len, "softmax: empty shape");
        return -1;
    }
    int64_t gx = cdiv(rows, 8);
    if (gx > GRID_X_MAX) {
        snprintf(why, len, "softmax: %lld rows exceed the grid limit", (long long)rows);
        return -1;
    }
    l->grid[0] = (uint32_t)gx;
    l->grid[1] = l->grid[2] = 1;
    l->block[0] = 256;
    l->block[1] = l->block[2] = 1;
    return 0;
}

/* ---- layouts ---- */
/* One permutation, both directions: element (b, ch, i) sits at (b*c + ch)*hw + i in NCHW and at
 * (b*hw + i)*c + ch in NHWC. */
static void permute_nchw_nhwc(const float *src, float *dst, int64_t n, int64_t c, int64_t h, int64_t w,
                              int to_nhwc)
{
    const int64_t hw = h * w;
    for (int64_t b = 0; b < n; b++)
        for (int64_t ch = 0; ch < c; ch++)
            for (int64_t i = 0; i < hw; i++) {
                const int64_t nchw = (b * c + ch) * hw + i, nhwc = (b * hw + i) * c + ch;
                if (to_nhwc)
                    dst[nhwc] = src[nchw];
                else
                    dst[nchw] = src[nhwc];
            }
}

void sd_cuda_nchw_to_nhwc(const float *src, float *dst, int64_t n, int64_t c, int64_t h, int64_t w)
{
    permute_nchw_nhwc(src, dst, n, c, h, w, 1);
}

void sd_cuda_nhwc_to_nchw(const float *src, float *dst, int64_t n, int64_t c, int64_t h, int64_t w)
{
    permute_nchw_nhwc(src, dst, n, c, h, w, 0);
}

/* ---- cuDNN 9 status ---- */
int sd_cuda_cudnn_status_class(int s)
{
    enum { NOT_SUPPORTED = 3000, HOST_ALLOC = 4003, DEVICE_ALLOC = 4004 }; /* cudnn_graph.h, v9 */
    if (s == 0)
        return SD_OK;
    if (s / 1000 * 1000 == NOT_SUPPORTED)
        return SD_UNSUPPORTED;
    if (s == HOST_ALLOC || s == DEVICE_ALLOC)
        return SD_OOM;
    return SD_ERROR;
}

/* ---- attention scores ---- */
int sd_cuda_score_dtype(int dtype, int acc)
{
    if (dtype == SD_FP16 && acc == SD_FP16)
        return SD_FP16;
    return SD_FP32;
}

/* ---- timed samples ---- */
enum sd_cuda_verdict sd_cuda_sample_verdict(int hold_timed_out, int throttled, int attempt,
                                            int max_retakes)
{
    if (!hold_timed_out && throttled != 1)
        return SD_SAMPLE_KEEP;
    return attempt < max_retakes ? SD_SAMPLE_RETAKE : SD_SAMPLE_KEEP_FLAGGED;
}
