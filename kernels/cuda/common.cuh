// common.cuh — device helpers shared by the sdmark CUDA kernels:
//   storage-type traits (fp32 / fp16 / bf16 <-> float), warp reductions,
//   mma.sync m16n8k16 (fp16/bf16 in, fp32 accumulate) with an sm_75 fallback (2x m16n8k8, fp16
//   only), ldmatrix(.trans) x4 fragment loads (sm_75+), and cp.async 16-byte copies with zero fill
//   (plain loads below sm_80).
//
// mma.sync m16n8k16 fragment layout (PTX ISA), g = lane>>2, t = lane&3:
//   A (16x16, row): reg0 = A[g][2t..2t+1], reg1 = A[g+8][2t..], reg2 = A[g][2t+8..], reg3 = A[g+8][2t+8..]
//   B (16x8, col):  reg0 = B[2t..2t+1][g], reg1 = B[2t+8..2t+9][g]   (lower half = lower k)
//   C (16x8):       c0,c1 = C[g][2t..2t+1], c2,c3 = C[g+8][2t..2t+1]
#pragma once
#include <cuda_fp16.h>
#include <cuda_bf16.h>
#include <stdint.h>
#include <stdlib.h>

#include "cuda_plan.h"

namespace sdk {

template <typename T> struct Ty;
template <> struct Ty<float> {
    static __device__ __forceinline__ float to_f(float x) { return x; }
    static __device__ __forceinline__ float from_f(float x) { return x; }
};
template <> struct Ty<__half> {
    static __device__ __forceinline__ float to_f(__half x) { return __half2float(x); }
    static __device__ __forceinline__ __half from_f(float x) { return __float2half_rn(x); }
    static __device__ __forceinline__ uint32_t pack2(float lo, float hi)
    {
        __half2 h = __floats2half2_rn(lo, hi); // .x (low 16 bits) = lo
        return *reinterpret_cast<uint32_t *>(&h);
    }
};
template <> struct Ty<__nv_bfloat16> {
    static __device__ __forceinline__ float to_f(__nv_bfloat16 x) { return __bfloat162float(x); }
    static __device__ __forceinline__ __nv_bfloat16 from_f(float x) { return __float2bfloat16_rn(x); }
    static __device__ __forceinline__ uint32_t pack2(float lo, float hi)
    {
        __nv_bfloat162 h = __floats2bfloat162_rn(lo, hi);
        return *reinterpret_cast<uint32_t *>(&h);
    }
};

__device__ __forceinline__ float warp_max(float v)
{
#pragma unroll
    for (int o = 16; o > 0; o >>= 1)
        v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}
__device__ __forceinline__ float warp_sum(float v)
{
#pragma unroll
    for (int o = 16; o > 0; o >>= 1)
        v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

// 32-bit load of two consecutive 16-bit elements (element offset must be even).
__device__ __forceinline__ uint32_t ld_pair(const uint16_t *p)
{
    return *reinterpret_cast<const uint32_t *>(p);
}
// Two 16-bit elements from different rows packed (lo first).
__device__ __forceinline__ uint32_t pack_u16(uint16_t lo, uint16_t hi)
{
    return (uint32_t)lo | ((uint32_t)hi << 16);
}

// D += A * B, m16n8k16, fp32 accumulate.
template <typename T> __device__ __forceinline__ void mma16816(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2]);

template <> __device__ __forceinline__ void mma16816<__half>(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2])
{
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 "
                 "{%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
#elif defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 750
    // Turing: k16 = two k8 steps (A cols 0-7 = reg0/reg1, cols 8-15 = reg2/reg3).
    asm volatile("mma.sync.aligned.m16n8k8.row.col.f32.f16.f16.f32 "
                 "{%0,%1,%2,%3}, {%4,%5}, {%6}, {%0,%1,%2,%3};\n"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(b[0]));
    asm volatile("mma.sync.aligned.m16n8k8.row.col.f32.f16.f16.f32 "
                 "{%0,%1,%2,%3}, {%4,%5}, {%6}, {%0,%1,%2,%3};\n"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(a[2]), "r"(a[3]), "r"(b[1]));
#elif defined(__CUDA_ARCH__)
    __trap();
#endif
}

template <> __device__ __forceinline__ void mma16816<__nv_bfloat16>(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2])
{
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 "
                 "{%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
#elif defined(__CUDA_ARCH__)
    __trap(); // bf16 mma needs sm_80; the host never launches it below (supports() refuses)
#endif
}

