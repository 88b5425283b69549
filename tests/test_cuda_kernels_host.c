/* test_cuda_kernels_host.c — the index arithmetic of the own CUDA GEMM (v3, kernels/cuda/igemm.cuh
 * with kernels/cuda/igemm_layout.h), checked on the host without a GPU:
 *   - the swizzled shared-memory layouts are bijections and every ldmatrix phase is free of bank
 *     conflicts; the loader's chunk walk covers every chunk of a stage exactly once;
 *   - an emulation of the whole kernel (loader -> swizzled stages of the cp.async ring ->
 *     ldmatrix / ldmatrix.trans -> mma.sync m16n8k16 fragment layouts -> epilogue), written to
 *     mirror the kernel's loops, reproduces an fp64 product exactly at edge shapes, for every tile
 *     configuration; deliberately broken variants (unswizzled A read, B read without .trans, a
 *     pipeline writing the stage it reads) fail the same comparison;
 *   - the conv variant (im2col gather with incremental filter taps into the same swizzled B
 *     layout) against a direct fp64 convolution, with padding, stride 2, 5x5, partial tiles;
 *   - the NHWC conv (v4: A gathered from an NHWC image by 8-channel chunks with a division-free
 *     tap cursor, the KRSC filter as a K-major B through plain ldmatrix, clamped filter rows)
 *     against a direct fp64 convolution (c_in 8..64, stride 2, 5x5, 1x1 stride 2, tiny images,
 *     batches, c_out 4..136; every formed address inside the buffers);
 *     a cursor without the filter-row step and a K-major B read with the A lane pattern fail; the
 *     cursor walk equals the divided position at every k-tile; the XOR k16 step and constant
 *     n-pair offsets the kernel's ldmatrix addresses use; the host's layout choice per shape;
 *   - split-K: blocks of a tile over their k-ranges in a shuffled arrival order, partial slots
 *     in fragment order, the last block (atomic counter) summing them in split order and
 *     resetting the counter, against fp64; overlapping ranges and "the first block stores" fail;
 *   - the tile and k-split choice per shape (the host plan, sd_cuda_igemm_plan);
 *   - the v3 flash kernel's fragments (kernels/cuda/flash_layout.h): Q from ldmatrix, S = Q K^T
 *     with K through ldmatrix, P re-packed from the S accumulators into A fragments, O = P V with
 *     V through ldmatrix.trans, at every padded head dim, against fp64 (and a wrong K pattern
 *     fails);
 *   - the wide-head flash kernel (head_dim 512: the head dim split over 8 warps): S parts per
 *     warp slice -> shared partials -> row-owner sums, P -> ldmatrix, V slices, against fp64
 *     (a reduction without the warp stride and a V read without the slice offset fail).
 * On a GPU the verify step of every run is the final word; this test catches index bugs first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../kernels/cuda/flash_layout.h"
#include "../kernels/cuda/igemm_layout.h"
#include "../src/backends/cuda/cuda_plan.h"
#include "sdmark/workload.h"

enum {
    BROKEN_NONE = 0, BROKEN_A_NOSWIZZLE, BROKEN_B_NOTRANS, BROKEN_STAGE, BROKEN_CONV_TAP,
    BROKEN_NHWC_TAP,  /* NHWC tap cursor without the filter-row step */
    BROKEN_NHWC_BLDM, /* K-major B read with the A lane pattern */
    BROKEN_SPLIT_OVERLAP, /* split-K k-ranges overlapping by one k-tile */
    BROKEN_SPLIT_FIRST,   /* split-K: the first block to arrive stores the tile */
};
#define EMU_THREADS 128 /* every v3 tile has 2 x 2 warps */
#define EMU_MAXR 4      /* NHWC chunks per thread (bm * 4 / 128, bn * 4 / 128) */

/* conv geometry (cuda_plan.h): B[kk][p] = X[ci][oh*stride - pad + ri][ow*stride - pad + si] */
struct convp {
    int c_in, in_h, in_w, out_h, out_w, r, s, stride, pad;
};

/* ---- layouts ------------------------------------------------------------------------------ */

static void test_swizzle_bijective(void **state)
{
    (void)state;
    for (int ti = 0; ti < SD_IG_NTILES; ti++) {
        const struct sd_ig_tile *t = &sd_ig_tiles[ti];
        int na = t->bm * 4, nb = SD_IG_BK * t->bn / 8;
        char *seen = calloc((size_t)(na > nb ? na : nb), 1);
        assert_non_null(seen);
        for (int r = 0; r < t->bm; r++)
            for (int c = 0; c < 4; c++) {
                int off = sd_ig_a_off(r, c);
                assert_int_equal(off % 8, 0);
                assert_true(off >= r * 32 && off < r * 32 + 32); /* stays in its row */
                assert_int_equal(seen[off / 8]++, 0);
            }
        memset(seen, 0, (size_t)(na > nb ? na : nb));
        for (int k = 0; k < SD_IG_BK; k++)
            for (int c = 0; c < t->bn / 8; c++) {
                int off = sd_ig_b_off(k, c, t->bn);
                assert_true(off >= k * t->bn && off < (k + 1) * t->bn);
                assert_int_equal(seen[off / 8]++, 0);
            }
        free(seen);
    }
}

/* 8 lanes of one ldmatrix phase read 8 x 16 bytes: conflict free iff their 16-byte units fall
 * in 8 different positions of a 128-byte line. */
static int phase_conflicts(const int *addr_elems)
{
    for (int p = 0; p < 4; p++) {
        int used = 0;
        for (int j = 0; j < 8; j++) {
            int unit = (addr_elems[8 * p + j] * 2 / 16) % 8;
            if (used & (1 << unit))
                return 1;
            used |= 1 << unit;
        }
    }
    return 0;
}

static void test_ldmatrix_conflict_free(void **state)
{
    (void)state;
    for (int ti = 0; ti < SD_IG_NTILES; ti++) {
        const struct sd_ig_tile *t = &sd_ig_tiles[ti];
        const int wtm = t->bm / t->wm, wtn = t->bn / t->wn;
        int addr[32];
        for (int w = 0; w < t->wm * t->wn; w++)
            for (int h = 0; h < 2; h++) {
                const int wr = (w / t->wn) * wtm, wc = (w % t->wn) * wtn;
                for (int mt = 0; mt < wtm / 16; mt++) {
                    for (int l = 0; l < 32; l++) {
                        addr[l] = sd_ig_a_ldm(l, wr + mt * 16, h * 16);
                        /* the kernel adds 16 rows as a constant offset: the swizzle must allow it */
                        assert_int_equal(addr[l], sd_ig_a_ldm(l, wr, h * 16) + mt * 16 * SD_IG_BK);
                    }
                    assert_int_equal(phase_conflicts(addr), 0);
                }
                for (int np = 0; np < wtn / 16; np++) {
                    for (int l = 0; l < 32; l++)
                        addr[l] = sd_ig_b_ldm(l, h * 16, wc + np * 16, t->bn);
                    assert_int_equal(phase_conflicts(addr), 0);
                }
            }
        /* the unswizzled A layout does conflict: the check can fail */
        for (int l = 0; l < 32; l++)
            addr[l] = (l & 7) * SD_IG_BK + (l >> 3) * 8;
        assert_int_equal(phase_conflicts(addr), 1);
    }
}

/* the kernel's per-thread chunk walk (chunk 0 of the thread, then +THREADS/4 rows or
 * +THREADS/(bn/8) k-rows) covers every chunk of a stage exactly once */
static void test_loader_covers_stage(void **state)
{
    (void)state;
    for (int ti = 0; ti < SD_IG_NTILES; ti++) {
        const struct sd_ig_tile *t = &sd_ig_tiles[ti];
        const int thr = 32 * t->wm * t->wn, ach = t->bm * 4, bch = SD_IG_BK * t->bn / 8;
        assert_int_equal(ach % thr, 0);
        assert_int_equal(bch % thr, 0);
        char *sa = calloc((size_t)ach, 1), *sb = calloc((size_t)bch, 1);
        assert_non_null(sa);
        assert_non_null(sb);
        for (int tid = 0; tid < thr; tid++) {
            int r0, ac, k0, bc;
            sd_ig_a_chunk(tid, &r0, &ac);
            sd_ig_b_chunk(tid, t->bn, &k0, &bc);
            for (int i = 0; i < ach / thr; i++) {
                int r, c;
                sd_ig_a_chunk(tid + i * thr, &r, &c);
                assert_int_equal(r, r0 + i * (thr / 4));
                assert_int_equal(c, ac);
                sa[r * 4 + c]++;
            }
            for (int i = 0; i < bch / thr; i++) {
                int k, c;
                sd_ig_b_chunk(tid + i * thr, t->bn, &k, &c);
                assert_int_equal(k, k0 + i * (thr / (t->bn / 8)));
                assert_int_equal(c, bc);
                sb[k * (t->bn / 8) + c]++;
            }
        }
        for (int i = 0; i < ach; i++)
            assert_int_equal(sa[i], 1);
        for (int i = 0; i < bch; i++)
            assert_int_equal(sb[i], 1);
        free(sa);
        free(sb);
    }
}

/* ---- emulation of igemm3_kernel ----------------------------------------------------------- */

struct emu {
    const struct sd_ig_tile *t;
    int broken;
    int M, N, K;
    const float *A, *B; /* A[M][K], B[K][N], 16-bit values exactly representable in float */
    float *C;           /* C[M][N] */
    float *As, *Bs;     /* stages */
    float *acc;         /* [threads][MT][NT][4] */
    const struct convp *cv; /* conv: B is the im2col view of the image B[c_in][in_h][in_w] */
    /* NHWC conv (v4): A = gathered from the image A[batch][in_h][in_w][c_in], B = the filter
     * [c_out][K] (KRSC); the per-thread loader state of Ig3NhwcLoader */
    const struct sd_ig_nhwc_geom *ng;
    struct sd_ig_pix pix[EMU_THREADS][EMU_MAXR];
    struct sd_ig_tap tap[EMU_THREADS];
    int w_row[EMU_THREADS][EMU_MAXR];
};

