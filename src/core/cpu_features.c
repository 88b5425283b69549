/* cpu_features.c — the host CPU's SIMD/matrix flags, cores and clock (see cpu_features.h). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sdmark/cpu_features.h"

static bool has_word(const char *list, const char *w)
{
    size_t n = strlen(w);
    for (const char *p = list; (p = strstr(p, w)) != NULL; p += n) {
        bool start = p == list || p[-1] == ' ' || p[-1] == '\t';
        bool end = p[n] == '\0' || p[n] == ' ' || p[n] == '\n' || p[n] == '\t';
        if (start && end)
            return true;
    }
    return false;
}

void sd_cpu_features_parse_flags(struct sd_cpu_features *f, const char *flags)
{
    f->sse2 = has_word(flags, "sse2");
    f->avx = has_word(flags, "avx");
    f->avx2 = has_word(flags, "avx2");
    f->fma = has_word(flags, "fma");
    f->avx512f = has_word(flags, "avx512f");
    f->avx512_bf16 = has_word(flags, "avx512_bf16");
    f->avx512_fp16 = has_word(flags, "avx512_fp16");
    f->avx512_vnni = has_word(flags, "avx512_vnni");
    f->amx_tile = has_word(flags, "amx_tile");
    f->amx_bf16 = has_word(flags, "amx_bf16");
    f->amx_int8 = has_word(flags, "amx_int8");
    f->neon = has_word(flags, "asimd") || has_word(flags, "neon");
    f->sve = has_word(flags, "sve");
    f->fp32_lanes = f->avx512f ? 16 : (f->avx || f->avx2) ? 8 : (f->sse2 || f->neon) ? 4 : 1;
    f->fma_units = 2;
}

/* cpufreq's cpuinfo_max_freq (kHz) is the boost ceiling where the kernel exposes it. */
static double sysfs_max_mhz(void)
{
    FILE *fp = fopen("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq", "r");
    if (!fp)
        return 0;
    double khz = 0;
    if (fscanf(fp, "%lf", &khz) != 1)
        khz = 0;
    fclose(fp);
    return khz / 1000.0;
}

int sd_cpu_features_read(struct sd_cpu_features *f, const char *cpuinfo_path)
{
    memset(f, 0, sizeof *f);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    f->cores = n > 0 ? (int)n : 0;
    FILE *fp = fopen(cpuinfo_path ? cpuinfo_path : "/proc/cpuinfo", "r");
    if (!fp)
        return -1;
    char *line = NULL;
    size_t cap = 0;
    bool got_flags = false;
    double mhz = 0;
    while (getline(&line, &cap, fp) > 0) {
        char *colon = strchr(line, ':');
        if (!colon)
            continue;
        const char *val = colon + 1 + strspn(colon + 1, " \t");
        if (!got_flags && (!strncmp(line, "flags", 5) || !strncmp(line, "Features", 8))) {
            sd_cpu_features_parse_flags(f, val);
            got_flags = true;
        } else if (!f->model[0] && !strncmp(line, "model name", 10)) {
            snprintf(f->model, sizeof f->model, "%.*s", (int)strcspn(val, "\n"), val);
        } else if (!strncmp(line, "cpu MHz", 7)) {
            double v = atof(val);
            if (v > mhz)
                mhz = v;
        }
    }
    free(line);
    fclose(fp);
    double sys = cpuinfo_path ? 0 : sysfs_max_mhz();
    f->max_mhz = sys > mhz ? sys : mhz;
    if (!got_flags)
        sd_cpu_features_parse_flags(f, "");
    return 0;
}

static int counted_cores(const struct sd_cpu_features *f, int threads)
{
    return (threads > 0 && threads < f->cores) ? threads : f->cores;
}

double sd_cpu_fp32_peak_gflops(const struct sd_cpu_features *f, int threads)
{
    int c = counted_cores(f, threads);
    if (c <= 0 || f->max_mhz <= 0)
        return 0;
    return (double)c * f->fp32_lanes * f->fma_units * 2.0 * f->max_mhz / 1000.0;
}

double sd_cpu_bf16_peak_gflops(const struct sd_cpu_features *f, int threads)
{
    int c = counted_cores(f, threads);
    if (c <= 0 || f->max_mhz <= 0)
        return 0;
    if (f->amx_bf16)   /* one AMX TMUL: 1024 bf16 multiply-adds per cycle = 2048 FLOP/cycle */
        return (double)c * 1024.0 * 2.0 * f->max_mhz / 1000.0;
    if (f->avx512_bf16)
        return 2.0 * sd_cpu_fp32_peak_gflops(f, threads);
    return sd_cpu_fp32_peak_gflops(f, threads);
}

void sd_cpu_features_describe(const struct sd_cpu_features *f, char *buf, size_t len)
{
    static const struct { size_t off; const char *name; } names[] = {
        {offsetof(struct sd_cpu_features, avx2), "avx2"},
        {offsetof(struct sd_cpu_features, fma), "fma"},
        {offsetof(struct sd_cpu_features, avx512f), "avx512f"},
        {offsetof(struct sd_cpu_features, avx512_vnni), "avx512_vnni"},
        {offsetof(struct sd_cpu_features, avx512_bf16), "avx512_bf16"},
        {offsetof(struct sd_cpu_features, avx512_fp16), "avx512_fp16"},
        {offsetof(struct sd_cpu_features, amx_bf16), "amx_bf16"},
        {offsetof(struct sd_cpu_features, amx_int8), "amx_int8"},
        {offsetof(struct sd_cpu_features, neon), "neon"},
        {offsetof(struct sd_cpu_features, sve), "sve"},
    };
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof names / sizeof names[0] && used + 1 < len; i++)
        if (*(const bool *)((const char *)f + names[i].off))
            used += (size_t)snprintf(buf + used, len - used, "%s%s", used ? " " : "", names[i].name);
    if (!buf[0])
        snprintf(buf, len, "none of avx2/avx512/amx/neon");
}
