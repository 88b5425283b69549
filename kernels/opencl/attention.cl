/* attention.cl - O = softmax(Q K^T * scale) V per head; Q,K,V,O are [bh][seq][HD].
 *   softmax_rows  in-place row softmax of an fp32 score matrix (unfused / sliced paths; the
 *                 GEMMs come from gemm.cl). One work-item per row, explicit float16 vectors.
 *   flash_cpu     fused, online softmax, CPU design: one work-item per work-group handles
 *                 FQS strips of FQR query rows; K (transposed) and V chunks of FKC keys are packed
 *                 into __local; scores for 16*FNKV keys at a time are an FQR x (16*FNKV)
 *                 micro-kernel, then one rescale per step; P*V in FVD-wide vectors over head_dim.
 *   flash_gpu     fused, GPU design: one query row per work-item, FBQ rows per work-group,
 *                 K/V tiles of FBKV keys in __local.
 * Q/K/V are B_T (fp16 when B_HALF), O is C_T. HD (head_dim) is compile-time. */
#ifndef HD
#define HD 64
#endif
#ifndef FQR
#define FQR 6
#endif
#ifndef FQS
#define FQS 8
#endif
#ifndef FNKV
#define FNKV 2
#endif
#ifndef FKC
#define FKC 256
#endif
#ifndef FVD
#define FVD 16
#endif
#ifndef FBQ
#define FBQ 64
#endif
#ifndef FBKV
#define FBKV 32
#endif
#define FQB (FQR * FQS)
#define FKS (16 * FNKV)
#define HDP (((HD + FVD - 1) / FVD) * FVD)
#define NDV (HDP / FVD)
#define FKCP (((FKC + FKS - 1) / FKS) * FKS)
typedef CAT(float, FVD) vd;
#define VDLOAD(p) CAT(vload, FVD)(0, (p))
#define VDSTORE(v, p) CAT(vstore, FVD)((v), 0, (p))

inline float hmax16(float16 v)
{
    float8 a = fmax(v.lo, v.hi);
    float4 b = fmax(a.lo, a.hi);
    float2 c = fmax(b.lo, b.hi);
    return fmax(c.x, c.y);
}

inline float hsum16(float16 v)
{
    float8 a = v.lo + v.hi;
    float4 b = a.lo + a.hi;
    float2 c = b.lo + b.hi;
    return c.x + c.y;
}

/* scale_log2 = scale * log2(e): softmax via exp2. */
__kernel void softmax_rows(__global float *S, int n, long ld, long off, float scale_log2)
{
    __global float *p = S + off + (long)get_global_id(0) * ld;
    float16 m16 = (float16)(-INFINITY);
    int j = 0;
    for (; j + 16 <= n; j += 16)
        m16 = fmax(m16, vload16(0, p + j));
    float mx = hmax16(m16);
    for (; j < n; j++)
        mx = fmax(mx, p[j]);
    const float ms = mx * scale_log2;
    float16 s16 = (float16)(0.0f);
    for (j = 0; j + 16 <= n; j += 16) {
        float16 e = exp2(fma(vload16(0, p + j), (float16)(scale_log2), (float16)(-ms)));
        vstore16(e, 0, p + j);
        s16 += e;
    }
    float sum = hsum16(s16);
    for (; j < n; j++) {
        float e = exp2(fma(p[j], scale_log2, -ms));
        p[j] = e;
        sum += e;
    }
    const float inv = 1.0f / sum;
    for (j = 0; j + 16 <= n; j += 16)
        vstore16(vload16(0, p + j) * inv, 0, p + j);
    for (; j < n; j++)
        p[j] *= inv;
}

