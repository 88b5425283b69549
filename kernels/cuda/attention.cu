// attention.cu — sdmark's fused attention ("flash" impl): O = softmax(Q K^T / sqrt(d)) V with an
// online softmax; no score matrix is ever stored. Q, K, V, O: [bh, seq, d] row-major.
//
// Kernel versions:
//   v1 flash_tc (fp16/bf16): FlashAttention-2 style on tensor cores. Block = 4 warps = 64 query
//      rows (16 per warp), grid (ceil(sq/64), bh). head_dim is zero-padded to DP in
//      {32, 48, 64, 80, 128, 160} inside shared memory (40 -> 48, not 64). Per 64-key tile:
//      S = Q K^T with mma.sync m16n8k16 (fp32 accumulators), scale and mask in the log2 domain,
//      row max/sum across the 4 lanes that share a row (shuffles), P converted in registers
//      straight into A fragments (the C layout of two n8 tiles is the A layout of one k16 tile),
//      O (fp32, registers) rescaled by exp2(m_old - m_new) and O += P V. Final O / l.
//      Shared memory: Q, K, V tiles of 64 x (DP+8) elements: 64.5 KiB at DP=160 (opt-in > 48 KiB;
//      fits sm_75's 64 KiB). sm_75: fp16 via 2x m16n8k8; bf16 needs sm_80.
//   v2 flash_f32 (fp32): CUDA cores. One warp per query row (8 per block), 32-key tiles of K and
//      V in shared memory; lane j scores key j, the warp does the online softmax, lanes split d
//      to accumulate O. head_dim <= 160.
//   v3 flash2 (fp16/bf16, default; SDMARK_CUDA_FLASH_KERNEL=1 picks v1 instead): 8 warps = 128
//      query rows per block, Q loaded once and kept in registers as A fragments (ldmatrix.x4),
//      K through ldmatrix.x4 and V through ldmatrix.x4.trans (no 16-bit loads, no packing), K/V
//      double-buffered with cp.async and one barrier per 64-key tile, the softmax scale folded
//      into one FFMA before exp2. Needs d % 8 == 0 (all SD head dims) and 2 x 2 x 64 x LD x 2
//      bytes of shared memory (84 KiB at DP = 160; falls back to v1 where the device has less). Described at its definition.
//      head_dim 40 runs unpadded (DP = 40: a k8 tail step, rows of 40 elements).
//   v3 wide (flashw_kernel, fp16/bf16, head_dim 161..512 with d % 8 == 0: the VAE's 512): the head
//      dim is split over 8 warps (64 columns each; O of 16 rows x 512 would need 256 registers
//      per thread): each warp computes its slice's part of S for 32 query rows x 32 keys, the
//      parts are summed in shared memory by row-owner threads that run the online softmax, and
//      each warp accumulates O for its slice (layout: flash_layout.h). 143.6 KB of shared memory:
//      sm_80 / sm_90 (not sm_86 / sm_89's 99 KB).
//   Not tried yet: wgmma (sm_90a), a K/V split for the VAE's one head (128 blocks at 4096 rows).
#include <math.h>
#include "common.cuh"
#include "flash_layout.h"
#include "cuda_kernels.h"
#include "sdmark/workload.h"

using namespace sdk;