// ldmatrix (sm_75+): four 8x8 matrices of 16-bit elements from shared memory; lanes 8i..8i+7 give
// the row addresses (16 bytes each) of matrix i. Plain: register i of lane T = row T/4, elements
// 2(T%4), 2(T%4)+1 of matrix i. .trans: register i = elements [row 2(T%4)][col T/4] and
// [row 2(T%4)+1][col T/4] (the transpose of the plain case).
__device__ __forceinline__ void ldmatrix_x4(uint32_t (&r)[4], unsigned s) // s: shared address
{
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(s));
}
__device__ __forceinline__ void ldmatrix_x4_trans(uint32_t (&r)[4], unsigned s)
{
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(s));
}

__device__ __forceinline__ unsigned smem_u32(const void *p)
{
    return (unsigned)__cvta_generic_to_shared(p);
}

// D += A * B, m16n8k8 (the k8 tail of head_dim 40): A 16x8 = a0 (rows g, k 2t..2t+1),
// a1 (rows g+8); B 8x8 = b0 (k 2t..2t+1, col g). fp16 from sm_75, bf16 from sm_80.
template <typename T> __device__ __forceinline__ void mma1688(float (&d)[4], const uint32_t (&a)[2], uint32_t b);
template <> __device__ __forceinline__ void mma1688<__half>(float (&d)[4], const uint32_t (&a)[2], uint32_t b)
{
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 750
    asm volatile("mma.sync.aligned.m16n8k8.row.col.f32.f16.f16.f32 "
                 "{%0,%1,%2,%3}, {%4,%5}, {%6}, {%0,%1,%2,%3};\n"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(b));
#elif defined(__CUDA_ARCH__)
    __trap();
#endif
}
template <> __device__ __forceinline__ void mma1688<__nv_bfloat16>(float (&d)[4], const uint32_t (&a)[2], uint32_t b)
{
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
    asm volatile("mma.sync.aligned.m16n8k8.row.col.f32.bf16.bf16.f32 "
                 "{%0,%1,%2,%3}, {%4,%5}, {%6}, {%0,%1,%2,%3};\n"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(b));
#elif defined(__CUDA_ARCH__)
    __trap();
#endif
}

// ldmatrix .x2 (lanes 0-15 give the row addresses of matrices 0 and 1; the others are unused).
__device__ __forceinline__ void ldmatrix_x2(uint32_t (&r)[2], unsigned s)
{
    asm volatile("ldmatrix.sync.aligned.m8n8.x2.shared.b16 {%0,%1}, [%2];\n"
                 : "=r"(r[0]), "=r"(r[1])
                 : "r"(s));
}
__device__ __forceinline__ void ldmatrix_x2_trans(uint32_t (&r)[2], unsigned s)
{
    asm volatile("ldmatrix.sync.aligned.m8n8.x2.trans.shared.b16 {%0,%1}, [%2];\n"
                 : "=r"(r[0]), "=r"(r[1])
                 : "r"(s));
}

// 16-byte global -> shared copy; valid == false writes zeros (src is not read).
__device__ __forceinline__ void cp_async16(void *smem, const void *gmem, bool valid)
{
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
    unsigned s = (unsigned)__cvta_generic_to_shared(smem);
    int n = valid ? 16 : 0;
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(s), "l"(gmem), "r"(n));
#else
    uint4 v = make_uint4(0, 0, 0, 0);
    if (valid)
        v = *reinterpret_cast<const uint4 *>(gmem);
    *reinterpret_cast<uint4 *>(smem) = v;
#endif
}
__device__ __forceinline__ void cp_async_commit()
{
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
    asm volatile("cp.async.commit_group;\n" ::);
#endif
}
template <int N> __device__ __forceinline__ void cp_async_wait()
{
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
    asm volatile("cp.async.wait_group %0;\n" ::"n"(N));
#endif
}

// Host: the kernel version chosen by environment variable `name` (an integer in lo..hi; anything
// else, or unset: dflt). The launchers read it once and keep it.
inline int env_version(const char *name, int dflt, int lo, int hi)
{
    return sd_cuda_parse_version(getenv(name), dflt, lo, hi); // cuda_plan.c: the host's rule too
}

// Host: attribute A of the current device, cached per device id (0 when it cannot be read).
// Used by the launchers to pick tiles (SM count) and kernels (opt-in shared memory).
template <cudaDeviceAttr A> inline int device_attr()
{
    static int cache[64];
    int dev = 0;
    if (cudaGetDevice(&dev) != cudaSuccess || dev < 0 || dev >= 64)
        return 0;
    if (cache[dev] == 0) {
        int n = 0;
        if (cudaDeviceGetAttribute(&n, A, dev) != cudaSuccess)
            return 0;
        cache[dev] = n;
    }
    return cache[dev];
}

} // namespace sdk
