/* cpu_ops.c — the cpu backend's compute: OpenBLAS sgemm, im2col conv, unfused/sliced attention.
 * Softmax uses a vectorisable exp (Cephes polynomial, rel. error ~1e-7) so the CPU baseline is
 * not held back by scalar libm. im2col and softmax are spread over cores by a small pthread pool
 * (as many threads as OpenBLAS uses). Its workers block on a condition variable between jobs:
 * an OpenMP runtime would spin after each region and steal the cores from the OpenBLAS threads
 * of the next sgemm (measurably, in the per-head loop of sliced attention). */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include <cblas.h>

#include "cpu_internal.h"

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define CPU_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define CPU_CLONES
#endif

/* ---- thread pool ----------------------------------------------------------------------- */

typedef void (*range_fn)(void *arg, int64_t lo, int64_t hi);

#define POOL_MAX 256

static struct {
    pthread_once_t once;
    pthread_mutex_t mu;
    pthread_cond_t go, done;
    int nthreads;          /* workers + the calling thread */
    uint64_t generation;   /* bumped per job */
    int pending;           /* workers still running the current job */
    range_fn fn;
    void *arg;
    int64_t n;
} pool = {.once = PTHREAD_ONCE_INIT, .mu = PTHREAD_MUTEX_INITIALIZER,
          .go = PTHREAD_COND_INITIALIZER, .done = PTHREAD_COND_INITIALIZER};

static void chunk(int t, int nt, int64_t n, int64_t *lo, int64_t *hi)
{
    *lo = (int64_t)((__int128)n * t / nt);
    *hi = (int64_t)((__int128)n * (t + 1) / nt);
}

static void *pool_worker(void *p)
{
    const int id = (int)(intptr_t)p;
    uint64_t seen = 0;
    for (;;) {
        pthread_mutex_lock(&pool.mu);
        while (pool.generation == seen)
            pthread_cond_wait(&pool.go, &pool.mu);
        seen = pool.generation;
        range_fn fn = pool.fn;
        void *arg = pool.arg;
        int64_t n = pool.n;
        int nt = pool.nthreads;
        pthread_mutex_unlock(&pool.mu);

        int64_t lo, hi;
        chunk(id, nt, n, &lo, &hi);
        if (lo < hi)
            fn(arg, lo, hi);

        pthread_mutex_lock(&pool.mu);
        if (--pool.pending == 0)
            pthread_cond_signal(&pool.done);
        pthread_mutex_unlock(&pool.mu);
    }
    return NULL;
}

static void pool_init(void)
{
    int want = cpu_threads();
    if (want > POOL_MAX)
        want = POOL_MAX;
    pool.nthreads = 1;
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    for (int i = 1; i < want; i++) {
        pthread_t th;
        if (pthread_create(&th, &at, pool_worker, (void *)(intptr_t)i) != 0)
            break; /* run with the workers we got */
        pool.nthreads++;
    }
    pthread_attr_destroy(&at);
}

/* fn over [0, n) split into one contiguous chunk per thread; returns when all are done.
 * Small jobs (n < min_parallel) run on the caller. Not reentrant (one backend user). */
static void parallel_for(int64_t n, int64_t min_parallel, range_fn fn, void *arg)
{
    pthread_once(&pool.once, pool_init);
    if (pool.nthreads <= 1 || n < min_parallel) {
        fn(arg, 0, n);
        return;
    }
    pthread_mutex_lock(&pool.mu);
    pool.fn = fn;
    pool.arg = arg;
    pool.n = n;
    pool.pending = pool.nthreads - 1;
    pool.generation++;
    pthread_cond_broadcast(&pool.go);
    pthread_mutex_unlock(&pool.mu);

    int64_t lo, hi;
    chunk(0, pool.nthreads, n, &lo, &hi);
    if (lo < hi)
        fn(arg, lo, hi);

    pthread_mutex_lock(&pool.mu);
    while (pool.pending > 0)
        pthread_cond_wait(&pool.done, &pool.mu);
    pthread_mutex_unlock(&pool.mu);
}

int cpu_threads(void)
{
    int t = openblas_get_num_threads();
    return t > 0 ? t : 1;
}

void cpu_gemm(const struct sd_workload *wl, const float *a, const float *b, float *c)
{
    const int m = (int)wl->m, n = (int)wl->n, k = (int)wl->k;
    const size_t sa = (size_t)wl->m * (size_t)wl->k, sb = (size_t)wl->k * (size_t)wl->n,
                 sc = (size_t)wl->m * (size_t)wl->n;
    for (int64_t bt = 0; bt < wl->batch; bt++)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, a + (size_t)bt * sa, k,
                    b + (size_t)bt * sb, n, 0.0f, c + (size_t)bt * sc, n);
}

