/* cpu_backend.c — the `cpu` backend: host memory + OpenBLAS (fp32) and, where built with oneDNN,
 * the `onednn` impls (fp32 and bf16, cpu_onednn.c).
 *
 * The CPU baseline of claim C1 (what a CPU-only user gets) and the ceiling for OpenCL-on-CPU
 * numbers. One device. Buffers hold the row's storage dtype (fp32, or bf16 for onednn rows):
 * upload/download convert from/to the host's fp32. Every buffer of a plan (inputs x nsets, output,
 * im2col workspace, attention score matrix, oneDNN's layout copies and scratchpad) goes through
 * cpu_alloc(), which counts current/peak bytes and refuses
 * (SD_OOM) a request above the limit: SDMARK_CPU_MEM_LIMIT bytes (suffixes K/M/G/T accepted),
 * default physical RAM / 2, so huge unfused attention is an honest `oom` row, not swapping.
 * Timing: host CLOCK_MONOTONIC around the (synchronous) computation.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <cblas.h>

#include "sdmark/backend.h"
#include "sdmark/cpu_features.h"
#include "sdmark/fault.h"
#include "sdmark/memtrack.h"
#include "cpu_internal.h"
#include "cpu_onednn.h"

#define MiB (1024.0 * 1024.0)
#define ALLOC_ALIGN 64

struct cpu_ctx {
    struct sd_device_info info;
    struct sd_cpu_features feat;
    uint64_t limit;     /* tracked bytes allowed at once */
    struct sd_memtrack mem; /* current/peak (the core's tracker; sizes live in our header) */
};

enum cpu_impl {
    IMPL_GEMM_OPENBLAS, IMPL_CONV_IM2COL, IMPL_ATTN_UNFUSED, IMPL_ATTN_SLICED,
    IMPL_GEMM_ONEDNN, IMPL_CONV_ONEDNN, IMPL_ATTN_ONEDNN_UNFUSED, IMPL_ATTN_ONEDNN_SLICED
};

#define MAX_SETS 64

struct sd_plan {
    struct cpu_ctx *ctx;
    struct sd_workload wl;
    enum cpu_impl impl;
    struct sd_tensors t;
    int nsets;
    size_t elem;        /* bytes per stored element: 4 (fp32) or 2 (bf16) */
    void *in[MAX_SETS][3];
    void *out;
    float *work;        /* im2col buffer or attention scores; NULL if none */
#ifdef SDMARK_HAVE_ONEDNN
    struct cpu_dnnl *dnnl; /* the oneDNN plan of an onednn impl */
#endif
};

#ifdef SDMARK_HAVE_ONEDNN
static const char *const gemm_impls[] = {"openblas", "onednn", NULL};
static const char *const conv_impls[] = {"im2col", "onednn", NULL};
static const char *const attn_impls[] = {"unfused", "sliced", "onednn_unfused", "onednn_sliced", NULL};
#else
static const char *const gemm_impls[] = {"openblas", NULL};
static const char *const conv_impls[] = {"im2col", NULL};
static const char *const attn_impls[] = {"unfused", "sliced", NULL};
#endif

/* Impl names per op; `onednn` marks the impls cpu_onednn.c runs. */
static const struct impl_name {
    enum sd_op op;
    const char *name;
    enum cpu_impl impl;
    bool onednn;
} impl_names[] = {
    {SD_OP_GEMM, "openblas", IMPL_GEMM_OPENBLAS, false},
    {SD_OP_CONV2D, "im2col", IMPL_CONV_IM2COL, false},
    {SD_OP_ATTENTION, "unfused", IMPL_ATTN_UNFUSED, false},
    {SD_OP_ATTENTION, "sliced", IMPL_ATTN_SLICED, false},
#ifdef SDMARK_HAVE_ONEDNN
    {SD_OP_GEMM, "onednn", IMPL_GEMM_ONEDNN, true},
    {SD_OP_CONV2D, "onednn", IMPL_CONV_ONEDNN, true},
    {SD_OP_ATTENTION, "onednn_unfused", IMPL_ATTN_ONEDNN_UNFUSED, true},
    {SD_OP_ATTENTION, "onednn_sliced", IMPL_ATTN_ONEDNN_SLICED, true},
#endif
};

/* ---- host facts ------------------------------------------------------------------------ */

static uint64_t phys_bytes(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
    return (pages > 0 && psz > 0) ? (uint64_t)pages * (uint64_t)psz : 0;
}

