/* workload.c — shape arithmetic: tensor sizes, FLOPs, compulsory bytes, validation. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "sdmark/workload.h"

static const char *const op_names[SD_OP_COUNT] = {"gemm", "conv2d", "attention"};
static const char *const dtype_names[SD_DTYPE_COUNT] = {"fp32", "tf32", "fp16", "bf16"};

const char *sd_op_name(enum sd_op op) { return (op >= 0 && op < SD_OP_COUNT) ? op_names[op] : "?"; }

int sd_op_parse(const char *s, enum sd_op *out)
{
    for (int i = 0; i < SD_OP_COUNT; i++)
        if (strcmp(s, op_names[i]) == 0) {
            *out = (enum sd_op)i;
            return 0;
        }
    return -1;
}

const char *sd_dtype_name(enum sd_dtype t)
{
    return (t >= 0 && t < SD_DTYPE_COUNT) ? dtype_names[t] : "?";
}

int sd_dtype_parse(const char *s, enum sd_dtype *out)
{
    for (int i = 0; i < SD_DTYPE_COUNT; i++)
        if (strcmp(s, dtype_names[i]) == 0) {
            *out = (enum sd_dtype)i;
            return 0;
        }
    return -1;
}

size_t sd_dtype_size(enum sd_dtype t) { return (t == SD_FP16 || t == SD_BF16) ? 2 : 4; }

void sd_workload_init(struct sd_workload *wl, enum sd_op op)
{
    memset(wl, 0, sizeof(*wl));
    wl->op = op;
    wl->count = 1;
    wl->dtype = SD_FP32;
    wl->acc = SD_FP32;
    wl->batch = 1;
    wl->stride = 1;
    snprintf(wl->layout, sizeof(wl->layout), "%s",
             op == SD_OP_GEMM ? "row" : op == SD_OP_CONV2D ? "NCHW" : "BSD");
}

int64_t sd_conv_in_h(const struct sd_workload *wl) { return wl->h * wl->stride; }
int64_t sd_conv_in_w(const struct sd_workload *wl) { return wl->w * wl->stride; }

/* a*b with overflow detection against `limit`. */
static int mul_ok(uint64_t a, uint64_t b, uint64_t *out)
{
    if (a != 0 && b > UINT64_MAX / a)
        return 0;
    *out = a * b;
    return 1;
}

static int prod_ok(const int64_t *d, int n, uint64_t *out)
{
    uint64_t p = 1;
    for (int i = 0; i < n; i++)
        if (!mul_ok(p, (uint64_t)d[i], &p))
            return 0;
    *out = p;
    return 1;
}

/* Every shape key the op uses must be a positive integer. */
static int check_positive(const struct sd_workload *wl, char *err, size_t errlen)
{
    struct { const char *name; int64_t v; } need[8];
    int nn = 0;
#define NEED(f) need[nn++] = (typeof(need[0])){#f, wl->f}
    switch (wl->op) {
    case SD_OP_GEMM: NEED(m); NEED(n); NEED(k); NEED(batch); break;
    case SD_OP_CONV2D: NEED(batch); NEED(c_in); NEED(c_out); NEED(h); NEED(w); NEED(r); NEED(s); NEED(stride); break;
    case SD_OP_ATTENTION: NEED(batch_heads); NEED(seq_q); NEED(seq_kv); NEED(head_dim); break;
    default:
        snprintf(err, errlen, "unknown op");
        return -1;
    }
#undef NEED
    for (int i = 0; i < nn; i++)
        if (need[i].v <= 0) {
            snprintf(err, errlen, "%s=%" PRId64 " must be a positive integer (impossible shape)",
                     need[i].name, need[i].v);
            return -1;
        }
    return 0;
}

/* Conv geometry: small kernel/stride/pad, and the output size must follow from the input size:
 * out = (in + 2p - r)/stride + 1. Sizes already known not to overflow. */
static int check_conv_geometry(const struct sd_workload *wl, char *err, size_t errlen)
{
    int64_t oh = (sd_conv_in_h(wl) + 2 * wl->pad - wl->r) / wl->stride + 1;
    int64_t ow = (sd_conv_in_w(wl) + 2 * wl->pad - wl->s) / wl->stride + 1;
    if (sd_conv_in_h(wl) + 2 * wl->pad < wl->r || oh != wl->h || ow != wl->w) {
        snprintf(err, errlen,
                 "impossible conv shape: input %" PRId64 "x%" PRId64 " (h*stride) with r=%" PRId64
                 " s=%" PRId64 " pad=%" PRId64 " stride=%" PRId64 " gives %" PRId64 "x%" PRId64
                 ", not h=%" PRId64 " w=%" PRId64,
                 sd_conv_in_h(wl), sd_conv_in_w(wl), wl->r, wl->s, wl->pad, wl->stride, oh, ow, wl->h, wl->w);
        return -1;
    }
    return 0;
}

/* Every tensor's byte count and the FLOP count must fit in 64 bits (fp64 for flops is fine, but
 * element counts index memory). */
