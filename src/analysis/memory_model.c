/* memmodel.c — the UNet / VAE layer list of SD 1.5, SD 2.1 and SDXL, and what follows from it:
 * parameter counts (cross-check of the published ones), activation memory (inference peak,
 * training), the unfused attention score matrices, and the memory-bound traffic of the small
 * kernels (norms, activations, residual adds, reshapes) that the suites' big kernels leave out.
 *
 * Source of every number: docs/sd-shapes.md (model facts table, per-level layer
 * lists, memory facts) and the diffusers UNet2DConditionModel / AutoencoderKL structure it was
 * derived from: per level 2 ResNets (+ transformers) down, 3 up with skip concatenation,
 * a stride-2 downsampler / nearest-2x upsampler between levels, a mid block of
 * ResNet-transformer-ResNet. Parameter counts: sd-shapes.md "Memory facts".
 *
 * Per-kernel byte counts of the small kernels (compulsory DRAM traffic, in activation elements
 * × elem_bytes, P = batch × H × W positions of a C-channel tensor):
 *   GroupNorm / LayerNorm 3·C·P (two reads: statistics + normalise, one write)
 *   SiLU, head reshape/permute copy, temb broadcast add: 2·C·P;  residual add 3·C·P
 *   GEGLU: gelu(gate) 8·C·P (read 4C write 4C), product 12·C·P (read 8C write 4C)
 *   skip concatenation 2·(C_in)·P; nearest upsample 1.25·C·P (read C·P/4, write C·P)
 * With a fused attention kernel (flash / SDPA) q, k, v are passed as strided views (no copy);
 * the classic unfused path copies each into batch×heads layout. Either way the output heads
 * are merged by one copy.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdmark/analysis.h"

/* ------------------------------------------------------------------ model tables */

struct unet_cfg {
    const char *name, *title;
    int res;              /* default image resolution */
    int nlev;
    int ch[4];
    int attn[4];          /* transformer at this level */
    int depth[4];         /* transformer depth at this level */
    int mid_depth;
    int heads_fixed;      /* SD 1.5: 8 heads at every level */
    int head_dim_fixed;   /* SD 2.1, SDXL: head_dim 64 */
    int ctx_dim;          /* text context width */
    int ctx_len;
    int add_emb_in;       /* SDXL: added time/text embedding input width (0 = none) */
    /* published parameter counts, sd-shapes.md "Memory facts" */
    double p_unet, p_vae, p_text0, p_text1;
    const char *text0, *text1;
};

static const struct unet_cfg cfgs[SD_MODEL_COUNT] = {
    [SD_MODEL_SD15] = {"sd15", "SD 1.5", 512, 4, {320, 640, 1280, 1280}, {1, 1, 1, 0}, {1, 1, 1, 0}, 1, 8, 0, 768,
                       77, 0, 860e6, 84e6, 123e6, 0, "CLIP-L text", NULL},
    [SD_MODEL_SD21] = {"sd21", "SD 2.1", 768, 4, {320, 640, 1280, 1280}, {1, 1, 1, 0}, {1, 1, 1, 0}, 1, 0, 64, 1024,
                       77, 0, 865e6, 84e6, 354e6, 0, "OpenCLIP-H text", NULL},
    [SD_MODEL_SDXL] = {"sdxl", "SDXL", 1024, 3, {320, 640, 1280, 0}, {0, 1, 1, 0}, {0, 2, 10, 0}, 10, 0, 64, 2048,
                       77, 2816, 2.6e9, 84e6, 123e6, 695e6, "CLIP-L text", "OpenCLIP-bigG text"},
};

const char *sd_model_name(enum sd_model m) { return m < SD_MODEL_COUNT ? cfgs[m].name : "?"; }
const char *sd_model_title(enum sd_model m) { return m < SD_MODEL_COUNT ? cfgs[m].title : "?"; }
int sd_model_default_res(enum sd_model m) { return m < SD_MODEL_COUNT ? cfgs[m].res : 512; }

