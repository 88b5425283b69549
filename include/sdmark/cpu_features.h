/* cpu_features.h — what the host CPU can do, read from its flags (never assumed): the SIMD and
 * matrix extensions, the core count and the clock. Used for the CPU devices' plausibility bound
 * (a row faster than cores x lanes x FMA units x 2 x clock is not believed), for `sdmark devices`,
 * and for which dtypes a CPU impl can run. Implementation: src/core/cpu_features.c. */
#ifndef SDMARK_CPU_FEATURES_H
#define SDMARK_CPU_FEATURES_H

#include <stdbool.h>
#include <stddef.h>

struct sd_cpu_features {
    char model[128];        /* "Intel(R) Xeon(R) Platinum 8480+" or "" */
    bool sse2, avx, avx2, fma, avx512f, avx512_bf16, avx512_fp16, avx512_vnni;
    bool amx_tile, amx_bf16, amx_int8, neon, sve;
    int cores;              /* logical CPUs online */
    double max_mhz;         /* highest clock the system reports (cpufreq max, else cpuinfo MHz), 0 = unknown */
    int fp32_lanes;         /* fp32 lanes of the widest vector unit: 16 (AVX-512), 8 (AVX/AVX2), 4 (SSE/NEON) */
    int fma_units;          /* FMA pipes per core assumed for the bound: 2 (generous: the most any x86 core has) */
};

/* Fill from /proc/cpuinfo, sysfs and sysconf. `cpuinfo_path` NULL = /proc/cpuinfo (tests pass a
 * fixture). Fields it cannot read stay false/0. Returns 0, -1 when the file cannot be read. */
int sd_cpu_features_read(struct sd_cpu_features *f, const char *cpuinfo_path);
/* Parse one "flags : ..." (x86) or "Features : ..." (arm) value into f (for tests). */
void sd_cpu_features_parse_flags(struct sd_cpu_features *f, const char *flags);
/* Physical fp32 FMA peak in GFLOP/s: cores x fp32_lanes x fma_units x 2 x clock. 0 if the clock or
 * the core count is unknown. `threads` > 0 limits the cores counted. */
double sd_cpu_fp32_peak_gflops(const struct sd_cpu_features *f, int threads);
/* Same for bf16 matrix work: AMX-BF16 (1024 bf16 FLOP per cycle per core, x2 margin), else
 * AVX512-BF16 (2x fp32 lanes), else the fp32 peak. */
double sd_cpu_bf16_peak_gflops(const struct sd_cpu_features *f, int threads);
/* "avx2 fma avx512f avx512_bf16 amx_bf16" — the features that matter here, space-separated. */
void sd_cpu_features_describe(const struct sd_cpu_features *f, char *buf, size_t len);

#endif
