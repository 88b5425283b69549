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

/* operand modes of igemm3_kernel: dense GEMM (B row-major [k][n]), conv with B the im2col view
 * of an NCHW image (v3), conv with A gathered from an NHWC image and B the KRSC filter (v4) */
enum { SD_IG3_DENSE = 0, SD_IG3_NCHW = 1, SD_IG3_NHWC = 2 };

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

/* The A (and K-major B) ldmatrix address of k16 step h from that of step 0, in BYTES: the chunk
 * goes from c to c + 2 (c in 0..1) = c ^ 2, and the swizzle XORs only the chunk bits, so the
 * address XORs with 2 chunks = 32 bytes. Valid on top of any base that is a multiple of 64 bytes
 * (stage offsets, the 128-aligned buffers). Checked by the host test. */
static SD_IG_HD unsigned sd_ig_k16_step(unsigned addr_bytes, int h) { return addr_bytes ^ ((unsigned)h << 5); }

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

/* ---- NHWC implicit-GEMM conv (conv v4, igemm3_kernel with MODE SD_IG3_NHWC) -----------------
 * GEMM view: M = batch*out_h*out_w output pixels (all images in one grid: the filter is shared),
 * N = c_out, K = r*s*c_in in (ri, si, ci) order: filter taps outer, channels inner. The filter in
 * KRSC is then B stored [N][K] (K contiguous) and the output [M][N] is Y in NHWC.
 *   A tile: the dense A layout (sd_ig_a_off); chunk (row, c) = 8 consecutive channels of one tap
 *     of one pixel, 16 contiguous bytes in NHWC when c_in % 8 == 0: one cp.async, zero filled
 *     outside the image (padding) and past K.
 *   B tile (K-major): BN rows (n) x 32 k in the A layout; fragments by plain ldmatrix.x4: matrix
 *     i covers rows n0 + (lane & 7) + 8 * (i >> 1), chunk k0/8 + (i & 1), so the registers are
 *     b[n0][0], b[n0][1], b[n0+8][0], b[n0+8][1] (the B fragment holds B[k=2t..][n=g], i.e. row g,
 *     elements 2t, 2t+1 of the [n][k] matrix: no transpose). Same bank pattern as A.
 * Each thread owns the same chunk column c of BM*4/THREADS pixel rows in every k-tile, so it
 * walks one filter tap cursor (struct sd_ig_tap) by 32 channels per k-tile: additions and
 * compares only, no division in the loop (the divisions are in the _init functions, once). */
struct sd_ig_pix {
    int base;     /* element offset of X[z][ih0][iw0][0] (negative or past the end is fine: only
                   * offsets that pass sd_ig_nhwc_src are dereferenced) */
    int ih0, iw0; /* top-left input coordinate of the pixel's receptive field */
};
struct sd_ig_tap {
    int ci, si, ri; /* channel, filter column, filter row of the cursor */
    int toff;       /* (ri * in_w + si) * c_in + ci: offset from the pixel's base */
};
struct sd_ig_nhwc_geom {
    int c_in, in_h, in_w, out_w, hw, r, s, stride, pad; /* hw = out_h * out_w */
};

/* the B (K-major) address this lane passes to plain ldmatrix.x4 for the n-tiles n0, n0 + 8 */
static SD_IG_HD int sd_ig_bk_ldm(int lane, int k0, int n0)
{
    const int i = lane >> 3;
    return sd_ig_a_off(n0 + (lane & 7) + ((i >> 1) << 3), (k0 >> 3) + (i & 1));
}

/* pixel row pm of the GEMM (m rows in all); rows past m can never be valid */
static SD_IG_HD void sd_ig_pix_init(struct sd_ig_pix *p, long long pm, long long m,
                                    const struct sd_ig_nhwc_geom *g)
{
    if (pm >= m) {
        p->base = 0;
        p->ih0 = -(1 << 30); /* ih0 + ri < 0 for every tap */
        p->iw0 = 0;
        return;
    }
    const int z = (int)(pm / g->hw), q = (int)(pm - (long long)z * g->hw), oh = q / g->out_w;
    p->ih0 = oh * g->stride - g->pad;
    p->iw0 = (q - oh * g->out_w) * g->stride - g->pad;
    p->base = ((z * g->in_h + p->ih0) * g->in_w + p->iw0) * g->c_in;
}

