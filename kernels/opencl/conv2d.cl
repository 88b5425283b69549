/* conv2d.cl - NCHW convolution as a GEMM:
 *   Y[b] (CO x OH*OW) = W (CO x CI*FR*FS) * im2col(X[b]) (CI*FR*FS x OH*OW)
 * The weights are the row-major A matrix as stored. CPU design: conv_pack_b writes the im2col
 * matrix straight into gemm_packed's packed-B layout (common.cl: NR-pixel strips, K-blocks of
 * KB), once per call, then gemm_packed (gemm.cl, in the same program) runs as for a GEMM; a 1x1
 * stride-1 conv needs no im2col and is packed by gemm_pack_b. conv_tiled = GPU design (implicit
 * GEMM). FR/FS (filter size) are compile-time; the rest are arguments. */
#ifndef FR
#define FR 3
#endif
#ifndef FS
#define FS 3
#endif
#define FRS (FR * FS)

/* One im2col row (input channel plane xc, filter tap ry, rx) over the NR output pixels of a strip
 * into dst. `run`: the pixels lie in one output row (input row iy0[0] + ry, columns ix0[0] + rx
 * on, every `stride`-th): zeros above/below the image, a vector copy inside it (stride 1, or
 * the even lanes of two vectors at stride 2), else per pixel with a column check. Otherwise
 * per pixel from its precomputed input origin (iy0, ix0; pixels past HW have an origin that is
 * never inside), zero for padding. */
inline void im2col_row(__global float *restrict dst, const __global B_T *restrict xc, const int *iy0,
                       const int *ix0, int ry, int rx, int IH, int IW, int stride, bool run)
{
    if (run) {
        const int iy = iy0[0] + ry, ix = ix0[0] + rx;
        if ((uint)iy >= (uint)IH) {
#pragma unroll
            for (int v = 0; v < NV; v++)
                VSTORE((vf)(0.0f), dst + v * VW);
            return;
        }
        const __global B_T *src = xc + (long)iy * IW;
        if (stride == 1 && ix >= 0 && ix + NR <= IW) {
#pragma unroll
            for (int v = 0; v < NV; v++)
                VSTORE(LDBV(VW, src, ix + v * VW), dst + v * VW);
            return;
        }
        if (stride == 2 && ix >= 0 && ix + 2 * NR <= IW) {
#pragma unroll
            for (int v = 0; v < NV; v++) {
                const vf lo = LDBV(VW, src, ix + 2 * v * VW), hi = LDBV(VW, src, ix + (2 * v + 1) * VW);
                VSTORE((vf)(lo.even, hi.even), dst + v * VW);
            }
            return;
        }
        for (int c = 0; c < NR; c++) {
            const int x = ix + c * stride;
            const bool ok = (uint)x < (uint)IW;
            const float v = LDB1(src, ok ? x : 0);
            dst[c] = ok ? v : 0.0f;
        }
        return;
    }
    for (int c = 0; c < NR; c++) {
        const int iy = iy0[c] + ry, ix = ix0[c] + rx;
        const bool ok = (uint)iy < (uint)IH && (uint)ix < (uint)IW;
        const float v = LDB1(xc, ok ? iy * IW + ix : 0);
        dst[c] = ok ? v : 0.0f;
    }
}

/* One work-item packs the im2col rows of K-block get_group_id(1) for the NR pixels of strip
 * get_group_id(0) of image get_group_id(2) into Bp (sBp elements per image). */
__attribute__((reqd_work_group_size(1, 1, 1)))
__kernel void conv_pack_b(const __global B_T *restrict X, __global float *restrict Bp, int CI, int IH, int IW,
                          int OW, int HW, int stride, int pad, long sBp)
{
    const int j = get_group_id(0), kblk = get_group_id(1), nstrips = (HW + NR - 1) / NR;
    const long z = get_group_id(2);
    const int Kt = CI * FRS, k0 = kblk * KB, kb = min(KB, Kt - k0), n0 = j * NR;
    const __global B_T *Xb = X + z * (long)CI * IH * IW;
    __global float *bp = Bp + z * sBp + packed_b_at(kblk, j, nstrips);
    int iy0[NR], ix0[NR];
    int oy = n0 / OW, ox = n0 - oy * OW;
    const bool run = ox + NR <= OW;
    for (int c = 0; c < NR; c++) {
        iy0[c] = oy * stride - pad;
        ix0[c] = n0 + c < HW ? ox * stride - pad : -(1 << 28);
        if (++ox == OW)
            ox = 0, oy++;
    }
    int ci = k0 / FRS, rem = k0 - ci * FRS;
    for (int kk = 0; kk < kb; kk++) {
        const int ry = rem / FS, rx = rem - ry * FS;
        im2col_row(bp + kk * NR, Xb + (long)ci * IH * IW, iy0, ix0, ry, rx, IH, IW, stride, run);
        if (++rem == FRS)
            rem = 0, ci++;
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
