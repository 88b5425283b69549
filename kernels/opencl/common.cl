/* common.cl - prepended to every sdmark OpenCL program.
 * Storage types per operand: A_HALF / B_HALF / C_HALF = 1 store that operand as fp16 (read and
 * written with vload_half/vstore_half, which are core OpenCL and need no cl_khr_fp16), 0 = fp32.
 * Arithmetic is always fp32. */
#ifndef A_HALF
#define A_HALF 0
#endif
#ifndef B_HALF
#define B_HALF 0
#endif
#ifndef C_HALF
#define C_HALF 0
#endif

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)

#if A_HALF
#define A_T half
#define LDA1(p, i) vload_half((i), (p))
#else
#define A_T float
#define LDA1(p, i) ((p)[i])
#endif

#if B_HALF
#define B_T half
#define LDB1(p, i) vload_half((i), (p))
#define LDBV(n, p, i) CAT(vload_half, n)(0, (p) + (i))
#else
#define B_T float
#define LDB1(p, i) ((p)[i])
#define LDBV(n, p, i) CAT(vload, n)(0, (p) + (i))
#endif

#if C_HALF
#define C_T half
#define LDC1(p, i) vload_half((i), (p))
#define STC1(p, i, v) vstore_half((v), (i), (p))
#define LDCV(n, p, i) CAT(vload_half, n)(0, (p) + (i))
#define STCV(n, v, p, i) CAT(vstore_half, n)((v), 0, (p) + (i))
#else
#define C_T float
#define LDC1(p, i) ((p)[i])
#define STC1(p, i, v) ((p)[i] = (v))
#define LDCV(n, p, i) CAT(vload, n)(0, (p) + (i))
#define STCV(n, v, p, i) CAT(vstore, n)((v), 0, (p) + (i))
#endif

/* ---- CPU-style packed GEMM building blocks (one work-item per work-group) -----------------
 * BLIS-style: B is packed ONCE per call into a global buffer of NR-column strips, K-blocks of KB
 * rows ([z][kblock][strip][kk][NR], zero-padded columns), shared by every work-group; each
 * work-group copies its A rows (a block of at most MB rows x KB) into __local and walks its MR-row
 * strips, the strip staying in L1 while the B strips stream past it from L2. */
#ifndef MB
#define MB 96          /* most rows of C per work-item (the host may give fewer) */
#endif
#ifndef NB
#define NB 64          /* most columns of C per work-item */
#endif
#ifndef KB
#define KB 256         /* K block */
#endif
#ifndef MR
#define MR 6           /* micro-kernel rows */
#endif
#ifndef VW
#define VW 16          /* vector width of the micro-kernel (8 or 16) */
#endif
#ifndef NV
#define NV 1           /* vectors per micro-kernel row: NR = VW * NV columns */
#endif
#define NR (VW * NV)
#define MBP (((MB + MR - 1) / MR) * MR)
#define KBA (KB + 4)   /* row stride of packed A: breaks the power-of-two stride between rows */
typedef CAT(float, VW) vf;
#define VLOAD(p) CAT(vload, VW)(0, (p))
#define VSTORE(v, p) CAT(vstore, VW)((v), 0, (p))
#if A_HALF
#define LDAV(p, i) CAT(vload_half, VW)(0, (p) + (i))
#else
#define LDAV(p, i) CAT(vload, VW)(0, (p) + (i))
#endif

/* ap: MR rows of packed A (row stride KBA); bp: kb x NR packed B strip ([kk][c]). Computes the
 * MR x NR tile and adds it to (accumulate) or stores it into C (rows x cols valid). */