static uint64_t avail_bytes(void)
{
    long pages = sysconf(_SC_AVPHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
    return (pages > 0 && psz > 0) ? (uint64_t)pages * (uint64_t)psz : 0;
}

/* "123", "64M", "2G", "1.5G" -> bytes; 0 if unparsable. */
static uint64_t parse_bytes(const char *s)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno || !(v > 0))
        return 0;
    while (isspace((unsigned char)*end))
        end++;
    switch (toupper((unsigned char)*end)) {
    case 'K': v *= 1024.0; break;
    case 'M': v *= 1024.0 * 1024; break;
    case 'G': v *= 1024.0 * 1024 * 1024; break;
    case 'T': v *= 1024.0 * 1024 * 1024 * 1024; break;
    default: break;
    }
    return v >= 1.8e19 ? UINT64_MAX : (uint64_t)v;
}

static uint64_t mem_limit(void)
{
    const char *e = getenv("SDMARK_CPU_MEM_LIMIT");
    if (e && *e) {
        uint64_t v = parse_bytes(e);
        if (v)
            return v;
    }
    uint64_t p = phys_bytes();
    return p ? p / 2 : UINT64_MAX;
}

static void trim(char *s)
{
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = 0;
    size_t i = 0;
    while (isspace((unsigned char)s[i]))
        i++;
    memmove(s, s + i, strlen(s + i) + 1);
}

/* Value of the first "key<spaces>: value" line of /proc/cpuinfo into out; 0 if found. */
static int cpuinfo_field(const char *key, char *out, size_t len)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return -1;
    char line[8192];
    size_t kl = strlen(key);
    int rc = -1;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, key, kl) != 0)
            continue;
        char *p = line + kl;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p != ':')
            continue;
        snprintf(out, len, "%s", p + 1);
        trim(out);
        rc = 0;
        break;
    }
    fclose(f);
    return rc;
}

static int has_flag(const char *flags, const char *flag)
{
    size_t fl = strlen(flag);
    for (const char *p = flags; (p = strstr(p, flag)) != NULL; p += fl)
        if ((p == flags || p[-1] == ' ') && (p[fl] == ' ' || p[fl] == 0))
            return 1;
    return 0;
}

/* Machine name + the widest SIMD extension, e.g. "x86_64 avx512f", "aarch64 sve". */
static void cpu_arch(char *out, size_t len)
{
    struct utsname u;
    const char *machine = uname(&u) == 0 ? u.machine : "unknown";
    static char flags[8192];
    const char *simd = "";
    if (cpuinfo_field("flags", flags, sizeof flags) == 0) {
        static const char *const x86[] = {"avx512f", "avx2", "avx", "sse4_2", "sse2", NULL};
        for (int i = 0; x86[i]; i++)
            if (has_flag(flags, x86[i])) {
                simd = x86[i];
                break;
            }
    } else if (cpuinfo_field("Features", flags, sizeof flags) == 0) {
        static const char *const arm[] = {"sve2", "sve", "asimd", NULL};
        for (int i = 0; arm[i]; i++)
            if (has_flag(flags, arm[i])) {
                simd = arm[i];
                break;
            }
    }
    snprintf(out, len, "%.40s%s%s", machine, *simd ? " " : "", simd);
}

/* Largest cache (last level) of cpu0 from sysfs, in bytes; 0 if unknown. */
static uint64_t llc_bytes(void)
{
    uint64_t best = 0;
    for (int i = 0; i < 16; i++) {
        char path[96], buf[64];
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/size", i);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        if (fgets(buf, sizeof buf, f)) {
            char *end;
            unsigned long long v = strtoull(buf, &end, 10);
            if (*end == 'K' || *end == 'k')
                v *= 1024ull;
            else if (*end == 'M' || *end == 'm')
                v *= 1024ull * 1024;
            else if (*end == 'G' || *end == 'g')
                v *= 1024ull * 1024 * 1024;
            if (v > best)
                best = v;
        }
        fclose(f);
    }
    return best;
}

static int max_clock_mhz(void)
{
    FILE *f = fopen("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq", "r");
    if (f) {
        unsigned long khz = 0;
        int ok = fscanf(f, "%lu", &khz) == 1;
        fclose(f);
        if (ok && khz)
            return (int)(khz / 1000);
    }
    char mhz[64];
    if (cpuinfo_field("cpu MHz", mhz, sizeof mhz) == 0)
        return (int)(atof(mhz) + 0.5);
    return 0;
}

