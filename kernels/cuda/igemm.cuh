// igemm.cuh — the tensor-core (implicit) GEMM kernel templates used by gemm.cu and conv2d.cu.
//
// Two kernels (versions are listed in gemm.cu; the switch is SDMARK_CUDA_GEMM_KERNEL):
//   igemm_kernel  (v1/v2 and the conv variants): described right below.
//   igemm3_kernel (v3, dense GEMM with 16-byte aligned rows; conv v3 NCHW and v4 NHWC by MODE):
//                 ldmatrix fragments, XOR-swizzled shared memory, a 3-4 stage cp.async pipeline
//                 with one barrier per k-tile, 64x64 / 32x64 / 32x32 warp tiles, a block tile and
//                 k-split (SPLITK instantiation) planned per shape. Described at its definition at
//                 the end of this file; index arithmetic in igemm_layout.h.
//
// igemm_kernel: block tile 128x128x32, 256 threads = 8 warps as 2 (m) x 4 (n), warp tile 64x32 =
// 4 x 4 mma.sync m16n8k16 tiles (fp32 accumulators in registers: 64 per thread).
// Shared memory: 2 stages x (A 128x32 + B 32x128) fp16/bf16, rows padded by 8 elements
// (A stride 40, B stride 136) so the fragment loads below are bank-conflict free; 37888 bytes,
// static. Pipeline: tile kt+1 is loaded (cp.async on sm_80+, plain loads on sm_75) while tile kt
// is multiplied; cp.async.wait_group 1 + __syncthreads separates the stages.
// Edges: every load is predicated (zero fill outside the matrix / image), every store is bounds
// checked, so any m, n, k >= 1 is correct.
// Loader variants (template AVEC, BMODE):
//   AVEC  0: element loads of A with bounds checks        1: 16-byte chunks (k % 8 == 0, aligned)
//   BMODE 0: element loads of B                           1: 16-byte chunks (n % 8 == 0, aligned)
//         2: im2col gather from an NCHW image (conv2d): each thread owns one output pixel column
#pragma once
#include "common.cuh"
#include "cuda_plan.h"
#include "igemm_layout.h"
#include <type_traits>