inline void micro_tile(const __local float *restrict ap, const __global float *restrict bp, int kb,
                       __global C_T *restrict C, int ldc, int rows, int cols, int accumulate)
{
    vf acc[MR][NV];
#pragma unroll
    for (int r = 0; r < MR; r++)
#pragma unroll
        for (int v = 0; v < NV; v++)
            acc[r][v] = (vf)(0.0f);
    for (int kk = 0; kk < kb; kk++) {
        vf b[NV];
#pragma unroll
        for (int v = 0; v < NV; v++)
            b[v] = VLOAD(bp + kk * NR + v * VW);
#pragma unroll
        for (int r = 0; r < MR; r++) {
            vf a = (vf)(ap[r * KBA + kk]);
#pragma unroll
            for (int v = 0; v < NV; v++)
                acc[r][v] = fma(a, b[v], acc[r][v]);
        }
    }
    if (rows == MR && cols == NR) {
#pragma unroll
        for (int r = 0; r < MR; r++)
#pragma unroll
            for (int v = 0; v < NV; v++) {
                __global C_T *p = C + (long)r * ldc + v * VW;
                vf x = acc[r][v];
                if (accumulate)
                    x += LDCV(VW, p, 0);
                STCV(VW, x, p, 0);
            }
    } else {
#pragma unroll
        for (int r = 0; r < MR; r++) {
            if (r < rows) {
                float tmp[NR];
#pragma unroll
                for (int v = 0; v < NV; v++)
                    VSTORE(acc[r][v], tmp + v * VW);
                __global C_T *p = C + (long)r * ldc;
                for (int c = 0; c < cols; c++) {
                    float x = tmp[c];
                    if (accumulate)
                        x += LDC1(p, c);
                    STC1(p, c, x);
                }
            }
        }
    }
}

/* Copy rows [0, mb) x cols [0, kb) of row-major A (origin at A, leading dim lda) into Ap (row
 * stride KBA), whole MR strips: rows past mb repeat row mb-1 (their results are never stored). */
inline void pack_a(__local float *restrict Ap, const __global A_T *restrict A, long lda, int mb, int kb)
{
    const int kv = kb - kb % VW, rows = ((mb + MR - 1) / MR) * MR;
    for (int r = 0; r < rows; r++) {
        const __global A_T *src = A + (long)min(r, mb - 1) * lda;
        __local float *dst = Ap + r * KBA;
        for (int kk = 0; kk < kv; kk += VW)
            VSTORE(LDAV(src, kk), dst + kk);
        for (int kk = kv; kk < kb; kk++)
            dst[kk] = LDA1(src, kk);
    }
}

/* C block (mb x nb, origin C) (+)= Ap (mb x kb) * the packed B strips from bp (kb x nb). */
inline void packed_block(const __local float *restrict Ap, const __global float *restrict bp,
                         __global C_T *restrict C, int ldc, int mb, int nb, int kb, int accumulate)
{
    const int nsn = (nb + NR - 1) / NR, nsm = (mb + MR - 1) / MR;
    for (int i = 0; i < nsm; i++) {
        const int rows = min(MR, mb - i * MR);
        for (int j = 0; j < nsn; j++)
            micro_tile(Ap + i * MR * KBA, bp + (long)j * KB * NR, kb, C + (long)(i * MR) * ldc + j * NR, ldc,
                       rows, min(NR, nb - j * NR), accumulate);
    }
}

/* Element offset of K-block kblk, strip j in a packed B of nstrips strips (one batch entry). */
inline long packed_b_at(int kblk, int j, int nstrips)
{
    return ((long)kblk * nstrips + j) * (KB * NR);
}

/* ---- GPU-style tiled GEMM parameters (work-group TX x TY, RM x RN outputs per work-item) ---- */
#ifndef TX
#define TX 16
#endif
#ifndef TY
#define TY 16
#endif
#ifndef RM
#define RM 4
#endif
#ifndef RN
#define RN 4
#endif
#ifndef BK
#define BK 16
#endif
#define BM (TY * RM)
#define BN (TX * RN)

/* The shared step of gemm_tiled and conv_tiled: with a BK-deep slice of A in As ([kk][row]) and of
 * B in Bs ([kk][col]) loaded by the work-group, each work-item accumulates its RM x RN outputs
 * (rows ty + i*TY, cols tx + j*TX). Inlined, so acc stays in registers. */
inline void tiled_mma(__local const float (*As)[BM + 1], __local const float (*Bs)[BN + 1],
                      float acc[RM][RN], int tx, int ty)
{
#pragma unroll 4
    for (int kk = 0; kk < BK; kk++) {
        float a[RM], b[RN];
#pragma unroll
        for (int i = 0; i < RM; i++)
            a[i] = As[kk][ty + i * TY];
#pragma unroll
        for (int j = 0; j < RN; j++)
            b[j] = Bs[kk][tx + j * TX];
#pragma unroll
        for (int i = 0; i < RM; i++)
#pragma unroll
            for (int j = 0; j < RN; j++)
                acc[i][j] = fma(a[i], b[j], acc[i][j]);
    }
}
