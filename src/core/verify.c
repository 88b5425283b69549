/* verify.c — CPU reference in double precision, sampled verification and tolerances.
 *
 * sd_verify() first scans the WHOLE output for NaN/Inf, then recomputes a sample of the output
 * in double precision and compares:
 *     max_rel_err = max |out - ref| / rms(ref over the sample)     (rms = 0 -> absolute error)
 * The sample is fixed by a constant seed and stratified (distinct indices spread over the whole
 * range; the first and the last stratum are pinned to their ends, so element 0 and the last
 * row/pixel are always checked):
 *   gemm       up to 32 rows of C (all n columns), spread across the batch
 *   conv2d     up to 2048 output elements: up to 64 output pixels (b, y, x) x up to 2048/npix
 *              output channels at each pixel (the patch of a pixel is gathered once and dotted
 *              with the contiguous weight rows, so SD-sized rows verify in milliseconds)
 *   attention  up to 32 (batch_head, query) rows, all head_dim columns
 * Shapes small enough to fit the sample are checked completely.
 */
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdmark/verify.h"

#define VERIFY_SEED 0x5d3a7c1e9b2f4d61ull
#define GEMM_ROWS 32
#define CONV_ELEMS 2048
#define CONV_PIXELS 64
#define ATTN_ROWS 32

/* ---- random numbers -------------------------------------------------------------------- */