/* ---- conv2d: im2col + sgemm per batch image ------------------------------------------- */

static int conv_is_pointwise(const struct sd_workload *wl)
{
    return wl->r == 1 && wl->s == 1 && wl->stride == 1 && wl->pad == 0;
}

size_t cpu_conv_workspace(const struct sd_workload *wl)
{
    if (conv_is_pointwise(wl))
        return 0; /* the input image already is the [c_in, h*w] matrix */
    return (size_t)wl->c_in * (size_t)wl->r * (size_t)wl->s * (size_t)wl->h * (size_t)wl->w;
}

struct im2col_job {
    const struct sd_workload *wl;
    const float *x;
    float *col;
};

/* col[(ci*R + i)*S + j][oy*w + ox] = x[ci][oy*stride - pad + i][ox*stride - pad + j] (0 outside) */
static void im2col_rows(void *arg, int64_t row0, int64_t row1)
{
    const struct im2col_job *jb = arg;
    const struct sd_workload *wl = jb->wl;
    const int64_t H = sd_conv_in_h(wl), W = sd_conv_in_w(wl);
    const int64_t R = wl->r, S = wl->s, st = wl->stride, pad = wl->pad, oh = wl->h, ow = wl->w;
    for (int64_t row = row0; row < row1; row++) {
        const int64_t ci = row / (R * S), i = (row / S) % R, j = row % S;
        const float *plane = jb->x + (size_t)ci * (size_t)(H * W);
        float *dst = jb->col + (size_t)row * (size_t)(oh * ow);
        /* valid ox: 0 <= ox*st - pad + j < W */
        const int64_t lo = pad - j, hi = W - 1 + pad - j;
        int64_t ox_lo = lo <= 0 ? 0 : (lo + st - 1) / st;
        int64_t ox_hi = hi < 0 ? -1 : hi / st;
        if (ox_hi > ow - 1)
            ox_hi = ow - 1;
        if (ox_lo > ow)
            ox_lo = ow;
        for (int64_t oy = 0; oy < oh; oy++) {
            float *d = dst + oy * ow;
            const int64_t iy = oy * st - pad + i;
            if (iy < 0 || iy >= H || ox_hi < ox_lo) {
                memset(d, 0, (size_t)ow * sizeof(float));
                continue;
            }
            const float *src = plane + iy * W - pad + j;
            for (int64_t ox = 0; ox < ox_lo; ox++)
                d[ox] = 0.0f;
            if (st == 1)
                memcpy(d + ox_lo, src + ox_lo, (size_t)(ox_hi - ox_lo + 1) * sizeof(float));
            else
                for (int64_t ox = ox_lo; ox <= ox_hi; ox++)
                    d[ox] = src[ox * st];
            for (int64_t ox = ox_hi + 1; ox < ow; ox++)
                d[ox] = 0.0f;
        }
    }
}

static void im2col(const struct sd_workload *wl, const float *x, float *col)
{
    struct im2col_job jb = {wl, x, col};
    const int64_t rows = wl->c_in * wl->r * wl->s;
    /* parallel only when there is enough to copy (>= ~64K floats per thread) */
    const int64_t per_row = wl->h * wl->w;
    parallel_for(rows, per_row > 0 ? 65536 / per_row + 2 : rows, im2col_rows, &jb);
}

void cpu_conv_im2col(const struct sd_workload *wl, const float *x, const float *w, float *y,
                     float *col)
{
    const size_t in_img = (size_t)wl->c_in * (size_t)sd_conv_in_h(wl) * (size_t)sd_conv_in_w(wl);
    const size_t hw = (size_t)wl->h * (size_t)wl->w;
    const int crs = (int)(wl->c_in * wl->r * wl->s);
    for (int64_t b = 0; b < wl->batch; b++) {
        const float *xb = x + (size_t)b * in_img;
        const float *B = xb;
        if (!conv_is_pointwise(wl)) {
            im2col(wl, xb, col);
            B = col;
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)wl->c_out, (int)hw, crs, 1.0f, w,
                    crs, B, (int)hw, 0.0f, y + (size_t)b * (size_t)wl->c_out * hw, (int)hw);
    }
}

/* ---- attention ------------------------------------------------------------------------- */

size_t cpu_attn_scores_unfused(const struct sd_workload *wl)
{
    return (size_t)wl->batch_heads * (size_t)wl->seq_q * (size_t)wl->seq_kv;
}

