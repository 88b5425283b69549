/* conv2d.cl - NCHW convolution as an implicit GEMM:
 *   Y[b] (CO x OH*OW) = W (CO x CI*FR*FS) * im2col(X[b]) (CI*FR*FS x OH*OW)
 * The weights are the row-major A matrix as stored; the im2col matrix is never materialised:
 * its panels are gathered from X while packing (zero for padding). FR/FS (filter size) are
 * compile-time; the rest are arguments. conv_packed = CPU design (see gemm.cl), conv_tiled = GPU. */
#ifndef FR
#define FR 3
#endif
#ifndef FS
#define FS 3
#endif
#define FRS (FR * FS)

__attribute__((reqd_work_group_size(1, 1, 1)))
__kernel void conv_packed(const __global B_T *restrict X, const __global A_T *restrict Wt,
                          __global C_T *restrict Y, int CI, int IH, int IW, int CO, int OW, int HW,
                          int stride, int pad)
{
    __local float Ap[MBP * KB];
    __local float Bp[KB * NBP];
    int iy0[NBP], ix0[NBP];
    const int Kt = CI * FRS;
    const int n0 = get_group_id(0) * NB, m0 = get_group_id(1) * MB;
    const long z = get_group_id(2);
    const __global B_T *Xb = X + z * (long)CI * IH * IW;
    const __global A_T *A = Wt + (long)m0 * Kt;
    __global C_T *C = Y + z * (long)CO * HW + (long)m0 * HW + n0;
    const int mb = min(MB, CO - m0), nb = min(NB, HW - n0);
    for (int c = 0; c < NBP; c++) {
        const int pix = n0 + min(c, nb - 1);
        const int oy = pix / OW, ox = pix - oy * OW;
        iy0[c] = oy * stride - pad;
        ix0[c] = c < nb ? ox * stride - pad : -(1 << 20); /* columns beyond nb read as zero */
    }
    for (int k0 = 0; k0 < Kt; k0 += KB) {
        const int kb = min(KB, Kt - k0);
        pack_a(Ap, A + k0, Kt, mb, kb);
        const int nsn = (nb + NR - 1) / NR;
        for (int kk = 0; kk < kb; kk++) {
            const int kidx = k0 + kk;
            const int ci = kidx / FRS, rem = kidx - ci * FRS;
            const int ry = rem / FS, rx = rem - ry * FS;
            const __global B_T *xc = Xb + (long)ci * IH * IW;
            for (int j = 0; j < nsn; j++) {
                __local float *dst = Bp + j * KB * NR + kk * NR;
                for (int c = 0; c < NR; c++) {
                    const int iy = iy0[j * NR + c] + ry, ix = ix0[j * NR + c] + rx;
                    const bool ok = iy >= 0 && iy < IH && ix >= 0 && ix < IW;
                    const float v = LDB1(xc, ok ? iy * IW + ix : 0);
                    dst[c] = ok ? v : 0.0f;
                }
            }
        }
        packed_block(Ap, Bp, C, HW, mb, nb, kb, k0 > 0);
    }
}

/* conv_tiled sums k in [kbeg, kend) of the CI*FR*FS reduction and adds to Y when `accum` (the
 * host splits it on drivers that end a work-item's loops early, as for gemm_tiled). */
__attribute__((reqd_work_group_size(TX, TY, 1)))
__kernel void conv_tiled(const __global B_T *restrict X, const __global A_T *restrict Wt,
                         __global C_T *restrict Y, int CI, int IH, int IW, int CO, int OW, int HW,
                         int stride, int pad, int kbeg, int kend, int accum)
{
    __local float As[BK][BM + 1];
    __local float Bs[BK][BN + 1];
    const int Kt = CI * FRS;
    const int tx = get_local_id(0), ty = get_local_id(1), tid = ty * TX + tx;
    const int m0 = get_group_id(1) * BM, n0 = get_group_id(0) * BN;
    const long z = get_group_id(2);
    const __global B_T *Xb = X + z * (long)CI * IH * IW;
    __global C_T *C = Y + z * (long)CO * HW;
    float acc[RM][RN];
#pragma unroll
    for (int i = 0; i < RM; i++)
#pragma unroll
        for (int j = 0; j < RN; j++)
            acc[i][j] = 0.0f;
    const int kstop = min(Kt, kend);
    for (int k0 = kbeg; k0 < kstop; k0 += BK) {
        for (int e = tid; e < BM * BK; e += TX * TY) {
            const int r = e / BK, kk = e % BK;
            const int gr = m0 + r, gk = k0 + kk;
            As[kk][r] = (gr < CO && gk < kstop) ? LDA1(Wt, (long)gr * Kt + gk) : 0.0f;
        }
        for (int e = tid; e < BK * BN; e += TX * TY) {
            const int kk = e / BN, c = e % BN;
            const int gk = k0 + kk, pix = n0 + c;
            float v = 0.0f;
            if (gk < kstop && pix < HW) {
                const int ci = gk / FRS, rem = gk - ci * FRS;
                const int ry = rem / FS, rx = rem - ry * FS;
                const int oy = pix / OW, ox = pix - oy * OW;
                const int iy = oy * stride - pad + ry, ix = ox * stride - pad + rx;
                if (iy >= 0 && iy < IH && ix >= 0 && ix < IW)
                    v = LDB1(Xb, ((long)ci * IH + iy) * IW + ix);
            }
            Bs[kk][c] = v;
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
            if (gr < CO && gc < HW)
                STC1(C, (long)gr * HW + gc, accum ? acc[i][j] + LDC1(C, (long)gr * HW + gc) : acc[i][j]);
        }
    }
}