static inline uint64_t splitmix64(uint64_t z)
{
    z += 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Counter-based: element pair i/2 is splitmix64(seed' + i/2 * golden), so the loop has no
 * carried state and vectorises. Each 64-bit hash gives two 24-bit values v -> v*2^-23 - 1,
 * exactly representable floats in [-1, 1). */
void sd_fill_random(float *x, size_t n, uint64_t seed)
{
    const uint64_t base = splitmix64(seed ^ 0x6a09e667f3bcc909ull);
    const float scale = 1.0f / 8388608.0f; /* 2^-23 */
    size_t pairs = n / 2;
    for (size_t i = 0; i < pairs; i++) {
        uint64_t h = splitmix64(base + (uint64_t)i * 0x9e3779b97f4a7c15ull);
        x[2 * i] = (float)(uint32_t)(h >> 40) * scale - 1.0f;
        x[2 * i + 1] = (float)(uint32_t)((h >> 8) & 0xffffffu) * scale - 1.0f;
    }
    if (n & 1) {
        uint64_t h = splitmix64(base + (uint64_t)pairs * 0x9e3779b97f4a7c15ull);
        x[n - 1] = (float)(uint32_t)(h >> 40) * scale - 1.0f;
    }
}

/* i-th of cnt distinct indices in [0, total): one per stratum, jittered; the first and last
 * strata are pinned to 0 and total-1. Requires cnt <= total. */
static size_t sample_index(size_t i, size_t cnt, size_t total, uint64_t *rng)
{
    size_t lo = (size_t)((unsigned __int128)i * total / cnt);
    size_t hi = (size_t)((unsigned __int128)(i + 1) * total / cnt);
    if (i == 0)
        return 0;
    if (i == cnt - 1)
        return total - 1;
    *rng = splitmix64(*rng);
    return lo + (size_t)(*rng % (uint64_t)(hi - lo));
}

/* ---- tolerances ------------------------------------------------------------------------ */

/* Reduction length K of one output element: gemm k; conv2d c_in*r*s; attention the longer of
 * its two reductions, max(seq_kv, head_dim) (QK^T reduces over head_dim, PV over seq_kv). */
static double reduction_len(const struct sd_workload *wl)
{
    switch (wl->op) {
    case SD_OP_GEMM:
        return (double)wl->k;
    case SD_OP_CONV2D:
        return (double)wl->c_in * (double)wl->r * (double)wl->s;
    case SD_OP_ATTENTION:
        return (double)(wl->seq_kv > wl->head_dim ? wl->seq_kv : wl->head_dim);
    default:
        return 1;
    }
}

/* Rule (relative to rms of the fp64 reference, docs/measurement.md):
 *   base: fp32 1e-4, tf32 5e-3, fp16 (fp32 acc) 5e-3, bf16 3e-2, fp16 with fp16 acc 2e-2;
 *   bf16 (fp32 accumulate; inputs already rounded to bf16, so products are exact): storing the
 *   output in bf16 (8 significant bits) moves each element by up to 2^-8 of its value, and the
 *   largest element of a sample (32 rows of up to a few thousand columns) is ~4.5-5x the rms, so
 *   storage rounding alone reaches ~0.02 rms on a correct result; 3e-2 adds room for the fp32
 *   accumulation and bf16 intermediates (attention probabilities). A bf16 accumulation or a lost
 *   block of K still lands far above it.
 *   these hold for K <= 4096; beyond, rounding error of a K-term sum grows like sqrt(K), so
 *   the tolerance is scaled by sqrt(K / 4096) (K = reduction_len() above). Applied to every
 *   dtype (the accumulation error dominates at large K for all of them). */
double sd_verify_tolerance(const struct sd_workload *wl)
{
    double base;
    switch (wl->dtype) {
    case SD_FP32:
        base = 1e-4;
        break;
    case SD_TF32:
        base = 5e-3;
        break;
    case SD_FP16:
        base = (wl->acc == SD_FP16) ? 2e-2 : 5e-3;
        break;
    case SD_BF16:
        base = 3e-2;
        break;
    default:
        base = 1e-4;
        break;
    }
    double k = reduction_len(wl);
    if (k > 4096)
        base *= sqrt(k / 4096.0);
    return base;
}

/* ---- full references (small shapes) ---------------------------------------------------- */

void sd_ref_gemm(const struct sd_workload *wl, const float *a, const float *b, double *c)
{
    const size_t m = (size_t)wl->m, n = (size_t)wl->n, k = (size_t)wl->k;
    for (size_t bt = 0; bt < (size_t)wl->batch; bt++) {
        const float *A = a + bt * m * k, *B = b + bt * k * n;
        double *C = c + bt * m * n;
        for (size_t i = 0; i < m; i++) {
            double *crow = C + i * n;
            for (size_t j = 0; j < n; j++)
                crow[j] = 0;
            for (size_t p = 0; p < k; p++) {
                double av = A[i * k + p];
                const float *brow = B + p * n;
                for (size_t j = 0; j < n; j++)
                    crow[j] += av * (double)brow[j];
            }
        }
    }
}

/* Patch of output pixel (b, y, x) in weight order [c_in][r][s], zero where padded. */
static void conv_patch(const struct sd_workload *wl, const float *x, int64_t b, int64_t y,
                       int64_t xo, double *patch)
{
    const int64_t H = sd_conv_in_h(wl), W = sd_conv_in_w(wl);
    const int64_t R = wl->r, S = wl->s;
    size_t idx = 0;
    for (int64_t ci = 0; ci < wl->c_in; ci++) {
        const float *plane = x + ((size_t)b * (size_t)wl->c_in + (size_t)ci) * (size_t)(H * W);
        for (int64_t i = 0; i < R; i++) {
            int64_t iy = y * wl->stride - wl->pad + i;
            for (int64_t j = 0; j < S; j++) {
                int64_t ix = xo * wl->stride - wl->pad + j;
                patch[idx++] = (iy >= 0 && iy < H && ix >= 0 && ix < W)
                                   ? (double)plane[(size_t)(iy * W + ix)]
                                   : 0.0;
            }
        }
    }
}

static double dot_wd(const float *w, const double *p, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += (double)w[i] * p[i];
    return s;
}

void sd_ref(const struct sd_workload *wl, const float *const *in, double *out)
{
    switch (wl->op) {
    case SD_OP_GEMM:
        sd_ref_gemm(wl, in[0], in[1], out);
        break;
    case SD_OP_CONV2D:
        sd_ref_conv2d(wl, in[0], in[1], out);
        break;
    default:
        sd_ref_attention(wl, in[0], in[1], in[2], out);
        break;
    }
}

void sd_ref_conv2d(const struct sd_workload *wl, const float *x, const float *w, double *y)
{
    const size_t crs = (size_t)(wl->c_in * wl->r * wl->s);
    const size_t hw = (size_t)(wl->h * wl->w);
    double *patch = malloc(crs * sizeof(double));
    if (!patch)
        abort();
    for (int64_t b = 0; b < wl->batch; b++)
        for (int64_t oy = 0; oy < wl->h; oy++)
            for (int64_t ox = 0; ox < wl->w; ox++) {
                conv_patch(wl, x, b, oy, ox, patch);
                for (int64_t co = 0; co < wl->c_out; co++)
                    y[((size_t)b * (size_t)wl->c_out + (size_t)co) * hw + (size_t)(oy * wl->w + ox)] =
                        dot_wd(w + (size_t)co * crs, patch, crs);
            }
    free(patch);
}

/* One query row of attention in double: o[d] = softmax(q K^T / sqrt(d)) V. */
static void attn_row(const struct sd_workload *wl, const float *q, const float *K, const float *V,
                     double *scores, double *o)
{
    const size_t skv = (size_t)wl->seq_kv, d = (size_t)wl->head_dim;
    const double scale = 1.0 / sqrt((double)d);
    double mx = -INFINITY;
    for (size_t j = 0; j < skv; j++) {
        double s = 0;
        const float *kr = K + j * d;
        for (size_t t = 0; t < d; t++)
            s += (double)q[t] * (double)kr[t];
        s *= scale;
        scores[j] = s;
        if (s > mx)
            mx = s;
    }
    double sum = 0;
    for (size_t j = 0; j < skv; j++) {
        scores[j] = exp(scores[j] - mx);
        sum += scores[j];
    }
    for (size_t t = 0; t < d; t++)
        o[t] = 0;
    for (size_t j = 0; j < skv; j++) {
        double p = scores[j] / sum;
        const float *vr = V + j * d;
        for (size_t t = 0; t < d; t++)
            o[t] += p * (double)vr[t];
    }
}

void sd_ref_attention(const struct sd_workload *wl, const float *q, const float *k,
                      const float *v, double *o)
{
    const size_t sq = (size_t)wl->seq_q, skv = (size_t)wl->seq_kv, d = (size_t)wl->head_dim;
    double *scores = malloc(skv * sizeof(double));
    if (!scores)
        abort();
    for (size_t bh = 0; bh < (size_t)wl->batch_heads; bh++)
        for (size_t i = 0; i < sq; i++)
            attn_row(wl, q + (bh * sq + i) * d, k + bh * skv * d, v + bh * skv * d, scores,
                     o + (bh * sq + i) * d);
    free(scores);
}

/* ---- sampled verification -------------------------------------------------------------- */

/* Accumulates the comparison of one sample. */
struct cmp {
    double sumsq;      /* sum of ref^2 */
    double max_abs;    /* max |out - ref| */
    size_t worst;      /* output index of max_abs */
    double worst_out, worst_ref;
    size_t n;
    int bad_ref;       /* reference not finite (inputs had NaN/Inf) */
    size_t bad_ref_at;
};

static void cmp_add(struct cmp *c, size_t idx, double out, double ref)
{
    if (!isfinite(ref)) {
        if (!c->bad_ref) {
            c->bad_ref = 1;
            c->bad_ref_at = idx;
        }
        return;
    }
    double e = fabs(out - ref);
    c->sumsq += ref * ref;
    if (e > c->max_abs || c->n == 0) {
        c->max_abs = e;
        c->worst = idx;
        c->worst_out = out;
        c->worst_ref = ref;
    }
    c->n++;
}

/* Returns 0, or -1 if a scratch allocation failed. */
static int sample_gemm(const struct sd_workload *wl, const float *a, const float *b, const float *out,
                       struct cmp *c)
{
    const size_t m = (size_t)wl->m, n = (size_t)wl->n, k = (size_t)wl->k;
    const size_t total = (size_t)wl->batch * m;
    const size_t cnt = total < GEMM_ROWS ? total : GEMM_ROWS;
    size_t rows[GEMM_ROWS];
    uint64_t rng = VERIFY_SEED;
    for (size_t i = 0; i < cnt; i++)
        rows[i] = sample_index(i, cnt, total, &rng); /* sorted ascending */
    double *acc = malloc(cnt * n * sizeof(double));
    if (!acc)
        return -1;
    /* Rows of the same batch are contiguous in rows[]: stream B once per batch, k outer, so
     * each row of B is reused by all sampled rows while it is in cache. */
    size_t g0 = 0;
    while (g0 < cnt) {
        size_t bt = rows[g0] / m, g1 = g0;
        while (g1 < cnt && rows[g1] / m == bt)
            g1++;
        const float *A = a + bt * m * k, *B = b + bt * k * n;
        memset(acc + g0 * n, 0, (g1 - g0) * n * sizeof(double));
        for (size_t p = 0; p < k; p++) {
            const float *brow = B + p * n;
            for (size_t r = g0; r < g1; r++) {
                double av = A[(rows[r] % m) * k + p];
                double *cr = acc + r * n;
                for (size_t j = 0; j < n; j++)
                    cr[j] += av * (double)brow[j];
            }
        }
        for (size_t r = g0; r < g1; r++)
            for (size_t j = 0; j < n; j++) {
                size_t idx = rows[r] * n + j;
                cmp_add(c, idx, out[idx], acc[r * n + j]);
            }
        g0 = g1;
    }
    free(acc);
    return 0;
}

static int sample_conv(const struct sd_workload *wl, const float *x, const float *w, const float *out,
                       struct cmp *c)
{
    const size_t hw = (size_t)(wl->h * wl->w), cout = (size_t)wl->c_out;
    const size_t npix_total = (size_t)wl->batch * hw;
    const size_t crs = (size_t)(wl->c_in * wl->r * wl->s);
    size_t npix, nco;
    if (npix_total * cout <= CONV_ELEMS) {
        npix = npix_total;
        nco = cout;
    } else {
        npix = npix_total < CONV_PIXELS ? npix_total : CONV_PIXELS;
        nco = CONV_ELEMS / npix;
        if (nco > cout)
            nco = cout;
        if (nco == cout && npix < npix_total) { /* room for more pixels */
            npix = CONV_ELEMS / cout;
            if (npix > npix_total)
                npix = npix_total;
        }
    }
    double *patch = malloc(crs * sizeof(double));
    if (!patch)
        return -1;
    uint64_t rng = VERIFY_SEED;
    for (size_t i = 0; i < npix; i++) {
        size_t pix = sample_index(i, npix, npix_total, &rng);
        int64_t b = (int64_t)(pix / hw), rem = (int64_t)(pix % hw);
        int64_t oy = rem / wl->w, ox = rem % wl->w;
        conv_patch(wl, x, b, oy, ox, patch);
        uint64_t crng = splitmix64(VERIFY_SEED + i);
        for (size_t t = 0; t < nco; t++) {
            size_t co = sample_index(t, nco, cout, &crng);
            size_t idx = ((size_t)b * cout + co) * hw + (size_t)rem;
            cmp_add(c, idx, out[idx], dot_wd(w + co * crs, patch, crs));
        }
    }
    free(patch);
    return 0;
}

static int sample_attention(const struct sd_workload *wl, const float *q, const float *k,
                            const float *v, const float *out, struct cmp *c)
{
    const size_t sq = (size_t)wl->seq_q, skv = (size_t)wl->seq_kv, d = (size_t)wl->head_dim;
    const size_t total = (size_t)wl->batch_heads * sq;
    const size_t cnt = total < ATTN_ROWS ? total : ATTN_ROWS;
    double *scores = malloc(skv * sizeof(double));
    double *o = malloc(d * sizeof(double));
    if (!scores || !o) {
        free(scores);
        free(o);
        return -1;
    }
    uint64_t rng = VERIFY_SEED;
    for (size_t i = 0; i < cnt; i++) {
        size_t row = sample_index(i, cnt, total, &rng);
        size_t bh = row / sq;
        attn_row(wl, q + row * d, k + bh * skv * d, v + bh * skv * d, scores, o);
        for (size_t t = 0; t < d; t++)
            cmp_add(c, row * d + t, out[row * d + t], o[t]);
    }
    free(scores);
    free(o);
    return 0;
}

/* Index of the first non-finite float, or n. Tests the exponent bits (fast, no libm). */
static size_t first_nonfinite(const float *x, size_t n)
{
    const size_t blk = 4096;
    for (size_t i0 = 0; i0 < n; i0 += blk) {
        size_t i1 = i0 + blk < n ? i0 + blk : n;
        int any = 0;
        for (size_t i = i0; i < i1; i++) {
            uint32_t u;
            memcpy(&u, &x[i], 4);
            any |= (u & 0x7f800000u) == 0x7f800000u;
        }
        if (any)
            for (size_t i = i0; i < i1; i++)
                if (!isfinite(x[i]))
                    return i;
    }
    return n;
}

int sd_verify(const struct sd_workload *wl, const float *const *inputs, const float *out,
              struct sd_verify_result *vr)
{
    memset(vr, 0, sizeof(*vr));
    vr->tolerance = sd_verify_tolerance(wl);
    vr->pass = false;

    struct sd_tensors t;
    sd_workload_tensors(wl, &t);
    size_t bad = first_nonfinite(out, t.out);
    if (bad < t.out) {
        vr->max_rel_err = NAN;
        snprintf(vr->reason, sizeof(vr->reason), "%s at element %zu of %zu",
                 isnan(out[bad]) ? "NaN" : "Inf", bad, t.out);
        return 0;
    }

    struct cmp c;
    memset(&c, 0, sizeof(c));
    int rc = -1;
    switch (wl->op) {
    case SD_OP_GEMM:
        rc = sample_gemm(wl, inputs[0], inputs[1], out, &c);
        break;
    case SD_OP_CONV2D:
        rc = sample_conv(wl, inputs[0], inputs[1], out, &c);
        break;
    case SD_OP_ATTENTION:
        rc = sample_attention(wl, inputs[0], inputs[1], inputs[2], out, &c);
        break;
    default:
        snprintf(vr->reason, sizeof(vr->reason), "verify: unknown op %d", (int)wl->op);
        return 0;
    }
    if (rc != 0) {
        snprintf(vr->reason, sizeof(vr->reason), "verify: out of host memory for the reference");
        return 0;
    }
    if (c.bad_ref) {
        vr->max_rel_err = NAN;
        snprintf(vr->reason, sizeof(vr->reason),
                 "reference not finite at element %zu (inputs contain NaN/Inf?)", c.bad_ref_at);
        return 0;
    }
    vr->checked = c.n;
    double rms = c.n ? sqrt(c.sumsq / (double)c.n) : 0.0;
    double denom = rms > 0 ? rms : 1.0; /* all-zero reference: absolute error */
    vr->max_rel_err = c.max_abs / denom;
    if (vr->max_rel_err <= vr->tolerance) {
        vr->pass = true;
        return 0;
    }
    snprintf(vr->reason, sizeof(vr->reason),
             "max_rel_err %.3g > %.3g at element %zu (out %.6g, ref %.6g, rms %.3g)",
             vr->max_rel_err, vr->tolerance, c.worst, c.worst_out, c.worst_ref, rms);
    return 0;
}
