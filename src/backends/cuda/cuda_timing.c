/* cuda_timing.c — run(): what a timed sample contains, and nothing else.
 *
 * - Events bracket only the work (nvbench's method): a one-thread hold kernel (timing.cu) blocks
 *   the stream, the start event, the work and the stop event are queued behind it, and only then
 *   does the host release the hold. Host launch and library set-up time therefore fall before the
 *   start event on the device timeline. If the hold times out (a library call synchronised while
 *   we enqueued), the sample is taken again and the plan is timed without the hold from then on;
 *   the row note says so. A plan's first run is untimed (kernel loading, library set-up) and the
 *   hold kernel itself is loaded at open, so lazy module loading never happens behind a hold.
 * - Cold rows: the harness calls flush_cache before each timed sample; we write an L2-sized
 *   buffer (a memset with a changing byte, as nvbench's l2flush) on the stream, ahead of the hold.
 *   The buffer is measurement apparatus, not the row's memory, and is not tracked.
 * - Throttling: after each sample NVML's clock-event reasons are read; a throttled sample is taken
 *   again (up to MAX_RETAKES times), and one kept anyway is counted (env_end's `throttled`). */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>

#include "cuda_internal.h"
#include "sdmark/fault.h"

#define HOLD_TIMEOUT_NS 1000000000ull /* 1 s: far above any enqueue, short enough to recover */
#define MAX_RETAKES 3

/* The L2 flush buffer: l2_bytes of device memory, allocated once per context. */
static enum sd_status flush_alloc(struct cuda_ctx *c, char *reason, size_t len)
{
    int l2 = 0;
    if (cudaDeviceGetAttribute(&l2, cudaDevAttrL2CacheSize, c->dev) != cudaSuccess || l2 <= 0) {
        (void)cudaGetLastError();
        l2 = 64 << 20;
    }
    c->flush_bytes = (size_t)l2;
    cudaError_t e = cudaMalloc(&c->flush_buf, c->flush_bytes);
    if (e != cudaSuccess) {
        c->flush_buf = NULL;
        return sd_cuda_fail(c, e, "cudaMalloc(L2 flush buffer)", __FILE__, __LINE__, reason, len);
    }
    return SD_OK;
}

enum sd_status sd_cuda_timing_open(struct cuda_ctx *c, char *reason, size_t len)
{
    void *h = NULL, *d = NULL;
    char why[SD_REASON_LEN];
    /* now, while the device is empty; flush_cache retries if this fails */
    (void)flush_alloc(c, why, sizeof(why));
    if (cudaHostAlloc(&h, 2 * sizeof(int), cudaHostAllocMapped) != cudaSuccess ||
        cudaHostGetDevicePointer(&d, h, 0) != cudaSuccess) {
        (void)cudaGetLastError(); /* no mapped memory: samples are taken without the hold */
        if (h)
            cudaFreeHost(h);
        return SD_OK;
    }
    c->hold_host = h;
    c->hold_dev = d;
    /* Load the hold kernel now (CUDA lazy loading) with the flag already released. */
    c->hold_host[0] = 1;
    cudaError_t e = sd_cuda_hold_launch(c->hold_dev, c->hold_dev + 1, HOLD_TIMEOUT_NS, c->stream);
    if (e == cudaSuccess)
        e = cudaStreamSynchronize(c->stream);
    if (e != cudaSuccess) { /* e.g. no kernel image for this GPU: time without the hold (noted) */
        if (sd_cuda_sticky(e))
            return sd_cuda_fail(c, e, "hold kernel", __FILE__, __LINE__, reason, len);
        (void)cudaGetLastError();
        cudaFreeHost(h);
        c->hold_host = NULL;
        c->hold_dev = NULL;
    }
    return SD_OK;
}

void sd_cuda_timing_close(struct cuda_ctx *c)
{
    if (c->hold_host)
        cudaFreeHost((void *)c->hold_host);
    if (c->flush_buf)
        cudaFree(c->flush_buf);
    c->hold_host = NULL;
    c->flush_buf = NULL;
}

static enum sd_status enqueue_flush(struct cuda_ctx *c, char *reason, size_t len)
{
    CUDA_TRY(c, cudaMemsetAsync(c->flush_buf, (int)(++c->flush_count & 0xff), c->flush_bytes, c->stream));
    return SD_OK;
}

enum sd_status sd_cuda_flush_cache(struct sd_plan *p, char *reason, size_t len)
{
    struct cuda_ctx *c = p->ctx;
    DEAD_CHECK(c);
    enum sd_status st;
    if (!c->flush_buf && (st = flush_alloc(c, reason, len)) != SD_OK)
        return st;
    p->flush_each = true;
    return enqueue_flush(c, reason, len);
}

/* One sample: [hold] ev0 work ev1, release, wait. Every path after the hold launch releases it
 * before waiting, so an enqueue error cannot leave the stream blocked. */