int sd_model_parse(const char *s, enum sd_model *out)
{
    for (int i = 0; i < SD_MODEL_COUNT; i++)
        if (!strcasecmp(s, cfgs[i].name)) {
            *out = (enum sd_model)i;
            return 0;
        }
    return -1;
}

int sd_model_from_suite(const char *suite, enum sd_model *out) { return sd_model_parse(suite, out); }

void sd_model_published_params(enum sd_model m, struct sd_model_params *p)
{
    const struct unet_cfg *c = &cfgs[m];
    p->unet = c->p_unet;
    p->vae = c->p_vae;
    p->text[0] = c->p_text0;
    p->text[1] = c->p_text1;
    p->text_name[0] = c->text0;
    p->text_name[1] = c->text1;
}

/* ------------------------------------------------------------------ layer walker */

enum lkind { K_CONV, K_RES, K_TF, K_UPS, K_NORM_ACT, K_TEMB };

struct layer {
    enum lkind kind;
    int hw;           /* output spatial side */
    int ci, co;       /* channels (ci includes the concatenated skip for up ResNets) */
    int cat;          /* 1 if the input is a concatenation (a copy kernel) */
    int k;            /* conv kernel size */
    int depth, heads, hd;
    int vae;          /* VAE layer (single-head attention, no context) */
};

typedef void (*layer_fn)(const struct layer *L, void *ud);

static int heads_of(const struct unet_cfg *c, int ch) { return c->heads_fixed ? c->heads_fixed : ch / c->head_dim_fixed; }

static void emit(layer_fn fn, void *ud, struct layer L) { fn(&L, ud); }

/* UNet at latent side `lat` (image res / 8). */
static void walk_unet(const struct unet_cfg *c, int lat, layer_fn fn, void *ud)
{
    int skips[32], ns = 0;
    emit(fn, ud, (struct layer){.kind = K_TEMB, .ci = c->ch[0], .co = 4 * c->ch[0]});
    emit(fn, ud, (struct layer){.kind = K_CONV, .hw = lat, .ci = 4, .co = c->ch[0], .k = 3});
    skips[ns++] = c->ch[0];
    int prev = c->ch[0];
    for (int i = 0; i < c->nlev; i++) {
        int hw = lat >> i;
        for (int j = 0; j < 2; j++) {
            emit(fn, ud, (struct layer){.kind = K_RES, .hw = hw, .ci = prev, .co = c->ch[i]});
            prev = c->ch[i];
            if (c->attn[i])
                emit(fn, ud, (struct layer){.kind = K_TF, .hw = hw, .ci = prev, .co = prev, .depth = c->depth[i],
                                            .heads = heads_of(c, prev), .hd = prev / heads_of(c, prev)});
            skips[ns++] = prev;
        }
        if (i < c->nlev - 1) {
            emit(fn, ud, (struct layer){.kind = K_CONV, .hw = hw / 2, .ci = prev, .co = prev, .k = 3});
            skips[ns++] = prev;
        }
    }
    int hw = lat >> (c->nlev - 1);
    emit(fn, ud, (struct layer){.kind = K_RES, .hw = hw, .ci = prev, .co = prev});
    emit(fn, ud, (struct layer){.kind = K_TF, .hw = hw, .ci = prev, .co = prev, .depth = c->mid_depth,
                                .heads = heads_of(c, prev), .hd = prev / heads_of(c, prev)});
    emit(fn, ud, (struct layer){.kind = K_RES, .hw = hw, .ci = prev, .co = prev});
    for (int i = c->nlev - 1; i >= 0; i--) {
        hw = lat >> i;
        for (int j = 0; j < 3; j++) {
            int skip = skips[--ns];
            emit(fn, ud, (struct layer){.kind = K_RES, .hw = hw, .ci = prev + skip, .co = c->ch[i], .cat = 1});
            prev = c->ch[i];
            if (c->attn[i])
                emit(fn, ud, (struct layer){.kind = K_TF, .hw = hw, .ci = prev, .co = prev, .depth = c->depth[i],
                                            .heads = heads_of(c, prev), .hd = prev / heads_of(c, prev)});
        }
        if (i > 0) {
            emit(fn, ud, (struct layer){.kind = K_UPS, .hw = hw * 2, .ci = prev, .co = prev});
            emit(fn, ud, (struct layer){.kind = K_CONV, .hw = hw * 2, .ci = prev, .co = prev, .k = 3});
        }
    }
    emit(fn, ud, (struct layer){.kind = K_NORM_ACT, .hw = lat, .ci = c->ch[0], .co = c->ch[0]});
    emit(fn, ud, (struct layer){.kind = K_CONV, .hw = lat, .ci = c->ch[0], .co = 4, .k = 3});
}