/* the conv B gather of igemm3_kernel<..., CONV = true>, one thread */
static void emu_gather(struct emu *e, int bn, int st, int k0, int tid)
{
    const struct sd_ig_tile *t = e->t;
    const struct convp *cv = e->cv;
    const int thr = 32 * t->wm * t->wn, rpt = SD_IG_BK / (thr / t->bn), krem = e->K - k0;
    const int n_loc = tid % t->bn, r_beg = (tid / t->bn) * rpt, pvalid = bn + n_loc < e->N;
    int ih0 = 0, iw0 = 0;
    if (pvalid) {
        const int pcol = bn + n_loc, oh = pcol / cv->out_w, ow = pcol - oh * cv->out_w;
        ih0 = oh * cv->stride - cv->pad;
        iw0 = ow * cv->stride - cv->pad;
    }
    const int rs = cv->r * cv->s, kk = k0 + r_beg, ci = kk / rs;
    int si = kk - ci * rs, ri = si / cv->s;
    si -= ri * cv->s;
    long long rowoff = ((long long)ci * cv->in_h + ih0 + ri) * cv->in_w + iw0;
    int row_ok = pvalid && (unsigned)(ih0 + ri) < (unsigned)cv->in_h;
    float *dst = e->Bs + st * SD_IG_BK * t->bn + (n_loc & 7);
    for (int r = 0; r < rpt; r++) {
        float v = 0.f;
        if (row_ok && r_beg + r < krem && (unsigned)(iw0 + si) < (unsigned)cv->in_w)
            v = e->B[rowoff + si];
        dst[sd_ig_b_off(r_beg + r, n_loc >> 3, t->bn)] = v;
        if (++si == cv->s) {
            si = 0;
            rowoff += cv->in_w;
            if (++ri == cv->r) {
                ri = 0;
                if (e->broken != BROKEN_CONV_TAP)
                    rowoff += (long long)(cv->in_h - cv->r) * cv->in_w;
            }
            row_ok = pvalid && (unsigned)(ih0 + ri) < (unsigned)cv->in_h;
        }
    }
}

/* Ig3NhwcLoader's constructor, all threads of the block */
static void emu_nhwc_init(struct emu *e, int bm, int bn, int kb)
{
    const struct sd_ig_tile *t = e->t;
    const int ar = t->bm * 4 / EMU_THREADS, br = t->bn * 4 / EMU_THREADS, rstep = EMU_THREADS / 4;
    assert_true(ar <= EMU_MAXR && br <= EMU_MAXR);
    for (int tid = 0; tid < EMU_THREADS; tid++) {
        int row0, c;
        sd_ig_a_chunk(tid, &row0, &c);
        for (int i = 0; i < ar; i++)
            sd_ig_pix_init(&e->pix[tid][i], bm + row0 + i * rstep, e->M, e->ng);
        sd_ig_tap_init(&e->tap[tid], kb + c * 8, e->ng);
        for (int i = 0; i < br; i++) {
            const int n = bn + row0 + i * rstep;
            e->w_row[tid][i] = (n < e->N ? n : e->N - 1) * e->K + (c * 8 < e->K ? c * 8 : 0);
        }
    }
}

/* sd_ig_tap_next, or the broken cursor that forgets the step to the next filter row */
static void emu_tap_next(struct emu *e, struct sd_ig_tap *tp)
{
    if (e->broken != BROKEN_NHWC_TAP) {
        sd_ig_tap_next(tp, e->ng);
        return;
    }
    tp->ci += SD_IG_BK;
    tp->toff += SD_IG_BK;
    while (tp->ci >= e->ng->c_in) {
        tp->ci -= e->ng->c_in;
        if (++tp->si == e->ng->s) {
            tp->si = 0;
            tp->ri++;
        }
    }
}

/* Ig3NhwcLoader::load, all threads: 16-byte chunks (8 floats here) into the swizzled stages */
static void emu_nhwc_load(struct emu *e, int st, int k0)
{
    const struct sd_ig_tile *t = e->t;
    const int ar = t->bm * 4 / EMU_THREADS, br = t->bn * 4 / EMU_THREADS, rstep = EMU_THREADS / 4;
    const size_t nx = (size_t)e->M / e->ng->hw * e->ng->in_h * e->ng->in_w * e->ng->c_in;
    for (int tid = 0; tid < EMU_THREADS; tid++) {
        int row0, c;
        sd_ig_a_chunk(tid, &row0, &c);
        float *as = e->As + st * t->bm * SD_IG_BK + sd_ig_a_off(row0, c);
        float *bs = e->Bs + st * t->bn * SD_IG_BK + sd_ig_a_off(row0, c);
        for (int i = 0; i < ar; i++) {
            int off;
            const int ok = sd_ig_nhwc_src(&e->pix[tid][i], &e->tap[tid], e->ng, &off);
            const unsigned src = (unsigned)(ok ? off : 0);
            /* the kernel's address is inside the image even when not read; a broken cursor
             * may leave it: the emulation reads garbage (1e6) there */
            const int inside = (size_t)src + 8 <= nx;
            if (!inside)
                assert_int_equal(e->broken, BROKEN_NHWC_TAP);
            for (int x = 0; x < 8; x++)
                as[i * rstep * SD_IG_BK + x] = !ok ? 0.f : inside ? e->A[src + x] : 1e6f;
        }
        emu_tap_next(e, &e->tap[tid]);
        const int k_ok = c * 8 < e->K - k0, kk = k_ok ? k0 : 0;
        for (int i = 0; i < br; i++) {
            const unsigned src = (unsigned)(e->w_row[tid][i] + kk);
            assert_true((size_t)src + 8 <= (size_t)e->N * e->K);
            for (int x = 0; x < 8; x++)
                bs[i * rstep * SD_IG_BK + x] = k_ok ? e->B[src + x] : 0.f;
        }
    }
}

/* load_tile of the kernel, all threads of the block */
static void emu_load(struct emu *e, int bm, int bn, int st, int k0)
{
    const struct sd_ig_tile *t = e->t;
    const int thr = 32 * t->wm * t->wn, asz = t->bm * SD_IG_BK, bsz = SD_IG_BK * t->bn;
    const int krem = e->K - k0;
    if (e->ng) {
        emu_nhwc_load(e, st, k0);
        return;
    }
    for (int tid = 0; tid < thr; tid++) {
        int a_row0, a_c, b_k0, b_c;
        sd_ig_a_chunk(tid, &a_row0, &a_c);
        sd_ig_b_chunk(tid, t->bn, &b_k0, &b_c);
        for (int i = 0; i < asz / 8 / thr; i++) {
            const int row = a_row0 + i * (thr / 4);
            const int ok = bm + row < e->M && a_c * 8 < krem;
            float *dst = e->As + st * asz + sd_ig_a_off(row, a_c);
            for (int x = 0; x < 8; x++)
                dst[x] = ok ? e->A[(size_t)(bm + row) * e->K + k0 + a_c * 8 + x] : 0.f;
        }
        if (e->cv) {
            emu_gather(e, bn, st, k0, tid);
            continue;
        }
        for (int i = 0; i < bsz / 8 / thr; i++) {
            const int kr = b_k0 + i * (thr / (t->bn / 8));
            const int ok = bn + b_c * 8 < e->N && kr < krem;
            float *dst = e->Bs + st * bsz + sd_ig_b_off(kr, b_c, t->bn);
            for (int x = 0; x < 8; x++)
                dst[x] = ok ? e->B[(size_t)(k0 + kr) * e->N + bn + b_c * 8 + x] : 0.f;
        }
    }
}

/* ldmatrix.xN (trans = 0) / .xN.trans: out[lane][reg][half] from the lane addresses of the
 * N matrices (lanes 0 .. 8N-1; the others are not read) */
static void emu_ldmatrix_n(const float *buf, const int *addr, int trans, int n, float out[32][4][2])
{
    for (int T = 0; T < 32; T++)
        for (int i = 0; i < n; i++)
            for (int j = 0; j < 2; j++)
                out[T][i][j] = trans ? buf[addr[8 * i + 2 * (T % 4) + j] + T / 4]
                                     : buf[addr[8 * i + T / 4] + 2 * (T % 4) + j];
}
static void emu_ldmatrix(const float *buf, const int *addr, int trans, float out[32][4][2])
{
    emu_ldmatrix_n(buf, addr, trans, 4, out);
}

/* mma.sync m16n8k16 row.col: fragments -> matrices (PTX ISA layout) -> D += A B -> fragments */
static void emu_mma(float a[32][4][2], float b[32][2][2], float *acc, int stride)
{
    float Am[16][16], Bm[16][8];
    for (int T = 0; T < 32; T++) {
        const int g = T / 4, t = T % 4;
        for (int j = 0; j < 2; j++) {
            Am[g][2 * t + j] = a[T][0][j];
            Am[g + 8][2 * t + j] = a[T][1][j];
            Am[g][2 * t + 8 + j] = a[T][2][j];
            Am[g + 8][2 * t + 8 + j] = a[T][3][j];
            Bm[2 * t + j][g] = b[T][0][j];
            Bm[2 * t + 8 + j][g] = b[T][1][j];
        }
    }
    for (int T = 0; T < 32; T++) {
        const int g = T / 4, t = T % 4;
        for (int q = 0; q < 4; q++) {
            const int r = g + 8 * (q >> 1), c = 2 * t + (q & 1);
            double s = 0;
            for (int k = 0; k < 16; k++)
                s += (double)Am[r][k] * Bm[k][c];
            acc[(size_t)T * stride + q] += (float)s;
        }
    }
}