namespace {

constexpr int FA_BR = 64, FA_BC = 64;

template <typename T, int DP>
__global__ void __launch_bounds__(128) flash_tc_kernel(const sd_cuda_attn_args p)
{
    constexpr int LD = DP + 8;
    extern __shared__ __align__(16) uint16_t fa_smem[];
    uint16_t *Qs = fa_smem, *Ks = Qs + FA_BR * LD, *Vs = Ks + FA_BC * LD;

    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    const int g = lane >> 2, t = lane & 3;
    const int64_t d = p.d, sq = p.sq, skv = p.skv;
    const int64_t bh = blockIdx.y, q0 = (int64_t)blockIdx.x * FA_BR;
    const uint16_t *Q = static_cast<const uint16_t *>(p.q) + bh * sq * d;
    const uint16_t *K = static_cast<const uint16_t *>(p.k) + bh * skv * d;
    const uint16_t *V = static_cast<const uint16_t *>(p.v) + bh * skv * d;
    T *O = static_cast<T *>(p.o) + bh * sq * d;
    const bool vec = (d & 7) == 0;

    // 64 rows starting at r0 of a [nrows, d] matrix -> dst[64][LD], zero outside (rows and d..DP).
    auto load_rows = [&](uint16_t *dst, const uint16_t *src, int64_t r0, int64_t nrows) {
        if (vec) {
            constexpr int CPR = DP / 8;
            for (int c = tid; c < 64 * CPR; c += 128) {
                const int row = c / CPR, col = (c - row * CPR) * 8;
                const int64_t gr = r0 + row;
                uint4 v = make_uint4(0, 0, 0, 0);
                if (gr < nrows && col < d)
                    v = *reinterpret_cast<const uint4 *>(src + gr * d + col);
                *reinterpret_cast<uint4 *>(dst + row * LD + col) = v;
            }
        } else {
            for (int e = tid; e < 64 * DP; e += 128) {
                const int row = e / DP, col = e - row * DP;
                const int64_t gr = r0 + row;
                dst[row * LD + col] = (gr < nrows && col < d) ? src[gr * d + col] : (uint16_t)0;
            }
        }
    };

    load_rows(Qs, Q, q0, sq);

    float o[DP / 8][4];
#pragma unroll
    for (int i = 0; i < DP / 8; i++)
        o[i][0] = o[i][1] = o[i][2] = o[i][3] = 0.f;
    float m_r[2] = {-INFINITY, -INFINITY}, l_r[2] = {0.f, 0.f};
    const float sl2 = p.scale * 1.4426950408889634f; // work in the log2 domain
    const int wr = warp * 16;

    for (int64_t j0 = 0; j0 < skv; j0 += FA_BC) {
        __syncthreads(); // everyone is done with the previous K/V tile
        load_rows(Ks, K, j0, skv);
        load_rows(Vs, V, j0, skv);
        __syncthreads();

        float s[FA_BC / 8][4];
#pragma unroll
        for (int i = 0; i < FA_BC / 8; i++)
            s[i][0] = s[i][1] = s[i][2] = s[i][3] = 0.f;
#pragma unroll
        for (int kc = 0; kc < DP / 16; kc++) {
            uint32_t a[4];
            const uint16_t *qa = Qs + (wr + g) * LD + kc * 16 + 2 * t;
            a[0] = ld_pair(qa);
            a[1] = ld_pair(qa + 8 * LD);
            a[2] = ld_pair(qa + 8);
            a[3] = ld_pair(qa + 8 * LD + 8);
#pragma unroll
            for (int nt = 0; nt < FA_BC / 8; nt++) {
                // B[k = feature][n = key] = K[key][feature]: consecutive features are contiguous.
                const uint16_t *kb = Ks + (nt * 8 + g) * LD + kc * 16 + 2 * t;
                uint32_t b[2] = {ld_pair(kb), ld_pair(kb + 8)};
                mma16816<T>(s[nt], a, b);
            }
        }

        // scale, mask keys >= skv, row max over the tile (rows g and g+8 of this warp)
        float mx[2] = {-INFINITY, -INFINITY};
#pragma unroll
        for (int nt = 0; nt < FA_BC / 8; nt++)
#pragma unroll
            for (int e = 0; e < 4; e++) {
                const int64_t col = j0 + nt * 8 + 2 * t + (e & 1);
                const float v = col < skv ? s[nt][e] * sl2 : -INFINITY;
                s[nt][e] = v;
                mx[e >> 1] = fmaxf(mx[e >> 1], v);
            }
        float alpha[2];
#pragma unroll
        for (int r = 0; r < 2; r++) {
            mx[r] = fmaxf(mx[r], __shfl_xor_sync(0xffffffffu, mx[r], 1));
            mx[r] = fmaxf(mx[r], __shfl_xor_sync(0xffffffffu, mx[r], 2));
            // key j0 is always valid, so mx (and the new max) is finite
            const float mn = fmaxf(m_r[r], mx[r]);
            alpha[r] = exp2f(m_r[r] - mn); // first tile: exp2(-inf) = 0
            m_r[r] = mn;
        }
        float rs[2] = {0.f, 0.f};
#pragma unroll
        for (int nt = 0; nt < FA_BC / 8; nt++)
#pragma unroll
            for (int e = 0; e < 4; e++) {
                const float pv = exp2f(s[nt][e] - m_r[e >> 1]); // masked: exp2(-inf) = 0
                s[nt][e] = pv;
                rs[e >> 1] += pv;
            }
        // per-thread partial row sums; alpha is the same for the 4 lanes of a row, so the
        // partials stay consistent and are reduced once at the end
        l_r[0] = l_r[0] * alpha[0] + rs[0];
        l_r[1] = l_r[1] * alpha[1] + rs[1];
#pragma unroll
        for (int dt = 0; dt < DP / 8; dt++) {
            o[dt][0] *= alpha[0];
            o[dt][1] *= alpha[0];
            o[dt][2] *= alpha[1];
            o[dt][3] *= alpha[1];
        }
        // O += P V: P's accumulator layout (two n8 tiles) is the A layout of one k16 step
#pragma unroll
        for (int kc = 0; kc < FA_BC / 16; kc++) {
            uint32_t a[4];
            a[0] = Ty<T>::pack2(s[2 * kc][0], s[2 * kc][1]);
            a[1] = Ty<T>::pack2(s[2 * kc][2], s[2 * kc][3]);
            a[2] = Ty<T>::pack2(s[2 * kc + 1][0], s[2 * kc + 1][1]);
            a[3] = Ty<T>::pack2(s[2 * kc + 1][2], s[2 * kc + 1][3]);
#pragma unroll
            for (int dt = 0; dt < DP / 8; dt++) {
                // B[k = key][n = feature] = V[key][feature]: two rows per register
                const uint16_t *vb = Vs + (kc * 16 + 2 * t) * LD + dt * 8 + g;
                uint32_t b[2] = {pack_u16(vb[0], vb[LD]), pack_u16(vb[8 * LD], vb[9 * LD])};
                mma16816<T>(o[dt], a, b);
            }
        }
    }

    float inv[2];
#pragma unroll
    for (int r = 0; r < 2; r++) {
        float l = l_r[r];
        l += __shfl_xor_sync(0xffffffffu, l, 1);
        l += __shfl_xor_sync(0xffffffffu, l, 2);
        inv[r] = 1.f / l;
    }
#pragma unroll
    for (int dt = 0; dt < DP / 8; dt++)
#pragma unroll
        for (int e = 0; e < 4; e++) {
            const int64_t row = q0 + wr + g + (e >> 1) * 8;
            const int64_t col = dt * 8 + 2 * t + (e & 1);
            if (row < sq && col < d)
                O[row * d + col] = Ty<T>::from_f(o[dt][e] * inv[e >> 1]);
        }
}

// ---- v3 flash2_kernel ------------------------------------------------------------------------
// 8 warps = 128 query rows (16 per warp), 64-key tiles, head dim padded to DP in shared memory
// only (rows of LD = DP or DP + 8 elements, an odd number of 16-byte units, so the 8 rows of an
// ldmatrix phase hit 8 different bank groups). Needs d % 8 == 0 (16-byte cp.async).
//   prologue: Q (128 rows) -> the stage-1 K+V area, K/V tile 0 -> stage 0, one cp.async group;
//             wait, barrier, Q -> registers with ldmatrix.x4 (qf: DP/16 A fragments), kept there.
//   tile j:   wait (tile j landed), ONE barrier (also: every warp is done with tile j-1 and, for
//             j = 0, with Q), then cp.async of tile j+1 into the other stage, then
//             S = Q K^T (K: ldmatrix.x4, rows = keys), online softmax in the log2 domain with the
//             scale folded into one FFMA before exp2, O += P V (V: ldmatrix.x4.trans).
// Per tile and warp: DP/2 ldmatrix for DP HMMA. Shared memory: 2 stages x (K + V) x 64 x LD
// (sd_fa_smem_bytes; LD = sd_fa_ld(DP), flash_layout.h).
// head_dim 40 (DP = 40, not padded to 48): rows of 40 elements (5 16-byte units: conflict free),
// S gets a k8 tail step (m16n8k8, K through ldmatrix.x4 over 32 keys), O has 5 n-tiles: two
// ldmatrix.x4.trans pairs and one ldmatrix.x2.trans.
constexpr int F2_BR = 128, F2_BC = 64, F2_THREADS = 256;
static_assert(F2_BC == 64, "sd_fa_smem_bytes assumes 64-key tiles");

// ldmatrix lane addresses: sd_fa_ldm_rows16 / sd_fa_ldm_keys16 (flash_layout.h, host-tested).

template <int DP> struct F2 {
    static constexpr int LD = sd_fa_ld(DP), KC = DP / 16, NT = F2_BC / 8, STAGE = 2 * F2_BC * LD;
    static constexpr bool K8 = DP % 16 == 8; // a k8 tail step in S (and an odd n-tile in O)
    static constexpr int DPAIR = DP / 16;    // O n-tile pairs (ldmatrix.x4.trans)
    static_assert(DP % 8 == 0 && (LD / 8) % 2 == 1, "row stride: odd number of 16-byte units");
};

// NROWS rows from r0 of a [total, d] matrix -> dst[NROWS][LD] by cp.async (zero outside the
// rows and in columns d..DP); a fixed trip count per thread, so the loop unrolls completely
template <int DP, int NROWS>
__device__ __forceinline__ void f2_issue_rows(uint16_t *dst, const uint16_t *src, int64_t r0, int64_t total,
                                              int64_t d, int tid)
{
    constexpr int CPR = DP / 8, NCH = NROWS * CPR, IT = (NCH + F2_THREADS - 1) / F2_THREADS;
#pragma unroll
    for (int i = 0; i < IT; i++) {
        const int c = tid + i * F2_THREADS;
        if (NCH % F2_THREADS == 0 || c < NCH) {
            const int row = c / CPR, col = (c - row * CPR) * 8;
            const bool ok = r0 + row < total && col < d;
            cp_async16(dst + row * sd_fa_ld(DP) + col, ok ? src + (r0 + row) * d + col : src, ok);
        }
    }
}

// S (16 rows x 64 keys of this warp) = Q K^T; K tile at shared address ks
template <typename T, int DP>
__device__ __forceinline__ void f2_scores(float (&s)[F2_BC / 8][4], const uint32_t (&qf)[DP / 16][4],
                                          const uint32_t (&qt)[2], unsigned ks, int lane)
{
    using C = F2<DP>;
#pragma unroll
    for (int i = 0; i < C::NT; i++)
        s[i][0] = s[i][1] = s[i][2] = s[i][3] = 0.f;
#pragma unroll
    for (int kc = 0; kc < C::KC; kc++)
#pragma unroll
        for (int np = 0; np < C::NT / 2; np++) {
            uint32_t r[4];
            ldmatrix_x4(r, ks + 2 * sd_fa_ldm_keys16(lane, np * 16, kc * 16, C::LD));
            const uint32_t b0[2] = {r[0], r[1]}, b1[2] = {r[2], r[3]};
            mma16816<T>(s[2 * np], qf[kc], b0);
            mma16816<T>(s[2 * np + 1], qf[kc], b1);
        }
    if constexpr (C::K8) {
#pragma unroll
        for (int nq = 0; nq < F2_BC / 32; nq++) {
            uint32_t r[4];
            ldmatrix_x4(r, ks + 2 * sd_fa_ldm_keys32(lane, nq * 32, C::KC * 16, C::LD));
#pragma unroll
            for (int i = 0; i < 4; i++)
                mma1688<T>(s[nq * 4 + i], qt, r[i]);
        }
    }
}

// Online softmax of one tile (keys j0..): mask keys >= skv, new row max (raw scores; rows g and
// g+8 of the warp, reduced over the 4 lanes of a row), P = exp2(s * sl2 - max * sl2) in s,
// running sums l_r and O rescaled by exp2((m_old - m_new) * sl2).
template <int DP>
__device__ __forceinline__ void f2_softmax(float (&s)[F2_BC / 8][4], float (&o)[DP / 8][4], float (&m_r)[2],
                                           float (&l_r)[2], float sl2, int64_t j0, int64_t skv, int t)
{
    constexpr int NT = F2_BC / 8;
    if (j0 + F2_BC > skv) { // only the last tile can have keys >= skv
#pragma unroll
        for (int nt = 0; nt < NT; nt++)
#pragma unroll
            for (int e = 0; e < 4; e++)
                if (j0 + nt * 8 + 2 * t + (e & 1) >= skv)
                    s[nt][e] = -INFINITY;
    }
    float mx[2] = {-INFINITY, -INFINITY};
#pragma unroll
    for (int nt = 0; nt < NT; nt++)
#pragma unroll
        for (int e = 0; e < 4; e++)
            mx[e >> 1] = fmaxf(mx[e >> 1], s[nt][e]);
    float alpha[2], msc[2], rs[2] = {0.f, 0.f};
#pragma unroll
    for (int r = 0; r < 2; r++) {
        mx[r] = fmaxf(mx[r], __shfl_xor_sync(0xffffffffu, mx[r], 1));
        mx[r] = fmaxf(mx[r], __shfl_xor_sync(0xffffffffu, mx[r], 2));
        const float mn = fmaxf(m_r[r], mx[r]); // key j0 is valid: finite
        alpha[r] = exp2f((m_r[r] - mn) * sl2); // first tile: exp2(-inf) = 0
        m_r[r] = mn;
        msc[r] = mn * sl2;
    }
#pragma unroll
    for (int nt = 0; nt < NT; nt++)
#pragma unroll
        for (int e = 0; e < 4; e++) {
            const float pv = exp2f(fmaf(s[nt][e], sl2, -msc[e >> 1])); // masked: 0
            s[nt][e] = pv;
            rs[e >> 1] += pv;
        }
    // per-lane partial sums; alpha is the same for the 4 lanes of a row, reduced at the end
    l_r[0] = l_r[0] * alpha[0] + rs[0];
    l_r[1] = l_r[1] * alpha[1] + rs[1];
#pragma unroll
    for (int dt = 0; dt < DP / 8; dt++) {
        o[dt][0] *= alpha[0];
        o[dt][1] *= alpha[0];
        o[dt][2] *= alpha[1];
        o[dt][3] *= alpha[1];
    }
}

// O += P V: P's accumulator layout (two n8 tiles) is the A layout of one k16 step; V tile at vs
template <typename T, int DP>
__device__ __forceinline__ void f2_pv(float (&o)[DP / 8][4], const float (&s)[F2_BC / 8][4], unsigned vs,
                                      int lane)
{
    using C = F2<DP>;
#pragma unroll
    for (int kc = 0; kc < F2_BC / 16; kc++) {
        uint32_t a[4];
        a[0] = Ty<T>::pack2(s[2 * kc][0], s[2 * kc][1]);
        a[1] = Ty<T>::pack2(s[2 * kc][2], s[2 * kc][3]);
        a[2] = Ty<T>::pack2(s[2 * kc + 1][0], s[2 * kc + 1][1]);
        a[3] = Ty<T>::pack2(s[2 * kc + 1][2], s[2 * kc + 1][3]);
#pragma unroll
        for (int dp = 0; dp < C::DPAIR; dp++) {
            uint32_t r[4];
            ldmatrix_x4_trans(r, vs + 2 * sd_fa_ldm_rows16(lane, kc * 16, dp * 16, C::LD));
            const uint32_t b0[2] = {r[0], r[1]}, b1[2] = {r[2], r[3]};
            mma16816<T>(o[2 * dp], a, b0);
            mma16816<T>(o[2 * dp + 1], a, b1);
        }
        if constexpr (C::K8) { // the odd n-tile DP/8 - 1: keys kc*16.. +15, features DPAIR*16.. +7
            uint32_t r[2];
            ldmatrix_x2_trans(r, vs + 2 * sd_fa_ldm_rows16(lane & 15, kc * 16, C::DPAIR * 16, C::LD));
            mma16816<T>(o[2 * C::DPAIR], a, r);
        }
    }
}

// O / l for rows wr0 + g, wr0 + g + 8; d % 8 == 0: a pair (col even, col + 1 < d) is 4-byte
// aligned and both inside or both out
template <typename T, int DP>
__device__ __forceinline__ void f2_store(const float (&o)[DP / 8][4], const float (&l_r)[2], T *O, int64_t wr0,
                                         int64_t sq, int64_t d, int lane)
{
    const int g = lane >> 2, t = lane & 3;
    float inv[2];
#pragma unroll
    for (int r = 0; r < 2; r++) {
        float l = l_r[r];
        l += __shfl_xor_sync(0xffffffffu, l, 1);
        l += __shfl_xor_sync(0xffffffffu, l, 2);
        inv[r] = 1.f / l;
    }
#pragma unroll
    for (int dt = 0; dt < DP / 8; dt++)
#pragma unroll
        for (int h = 0; h < 2; h++) {
            const int64_t row = wr0 + g + h * 8, col = dt * 8 + 2 * t;
            if (row < sq && col < d)
                *reinterpret_cast<uint32_t *>(O + row * d + col) =
                    Ty<T>::pack2(o[dt][2 * h] * inv[h], o[dt][2 * h + 1] * inv[h]);
        }
}

template <typename T, int DP>
__global__ void __launch_bounds__(F2_THREADS) flash2_kernel(const sd_cuda_attn_args p)
{
    using C = F2<DP>;
    extern __shared__ __align__(16) uint16_t f2_smem[];
    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    const int64_t d = p.d, sq = p.sq, skv = p.skv;
    const int64_t bh = blockIdx.y, q0 = (int64_t)blockIdx.x * F2_BR;
    const uint16_t *Q = static_cast<const uint16_t *>(p.q) + bh * sq * d;
    const uint16_t *K = static_cast<const uint16_t *>(p.k) + bh * skv * d;
    const uint16_t *V = static_cast<const uint16_t *>(p.v) + bh * skv * d;

    const int64_t ntiles = (skv + F2_BC - 1) / F2_BC;
    f2_issue_rows<DP, F2_BR>(f2_smem + C::STAGE, Q, q0, sq, d, tid); // Q in the stage-1 area
    f2_issue_rows<DP, F2_BC>(f2_smem, K, 0, skv, d, tid);
    f2_issue_rows<DP, F2_BC>(f2_smem + F2_BC * C::LD, V, 0, skv, d, tid);
    cp_async_commit();
    cp_async_wait<0>();
    __syncthreads();
    uint32_t qf[C::KC][4], qt[2] = {0u, 0u}; // qt: the k8 tail's A fragment (DP = 40)
    const unsigned sm0 = smem_u32(f2_smem);
#pragma unroll
    for (int kc = 0; kc < C::KC; kc++)
        ldmatrix_x4(qf[kc], sm0 + 2 * (C::STAGE + sd_fa_ldm_rows16(lane, warp * 16, kc * 16, C::LD)));
    if constexpr (C::K8) // .x2: lanes 0-15 address; (lane & 15) keeps the unused ones inside
        ldmatrix_x2(qt, sm0 + 2 * (C::STAGE + sd_fa_ldm_rows16(lane & 15, warp * 16, C::KC * 16, C::LD)));

    float o[DP / 8][4], s[C::NT][4];
#pragma unroll
    for (int i = 0; i < DP / 8; i++)
        o[i][0] = o[i][1] = o[i][2] = o[i][3] = 0.f;
    float m_r[2] = {-INFINITY, -INFINITY}, l_r[2] = {0.f, 0.f}; // m_r: raw-score max
    const float sl2 = p.scale * 1.4426950408889634f;
    for (int64_t j = 0; j < ntiles; j++) {
        const int st = (int)(j & 1);
        cp_async_wait<0>(); // tile j landed (this thread's copies)
        __syncthreads();    // ... everyone's; and every warp is done with tile j-1 (and Q)
        if (j + 1 < ntiles) {
            uint16_t *nx = f2_smem + (st ^ 1) * C::STAGE;
            f2_issue_rows<DP, F2_BC>(nx, K, (j + 1) * F2_BC, skv, d, tid);
            f2_issue_rows<DP, F2_BC>(nx + F2_BC * C::LD, V, (j + 1) * F2_BC, skv, d, tid);
        }
        cp_async_commit();
        const unsigned ks = sm0 + 2 * st * C::STAGE, vs = ks + 2 * F2_BC * C::LD;
        f2_scores<T, DP>(s, qf, qt, ks, lane);
        f2_softmax<DP>(s, o, m_r, l_r, sl2, j * F2_BC, skv, lane & 3);
        f2_pv<T, DP>(o, s, vs, lane);
    }
    cp_async_wait<0>();
    f2_store<T, DP>(o, l_r, static_cast<T *>(p.o) + bh * sq * d, q0 + warp * 16, sq, d, lane);
}

// ---- wide-head flashw_kernel (head_dim 161..512; flash_layout.h describes the split) ---------
// Per 32-key tile j (K and V single-buffered, Q's slice in registers):
//   top:  K(j) landed and visible (barrier)      S part of this warp's head-dim slice -> shared
//   B1:   every S part written, Ks free           cp.async K(j+1); row softmax -> P, alpha
//   B2:   P, alpha and V(j) visible               O = alpha O + P V(j)
//   end:  K(j+1) landed; barrier (= next top, and every warp is done with Vs / P) -> cp.async V(j+1)
constexpr int FW_THREADS = SD_FW_WARPS * 32, FW_LD = sd_fa_ld(SD_FW_DP), FW_SL = SD_FW_DP / SD_FW_WARPS;
static_assert(FW_SL == 64 && SD_FW_BR == 32 && SD_FW_BC == 32 && FW_THREADS == 256, "flashw split");

// d0 += a b(n-tile 0), d1 += a b(n-tile 1): the two B fragments of one ldmatrix.x4 (regs 0-1, 2-3)
template <typename T>
__device__ __forceinline__ void fw_mma_pair(float (&d0)[4], float (&d1)[4], const uint32_t (&a)[4],
                                            const uint32_t (&r)[4])
{
    const uint32_t b0[2] = {r[0], r[1]}, b1[2] = {r[2], r[3]};
    mma16816<T>(d0, a, b0);
    mma16816<T>(d1, a, b1);
}

// this warp's S part (32 rows x 32 keys over its slice): 4 k16 steps x 2 K ldmatrix x 8 HMMA
template <typename T>
__device__ __forceinline__ void fw_spart(float (&s)[2][4][4], const uint32_t (&qf)[2][4][4], unsigned ks,
                                         int w, int lane)
{
#pragma unroll
    for (int mt = 0; mt < 2; mt++)
#pragma unroll
        for (int nt = 0; nt < 4; nt++)
            s[mt][nt][0] = s[mt][nt][1] = s[mt][nt][2] = s[mt][nt][3] = 0.f;
#pragma unroll
    for (int kc = 0; kc < 4; kc++)
#pragma unroll
        for (int np = 0; np < 2; np++) {
            uint32_t r[4];
            ldmatrix_x4(r, ks + 2 * sd_fa_ldm_keys16(lane, np * 16, w * FW_SL + kc * 16, FW_LD));
#pragma unroll
            for (int mt = 0; mt < 2; mt++)
                fw_mma_pair<T>(s[mt][2 * np], s[mt][2 * np + 1], qf[mt][kc], r);
        }
}

// the S part -> shared partial w (rows mt*16 + g (+8), keys nt*8 + 2t, +1 as float2)
__device__ __forceinline__ void fw_store_spart(float *sp, const float (&s)[2][4][4], int w, int lane)
{
    const int g = lane >> 2, t = lane & 3;
#pragma unroll
    for (int mt = 0; mt < 2; mt++)
#pragma unroll
        for (int nt = 0; nt < 4; nt++)
#pragma unroll
            for (int h = 0; h < 2; h++)
                *reinterpret_cast<float2 *>(sp + sd_fw_sp(w, mt * 16 + g + 8 * h, nt * 8 + 2 * t)) =
                    make_float2(s[mt][nt][2 * h], s[mt][nt][2 * h + 1]);
}

// Row softmax of thread tid (row tid / 8, keys 4 (tid % 8) .. +3 of the tile at key j0): the sum
// of the 8 S parts, online max / sum (m_r, l_r: this thread's running max and partial sum), P ->
// shared (16-bit), the row's rescale factor -> alpha (written by the row's first thread).
template <typename T>
__device__ __forceinline__ void fw_softmax(const float *sp, uint16_t *ps, float *alpha, float &m_r, float &l_r,
                                           float sl2, int64_t j0, int64_t skv, int tid)
{
    const int row = tid >> 3, c0 = (tid & 7) * 4;
    float v[4] = {0.f, 0.f, 0.f, 0.f};
#pragma unroll
    for (int w = 0; w < SD_FW_WARPS; w++) {
        const float4 x = *reinterpret_cast<const float4 *>(sp + sd_fw_sp(w, row, c0));
        v[0] += x.x;
        v[1] += x.y;
        v[2] += x.z;
        v[3] += x.w;
    }
    float mx = -INFINITY;
#pragma unroll
    for (int i = 0; i < 4; i++) {
        if (j0 + c0 + i >= skv)
            v[i] = -INFINITY;
        mx = fmaxf(mx, v[i]);
    }
    mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
    mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 2));
    mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 4));
    const float mn = fmaxf(m_r, mx), a = exp2f((m_r - mn) * sl2), msc = mn * sl2; // key j0 valid
    m_r = mn;
    float sum = 0.f;