/* VAE decoder at latent side `lat` (sd-shapes.md "VAE decoder"). */
static void walk_vae(int lat, layer_fn fn, void *ud)
{
    emit(fn, ud, (struct layer){.kind = K_CONV, .hw = lat, .ci = 4, .co = 512, .k = 3, .vae = 1});
    emit(fn, ud, (struct layer){.kind = K_RES, .hw = lat, .ci = 512, .co = 512, .vae = 1});
    emit(fn, ud, (struct layer){.kind = K_TF, .hw = lat, .ci = 512, .co = 512, .depth = 1, .heads = 1, .hd = 512,
                                .vae = 1});
    emit(fn, ud, (struct layer){.kind = K_RES, .hw = lat, .ci = 512, .co = 512, .vae = 1});
    static const int vch[4] = {512, 512, 256, 128};
    int prev = 512;
    for (int i = 0; i < 4; i++) {
        int hw = lat << i;
        for (int j = 0; j < 3; j++) {
            emit(fn, ud, (struct layer){.kind = K_RES, .hw = hw, .ci = prev, .co = vch[i], .vae = 1});
            prev = vch[i];
        }
        if (i < 3) {
            emit(fn, ud, (struct layer){.kind = K_UPS, .hw = hw * 2, .ci = prev, .co = prev, .vae = 1});
            emit(fn, ud, (struct layer){.kind = K_CONV, .hw = hw * 2, .ci = prev, .co = prev, .k = 3, .vae = 1});
        }
    }
    emit(fn, ud, (struct layer){.kind = K_NORM_ACT, .hw = lat << 3, .ci = 128, .co = 128, .vae = 1});
    emit(fn, ud, (struct layer){.kind = K_CONV, .hw = lat << 3, .ci = 128, .co = 3, .k = 3, .vae = 1});
}

/* ------------------------------------------------------------------ parameters */

struct pctx {
    const struct unet_cfg *c;
    double p;
};

static double conv_p(double ci, double co, double k) { return ci * co * k * k + co; }
static double lin_p(double i, double o) { return i * o + o; }

static void params_fn(const struct layer *L, void *ud)
{
    struct pctx *x = ud;
    const struct unet_cfg *c = x->c;
    double ci = L->ci, co = L->co, temb = 4.0 * c->ch[0];
    switch (L->kind) {
    case K_TEMB:
        x->p += lin_p(ci, co) + lin_p(co, co);
        if (c->add_emb_in)
            x->p += lin_p(c->add_emb_in, co) + lin_p(co, co);
        break;
    case K_CONV:
        x->p += conv_p(ci, co, L->k);
        break;
    case K_RES:
        x->p += 2 * ci + conv_p(ci, co, 3) + lin_p(temb, co) + 2 * co + conv_p(co, co, 3) +
                (ci != co ? conv_p(ci, co, 1) : 0);
        break;
    case K_TF: {
        double blk = 6 * co + 3 * co * co + lin_p(co, co)                        /* norms, self q k v, out */
                     + co * co + 2.0 * c->ctx_dim * co + lin_p(co, co)            /* cross q, k, v, out */
                     + lin_p(co, 8 * co) + lin_p(4 * co, co);                     /* GEGLU feed-forward */
        x->p += 2 * co + 2 * lin_p(co, co) + L->depth * blk;                      /* norm, proj_in/out */
        break;
    }
    case K_NORM_ACT:
        x->p += 2 * co;
        break;
    default:
        break;
    }
}