static enum sd_status timed_once(struct sd_plan *p, int set, float *ms, bool *timed_out, char *reason,
                                 size_t len)
{
    struct cuda_ctx *c = p->ctx;
    const bool hold = c->hold_host && !p->hold_off;
    *timed_out = false;
    if (hold) {
        c->hold_host[0] = 0;
        c->hold_host[1] = 0;
        CUDA_TRY(c, sd_cuda_hold_launch(c->hold_dev, c->hold_dev + 1, HOLD_TIMEOUT_NS, c->stream));
    }
    enum sd_status st = SD_OK;
    cudaError_t e = cudaEventRecord(c->ev0, c->stream);
    if (e == cudaSuccess) {
        st = sd_cuda_enqueue(p, set, reason, len);
        if (st == SD_OK)
            e = cudaEventRecord(c->ev1, c->stream);
    }
    if (hold)
        __atomic_store_n((int *)&c->hold_host[0], 1, __ATOMIC_SEQ_CST);
    cudaError_t se = cudaStreamSynchronize(c->stream);
    if (st != SD_OK) {
        (void)cudaGetLastError();
        return st;
    }
    if (e == cudaSuccess)
        e = se;
    if (e == cudaSuccess)
        e = cudaPeekAtLastError();
    if (e == cudaSuccess)
        e = cudaEventElapsedTime(ms, c->ev0, c->ev1);
    if (e != cudaSuccess)
        return sd_cuda_fail(c, e, "timed sample", __FILE__, __LINE__, reason, len);
    *timed_out = hold && c->hold_host[1] != 0;
    return SD_OK;
}

static enum sd_status untimed(struct sd_plan *p, int set, char *reason, size_t len)
{
    struct cuda_ctx *c = p->ctx;
    enum sd_status st = sd_cuda_enqueue(p, set, reason, len);
    if (st != SD_OK) {
        cudaStreamSynchronize(c->stream);
        (void)cudaGetLastError();
        return st;
    }
    CUDA_TRY(c, cudaStreamSynchronize(c->stream));
    CUDA_TRY(c, cudaPeekAtLastError());
    return SD_OK;
}

enum sd_status sd_cuda_run(struct sd_plan *p, int set, double *ms, char *reason, size_t len)
{
    struct cuda_ctx *c = p->ctx;
    DEAD_CHECK(c);
    if (set < 0 || set >= p->nsets) {
        snprintf(reason, len, "run: set %d out of range (0..%d)", set, p->nsets - 1);
        return SD_ERROR;
    }
    if (sd_fault_hit(SD_FAULT_ENQUEUE)) {
        snprintf(reason, len, "kernel enqueue failed (injected by SDMARK_FAULT)");
        return SD_ERROR;
    }
    if (sd_cuda_uses_cublas(p)) /* this plan's (tracked) workspace, even if another plan came between */
        CUBLAS_TRY(c, cublasSetWorkspace(c->cublas, p->ws, p->ws_bytes));
    if (!ms || !p->warmed) {
        /* The first run of a plan loads its kernels and sets up the libraries; with lazy module
         * loading that may synchronise the context, which must not happen behind a hold. */
        enum sd_status st = untimed(p, set, reason, len);
        p->warmed = st == SD_OK;
        if (!ms || st != SD_OK)
            return st;
    }
    for (int attempt = 0;; attempt++) {
        float f = 0.f;
        bool timed_out;
        enum sd_status st = timed_once(p, set, &f, &timed_out, reason, len);
        if (st != SD_OK)
            return st;
        if (timed_out) {
            c->row.hold_timeouts++;
            p->hold_off = true;
        }
        const int thr = sd_nvml_throttled_now(c->nvml);
        enum sd_cuda_verdict v = sd_cuda_sample_verdict(timed_out, thr, attempt, MAX_RETAKES);
        if (v == SD_SAMPLE_RETAKE) {
            c->row.retaken++;
            if (p->flush_each && (st = enqueue_flush(c, reason, len)) != SD_OK)
                return st;
            continue;
        }
        if (v == SD_SAMPLE_KEEP_FLAGGED && thr == 1)
            c->row.kept_throttled++;
        *ms = f;
        return SD_OK;
    }
}

/* The ok row's `reason`: how the plan ran (library choice, scores, workspace) and how it was timed. */
void sd_cuda_plan_note(struct sd_plan *p, char *note, size_t len)
{
    const struct cuda_ctx *c = p->ctx;
    size_t o = (size_t)snprintf(note, len, "%s", p->note);
#define ADD(...)                                                                                  \
    do {                                                                                          \
        if (o < len)                                                                              \
            o += (size_t)snprintf(note + o, len - o, __VA_ARGS__);                                \
    } while (0)
    if (p->flush_each)
        ADD("%sL2 flushed before each sample (%zu-byte memset)", o ? "; " : "", c->flush_bytes);
    if (!c->hold_host || p->hold_off)
        ADD("%sstream hold %s: host launch time is in the samples", o ? "; " : "",
            c->hold_host ? "timed out" : "unavailable");
    if (c->row.retaken)
        ADD("%s%d samples re-taken (throttled or hold timed out)", o ? "; " : "", c->row.retaken);
    if (c->row.kept_throttled)
        ADD("%s%d samples kept throttled", o ? "; " : "", c->row.kept_throttled);
#undef ADD
}