#pragma unroll
    for (int i = 0; i < 4; i++) {
        v[i] = exp2f(fmaf(v[i], sl2, -msc));
        sum += v[i];
    }
    l_r = l_r * a + sum;
    *reinterpret_cast<uint2 *>(ps + row * SD_FW_PLD + c0) = make_uint2(Ty<T>::pack2(v[0], v[1]), Ty<T>::pack2(v[2], v[3]));
    if ((tid & 7) == 0)
        alpha[row] = a;
}

// O[:, slice w] = alpha O + P V: P (32 x 32 keys) through ldmatrix.x4, V through .x4.trans
template <typename T>
__device__ __forceinline__ void fw_pv(float (&o)[2][8][4], unsigned psa, unsigned vs, const float *alpha, int w,
                                      int lane)
{
    const int g = lane >> 2;
#pragma unroll
    for (int mt = 0; mt < 2; mt++) {
        const float a0 = alpha[mt * 16 + g], a1 = alpha[mt * 16 + g + 8];
#pragma unroll
        for (int nt = 0; nt < 8; nt++) {
            o[mt][nt][0] *= a0;
            o[mt][nt][1] *= a0;
            o[mt][nt][2] *= a1;
            o[mt][nt][3] *= a1;
        }
    }
#pragma unroll
    for (int kc = 0; kc < SD_FW_BC / 16; kc++) {
        uint32_t a[2][4];
#pragma unroll
        for (int mt = 0; mt < 2; mt++)
            ldmatrix_x4(a[mt], psa + 2 * sd_fa_ldm_rows16(lane, mt * 16, kc * 16, SD_FW_PLD));
#pragma unroll
        for (int dp = 0; dp < 4; dp++) {
            uint32_t r[4];
            ldmatrix_x4_trans(r, vs + 2 * sd_fa_ldm_rows16(lane, kc * 16, w * FW_SL + dp * 16, FW_LD));
#pragma unroll
            for (int mt = 0; mt < 2; mt++)
                fw_mma_pair<T>(o[mt][2 * dp], o[mt][2 * dp + 1], a[mt], r);
        }
    }
}

