/* flash_layout.h — ldmatrix lane addresses of the v3 flash kernel (attention.cu), in plain C so
 * tests/test_cuda_kernels_host.c can emulate the fragments against fp64 without a GPU.
 * Buffers are row-major with row stride ld (elements, sd_fa_ld: an odd number of 16-byte units,
 * so the 8 rows of an ldmatrix phase hit 8 different bank groups). */
#ifndef SDMARK_FLASH_LAYOUT_H
#define SDMARK_FLASH_LAYOUT_H

#include "igemm_layout.h" /* SD_IG_HD */

#ifdef __CUDACC__
#define SD_FA_CX __host__ __device__ constexpr /* usable for template constants */
#else
#define SD_FA_CX inline
#endif

/* This lane's row address for ldmatrix.x4 of the 16x16 block at (r0, c0): matrices (rows 0-7,
 * cols 0-7), (rows 8-15, cols 0-7), (rows 0-7, cols 8-15), (rows 8-15, cols 8-15). Plain: the
 * A fragment of mma.m16n8k16 (Q). With .trans on a [k][n] buffer (V = [key][feature]): the B
 * fragments b[n-tile c0][0..1], b[n-tile c0 + 8][0..1]. */
static SD_IG_HD int sd_fa_ldm_rows16(int lane, int r0, int c0, int ld)
{
    return (r0 + (lane & 7) + ((lane >> 3) & 1) * 8) * ld + c0 + (lane >> 4) * 8;
}

/* ... for K = [key][feature] as the col-major B of S = Q K^T (plain ldmatrix): matrices
 * (keys 0-7, f 0-7), (keys 0-7, f 8-15), (keys 8-15, f 0-7), (keys 8-15, f 8-15) =
 * b[key-tile n0][0], b[n0][1], b[n0 + 8][0], b[n0 + 8][1]. */
static SD_IG_HD int sd_fa_ldm_keys16(int lane, int n0, int c0, int ld)
{
    return (n0 + (lane & 7) + (lane >> 4) * 8) * ld + c0 + ((lane >> 3) & 1) * 8;
}

/* ... for the k8 tail (head_dim 40) of K: matrix i = keys n0 + 8i .. n0 + 8i + 7 at features
 * c0 .. c0 + 7 (plain ldmatrix.x4) = the m16n8k8 B fragment of key tile n0 + 8i. */
static SD_IG_HD int sd_fa_ldm_keys32(int lane, int n0, int c0, int ld) { return (n0 + lane) * ld + c0; }

/* Row stride (elements) of the K/V/Q tiles for a head dim dp (a multiple of 8): dp itself when
 * dp / 8 is odd (head_dim 40: no padding), else dp + 8. */
static SD_FA_CX int sd_fa_ld(int dp) { return ((dp / 8) & 1) ? dp : dp + 8; }

/* Dynamic shared memory of the v3 flash kernel: 2 stages x (K, V) x 64 keys x ld x 2 bytes (the
 * 128-row Q tile is staged in the stage-1 area, which is exactly 128 x ld). */
static SD_FA_CX int sd_fa_smem_bytes(int dp) { return 2 * 2 * 64 * sd_fa_ld(dp) * 2; }

/* ---- wide-head flash (head_dim 161..512: the VAE's 512; attention.cu, flashw_kernel) ----------
 * O (fp32) for 16 rows x 512 columns would need 256 registers per thread, so the head dim is
 * split over the warps instead of the rows: a block of SD_FW_WARPS = 8 warps takes SD_FW_BR = 32
 * query rows and 32-key tiles; warp w owns the head-dim slice [64w, 64w + 64):
 *   S part:  S_w = Q[:, slice] K[:, slice]^T (32 x 32, Q's slice kept in registers), written as
 *            fp32 to its shared partial [w][32 rows][SD_FW_SPLD];
 *   softmax: thread tid owns row tid / 8 and keys 4 (tid % 8) .. +3: sums the 8 partials (in
 *            warp order), online softmax (8 lanes per row), P (16-bit) -> [32][SD_FW_PLD],
 *            the row's rescale factor -> alpha[row];
 *   P V:     O[:, slice] = alpha O + P V[:, slice] (P through ldmatrix.x4, V through .trans).
 * Row strides: Q/K/V sd_fa_ld(512) = 520 (65 16-byte units: odd, conflict-free ldmatrix), P 40
 * (5 units), S partials 40 floats (float2 stores of a fragment: 2 wavefronts, the minimum).
 * Shared memory (bytes): Q, K, V [32][520] 16-bit, S partials, P, alpha[32], l[32]. */
#define SD_FW_DP 512
#define SD_FW_BR 32
#define SD_FW_BC 32
#define SD_FW_WARPS 8
#define SD_FW_SPLD 40
#define SD_FW_PLD 40

/* float index of S partial element (row, col) of warp w */
static SD_IG_HD int sd_fw_sp(int w, int row, int col) { return (w * SD_FW_BR + row) * SD_FW_SPLD + col; }
/* byte offsets in the dynamic shared memory */
static SD_FA_CX int sd_fw_tile_bytes(void) { return SD_FW_BR * sd_fa_ld(SD_FW_DP) * 2; }
static SD_FA_CX int sd_fw_off_sp(void) { return 3 * sd_fw_tile_bytes(); }
static SD_FA_CX int sd_fw_off_p(void) { return sd_fw_off_sp() + SD_FW_WARPS * SD_FW_BR * SD_FW_SPLD * 4; }
static SD_FA_CX int sd_fw_off_alpha(void) { return sd_fw_off_p() + SD_FW_BR * SD_FW_PLD * 2; }
static SD_FA_CX int sd_fw_smem_bytes(void) { return sd_fw_off_alpha() + 2 * SD_FW_BR * 4; }

#endif
