// timing.cu — the stream hold behind cuda_run's timed samples (see cuda_kernels.h).
// One thread polls a flag in mapped host memory with __nanosleep backoff; %globaltimer (ns)
// bounds the wait. Same idea as nvbench's blocking_kernel.
#include "cuda_kernels.h"

namespace {
__device__ __forceinline__ unsigned long long global_ns()
{
    unsigned long long t;
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
    return t;
}

__global__ void hold_kernel(const volatile int *release, volatile int *timed_out,
                            unsigned long long timeout_ns)
{
    const unsigned long long t0 = global_ns();
    while (*release == 0) {
        if (global_ns() - t0 > timeout_ns) {
            *timed_out = 1;
            __threadfence_system();
            return;
        }
        __nanosleep(500);
    }
}
} // namespace

extern "C" cudaError_t sd_cuda_hold_launch(const volatile int *release, volatile int *timed_out,
                                           unsigned long long timeout_ns, cudaStream_t stream)
{
    hold_kernel<<<1, 1, 0, stream>>>(release, timed_out, timeout_ns);
    return cudaGetLastError();
}
