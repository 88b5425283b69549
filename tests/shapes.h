/* shapes.h — workload builders shared by the tests (odd sizes are written inline in each test). */
#ifndef SDMARK_TESTS_SHAPES_H
#define SDMARK_TESTS_SHAPES_H

#include "sdmark/workload.h"

static inline struct sd_workload gemm_wl(int64_t batch, int64_t m, int64_t n, int64_t k)
{
    struct sd_workload wl;
    sd_workload_init(&wl, SD_OP_GEMM);
    wl.batch = batch, wl.m = m, wl.n = n, wl.k = k;
    return wl;
}

/* Square r x r kernel; h, w are the output size (input = h * stride). */
static inline struct sd_workload conv_wl(int64_t batch, int64_t c_in, int64_t c_out, int64_t h, int64_t w,
                                         int64_t r, int64_t stride, int64_t pad)
{
    struct sd_workload wl;
    sd_workload_init(&wl, SD_OP_CONV2D);
    wl.batch = batch, wl.c_in = c_in, wl.c_out = c_out, wl.h = h, wl.w = w;
    wl.r = wl.s = r, wl.stride = stride, wl.pad = pad;
    return wl;
}

static inline struct sd_workload attn_wl(int64_t bh, int64_t sq, int64_t skv, int64_t d)
{
    struct sd_workload wl;
    sd_workload_init(&wl, SD_OP_ATTENTION);
    wl.batch_heads = bh, wl.seq_q = sq, wl.seq_kv = skv, wl.head_dim = d;
    return wl;
}

#endif
