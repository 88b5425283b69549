/* attention.cl - O = softmax(Q K^T * scale) V per head; Q,K,V,O are [bh][seq][HD].
 *   softmax_rows  in-place row softmax of an fp32 score matrix (unfused / sliced paths; the
 *                 GEMMs come from gemm.cl). One work-item per row, explicit float16 vectors.
 *   flash_pack    packs K (transposed in blocks of FKS keys) and V (rows padded) to fp32 once per
 *                 call, for flash_cpu.
 *   flash_cpu     fused, online softmax, CPU design: one work-item per work-group handles
 *                 FQS strips of FQR query rows against chunks of FKC keys; scores for 16*FNKV keys
 *                 at a time are an FQR x (16*FNKV) micro-kernel held in registers, exponentials in
 *                 exp2 with the scale folded into Q, a lazy running max (rescale only when it
 *                 grows by more than 2^TAU); P*V in FDB x FVD-wide vectors over head_dim.
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
#ifndef FDB
#define FDB 1
#endif
/* HD padded to whole FVD vectors; the host picks FDB (d-vectors per P*V pass) dividing NDV */
#define HDP (((HD + FVD - 1) / FVD) * FVD)
#define NDV (HDP / FVD)
typedef CAT(float, FVD) vd;
#define VDLOAD(p) CAT(vload, FVD)(0, (p))

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

/* ---- flash_cpu ----------------------------------------------------------------------------
 * K and V are packed once per call by flash_pack into P (fp32): K transposed in blocks of FKS keys
 * ([bh][block][d][FKS], so one step's keys are a contiguous FKS-vector per d) and V row-major with
 * its rows padded to HDP ([bh][key][HDP]); keys past SKV are zero. Packing per work-group instead
 * cost about as many instructions as the dot products. */
#define FKCB ((FKC + FKS - 1) / FKS) /* key blocks per chunk (the chunk is reused by all strips) */
#define TAU 8.0f /* log2 units: the running max moves only when a block's max exceeds it by TAU */

/* Softmax exponentials: 2^x for x <= TAU (scores minus the running max), a few vector instructions
 * a lane where the library's exp2 handles every input range: x = n + f with n = rint(x) (adding
 * 1.5 * 2^23 rounds), 2^f on [-0.5, 0.5] by a degree-5 polynomial (relative minimax fit, error
 * 1.6e-7), n added to the exponent bits. x below -125 (masked keys, far-below-max scores) gives
 * ~2^-125 instead of 0: nothing next to the row's denominator (>= 1). */
inline float16 exp2_16(float16 x)
{
    x = select(x, (float16)(-125.0f), x < (float16)(-125.0f));
    const float16 magic = (float16)(12582912.0f);
    const float16 t = x + magic;
    const float16 f = x - (t - magic);
    const int16 n = as_int16(t) - as_int16(magic);
    float16 p = (float16)(1.327647013e-03f);
    p = fma(p, f, (float16)(9.675543755e-03f));
    p = fma(p, f, (float16)(5.550713465e-02f));
    p = fma(p, f, (float16)(2.402212024e-01f));
    p = fma(p, f, (float16)(6.931469440e-01f));
    p = fma(p, f, (float16)(1.000000119e+00f));
    return as_float16(as_int16(p) + (n << 23));
}

inline float16 vmax16(float16 a, float16 b) { return select(a, b, b > a); } /* maxps, no NaN care */

/* Whether any lane is set: an OR tree and the sign bit (the library's any() tested lane pairs one
 * branch at a time). */
inline bool any16(int16 c)
{
    int8 a = c.lo | c.hi;
    int4 b = a.lo | a.hi;
    int2 d = b.lo | b.hi;
    return (d.x | d.y) < 0;
}

inline float hmaxv16(float16 v)
{
    float8 a = select(v.lo, v.hi, v.hi > v.lo);
    float4 b = select(a.lo, a.hi, a.hi > a.lo);
    float2 c = select(b.lo, b.hi, b.hi > b.lo);
    return c.y > c.x ? c.y : c.x;
}