static void fill_info(struct sd_device_info *d, uint64_t limit)
{
    memset(d, 0, sizeof(*d));
    snprintf(d->backend, sizeof d->backend, "cpu");
    if (cpuinfo_field("model name", d->name, sizeof d->name) != 0 &&
        cpuinfo_field("Model", d->name, sizeof d->name) != 0)
        snprintf(d->name, sizeof d->name, "cpu");
    if (cpuinfo_field("vendor_id", d->vendor, sizeof d->vendor) != 0 &&
        cpuinfo_field("CPU implementer", d->vendor, sizeof d->vendor) != 0)
        d->vendor[0] = 0;
    cpu_arch(d->arch, sizeof d->arch);

    /* openblas_get_config(): "OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH ... SkylakeX MAX_THREADS=64" */
    char cfg[256];
    snprintf(cfg, sizeof cfg, "%s", openblas_get_config());
    const char *sp = strchr(cfg, ' ');
    sp = sp ? strchr(sp + 1, ' ') : NULL;
    snprintf(d->api_version, sizeof d->api_version, "%.*s", sp ? (int)(sp - cfg) : (int)strlen(cfg),
             cfg);
    int par = openblas_get_parallel();
    snprintf(d->driver_version, sizeof d->driver_version, "%s %s", openblas_get_corename(),
             par == 0 ? "sequential" : par == 2 ? "openmp" : "pthreads");

    long n = sysconf(_SC_NPROCESSORS_ONLN);
    d->compute_units = n > 0 ? (int)n : 1;
    d->clock_mhz = max_clock_mhz();
    d->mem_bytes = phys_bytes();
    d->max_alloc_bytes = limit;
    d->l2_bytes = llc_bytes();
    d->fp16 = false;
    d->bf16 = false;
#ifdef SDMARK_HAVE_ONEDNN
    /* bf16 only where a bf16 unit runs it (onednn); the version beside OpenBLAS's. */
    struct sd_cpu_features feat;
    sd_cpu_features_read(&feat, NULL);
    d->bf16 = cpu_dnnl_has_bf16(&feat);
    size_t al = strlen(d->api_version), dl = strlen(d->driver_version);
    snprintf(d->api_version + al, sizeof d->api_version - al, " + %s", cpu_dnnl_version());
    snprintf(d->driver_version + dl, sizeof d->driver_version - dl, ", onednn isa %s", cpu_dnnl_isa());
#endif
    d->threads = openblas_get_num_threads();
    d->kind = SD_DEVICE_CPU;
}

/* ---- tracked allocator ----------------------------------------------------------------- */

/* Every buffer of the backend comes from here. NULL + SD_OOM reason when the request would
 * exceed the limit or malloc fails. The size lives in a header before the returned pointer. */
void *cpu_alloc(struct cpu_ctx *c, size_t bytes, const char *what, char *reason, size_t len)
{
    if (sd_fault_hit(SD_FAULT_ALLOC)) {
        snprintf(reason, len, "cpu: allocation of %.1f MiB for %s failed (injected by SDMARK_FAULT)", bytes / MiB,
                 what);
        return NULL;
    }
    if (bytes > c->limit || c->mem.current > c->limit - bytes) {
        snprintf(reason, len,
                 "cpu: %s needs %.1f MiB, %.1f MiB already allocated, limit %.1f MiB "
                 "(SDMARK_CPU_MEM_LIMIT, default RAM/2)",
                 what, bytes / MiB, c->mem.current / MiB, c->limit / MiB);
        return NULL;
    }
    void *p = NULL;
    if (bytes > SIZE_MAX - ALLOC_ALIGN || posix_memalign(&p, ALLOC_ALIGN, bytes + ALLOC_ALIGN) != 0) {
        snprintf(reason, len, "cpu: malloc of %.1f MiB for %s failed", bytes / MiB, what);
        return NULL;
    }
    *(size_t *)p = bytes;
    sd_memtrack_count(&c->mem, (int64_t)bytes);
    return (char *)p + ALLOC_ALIGN;
}

void cpu_free(struct cpu_ctx *c, void *ptr)
{
    if (!ptr)
        return;
    char *p = (char *)ptr - ALLOC_ALIGN;
    sd_memtrack_count(&c->mem, -(int64_t)*(size_t *)p);
    free(p);
}

/* ---- ops ------------------------------------------------------------------------------- */

static int cpu_probe(struct sd_device_info *out, int max)
{
    if (out && max >= 1)
        fill_info(&out[0], mem_limit());
    return 1;
}

