/* ocl_limits.c - kernel parameters against limits a driver imposes on one work-item.
 *
 * Mesa's llvmpipe (the device behind rusticl on a CPU) stops every loop of a shader invocation
 * once the loops of that invocation have run 65535 iterations in total: gallivm's loop limiter
 * (LP_MAX_TGSI_LOOP_ITERATIONS, "shared between every loop in a shader", Mesa 22.3
 * src/gallium/auxiliary/gallivm/lp_bld_limits.h / lp_bld_ir_common.c). The kernel then ends
 * early without any error. That is the cause of flash attention's NaN on rusticl: flash_cpu's
 * single work-item walks all keys for 48 query rows, its loops are cut off after a few key
 * blocks, and the rows whose softmax denominator was never summed come out as 0/0. The packed
 * CPU GEMM is cut off the same way (wrong, not NaN, once K is long enough).
 *
 * Work-around (driver limitation, ours to live with): on such a device
 *   1. the default parameters are the GPU-style kernels (many small work-items; llvmpipe runs
 *      work-items in SIMD lanes, so that is also its natural design) - ocl_core.c;
 *   2. gemm_tiled / conv_tiled take a k range and accumulate, flash_gpu a key range and a
 *      running state, and the host splits K / the keys into launches that stay under the
 *      limit (ocl_k_chunk, ocl_kv_chunk, used by ocl_ops.c);
 *   3. a row whose kernel would still need more iterations per work-item than the limit (the
 *      CPU-style kernels beyond small shapes) is unsupported with a reason, never silently
 *      truncated (ocl_loop_check below).
 * The counts model every loop as if the compiler did not unroll it. For the GPU-style kernels
 * that is an over-estimate (gemm_tiled at K = 8192, counted 209k, still verifies); for the
 * CPU-style ones the driver's lowering adds loops the source does not show (a row of the former
 * conv_packed counted 63k was cut off), so those must stay under half the limit. Some rows refused here
 * would work; none allowed should be cut off (and every row is verified anyway). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ocl.h"

static uint64_t cdiv(uint64_t a, uint64_t b) { return b ? (a + b - 1) / b : 0; }
static uint64_t umin(uint64_t a, uint64_t b) { return a < b ? a : b; }

uint64_t ocl_loop_limit(const char *device_name)
{
    return strncmp(device_name, "llvmpipe", 8) == 0 ? 65535 : 0;
}

/* gemm_packed: one work-item computes an MB x NB block over all of K; gemm_pack_b / conv_pack_b
 * (a launch before it): one work-item packs one K-block of one NR-column strip; a single block
 * packs its own panel (selfpack), so both count. A device with a loop limit never gets the
 * selfpack over several row blocks (mm_blocks in ocl_ops.c), which would count all M rows. */
static uint64_t iters_mm_packed(const struct ocl_mm_params *p, uint64_t M, uint64_t N, uint64_t K)
{
    const uint64_t nr = (uint64_t)p->vw * p->nv, mr = p->mr, nv = p->nv, vw = p->vw;
    const uint64_t nsm = cdiv(umin(p->mb, M), mr), nsn = cdiv(umin(p->nb, N), nr);
    uint64_t total = 0, pack = 0;
    for (uint64_t k0 = 0; k0 < K; k0 += p->kb) {
        const uint64_t kb = umin(p->kb, K - k0);
        total += nsm * mr * (2 + kb / vw + kb % vw);        /* pack A */
        total += nsm * nsn * (mr * nv + kb * (1 + nv + mr + mr * nv) + mr * (1 + nv + nr));
        if (kb * (1 + 2 * nr) > pack)
            pack = kb * (1 + 2 * nr);                       /* pack B (im2col gather) */
    }
    return total + pack;
}

/* gemm_tiled / conv_tiled: one work-item owns RM x RN outputs, loops over K in BK slices. */
static uint64_t iters_mm_tiled(const struct ocl_mm_params *p, uint64_t K)
{
    const uint64_t wg = (uint64_t)p->tx * p->ty, bm = (uint64_t)p->ty * p->rm, bn = (uint64_t)p->tx * p->rn;
    const uint64_t rm = p->rm, rn = p->rn, bk = p->bk;
    const uint64_t tile = cdiv(bm * bk, wg) + cdiv(bk * bn, wg) + bk * (1 + rm + rn + rm * rn);
    return cdiv(K, bk) * tile + 2 * rm * (1 + rn);
}

int ocl_k_chunk(const struct ocl_ctx *c, const struct ocl_mm_params *p, int K)
{
    if (!c->loop_limit || p->style == OCL_STYLE_CPU)
        return K;
    /* half the limit, as for flash (ocl_kv_chunk): launches are cheap, a cut-off kernel is not */
    const uint64_t per_slice = iters_mm_tiled(p, p->bk) - 2 * (uint64_t)p->rm * (1 + p->rn);
    const uint64_t room = c->loop_limit / 2 - 2 * (uint64_t)p->rm * (1 + p->rn);
    const uint64_t slices = per_slice ? room / per_slice : 1;
    const uint64_t chunk = (slices > 0 ? slices : 1) * (uint64_t)p->bk;
    return chunk < (uint64_t)K ? (int)chunk : K;
}

