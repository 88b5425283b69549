// gemm.cu — sdmark's own GEMM ("own" impl): C[m,n] = A[m,k] * B[k,n], row-major, batched,
// fp16/bf16 storage, fp32 accumulate on tensor cores. The kernel template is in igemm.cuh.
//
// Kernel versions (llm.c dev/cuda style):
//   v1 (this file, SD_IGEMM_SCALAR): 128x128x32 block tile, 8 warps, mma.sync m16n8k16 (sm_80+;
//      2x m16n8k8 on sm_75, fp16 only), element loads with bounds checks: any m, n, k, any
//      alignment. Double-buffered shared memory.
//   v2 (SD_IGEMM_VEC): same math, 16-byte loads; cp.async (async global->shared, zero fill at
//      the edges) on sm_80+ so the next tile streams in while the current one is multiplied.
//      Chosen when k and n (and the leading dimensions) are multiples of 8 - every SD shape.
//   Not tried yet: ldmatrix fragment loads, 3-4 stage pipelines, swizzled shared memory, and a
//   Hopper wgmma + TMA path (sm_90a) - the reasons cuBLAS is faster on H100.
#include "igemm.cuh"
#include "cuda_kernels.h"
#include "sdmark/workload.h"

using namespace sdk;

extern "C" cudaError_t sd_cuda_igemm_launch(const struct sd_cuda_igemm_args *a, cudaStream_t stream)
{
    sd_cuda_launch l;
    char why[128];
    if (sd_cuda_igemm_config(a, &l, why, sizeof(why)) != 0)
        return cudaErrorInvalidValue;
    if (a->conv)
        return sd_cuda_conv_igemm_launch(a, &l, stream);
    const bool bf = a->dtype == SD_BF16;
    if (l.variant == SD_IGEMM_VEC)
        return bf ? igemm_launch_t<__nv_bfloat16, true, 1>(a, &l, stream)
                  : igemm_launch_t<__half, true, 1>(a, &l, stream);
    return bf ? igemm_launch_t<__nv_bfloat16, false, 0>(a, &l, stream)
              : igemm_launch_t<__half, false, 0>(a, &l, stream);
}
