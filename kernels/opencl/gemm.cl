/* gemm.cl - C[m,n] = A[m,k] * B[k,n] (row-major, or B given transposed as [n,k] when transB),
 * `batch` products along dimension 2 of the NDRange with element strides sA/sB/sC and element
 * offsets offA/offB/offC. Two designs, chosen per device by the tuner:
 *   gemm_pack_b + gemm_packed  CPU (PoCL): B packed once per call into global strips (common.cl),
 *                then one work-item per work-group computes a bm x bn block of C (bm <= MB,
 *                bn <= NB, chosen by the host to split the work evenly over the cores) with an
 *                MR x (VW*NV) fma micro-kernel on explicit vectors.
 *   gemm_tiled   GPU: TX x TY work-group, local tiles of A (BM x BK) and B (BK x BN), RM x RN
 *                register block per work-item. */

/* Pack rows [r0, r1) of K-block kblk, strips [j0, j0 + ns) (NR columns each, from column j0*NR)
 * of B into the strips' slots of K-block 0 of the packed layout at bp0 (gemm_pack_b passes bp0
 * shifted to its K-block; selfpack reuses K-block 0's slots), zero past N. Not transposed: row
 * by row, each row's run of ns*NR floats read in order; transposed: column by column. */
inline void pack_b_panel(__global float *restrict bp0, const __global B_T *restrict B, int N, int K, int ldb,
                         int transB, int kblk, int r0, int r1, int j0, int ns)
{
    const int k0 = kblk * KB;
    r1 = min(r1, min(KB, K - k0));
    if (!transB) {
        const __global B_T *src = B + (long)(k0 + r0) * ldb + j0 * NR;
        for (int kk = r0; kk < r1; kk++, src += ldb)
            for (int j = 0; j < ns; j++) {
                __global float *dst = bp0 + (long)(j0 + j) * (KB * NR) + kk * NR;
                const int ncols = min(NR, N - (j0 + j) * NR);
                if (ncols == NR) {
#pragma unroll
                    for (int v = 0; v < NV; v++)
                        VSTORE(LDBV(VW, src, j * NR + v * VW), dst + v * VW);
                } else {
                    for (int c = 0; c < NR; c++)
                        dst[c] = c < ncols ? LDB1(src, j * NR + c) : 0.0f;
                }
            }
        return;
    }
    for (int j = j0; j < j0 + ns; j++) {
        const int ncols = min(NR, N - j * NR);
        for (int c = 0; c < NR; c++) {
            __global float *dst = bp0 + (long)j * (KB * NR) + c;
            const __global B_T *src = B + (long)(j * NR + min(c, ncols - 1)) * ldb + k0;
            for (int kk = r0; kk < r1; kk++)
                dst[kk * NR] = c < ncols ? LDB1(src, kk) : 0.0f;
        }
    }
}

/* One work-item packs part get_group_id(0) of K-block get_group_id(1) of batch entry
 * get_group_id(2) of B into Bp (sBp elements per batch entry): PR whole rows (long sequential
 * reads) when B is not transposed, else PS strips. */
#define PR 16
#define PS 4
__attribute__((reqd_work_group_size(1, 1, 1)))
__kernel void gemm_pack_b(const __global B_T *restrict B, __global float *restrict Bp, int N, int K, int ldb,
                          long sB, long offB, int transB, long sBp)
{
    const int part = get_group_id(0), kblk = get_group_id(1), nstrips = (N + NR - 1) / NR;
    const long z = get_group_id(2);
    __global float *bp0 = Bp + z * sBp + packed_b_at(kblk, 0, nstrips);
    B += offB + z * sB;
    if (!transB)
        pack_b_panel(bp0, B, N, K, ldb, 0, kblk, part * PR, (part + 1) * PR, 0, nstrips);
    else
        pack_b_panel(bp0, B, N, K, ldb, 1, kblk, 0, KB, part * PS, min(PS, nstrips - part * PS));
}

/* packed_block for the first row block of a selfpack work-group: each NR-wide strip of K-block
 * kblk of B (columns from strip j0 on) is packed into K-block 0's slots just before its
 * micro-tiles use it for every MR rows, while it is still in L1 (strips outer, rows inner). */
inline void selfpacked_block(const __local float *restrict Ap, __global float *restrict Bp,
                             const __global B_T *restrict B, int N, int K, int ldb, int transB, int kblk, int j0,
                             __global C_T *restrict C, int ldc, int mb, int nb, int kb)
{
    const int nsn = (nb + NR - 1) / NR, nsm = (mb + MR - 1) / MR, nstrips = (N + NR - 1) / NR;
    for (int j = 0; j < nsn; j++) {
        pack_b_panel(Bp, B, N, K, ldb, transB, kblk, 0, KB, j0 + j, 1);
        for (int i = 0; i < nsm; i++)
            micro_tile(Ap + i * MR * KBA, Bp + packed_b_at(0, j0 + j, nstrips), kb, C + (long)(i * MR) * ldc + j * NR,
                       ldc, min(MR, mb - i * MR), min(NR, nb - j * NR), kblk > 0);
    }
}