// 32 rows from r0 of a [total, d] matrix -> dst[32][FW_LD] by cp.async, zero outside the rows and
// in columns d..512: thread tid always copies column chunk tid % 64 of rows tid / 64 + 4i (the
// f2_issue_rows walk with its row / column split hoisted: one compare and one address per chunk)
__device__ __forceinline__ void fw_issue_rows(uint16_t *dst, const uint16_t *src, int64_t r0, int64_t total,
                                              int64_t d, int tid)
{
    constexpr int CPR = SD_FW_DP / 8, RSTEP = FW_THREADS / CPR; // 64 chunks per row, rows +4
    const int col = (tid % CPR) * 8, row0 = tid / CPR;
    const bool col_ok = col < d;
    const uint16_t *s0 = src + (r0 + row0) * d + col;
    uint16_t *d0 = dst + row0 * FW_LD + col;
#pragma unroll
    for (int i = 0; i < SD_FW_BR / RSTEP; i++) {
        const bool ok = col_ok && r0 + row0 + i * RSTEP < total;
        cp_async16(d0 + i * RSTEP * FW_LD, ok ? s0 + i * RSTEP * d : src, ok);
    }
}

template <typename T>
__global__ void __launch_bounds__(FW_THREADS) flashw_kernel(const sd_cuda_attn_args p)
{
    extern __shared__ __align__(16) uint16_t fw_smem[];
    uint16_t *Qs = fw_smem, *Ks = Qs + SD_FW_BR * FW_LD, *Vs = Ks + SD_FW_BC * FW_LD;
    unsigned char *base = reinterpret_cast<unsigned char *>(fw_smem);
    float *sp = reinterpret_cast<float *>(base + sd_fw_off_sp());
    uint16_t *ps = reinterpret_cast<uint16_t *>(base + sd_fw_off_p());
    float *alpha = reinterpret_cast<float *>(base + sd_fw_off_alpha()), *lsum = alpha + SD_FW_BR;
    const int tid = threadIdx.x, lane = tid & 31, w = tid >> 5, g = lane >> 2, t = lane & 3;
    const int64_t d = p.d, sq = p.sq, skv = p.skv, bh = blockIdx.y, q0 = (int64_t)blockIdx.x * SD_FW_BR;
    const uint16_t *Q = static_cast<const uint16_t *>(p.q) + bh * sq * d;
    const uint16_t *K = static_cast<const uint16_t *>(p.k) + bh * skv * d;
    const uint16_t *V = static_cast<const uint16_t *>(p.v) + bh * skv * d;
    const int64_t ntiles = (skv + SD_FW_BC - 1) / SD_FW_BC;

    fw_issue_rows(Qs, Q, q0, sq, d, tid);
    fw_issue_rows(Ks, K, 0, skv, d, tid);
    fw_issue_rows(Vs, V, 0, skv, d, tid);
    cp_async_commit();
    cp_async_wait<0>();
    __syncthreads();
    const unsigned qsa = smem_u32(Qs), ksa = smem_u32(Ks), vsa = smem_u32(Vs), psa = smem_u32(ps);
    uint32_t qf[2][4][4]; // Q rows 0..31, this warp's slice: A fragments, kept for every tile
#pragma unroll
    for (int mt = 0; mt < 2; mt++)
#pragma unroll
        for (int kc = 0; kc < 4; kc++)
            ldmatrix_x4(qf[mt][kc], qsa + 2 * sd_fa_ldm_rows16(lane, mt * 16, w * FW_SL + kc * 16, FW_LD));
    float o[2][8][4], s[2][4][4];
#pragma unroll
    for (int mt = 0; mt < 2; mt++)
#pragma unroll
        for (int nt = 0; nt < 8; nt++)
            o[mt][nt][0] = o[mt][nt][1] = o[mt][nt][2] = o[mt][nt][3] = 0.f;
    float m_r = -INFINITY, l_r = 0.f;
    const float sl2 = p.scale * 1.4426950408889634f;
    for (int64_t j = 0; j < ntiles; j++) {
        fw_spart<T>(s, qf, ksa, w, lane);
        fw_store_spart(sp, s, w, lane);
        __syncthreads(); // B1
        if (j + 1 < ntiles)
            fw_issue_rows(Ks, K, (j + 1) * SD_FW_BC, skv, d, tid);
        cp_async_commit();
        fw_softmax<T>(sp, ps, alpha, m_r, l_r, sl2, j * SD_FW_BC, skv, tid);
        cp_async_wait<1>(); // V(j) (the group before K(j+1))
        __syncthreads();    // B2
        fw_pv<T>(o, psa, vsa, alpha, w, lane);
        cp_async_wait<0>(); // K(j+1)
        __syncthreads();    // next top; every warp is done with Vs and P
        if (j + 1 < ntiles)
            fw_issue_rows(Vs, V, (j + 1) * SD_FW_BC, skv, d, tid);
        cp_async_commit();
    }
    l_r += __shfl_xor_sync(0xffffffffu, l_r, 1);
    l_r += __shfl_xor_sync(0xffffffffu, l_r, 2);
    l_r += __shfl_xor_sync(0xffffffffu, l_r, 4);
    if ((tid & 7) == 0)
        lsum[tid >> 3] = l_r;
    cp_async_wait<0>();
    __syncthreads();
    T *O = static_cast<T *>(p.o) + bh * sq * d;
#pragma unroll
    for (int mt = 0; mt < 2; mt++)
#pragma unroll
        for (int h = 0; h < 2; h++) {
            const int r = mt * 16 + g + 8 * h;
            const float inv = 1.f / lsum[r];
#pragma unroll
            for (int nt = 0; nt < 8; nt++) {
                const int64_t col = w * FW_SL + nt * 8 + 2 * t;
                if (q0 + r < sq && col < d) // d % 8 == 0: the pair is inside and 4-byte aligned
                    *reinterpret_cast<uint32_t *>(O + (q0 + r) * d + col) =
                        Ty<T>::pack2(o[mt][nt][2 * h] * inv, o[mt][nt][2 * h + 1] * inv);
            }
        }
}

