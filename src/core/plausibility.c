/* plausibility.c — the physical upper bound of a row (see plausibility.h and
 * docs/measurement.md "Physical plausibility"). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "sdmark/cpu_features.h"
#include "sdmark/plausibility.h"

static bool half_or_matrix(enum sd_dtype t)
{
    return t == SD_FP16 || t == SD_BF16 || t == SD_TF32;
}

/* CPU: cores x lanes x FMA units x 2 x clock from its flags (bf16 paths from AVX512-BF16/AMX), x2. */
static void cpu_bound(const struct sd_workload *wl, struct sd_bound *b)
{
    static struct sd_cpu_features f;
    static int have = -1;
    if (have < 0)
        have = sd_cpu_features_read(&f, NULL) == 0;
    struct sd_cpu_features g = f;
    const char *clk = "";
    if (!(g.max_mhz > 0)) {
        g.max_mhz = SD_BOUND_CPU_ASSUMED_MHZ;
        clk = ", clock unknown: 5 GHz assumed";
    }
    double fp32 = sd_cpu_fp32_peak_gflops(&g, 0), peak = fp32;
    const char *what = "fp32";
    if (wl->dtype == SD_FP16 || wl->dtype == SD_BF16) {
        double bf = sd_cpu_bf16_peak_gflops(&g, 0);
        if (bf > peak) {
            peak = bf;
            what = "bf16";
        }
    }
    if (!have || !(peak > 0))
        return;
    b->tflops = peak * 1e-3 * SD_BOUND_CPU_MARGIN;
    snprintf(b->tflops_basis, sizeof b->tflops_basis, "cpu %s peak %.3g TFLOP/s x%g margin%s", what, peak * 1e-3,
             SD_BOUND_CPU_MARGIN, clk);
}

/* GPU / other: compute units x clock x 128 lanes x 2 (FMA) x2 margin; x16 for matrix dtypes. */
static void device_bound(const struct sd_device_info *dev, const struct sd_workload *wl, struct sd_bound *b)
{
    if (dev->compute_units <= 0 || dev->clock_mhz <= 0)
        return;
    double fp32 = dev->compute_units * (double)dev->clock_mhz * 1e6 * SD_BOUND_GPU_LANES * 2 * 1e-12;
    double f = half_or_matrix(wl->dtype) ? SD_BOUND_MATRIX_FACTOR : 1.0;
    b->tflops = fp32 * SD_BOUND_GPU_MARGIN * f;
    snprintf(b->tflops_basis, sizeof b->tflops_basis, "%d CUs x %d MHz x %d lanes x 2 = %.3g TFLOP/s x%g margin%s",
             dev->compute_units, dev->clock_mhz, SD_BOUND_GPU_LANES, fp32, SD_BOUND_GPU_MARGIN,
             f > 1 ? " x16 matrix units" : "");
}

void sd_bound_for(const struct sd_device_info *dev, const struct sd_workload *wl, const struct sd_spec *spec,
                  bool hot, struct sd_bound *b)
{
    memset(b, 0, sizeof *b);
    b->tflops = b->gbs = INFINITY;
    if (spec && spec->peak_tflops > 0) {
        b->tflops = spec->peak_tflops;
        snprintf(b->tflops_basis, sizeof b->tflops_basis, "%s spec %s peak", spec->name, sd_dtype_name(wl->dtype));
    } else if (dev->kind == SD_DEVICE_CPU) {
        cpu_bound(wl, b);
    } else {
        device_bound(dev, wl, b);
    }
    if (!hot && spec && spec->bw_gbs > 0) {
        b->gbs = spec->bw_gbs * SD_BOUND_BW_MARGIN;
        snprintf(b->gbs_basis, sizeof b->gbs_basis, "%s spec %.0f GB/s x%g margin", spec->name, spec->bw_gbs,
                 SD_BOUND_BW_MARGIN);
    }
}

int sd_bound_exceeded(const struct sd_bound *b, double tflops, double gbs, char *why, size_t len)
{
    if (tflops > b->tflops) {
        snprintf(why, len, "implausible: %.4g TFLOP/s > bound %.4g TFLOP/s (%s)", tflops, b->tflops, b->tflops_basis);
        return 1;
    }
    if (gbs > b->gbs) {
        snprintf(why, len, "implausible: %.4g GB/s > bound %.4g GB/s (%s)", gbs, b->gbs, b->gbs_basis);
        return 1;
    }
    return 0;
}