/* mma.sync m16n8k8 row.col: A 16x8 = a0 (row g, k 2t..), a1 (row g+8); B 8x8 = b0 (k 2t.., col g) */
static void emu_mma_k8(float a[32][2][2], float b[32][2], float *acc, int stride)
{
    float Am[16][8], Bm[8][8];
    for (int T = 0; T < 32; T++)
        for (int j = 0; j < 2; j++) {
            Am[T / 4][2 * (T % 4) + j] = a[T][0][j];
            Am[T / 4 + 8][2 * (T % 4) + j] = a[T][1][j];
            Bm[2 * (T % 4) + j][T / 4] = b[T][j];
        }
    for (int T = 0; T < 32; T++)
        for (int q = 0; q < 4; q++) {
            const int r = T / 4 + 8 * (q >> 1), c = 2 * (T % 4) + (q & 1);
            double sum = 0;
            for (int k = 0; k < 8; k++)
                sum += (double)Am[r][k] * Bm[k][c];
            acc[(size_t)T * stride + q] += (float)sum;
        }
}

/* one k-tile of one warp: the kernel's h / mt / np loops */
static void emu_warp_ktile(struct emu *e, int w, int rs)
{
    const struct sd_ig_tile *t = e->t;
    const int wtm = t->bm / t->wm, wtn = t->bn / t->wn, MT = wtm / 16, NT = wtn / 8;
    const int wr = (w / t->wn) * wtm, wc = (w % t->wn) * wtn;
    const int aoff = rs * t->bm * SD_IG_BK, boff = rs * SD_IG_BK * t->bn; /* stage offsets */
    static float af[8][32][4][2], bfr[16][32][2][2], r[32][4][2];
    int addr[32];
    for (int h = 0; h < SD_IG_BK / 16; h++) {
        for (int mt = 0; mt < MT; mt++) {
            /* the kernel: byte address (a0 + stage) ^ (32 h) + mt * 16 rows (sd_ig_k16_step) */
            for (int l = 0; l < 32; l++)
                addr[l] = e->broken == BROKEN_A_NOSWIZZLE
                              ? aoff + (wr + mt * 16 + (l & 7) + ((l >> 3) & 1) * 8) * SD_IG_BK + (h * 2 + (l >> 4)) * 8
                              : (int)sd_ig_k16_step(2u * (unsigned)(aoff + sd_ig_a_ldm(l, wr, 0)), h) / 2 +
                                    mt * 16 * SD_IG_BK;
            emu_ldmatrix(e->As, addr, 0, af[mt]);
        }
        for (int np = 0; np < NT / 2; np++) {
            for (int l = 0; l < 32; l++)
                if (!e->ng)
                    addr[l] = boff + sd_ig_b_ldm(l, h * 16, wc + np * 16, t->bn);
                else if (e->broken == BROKEN_NHWC_BLDM)
                    addr[l] = boff + sd_ig_a_ldm(l, wc + np * 16, h * 16);
                else /* K-major B: steps like A, n-pairs +16 rows */
                    addr[l] = (int)sd_ig_k16_step(2u * (unsigned)(boff + sd_ig_bk_ldm(l, 0, wc)), h) / 2 +
                              np * 16 * SD_IG_BK;
            emu_ldmatrix(e->Bs, addr, !e->ng && e->broken != BROKEN_B_NOTRANS, r);
            for (int T = 0; T < 32; T++)
                for (int j = 0; j < 2; j++) {
                    bfr[2 * np][T][0][j] = r[T][0][j];
                    bfr[2 * np][T][1][j] = r[T][1][j];
                    bfr[2 * np + 1][T][0][j] = r[T][2][j];
                    bfr[2 * np + 1][T][1][j] = r[T][3][j];
                }
        }
        const int per_thread = MT * NT * 4;
        for (int mt = 0; mt < MT; mt++)
            for (int nt = 0; nt < NT; nt++)
                emu_mma(af[mt], bfr[nt], e->acc + (size_t)(w * 32) * per_thread + (mt * NT + nt) * 4,
                        per_thread);
    }
}

static void emu_epilogue(struct emu *e, int bm, int bn)
{
    const struct sd_ig_tile *t = e->t;
    const int wtm = t->bm / t->wm, wtn = t->bn / t->wn, MT = wtm / 16, NT = wtn / 8;
    for (int tid = 0; tid < 32 * t->wm * t->wn; tid++) {
        const int w = tid / 32, lane = tid % 32, g = lane >> 2, tt = lane & 3;
        const int wr = (w / t->wn) * wtm, wc = (w % t->wn) * wtn;
        const float *acc = e->acc + (size_t)tid * MT * NT * 4;
        for (int mt = 0; mt < MT; mt++)
            for (int nt = 0; nt < NT; nt++)
                for (int h = 0; h < 2; h++) {
                    const int r = bm + wr + mt * 16 + g + h * 8, c = bn + wc + nt * 8 + 2 * tt;
                    if (r >= e->M)
                        continue;
                    if (c < e->N)
                        e->C[(size_t)r * e->N + c] = acc[(mt * NT + nt) * 4 + 2 * h];
                    if (c + 1 < e->N)
                        e->C[(size_t)r * e->N + c + 1] = acc[(mt * NT + nt) * 4 + 2 * h + 1];
                }
    }
}

/* one block: the kernel's prologue and multistage loop (stage ring rs / ws) */
/* one block's main loop over k-tiles kt0 .. kt0 + KT - 1 (all of them without split-K): the
 * kernel's prologue and multistage loop (stage ring rs / ws), accumulators in e->acc */
static void emu_mainloop(struct emu *e, int bm, int bn, int kt0, int KT)
{
    const struct sd_ig_tile *t = e->t;
    const int thr = 32 * t->wm * t->wn, S = t->stages, kb = kt0 * SD_IG_BK;
    memset(e->acc, 0, sizeof(float) * (size_t)thr * (t->bm / t->wm / 16) * (t->bn / t->wn / 8) * 4);
    if (e->ng)
        emu_nhwc_init(e, bm, bn, kb);
    for (int s = 0; s < S - 1; s++)
        if (s < KT)
            emu_load(e, bm, bn, s, kb + s * SD_IG_BK);
    int rs = 0, ws = S - 1;
    for (int kt = 0; kt < KT; kt++) {
        /* sequential emulation: the barrier is implicit; a wrong ring overwrites live data */
        if (kt + S - 1 < KT)
            emu_load(e, bm, bn, e->broken == BROKEN_STAGE ? rs : ws, kb + (kt + S - 1) * SD_IG_BK);
        for (int w = 0; w < t->wm * t->wn; w++)
            emu_warp_ktile(e, w, rs);
        rs = rs + 1 == S ? 0 : rs + 1;
        ws = ws + 1 == S ? 0 : ws + 1;
    }
}

/* the stages and accumulators of tile config e->t (emu_free releases them) */
static void emu_alloc(struct emu *e)
{
    const struct sd_ig_tile *t = e->t;
    e->As = calloc((size_t)t->stages * t->bm * SD_IG_BK, sizeof(float));
    e->Bs = calloc((size_t)t->stages * SD_IG_BK * t->bn, sizeof(float));
    e->acc = malloc(sizeof(float) * 32 * t->wm * t->wn * (t->bm / t->wm / 16) * (t->bn / t->wn / 8) * 4);
    assert_true(e->As && e->Bs && e->acc);
}
static void emu_free(struct emu *e)
{
    free(e->As);
    free(e->Bs);
    free(e->acc);
}

/* one block of the kernel without split-K */
static void emu_block(struct emu *e, int bm, int bn)
{
    emu_mainloop(e, bm, bn, 0, (e->K + SD_IG_BK - 1) / SD_IG_BK);
    emu_epilogue(e, bm, bn);
}

/* emulate C = A B for tile ti and count the elements that differ from fp64 */
static long emu_mismatches(int ti, int broken, int M, int N, int K)
{
    const struct sd_ig_tile *t = &sd_ig_tiles[ti];
    struct emu e = {.t = t, .broken = broken, .M = M, .N = N, .K = K};
    float *A = malloc(sizeof(float) * (size_t)M * K), *B = malloc(sizeof(float) * (size_t)K * N);
    float *C = malloc(sizeof(float) * (size_t)M * N);
    emu_alloc(&e);
    assert_true(A && B && C);
    unsigned seed = 12345u + (unsigned)(M * 31 + N * 7 + K);
    for (int i = 0; i < M * K; i++)
        A[i] = (float)((int)((seed = seed * 1103515245u + 12345u) >> 16) % 7 - 3);
    for (int i = 0; i < K * N; i++)
        B[i] = (float)((int)((seed = seed * 1103515245u + 12345u) >> 16) % 7 - 3);
    for (int i = 0; i < M * N; i++)
        C[i] = 1e30f; /* poison: an element never written is a mismatch */
    e.A = A;
    e.B = B;
    e.C = C;
    for (int bm = 0; bm < M; bm += t->bm)
        for (int bn = 0; bn < N; bn += t->bn)
            emu_block(&e, bm, bn);
    long bad = 0;
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double s = 0;
            for (int k = 0; k < K; k++)
                s += (double)A[(size_t)i * K + k] * B[(size_t)k * N + j];
            bad += C[(size_t)i * N + j] != (float)s; /* small integers: exact */
        }
    free(A);
    free(B);
    free(C);
    emu_free(&e);
    return bad;
}