/* the cursor at GEMM column k (k % 8 == 0) */
static SD_IG_HD void sd_ig_tap_init(struct sd_ig_tap *t, int k, const struct sd_ig_nhwc_geom *g)
{
    const int tap = k / g->c_in;
    t->ci = k - tap * g->c_in;
    t->ri = tap / g->s;
    t->si = tap - t->ri * g->s;
    t->toff = (t->ri * g->in_w + t->si) * g->c_in + t->ci;
}

/* the cursor one k-tile (32 columns) later: the next channels, or the next tap (s, then r). The
 * loop runs at most once when c_in >= 32 (every SD conv), more often for c_in 8 or 16. */
static SD_IG_HD void sd_ig_tap_next(struct sd_ig_tap *t, const struct sd_ig_nhwc_geom *g)
{
    t->ci += SD_IG_BK;
    t->toff += SD_IG_BK; /* next tap: -c_in for the channel, +c_in for the column: unchanged */
    while (t->ci >= g->c_in) {
        t->ci -= g->c_in;
        if (++t->si == g->s) {
            t->si = 0;
            t->ri++;
            t->toff += (g->in_w - g->s) * g->c_in; /* next filter row: one input row down */
        }
    }
}

/* *off = element offset in X of the 8-channel chunk at cursor t for pixel p; returns 0 when the
 * chunk is outside the image (padding) or past K: the loader zero-fills it */
static SD_IG_HD int sd_ig_nhwc_src(const struct sd_ig_pix *p, const struct sd_ig_tap *t,
                                   const struct sd_ig_nhwc_geom *g, int *off)
{
    *off = p->base + t->toff;
    return t->ri < g->r && (unsigned)(p->ih0 + t->ri) < (unsigned)g->in_h &&
           (unsigned)(p->iw0 + t->si) < (unsigned)g->in_w;
}

/* ---- tile configurations of the v3 kernel, and the choice per shape ----------------------- */
struct sd_ig_tile {
    int bm, bn;       /* block tile */
    int wm, wn;       /* warps along m and n (threads = 32 * wm * wn) */
    int stages;       /* cp.async pipeline depth */
    int blocks_per_sm; /* resident blocks per SM the choice assumes (registers / shared memory) */
    double eff;       /* relative efficiency of one tile (fragment reuse), 128x128 = 1 */
    int split_ok;     /* has a split-K instantiation (128x128 has none: its registers are full) */
};
enum { SD_IG_TILE_128x128 = 0, SD_IG_TILE_64x128 = 1, SD_IG_TILE_64x64 = 2, SD_IG_NTILES = 3 };
/* warp tiles: 64x64 (4 x 8 mma tiles), 32x64, 32x32. Shared memory (static, <= 48 KiB):
 * stages * (bm + bn) * 32 * 2 bytes = 48 KiB, 48 KiB, 32 KiB. */
static const struct sd_ig_tile sd_ig_tiles[SD_IG_NTILES] = {
    {128, 128, 2, 2, 3, 2, 1.00, 0},
    {64, 128, 2, 2, 4, 3, 0.80, 1},
    {64, 64, 2, 2, 4, 4, 0.60, 1},
};

/* Split-K: a k-split s > 1 runs s blocks per output tile (grid z = batch * s), each over
 * ceil(kt / s) of the kt k-tiles, and the last block of each tile to finish sums the fp32
 * partials (igemm.cuh, ig3_splitk). Worth it where the tiles alone leave SMs idle (m = 154 text
 * context, small late-UNet images). Cost model, in k-tiles of the tile (estimates a GPU run
 * should calibrate, like blocks_per_sm / eff): writing the partial ~ 1, the last block reading
 * s partials ~ s / 2. A split keeps at least SD_IG_SPLIT_MIN_KT k-tiles per block and no empty
 * k-range. */