namespace sdk {

constexpr int IG_BM = SD_IGEMM_BM, IG_BN = SD_IGEMM_BN, IG_BK = SD_IGEMM_BK;
constexpr int IG_LDA = IG_BK + 8;  // 40
constexpr int IG_LDB = IG_BN + 8;  // 136
constexpr int IG_ASTAGE = IG_BM * IG_LDA;
constexpr int IG_BSTAGE = IG_BK * IG_LDB;
static_assert(SD_IGEMM_THREADS == 256, "loaders assume 256 threads");

template <typename T, bool AVEC, int BMODE>
__global__ void __launch_bounds__(256) igemm_kernel(const sd_cuda_igemm_args p)
{
    __shared__ __align__(128) uint16_t As[2][IG_ASTAGE];
    __shared__ __align__(128) uint16_t Bs[2][IG_BSTAGE];

    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    const int wm = warp >> 2, wn = warp & 3;
    const int g = lane >> 2, t = lane & 3;
    const int64_t bm = (int64_t)blockIdx.y * IG_BM, bn = (int64_t)blockIdx.x * IG_BN;
    const int64_t z = blockIdx.z;
    const int64_t M = p.m, N = p.n, K = p.k;
    const uint16_t *A = static_cast<const uint16_t *>(p.a) + z * p.sa;
    const uint16_t *B = static_cast<const uint16_t *>(p.b) + z * p.sb;
    T *C = static_cast<T *>(p.c) + z * p.sc;

    // im2col: this thread always loads column (tid & 127) of the B tile = output pixel pcol.
    int64_t ih0 = 0, iw0 = 0;
    bool pvalid = false;
    int rs = 1;
    if (BMODE == 2) {
        const int64_t pcol = bn + (tid & 127);
        pvalid = pcol < N;
        const int64_t oh = pvalid ? pcol / p.out_w : 0, ow = pvalid ? pcol - oh * p.out_w : 0;
        ih0 = oh * p.stride - p.pad;
        iw0 = ow * p.stride - p.pad;
        rs = (int)(p.r * p.s);
    }

    auto load_tile = [&](int st, int64_t k0) {
        uint16_t *as = As[st];
        uint16_t *bs = Bs[st];
        if (AVEC) {
#pragma unroll
            for (int i = 0; i < 2; i++) {
                const int c = tid + i * 256, row = c >> 2, kc = (c & 3) * 8;
                const int64_t gr = bm + row, gk = k0 + kc;
                const bool ok = gr < M && gk < K;
                cp_async16(as + row * IG_LDA + kc, ok ? A + gr * p.lda + gk : A, ok);
            }
        } else {
#pragma unroll 4
            for (int i = 0; i < 16; i++) {
                const int idx = tid + i * 256, row = idx >> 5, col = idx & 31;
                const int64_t gr = bm + row, gk = k0 + col;
                as[row * IG_LDA + col] = (gr < M && gk < K) ? A[gr * p.lda + gk] : (uint16_t)0;
            }
        }
        if (BMODE == 1) {
#pragma unroll
            for (int i = 0; i < 2; i++) {
                const int c = tid + i * 256, row = c >> 4, nc = (c & 15) * 8;
                const int64_t gk = k0 + row, gn = bn + nc;
                const bool ok = gk < K && gn < N;
                cp_async16(bs + row * IG_LDB + nc, ok ? B + gk * p.ldb + gn : B, ok);
            }
        } else if (BMODE == 0) {
#pragma unroll 4
            for (int i = 0; i < 16; i++) {
                const int idx = tid + i * 256, row = idx >> 7, col = idx & 127;
                const int64_t gk = k0 + row, gn = bn + col;
                bs[row * IG_LDB + col] = (gk < K && gn < N) ? B[gk * p.ldb + gn] : (uint16_t)0;
            }
        } else {
            const int col = tid & 127;
#pragma unroll 4
            for (int i = 0; i < 16; i++) {
                const int row = (tid >> 7) + 2 * i;
                const int64_t gk = k0 + row;
                uint16_t v = 0;
                if (pvalid && gk < K) {
                    const int kk = (int)gk;
                    const int ci = kk / rs, rem = kk - ci * rs;
                    const int ri = rem / (int)p.s, si = rem - ri * (int)p.s;
                    const int64_t ih = ih0 + ri, iw = iw0 + si;
                    if (ih >= 0 && ih < p.in_h && iw >= 0 && iw < p.in_w)
                        v = B[((int64_t)ci * p.in_h + ih) * p.in_w + iw];
                }
                bs[row * IG_LDB + col] = v;
            }
        }
    };

    float acc[4][4][4];
#pragma unroll
    for (int i = 0; i < 4; i++)
#pragma unroll
        for (int j = 0; j < 4; j++)
#pragma unroll
            for (int e = 0; e < 4; e++)
                acc[i][j][e] = 0.f;

    const int64_t KT = (K + IG_BK - 1) / IG_BK;
    load_tile(0, 0);
    cp_async_commit();
    for (int64_t kt = 0; kt < KT; kt++) {
        const int st = (int)(kt & 1);
        if (kt + 1 < KT)
            load_tile(st ^ 1, (kt + 1) * IG_BK); // stage st^1 was last read before the trailing sync
        cp_async_commit();                       // (possibly empty group keeps the count uniform)
        cp_async_wait<1>();                      // everything but the newest group has landed
        __syncthreads();
        const uint16_t *as = As[st];
        const uint16_t *bs = Bs[st];
#pragma unroll
        for (int kk = 0; kk < IG_BK; kk += 16) {
            uint32_t af[4][4], bfr[4][2];
#pragma unroll
            for (int mt = 0; mt < 4; mt++) {
                const uint16_t *a0 = as + (wm * 64 + mt * 16 + g) * IG_LDA + kk + 2 * t;
                af[mt][0] = ld_pair(a0);
                af[mt][1] = ld_pair(a0 + 8 * IG_LDA);
                af[mt][2] = ld_pair(a0 + 8);
                af[mt][3] = ld_pair(a0 + 8 * IG_LDA + 8);
            }
#pragma unroll
            for (int nt = 0; nt < 4; nt++) {
                const uint16_t *b0 = bs + (kk + 2 * t) * IG_LDB + wn * 32 + nt * 8 + g;
                bfr[nt][0] = pack_u16(b0[0], b0[IG_LDB]);
                bfr[nt][1] = pack_u16(b0[8 * IG_LDB], b0[9 * IG_LDB]);
            }
#pragma unroll
            for (int mt = 0; mt < 4; mt++)
#pragma unroll
                for (int nt = 0; nt < 4; nt++)
                    mma16816<T>(acc[mt][nt], af[mt], bfr[nt]);
        }
        __syncthreads();
    }

#pragma unroll
    for (int mt = 0; mt < 4; mt++)
#pragma unroll
        for (int nt = 0; nt < 4; nt++)
#pragma unroll
            for (int e = 0; e < 4; e++) {
                const int64_t r = bm + wm * 64 + mt * 16 + g + (e >> 1) * 8;
                const int64_t c = bn + wn * 32 + nt * 8 + 2 * t + (e & 1);
                if (r < M && c < N)
                    C[r * p.ldc + c] = Ty<T>::from_f(acc[mt][nt][e]);
            }
}

template <typename T, bool AVEC, int BMODE>
static cudaError_t igemm_launch_t(const sd_cuda_igemm_args *a, const sd_cuda_launch *l, cudaStream_t s)
{
    dim3 grid(l->grid[0], l->grid[1], l->grid[2]), block(l->block[0], l->block[1], l->block[2]);
    igemm_kernel<T, AVEC, BMODE><<<grid, block, l->smem, s>>>(*a);
    return cudaGetLastError();
}

// ---- v3 ------------------------------------------------------------------------------------
// Block tile BM x BN x 32, WM x WN warps, warp tile (BM/WM) x (BN/WN) = MT x NT mma tiles of
// 16x8. Shared memory: STAGES x (A BM x 32 + B 32 x BN), swizzled (igemm_layout.h), static.
// Pipeline (one __syncthreads per k-tile): the prologue issues tiles 0..STAGES-2, one cp.async
// group each. Iteration kt waits until at most STAGES-2 groups are pending (tile kt has landed
// for this thread), then the barrier makes every thread's copies visible AND proves that every
// warp has finished computing tile kt-1; only then is tile kt+STAGES-1 issued into the stage of
// tile kt-1. An (empty) group is committed every iteration so the counting stays uniform.
// Per k16 step a warp issues MT ldmatrix.x4 (A) + NT/2 ldmatrix.x4.trans (B) for MT*NT HMMA.
// Requirements (host, gemm.cu / conv2d.cu): k < 2^31 - 64, k % 8 == 0, lda and the batch stride
// of A multiples of 8; dense: n, ldb and the batch stride of B multiples of 8 (16-byte chunks
// are entirely inside or outside the matrix, and aligned).
// Edges: chunks outside the matrix are zero-filled, stores are bounds checked.
// MODE SD_IG3_NCHW (conv v3, conv2d.cu; Ig3Loader<..., CONV = true>): B is the im2col view of
// an NCHW image (cuda_plan.h), gathered by plain loads: each thread owns one output pixel (column n of the tile; THREADS / BN threads
// share a column and split its 32 k-rows) and walks its k-rows with incremental filter taps
// (si, ri, ci): one division pair per k-tile, none per element. 16-bit stores put the elements
// into the same swizzled B layout, so the fragment path is the dense one. The loads are
// synchronous (NCHW rows are not 16-byte aligned for cp.async); they are issued after the
// barrier for tile kt + STAGES - 1, stored, and made visible by a later barrier.
// MODE SD_IG3_NHWC (conv v4): see Ig3NhwcLoader; everything is cp.async, B fragments come from
// plain ldmatrix (K-major filter).

// One thread's share of loading a stage: A (and dense B) by 16-byte cp.async, conv B by gather.
// THREADS is a multiple of 4 and of BN/8, so the thread's chunks share one k-chunk column (A) /
// one n-chunk column (B); chunk i is `i * THREADS` chunks after chunk 0: A rows +i*THREADS/4,
// B k-rows +i*THREADS/(BN/8). The global pointers advance by one k-tile per load.
template <int BM, int BN, int THREADS, bool CONV> struct Ig3Loader {
    static constexpr int BK = SD_IG_BK, ASZ = BM * BK, BSZ = BK * BN;
    static constexpr int ACH = ASZ / 8, BCH = BSZ / 8; // 16-byte chunks per stage
    static constexpr int A_RSTEP = THREADS / 4, B_KSTEP = THREADS / (BN / 8);
    static constexpr int TPC = THREADS / BN, RPT = BK / (TPC > 0 ? TPC : 1); // conv gather
    static_assert(ACH % THREADS == 0 && BCH % THREADS == 0, "loader: whole chunks per thread");
    static_assert(!CONV || (THREADS % BN == 0 && BK % TPC == 0), "conv gather mapping");

    const sd_cuda_igemm_args &p;
    const uint16_t *A, *B, *a_g, *b_g;
    uint16_t *as_w, *bs_w;
    int64_t a_step, b_step;
    int a_row0, a_c, b_k0, b_c, n_loc, r_beg, ih0, iw0;
    unsigned a_row_ok; // bit i: the A row of chunk i is inside the matrix
    bool b_col_ok, pvalid;

    // kb: the first k column this block loads (split-K); loads then come in k order from kb
    __device__ __forceinline__ Ig3Loader(const sd_cuda_igemm_args &p_, const uint16_t *A_,
                                         const uint16_t *B_, uint16_t *as, uint16_t *bs, int tid,
                                         int64_t bm, int64_t bn, int kb)
        : p(p_), A(A_), B(B_), as_w(as), bs_w(bs)
    {
        sd_ig_a_chunk(tid, &a_row0, &a_c);
        sd_ig_b_chunk(tid, BN, &b_k0, &b_c);
        b_col_ok = bn + b_c * 8 < p.n;
        a_g = A + (bm + a_row0) * p.lda + a_c * 8 + kb;
        b_g = B + (int64_t)(b_k0 + kb) * p.ldb + bn + b_c * 8;
        a_step = (int64_t)A_RSTEP * p.lda;
        b_step = (int64_t)B_KSTEP * p.ldb;
        a_row_ok = 0;
#pragma unroll
        for (int i = 0; i < ACH / THREADS; i++)
            a_row_ok |= (unsigned)(bm + a_row0 + i * A_RSTEP < p.m) << i;
        n_loc = tid % BN;
        r_beg = (tid / BN) * RPT;
        pvalid = bn + n_loc < p.n;
        ih0 = iw0 = 0; // 32-bit image coordinates: the host requires in_h, in_w < 2^30
        if (CONV && pvalid) {
            const int64_t pcol = bn + n_loc, oh = pcol / p.out_w, ow = pcol - oh * p.out_w;
            ih0 = (int)(oh * p.stride - p.pad);
            iw0 = (int)(ow * p.stride - p.pad);
        }
    }

    // stage st <- k-tile starting at k0 (32-bit k: the host requires k < 2^31 - 64)
    __device__ __forceinline__ void load(int st, int k0)
    {
        const int krem = (int)p.k - k0; // k columns left from k0 (> 0)
#pragma unroll
        for (int i = 0; i < ACH / THREADS; i++) {
            const int row = a_row0 + i * A_RSTEP;
            const bool ok = ((a_row_ok >> i) & 1u) && a_c * 8 < krem;
            cp_async16(as_w + st * ASZ + sd_ig_a_off(row, a_c), ok ? a_g + i * a_step : A, ok);
        }
        a_g += BK;
        if constexpr (CONV) {
            gather(st, k0, krem);
        } else {
#pragma unroll
            for (int i = 0; i < BCH / THREADS; i++) {
                const int kr = b_k0 + i * B_KSTEP;
                const bool ok = b_col_ok && kr < krem;
                cp_async16(bs_w + st * BSZ + sd_ig_b_off(kr, b_c, BN), ok ? b_g + i * b_step : B, ok);
            }
            b_g += (int64_t)BK * p.ldb;
        }
    }

    // conv: this thread's RPT k-rows of pixel column n_loc, filter taps stepped incrementally
    __device__ __forceinline__ void gather(int st, int k0, int krem)
    {
        const int rs_ = (int)(p.r * p.s), s_ = (int)p.s, r_ = (int)p.r;
        const int in_h = (int)p.in_h, in_w = (int)p.in_w;
        const int kk = k0 + r_beg; // the filter tap of this thread's first k-row
        const int ci = kk / rs_;
        int si = kk - ci * rs_, ri = si / s_;
        si -= ri * s_;
        // element offset of input row (ci, ih0 + ri) at column iw0 (dereferenced only when the
        // element is inside the image); it moves by in_w per filter row and by one plane minus
        // r rows per input channel
        int64_t rowoff = ((int64_t)ci * in_h + ih0 + ri) * in_w + iw0;
        bool row_ok = pvalid && (unsigned)(ih0 + ri) < (unsigned)in_h;
        uint16_t *dst = bs_w + st * BSZ + (n_loc & 7);
#pragma unroll 8
        for (int r = 0; r < RPT; r++) {
            uint16_t v = 0;
            if (row_ok && r_beg + r < krem && (unsigned)(iw0 + si) < (unsigned)in_w)
                v = B[rowoff + si];
            dst[sd_ig_b_off(r_beg + r, n_loc >> 3, BN)] = v;
            if (++si == s_) { // next tap: s, then r, then the input channel
                si = 0;
                rowoff += in_w;
                if (++ri == r_) {
                    ri = 0;
                    rowoff += (int64_t)(in_h - r_) * in_w;
                }
                row_ok = pvalid && (unsigned)(ih0 + ri) < (unsigned)in_h;
            }
        }
    }
};

// MODE SD_IG3_NHWC (conv v4, igemm_layout.h): A = the pixels' im2col rows gathered from the NHWC
// image by 16-byte cp.async (8 channels of one filter tap per chunk), B = the KRSC filter as a
// K-major [c_out][K] matrix, loaded like A. The thread's chunk column and its AR pixel rows are
// fixed; one tap cursor per thread advances by a k-tile per load (no division in the loop).
// 32-bit offsets: the host requires the image to have fewer than 2^31 - 2^24 elements.
template <int BM, int BN, int THREADS> struct Ig3NhwcLoader {
    static constexpr int BK = SD_IG_BK, ASZ = BM * BK, BSZ = BN * BK, RSTEP = THREADS / 4;
    static constexpr int AR = ASZ / 8 / THREADS, BR = BSZ / 8 / THREADS; // chunks per thread
    static_assert(ASZ / 8 % THREADS == 0 && BSZ / 8 % THREADS == 0, "loader: whole chunks per thread");
    static_assert(RSTEP % 8 == 0, "rows +RSTEP keep the swizzle: constant shared-memory offsets");

    const uint16_t *X, *W;
    uint16_t *as_w, *bs_w; // this thread's chunk (row0, c) of stage 0
    int K, c8;
    int w_row[BR]; // filter offset of chunk i at k = 0 (32-bit: the host bounds the filter size)
    sd_ig_nhwc_geom g;
    sd_ig_pix pix[AR];
    sd_ig_tap tap;

    __device__ __forceinline__ Ig3NhwcLoader(const sd_cuda_igemm_args &p, const uint16_t *A_,
                                             const uint16_t *B_, uint16_t *as, uint16_t *bs, int tid,
                                             int64_t bm, int64_t bn, int kb)
        : X(static_cast<const uint16_t *>(p.a)), W(static_cast<const uint16_t *>(p.b)), K((int)p.k)
    {
        (void)A_; // one GEMM over all images (batch 1): A_, B_ are p.a, p.b; the raw pointers keep
        (void)B_; // the batch offset out of the address arithmetic
        g = {(int)p.c_in, (int)p.in_h, (int)p.in_w, (int)p.out_w, (int)p.hw,
             (int)p.r,    (int)p.s,    (int)p.stride, (int)p.pad};
        int row0, c;
        sd_ig_a_chunk(tid, &row0, &c);
        as_w = as + sd_ig_a_off(row0, c);
        bs_w = bs + sd_ig_a_off(row0, c);
        c8 = c * 8;
#pragma unroll
        for (int i = 0; i < AR; i++)
            sd_ig_pix_init(&pix[i], bm + row0 + i * RSTEP, p.m, &g);
        sd_ig_tap_init(&tap, kb + c8, &g);
        // Filter rows (output channels) past n are clamped to row n - 1 instead of predicated:
        // they only feed output columns >= n, which the epilogue never stores.
#pragma unroll
        for (int i = 0; i < BR; i++) { // column c8 (or 0 when K <= c8: never loaded, in bounds)
            const int64_t n = bn + row0 + i * RSTEP;
            w_row[i] = (int)((n < p.n ? n : p.n - 1) * p.ldb) + (c8 < K ? c8 : 0);
        }
    }

    // stage st <- the k-tile at k0 (the loads come in k order: the tap cursor moves by one tile)
    __device__ __forceinline__ void load(int st, int k0)
    {
#pragma unroll
        for (int i = 0; i < AR; i++) {
            int off;
            const bool ok = sd_ig_nhwc_src(&pix[i], &tap, &g, &off);
            cp_async16(as_w + st * ASZ + i * RSTEP * BK, X + (unsigned)(ok ? off : 0), ok);
        }
        sd_ig_tap_next(&tap, &g);
        const bool k_ok = c8 < K - k0;
        const int kk = k_ok ? k0 : 0; // past K: zero fill, from an address inside the filter
#pragma unroll
        for (int i = 0; i < BR; i++)
            cp_async16(bs_w + st * BSZ + i * RSTEP * BK, W + (unsigned)(w_row[i] + kk), k_ok);
    }
};

template <int BM, int BN, int THREADS, int MODE>
using Ig3LoaderFor = typename std::conditional<MODE == SD_IG3_NHWC, Ig3NhwcLoader<BM, BN, THREADS>,
                                               Ig3Loader<BM, BN, THREADS, MODE == SD_IG3_NCHW>>::type;

// One k-tile of a warp: BK/16 steps of MT ldmatrix.x4 (A), NT/2 ldmatrix.x4(.trans) (B), MT*NT
// mma. a0: this lane's stage-0 A address (bytes) for k16 step 0; step h is a0 ^ (32 h) and m-tile
// mt is +mt*16 rows, a constant (sd_ig_k16_step, igemm_layout.h: the swizzle allows both).
// BTRANS: b_ld[h][np] = this lane's stage-0 B addresses (row-major B: the swizzle depends on the
// k-row, no such identities). K-major B: b_ld[0][0] steps like A, n-pair np is +np*16 rows.
// aoff / boff: the stage offsets (multiples of 64 bytes, which keeps the XOR valid).
template <typename T, int MT, int NT, bool BTRANS>
__device__ __forceinline__ void ig3_ktile(float (&acc)[MT][NT][4], unsigned a0,
                                          const unsigned (&b_ld)[2][NT / 2], unsigned aoff, unsigned boff)
{
#pragma unroll
    for (int h = 0; h < SD_IG_BK / 16; h++) {
        uint32_t af[MT][4], bfr[NT][2];
        const unsigned ah = sd_ig_k16_step(a0 + aoff, h);
#pragma unroll
        for (int mt = 0; mt < MT; mt++)
            ldmatrix_x4(af[mt], ah + mt * 16 * SD_IG_BK * 2);
        const unsigned bh = sd_ig_k16_step(b_ld[0][0] + boff, h);
#pragma unroll
        for (int np = 0; np < NT / 2; np++) {
            uint32_t r[4];
            if (BTRANS) // B row-major [k][n] (dense, NCHW conv)
                ldmatrix_x4_trans(r, b_ld[h][np] + boff);
            else        // B K-major [n][k] (NHWC conv filter)
                ldmatrix_x4(r, bh + np * 16 * SD_IG_BK * 2);
            bfr[2 * np][0] = r[0];
            bfr[2 * np][1] = r[1];
            bfr[2 * np + 1][0] = r[2];
            bfr[2 * np + 1][1] = r[3];
        }
#pragma unroll
        for (int mt = 0; mt < MT; mt++)
#pragma unroll
            for (int nt = 0; nt < NT; nt++)
                mma16816<T>(acc[mt][nt], af[mt], bfr[nt]);
    }
}

// Epilogue: C layout c0,c1 = (g, 2t..2t+1), c2,c3 = (g+8, 2t..2t+1) of each 16x8 tile from
// (r0, c0); pairs stored as 32 bits when both columns are inside and the address is 4-byte
// aligned (ldc, sc even).
template <typename T, int MT, int NT>
__device__ __forceinline__ void ig3_store(const float (&acc)[MT][NT][4], const sd_cuda_igemm_args &p,
                                          T *C, int64_t r0, int64_t c0, int lane)
{
    const int g = lane >> 2, t = lane & 3;
    const bool pair_ok = ((p.ldc | p.sc) & 1) == 0;
#pragma unroll
    for (int mt = 0; mt < MT; mt++)
#pragma unroll
        for (int nt = 0; nt < NT; nt++)
#pragma unroll
            for (int h = 0; h < 2; h++) {
                const int64_t r = r0 + mt * 16 + g + h * 8, c = c0 + nt * 8 + 2 * t;
                if (r >= p.m)
                    continue;
                const float v0 = acc[mt][nt][2 * h], v1 = acc[mt][nt][2 * h + 1];
                T *dst = C + r * p.ldc + c;
                if (pair_ok && c + 1 < p.n) {
                    *reinterpret_cast<uint32_t *>(dst) = Ty<T>::pack2(v0, v1); // lo = column c
                } else {
                    if (c < p.n)
                        dst[0] = Ty<T>::from_f(v0);
                    if (c + 1 < p.n)
                        dst[1] = Ty<T>::from_f(v1);
                }
            }
}

// Split-K (p.split > 1, igemm_layout.h): each block of an output tile multiplies one k-range and
// writes its fp32 accumulators, in fragment order (float4 j of thread tid at j*THREADS + tid:
// coalesced), to its slot of the workspace; the LAST block of the tile to arrive (atomic counter)
// sums the slots in split order 0..split-1 - the same order whichever block is last, so the
// result is deterministic - and resets the counter for the next launch (the host zeroes the
// counters once). Returns true in that block only, with the sum in acc.
// last: a shared word (the kernel lends the first one of its A stages: all 48 KiB of static
// shared memory are taken; the barrier below comes after every warp's last ldmatrix).
template <int MT, int NT, int THREADS>
__device__ __forceinline__ bool ig3_splitk(float (&acc)[MT][NT][4], float *ws, unsigned *cnt,
                                           int64_t tile, int split, int ks, int tid, unsigned *last)
{
    constexpr int J = MT * NT;
    float4 *slots = reinterpret_cast<float4 *>(ws) + tile * split * (J * THREADS);
    float4 *mine = slots + (int64_t)ks * (J * THREADS) + tid;
#pragma unroll
    for (int mt = 0; mt < MT; mt++)
#pragma unroll
        for (int nt = 0; nt < NT; nt++)
            mine[(mt * NT + nt) * THREADS] = make_float4(acc[mt][nt][0], acc[mt][nt][1], acc[mt][nt][2], acc[mt][nt][3]);
    __threadfence(); // the slot is visible device-wide before the count says so
    __syncthreads();
    if (tid == 0)
        *last = atomicAdd(cnt + tile, 1u) == (unsigned)split - 1;
    __syncthreads();
    if (!*last)
        return false;
    __threadfence();
#pragma unroll
    for (int mt = 0; mt < MT; mt++)
#pragma unroll
        for (int nt = 0; nt < NT; nt++)
#pragma unroll
            for (int e = 0; e < 4; e++)
                acc[mt][nt][e] = 0.f;
    for (int sl = 0; sl < split; sl++) {
        const float4 *src = slots + (int64_t)sl * (J * THREADS) + tid;
#pragma unroll
        for (int mt = 0; mt < MT; mt++)
#pragma unroll
            for (int nt = 0; nt < NT; nt++) {
                const float4 v = __ldcg(src + (mt * NT + nt) * THREADS); // L2: not a stale L1 line
                acc[mt][nt][0] += v.x;
                acc[mt][nt][1] += v.y;
                acc[mt][nt][2] += v.z;
                acc[mt][nt][3] += v.w;
            }
    }
    if (tid == 0)
        cnt[tile] = 0;
    return true;
}

// SPLITK: a separate instantiation, so that the kernels without split keep their main loop as
// it was (the split bookkeeping costs registers there).
template <typename T, int BM, int BN, int WM, int WN, int STAGES, int MODE = SD_IG3_DENSE, bool SPLITK = false>
__global__ void __launch_bounds__(WM *WN * 32) igemm3_kernel(const sd_cuda_igemm_args p)
{
    constexpr int THREADS = WM * WN * 32, BK = SD_IG_BK;
    constexpr int MT = BM / WM / 16, NT = BN / WN / 8, ASZ = BM * BK, BSZ = BK * BN;
    static_assert(NT % 2 == 0 && MT >= 1 && BN % 64 == 0, "tile shape");
    static_assert(STAGES * (ASZ + BSZ) * 2 <= 48 * 1024, "static shared memory");
    __shared__ __align__(128) uint16_t As[STAGES][ASZ];
    __shared__ __align__(128) uint16_t Bs[STAGES][BSZ];

    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    const int wr = (warp / WN) * (BM / WM), wc = (warp % WN) * (BN / WN); // warp tile origin
    // grid z = batch x split: image / matrix z, k-range ks (k-tiles kt0 .. kt0 + KT - 1)
    const int split = SPLITK ? p.split : 1, ks = SPLITK ? (int)(blockIdx.z % split) : 0;
    const int64_t bm = (int64_t)blockIdx.x * BM, bn = (int64_t)blockIdx.y * BN, z = blockIdx.z / split;
    const int KT_ALL = (int)((p.k + BK - 1) / BK), per = (KT_ALL + split - 1) / split;
    const int kt0 = ks * per, KT = max(0, min(per, KT_ALL - kt0)), kb = kt0 * BK;
    const uint16_t *A = static_cast<const uint16_t *>(p.a) + z * p.sa;
    const uint16_t *B = static_cast<const uint16_t *>(p.b) + z * p.sb;
    Ig3LoaderFor<BM, BN, THREADS, MODE> ld(p, A, B, &As[0][0], &Bs[0][0], tid, bm, bn, kb);
    constexpr bool BTRANS = MODE != SD_IG3_NHWC;

    // ldmatrix addresses (bytes) of this lane for k16 step 0 and 1, stage 0; loop invariant.
    const unsigned as0 = smem_u32(&As[0][0]), bs0 = smem_u32(&Bs[0][0]);
    unsigned a_ld0 = as0 + 2 * sd_ig_a_ldm(lane, wr, 0);
    asm("" : "+r"(a_ld0)); // opaque: kept in a register, not recomputed in the loop
    unsigned b_ld[2][NT / 2];
#pragma unroll
    for (int h = 0; h < 2; h++)
#pragma unroll
        for (int np = 0; np < NT / 2; np++)
            b_ld[h][np] = bs0 + 2 * (BTRANS ? sd_ig_b_ldm(lane, h * 16, wc + np * 16, BN)
                                            : sd_ig_bk_ldm(lane, 0, wc)); // only [0][0] is read
    asm("" : "+r"(b_ld[0][0]));
    float acc[MT][NT][4];
#pragma unroll
    for (int i = 0; i < MT; i++)
#pragma unroll
        for (int j = 0; j < NT; j++)
#pragma unroll
            for (int e = 0; e < 4; e++)
                acc[i][j][e] = 0.f;

#pragma unroll
    for (int s = 0; s < STAGES - 1; s++) {
        if (s < KT)
            ld.load(s, kb + s * BK);
        cp_async_commit();
    }
    int rs = 0, ws = STAGES - 1; // stage read in this iteration / written (tile kt + STAGES - 1)
    for (int kt = 0; kt < KT; kt++) {
        cp_async_wait<STAGES - 2>();
        __syncthreads();
        if (kt + STAGES - 1 < KT)
            ld.load(ws, kb + (kt + STAGES - 1) * BK);
        cp_async_commit();
        ig3_ktile<T, MT, NT, BTRANS>(acc, a_ld0, b_ld, rs * (ASZ * 2), rs * (BSZ * 2));
        rs = rs + 1 == STAGES ? 0 : rs + 1;
        ws = ws + 1 == STAGES ? 0 : ws + 1;
    }
    cp_async_wait<0>(); // no copy may still target shared memory when the block exits
    if (SPLITK) {
        const int64_t ntiles = (int64_t)gridDim.x * gridDim.y * (gridDim.z / split);
        const int64_t tile = (z * gridDim.y + blockIdx.y) * gridDim.x + blockIdx.x;
        float *wsf = static_cast<float *>(p.ws);
        if (!ig3_splitk<MT, NT, THREADS>(acc, wsf, reinterpret_cast<unsigned *>(wsf + ntiles * split * BM * BN),
                                         tile, split, ks, tid, reinterpret_cast<unsigned *>(&As[0][0])))
            return;
    }
    ig3_store<T, MT, NT>(acc, p, static_cast<T *>(p.c) + z * p.sc, bm + wr, bn + wc, lane);
}

// Launch tile config `tile` (sd_ig_tiles) of v3; grid x = m tiles, y = n tiles, z = batch.
// The tile (and k-split) the host planned (sd_cuda_igemm_plan: a->split >= 1; a split > 1 comes
// with its workspace in a->ws), else the choice for this device without split.
static inline int igemm3_tile(const sd_cuda_igemm_args *a)
{
    if (a->split >= 1 && a->tile >= 0 && a->tile < SD_IG_NTILES)
        return a->tile;
    return sd_ig_choose_tile(a->m, a->n, a->k, a->batch, device_attr<cudaDevAttrMultiProcessorCount>());
}

template <typename T, int MODE = SD_IG3_DENSE>
static cudaError_t igemm3_launch_t(const sd_cuda_igemm_args *a, int tile, cudaStream_t s)
{
    const sd_ig_tile &tc = sd_ig_tiles[tile];
    const int split = a->split > 1 && a->tile == tile && a->ws ? a->split : 1;
    sd_cuda_igemm_args args = *a;
    args.split = split;
    dim3 grid((unsigned)((a->m + tc.bm - 1) / tc.bm), (unsigned)((a->n + tc.bn - 1) / tc.bn),
              (unsigned)(a->batch * split));
    dim3 block(32 * tc.wm * tc.wn);
    // each case instantiates exactly the table row (checked, so the table and the templates
    // cannot drift apart silently)
#define SDK_IG3_CASE(ID, BM_, BN_, WM_, WN_, ST_, SPLIT_OK)                                        \
    case ID:                                                                                     \
        if (tc.bm != BM_ || tc.bn != BN_ || tc.wm != WM_ || tc.wn != WN_ || tc.stages != ST_ ||    \
            tc.split_ok != SPLIT_OK || (split > 1 && !SPLIT_OK))                                 \
            return cudaErrorInvalidValue;                                                        \
        if (split > 1)                                                                           \
            igemm3_kernel<T, BM_, BN_, WM_, WN_, ST_, MODE, SPLIT_OK><<<grid, block, 0, s>>>(args); \
        else                                                                                     \
            igemm3_kernel<T, BM_, BN_, WM_, WN_, ST_, MODE, false><<<grid, block, 0, s>>>(args);   \
        break;
    switch (tile) {
        SDK_IG3_CASE(SD_IG_TILE_128x128, 128, 128, 2, 2, 3, 0)
        SDK_IG3_CASE(SD_IG_TILE_64x128, 64, 128, 2, 2, 4, 1)
        SDK_IG3_CASE(SD_IG_TILE_64x64, 64, 64, 2, 2, 4, 1)
    default: return cudaErrorInvalidValue;
    }
#undef SDK_IG3_CASE
    return cudaGetLastError();
}

} // namespace sdk