/* edge shapes: partial block tiles in m and n, partial last k-tile, fewer k-tiles than stages */
static const int emu_shapes[][3] = {{150, 200, 72}, {20, 24, 24}, {130, 136, 136}};

static void test_emulated_kernel_matches_fp64(void **state)
{
    (void)state;
    for (int ti = 0; ti < SD_IG_NTILES; ti++)
        for (size_t s = 0; s < sizeof(emu_shapes) / sizeof(emu_shapes[0]); s++) {
            long bad = emu_mismatches(ti, BROKEN_NONE, emu_shapes[s][0], emu_shapes[s][1], emu_shapes[s][2]);
            if (bad)
                fprintf(stderr, "tile %d shape %dx%dx%d: %ld mismatches\n", ti, emu_shapes[s][0],
                        emu_shapes[s][1], emu_shapes[s][2], bad);
            assert_int_equal(bad, 0);
        }
}


/* emulate the conv kernel (weights W[c_out][c_in*r*s] as A, the image as B) against a direct
 * fp64 convolution; returns the mismatches */
static long emu_conv_mismatches(int ti, int broken, int c_out, const struct convp *cv)
{
    const struct sd_ig_tile *t = &sd_ig_tiles[ti];
    const int M = c_out, N = cv->out_h * cv->out_w, K = cv->c_in * cv->r * cv->s;
    struct emu e = {.t = t, .broken = broken, .M = M, .N = N, .K = K, .cv = cv};
    const size_t nx = (size_t)cv->c_in * cv->in_h * cv->in_w;
    float *W = malloc(sizeof(float) * (size_t)M * K), *X = malloc(sizeof(float) * nx);
    float *C = malloc(sizeof(float) * (size_t)M * N);
    emu_alloc(&e);
    assert_true(W && X && C);
    unsigned seed = 99u + (unsigned)(M * 31 + N * 7 + K);
    for (int i = 0; i < M * K; i++)
        W[i] = (float)((int)((seed = seed * 1103515245u + 12345u) >> 16) % 7 - 3);
    for (size_t i = 0; i < nx; i++)
        X[i] = (float)((int)((seed = seed * 1103515245u + 12345u) >> 16) % 7 - 3);
    for (int i = 0; i < M * N; i++)
        C[i] = 1e30f;
    e.A = W;
    e.B = X;
    e.C = C;
    for (int bm = 0; bm < M; bm += t->bm)
        for (int bn = 0; bn < N; bn += t->bn)
            emu_block(&e, bm, bn);
    long bad = 0;
    for (int co = 0; co < M; co++)
        for (int px = 0; px < N; px++) {
            const int oh = px / cv->out_w, ow = px % cv->out_w;
            double sum = 0;
            for (int ci = 0; ci < cv->c_in; ci++)
                for (int ri = 0; ri < cv->r; ri++)
                    for (int si = 0; si < cv->s; si++) {
                        const int ih = oh * cv->stride - cv->pad + ri, iw = ow * cv->stride - cv->pad + si;
                        if (ih < 0 || ih >= cv->in_h || iw < 0 || iw >= cv->in_w)
                            continue;
                        sum += (double)W[(size_t)co * K + (ci * cv->r + ri) * cv->s + si] *
                               X[((size_t)ci * cv->in_h + ih) * cv->in_w + iw];
                    }
            bad += C[(size_t)co * N + px] != (float)sum;
        }
    free(W);
    free(X);
    free(C);
    emu_free(&e);
    return bad;
}

static void test_emulated_conv_matches_fp64(void **state)
{
    (void)state;
    /* c_in, in_h, in_w, out_h, out_w, r, s, stride, pad (c_in*r*s % 8 == 0, as v3 requires) */
    static const struct convp cvs[] = {
        {8, 7, 9, 7, 9, 3, 3, 1, 1},     /* 3x3 same, K = 72 (partial k-tile), N = 63 */
        {16, 13, 11, 7, 6, 3, 3, 2, 1},  /* stride 2, K = 144 */
        {8, 6, 6, 6, 6, 5, 5, 1, 2},     /* 5x5, K = 200 */
        {32, 12, 12, 12, 12, 3, 3, 1, 1} /* N = 144: two n-tiles of 64/128 */
    };
    static const int c_outs[] = {20, 70, 9, 136};
    for (int ti = 0; ti < SD_IG_NTILES; ti++)
        for (size_t i = 0; i < sizeof(cvs) / sizeof(cvs[0]); i++) {
            long bad = emu_conv_mismatches(ti, BROKEN_NONE, c_outs[i], &cvs[i]);
            if (bad)
                fprintf(stderr, "conv tile %d case %zu: %ld mismatches\n", ti, i, bad);
            assert_int_equal(bad, 0);
        }
    for (int ti = 0; ti < SD_IG_NTILES; ti++)
        assert_true(emu_conv_mismatches(ti, BROKEN_CONV_TAP, 20, &cvs[0]) > 0);
}

/* emulate the NHWC conv kernel (conv v4: image NHWC as gathered A, filter KRSC as K-major B,
 * output NHWC) against a direct fp64 convolution; returns the mismatches */
static long emu_nhwc_mismatches(int ti, int broken, int batch, int c_out, const struct convp *cv)
{
    const struct sd_ig_tile *t = &sd_ig_tiles[ti];
    const struct sd_ig_nhwc_geom g = {cv->c_in, cv->in_h, cv->in_w, cv->out_w, cv->out_h * cv->out_w,
                                      cv->r, cv->s, cv->stride, cv->pad};
    const int M = batch * g.hw, N = c_out, K = cv->r * cv->s * cv->c_in;
    static struct emu e;
    memset(&e, 0, sizeof(e));
    e.t = t; e.broken = broken; e.M = M; e.N = N; e.K = K; e.ng = &g;
    const size_t nx = (size_t)batch * cv->in_h * cv->in_w * cv->c_in;
    float *X = malloc(sizeof(float) * nx), *W = malloc(sizeof(float) * (size_t)N * K);
    float *C = malloc(sizeof(float) * (size_t)M * N);
    emu_alloc(&e);
    assert_true(X && W && C);
    unsigned seed = 4242u + (unsigned)(M * 31 + N * 7 + K);
    for (size_t i = 0; i < nx; i++)
        X[i] = (float)((int)((seed = seed * 1103515245u + 12345u) >> 16) % 7 - 3);
    for (int i = 0; i < N * K; i++)
        W[i] = (float)((int)((seed = seed * 1103515245u + 12345u) >> 16) % 7 - 3);
    for (int i = 0; i < M * N; i++)
        C[i] = 1e30f;
    e.A = X;
    e.B = W;
    e.C = C;
    for (int bm = 0; bm < M; bm += t->bm)
        for (int bn = 0; bn < N; bn += t->bn)
            emu_block(&e, bm, bn);
    long bad = 0;
    for (int pm = 0; pm < M; pm++) {
        const int z = pm / g.hw, oh = pm % g.hw / cv->out_w, ow = pm % cv->out_w;
        for (int co = 0; co < N; co++) {
            double sum = 0;
            for (int ri = 0; ri < cv->r; ri++)
                for (int si = 0; si < cv->s; si++) {
                    const int ih = oh * cv->stride - cv->pad + ri, iw = ow * cv->stride - cv->pad + si;
                    if (ih < 0 || ih >= cv->in_h || iw < 0 || iw >= cv->in_w)
                        continue;
                    for (int ci = 0; ci < cv->c_in; ci++)
                        sum += (double)W[(size_t)co * K + (ri * cv->s + si) * cv->c_in + ci] *
                               X[(((size_t)z * cv->in_h + ih) * cv->in_w + iw) * cv->c_in + ci];
                }
            bad += C[(size_t)pm * N + co] != (float)sum;
        }
    }
    free(X);
    free(W);
    free(C);
    emu_free(&e);
    return bad;
}

static void test_emulated_nhwc_conv_matches_fp64(void **state)
{
    (void)state;
    /* c_in, in_h, in_w, out_h, out_w, r, s, stride, pad (c_in % 8 == 0, as v4 requires) */
    static const struct convp cvs[] = {
        {32, 7, 9, 7, 9, 3, 3, 1, 1},   /* one tap per k-tile, K = 288, partial m tiles */
        {8, 13, 11, 7, 6, 3, 3, 2, 1},  /* c_in 8: four taps per k-tile, stride 2, K = 72 */
        {16, 6, 6, 6, 6, 5, 5, 1, 2},   /* c_in 16, 5x5, K = 400 (partial last k-tile) */
        {40, 5, 4, 5, 4, 3, 3, 1, 1},   /* c_in 40: chunks of one k-tile span two taps */
        {64, 12, 12, 12, 12, 3, 3, 1, 1}, /* n = 136: clamped filter rows, two n-tiles */
        {24, 10, 10, 5, 5, 1, 1, 2, 0},   /* 1x1 stride 2 (not a plain GEMM): three chunks per tap */
        {16, 3, 3, 3, 3, 3, 3, 1, 1}      /* an image smaller than the window: mostly padding */
    };
    static const int c_outs[] = {20, 70, 9, 4, 136, 12, 8}, batches[] = {2, 3, 1, 2, 1, 3, 5};
    for (int ti = 0; ti < SD_IG_NTILES; ti++)
        for (size_t i = 0; i < sizeof(cvs) / sizeof(cvs[0]); i++) {
            long bad = emu_nhwc_mismatches(ti, BROKEN_NONE, batches[i], c_outs[i], &cvs[i]);
            if (bad)
                fprintf(stderr, "nhwc conv tile %d case %zu: %ld mismatches\n", ti, i, bad);
            assert_int_equal(bad, 0);
        }
    for (int ti = 0; ti < SD_IG_NTILES; ti++) {
        assert_true(emu_nhwc_mismatches(ti, BROKEN_NHWC_TAP, 2, 20, &cvs[0]) > 0);
        assert_true(emu_nhwc_mismatches(ti, BROKEN_NHWC_BLDM, 2, 20, &cvs[0]) > 0);
    }
}