static enum sd_status cpu_open(int index, void **ctx, char *reason, size_t len)
{
    if (index != 0) {
        snprintf(reason, len, "cpu: no device %d (the cpu backend has one device, 0)", index);
        return SD_ERROR;
    }
    struct cpu_ctx *c = calloc(1, sizeof(*c));
    if (!c) {
        snprintf(reason, len, "cpu: out of memory opening the backend");
        return SD_OOM;
    }
    c->limit = mem_limit();
    fill_info(&c->info, c->limit);
    sd_cpu_features_read(&c->feat, NULL);
    *ctx = c;
    return SD_OK;
}

static void cpu_close(void *ctx) { free(ctx); }

static void cpu_device_info(void *ctx, struct sd_device_info *info)
{
    *info = ((struct cpu_ctx *)ctx)->info;
}

/* The impl entry of (op, name); NULL name = the op's default (first listed). NULL if unknown. */
static const struct impl_name *impl_of(const struct sd_workload *wl, const char *impl)
{
    if (!impl)
        impl = wl->op == SD_OP_GEMM ? gemm_impls[0] : wl->op == SD_OP_CONV2D ? conv_impls[0] : attn_impls[0];
    for (size_t i = 0; i < sizeof impl_names / sizeof impl_names[0]; i++)
        if (impl_names[i].op == wl->op && strcmp(impl, impl_names[i].name) == 0)
            return &impl_names[i];
    return NULL;
}

static int fits_int(int64_t v) { return v > 0 && v <= INT_MAX; }

static enum sd_status cpu_supports(void *ctx, const struct sd_workload *wl, const char *impl,
                                   char *reason, size_t len)
{
    const struct impl_name *im = impl_of(wl, impl);
    if (!im) {
        snprintf(reason, len, "cpu: no impl '%s' for %s", impl ? impl : "(default)", sd_op_name(wl->op));
        return SD_UNSUPPORTED;
    }
#ifdef SDMARK_HAVE_ONEDNN
    if (im->onednn) {
        enum sd_status st = cpu_dnnl_supports(&((struct cpu_ctx *)ctx)->feat, wl, reason, len);
        if (st != SD_OK)
            return st;
    } else
#endif
    if (wl->dtype != SD_FP32 || wl->acc != SD_FP32) {
        snprintf(reason, len, "cpu: OpenBLAS path computes fp32 only (dtype %s, acc %s requested)",
                 sd_dtype_name(wl->dtype), sd_dtype_name(wl->acc));
        return SD_UNSUPPORTED;
    }
    char err[256];
    if (sd_workload_validate(wl, err, sizeof err) != 0) {
        snprintf(reason, len, "cpu: %s", err);
        return SD_UNSUPPORTED;
    }
    const char *want = wl->op == SD_OP_GEMM ? "row" : wl->op == SD_OP_CONV2D ? "NCHW" : "BSD";
    if (wl->layout[0] && strcmp(wl->layout, want) != 0) {
        snprintf(reason, len, "cpu: layout %s not supported for %s (only %s)", wl->layout,
                 sd_op_name(wl->op), want);
        return SD_UNSUPPORTED;
    }
    /* BLAS takes 32-bit int dimensions / leading dimensions (oneDNN's are 64-bit). */
    int ok = 1;
    if (im->onednn)
        return SD_OK;
    switch (wl->op) {
    case SD_OP_GEMM:
        ok = fits_int(wl->m) && fits_int(wl->n) && fits_int(wl->k);
        break;
    case SD_OP_CONV2D:
        ok = fits_int(wl->c_out) && wl->h * wl->w <= INT_MAX && wl->c_in * wl->r * wl->s <= INT_MAX;
        break;
    case SD_OP_ATTENTION:
        ok = fits_int(wl->seq_q) && fits_int(wl->seq_kv) && fits_int(wl->head_dim);
        break;
    default:
        break;
    }
    if (!ok) {
        snprintf(reason, len, "cpu: a matrix dimension exceeds the 32-bit BLAS interface");
        return SD_UNSUPPORTED;
    }
    return SD_OK;
}

static void cpu_release(struct sd_plan *p)
{
    if (!p)
        return;
#ifdef SDMARK_HAVE_ONEDNN
    cpu_dnnl_release(p->dnnl);
#endif
    for (int s = 0; s < p->nsets; s++)
        for (int i = 0; i < 3; i++)
            cpu_free(p->ctx, p->in[s][i]);
    cpu_free(p->ctx, p->out);
    cpu_free(p->ctx, p->work);
    free(p);
}