__global__ void __launch_bounds__(256) flash_f32_kernel(const sd_cuda_attn_args p)
{
    extern __shared__ float ff_smem[];
    const int d = (int)p.d;
    const int64_t sq = p.sq, skv = p.skv, bh = blockIdx.y;
    float *Ks = ff_smem;            // [32][d+1] (padded: lane j reads row j, conflict free)
    float *Vs = Ks + 32 * (d + 1);  // [32][d]
    float *qs = Vs + 32 * d;        // [8][d], pre-scaled by scale*log2(e)
    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    const int64_t qrow = (int64_t)blockIdx.x * 8 + warp;
    const float *Q = static_cast<const float *>(p.q) + bh * sq * d;
    const float *K = static_cast<const float *>(p.k) + bh * skv * d;
    const float *V = static_cast<const float *>(p.v) + bh * skv * d;
    float *O = static_cast<float *>(p.o) + bh * sq * d;
    const float sl2 = p.scale * 1.4426950408889634f;

    for (int e = lane; e < d; e += 32)
        qs[warp * d + e] = qrow < sq ? Q[qrow * d + e] * sl2 : 0.f;
    float o[5] = {0.f, 0.f, 0.f, 0.f, 0.f}; // d <= 160 = 5 x 32
    float m = -INFINITY, l = 0.f;
    for (int64_t j0 = 0; j0 < skv; j0 += 32) {
        __syncthreads();
        for (int e = tid; e < 32 * d; e += 256) {
            const int r = e / d, c = e - r * d;
            const int64_t gr = j0 + r;
            const bool ok = gr < skv;
            Ks[r * (d + 1) + c] = ok ? K[gr * d + c] : 0.f;
            Vs[r * d + c] = ok ? V[gr * d + c] : 0.f;
        }
        __syncthreads();
        float sc = 0.f;
        const float *kr = Ks + lane * (d + 1), *qr = qs + warp * d;
        for (int c = 0; c < d; c++)
            sc = fmaf(qr[c], kr[c], sc);
        const bool valid = j0 + lane < skv;
        sc = valid ? sc : -INFINITY;
        const float mn = fmaxf(m, warp_max(sc)); // lane 0 (key j0) is valid: finite
        const float alpha = exp2f(m - mn);
        const float pr = exp2f(sc - mn);
        l = l * alpha + warp_sum(pr);
        m = mn;
#pragma unroll
        for (int i = 0; i < 5; i++)
            o[i] *= alpha;
        for (int jj = 0; jj < 32; jj++) {
            const float pj = __shfl_sync(0xffffffffu, pr, jj);
#pragma unroll
            for (int i = 0; i < 5; i++) {
                const int c = lane + 32 * i;
                if (c < d)
                    o[i] = fmaf(pj, Vs[jj * d + c], o[i]);
            }
        }
    }
    if (qrow < sq) {
        const float inv = 1.f / l;
#pragma unroll
        for (int i = 0; i < 5; i++) {
            const int c = lane + 32 * i;
            if (c < d)
                O[qrow * d + c] = o[i] * inv;
        }
    }
}