/* the division-free tap walk equals the divided position at every k-tile; the k16 step and
 * n-pair identities the kernel's addressing relies on; K-major B phases are conflict free */
static void test_nhwc_index_identities(void **state)
{
    (void)state;
    static const int c_ins[] = {8, 16, 24, 32, 40, 320, 1280};
    for (size_t i = 0; i < sizeof(c_ins) / sizeof(c_ins[0]); i++) {
        const struct sd_ig_nhwc_geom g = {c_ins[i], 9, 11, 11, 99, 3, 3, 1, 1};
        for (int c8 = 0; c8 < 32; c8 += 8) {
            struct sd_ig_tap walk, ref;
            sd_ig_tap_init(&walk, c8, &g);
            for (int k = c8; k < 9 * g.c_in + 64; k += SD_IG_BK) {
                sd_ig_tap_init(&ref, k, &g);
                assert_int_equal(walk.ci, ref.ci);
                assert_int_equal(walk.si, ref.si);
                assert_int_equal(walk.ri, ref.ri);
                assert_int_equal(walk.toff, ref.toff);
                assert_int_equal(ref.toff, (ref.ri * g.in_w + ref.si) * g.c_in + ref.ci);
                sd_ig_tap_next(&walk, &g);
            }
        }
    }
    int addr[32];
    for (int l = 0; l < 32; l++)
        for (int r0 = 0; r0 < 128; r0 += 16) {
            assert_int_equal(2 * sd_ig_a_ldm(l, r0, 16), (int)sd_ig_k16_step(2u * (unsigned)sd_ig_a_ldm(l, r0, 0), 1));
            assert_int_equal(2 * sd_ig_bk_ldm(l, 16, r0), (int)sd_ig_k16_step(2u * (unsigned)sd_ig_bk_ldm(l, 0, r0), 1));
            assert_int_equal(sd_ig_bk_ldm(l, 0, r0), sd_ig_bk_ldm(l, 0, 0) + r0 * SD_IG_BK);
        }
    for (int h = 0; h < 2; h++)
        for (int n0 = 0; n0 < 128; n0 += 16) {
            for (int l = 0; l < 32; l++)
                addr[l] = sd_ig_bk_ldm(l, h * 16, n0);
            assert_int_equal(phase_conflicts(addr), 0);
        }
    /* pixels past m never load; a pixel's window is where the convolution puts it */
    const struct sd_ig_nhwc_geom g = {8, 10, 12, 6, 30, 3, 3, 2, 1};
    struct sd_ig_pix px;
    struct sd_ig_tap tp;
    int off;
    sd_ig_pix_init(&px, 60, 60, &g);
    for (int k = 0; k < 72; k += 8) {
        sd_ig_tap_init(&tp, k, &g);
        assert_int_equal(sd_ig_nhwc_src(&px, &tp, &g, &off), 0);
    }
    sd_ig_pix_init(&px, 30 + 6 + 2, 60, &g); /* image 1, oh 1, ow 2 */
    assert_int_equal(px.ih0, 1);
    assert_int_equal(px.iw0, 3);
    sd_ig_tap_init(&tp, 8 * (1 * 3 + 2) + 8, &g); /* ri 1, si 2, ci 8 - no: c_in 8 -> next tap */
    assert_int_equal(tp.ri, 2);
    assert_int_equal(tp.si, 0);
    assert_int_equal(sd_ig_nhwc_src(&px, &tp, &g, &off), 1);
    assert_int_equal(off, ((1 * 10 + 3) * 12 + 3) * 8);
}

/* the host's choice of the conv kernel layout (cuda_plan.c) for SD shapes */
static struct sd_workload conv_wl(int64_t batch, int64_t c_in, int64_t c_out, int64_t hw, int64_t r,
                                  int64_t stride, int64_t pad)
{
    struct sd_workload wl;
    sd_workload_init(&wl, SD_OP_CONV2D);
    wl.dtype = SD_FP16;
    wl.batch = batch; wl.c_in = c_in; wl.c_out = c_out; wl.h = wl.w = hw;
    wl.r = wl.s = r; wl.stride = stride; wl.pad = pad;
    return wl;
}

static void test_conv_plan_layout(void **state)
{
    (void)state;
    struct sd_cuda_igemm_args a;
    struct sd_cuda_launch l;
    char why[160];
    struct sd_workload wl = conv_wl(2, 320, 320, 64, 3, 1, 1); /* sd15 res3x3_320_320.64 */
    assert_int_equal(sd_cuda_conv_igemm_args(&wl, 4, &a), SD_IGEMM_CONV_NHWC);
    assert_true(a.m == 2 * 64 * 64 && a.n == 320 && a.k == 9 * 320 && a.batch == 1);
    assert_true(a.ldb == 9 * 320 && a.ldc == 320 && a.c_in == 320 && a.hw == 4096);
    assert_true(a.in_h == 64 && a.in_w == 64 && a.out_w == 64);
    assert_int_equal(sd_cuda_igemm_config(&a, &l, why, sizeof(why)), 0);
    assert_int_equal(l.variant, SD_IGEMM_CONV_NHWC_VEC);
    assert_true(sd_ig_choose_tile(a.m, a.n, a.k, a.batch, 132) >= 0);
    wl = conv_wl(2, 640, 640, 16, 3, 2, 1); /* down_s2.32: input 32x32 */
    assert_int_equal(sd_cuda_conv_igemm_args(&wl, 4, &a), SD_IGEMM_CONV_NHWC);
    assert_true(a.in_h == 32 && a.in_w == 32 && a.stride == 2 && a.m == 2 * 16 * 16);
    /* SDMARK_CUDA_CONV_KERNEL=3: NCHW v3 */
    wl = conv_wl(2, 320, 320, 64, 3, 1, 1);
    assert_int_equal(sd_cuda_conv_igemm_args(&wl, 3, &a), SD_IGEMM_CONV_NCHW);
    assert_true(a.m == 320 && a.n == 4096 && a.k == 2880 && a.batch == 2 && a.sb == 320 * 4096);
    assert_int_equal(sd_cuda_igemm_config(&a, &l, why, sizeof(why)), 0);
    assert_int_equal(l.variant, SD_IGEMM_CONV_VECA);
    /* conv_in (c_in 4): no 16-byte channel chunks -> NCHW */
    wl = conv_wl(2, 4, 320, 64, 3, 1, 1);
    assert_int_equal(sd_cuda_conv_igemm_args(&wl, 4, &a), SD_IGEMM_CONV_NCHW);
    /* 1x1: a plain GEMM over NCHW */
    wl = conv_wl(2, 320, 320, 64, 1, 1, 0);
    assert_int_equal(sd_cuda_conv_igemm_args(&wl, 4, &a), 0);
    assert_true(a.m == 320 && a.n == 4096 && a.k == 320 && a.batch == 2);
    /* an image or a filter too large for the kernel's 32-bit offsets -> NCHW */
    wl = conv_wl(64, 1024, 8, 256, 3, 1, 1);
    assert_int_equal(sd_cuda_conv_igemm_args(&wl, 4, &a), SD_IGEMM_CONV_NCHW);
    wl = conv_wl(1, 65536, 4096, 1, 3, 1, 1);
    assert_int_equal(sd_cuda_conv_igemm_args(&wl, 4, &a), SD_IGEMM_CONV_NCHW);
    /* the version switch: unset or junk -> default */
    assert_int_equal(sd_cuda_parse_version(NULL, 4, 1, 4), 4);
    assert_int_equal(sd_cuda_parse_version("3", 4, 1, 4), 3);
    assert_int_equal(sd_cuda_parse_version("9", 4, 1, 4), 4);
}

/* Split-K (igemm3_kernel<..., SPLITK = true>, ig3_splitk): the blocks of one output tile run
 * their k-ranges in an order where the last to arrive is not the last range; each writes its
 * accumulators to its slot (fragment order: float4 j of thread tid at j * THREADS + tid), the
 * counter picks the last block, which sums the slots in order 0..split-1, stores the tile and
 * resets the counter. Returns the mismatches against fp64 (and -1000 if a counter is left set). */