double sd_model_unet_params_derived(enum sd_model m)
{
    struct pctx x = {&cfgs[m], 0};
    walk_unet(&cfgs[m], cfgs[m].res / 8, params_fn, &x);
    return x.p;
}

/* ------------------------------------------------------------------ small-kernel traffic */

struct tctx {
    const struct unet_cfg *c;
    double N;             /* batch of the UNet call */
    double e;             /* bytes per element */
    int fused;
    double bw;            /* bytes per ms (0 = only count) */
    double floor_ms;
    double bytes, n_small, n_big, ms;
};

static void small(struct tctx *t, double bytes)
{
    t->bytes += bytes;
    t->n_small += 1;
    if (t->bw > 0)
        t->ms += fmax(bytes / t->bw, t->floor_ms);
}

static void traffic_fn(const struct layer *L, void *ud)
{
    struct tctx *t = ud;
    double P = t->N * (double)L->hw * L->hw, e = t->e, ci = L->ci, co = L->co;
    switch (L->kind) {
    case K_TEMB:
        /* sinusoidal embedding, SiLU: tiny; two tiny GEMMs (not in the suites) */
        small(t, 0);
        small(t, 0);
        small(t, 0);
        small(t, 0);
        break;
    case K_CONV:
        t->n_big += 1;
        break;
    case K_RES:
        if (L->cat)
            small(t, 2 * ci * P * e);
        small(t, 3 * ci * P * e); /* GroupNorm */
        small(t, 2 * ci * P * e); /* SiLU */
        small(t, 2 * co * P * e); /* + time embedding */
        small(t, 3 * co * P * e); /* GroupNorm */
        small(t, 2 * co * P * e); /* SiLU */
        small(t, 3 * co * P * e); /* residual add */
        t->n_big += 2 + (ci != co) + !L->vae; /* conv1, conv2, shortcut, temb linear */
        break;
    case K_TF: {
        double c = co, ctx = L->vae ? 0 : 1;
        small(t, 3 * c * P * e); /* GroupNorm */
        small(t, 2 * c * P * e); /* NCHW -> tokens */
        t->n_big += L->vae ? 0 : 2;
        for (int d = 0; d < L->depth; d++) {
            int nsub = ctx ? 2 : 1;
            for (int a = 0; a < nsub; a++) {
                small(t, 3 * c * P * e); /* LayerNorm (VAE: GroupNorm) */
                int ncopy = t->fused ? 0 : (a == 0 ? 3 : 1);
                for (int q = 0; q < ncopy; q++)
                    small(t, 2 * c * P * e); /* heads copy */
                if (a == 1 && !t->fused) {
                    small(t, 0); /* context k, v copies (77 tokens) */
                    small(t, 0);
                }
                small(t, 2 * c * P * e); /* merge heads */
                small(t, 3 * c * P * e); /* residual add */
                t->n_big += 4 + (t->fused ? 1 : 3);
            }
            if (ctx) {
                small(t, 3 * c * P * e);  /* LayerNorm */
                small(t, 8 * c * P * e);  /* gelu(gate) */
                small(t, 12 * c * P * e); /* x * gelu(gate) */
                small(t, 3 * c * P * e);  /* residual add */
                t->n_big += 2;
            }
        }
        small(t, 2 * c * P * e); /* tokens -> NCHW */
        small(t, 3 * c * P * e); /* residual add */
        break;
    }
    case K_UPS:
        small(t, 1.25 * co * P * e);
        break;
    case K_NORM_ACT:
        small(t, 3 * co * P * e);
        small(t, 2 * co * P * e);
        break;
    }
}