__attribute__((reqd_work_group_size(1, 1, 1)))
__kernel void flash_cpu(const __global B_T *restrict Q, const __global B_T *restrict K,
                        const __global B_T *restrict V, __global C_T *restrict O, int SQ, int SKV,
                        float scale_log2)
{
    __local float Kt[HD * FKCP];     /* [key block of FKS][d][FKS]: contiguous per step */
    __local float Vp[FKCP * HDP];    /* [key][d], zero padded */
    __local float Qp[FQB * HD];      /* scaled query rows */
    float acc[FQB * HDP];
    float mrow[FQB], lrow[FQB];
    float pr[FQR * FKS];
    const long bh = get_group_id(1);
    const int q0 = get_group_id(0) * FQB;
    const int nq = min(FQB, SQ - q0);
    Q += (bh * SQ + q0) * HD;
    O += (bh * SQ + q0) * HD;
    K += bh * SKV * HD;
    V += bh * SKV * HD;
    for (int r = 0; r < FQB; r++) {
        for (int d = 0; d < HD; d++)
            Qp[r * HD + d] = r < nq ? LDB1(Q, r * HD + d) * scale_log2 : 0.0f;
        for (int d = 0; d < HDP; d++)
            acc[r * HDP + d] = 0.0f;
        mrow[r] = -INFINITY;
        lrow[r] = 0.0f;
    }
    const int nstrips = (nq + FQR - 1) / FQR;
    for (int c0 = 0; c0 < SKV; c0 += FKC) {
        const int kc = min(FKC, SKV - c0);
        const int kcp = ((kc + FKS - 1) / FKS) * FKS;
        for (int key = 0; key < kcp; key++) {
            const bool ok = key < kc;
            const __global B_T *kr = K + (long)(c0 + (ok ? key : 0)) * HD;
            const __global B_T *vr = V + (long)(c0 + (ok ? key : 0)) * HD;
            for (int d = 0; d < HD; d++) {
                Kt[(key / FKS) * (HD * FKS) + d * FKS + key % FKS] = ok ? LDB1(kr, d) : 0.0f;
                Vp[key * HDP + d] = ok ? LDB1(vr, d) : 0.0f;
            }
            for (int d = HD; d < HDP; d++)
                Vp[key * HDP + d] = 0.0f;
        }
        for (int s = 0; s < nstrips; s++) {
            const __local float *qs = Qp + s * FQR * HD;
            for (int kb = 0; kb < kc; kb += FKS) {
                const __local float *kt = Kt + (kb / FKS) * (HD * FKS);
                float16 sc[FQR][FNKV];
#pragma unroll
                for (int r = 0; r < FQR; r++)
#pragma unroll
                    for (int u = 0; u < FNKV; u++)
                        sc[r][u] = (float16)(0.0f);
                for (int d = 0; d < HD; d++) {
                    float16 kv[FNKV];
#pragma unroll
                    for (int u = 0; u < FNKV; u++)
                        kv[u] = vload16(0, kt + d * FKS + u * 16);
#pragma unroll
                    for (int r = 0; r < FQR; r++) {
                        float16 a = (float16)(qs[r * HD + d]);
#pragma unroll
                        for (int u = 0; u < FNKV; u++)
                            sc[r][u] = fma(a, kv[u], sc[r][u]);
                    }
                }
                if (kb + FKS > kc) { /* mask keys beyond this chunk */
                    const int16 lane = (int16)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
#pragma unroll
                    for (int u = 0; u < FNKV; u++) {
                        const int16 bad = lane + (int16)(kb + u * 16) >= (int16)(kc);
#pragma unroll
                        for (int r = 0; r < FQR; r++)
                            sc[r][u] = select(sc[r][u], (float16)(-INFINITY), bad);
                    }
                }
#pragma unroll
                for (int r = 0; r < FQR; r++) {
                    const int row = s * FQR + r;
                    float mx = hmax16(sc[r][0]);
#pragma unroll
                    for (int u = 1; u < FNKV; u++)
                        mx = fmax(mx, hmax16(sc[r][u]));
                    const float mold = mrow[row];
                    const float mnew = fmax(mold, mx);
                    const float corr = exp2(mold - mnew);
                    float16 ps = (float16)(0.0f);
#pragma unroll
                    for (int u = 0; u < FNKV; u++) {
                        float16 p = exp2(sc[r][u] - (float16)(mnew));
                        ps += p;
                        vstore16(p, 0, pr + r * FKS + u * 16);
                    }
                    lrow[row] = lrow[row] * corr + hsum16(ps);
                    mrow[row] = mnew;
                    if (corr != 1.0f) {
                        float *ar = acc + row * HDP;
                        for (int dv = 0; dv < NDV; dv++)
                            VDSTORE(VDLOAD(ar + dv * FVD) * corr, ar + dv * FVD);
                    }
                }
                /* acc[strip rows] += P (FQR x FKS) * V[kb .. kb+FKS) */
                for (int dv = 0; dv < NDV; dv++) {
                    vd o[FQR];
#pragma unroll
                    for (int r = 0; r < FQR; r++)
                        o[r] = VDLOAD(acc + (s * FQR + r) * HDP + dv * FVD);
                    const __local float *vp = Vp + kb * HDP + dv * FVD;
                    for (int j = 0; j < FKS; j++) {
                        const vd v = VDLOAD(vp + j * HDP);
#pragma unroll
                        for (int r = 0; r < FQR; r++)
                            o[r] = fma((vd)(pr[r * FKS + j]), v, o[r]);
                    }
#pragma unroll
                    for (int r = 0; r < FQR; r++)
                        VDSTORE(o[r], acc + (s * FQR + r) * HDP + dv * FVD);
                }
            }
        }
    }
    for (int r = 0; r < nq; r++) {
        const float inv = 1.0f / lrow[r];
        for (int d = 0; d < HD; d++)
            STC1(O, r * HD + d, acc[r * HDP + d] * inv);
    }
}