static long emu_splitk_mismatches(int ti, int split, int broken, int M, int N, int K)
{
    const struct sd_ig_tile *t = &sd_ig_tiles[ti];
    const int thr = EMU_THREADS, J = (t->bm / t->wm / 16) * (t->bn / t->wn / 8), KTA = (K + SD_IG_BK - 1) / SD_IG_BK;
    const int per = (KTA + split - 1) / split; /* the kernel's k-range per split */
    struct emu e = {.t = t, .broken = broken, .M = M, .N = N, .K = K};
    float *A = malloc(sizeof(float) * (size_t)M * K), *B = malloc(sizeof(float) * (size_t)K * N);
    float *C = malloc(sizeof(float) * (size_t)M * N), *slots = malloc(sizeof(float) * (size_t)split * J * thr * 4);
    emu_alloc(&e);
    assert_true(A && B && C && slots);
    unsigned seed = 777u + (unsigned)(M * 31 + N * 7 + K);
    for (int i = 0; i < M * K; i++)
        A[i] = (float)((int)((seed = seed * 1103515245u + 12345u) >> 16) % 7 - 3);
    for (int i = 0; i < K * N; i++)
        B[i] = (float)((int)((seed = seed * 1103515245u + 12345u) >> 16) % 7 - 3);
    for (int i = 0; i < M * N; i++)
        C[i] = 1e30f;
    e.A = A;
    e.B = B;
    e.C = C;
    long bad = 0;
    for (int bm = 0; bm < M; bm += t->bm)
        for (int bn = 0; bn < N; bn += t->bn) {
            unsigned cnt = 0;
            for (int o = 0; o < split; o++) {
                const int ks = (o + 1) % split; /* range 0 arrives last */
                int kt0 = ks * per;
                if (broken == BROKEN_SPLIT_OVERLAP && ks > 0)
                    kt0--;
                const int nkt = per < KTA - kt0 ? per : (KTA - kt0 > 0 ? KTA - kt0 : 0);
                emu_mainloop(&e, bm, bn, kt0, nkt);
                for (int tid = 0; tid < thr; tid++)
                    for (int j = 0; j < J; j++)
                        memcpy(slots + (((size_t)ks * J + j) * thr + tid) * 4, e.acc + ((size_t)tid * J + j) * 4,
                               4 * sizeof(float));
                const int last = cnt++ == (unsigned)split - 1;
                if (!(broken == BROKEN_SPLIT_FIRST ? o == 0 : last))
                    continue;
                memset(e.acc, 0, sizeof(float) * thr * J * 4);
                for (int sl = 0; sl < split; sl++)
                    for (int tid = 0; tid < thr; tid++)
                        for (int j = 0; j < J; j++)
                            for (int q = 0; q < 4; q++)
                                e.acc[((size_t)tid * J + j) * 4 + q] += slots[(((size_t)sl * J + j) * thr + tid) * 4 + q];
                emu_epilogue(&e, bm, bn);
                if (last)
                    cnt = 0;
            }
            if (cnt != 0)
                bad += 1000;
        }
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double sum = 0;
            for (int k = 0; k < K; k++)
                sum += (double)A[(size_t)i * K + k] * B[(size_t)k * N + j];
            bad += C[(size_t)i * N + j] != (float)sum;
        }
    free(A);
    free(B);
    free(C);
    free(slots);
    emu_free(&e);
    return bad;
}

static void test_emulated_splitk_matches_fp64(void **state)
{
    (void)state;
    /* k-tiles 24 (kv_ctx k = 768) in 3 / 6 / 8 ranges, a ragged last range (k = 328 -> 11
     * k-tiles in 3 + 3 + 3 + 2), partial m / n tiles */
    static const int shapes[][4] = {{154, 136, 768, 3}, {70, 64, 768, 8}, {20, 72, 328, 4}, {66, 136, 768, 6}}; /* n % 8 == 0: v3 dense B */
    for (int ti = 0; ti < SD_IG_NTILES; ti++) {
        if (!sd_ig_tiles[ti].split_ok)
            continue;
        for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
            long bad = emu_splitk_mismatches(ti, shapes[i][3], BROKEN_NONE, shapes[i][0], shapes[i][1], shapes[i][2]);
            if (bad)
                fprintf(stderr, "split-K tile %d shape %zu: %ld mismatches\n", ti, i, bad);
            assert_int_equal(bad, 0);
        }
        assert_true(emu_splitk_mismatches(ti, 3, BROKEN_SPLIT_OVERLAP, 20, 72, 328) > 0);
        assert_true(emu_splitk_mismatches(ti, 3, BROKEN_SPLIT_FIRST, 20, 72, 328) > 0);
    }
}

/* the tile and k-split the host plans for SD shapes on a 132-SM H100 (sd_cuda_igemm_plan) */
static void test_splitk_plan(void **state)
{
    (void)state;
    struct sd_cuda_igemm_args a;
    int split = 0;
    /* kv_ctx (m = 154 text tokens, n = 320, k = 768): the tiles alone give 15 blocks */
    int t = sd_ig_choose(154, 320, 768, 1, 132, SD_IG_MAX_SPLIT, &split);
    assert_true(t >= 0 && sd_ig_tiles[t].split_ok && split > 1);
    const long long tiles = ((154 + sd_ig_tiles[t].bm - 1) / sd_ig_tiles[t].bm) * ((320 + sd_ig_tiles[t].bn - 1) / sd_ig_tiles[t].bn);
    assert_true(tiles * split >= 66);                       /* at least half of the SMs busy */
    assert_true(sd_ig_split_per(24, split) >= SD_IG_SPLIT_MIN_KT);
    memset(&a, 0, sizeof(a));
    a.m = 154; a.n = 320; a.k = 768; a.batch = 1;
    size_t ws = sd_cuda_igemm_plan(&a, SD_IG_MAX_SPLIT, 132);
    assert_int_equal(a.tile, t);
    assert_int_equal(a.split, split);
    assert_true(ws == (size_t)(tiles * split * sd_ig_tiles[t].bm * sd_ig_tiles[t].bn * 4 + tiles * 4));
    /* no split allowed (SDMARK_CUDA_GEMM_KERNEL < 3): the tile choice of before, no workspace */
    assert_int_equal(sd_cuda_igemm_plan(&a, 1, 132), 0);
    assert_int_equal(a.split, 1);
    assert_int_equal(a.tile, sd_ig_choose_tile(154, 320, 768, 1, 132));
    /* large GEMMs and convs fill the GPU without a split */
    assert_int_equal(sd_ig_choose(8192, 2560, 320, 1, 132, SD_IG_MAX_SPLIT, &split), SD_IG_TILE_128x128);
    assert_int_equal(split, 1);
    sd_ig_choose(8192, 320, 2880, 1, 132, SD_IG_MAX_SPLIT, &split); /* res3x3_320_320.64 NHWC */
    assert_int_equal(split, 1);
    /* late UNet 8x8 (NHWC: m = 2 * 64 pixels, n = 1280, k = 9 * 1280): 20 tiles -> split */
    t = sd_ig_choose(128, 1280, 11520, 1, 132, SD_IG_MAX_SPLIT, &split);
    assert_true(t >= 0 && split > 1);
    /* every split keeps SD_IG_SPLIT_MIN_KT k-tiles and no empty range; the grid z limit */
    for (int kt = 1; kt < 100; kt++)
        for (int s2 = 2; s2 <= SD_IG_MAX_SPLIT; s2++) {
            const int per = sd_ig_split_per(kt, s2);
            if (per)
                assert_true(per >= SD_IG_SPLIT_MIN_KT && (s2 - 1) * per < kt);
        }
    sd_ig_choose(154, 320, 768, 65535, 132, SD_IG_MAX_SPLIT, &split);
    assert_int_equal(split, 1);
    assert_int_equal(sd_ig_splitk_ws_bytes(SD_IG_TILE_64x64, 154, 320, 1, 1), 0);
}

static void test_broken_variants_fail(void **state)
{
    (void)state;
    for (int ti = 0; ti < SD_IG_NTILES; ti++) {
        assert_true(emu_mismatches(ti, BROKEN_A_NOSWIZZLE, 150, 200, 72) > 0);
        assert_true(emu_mismatches(ti, BROKEN_B_NOTRANS, 150, 200, 72) > 0);
        assert_true(emu_mismatches(ti, BROKEN_STAGE, 130, 136, 136) > 0);
    }
}


/* ---- v3 flash fragments ------------------------------------------------------------------- */

/* One warp (rows w*16..w*16+15 of a 128-row Q tile) against one 64-key tile, as flash2_kernel
 * (kernels/cuda/attention.cu: f2_scores, f2_pv); P = a small integer function of S so that the
 * products stay exact. broken = 1: K read with the Q/V lane pattern. */
struct fa_emu {
    int dp, d, ld, w, broken;
    float *Qs, *Ks, *Vs;                  /* [128][ld], [64][ld], [64][ld]; columns d..ld zero */
    float qf[10][32][4][2], qt[32][4][2]; /* Q fragments (k16 steps, k8 tail) */
    float s[8][32][4], o[20][32][4];      /* S / P and O accumulators per lane */
};

static float fa_p_of(double sv) { return (float)(((int)sv % 3 + 3) % 3 - 1); }

static double fa_ref_s(const struct fa_emu *e, int row, int key)
{
    double sv = 0;
    for (int c = 0; c < e->d; c++)
        sv += (double)e->Qs[row * e->ld + c] * e->Ks[key * e->ld + c];
    return sv;
}

/* B fragments of two n8 tiles from an x4 load: tile h gets registers 2h, 2h+1 */
static void fa_split_b(float r[32][4][2], int h, float bk[32][2][2])
{
    for (int T = 0; T < 32; T++)
        for (int j = 0; j < 2; j++) {
            bk[T][0][j] = r[T][2 * h][j];
            bk[T][1][j] = r[T][2 * h + 1][j];
        }
}

/* Q -> registers (ldmatrix.x4 per k16 step, .x2 for the k8 tail of lanes lane & 15) */
static void fa_load_q(struct fa_emu *e)
{
    int addr[32];
    for (int kc = 0; kc < e->dp / 16; kc++) {
        for (int l = 0; l < 32; l++)
            addr[l] = sd_fa_ldm_rows16(l, e->w * 16, kc * 16, e->ld);
        assert_int_equal(phase_conflicts(addr), 0); /* odd row stride: conflict free */
        emu_ldmatrix(e->Qs, addr, 0, e->qf[kc]);
    }
    if (e->dp % 16 == 8) {
        for (int l = 0; l < 32; l++)
            addr[l] = sd_fa_ldm_rows16(l & 15, e->w * 16, (e->dp / 16) * 16, e->ld);
        assert_int_equal(phase_conflicts(addr), 0);
        emu_ldmatrix_n(e->Qs, addr, 0, 2, e->qt);
    }
}