static int sizes_fit(const struct sd_workload *wl)
{
    uint64_t b;
    switch (wl->op) {
    case SD_OP_GEMM: {
        int64_t a[] = {wl->batch, wl->m, wl->k, 4}, bb[] = {wl->batch, wl->k, wl->n, 4},
                c[] = {wl->batch, wl->m, wl->n, 4}, f[] = {wl->batch, wl->m, wl->n, wl->k, 2};
        return prod_ok(a, 4, &b) && prod_ok(bb, 4, &b) && prod_ok(c, 4, &b) && prod_ok(f, 5, &b);
    }
    case SD_OP_CONV2D: {
        int64_t x[] = {wl->batch, wl->c_in, wl->h, wl->stride, wl->w, wl->stride, 4},
                w[] = {wl->c_out, wl->c_in, wl->r, wl->s, 4}, y[] = {wl->batch, wl->c_out, wl->h, wl->w, 4},
                f[] = {wl->batch, wl->c_out, wl->h, wl->w, wl->c_in, wl->r, wl->s, 2};
        return prod_ok(x, 7, &b) && prod_ok(w, 5, &b) && prod_ok(y, 5, &b) && prod_ok(f, 8, &b);
    }
    case SD_OP_ATTENTION: {
        int64_t q[] = {wl->batch_heads, wl->seq_q, wl->head_dim, 4},
                kv[] = {wl->batch_heads, wl->seq_kv, wl->head_dim, 4},
                s[] = {wl->batch_heads, wl->seq_q, wl->seq_kv, 4},
                f[] = {wl->batch_heads, wl->seq_q, wl->seq_kv, wl->head_dim, 4};
        return prod_ok(q, 4, &b) && prod_ok(kv, 4, &b) && prod_ok(s, 4, &b) && prod_ok(f, 5, &b);
    }
    default:
        return 1;
    }
}

int sd_workload_validate(const struct sd_workload *wl, char *err, size_t errlen)
{
    if (check_positive(wl, err, errlen))
        return -1;
    if (wl->pad < 0) {
        snprintf(err, errlen, "pad=%" PRId64 " must not be negative", wl->pad);
        return -1;
    }
    if (!(wl->count >= 0) || isinf(wl->count)) {
        snprintf(err, errlen, "count must be a finite number >= 0");
        return -1;
    }
    if (wl->op == SD_OP_CONV2D && (wl->r > 64 || wl->s > 64 || wl->stride > 64 || wl->pad > 64)) {
        snprintf(err, errlen, "r, s, stride and pad must be <= 64");
        return -1;
    }
    if (!sizes_fit(wl)) {
        snprintf(err, errlen, "shape too large: a tensor's byte count overflows 64 bits");
        return -1;
    }
    return wl->op == SD_OP_CONV2D ? check_conv_geometry(wl, err, errlen) : 0;
}

void sd_workload_tensors(const struct sd_workload *wl, struct sd_tensors *t)
{
    memset(t, 0, sizeof(*t));
    switch (wl->op) {
    case SD_OP_GEMM:
        t->n_in = 2;
        t->in[0] = (size_t)(wl->batch * wl->m * wl->k);
        t->in[1] = (size_t)(wl->batch * wl->k * wl->n);
        t->out = (size_t)(wl->batch * wl->m * wl->n);
        break;
    case SD_OP_CONV2D:
        t->n_in = 2;
        t->in[0] = (size_t)(wl->batch * wl->c_in * sd_conv_in_h(wl) * sd_conv_in_w(wl));
        t->in[1] = (size_t)(wl->c_out * wl->c_in * wl->r * wl->s);
        t->out = (size_t)(wl->batch * wl->c_out * wl->h * wl->w);
        break;
    case SD_OP_ATTENTION:
        t->n_in = 3;
        t->in[0] = (size_t)(wl->batch_heads * wl->seq_q * wl->head_dim);
        t->in[1] = t->in[2] = (size_t)(wl->batch_heads * wl->seq_kv * wl->head_dim);
        t->out = t->in[0];
        break;
    default:
        break;
    }
}

double sd_workload_flops(const struct sd_workload *wl)
{
    switch (wl->op) {
    case SD_OP_GEMM:
        return 2.0 * wl->batch * wl->m * wl->n * (double)wl->k;
    case SD_OP_CONV2D:
        return 2.0 * wl->batch * wl->c_out * wl->h * wl->w * (double)wl->c_in * wl->r * wl->s;
    case SD_OP_ATTENTION: /* QK^T and PV, real head_dim (no padding counted) */
        return 4.0 * wl->batch_heads * wl->seq_q * (double)wl->seq_kv * wl->head_dim;
    default:
        return 0;
    }
}

double sd_workload_bytes_min(const struct sd_workload *wl)
{
    struct sd_tensors t;
    sd_workload_tensors(wl, &t);
    double e = (double)t.out;
    for (int i = 0; i < t.n_in; i++)
        e += (double)t.in[i];
    return e * (double)sd_dtype_size(wl->dtype);
}