/* The tiled kernels run K in chunks of ocl_k_chunk() per launch, so only one chunk counts. */
static uint64_t iters_mm(const struct ocl_ctx *c, const struct ocl_mm_params *p, uint64_t M, uint64_t N,
                         uint64_t K)
{
    if (p->style == OCL_STYLE_CPU)
        return iters_mm_packed(p, M, N, K);
    return iters_mm_tiled(p, (uint64_t)ocl_k_chunk(c, p, K > INT32_MAX ? INT32_MAX : (int)K));
}

static uint64_t flash_gpu_tile(const struct ocl_flash_params *p, uint64_t hd)
{
    return cdiv((uint64_t)p->bkv * hd, p->bq) + 2 * p->bkv * (1 + hd) + hd;
}

int ocl_kv_chunk(const struct ocl_ctx *c, const struct ocl_flash_params *p, int skv, int hd)
{
    if (!c->loop_limit || p->style == OCL_STYLE_CPU)
        return skv;
    /* half the limit: at 96% of it by this count a 4096-key row was still cut off */
    const uint64_t fixed = 4 * (uint64_t)hd, tile = flash_gpu_tile(p, hd), room = c->loop_limit / 2;
    const uint64_t tiles = room > fixed ? (room - fixed) / tile : 0;
    const uint64_t chunk = (tiles > 0 ? tiles : 1) * (uint64_t)p->bkv;
    return chunk < (uint64_t)skv ? (int)chunk : skv;
}

static uint64_t iters_flash(const struct ocl_ctx *c, const struct ocl_flash_params *p, uint64_t sq,
                            uint64_t skv, uint64_t hd)
{
    if (p->style == OCL_STYLE_GPU) /* keys split over launches: one chunk counts */
        return cdiv((uint64_t)ocl_kv_chunk(c, p, (int)skv, (int)hd), p->bkv) * flash_gpu_tile(p, hd) + 4 * hd;
    /* flash_cpu (flash_pack's loop is shorter: hd + padding per key) */
    const uint64_t fqb = (uint64_t)p->qr * p->qs, fks = 16 * (uint64_t)p->nkv;
    const uint64_t vd = (uint64_t)ocl_flash_vd(p, (int)hd), hdp = cdiv(hd, vd) * vd, ndv = hdp / vd;
    const uint64_t qr = p->qr, nkv = p->nkv;
    const uint64_t nstrips = cdiv(umin(fqb, sq), qr), nblk = cdiv(skv, fks);
    const uint64_t qk = qr * nkv + hd * (1 + nkv + qr * (1 + nkv));
    const uint64_t softmax = nkv * (1 + qr) + qr * (2 * nkv + 1) + qr * (1 + ndv) + qr * (1 + 2 * nkv);
    const uint64_t pv = ndv * (2 * qr + fks * (1 + 1 + qr * 2)); /* as if FDB were 1: an upper bound */
    return fqb * (2 + hd + ndv) + umin(fqb, sq) * (1 + hd) + nstrips * nblk * (qk + softmax + pv);
}

/* SD_OK, or SD_UNSUPPORTED with the reason when one work-item of the row's kernels would run
 * more loop iterations than the device executes (see the top of this file). */
enum sd_status ocl_loop_check(const struct ocl_ctx *c, const struct sd_workload *wl, bool fused,
                              const struct ocl_params *prm, char *reason, size_t len)
{
    if (!c->loop_limit)
        return SD_OK;
    uint64_t n = 0;
    const char *what = "";
    const int style = wl->op == SD_OP_CONV2D ? prm->conv.style : fused ? prm->flash.style : prm->gemm.style;
    const uint64_t allowed = style == OCL_STYLE_CPU ? c->loop_limit / 2 : c->loop_limit;
    if (wl->op == SD_OP_GEMM) {
        n = iters_mm(c, &prm->gemm, wl->m, wl->n, wl->k), what = "gemm";
    } else if (wl->op == SD_OP_CONV2D) {
        n = iters_mm(c, &prm->conv, wl->c_out, wl->h * wl->w, wl->c_in * wl->r * wl->s), what = "conv2d";
    } else if (fused) {
        n = iters_flash(c, &prm->flash, wl->seq_q, wl->seq_kv, wl->head_dim), what = "flash";
    } else {
        const uint64_t qk = iters_mm(c, &prm->gemm, wl->seq_q, wl->seq_kv, wl->head_dim);
        const uint64_t pv = iters_mm(c, &prm->gemm, wl->seq_q, wl->head_dim, wl->seq_kv);
        n = qk > pv ? qk : pv, what = qk > pv ? "Q*K^T gemm" : "P*V gemm";
    }
    if (n <= allowed)
        return SD_OK;
    snprintf(reason, len,
             "%s kernel needs up to %" PRIu64 " loop iterations per work-item; %s ends every "
             "kernel invocation after %" PRIu64 " (Mesa gallivm loop limiter; allowed here: "
             "%" PRIu64 "), so it would return a truncated result",
             what, n, c->info.name, c->loop_limit, allowed);
    return SD_UNSUPPORTED;
}