__kernel void flash_pack(const __global B_T *restrict K, const __global B_T *restrict V, __global float *restrict P,
                         int SKV, long voff)
{
    const int key = get_global_id(0), nblk = (SKV + FKS - 1) / FKS;
    const long bh = get_global_id(1);
    const bool ok = key < SKV;
    __global float *kt = P + (bh * nblk + key / FKS) * (HD * FKS) + key % FKS;
    __global float *vp = P + voff + (bh * nblk * FKS + key) * HDP;
    const __global B_T *kr = K + (bh * SKV + (ok ? key : 0)) * HD;
    const __global B_T *vr = V + (bh * SKV + (ok ? key : 0)) * HD;
    for (int d = 0; d < HD; d++) {
        kt[d * FKS] = ok ? LDB1(kr, d) : 0.0f;
        vp[d] = ok ? LDB1(vr, d) : 0.0f;
    }
    for (int d = HD; d < HDP; d++)
        vp[d] = 0.0f;
}

/* Scores of FQR query rows (qs, scaled) against the FKS keys of one packed block (kt). */
inline __attribute__((always_inline)) void flash_qk(const __local float *restrict qs, const __global float *restrict kt, float16 sc[FQR][FNKV])
{
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
            const float16 a = (float16)(qs[r * HD + d]);
#pragma unroll
            for (int u = 0; u < FNKV; u++)
                sc[r][u] = fma(a, kv[u], sc[r][u]);
        }
    }
}

/* Online softmax of one strip x block: scores -> probabilities in pr, with the running max m and
 * the per-lane running sums l of each row. The max moves (and the row's output and sums are
 * rescaled) only when a block's max exceeds it by more than TAU, so probabilities stay <= 2^TAU and
 * the rescale, an exp2 and HDP multiplies per row, runs a few times per row instead of every
 * block. nvalid < FKS masks the keys past SKV in the last block. */
inline __attribute__((always_inline)) void flash_softmax(float16 sc[FQR][FNKV], float16 *restrict pr, float *restrict m,
                                                         float16 *restrict l, __local vd *restrict acc, int nvalid)
{
    if (nvalid < FKS) {
        const int16 lane = (int16)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
#pragma unroll
        for (int u = 0; u < FNKV; u++) {
            const int16 bad = lane + (int16)(u * 16) >= (int16)(nvalid);
#pragma unroll
            for (int r = 0; r < FQR; r++)
                sc[r][u] = select(sc[r][u], (float16)(-INFINITY), bad);
        }
    }
    float16 mv[FQR];
    int16 up = (int16)(0);
#pragma unroll
    for (int r = 0; r < FQR; r++) {
        mv[r] = sc[r][0];
#pragma unroll
        for (int u = 1; u < FNKV; u++)
            mv[r] = vmax16(mv[r], sc[r][u]);
        up |= mv[r] > (float16)(m[r] + TAU);
    }
    if (any16(up)) { /* rare after a row's first blocks: the horizontal max only here */
#pragma unroll
        for (int r = 0; r < FQR; r++) {
            const float mx = hmaxv16(mv[r]);
            if (mx > m[r] + TAU) {
                const float corr = exp2(m[r] - mx);
                for (int dv = 0; dv < NDV; dv++)
                    acc[r * NDV + dv] *= corr;
                l[r] *= corr;
                m[r] = mx;
            }
        }
    }
#pragma unroll
    for (int r = 0; r < FQR; r++) {
        const float16 mm = (float16)(m[r]);
        float16 ps = l[r];
#pragma unroll
        for (int u = 0; u < FNKV; u++) {
            const float16 p = exp2_16(sc[r][u] - mm);
            ps += p;
            pr[r * FNKV + u] = p; /* typed stores: vstore16 became four 128-bit stores */
        }
        l[r] = ps;
    }
}