size_t cpu_attn_scores_sliced(const struct sd_workload *wl)
{
    return (size_t)wl->seq_q * (size_t)wl->seq_kv;
}

/* exp(x) for x <= ~88: 2^n * P(r), x = n ln2 + r, |r| <= ln2/2 (Cephes expf coefficients). */
static inline float exp_approx(float x)
{
    if (x < -87.0f)
        x = -87.0f;
    if (x > 88.0f)
        x = 88.0f;
    const float magic = 12582912.0f; /* 1.5 * 2^23: round to nearest integer */
    float t = x * 1.44269504088896341f + magic;
    float n = t - magic;
    float r = x - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    int32_t e = ((int32_t)n + 127) << 23;
    float scale;
    memcpy(&scale, &e, sizeof scale);
    return p * scale;
}

/* Reductions use LANES independent partial results so the loops vectorise without
 * -ffast-math (a single float accumulator is a serial dependency the compiler must keep). */
#define LANES 16

CPU_CLONES
static void softmax_row(float *s, int64_t n)
{
    float m[LANES];
    for (int l = 0; l < LANES; l++)
        m[l] = s[0];
    int64_t j = 0;
    for (; j + LANES <= n; j += LANES)
        for (int l = 0; l < LANES; l++)
            m[l] = s[j + l] > m[l] ? s[j + l] : m[l];
    float mx = m[0];
    for (int l = 1; l < LANES; l++)
        mx = m[l] > mx ? m[l] : mx;
    for (; j < n; j++)
        mx = s[j] > mx ? s[j] : mx;

    for (j = 0; j < n; j++)
        s[j] = exp_approx(s[j] - mx);

    float acc[LANES] = {0};
    for (j = 0; j + LANES <= n; j += LANES)
        for (int l = 0; l < LANES; l++)
            acc[l] += s[j + l];
    float sum = 0.0f;
    for (int l = 0; l < LANES; l++)
        sum += acc[l];
    for (; j < n; j++)
        sum += s[j];

    const float inv = 1.0f / sum;
    for (j = 0; j < n; j++)
        s[j] *= inv;
}

struct softmax_job {
    float *s;
    int64_t n;
};

static void softmax_range(void *arg, int64_t lo, int64_t hi)
{
    const struct softmax_job *jb = arg;
    for (int64_t i = lo; i < hi; i++)
        softmax_row(jb->s + (size_t)i * (size_t)jb->n, jb->n);
}

static void softmax_rows(float *s, int64_t rows, int64_t n)
{
    struct softmax_job jb = {s, n};
    parallel_for(rows, 32768 / n + 2, softmax_range, &jb);
}

/* Whole bh x seq_q x seq_kv score matrix: all QK^T, then all softmax, then all PV — what a
 * naive framework does, and why it runs out of memory at large seq. */
void cpu_attention_unfused(const struct sd_workload *wl, const float *q, const float *k,
                           const float *v, float *o, float *scores)
{
    const int sq = (int)wl->seq_q, skv = (int)wl->seq_kv, d = (int)wl->head_dim;
    const size_t qs = (size_t)sq * (size_t)d, ks = (size_t)skv * (size_t)d,
                 ss = (size_t)sq * (size_t)skv;
    const float scale = (float)(1.0 / sqrt((double)d));
    for (int64_t bh = 0; bh < wl->batch_heads; bh++)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, sq, skv, d, scale, q + bh * qs, d,
                    k + bh * ks, d, 0.0f, scores + bh * ss, skv);
    softmax_rows(scores, wl->batch_heads * wl->seq_q, skv);
    for (int64_t bh = 0; bh < wl->batch_heads; bh++)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, sq, d, skv, 1.0f, scores + bh * ss, skv,
                    v + bh * ks, d, 0.0f, o + bh * qs, d);
}

/* One head's seq_q x seq_kv score matrix at a time ("attention slicing"). */
void cpu_attention_sliced(const struct sd_workload *wl, const float *q, const float *k,
                          const float *v, float *o, float *scores)
{
    const int sq = (int)wl->seq_q, skv = (int)wl->seq_kv, d = (int)wl->head_dim;
    const size_t qs = (size_t)sq * (size_t)d, ks = (size_t)skv * (size_t)d;
    const float scale = (float)(1.0 / sqrt((double)d));
    for (int64_t bh = 0; bh < wl->batch_heads; bh++) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, sq, skv, d, scale, q + bh * qs, d,
                    k + bh * ks, d, 0.0f, scores, skv);
        softmax_rows(scores, wl->seq_q, skv);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, sq, d, skv, 1.0f, scores, skv,
                    v + bh * ks, d, 0.0f, o + bh * qs, d);
    }
}
