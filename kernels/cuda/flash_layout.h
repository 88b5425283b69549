/* flash_layout.h — ldmatrix lane addresses of the v3 flash kernel (attention.cu), in plain C so
 * tests/test_cuda_kernels_host.c can emulate the fragments against fp64 without a GPU.
 * Buffers are row-major with a padded row stride ld (elements; ld = DP + 8, an odd number of
 * 16-byte units, so the 8 rows of an ldmatrix phase hit 8 different bank groups). */
#ifndef SDMARK_FLASH_LAYOUT_H
#define SDMARK_FLASH_LAYOUT_H

#include "igemm_layout.h" /* SD_IG_HD */

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

#endif
