/* gemm.cl - C[m,n] = A[m,k] * B[k,n] (row-major, or B given transposed as [n,k] when transB),
 * `batch` products along dimension 2 of the NDRange with element strides sA/sB/sC and element
 * offsets offA/offB/offC. Two designs, chosen per device by the tuner:
 *   gemm_packed  CPU (PoCL): one work-item per work-group, MB x NB block of C, A/B panels packed
 *                into zero-padded __local, MR x (VW*NV) fma micro-kernel on explicit vectors.
 *   gemm_tiled   GPU: TX x TY work-group, local tiles of A (BM x BK) and B (BK x BN), RM x RN
 *                register block per work-item. */

__attribute__((reqd_work_group_size(1, 1, 1)))
__kernel void gemm_packed(const __global A_T *restrict A, const __global B_T *restrict B,
                          __global C_T *restrict C, int M, int N, int K, int lda, int ldb, int ldc,
                          long sA, long sB, long sC, long offA, long offB, long offC, int transB)
{
    __local float Ap[MBP * KB];
    __local float Bp[KB * NBP];
    const int n0 = get_group_id(0) * NB, m0 = get_group_id(1) * MB;
    const long z = get_group_id(2);
    A += offA + z * sA + (long)m0 * lda;
    B += offB + z * sB;
    C += offC + z * sC + (long)m0 * ldc + n0;
    const int mb = min(MB, M - m0), nb = min(NB, N - n0);
    for (int k0 = 0; k0 < K; k0 += KB) {
        const int kb = min(KB, K - k0);
        pack_a(Ap, A + k0, lda, mb, kb);
        const int nsn = (nb + NR - 1) / NR;
        for (int j = 0; j < nsn; j++) {
            const int c0 = j * NR, ncols = min(NR, nb - c0);
            __local float *bp = Bp + j * KB * NR;
            if (!transB) {
                const __global B_T *src = B + (long)k0 * ldb + n0 + c0;
                for (int kk = 0; kk < kb; kk++, src += ldb) {
                    __local float *dst = bp + kk * NR;
                    if (ncols == NR) {
#pragma unroll
                        for (int v = 0; v < NV; v++)
                            VSTORE(LDBV(VW, src, v * VW), dst + v * VW);
                    } else {
                        for (int c = 0; c < NR; c++)
                            dst[c] = c < ncols ? LDB1(src, c) : 0.0f;
                    }
                }
            } else {
                for (int c = 0; c < NR; c++) {
                    __local float *dst = bp + c;
                    if (c < ncols) {
                        const __global B_T *src = B + (long)(n0 + c0 + c) * ldb + k0;
                        for (int kk = 0; kk < kb; kk++)
                            dst[kk * NR] = LDB1(src, kk);
                    } else {
                        for (int kk = 0; kk < kb; kk++)
                            dst[kk * NR] = 0.0f;
                    }
                }
            }
        }
        packed_block(Ap, Bp, C, ldc, mb, nb, kb, k0 > 0);
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