static void traffic_walk(enum sd_model m, int res, int batch, size_t elem_bytes, enum sd_attn_mode attn,
                         double bw_gbs, double floor_us, struct tctx *t)
{
    memset(t, 0, sizeof *t);
    t->c = &cfgs[m];
    t->N = 2.0 * batch; /* classifier-free guidance */
    t->e = (double)elem_bytes;
    t->fused = attn == SD_ATTN_FLASH;
    t->bw = bw_gbs > 0 ? bw_gbs * 1e6 : 0; /* GB/s -> bytes/ms */
    t->floor_ms = floor_us > 0 ? floor_us / 1000.0 : 0;
    walk_unet(&cfgs[m], res / 8, traffic_fn, t);
}

void sd_model_traffic(enum sd_model m, int res, int batch, size_t elem_bytes, enum sd_attn_mode attn,
                      struct sd_traffic *out)
{
    struct tctx t;
    traffic_walk(m, res, batch, elem_bytes, attn, 0, 0, &t);
    out->bytes = t.bytes;
    out->n_small = t.n_small;
    out->n_big = t.n_big;
}

double sd_model_small_ms(enum sd_model m, int res, int batch, size_t elem_bytes, enum sd_attn_mode attn,
                         double bw_gbs, double floor_us)
{
    struct tctx t;
    traffic_walk(m, res, batch, elem_bytes, attn, bw_gbs, floor_us, &t);
    return t.ms;
}

/* ------------------------------------------------------------------ activations */

struct actx {
    const struct unet_cfg *c;
    double N, e;
    int unfused;
    int training;
    double skips;         /* inference: all skip tensors (held for the up path) */
    double peak_layer;    /* inference: largest live set of one layer */
    double saved;         /* training: tensors saved for backward */
    double score_max, score_max_fp16;
    double lora;          /* LoRA parameters (attention q, k, v, out) per unit rank */
    struct sd_mem_layer top[6];
    int ntop;
};

static void top_add(struct actx *a, const char *what, double bytes)
{
    /* keep the 6 largest distinct items */
    for (int i = 0; i < a->ntop; i++)
        if (!strcmp(a->top[i].what, what)) {
            if (bytes > a->top[i].bytes)
                a->top[i].bytes = bytes;
            return;
        }
    int slot = a->ntop < 6 ? a->ntop++ : -1;
    if (slot < 0) {
        int mi = 0;
        for (int i = 1; i < 6; i++)
            if (a->top[i].bytes < a->top[mi].bytes)
                mi = i;
        if (a->top[mi].bytes >= bytes)
            return;
        slot = mi;
    }
    snprintf(a->top[slot].what, sizeof a->top[slot].what, "%s", what);
    a->top[slot].bytes = bytes;
}

static void live(struct actx *a, const char *what, double bytes)
{
    if (bytes > a->peak_layer)
        a->peak_layer = bytes;
    top_add(a, what, bytes);
}