void sd_workload_shape_str(const struct sd_workload *wl, char *buf, size_t len)
{
    switch (wl->op) {
    case SD_OP_GEMM:
        if (wl->batch > 1)
            snprintf(buf, len, "b=%" PRId64 " m=%" PRId64 " n=%" PRId64 " k=%" PRId64, wl->batch, wl->m,
                     wl->n, wl->k);
        else
            snprintf(buf, len, "m=%" PRId64 " n=%" PRId64 " k=%" PRId64, wl->m, wl->n, wl->k);
        break;
    case SD_OP_CONV2D:
        snprintf(buf, len, "%" PRId64 "x%" PRId64 "x%" PRId64 "x%" PRId64 "->%" PRId64 " %" PRId64 "x%" PRId64
                 " s%" PRId64 " p%" PRId64,
                 wl->batch, wl->c_in, wl->h, wl->w, wl->c_out, wl->r, wl->s, wl->stride, wl->pad);
        break;
    case SD_OP_ATTENTION:
        snprintf(buf, len, "bh=%" PRId64 " q=%" PRId64 " kv=%" PRId64 " d=%" PRId64, wl->batch_heads,
                 wl->seq_q, wl->seq_kv, wl->head_dim);
        break;
    default:
        snprintf(buf, len, "?");
    }
}

/* IEEE half conversion, round-to-nearest-even, with subnormals, inf and NaN. */
uint16_t sd_float_to_half(float f)
{
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000u;
    uint32_t exp = (x >> 23) & 0xffu;
    uint32_t mant = x & 0x7fffffu;
    if (exp == 0xff) /* inf / nan */
        return (uint16_t)(sign | 0x7c00u | (mant ? 0x200u : 0));
    int32_t e = (int32_t)exp - 127 + 15;
    if (e >= 31)
        return (uint16_t)(sign | 0x7c00u);
    if (e <= 0) {
        if (e < -10)
            return (uint16_t)sign;
        mant |= 0x800000u;
        uint32_t shift = (uint32_t)(14 - e);
        uint32_t half = mant >> shift;
        uint32_t rem = mant & ((1u << shift) - 1);
        uint32_t mid = 1u << (shift - 1);
        if (rem > mid || (rem == mid && (half & 1)))
            half++;
        return (uint16_t)(sign | half);
    }
    uint32_t half = sign | ((uint32_t)e << 10) | (mant >> 13);
    uint32_t rem = mant & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (half & 1)))
        half++; /* may carry into the exponent: correct, gives inf at the top */
    return (uint16_t)half;
}

float sd_half_to_float(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu;
    uint32_t mant = h & 0x3ffu;
    uint32_t x;
    if (exp == 0) {
        if (mant == 0) {
            x = sign;
        } else { /* subnormal: normalise */
            int e = -1;
            do {
                e++;
                mant <<= 1;
            } while (!(mant & 0x400u));
            x = sign | ((uint32_t)(127 - 15 - e) << 23) | ((mant & 0x3ffu) << 13);
        }
    } else if (exp == 31) {
        x = sign | 0x7f800000u | (mant << 13);
    } else {
        x = sign | ((exp + 127 - 15) << 23) | (mant << 13);
    }
    float f;
    memcpy(&f, &x, 4);
    return f;
}

uint16_t sd_float_to_bf16(float f)
{
    uint32_t x;
    memcpy(&x, &f, 4);
    if ((x & 0x7fffffffu) > 0x7f800000u)
        return (uint16_t)((x >> 16) | 0x40u); /* quiet NaN */
    uint32_t rounding = 0x7fffu + ((x >> 16) & 1u);
    return (uint16_t)((x + rounding) >> 16);
}

float sd_bf16_to_float(uint16_t h)
{
    uint32_t x = (uint32_t)h << 16;
    float f;
    memcpy(&f, &x, 4);
    return f;
}

void sd_round_to_dtype(float *x, size_t n, enum sd_dtype t)
{
    if (t == SD_FP16)
        for (size_t i = 0; i < n; i++)
            x[i] = sd_half_to_float(sd_float_to_half(x[i]));
    else if (t == SD_BF16)
        for (size_t i = 0; i < n; i++)
            x[i] = sd_bf16_to_float(sd_float_to_bf16(x[i]));
}

/* One --impl word against one impl name: the word is the whole name ("onednn_unfused") or the
 * library prefix before its '_' ("onednn" selects onednn, onednn_unfused and onednn_sliced: a user
 * who names a library expects every row it runs). "unfused" never selects "onednn_unfused": only a
 * prefix counts. */
static int impl_word_matches(const char *word, size_t len, const char *impl)
{
    return !strncmp(word, impl, len) && (impl[len] == '\0' || impl[len] == '_');
}

int sd_impl_selected(const char *filter, const char *impl)
{
    if (!filter || !*filter)
        return 1;
    const char *p = filter;
    while (*p) {
        const char *e = strchr(p, ',');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        if (l > 0 && impl_word_matches(p, l, impl))
            return 1;
        if (!e)
            break;
        p = e + 1;
    }
    return 0;
}