/* flash_gpu walks keys [kvbeg, kvend). With kvbeg > 0 it resumes from the running max, sum and
 * unnormalised output a previous launch left in W ([bh][SQ][HD + 2], fp32); unless kvend == SKV
 * it leaves its own there instead of writing O. The host splits the keys this way on drivers that
 * end a work-item's loops early (ocl_limits.c); elsewhere one launch covers all keys. */
__attribute__((reqd_work_group_size(FBQ, 1, 1)))
__kernel void flash_gpu(const __global B_T *restrict Q, const __global B_T *restrict K,
                        const __global B_T *restrict V, __global C_T *restrict O, int SQ, int SKV,
                        float scale_log2, __global float *restrict W, int kvbeg, int kvend)
{
    __local float Ks[FBKV * HD];
    __local float Vs[FBKV * HD];
    const int lid = get_local_id(0);
    const long bh = get_group_id(1);
    const int row = get_group_id(0) * FBQ + lid;
    const bool valid = row < SQ;
    Q += (bh * SQ + (valid ? row : 0)) * HD;
    K += bh * SKV * HD;
    V += bh * SKV * HD;
    __global float *w = W + (bh * SQ + (valid ? row : 0)) * (HD + 2);
    float q[HD], acc[HD];
    for (int d = 0; d < HD; d++) {
        q[d] = LDB1(Q, d) * scale_log2;
        acc[d] = kvbeg > 0 ? w[2 + d] : 0.0f;
    }
    float m = kvbeg > 0 ? w[0] : -INFINITY, l = kvbeg > 0 ? w[1] : 0.0f;
    const int kvstop = min(SKV, kvend);
    for (int c0 = kvbeg; c0 < kvstop; c0 += FBKV) {
        const int kc = min(FBKV, kvstop - c0);
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int e = lid; e < FBKV * HD; e += FBQ) {
            const int key = e / HD;
            Ks[e] = key < kc ? LDB1(K, (long)c0 * HD + e) : 0.0f;
            Vs[e] = key < kc ? LDB1(V, (long)c0 * HD + e) : 0.0f;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        float s[FBKV];
        float mx = m;
#pragma unroll
        for (int j = 0; j < FBKV; j++) {
            float t = 0.0f;
            for (int d = 0; d < HD; d++)
                t = fma(q[d], Ks[j * HD + d], t);
            s[j] = j < kc ? t : -INFINITY;
            mx = fmax(mx, s[j]);
        }
        const float corr = exp2(m - mx);
        l *= corr;
        for (int d = 0; d < HD; d++)
            acc[d] *= corr;
#pragma unroll
        for (int j = 0; j < FBKV; j++) {
            const float p = exp2(s[j] - mx);
            l += p;
            for (int d = 0; d < HD; d++)
                acc[d] = fma(p, Vs[j * HD + d], acc[d]);
        }
        m = mx;
    }
    if (valid && kvstop < SKV) {
        w[0] = m;
        w[1] = l;
        for (int d = 0; d < HD; d++)
            w[2 + d] = acc[d];
    } else if (valid) {
        const float inv = 1.0f / l;
        for (int d = 0; d < HD; d++)
            STC1(O, (long)(bh * SQ + row) * HD + d, acc[d] * inv);
    }
}