/* C block (bm x bn; rows: group 0, columns: group 1) of batch entry group 2 from A and the packed
 * B (gemm_pack_b or conv_pack_b). bm is a multiple of MR <= MBP, bn a multiple of NR. Rows vary
 * fastest: consecutive work-groups stream the same B panel (L3 hits when K is long).
 * `selfpack` (the host launches one work-group per column block, so no other work-group reads
 * its B panel): the work-group covers every row, in blocks of bm, and packs its panel of each
 * K-block from B (ldb, sB, offB, transB as gemm_pack_b) into the same cache-resident slots for
 * every K-block, instead of a gemm_pack_b launch before: B crosses the memory bus once (a pack
 * pass reads it, writes it out and reads it back). The first row block packs the panel strip
 * by strip as it goes (selfpacked_block: 0.83-0.92x the time of packing the whole panel first,
 * at M = 128-512 on Zen 4); the others read it from cache. */
__attribute__((reqd_work_group_size(1, 1, 1)))
__kernel void gemm_packed(const __global A_T *restrict A, __global float *restrict Bp,
                          __global C_T *restrict C, int M, int N, int K, int lda, int ldc,
                          long sA, long sBp, long sC, long offA, long offC, int bm, int bn,
                          const __global B_T *restrict B, int ldb, long sB, long offB, int transB, int selfpack)
{
    __local float Ap[MBP * KBA];
    const int mbeg = selfpack ? 0 : get_group_id(0) * bm, mend = selfpack ? M : min(M, mbeg + bm);
    const int n0 = get_group_id(1) * bn, nstrips = (N + NR - 1) / NR;
    const long z = get_group_id(2);
    A += offA + z * sA;
    Bp += z * sBp;
    B += offB + z * sB;
    C += offC + z * sC + n0;
    const int nb = min(bn, N - n0), j0 = n0 / NR;
    for (int k0 = 0, kblk = 0; k0 < K; k0 += KB, kblk++) {
        const int kb = min(KB, K - k0);
        /* selfpack reuses K-block 0's slots of its strips for every K-block: they stay in cache */
        const int kslot = selfpack ? 0 : kblk;
        for (int m0 = mbeg; m0 < mend; m0 += bm) {
            const int mb = min(bm, mend - m0);
            pack_a(Ap, A + (long)m0 * lda + k0, lda, mb, kb);
            if (selfpack && m0 == mbeg)
                selfpacked_block(Ap, Bp, B, N, K, ldb, transB, kblk, j0, C + (long)m0 * ldc, ldc, mb, nb, kb);
            else
                packed_block(Ap, Bp + packed_b_at(kslot, j0, nstrips), C + (long)m0 * ldc, ldc, mb, nb, kb, k0 > 0);
        }
    }
}

/* gemm_tiled sums k in [kbeg, kend) only and adds to C when `accum`: the host splits a long K
 * over several launches on drivers that end a work-item's loops early (ocl_limits.c). */
__attribute__((reqd_work_group_size(TX, TY, 1)))
__kernel void gemm_tiled(const __global A_T *restrict A, const __global B_T *restrict B,
                         __global C_T *restrict C, int M, int N, int K, int lda, int ldb, int ldc,
                         long sA, long sB, long sC, long offA, long offB, long offC, int transB,
                         int kbeg, int kend, int accum)
{
    __local float As[BK][BM + 1];
    __local float Bs[BK][BN + 1];
    const int tx = get_local_id(0), ty = get_local_id(1), tid = ty * TX + tx;
    const int m0 = get_group_id(1) * BM, n0 = get_group_id(0) * BN;
    const long z = get_group_id(2);
    A += offA + z * sA;
    B += offB + z * sB;
    C += offC + z * sC;
    float acc[RM][RN];
#pragma unroll
    for (int i = 0; i < RM; i++)
#pragma unroll
        for (int j = 0; j < RN; j++)
            acc[i][j] = 0.0f;
    K = min(K, kend);
    for (int k0 = kbeg; k0 < K; k0 += BK) {
        for (int e = tid; e < BM * BK; e += TX * TY) {
            const int r = e / BK, kk = e % BK;
            const int gr = m0 + r, gk = k0 + kk;
            As[kk][r] = (gr < M && gk < K) ? LDA1(A, (long)gr * lda + gk) : 0.0f;
        }
        if (!transB) {
            for (int e = tid; e < BK * BN; e += TX * TY) {
                const int kk = e / BN, c = e % BN;
                const int gk = k0 + kk, gc = n0 + c;
                Bs[kk][c] = (gk < K && gc < N) ? LDB1(B, (long)gk * ldb + gc) : 0.0f;
            }
        } else {
            for (int e = tid; e < BK * BN; e += TX * TY) {
                const int c = e / BK, kk = e % BK;
                const int gk = k0 + kk, gc = n0 + c;
                Bs[kk][c] = (gk < K && gc < N) ? LDB1(B, (long)gc * ldb + gk) : 0.0f;
            }
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        tiled_mma(As, Bs, acc, tx, ty);
        barrier(CLK_LOCAL_MEM_FENCE);
    }
#pragma unroll
    for (int i = 0; i < RM; i++) {
        const int gr = m0 + ty + i * TY;
#pragma unroll
        for (int j = 0; j < RN; j++) {
            const int gc = n0 + tx + j * TX;
            if (gr < M && gc < N)
                STC1(C, (long)gr * ldc + gc, accum ? acc[i][j] + LDC1(C, (long)gr * ldc + gc) : acc[i][j]);
        }
    }
}