static void act_fn(const struct layer *L, void *ud)
{
    struct actx *a = ud;
    double P = a->N * (double)L->hw * L->hw, e = a->e, ci = L->ci, co = L->co;
    char what[64];
    const char *pre = L->vae ? "VAE " : "";
    switch (L->kind) {
    case K_CONV:
        snprintf(what, sizeof what, "%sconv %d->%d @%d^2", pre, L->ci, L->co, L->hw);
        live(a, what, (ci + co) * P * e);
        a->saved += ci * P * e;
        break;
    case K_RES:
        snprintf(what, sizeof what, "%sResNet %d->%d @%d^2", pre, L->ci, L->co, L->hw);
        live(a, what, (2 * ci + 3 * co) * P * e);
        a->saved += (3 * ci + 4 * co) * P * e;
        break;
    case K_UPS:
        snprintf(what, sizeof what, "%supsample %d @%d^2", pre, L->co, L->hw);
        live(a, what, 2.25 * co * P * e);
        a->saved += 1.25 * co * P * e;
        break;
    case K_NORM_ACT:
        a->saved += 2 * co * P * e;
        break;
    case K_TF: {
        double c = co, T = (double)L->hw * L->hw;
        double scores = a->N * L->heads * T * T; /* elements of one self-attention score matrix */
        double sc_b = a->unfused ? scores * e : 0;
        if (scores * 2 > a->score_max_fp16)
            a->score_max_fp16 = scores * 2;
        if (sc_b > a->score_max)
            a->score_max = sc_b;
        snprintf(what, sizeof what, "%sself-attention%s %dx%.0fx%.0f @%d^2", pre, a->unfused ? " + scores" : "",
                 (int)(a->N * L->heads), T, T, L->hw);
        live(a, what, 6 * c * P * e + sc_b);
        if (!L->vae) {
            snprintf(what, sizeof what, "GEGLU feed-forward %d->%d @%d^2", L->co, 8 * L->co, L->hw);
            live(a, what, 18 * c * P * e);
            double cross_sc = a->unfused ? a->N * L->heads * T * 77 * e : 0;
            a->saved += L->depth * ((6 + 3 + 17) * c * P * e + sc_b + cross_sc);
            a->lora += L->depth * (4 * 2 * c + 2 * c + 2 * (a->c->ctx_dim + c) + 2 * c);
        } else {
            a->saved += 6 * c * P * e + sc_b;
        }
        a->saved += 3 * c * P * e;
        break;
    }
    default:
        break;
    }
}

/* The skips are the outputs of conv_in, of each down ResNet(+transformer) and of each
 * downsampler: all alive when the up path starts. */
static double unet_skips(const struct unet_cfg *c, int lat, double N, double e)
{
    double s = N * lat * lat * c->ch[0]; /* conv_in */
    for (int i = 0; i < c->nlev; i++) {
        double hw = lat >> i;
        s += 2 * N * hw * hw * c->ch[i];
        if (i < c->nlev - 1)
            s += N * (hw / 2) * (hw / 2) * c->ch[i];
    }
    return s * e;
}

const int sd_mem_tiers_gb[] = {4, 6, 8, 10, 12, 16, 20, 24, 32, 48, 80};
const int sd_mem_ntiers = (int)(sizeof sd_mem_tiers_gb / sizeof sd_mem_tiers_gb[0]);

bool sd_mem_fits(double bytes, double gb) { return bytes <= gb * 1073741824.0; }

void sd_mem_opts_default(struct sd_mem_opts *o, enum sd_model m)
{
    memset(o, 0, sizeof *o);
    o->model = m;
    o->res = cfgs[m].res;
    o->batch = 1;
    o->attn = SD_ATTN_UNFUSED;
    o->train = SD_TRAIN_NONE;
    o->lora_rank = 4;
    o->act_bytes = 2;
}

