// conv2d.cu — sdmark's own convolution ("own" impl): implicit GEMM on tensor cores, NCHW in and
// NCHW out (the layout the workload states; no conversion), fp16/bf16 storage, fp32 accumulate.
// Per image z: Y[z][c_out, h*w] = W[c_out, c_in*r*s] * im2col(X[z])[c_in*r*s, h*w], where the
// im2col matrix is never materialised: the B-tile loader gathers it from X (zero padding by
// predication). Kernel templates: igemm.cuh.
//
// Kernel versions (SDMARK_CUDA_CONV_KERNEL=2 picks v2 instead of the default v3):
//   v1 (SD_IGEMM_CONV): scalar weight loads + im2col gather; any c_in, r, s, stride, pad.
//   v2 (SD_IGEMM_CONV_VECA): 16-byte cp.async weight loads when c_in*r*s % 8 == 0 (all SD convs).
//      Gather: two integer divisions per element; B fragments by 16-bit LDS.U16 + PRMT.
//   v3 (igemm3_kernel<..., CONV = true>, default where v2 applies): the v3 GEMM (ldmatrix
//      fragments, swizzled shared memory, 3-4 stage pipeline, tile chosen per shape) with a
//      gather that walks the filter taps incrementally (one division pair per k-tile and thread,
//      none per element) and stores into the swizzled B layout.
//   1x1 / stride 1 / pad 0 convolutions skip the gather: they are plain batched GEMMs (B = X[z]
//   as [c_in, h*w]) and are routed by the host to the dense gemm variants (gemm.cu).
//   Not tried yet: NHWC (channels-last) with 16-byte cp.async gathers (needs an input transpose
//   and a workspace the host would allocate and track), split-k for the small 8x8 late-UNet
//   layers.
#include "igemm.cuh"
#include "cuda_kernels.h"
#include "sdmark/workload.h"

using namespace sdk;

namespace {

// SDMARK_CUDA_CONV_KERNEL: 1 or 2 = the old kernel, else 3; read once.
int conv_version()
{
    static const int v = env_version("SDMARK_CUDA_CONV_KERNEL", 3, 1, 3) == 3 ? 3 : 2;
    return v;
}

} // namespace

extern "C" cudaError_t sd_cuda_conv_igemm_launch(const struct sd_cuda_igemm_args *a,
                                                 const struct sd_cuda_launch *l, cudaStream_t stream)
{
    const bool bf = a->dtype == SD_BF16;
    if (l->variant == SD_IGEMM_CONV_VECA) {
        if (conv_version() == 3 && a->k < 2147483647LL - 64 && a->in_h < (1 << 30) &&
            a->in_w < (1 << 30)) { // v3 uses 32-bit k and image coordinates
            const int tile = sd_ig_choose_tile(a->m, a->n, a->k, a->batch,
                                               device_attr<cudaDevAttrMultiProcessorCount>());
            if (tile >= 0)
                return bf ? igemm3_launch_t<__nv_bfloat16, true>(a, tile, stream)
                          : igemm3_launch_t<__half, true>(a, tile, stream);
        }
        return bf ? igemm_launch_t<__nv_bfloat16, true, 2>(a, l, stream)
                  : igemm_launch_t<__half, true, 2>(a, l, stream);
    }
    return bf ? igemm_launch_t<__nv_bfloat16, false, 2>(a, l, stream)
              : igemm_launch_t<__half, false, 2>(a, l, stream);
}
