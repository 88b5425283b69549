/* cuda_kernels.h — host-callable launchers of the project's own kernels (kernels/cuda/ *.cu files).
 * All are asynchronous on `stream` and return the launch error (cudaGetLastError), never abort. */
#ifndef SDMARK_CUDA_KERNELS_H
#define SDMARK_CUDA_KERNELS_H

#include <cuda_runtime_api.h>
#include "cuda_plan.h"

#ifdef __cplusplus
extern "C" {
#endif

/* gemm.cu: tensor-core implicit GEMM (dense or conv im2col, see cuda_plan.h). */
cudaError_t sd_cuda_igemm_launch(const struct sd_cuda_igemm_args *a, cudaStream_t stream);
/* conv2d.cu: the im2col variants (called by sd_cuda_igemm_launch). */
cudaError_t sd_cuda_conv_igemm_launch(const struct sd_cuda_igemm_args *a,
                                      const struct sd_cuda_launch *l, cudaStream_t stream);

/* attention.cu: one-time setup (shared-memory opt-in above 48 KiB) and the fused kernel. */
cudaError_t sd_cuda_flash_setup(const struct sd_cuda_attn_args *a);
cudaError_t sd_cuda_flash_launch(const struct sd_cuda_attn_args *a, cudaStream_t stream);

/* softmax.cu: in-place row softmax of a [rows, cols] matrix of dtype (fp32, fp16, bf16). */
cudaError_t sd_cuda_softmax_launch(void *s, int64_t rows, int64_t cols, int dtype,
                                   cudaStream_t stream);
/* softmax.cu: fp32 scores in, fp16/bf16 probabilities written over the first half of each fp32
 * row (row stride 2*cols 16-bit elements), for 16-bit rows that keep fp32 scores. */
cudaError_t sd_cuda_softmax_narrow_launch(float *s, int64_t rows, int64_t cols, int out_dtype,
                                          cudaStream_t stream);

/* timing.cu: hold the stream until the host writes release[0] != 0 (nvbench's blocking kernel),
 * so the start event and the work queued behind it begin together, after the host has finished
 * enqueuing. Gives up after timeout_ns and sets timed_out[0] = 1 (a library call that
 * synchronises while enqueuing would otherwise deadlock). release/timed_out: mapped host memory. */
cudaError_t sd_cuda_hold_launch(const volatile int *release, volatile int *timed_out,
                                unsigned long long timeout_ns, cudaStream_t stream);

#ifdef __cplusplus
}
#endif
#endif