/* S = Q K^T: k16 steps with K through ldmatrix.x4 (keys16 pattern), then the m16n8k8 tail */
static void fa_scores(struct fa_emu *e)
{
    static float r[32][4][2], bk[32][2][2], qa[32][2][2], bt[32][2];
    const int KC = e->dp / 16;
    int addr[32];
    memset(e->s, 0, sizeof(e->s));
    for (int kc = 0; kc < KC; kc++)
        for (int np = 0; np < 4; np++) {
            for (int l = 0; l < 32; l++)
                addr[l] = e->broken ? sd_fa_ldm_rows16(l, np * 16, kc * 16, e->ld)
                                    : sd_fa_ldm_keys16(l, np * 16, kc * 16, e->ld);
            assert_int_equal(phase_conflicts(addr), 0);
            emu_ldmatrix(e->Ks, addr, 0, r);
            for (int h = 0; h < 2; h++) {
                fa_split_b(r, h, bk);
                emu_mma(e->qf[kc], bk, &e->s[2 * np + h][0][0], 4);
            }
        }
    if (e->dp % 16 != 8)
        return;
    for (int nq = 0; nq < 2; nq++) {
        for (int l = 0; l < 32; l++)
            addr[l] = sd_fa_ldm_keys32(l, nq * 32, KC * 16, e->ld);
        assert_int_equal(phase_conflicts(addr), 0);
        emu_ldmatrix(e->Ks, addr, 0, r);
        for (int i = 0; i < 4; i++) {
            for (int T = 0; T < 32; T++)
                for (int j = 0; j < 2; j++) {
                    bt[T][j] = r[T][i][j];
                    qa[T][0][j] = e->qt[T][0][j];
                    qa[T][1][j] = e->qt[T][1][j];
                }
            emu_mma_k8(qa, bt, &e->s[nq * 4 + i][0][0], 4);
        }
    }
}

/* compare S with fp64 and replace it by P; returns the mismatches */
static long fa_check_s_make_p(struct fa_emu *e)
{
    long bad = 0;
    for (int nt = 0; nt < 8; nt++)
        for (int T = 0; T < 32; T++)
            for (int e2 = 0; e2 < 4; e2++) {
                const int row = e->w * 16 + T / 4 + 8 * (e2 >> 1), key = nt * 8 + 2 * (T % 4) + (e2 & 1);
                const double ref = fa_ref_s(e, row, key);
                bad += e->s[nt][T][e2] != (float)ref;
                e->s[nt][T][e2] = fa_p_of(ref);
            }
    return bad;
}

/* O += P V: P re-packed as A fragments (the kernel's pack2), V through ldmatrix.x4.trans pairs
 * and, for the odd n-tile, .x2.trans of lanes lane & 15 */
static void fa_pv(struct fa_emu *e)
{
    static float r[32][4][2], bk[32][2][2], a[32][4][2];
    const int DPAIR = e->dp / 16;
    int addr[32];
    memset(e->o, 0, sizeof(e->o));
    for (int kc = 0; kc < 4; kc++) {
        for (int T = 0; T < 32; T++)
            for (int j = 0; j < 2; j++) {
                a[T][0][j] = e->s[2 * kc][T][j];
                a[T][1][j] = e->s[2 * kc][T][2 + j];
                a[T][2][j] = e->s[2 * kc + 1][T][j];
                a[T][3][j] = e->s[2 * kc + 1][T][2 + j];
            }
        if (e->dp % 16 == 8) {
            for (int l = 0; l < 32; l++)
                addr[l] = sd_fa_ldm_rows16(l & 15, kc * 16, DPAIR * 16, e->ld);
            assert_int_equal(phase_conflicts(addr), 0);
            emu_ldmatrix_n(e->Vs, addr, 1, 2, r);
            fa_split_b(r, 0, bk);
            emu_mma(a, bk, &e->o[2 * DPAIR][0][0], 4);
        }
        for (int dpi = 0; dpi < DPAIR; dpi++) {
            for (int l = 0; l < 32; l++)
                addr[l] = sd_fa_ldm_rows16(l, kc * 16, dpi * 16, e->ld);
            assert_int_equal(phase_conflicts(addr), 0);
            emu_ldmatrix(e->Vs, addr, 1, r);
            for (int h = 0; h < 2; h++) {
                fa_split_b(r, h, bk);
                emu_mma(a, bk, &e->o[2 * dpi + h][0][0], 4);
            }
        }
    }
}

static long fa_check_o(const struct fa_emu *e)
{
    long bad = 0;
    for (int dt = 0; dt < e->dp / 8; dt++)
        for (int T = 0; T < 32; T++)
            for (int e2 = 0; e2 < 4; e2++) {
                const int row = e->w * 16 + T / 4 + 8 * (e2 >> 1), col = dt * 8 + 2 * (T % 4) + (e2 & 1);
                double ref = 0;
                for (int key = 0; key < 64; key++)
                    ref += (double)fa_p_of(fa_ref_s(e, row, key)) * e->Vs[key * e->ld + col];
                bad += e->o[dt][T][e2] != (float)ref;
            }
    return bad;
}

/* mismatches of S and O for warp w at head dim d padded to dp */
static long emu_flash_tile(int dp, int d, int w, int broken)
{
    static struct fa_emu e;
    const int ld = sd_fa_ld(dp);
    e.dp = dp;
    e.d = d;
    e.ld = ld;
    e.w = w;
    e.broken = broken;
    e.Qs = calloc((size_t)128 * ld, sizeof(float));
    e.Ks = calloc((size_t)64 * ld, sizeof(float));
    e.Vs = calloc((size_t)64 * ld, sizeof(float));
    assert_true(e.Qs && e.Ks && e.Vs && dp / 8 <= 20 && dp / 16 <= 10);
    unsigned seed = 777u + (unsigned)(dp * 13 + d + w);
    for (int i = 0; i < 128; i++)
        for (int c = 0; c < d; c++) /* columns d..dp stay zero, as the loader leaves them */
            e.Qs[i * ld + c] = (float)((int)((seed = seed * 1103515245u + 12345u) >> 16) % 5 - 2);
    for (int i = 0; i < 64; i++)
        for (int c = 0; c < d; c++) {
            e.Ks[i * ld + c] = (float)((int)((seed = seed * 1103515245u + 12345u) >> 16) % 5 - 2);
            e.Vs[i * ld + c] = (float)((int)((seed = seed * 1103515245u + 12345u) >> 16) % 5 - 2);
        }
    fa_load_q(&e);
    fa_scores(&e);
    long bad = fa_check_s_make_p(&e);
    fa_pv(&e);
    bad += fa_check_o(&e);
    free(e.Qs);
    free(e.Ks);
    free(e.Vs);
    return bad;
}

static void test_flash_fragments_match_fp64(void **state)
{
    (void)state;
    static const int dps[][2] = {{32, 32}, {40, 40}, {48, 40}, {64, 64}, {80, 80}, {128, 128}, {160, 160}, {160, 152}};
    /* every row stride is an odd number of 16-byte units; head_dim 40 is not padded */
    for (int dp = 32; dp <= 160; dp += 8)
        assert_int_equal((sd_fa_ld(dp) / 8) % 2, 1);
    assert_int_equal(sd_fa_ld(40), 40);
    assert_int_equal(sd_fa_smem_bytes(160), 2 * 2 * 64 * 168 * 2);
    for (size_t i = 0; i < sizeof(dps) / sizeof(dps[0]); i++)
        for (int w = 0; w < 8; w += 7) {
            long bad = emu_flash_tile(dps[i][0], dps[i][1], w, 0);
            if (bad)
                fprintf(stderr, "flash DP %d d %d warp %d: %ld mismatches\n", dps[i][0], dps[i][1], w, bad);
            assert_int_equal(bad, 0);
        }
    assert_true(emu_flash_tile(64, 64, 3, 1) > 0);
    assert_true(emu_flash_tile(40, 40, 3, 1) > 0);
}

/* ---- wide-head flash (flashw_kernel, head_dim 512) ------------------------------------------ */

/* flashw_kernel's fw_spart + fw_store_spart for warp w: its head-dim slice of S -> partial w */
static void emu_fw_spart(const float *Qs, const float *Ks, float *sp, int w)
{
    const int LD = sd_fa_ld(SD_FW_DP), SL = SD_FW_DP / SD_FW_WARPS;
    static float qf[2][4][32][4][2], r[32][4][2], bk[32][2][2], acc[32][4];
    int addr[32];
    for (int mt = 0; mt < 2; mt++)
        for (int kc = 0; kc < 4; kc++) {
            for (int l = 0; l < 32; l++)
                addr[l] = sd_fa_ldm_rows16(l, mt * 16, w * SL + kc * 16, LD);
            assert_int_equal(phase_conflicts(addr), 0);
            emu_ldmatrix(Qs, addr, 0, qf[mt][kc]);
        }
    for (int mt = 0; mt < 2; mt++)
        for (int nt = 0; nt < 4; nt++) {
            memset(acc, 0, sizeof(acc));
            for (int kc = 0; kc < 4; kc++) {
                for (int l = 0; l < 32; l++)
                    addr[l] = sd_fa_ldm_keys16(l, (nt / 2) * 16, w * SL + kc * 16, LD);
                assert_int_equal(phase_conflicts(addr), 0);
                emu_ldmatrix(Ks, addr, 0, r);
                fa_split_b(r, nt % 2, bk);
                emu_mma(qf[mt][kc], bk, &acc[0][0], 4);
            }
            for (int T = 0; T < 32; T++)
                for (int e2 = 0; e2 < 4; e2++)
                    sp[sd_fw_sp(w, mt * 16 + T / 4 + 8 * (e2 >> 1), nt * 8 + 2 * (T % 4) + (e2 & 1))] = acc[T][e2];
        }
}