/* Floats of workspace an OpenBLAS impl needs, and what it is (named in an OOM reason). */
static size_t work_floats(const struct sd_plan *p, const char **what)
{
    switch (p->impl) {
    case IMPL_CONV_IM2COL:
        *what = "im2col workspace";
        return cpu_conv_workspace(&p->wl);
    case IMPL_ATTN_UNFUSED:
        *what = "score matrix (bh x seq_q x seq_kv fp32)";
        return cpu_attn_scores_unfused(&p->wl);
    case IMPL_ATTN_SLICED:
        *what = "score slice (seq_q x seq_kv fp32)";
        return cpu_attn_scores_sliced(&p->wl);
    default:
        *what = "workspace";
        return 0;
    }
}

/* The oneDNN plan of an onednn impl: its score matrix, layout copies and scratchpad are its own
 * tracked buffers. SD_OK (nothing to do for OpenBLAS impls) or the plan's failure. */
static enum sd_status prepare_onednn(struct sd_plan *p, char *reason, size_t len)
{
#ifdef SDMARK_HAVE_ONEDNN
    enum cpu_dnnl_kind kind;
    switch (p->impl) {
    case IMPL_GEMM_ONEDNN: kind = CPU_DNNL_GEMM; break;
    case IMPL_CONV_ONEDNN: kind = CPU_DNNL_CONV; break;
    case IMPL_ATTN_ONEDNN_UNFUSED: kind = CPU_DNNL_ATTN_UNFUSED; break;
    case IMPL_ATTN_ONEDNN_SLICED: kind = CPU_DNNL_ATTN_SLICED; break;
    default: return SD_OK;
    }
    return cpu_dnnl_prepare(p->ctx, &p->wl, kind, &p->dnnl, reason, len);
#else
    (void)p, (void)reason, (void)len;
    return SD_OK;
#endif
}

static enum sd_status cpu_prepare(void *ctx, const struct sd_workload *wl, const char *impl,
                                  int nsets, struct sd_plan **plan, char *reason, size_t len)
{
    struct cpu_ctx *c = ctx;
    *plan = NULL;
    enum sd_status st = cpu_supports(ctx, wl, impl, reason, len);
    if (st != SD_OK)
        return st;
    if (nsets < 1 || nsets > MAX_SETS) {
        snprintf(reason, len, "cpu: nsets=%d out of range 1..%d", nsets, MAX_SETS);
        return SD_ERROR;
    }
    struct sd_plan *p = calloc(1, sizeof(*p));
    if (!p) {
        snprintf(reason, len, "cpu: out of host memory for the plan");
        return SD_OOM;
    }
    p->ctx = c;
    p->wl = *wl;
    p->impl = impl_of(wl, impl)->impl;
    p->elem = sd_dtype_size(wl->dtype);
    sd_workload_tensors(wl, &p->t);

    /* Largest single need first (scores, workspace), so an impossible row fails fast. */
    const char *work_what;
    size_t work = work_floats(p, &work_what);
    st = SD_OOM;
    if (work && !(p->work = cpu_alloc(c, work * sizeof(float), work_what, reason, len)))
        goto fail;
    if ((st = prepare_onednn(p, reason, len)) != SD_OK)
        goto fail;
    st = SD_OOM;
    if (!(p->out = cpu_alloc(c, p->t.out * p->elem, "output", reason, len)))
        goto fail;
    p->nsets = nsets;
    for (int s = 0; s < nsets; s++)
        for (int i = 0; i < p->t.n_in; i++)
            if (!(p->in[s][i] = cpu_alloc(c, p->t.in[i] * p->elem, "input", reason, len)))
                goto fail;
    *plan = p;
    return SD_OK;
fail:
    cpu_release(p);
    return st;
}

/* Host fp32 -> stored elements (bf16/fp16 round to nearest even, as sd_round_to_dtype does). */
static void store_f32(void *dst, const float *src, size_t n, enum sd_dtype dt)
{
    uint16_t *h = dst;
    if (dt == SD_BF16)
        for (size_t i = 0; i < n; i++)
            h[i] = sd_float_to_bf16(src[i]);
    else if (dt == SD_FP16)
        for (size_t i = 0; i < n; i++)
            h[i] = sd_float_to_half(src[i]);
    else
        memcpy(dst, src, n * sizeof(float));
}