template <typename T> const void *flash_tc_fn(int dp)
{
    switch (dp) {
    case 32: return (const void *)flash_tc_kernel<T, 32>;
    case 48: return (const void *)flash_tc_kernel<T, 48>;
    case 64: return (const void *)flash_tc_kernel<T, 64>;
    case 80: return (const void *)flash_tc_kernel<T, 80>;
    case 128: return (const void *)flash_tc_kernel<T, 128>;
    case 160: return (const void *)flash_tc_kernel<T, 160>;
    default: return nullptr;
    }
}

template <typename T> const void *flash2_fn(int dp)
{
    switch (dp) {
    case 32: return (const void *)flash2_kernel<T, 32>;
    case 40: return (const void *)flash2_kernel<T, 40>;
    case 48: return (const void *)flash2_kernel<T, 48>;
    case 64: return (const void *)flash2_kernel<T, 64>;
    case 80: return (const void *)flash2_kernel<T, 80>;
    case 128: return (const void *)flash2_kernel<T, 128>;
    case 160: return (const void *)flash2_kernel<T, 160>;
    default: return nullptr;
    }
}

// SDMARK_CUDA_FLASH_KERNEL: 1 = v1 flash_tc, anything else = v3 flash2; read once.
int flash_version()
{
    static const int v = env_version("SDMARK_CUDA_FLASH_KERNEL", 3, 1, 3) == 1 ? 1 : 3;
    return v;
}

