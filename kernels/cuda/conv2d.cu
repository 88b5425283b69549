// conv2d.cu — sdmark's own convolution ("own" impl): implicit GEMM on tensor cores, fp16/bf16
// storage, fp32 accumulate; the im2col matrix is never materialised (the tile loaders gather it,
// zero padding by predication). Kernel templates: igemm.cuh; index arithmetic: igemm_layout.h.
//
// Kernel versions (SDMARK_CUDA_CONV_KERNEL; default 4; the host picks the layout, cuda_plan.c):
//   v4 (igemm3_kernel<..., SD_IG3_NHWC>, default where c_in % 8 == 0): NHWC image, KRSC filter,
//      NHWC output, like cuDNN's NHWC plans (the host converts on upload / download, outside the
//      timing, and says so in the row note). One GEMM over all images: M = batch*h*w pixels,
//      N = c_out, K = r*s*c_in with the filter taps outer: A chunks are 8 channels of one tap,
//      16 contiguous bytes, gathered by cp.async; a per-thread tap cursor advances by additions
//      only. The v3 GEMM's fragment path (ldmatrix, swizzle, 3-4 stage pipeline), B (the filter,
//      K-major) through plain ldmatrix.
//   v3 (igemm3_kernel<..., SD_IG3_NCHW>): NCHW in and out; the v3 GEMM with a gather that walks
//      the filter taps incrementally (one division pair per k-tile and thread) and stores 16-bit
//      elements into the swizzled B layout (synchronous loads: NCHW rows are not 16-byte chunks).
//   v2 (SD_IGEMM_CONV_VECA): 16-byte cp.async weight loads when c_in*r*s % 8 == 0; gather with two
//      integer divisions per element; B fragments by 16-bit LDS.U16 + PRMT.
//   v1 (SD_IGEMM_CONV): scalar weight loads + im2col gather; any c_in, r, s, stride, pad.
//   1x1 / stride 1 / pad 0 convolutions skip the gather: they are plain batched GEMMs (B = X[z]
//   as [c_in, h*w], NCHW) and are routed by the host to the dense gemm variants (gemm.cu).
//   Not tried yet: split-k for the small 8x8 late-UNet layers.
#include "igemm.cuh"
#include "cuda_kernels.h"
#include "sdmark/workload.h"

using namespace sdk;

namespace {

// SDMARK_CUDA_CONV_KERNEL: 1 or 2 = the old kernel, else v3 for NCHW plans (v4 plans are NHWC
// and chosen by the host, sd_cuda_conv_igemm_args); read once.
int conv_version()
{
    static const int v = env_version("SDMARK_CUDA_CONV_KERNEL", 4, 1, 4) >= 3 ? 3 : 2;
    return v;
}

} // namespace

extern "C" cudaError_t sd_cuda_conv_igemm_launch(const struct sd_cuda_igemm_args *a,
                                                 const struct sd_cuda_launch *l, cudaStream_t stream)
{
    const bool bf = a->dtype == SD_BF16;
    if (l->variant == SD_IGEMM_CONV_NHWC_VEC) { // v4; 32-bit k checked by the host
        const int tile = igemm3_tile(a); // planned by the host (tile, split-K), or chosen here
        if (tile < 0)
            return cudaErrorInvalidValue;
        return bf ? igemm3_launch_t<__nv_bfloat16, SD_IG3_NHWC>(a, tile, stream)
                  : igemm3_launch_t<__half, SD_IG3_NHWC>(a, tile, stream);
    }
    if (l->variant == SD_IGEMM_CONV_VECA) {
        if (conv_version() == 3 && a->k < 2147483647LL - 64 && a->in_h < (1 << 30) &&
            a->in_w < (1 << 30)) { // v3 uses 32-bit k and image coordinates
            const int tile = igemm3_tile(a); // planned by the host (tile, split-K), or chosen here
            if (tile >= 0)
                return bf ? igemm3_launch_t<__nv_bfloat16, SD_IG3_NCHW>(a, tile, stream)
                          : igemm3_launch_t<__half, SD_IG3_NCHW>(a, tile, stream);
        }
        return bf ? igemm_launch_t<__nv_bfloat16, true, 2>(a, l, stream)
                  : igemm_launch_t<__half, true, 2>(a, l, stream);
    }
    return bf ? igemm_launch_t<__nv_bfloat16, false, 2>(a, l, stream)
              : igemm_launch_t<__half, false, 2>(a, l, stream);
}