/* fw_pv for warp w (no rescale: one tile) against fp64 with the reference P; returns mismatches.
 * v_slice: the V column offset the emulation uses (the kernel's w * 64; broken: 0). */
static long emu_fw_pv(const float *ps, const float *Vs, float P[SD_FW_BR][SD_FW_BC], int w, int v_slice)
{
    const int LD = sd_fa_ld(SD_FW_DP), SL = SD_FW_DP / SD_FW_WARPS;
    static float o[2][8][32][4], a[32][4][2], r[32][4][2], bk[32][2][2];
    int addr[32];
    long bad = 0;
    memset(o, 0, sizeof(o));
    for (int kc = 0; kc < SD_FW_BC / 16; kc++)
        for (int mt = 0; mt < 2; mt++) {
            for (int l = 0; l < 32; l++)
                addr[l] = sd_fa_ldm_rows16(l, mt * 16, kc * 16, SD_FW_PLD);
            assert_int_equal(phase_conflicts(addr), 0);
            emu_ldmatrix(ps, addr, 0, a);
            for (int dp = 0; dp < 4; dp++) {
                for (int l = 0; l < 32; l++)
                    addr[l] = sd_fa_ldm_rows16(l, kc * 16, v_slice + dp * 16, LD);
                assert_int_equal(phase_conflicts(addr), 0);
                emu_ldmatrix(Vs, addr, 1, r);
                for (int h = 0; h < 2; h++) {
                    fa_split_b(r, h, bk);
                    emu_mma(a, bk, &o[mt][2 * dp + h][0][0], 4);
                }
            }
        }
    for (int mt = 0; mt < 2; mt++)
        for (int nt = 0; nt < 8; nt++)
            for (int T = 0; T < 32; T++)
                for (int e2 = 0; e2 < 4; e2++) {
                    const int row = mt * 16 + T / 4 + 8 * (e2 >> 1), col = w * SL + nt * 8 + 2 * (T % 4) + (e2 & 1);
                    double ref = 0;
                    for (int key = 0; key < SD_FW_BC; key++)
                        ref += (double)P[row][key] * Vs[key * LD + col];
                    bad += o[mt][nt][T][e2] != (float)ref;
                }
    return bad;
}

/* One block and one 32-key tile as flashw_kernel: every warp's S part over its head-dim slice
 * (Q and K through ldmatrix) -> the shared partials (sd_fw_sp) -> the row-owner threads' sums;
 * P = a small integer function of S -> shared P; each warp's O slice = P V (P through ldmatrix,
 * V through ldmatrix.trans). Returns the mismatches of S and O against fp64.
 * broken 1: the row owners read one partial only (no warp stride); 2: V without the slice offset. */
static long emu_flashw_tile(int d, int broken)
{
    const int LD = sd_fa_ld(SD_FW_DP), SL = SD_FW_DP / SD_FW_WARPS;
    float *Qs = calloc((size_t)SD_FW_BR * LD, sizeof(float)), *Ks = calloc((size_t)SD_FW_BC * LD, sizeof(float));
    float *Vs = calloc((size_t)SD_FW_BC * LD, sizeof(float));
    float *sp = calloc((size_t)SD_FW_WARPS * SD_FW_BR * SD_FW_SPLD, sizeof(float));
    float *ps = calloc((size_t)SD_FW_BR * SD_FW_PLD, sizeof(float)), S[SD_FW_BR][SD_FW_BC];
    assert_true(Qs && Ks && Vs && sp && ps);
    unsigned seed = 31337u + (unsigned)d;
    for (int i = 0; i < SD_FW_BR; i++)
        for (int c = 0; c < d; c++) /* columns d..512 stay zero, as the loader leaves them */
            Qs[i * LD + c] = (float)((int)((seed = seed * 1103515245u + 12345u) >> 16) % 3 - 1);
    for (int i = 0; i < SD_FW_BC; i++)
        for (int c = 0; c < d; c++) {
            Ks[i * LD + c] = (float)((int)((seed = seed * 1103515245u + 12345u) >> 16) % 3 - 1);
            Vs[i * LD + c] = (float)((int)((seed = seed * 1103515245u + 12345u) >> 16) % 5 - 2);
        }
    long bad = 0;
    for (int w = 0; w < SD_FW_WARPS; w++)
        emu_fw_spart(Qs, Ks, sp, w);
    for (int tid = 0; tid < 32 * SD_FW_WARPS; tid++) { /* fw_softmax's sums, P = f(S) */
        const int row = tid >> 3, c0 = (tid & 7) * 4;
        for (int i = 0; i < 4; i++) {
            float v = 0.f;
            for (int w = 0; w < SD_FW_WARPS; w++)
                v += sp[broken == 1 ? sd_fw_sp(0, row, c0 + i) : sd_fw_sp(w, row, c0 + i)];
            S[row][c0 + i] = v;
            ps[row * SD_FW_PLD + c0 + i] = fa_p_of(v);
        }
    }
    for (int row = 0; row < SD_FW_BR; row++)
        for (int key = 0; key < SD_FW_BC; key++) {
            double ref = 0;
            for (int c = 0; c < d; c++)
                ref += (double)Qs[row * LD + c] * Ks[key * LD + c];
            bad += S[row][key] != (float)ref;
            S[row][key] = fa_p_of(ref); /* the reference P */
        }
    for (int w = 0; w < SD_FW_WARPS; w++)
        bad += emu_fw_pv(ps, Vs, S, w, broken == 2 ? 0 : w * SL);
    free(Qs);
    free(Ks);
    free(Vs);
    free(sp);
    free(ps);
    return bad;
}

static void test_flashw_fragments_match_fp64(void **state)
{
    (void)state;
    assert_int_equal(sd_fa_ld(SD_FW_DP) / 8 % 2, 1);
    assert_int_equal(SD_FW_PLD / 8 % 2, 1);
    assert_int_equal(sd_fw_off_sp() % 16, 0); /* float4 reads of the partials */
    assert_int_equal(sd_fw_off_p() % 16, 0);
    assert_int_equal(sd_fw_smem_bytes(), 3 * 32 * 520 * 2 + 8 * 32 * 40 * 4 + 32 * 40 * 2 + 2 * 32 * 4);
    assert_true(sd_fw_smem_bytes() <= 163 * 1024); /* sm_80's opt-in limit */
    static const int ds[] = {512, 168, 320};
    for (size_t i = 0; i < sizeof(ds) / sizeof(ds[0]); i++) {
        long bad = emu_flashw_tile(ds[i], 0);
        if (bad)
            fprintf(stderr, "flashw d %d: %ld mismatches\n", ds[i], bad);
        assert_int_equal(bad, 0);
    }
    assert_true(emu_flashw_tile(512, 1) > 0);
    assert_true(emu_flashw_tile(512, 2) > 0);
}

/* ---- tile choice -------------------------------------------------------------------------- */

static void test_tile_choice(void **state)
{
    (void)state;
    /* large GEMMs fill the GPU with the biggest tile */
    assert_int_equal(sd_ig_choose_tile(8192, 8192, 4096, 1, 132), SD_IG_TILE_128x128);
    assert_int_equal(sd_ig_choose_tile(8192, 2560, 320, 1, 108), SD_IG_TILE_128x128);
    /* m = 154 (text context) and n = 320: 128x128 would leave most of 132 SMs idle */
    int t = sd_ig_choose_tile(154, 320, 768, 1, 132);
    assert_true(t >= 0 && t != SD_IG_TILE_128x128);
    assert_int_equal(t, SD_IG_TILE_64x64);
    t = sd_ig_choose_tile(2048, 640, 640, 1, 132); /* 80 blocks of 128x128 < 132 SMs */
    assert_true(t >= 0 && t != SD_IG_TILE_128x128);
    /* every choice is a valid index whose grid fits; none fits: -1 */
    static const long long shapes[][4] = {{1, 8, 8, 1},      {8192, 320, 320, 1}, {18432, 320, 320, 1},
                                          {512, 1280, 1280, 1}, {154, 1280, 2048, 2}, {16, 16, 16, 65535}};
    for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
        t = sd_ig_choose_tile(shapes[i][0], shapes[i][1], shapes[i][2], shapes[i][3], 132);
        assert_true(t >= 0 && t < SD_IG_NTILES);
        assert_true((shapes[i][1] + sd_ig_tiles[t].bn - 1) / sd_ig_tiles[t].bn <= 65535);
    }
    assert_int_equal(sd_ig_choose_tile(16, 16, 16, 65536, 132), -1);
    assert_int_equal(sd_ig_choose_tile(16, 64LL * 65536 + 1, 16, 1, 132), SD_IG_TILE_64x128);
    assert_int_equal(sd_ig_choose_tile(16, 128LL * 65536 + 1, 16, 1, 132), -1);
    /* unknown SM count (0) still chooses */
    assert_true(sd_ig_choose_tile(4096, 4096, 4096, 1, 0) >= 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_swizzle_bijective),
        cmocka_unit_test(test_ldmatrix_conflict_free),
        cmocka_unit_test(test_loader_covers_stage),
        cmocka_unit_test(test_emulated_kernel_matches_fp64),
        cmocka_unit_test(test_broken_variants_fail),
        cmocka_unit_test(test_emulated_conv_matches_fp64),
        cmocka_unit_test(test_emulated_nhwc_conv_matches_fp64),
        cmocka_unit_test(test_nhwc_index_identities),
        cmocka_unit_test(test_conv_plan_layout),
        cmocka_unit_test(test_emulated_splitk_matches_fp64),
        cmocka_unit_test(test_splitk_plan),
        cmocka_unit_test(test_tile_choice),
        cmocka_unit_test(test_flash_fragments_match_fp64),
        cmocka_unit_test(test_flashw_fragments_match_fp64),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