#define SD_IG_MAX_SPLIT 16
#define SD_IG_SPLIT_MIN_KT 3

/* k-tiles per split, or 0 if split s is not allowed for kt k-tiles */
static inline int sd_ig_split_per(long long kt, int s)
{
    const long long per = (kt + s - 1) / s;
    if (s < 1 || (s > 1 && (per < SD_IG_SPLIT_MIN_KT || (s - 1) * per >= kt)))
        return 0;
    return (int)per;
}

/* Workspace of tile config `tile` with split s for C[m,n] x batch: s fp32 partial tiles per
 * output tile, then one 32-bit counter per output tile. 0 when s <= 1. */
static inline unsigned long long sd_ig_splitk_ws_bytes(int tile, long long m, long long n, long long batch, int s)
{
    if (s <= 1 || tile < 0 || tile >= SD_IG_NTILES)
        return 0;
    const struct sd_ig_tile *t = &sd_ig_tiles[tile];
    const unsigned long long tiles = (unsigned long long)((m + t->bm - 1) / t->bm) *
                                     (unsigned long long)((n + t->bn - 1) / t->bn) * (unsigned long long)batch;
    return tiles * (unsigned long long)s * (unsigned long long)(t->bm * t->bn) * 4ull + tiles * 4ull;
}

/* An SM is taken to run SD_IG_BSAT resident blocks as fast as one (latency-bound below that),
 * and more blocks proportionally slower (throughput-bound), up to blocks_per_sm per wave. */
#define SD_IG_BSAT 2

/* The tile and k-split (1..max_split) with the least estimated time for C[m,n] (x batch), k deep,
 * on `sms` multiprocessors: full waves of (sms * blocks_per_sm) blocks, each as long as
 * blocks_per_sm tiles, then the last wave as long as max(its blocks per SM, SD_IG_BSAT) tiles; a
 * tile is bm*bn/eff times the k-tiles of one split (plus the split-K cost above).
 * Grid: x = m tiles (limit 2^31 - 1), y = n tiles (limit 65535), z = batch * split (limit 65535);
 * a choice whose grid does not fit is skipped. Returns the index into sd_ig_tiles (and *split),
 * or -1 if none fits. Ties keep the earlier tile / the smaller split. */
static inline int sd_ig_choose(long long m, long long n, long long k, long long batch, int sms, int max_split,
                               int *split)
{
    int best = -1, best_s = 1;
    double best_t = 0;
    const long long kt = (k + SD_IG_BK - 1) / SD_IG_BK;
    if (sms < 1)
        sms = 1;
    for (int i = 0; i < SD_IG_NTILES; i++) {
        const struct sd_ig_tile *t = &sd_ig_tiles[i];
        long long tm = (m + t->bm - 1) / t->bm, tn = (n + t->bn - 1) / t->bn;
        if (tm > 2147483647LL || tn > 65535)
            continue;
        for (int s = 1; s <= (max_split > 1 && t->split_ok ? max_split : 1); s++) {
            const int per = sd_ig_split_per(kt, s);
            if (per == 0 || batch * s > 65535)
                continue;
            const long long blocks = tm * tn * batch * s, slots = (long long)sms * t->blocks_per_sm;
            const long long waves = (blocks + slots - 1) / slots;
            const long long last = (blocks - (waves - 1) * slots + sms - 1) / sms; /* per SM */
            const double ktiles = per + (s > 1 ? 1.0 + s / 2.0 : 0.0);
            const double time = (double)((waves - 1) * t->blocks_per_sm + (last > SD_IG_BSAT ? last : SD_IG_BSAT)) *
                                t->bm * t->bn / t->eff * ktiles;
            if (best < 0 || time < best_t) {
                best = i;
                best_s = s;
                best_t = time;
            }
        }
    }
    if (split)
        *split = best_s;
    return best;
}

/* The tile without split-K (the launchers' choice when the host did not plan one). */
static inline int sd_ig_choose_tile(long long m, long long n, long long k, long long batch, int sms)
{
    return sd_ig_choose(m, n, k, batch, sms, 1, (int *)0);
}

#endif