int sd_mem_compute(const struct sd_mem_opts *o, struct sd_mem_report *r, char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    if (o->model >= SD_MODEL_COUNT) {
        snprintf(err, errlen, "unknown model");
        return -1;
    }
    if (o->res < 64 || o->res % 64 || o->res > 16384) {
        snprintf(err, errlen, "--res %d: must be a multiple of 64 between 64 and 16384 (latent side res/8 "
                 "halves %d times)", o->res, cfgs[o->model].nlev - 1);
        return -1;
    }
    if (o->batch < 1 || o->batch > 1024) {
        snprintf(err, errlen, "--batch %d: must be between 1 and 1024", o->batch);
        return -1;
    }
    const struct unet_cfg *c = &cfgs[o->model];
    double e = (double)o->act_bytes;
    int lat = o->res / 8;
    double text = c->p_text0 + c->p_text1;
    r->w_unet_fp16 = c->p_unet * 2;
    r->w_unet_fp32 = c->p_unet * 4;
    r->w_text_fp16 = text * 2;
    r->w_text_fp32 = text * 4;
    r->w_vae_fp16 = c->p_vae * 2;
    r->w_vae_fp32 = c->p_vae * 4;

    /* UNet (inference: CFG batch 2*batch; training: batch) */
    struct actx a = {.c = c, .e = e, .unfused = o->attn == SD_ATTN_UNFUSED, .training = o->train != SD_TRAIN_NONE};
    a.N = o->train == SD_TRAIN_NONE ? 2.0 * o->batch : o->batch;
    walk_unet(c, lat, act_fn, &a);
    double skips = unet_skips(c, lat, a.N, e);
    r->unet_act_peak = skips + a.peak_layer;
    r->score_largest = a.score_max;
    r->score_largest_fp16 = a.score_max_fp16;
    top_add(&a, "UNet skip connections (all, held for the up path)", skips);
    r->lora_params = a.lora * o->lora_rank;

    /* VAE decode: the whole batch at once (diffusers' default), one image at a time with slicing */
    struct actx v = {.c = c, .e = e, .unfused = o->attn == SD_ATTN_UNFUSED, .N = o->vae_slicing ? 1 : o->batch};
    walk_vae(lat, act_fn, &v);
    r->vae_decode_peak = v.peak_layer;
    r->vae_score = v.score_max;
    double wscale = o->act_bytes >= 4 ? 2 : 1; /* fp32 inference keeps fp32 weights */
    if (o->train == SD_TRAIN_NONE) {
        r->weights = (r->w_unet_fp16 + r->w_text_fp16 + r->w_vae_fp16) * wscale;
        r->total = r->weights + fmax(r->unet_act_peak, r->vae_decode_peak);
        for (int i = 0; i < v.ntop; i++)
            top_add(&a, v.top[i].what, v.top[i].bytes);
    } else {
        /* text encoders and VAE frozen in fp16; training does not decode */
        r->train_act = a.saved;
        if (o->train == SD_TRAIN_FULL) {
            r->weights = r->w_text_fp16 + r->w_vae_fp16;
            r->train_state = 16.0 * c->p_unet; /* fp16 w 2 + fp32 master 4 + Adam m,v 8 + fp16 grad 2 */
        } else {
            r->weights = r->w_unet_fp16 + r->w_text_fp16 + r->w_vae_fp16;
            r->train_state = 16.0 * r->lora_params;
        }
        r->total = r->weights + r->train_state + r->train_act;
    }
    /* sort the largest items */
    for (int i = 0; i < a.ntop; i++)
        for (int j = i + 1; j < a.ntop; j++)
            if (a.top[j].bytes > a.top[i].bytes) {
                struct sd_mem_layer t = a.top[i];
                a.top[i] = a.top[j];
                a.top[j] = t;
            }
    r->nlargest = a.ntop;
    memcpy(r->largest, a.top, sizeof a.top);
    return 0;
}

int sd_mem_max_res(const struct sd_mem_opts *base, double gb)
{
    int best = 0;
    for (int res = 64; res <= 4096; res += 64) {
        struct sd_mem_opts o = *base;
        o.res = res;
        struct sd_mem_report r;
        char err[128];
        if (sd_mem_compute(&o, &r, err, sizeof err))
            continue;
        if (sd_mem_fits(r.total, gb))
            best = res;
        else
            break; /* footprints grow with resolution */
    }
    return best;
}

double sd_mem_row_tensors(const struct sd_workload *wl) { return sd_workload_bytes_min(wl); }

double sd_mem_row_scores(const struct sd_workload *wl, size_t score_dtype_bytes)
{
    if (wl->op != SD_OP_ATTENTION)
        return 0;
    return (double)wl->batch_heads * (double)wl->seq_q * (double)wl->seq_kv * (double)score_dtype_bytes;
}
