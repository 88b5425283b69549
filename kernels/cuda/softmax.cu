// softmax.cu — row softmax for the unfused / sliced attention impls (scores produced by cuBLAS,
// already scaled by 1/sqrt(d) through the GEMM's alpha), in place, any storage type.
// fp16/bf16 rows keep their scores in fp32 (SD 2.x overflowed fp16 scores with real activations):
// the fp32 kernel then writes the 16-bit probabilities P over the first half of each fp32 row
// (P's row stride is 2*cols elements), so P V reads 16-bit P and no second buffer is needed.
//
// Kernel versions:
//   v1: one warp per row (8 rows per 256-thread block), three passes over the row (max, sum of
//       exp, normalise) in fp32 with expf; any row length. Memory bound, which is the point:
//       the unfused impl pays for writing and re-reading the whole score matrix.
//   Not tried yet: one pass with an online max/sum (2 reads instead of 3), vector loads.
#include "common.cuh"
#include "cuda_kernels.h"
#include "sdmark/workload.h"

using namespace sdk;

namespace {
// The row's max and 1/sum(exp(x - max)), reduced over the warp (every lane gets both).
template <typename T>
__device__ __forceinline__ void row_max_inv(const T *r, int64_t cols, int lane, float &mx, float &inv)
{
    mx = -INFINITY;
    for (int64_t c = lane; c < cols; c += 32)
        mx = fmaxf(mx, Ty<T>::to_f(r[c]));
    mx = warp_max(mx);
    float sum = 0.f;
    for (int64_t c = lane; c < cols; c += 32)
        sum += expf(Ty<T>::to_f(r[c]) - mx);
    inv = 1.f / warp_sum(sum);
}

template <typename T>
__global__ void __launch_bounds__(256) softmax_rows_kernel(T *S, int64_t rows, int64_t cols)
{
    const int64_t row = (int64_t)blockIdx.x * 8 + (threadIdx.x >> 5);
    const int lane = threadIdx.x & 31;
    if (row >= rows)
        return; // whole warp leaves together
    T *r = S + row * cols;
    float mx, inv;
    row_max_inv(r, cols, lane, mx, inv);
    for (int64_t c = lane; c < cols; c += 32)
        r[c] = Ty<T>::from_f(expf(Ty<T>::to_f(r[c]) - mx) * inv);
}
// fp32 scores in, 16-bit probabilities out over the same row: element c of P occupies bytes
// [2c, 2c+2) of the row, which hold fp32 element c/2 <= c. Each chunk of 32 columns is read by the
// whole warp before any lane writes (__syncwarp), and later chunks start beyond what is written, so
// no lane overwrites a score another lane has yet to read.
template <typename T>
__global__ void __launch_bounds__(256) softmax_rows_narrow_kernel(float *S, int64_t rows, int64_t cols)
{
    const int64_t row = (int64_t)blockIdx.x * 8 + (threadIdx.x >> 5);
    const int lane = threadIdx.x & 31;
    if (row >= rows)
        return; // whole warp leaves together
    float *r = S + row * cols;
    T *p = reinterpret_cast<T *>(r);
    float mx, inv;
    row_max_inv(r, cols, lane, mx, inv);
    for (int64_t c0 = 0; c0 < cols; c0 += 32) { // uniform trip count: every lane reaches __syncwarp
        const int64_t c = c0 + lane;
        const float v = c < cols ? expf(r[c] - mx) * inv : 0.f;
        __syncwarp();
        if (c < cols)
            p[c] = Ty<T>::from_f(v);
    }
}
} // namespace

extern "C" cudaError_t sd_cuda_softmax_narrow_launch(float *s, int64_t rows, int64_t cols, int out_dtype,
                                                     cudaStream_t stream)
{
    sd_cuda_launch l;
    char why[128];
    if (sd_cuda_softmax_config(rows, cols, &l, why, sizeof(why)) != 0)
        return cudaErrorInvalidValue;
    dim3 grid(l.grid[0]), block(l.block[0]);
    if (out_dtype == SD_FP16)
        softmax_rows_narrow_kernel<__half><<<grid, block, 0, stream>>>(s, rows, cols);
    else if (out_dtype == SD_BF16)
        softmax_rows_narrow_kernel<__nv_bfloat16><<<grid, block, 0, stream>>>(s, rows, cols);
    else
        return cudaErrorInvalidValue;
    return cudaGetLastError();
}

extern "C" cudaError_t sd_cuda_softmax_launch(void *s, int64_t rows, int64_t cols, int dtype,
                                              cudaStream_t stream)
{
    sd_cuda_launch l;
    char why[128];
    if (sd_cuda_softmax_config(rows, cols, &l, why, sizeof(why)) != 0)
        return cudaErrorInvalidValue;
    dim3 grid(l.grid[0]), block(l.block[0]);
    switch (dtype) {
    case SD_FP32:
    case SD_TF32:
        softmax_rows_kernel<float><<<grid, block, 0, stream>>>((float *)s, rows, cols);
        break;
    case SD_FP16:
        softmax_rows_kernel<__half><<<grid, block, 0, stream>>>((__half *)s, rows, cols);
        break;
    case SD_BF16:
        softmax_rows_kernel<__nv_bfloat16><<<grid, block, 0, stream>>>((__nv_bfloat16 *)s, rows, cols);
        break;
    default:
        return cudaErrorInvalidValue;
    }
    return cudaGetLastError();
}