// The kernel, grid, block and shared memory for a: v3 where it applies (fp16/bf16, d % 8 == 0,
// its shared memory fits the device), else the v1 config from sd_cuda_flash_config.
const void *flash_pick(const sd_cuda_attn_args *a, sd_cuda_launch *l)
{
    char why[128];
    if (sd_cuda_flash_config(a, l, why, sizeof(why)) != 0)
        return nullptr;
    if (a->dtype == SD_FP32)
        return (const void *)flash_f32_kernel;
    const bool bf = a->dtype == SD_BF16;
    const int dp = l->variant;
    if (dp == SD_FW_DP) // head_dim 161..512: the wide-head kernel only (config set grid/smem)
        return bf ? (const void *)flashw_kernel<__nv_bfloat16> : (const void *)flashw_kernel<__half>;
    const int dp3 = (dp == 48 && a->d <= 40) ? 40 : dp; // v3 runs head_dim 40 unpadded
    if (flash_version() == 3 && a->d % 8 == 0 &&
        sd_fa_smem_bytes(dp3) <= device_attr<cudaDevAttrMaxSharedMemoryPerBlockOptin>()) {
        l->grid[0] = (uint32_t)((a->sq + F2_BR - 1) / F2_BR);
        l->block[0] = F2_THREADS;
        l->smem = (uint32_t)sd_fa_smem_bytes(dp3);
        return bf ? flash2_fn<__nv_bfloat16>(dp3) : flash2_fn<__half>(dp3);
    }
    return bf ? flash_tc_fn<__nv_bfloat16>(dp) : flash_tc_fn<__half>(dp);
}

} // namespace

extern "C" cudaError_t sd_cuda_flash_setup(const struct sd_cuda_attn_args *a)
{
    sd_cuda_launch l;
    const void *fn = flash_pick(a, &l);
    if (!fn)
        return cudaErrorInvalidValue;
    if (l.smem > 48 * 1024)
        return cudaFuncSetAttribute(fn, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)l.smem);
    return cudaSuccess;
}

extern "C" cudaError_t sd_cuda_flash_launch(const struct sd_cuda_attn_args *a, cudaStream_t stream)
{
    sd_cuda_launch l;
    const void *fn = flash_pick(a, &l);
    if (!fn)
        return cudaErrorInvalidValue;
    sd_cuda_attn_args args = *a;
    void *params[] = {&args};
    dim3 grid(l.grid[0], l.grid[1], l.grid[2]), block(l.block[0], l.block[1], l.block[2]);
    cudaError_t e = cudaLaunchKernel(fn, grid, block, params, l.smem, stream);
    if (e != cudaSuccess)
        return e;
    return cudaGetLastError();
}