/* acc (FQR rows x NDV vectors) += pr (FQR x FKS) * V block (vp: FKS rows of HDP), FDB d-vectors a pass. */
inline __attribute__((always_inline)) void flash_pv(const float *restrict pr, const __global float *restrict vp,
                                                    __local vd *restrict acc)
{
    for (int dv0 = 0; dv0 < NDV; dv0 += FDB) {
        vd o[FQR][FDB];
#pragma unroll
        for (int r = 0; r < FQR; r++)
#pragma unroll
            for (int i = 0; i < FDB; i++)
                o[r][i] = acc[r * NDV + dv0 + i];
        for (int j = 0; j < FKS; j++) {
            vd v[FDB];
#pragma unroll
            for (int i = 0; i < FDB; i++)
                v[i] = VDLOAD(vp + j * HDP + (dv0 + i) * FVD);
#pragma unroll
            for (int r = 0; r < FQR; r++) {
                const vd pj = (vd)(pr[r * FKS + j]);
#pragma unroll
                for (int i = 0; i < FDB; i++)
                    o[r][i] = fma(pj, v[i], o[r][i]);
            }
        }
#pragma unroll
        for (int r = 0; r < FQR; r++)
#pragma unroll
            for (int i = 0; i < FDB; i++)
                acc[r * NDV + dv0 + i] = o[r][i];
    }
}

/* One work-item per work-group: FQB = FQR x FQS query rows of one head against all keys, chunk by
 * chunk (FKC keys, reused from cache by every strip of FQR rows). P from flash_pack. */
__attribute__((reqd_work_group_size(1, 1, 1)))
__kernel void flash_cpu(const __global B_T *restrict Q, const __global float *restrict P, __global C_T *restrict O,
                        int SQ, int SKV, float scale_log2, long voff)
{
    __local float Qp[FQB * HD];  /* scaled query rows */
    __local vd Acc[FQB * NDV];    /* unnormalised output rows */
    float mrow[FQB];
    float16 lrow[FQB], pr[FQR * FNKV];
    const long bh = get_group_id(1);
    const int q0 = get_group_id(0) * FQB, nq = min(FQB, SQ - q0), nblk = (SKV + FKS - 1) / FKS;
    Q += (bh * SQ + q0) * HD;
    O += (bh * SQ + q0) * HD;
    const __global float *Kt = P + bh * nblk * (HD * FKS);
    const __global float *Vp = P + voff + bh * nblk * FKS * HDP;
    for (int r = 0; r < FQB; r++) {
        for (int d = 0; d < HD; d++)
            Qp[r * HD + d] = r < nq ? LDB1(Q, r * HD + d) * scale_log2 : 0.0f;
        for (int dv = 0; dv < NDV; dv++)
            Acc[r * NDV + dv] = (vd)(0.0f);
        mrow[r] = -INFINITY;
        lrow[r] = (float16)(0.0f);
    }
    const int nstrips = (nq + FQR - 1) / FQR;
    for (int c0 = 0; c0 < nblk; c0 += FKCB) {
        const int c1 = min(nblk, c0 + FKCB);
        for (int s = 0; s < nstrips; s++) {
            for (int b = c0; b < c1; b++) {
                float16 sc[FQR][FNKV];
                flash_qk(Qp + s * FQR * HD, Kt + (long)b * (HD * FKS), sc);
                flash_softmax(sc, pr, mrow + s * FQR, lrow + s * FQR, Acc + s * FQR * NDV, min(FKS, SKV - b * FKS));
                flash_pv((const float *)pr, Vp + (long)b * FKS * HDP, Acc + s * FQR * NDV);
            }
        }
    }
    for (int r = 0; r < nq; r++) {
        const float inv = 1.0f / hsum16(lrow[r]);
        for (int dv = 0; dv < NDV; dv++) {
            const vd a = Acc[r * NDV + dv] * inv;
#pragma unroll
            for (int i = 0; i < FVD; i++)
                if (dv * FVD + i < HD)
                    STC1(O, r * HD + dv * FVD + i, a[i]);
        }
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
