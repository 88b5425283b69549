/* igemm_layout.h — the index arithmetic of the v3 tensor-core GEMM (igemm.cuh), in plain C so the
 * same functions run in the kernel (nvcc: __host__ __device__) and in the host unit test
 * (tests/test_cuda_kernels_host.c), which emulates loader -> swizzled shared memory -> ldmatrix ->
 * mma.sync fragments -> epilogue against an fp64 product. A wrong index here fails that test
 * without a GPU.
 *
 * Shared-memory tiles (16-bit elements, one k-tile of SD_IG_BK = 32):
 *   A: BM rows x 32 k, row-major, 64-byte rows = 4 chunks of 16 bytes (8 elements).
 *      Chunk c of row r is stored at chunk c ^ ((r >> 1) & 3). An ldmatrix phase reads the same
 *      logical chunk of 8 consecutive rows; the 8 rows then hit 8 different 16-byte bank groups of
 *      a 128-byte line ((r & 1) picks the half line, the XOR the chunk), so no bank conflict.
 *   B: 32 k-rows x BN n, row-major (BN >= 64): chunk c of k-row k is stored at c ^ (k & 7) (the
 *      XOR touches the low 3 bits only, i.e. within each 128-byte group of 8 chunks); 8
 *      consecutive k-rows of one logical chunk land in 8 different bank groups.
 * Fragments (PTX ISA, mma.m16n8k16, g = lane >> 2, t = lane & 3):
 *   A 16x16 at (r0, k0) = one ldmatrix.x4: matrix i = lanes 8i..8i+7 give the row addresses of
 *     rows r0 + (lane & 7) + 8 * (i & 1), chunk k0/8 + (i >> 1); registers 0..3 are then exactly
 *     a0 (rows 0-7, k 0-7), a1 (rows 8-15, k 0-7), a2 (rows 0-7, k 8-15), a3 (rows 8-15, k 8-15).
 *   B two n8 tiles x k16 at (k0, n0) = one ldmatrix.x4.trans: matrix i covers k-rows
 *     k0 + (lane & 7) + 8 * (i & 1), n chunk n0/8 + (i >> 1); the transpose hands thread T the
 *     pair B[k0+2t, +1][n0+g] = the col-major B fragment: registers = b[n0][0], b[n0][1],
 *     b[n0+8][0], b[n0+8][1].
 */
#ifndef SDMARK_IGEMM_LAYOUT_H
#define SDMARK_IGEMM_LAYOUT_H

#ifdef __CUDACC__
#define SD_IG_HD __host__ __device__ __forceinline__
#else
#define SD_IG_HD inline
#endif

#define SD_IG_BK 32

/* element offset of logical (row r, 16-byte chunk c) in an A stage (BM x 32) */
static SD_IG_HD int sd_ig_a_off(int r, int c) { return r * SD_IG_BK + ((c ^ ((r >> 1) & 3)) << 3); }

/* element offset of logical (k-row k, chunk c) in a B stage (32 x bn), bn a multiple of 64 */
static SD_IG_HD int sd_ig_b_off(int k, int c, int bn) { return k * bn + ((c ^ (k & 7)) << 3); }

/* the address (element offset) this lane passes to ldmatrix.x4 for the A fragment at (r0, k0) */
static SD_IG_HD int sd_ig_a_ldm(int lane, int r0, int k0)
{
    const int i = lane >> 3;
    return sd_ig_a_off(r0 + (lane & 7) + ((i & 1) << 3), (k0 >> 3) + (i >> 1));
}

/* the address this lane passes to ldmatrix.x4.trans for the B fragments of n-tiles n0, n0 + 8 */
static SD_IG_HD int sd_ig_b_ldm(int lane, int k0, int n0, int bn)
{
    const int i = lane >> 3;
    return sd_ig_b_off(k0 + (lane & 7) + ((i & 1) << 3), (n0 >> 3) + (i >> 1), bn);
}

/* Loader: 16-byte chunk number ci of a stage -> (row, chunk) of the A tile / B tile. */
static SD_IG_HD void sd_ig_a_chunk(int ci, int *row, int *c)
{
    *row = ci >> 2;
    *c = ci & 3;
}
static SD_IG_HD void sd_ig_b_chunk(int ci, int bn, int *k, int *c)
{
    *k = ci / (bn >> 3);
    *c = ci - *k * (bn >> 3);
}

/* ---- tile configurations of the v3 kernel, and the choice per shape ----------------------- */
struct sd_ig_tile {
    int bm, bn;       /* block tile */
    int wm, wn;       /* warps along m and n (threads = 32 * wm * wn) */
    int stages;       /* cp.async pipeline depth */
    int blocks_per_sm; /* resident blocks per SM the choice assumes (registers / shared memory) */
    double eff;       /* relative efficiency of one tile (fragment reuse), 128x128 = 1 */
};
enum { SD_IG_TILE_128x128 = 0, SD_IG_TILE_64x128 = 1, SD_IG_TILE_64x64 = 2, SD_IG_NTILES = 3 };
/* warp tiles: 64x64 (4 x 8 mma tiles), 32x64, 32x32. Shared memory (static, <= 48 KiB):
 * stages * (bm + bn) * 32 * 2 bytes = 48 KiB, 48 KiB, 32 KiB. */
static const struct sd_ig_tile sd_ig_tiles[SD_IG_NTILES] = {
    {128, 128, 2, 2, 3, 2, 1.00},
    {64, 128, 2, 2, 4, 3, 0.80},
    {64, 64, 2, 2, 4, 4, 0.60},
};

/* The tile with the least estimated time for C[m,n] (x batch) on `sms` multiprocessors: waves of
 * (sms * blocks_per_sm) blocks, each wave as long as blocks_per_sm tiles of bm*bn/eff. Grid:
 * x = m tiles (limit 2^31 - 1), y = n tiles (limit 65535), z = batch (limit 65535); a tile whose
 * grid does not fit is skipped. Returns the index into sd_ig_tiles, or -1 if none fits. */
static inline int sd_ig_choose_tile(long long m, long long n, long long k, long long batch, int sms)
{
    int best = -1;
    double best_t = 0;
    (void)k; /* every tile walks the same k; the wave count decides */
    if (sms < 1)
        sms = 1;
    for (int i = 0; i < SD_IG_NTILES; i++) {
        const struct sd_ig_tile *t = &sd_ig_tiles[i];
        long long tm = (m + t->bm - 1) / t->bm, tn = (n + t->bn - 1) / t->bn;
        if (tm > 2147483647LL || tn > 65535 || batch > 65535)
            continue;
        long long blocks = tm * tn * batch, slots = (long long)sms * t->blocks_per_sm;
        long long waves = (blocks + slots - 1) / slots;
        double time = (double)waves * t->blocks_per_sm * t->bm * t->bn / t->eff;
        if (best < 0 || time < best_t) {
            best = i;
            best_t = time;
        }
    }
    return best;
}

#endif
