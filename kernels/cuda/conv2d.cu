// conv2d.cu — sdmark's own convolution ("own" impl): implicit GEMM on tensor cores, NCHW in and
// NCHW out (the layout the workload states; no conversion), fp16/bf16 storage, fp32 accumulate.
// Per image z: Y[z][c_out, h*w] = W[c_out, c_in*r*s] * im2col(X[z])[c_in*r*s, h*w], where the
// im2col matrix is never materialised: the B-tile loader gathers it from X (zero padding by
// predication). Kernel template: igemm.cuh.
//
// Kernel versions:
//   v1 (SD_IGEMM_CONV): scalar weight loads + im2col gather; any c_in, r, s, stride, pad.
//   v2 (SD_IGEMM_CONV_VECA): 16-byte cp.async weight loads when c_in*r*s % 8 == 0 (all SD convs).
//   1x1 / stride 1 / pad 0 convolutions skip the gather: they are plain batched GEMMs (B = X[z]
//   as [c_in, h*w]) and are routed by the host to the dense gemm variants (gemm.cu).
//   Not tried yet: NHWC (channels-last) with 16-byte gathers, precomputed (ci, ri, si) tables,
//   split-k for the small 8x8 late-UNet layers.
#include "igemm.cuh"
#include "cuda_kernels.h"
#include "sdmark/workload.h"

using namespace sdk;

extern "C" cudaError_t sd_cuda_conv_igemm_launch(const struct sd_cuda_igemm_args *a,
                                                 const struct sd_cuda_launch *l, cudaStream_t stream)
{
    const bool bf = a->dtype == SD_BF16;
    if (l->variant == SD_IGEMM_CONV_VECA)
        return bf ? igemm_launch_t<__nv_bfloat16, true, 2>(a, l, stream)
                  : igemm_launch_t<__half, true, 2>(a, l, stream);
    return bf ? igemm_launch_t<__nv_bfloat16, false, 2>(a, l, stream)
              : igemm_launch_t<__half, false, 2>(a, l, stream);
}
