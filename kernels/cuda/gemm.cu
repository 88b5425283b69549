// gemm.cu — sdmark's own GEMM ("own" impl): C[m,n] = A[m,k] * B[k,n], row-major, batched,
// fp16/bf16 storage, fp32 accumulate on tensor cores. Kernel templates: igemm.cuh.
//
// Kernel versions (llm.c dev/cuda style). SDMARK_CUDA_GEMM_KERNEL=1|2|3 picks one (default 3);
// a version a shape cannot use falls back to the next lower one that can (3 -> 1 when the rows
// are not 16-byte aligned). A GPU session compares them with the same suite, one value at a time.
//   v1 (SD_IGEMM_SCALAR): 128x128x32 block tile, 8 warps (warp tile 64x32), mma.sync m16n8k16
//      (sm_80+; 2x m16n8k8 on sm_75, fp16 only), element loads with bounds checks: any m, n, k,
//      any alignment. Double-buffered shared memory, padded rows, 32-bit fragment loads.
//   v2 (SD_IGEMM_VEC): v1 with 16-byte loads; cp.async on sm_80+ so the next tile streams in
//      while the current one is multiplied. Meter (sm_90): 2.00 shared loads per HMMA, 32
//      16-bit LDS.U16 + PRMT for B per k-tile: shared-memory bound.
//   v3 (igemm3_kernel, default; needs k, n, lda, ldb, batch strides % 8 == 0 like v2):
//      ldmatrix.x4 for A, ldmatrix.x4.trans for B (no 16-bit loads, no packing), XOR-swizzled
//      shared memory instead of padding (conflict-free ldmatrix phases), a 3-4 stage cp.async
//      pipeline with one barrier per k-tile, 4 warps with 64x64 / 32x64 / 32x32 warp tiles, and
//      the block tile and a k-split planned per shape by the host (sd_cuda_igemm_plan, from
//      sd_ig_choose in igemm_layout.h and the SM count): 128x128 for large GEMMs, 64x128 / 64x64
//      where 128x128 leaves SMs idle, split-K where even those do (m = 154 text context: 64x64
//      x 6 k-ranges on 132 SMs; the last block of a tile sums the fp32 partials, igemm.cuh).
//      Its index arithmetic is emulated against fp64 in tests/test_cuda_kernels_host.c.
//   Not tried yet: a Hopper wgmma + TMA path (sm_90a), 128x256 tiles with 8 warps.
#include "igemm.cuh"
#include "cuda_kernels.h"
#include "sdmark/workload.h"

using namespace sdk;

namespace {

// SDMARK_CUDA_GEMM_KERNEL (1, 2 or 3; anything else: 3), read once.
int gemm_version()
{
    static const int v = env_version("SDMARK_CUDA_GEMM_KERNEL", 3, 1, 3);
    return v;
}

} // namespace

extern "C" cudaError_t sd_cuda_igemm_launch(const struct sd_cuda_igemm_args *a, cudaStream_t stream)
{
    sd_cuda_launch l;
    char why[128];
    if (sd_cuda_igemm_config(a, &l, why, sizeof(why)) != 0)
        return cudaErrorInvalidValue;
    if (a->conv)
        return sd_cuda_conv_igemm_launch(a, &l, stream);
    const bool bf = a->dtype == SD_BF16;
    const int ver = gemm_version();
    if (ver >= 3 && l.variant == SD_IGEMM_VEC && a->k < 2147483647LL - 64) { // 32-bit k in v3
        const int tile = igemm3_tile(a); // planned by the host (tile, split-K), or chosen here
        if (tile >= 0)
            return bf ? igemm3_launch_t<__nv_bfloat16>(a, tile, stream)
                      : igemm3_launch_t<__half>(a, tile, stream);
    }
    if (ver >= 2 && l.variant == SD_IGEMM_VEC)
        return bf ? igemm_launch_t<__nv_bfloat16, true, 1>(a, &l, stream)
                  : igemm_launch_t<__half, true, 1>(a, &l, stream);
    return bf ? igemm_launch_t<__nv_bfloat16, false, 0>(a, &l, stream)
              : igemm_launch_t<__half, false, 0>(a, &l, stream);
}