static void load_f32(float *dst, const void *src, size_t n, enum sd_dtype dt)
{
    const uint16_t *h = src;
    if (dt == SD_BF16)
        for (size_t i = 0; i < n; i++)
            dst[i] = sd_bf16_to_float(h[i]);
    else if (dt == SD_FP16)
        for (size_t i = 0; i < n; i++)
            dst[i] = sd_half_to_float(h[i]);
    else
        memcpy(dst, src, n * sizeof(float));
}

static enum sd_status cpu_upload(struct sd_plan *p, int set, const float *const *inputs,
                                 char *reason, size_t len)
{
    if (set < 0 || set >= p->nsets) {
        snprintf(reason, len, "cpu: upload to set %d of %d", set, p->nsets);
        return SD_ERROR;
    }
    for (int i = 0; i < p->t.n_in; i++)
        store_f32(p->in[set][i], inputs[i], p->t.in[i], p->wl.dtype);
    return SD_OK;
}

static enum sd_status cpu_poison(struct sd_plan *p, char *reason, size_t len)
{
    const float nan = NAN;
    if (p->elem == sizeof(float)) {
        float *o = p->out;
        for (size_t i = 0; i < p->t.out; i++)
            o[i] = nan;
    } else { /* a 16-bit NaN of the stored dtype */
        uint16_t h = p->wl.dtype == SD_BF16 ? sd_float_to_bf16(nan) : sd_float_to_half(nan);
        uint16_t *o = p->out;
        for (size_t i = 0; i < p->t.out; i++)
            o[i] = h;
    }
    return SD_OK;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static enum sd_status cpu_run(struct sd_plan *p, int set, double *ms, char *reason, size_t len)
{
    if (set < 0 || set >= p->nsets) {
        snprintf(reason, len, "cpu: run on set %d of %d", set, p->nsets);
        return SD_ERROR;
    }
    if (sd_fault_hit(SD_FAULT_ENQUEUE)) {
        snprintf(reason, len, "cpu: kernel launch failed (injected by SDMARK_FAULT)");
        return SD_ERROR;
    }
    void *const *in = p->in[set];
    enum sd_status st = SD_OK;
    double t0 = now_ms();
    switch (p->impl) {
    case IMPL_GEMM_OPENBLAS:
        cpu_gemm(&p->wl, in[0], in[1], p->out);
        break;
    case IMPL_CONV_IM2COL:
        cpu_conv_im2col(&p->wl, in[0], in[1], p->out, p->work);
        break;
    case IMPL_ATTN_UNFUSED:
        cpu_attention_unfused(&p->wl, in[0], in[1], in[2], p->out, p->work);
        break;
    case IMPL_ATTN_SLICED:
        cpu_attention_sliced(&p->wl, in[0], in[1], in[2], p->out, p->work);
        break;
    default:
#ifdef SDMARK_HAVE_ONEDNN
        st = cpu_dnnl_run(p->dnnl, in, p->out, reason, len);
#endif
        break;
    }
    double t1 = now_ms();
    if (ms)
        *ms = t1 - t0;
    return st;
}

static enum sd_status cpu_download(struct sd_plan *p, float *out, char *reason, size_t len)
{
    load_f32(out, p->out, p->t.out, p->wl.dtype);
    return SD_OK;
}

static void cpu_mem_stats(void *ctx, struct sd_mem_stats *out)
{
    struct cpu_ctx *c = ctx;
    sd_memtrack_stats(&c->mem, out);
    out->device_free = avail_bytes();
    out->device_total = phys_bytes();
}

static void cpu_reset_peak(void *ctx)
{
    struct cpu_ctx *c = ctx;
    sd_memtrack_reset_peak(&c->mem);
}

static const char *cpu_timer_name(void *ctx) { return "host_monotonic"; }

const struct sd_backend_ops sd_backend_cpu = {
    .name = "cpu",
    .probe = cpu_probe,
    .open = cpu_open,
    .close = cpu_close,
    .device_info = cpu_device_info,
    .impls = {[SD_OP_GEMM] = gemm_impls, [SD_OP_CONV2D] = conv_impls, [SD_OP_ATTENTION] = attn_impls},
    .supports = cpu_supports,
    .prepare = cpu_prepare,
    .upload = cpu_upload,
    .poison = cpu_poison,
    .run = cpu_run,
    .download = cpu_download,
    .release = cpu_release,
    .mem_stats = cpu_mem_stats,
    .reset_peak = cpu_reset_peak,
    .timer_name = cpu_timer_name,
    .env_begin = NULL,
    .env_end = NULL,
    .tune = NULL,
};
