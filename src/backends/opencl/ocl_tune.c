/* ocl_tune.c - kernel parameters per device: defaults by device type, a small text cache
 * keyed by device name + driver version, and the tuner (try candidates, verify each on a small
 * problem, time on a representative SD shape, keep the fastest). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ocl.h"
#include "sdmark/row_phases.h"

#define CACHE_FILE "opencl-tune.txt"

/* CPU defaults (PoCL 3.1, 2-core AVX-512): C blocks of up to 96 x 320, K-block 320, 6 x 32
 * micro-kernel; gemm_packed keeps only the A block in __local (MBP x (KB + 4) floats: 124 KB),
 * a smaller set where the device has less. A device whose native float vector is narrower than
 * 16 (AVX2: 16 registers of 8 lanes) gets 6 x 16 in 8-lane vectors: 6 x 32 spills there. */
/* Named fields: the CPU-packed ones (mb..nv) drive the CPU-style kernels, the GPU-tiled ones
 * (tx..bk) the GPU-style kernels that loop-limited drivers fall back to. */
static const struct ocl_mm_params MM_CPU_BIG = {.style = OCL_STYLE_CPU, .mb = 96, .nb = 320, .kb = 320, .mr = 6, .vw = 16, .nv = 2, .tx = 16, .ty = 16, .rm = 4, .rn = 4, .bk = 16};
static const struct ocl_mm_params MM_CPU_8 = {.style = OCL_STYLE_CPU, .mb = 96, .nb = 256, .kb = 256, .mr = 6, .vw = 8, .nv = 2, .tx = 16, .ty = 16, .rm = 4, .rn = 4, .bk = 16};
static const struct ocl_mm_params MM_CPU = {.style = OCL_STYLE_CPU, .mb = 48, .nb = 128, .kb = 128, .mr = 6, .vw = 16, .nv = 2, .tx = 16, .ty = 16, .rm = 4, .rn = 4, .bk = 16};
static const struct ocl_mm_params MM_GPU = {.style = OCL_STYLE_GPU, .mb = 96, .nb = 64, .kb = 256, .mr = 6, .vw = 16, .nv = 1, .tx = 16, .ty = 16, .rm = 4, .rn = 4, .bk = 16};
static const struct ocl_flash_params FL_CPU = {.style = OCL_STYLE_CPU, .qr = 4, .qs = 12, .nkv = 3, .kc = 128, .vd = 8, .bq = 64, .bkv = 32};
static const struct ocl_flash_params FL_GPU = {.style = OCL_STYLE_GPU, .qr = 6, .qs = 8, .nkv = 2, .kc = 256, .vd = 16, .bq = 64, .bkv = 32};

void ocl_params_defaults(const struct ocl_ctx *c, struct ocl_params *p)
{
    memset(p, 0, sizeof(*p));
    bool gpu = !(c->type & CL_DEVICE_TYPE_CPU);
    const bool big = !c->local_mem || c->local_mem >= 96 * (320 + 4) * 4;
    cl_uint lanes = 16;
    if (c->device && clGetDeviceInfo(c->device, CL_DEVICE_NATIVE_VECTOR_WIDTH_FLOAT, sizeof lanes, &lanes, NULL) != CL_SUCCESS)
        lanes = 16;
    p->gemm = gpu ? MM_GPU : !big ? MM_CPU : lanes < 16 ? MM_CPU_8 : MM_CPU_BIG;
    p->conv = p->gemm;
    p->flash = gpu ? FL_GPU : FL_CPU;
    snprintf(p->source, sizeof(p->source), "defaults(%s)", gpu ? "gpu" : "cpu");
}

void ocl_mm_opts(const struct ocl_mm_params *p, char *buf, size_t len)
{
    if (p->style == OCL_STYLE_CPU)
        snprintf(buf, len, "-DMB=%d -DNB=%d -DKB=%d -DMR=%d -DVW=%d -DNV=%d", p->mb, p->nb, p->kb, p->mr,
                 p->vw, p->nv);
    else
        snprintf(buf, len, "-DTX=%d -DTY=%d -DRM=%d -DRN=%d -DBK=%d", p->tx, p->ty, p->rm, p->rn, p->bk);
}

/* vd is tuned for head_dims that are not whole 16-float vectors (40: 5 x 8 or 3 x 16 with a third
 * of the last vector padding); a multiple of 16 loses nothing to 16-wide vectors on any target. */
int ocl_flash_vd(const struct ocl_flash_params *p, int hd) { return hd % 16 == 0 ? 16 : p->vd; }

int ocl_flash_hdp(const struct ocl_flash_params *p, int hd)
{
    const int vd = ocl_flash_vd(p, hd);
    return (hd + vd - 1) / vd * vd;
}

uint64_t ocl_flash_pack_bytes(const struct ocl_flash_params *p, int64_t bh, int64_t skv, int hd)
{
    const uint64_t fks = 16 * (uint64_t)p->nkv, keys = (uint64_t)(skv + fks - 1) / fks * fks;
    return (uint64_t)bh * keys * (uint64_t)(hd + ocl_flash_hdp(p, hd)) * 4;
}

/* FDB: vectors of one P*V pass, the largest divisor of the padded row's vector count within pvc
 * columns, so the passes tile the row exactly. */
static int flash_fdb(const struct ocl_flash_params *p, int hd)
{
    const int vd = ocl_flash_vd(p, hd), ndv = ocl_flash_hdp(p, hd) / vd;
    const int cols = p->pvc > 0 ? p->pvc : 384 / p->qr;
    int fdb = 1;
    for (int f = 1; f <= ndv && f * vd <= cols; f++)
        if (ndv % f == 0)
            fdb = f;
    return fdb;
}

void ocl_flash_opts(const struct ocl_flash_params *p, int hd, char *buf, size_t len)
{
    if (p->style == OCL_STYLE_CPU)
        snprintf(buf, len, "-DFQR=%d -DFQS=%d -DFNKV=%d -DFKC=%d -DFVD=%d -DFDB=%d", p->qr, p->qs, p->nkv, p->kc,
                 ocl_flash_vd(p, hd), flash_fdb(p, hd));
    else
        snprintf(buf, len, "-DFBQ=%d -DFBKV=%d", p->bq, p->bkv);
}

static void fmt_mm(const struct ocl_mm_params *m, char *b, size_t n)
{
    snprintf(b, n, "%s:%d:%d:%d:%d:%d:%d:%d:%d:%d:%d:%d", m->style == OCL_STYLE_CPU ? "cpu" : "gpu", m->mb,
             m->nb, m->kb, m->mr, m->vw, m->nv, m->tx, m->ty, m->rm, m->rn, m->bk);
}

static void fmt_flash(const struct ocl_flash_params *f, char *b, size_t n)
{
    snprintf(b, n, "%s:%d:%d:%d:%d:%d:%d:%d:%d", f->style == OCL_STYLE_CPU ? "cpu" : "gpu", f->qr, f->qs,
             f->nkv, f->kc, f->vd, f->bq, f->bkv, f->pvc);
}

int ocl_params_format(const struct ocl_params *p, char *buf, size_t len)
{
    char g[96], c[96], f[96];
    fmt_mm(&p->gemm, g, sizeof(g));
    fmt_mm(&p->conv, c, sizeof(c));
    fmt_flash(&p->flash, f, sizeof(f));
    return snprintf(buf, len, "gemm=%s conv=%s flash=%s", g, c, f);
}

static bool parse_mm(const char *s, struct ocl_mm_params *m)
{
    char st[8];
    struct ocl_mm_params t;
    if (sscanf(s, "%3[a-z]:%d:%d:%d:%d:%d:%d:%d:%d:%d:%d:%d", st, &t.mb, &t.nb, &t.kb, &t.mr, &t.vw, &t.nv,
               &t.tx, &t.ty, &t.rm, &t.rn, &t.bk) != 12)
        return false;
    t.style = strcmp(st, "gpu") == 0 ? OCL_STYLE_GPU : OCL_STYLE_CPU;
    if (t.mb < 1 || t.nb < 1 || t.kb < 1 || t.mr < 1 || (t.vw != 8 && t.vw != 16) || t.nv < 1 || t.tx < 1 ||
        t.ty < 1 || t.rm < 1 || t.rn < 1 || t.bk < 1)
        return false;
    *m = t;
    return true;
}

static bool parse_flash(const char *s, struct ocl_flash_params *f)
{
    char st[8];
    struct ocl_flash_params t;
    t.pvc = 0; /* optional ninth field */
    if (sscanf(s, "%3[a-z]:%d:%d:%d:%d:%d:%d:%d:%d", st, &t.qr, &t.qs, &t.nkv, &t.kc, &t.vd, &t.bq, &t.bkv,
               &t.pvc) < 8)
        return false;
    t.style = strcmp(st, "gpu") == 0 ? OCL_STYLE_GPU : OCL_STYLE_CPU;
    if (t.qr < 1 || t.qs < 1 || t.nkv < 1 || t.kc < 16 || (t.vd != 8 && t.vd != 16) || t.bq < 1 || t.bkv < 1 ||
        t.pvc < 0)
        return false;
    *f = t;
    return true;
}

static void cache_dir(char *buf, size_t len)
{
    const char *d = getenv("SDMARK_CACHE_DIR");
    if (d && *d) {
        snprintf(buf, len, "%s", d);
        return;
    }
    d = getenv("XDG_CACHE_HOME");
    if (d && *d) {
        snprintf(buf, len, "%s/sdmark", d);
        return;
    }
    d = getenv("HOME");
    snprintf(buf, len, "%s/.cache/sdmark", d && *d ? d : "/tmp");
}

static void mkdir_p(const char *path)
{
    char tmp[1024];
    snprintf(tmp, sizeof(tmp), "%s", path);
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            mkdir(tmp, 0755);
            *p = '/';
        }
    mkdir(tmp, 0755);
}

static void cache_key(const struct ocl_ctx *c, char *buf, size_t len)
{
    /* device, driver and the kernels themselves: parameters tuned for other kernel sources are stale */
    snprintf(buf, len, "%s | %s | kernels %08x", c->info.name, c->info.driver_version, (unsigned)ocl_kernels_hash());
    for (char *p = buf; *p; p++)
        if (*p == '\t' || *p == '\n')
            *p = ' ';
}

/* Returns true when the cache holds a line for this device. */
static bool cache_read(const struct ocl_ctx *c, struct ocl_params *out)
{
    char dir[1024], path[1100], key[256];
    cache_dir(dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/%s", dir, CACHE_FILE);
    cache_key(c, key, sizeof(key));
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    char line[1024];
    bool found = false;
    while (fgets(line, sizeof(line), f)) {
        char *tab = strchr(line, '\t');
        if (!tab || line[0] == '#')
            continue;
        *tab = 0;
        if (strcmp(line, key) != 0)
            continue;
        struct ocl_params p = *out;
        char *g = strstr(tab + 1, "gemm="), *cv = strstr(tab + 1, "conv="), *fl = strstr(tab + 1, "flash=");
        if (g && cv && fl && parse_mm(g + 5, &p.gemm) && parse_mm(cv + 5, &p.conv) &&
            parse_flash(fl + 6, &p.flash)) {
            snprintf(p.source, sizeof(p.source), "cache");
            *out = p;
            found = true;
        }
    }
    fclose(f);
    return found;
}

static int cache_write(const struct ocl_ctx *c, const struct ocl_params *p, char *path, size_t plen)
{
    char dir[1024], key[256], tmp[1300];
    cache_dir(dir, sizeof(dir));
    mkdir_p(dir);
    snprintf(path, plen, "%s/%s", dir, CACHE_FILE);
    snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
    cache_key(c, key, sizeof(key));
    FILE *out = fopen(tmp, "w");
    if (!out)
        return -1;
    fprintf(out, "# sdmark OpenCL tuning cache: <device name | driver version | kernels hash> TAB <params>\n");
    FILE *in = fopen(path, "r");
    if (in) {
        char line[1024];
        while (fgets(line, sizeof(line), in)) {
            if (line[0] == '#')
                continue;
            char *tab = strchr(line, '\t');
            if (tab && (size_t)(tab - line) == strlen(key) && strncmp(line, key, strlen(key)) == 0)
                continue;
            fputs(line, out);
        }
        fclose(in);
    }
    char buf[512];
    ocl_params_format(p, buf, sizeof(buf));
    fprintf(out, "%s\t%s\n", key, buf);
    if (fclose(out) != 0 || rename(tmp, path) != 0) {
        remove(tmp);
        return -1;
    }
    return 0;
}

void ocl_params_load(struct ocl_ctx *c)
{
    if (c->params_loaded)
        return;
    ocl_params_defaults(c, &c->params);
    cache_read(c, &c->params);
    c->params_loaded = true;
}

/* ------------------------------------------------------------------------------------------ */
/* tuner                                                                                       */

/* Each candidate goes through the harness's own phases (sdmark/row_phases.h): the same inputs,
 * the same verification and tolerance, and the same cross-checked sampling as a `run` row. */

extern const struct sd_backend_ops sd_backend_opencl;

/* Prepare `prm` for wl, build and upload its inputs; *p and *h are released by finish(). */
static enum sd_status setup(struct ocl_ctx *c, const struct sd_workload *wl, const char *impl,
                            const struct ocl_params *prm, struct sd_plan **p, struct sd_row_inputs *h,
                            char *reason, size_t len)
{
    *p = NULL;
    memset(h, 0, sizeof *h);
    enum sd_status st = ocl_prepare_with(c, wl, impl, 1, prm, p, reason, len);
    if (st == SD_OK)
        st = sd_row_inputs_make(wl, h, reason, len);
    if (st == SD_OK)
        st = sd_row_upload(&sd_backend_opencl, *p, 1, h, reason, len);
    return st;
}

static enum sd_status finish(struct sd_plan *p, struct sd_row_inputs *h, enum sd_status st)
{
    if (p)
        ocl_release(p);
    sd_row_inputs_free(h);
    return st;
}

/* Verify `prm` on the small workload; returns SD_OK / SD_WRONG / error status. */
static enum sd_status check(struct ocl_ctx *c, const struct sd_workload *wl, const char *impl,
                            const struct ocl_params *prm, char *reason, size_t len)
{
    struct sd_plan *p;
    struct sd_row_inputs h;
    struct sd_verify_result vr;
    double wall_ms;
    enum sd_status st = setup(c, wl, impl, prm, &p, &h, reason, len);
    if (st == SD_OK)
        st = sd_row_check(&sd_backend_opencl, p, wl, &h, &vr, &wall_ms, reason, len);
    return finish(p, &h, st);
}

/* Time `prm` on the representative workload: min of `reps` samples after one warm-up run; gives up
 * after 4x `best` (a candidate far slower than the best so far). */
static enum sd_status timeit(struct ocl_ctx *c, const struct sd_workload *wl, const char *impl,
                             const struct ocl_params *prm, double best, int reps, double *ms,
                             char *reason, size_t len)
{
    struct sd_plan *p;
    struct sd_row_inputs h;
    struct sd_samples sm;
    struct sd_sample_opts so = {.nsets = 1};
    sd_measure_defaults(&so.m);
    so.m.warmup_ms = 0; /* one warm-up run (first launch compiles on some drivers) */
    so.m.min_time_s = 0;
    so.m.max_noise = 0;
    so.m.min_samples = so.m.max_samples = reps;
    so.m.timeout_s = best < 1e299 ? 4 * best * 1e-3 : 60;
    *ms = 1e300;
    enum sd_status st = setup(c, wl, impl, prm, &p, &h, reason, len);
    if (st == SD_OK)
        st = sd_row_sample(&sd_backend_opencl, c, p, &so, &sm, reason, len);
    if (st == SD_OK)
        *ms = sm.st.min;
    return finish(p, &h, st);
}

/* Candidates per family. gemm's are also used by unfused/sliced attention and by conv2d. */
static const struct ocl_mm_params MM_CANDIDATES[] = {
    /* mb/nb: largest C block per work-group (the host splits shapes below it over the cores),
     * kb: K block (MR x KB of A stays in L1, KB x NB of packed B in L2), mr x vw*nv: micro-kernel */
    {.style = OCL_STYLE_CPU, .mb = 96, .nb = 320, .kb = 320, .mr = 6, .vw = 16, .nv = 2, .tx = 16, .ty = 16, .rm = 4, .rn = 4, .bk = 16},
    {.style = OCL_STYLE_CPU, .mb = 160, .nb = 320, .kb = 320, .mr = 6, .vw = 16, .nv = 2, .tx = 16, .ty = 16, .rm = 4, .rn = 4, .bk = 16},
    {.style = OCL_STYLE_CPU, .mb = 144, .nb = 256, .kb = 256, .mr = 6, .vw = 16, .nv = 2, .tx = 16, .ty = 16, .rm = 4, .rn = 4, .bk = 16},
    /* 12 x 32: 24 accumulators, for 32 vector registers (AVX-512; it spills with 16) */
    {.style = OCL_STYLE_CPU, .mb = 96, .nb = 320, .kb = 256, .mr = 12, .vw = 16, .nv = 2, .tx = 16, .ty = 16, .rm = 4, .rn = 4, .bk = 16},
    /* 6 x 16: 12 accumulators of 8 lanes (AVX2's 16 registers; BLIS's haswell shape) */
    {.style = OCL_STYLE_CPU, .mb = 96, .nb = 256, .kb = 256, .mr = 6, .vw = 8, .nv = 2, .tx = 16, .ty = 16, .rm = 4, .rn = 4, .bk = 16},
    {.style = OCL_STYLE_CPU, .mb = 96, .nb = 128, .kb = 256, .mr = 6, .vw = 16, .nv = 1, .tx = 16, .ty = 16, .rm = 4, .rn = 4, .bk = 16},
    {.style = OCL_STYLE_GPU, .mb = 96, .nb = 64, .kb = 256, .mr = 6, .vw = 16, .nv = 1, .tx = 16, .ty = 16, .rm = 4, .rn = 4, .bk = 16},
    {.style = OCL_STYLE_GPU, .mb = 96, .nb = 64, .kb = 256, .mr = 6, .vw = 16, .nv = 1, .tx = 16, .ty = 16, .rm = 8, .rn = 8, .bk = 16},
    {.style = OCL_STYLE_GPU, .mb = 96, .nb = 64, .kb = 256, .mr = 6, .vw = 16, .nv = 1, .tx = 8, .ty = 8, .rm = 4, .rn = 4, .bk = 8},
};
/* flash_cpu: QR x 16*NKV score tile, QR x pvc columns of output per P*V pass (0: 384/QR, 24 AVX-512
 * registers). vd matters at head_dims that are not whole 16-float vectors (40: 3 x 16 pads a
 * sixth, 5 x 8 runs at the same rate where 512-bit FMAs are split in two, AMD Zen 4). The last two
 * keep within AVX2's 16 registers. */
static const struct ocl_flash_params FLASH_CANDIDATES[] = {
    {.style = OCL_STYLE_CPU, .qr = 4, .qs = 12, .nkv = 2, .kc = 128, .vd = 16, .bq = 64, .bkv = 32},
    {.style = OCL_STYLE_CPU, .qr = 4, .qs = 12, .nkv = 3, .kc = 128, .vd = 8, .bq = 64, .bkv = 32},
    {.style = OCL_STYLE_CPU, .qr = 4, .qs = 12, .nkv = 2, .kc = 256, .vd = 8, .bq = 64, .bkv = 32},
    {.style = OCL_STYLE_CPU, .qr = 6, .qs = 8, .nkv = 2, .kc = 128, .vd = 16, .bq = 64, .bkv = 32},
    {.style = OCL_STYLE_CPU, .qr = 4, .qs = 12, .nkv = 1, .kc = 128, .vd = 8, .bq = 64, .bkv = 32, .pvc = 24},
    {.style = OCL_STYLE_CPU, .qr = 2, .qs = 24, .nkv = 2, .kc = 128, .vd = 8, .bq = 64, .bkv = 32, .pvc = 32},
    {.style = OCL_STYLE_GPU, .qr = 6, .qs = 8, .nkv = 2, .kc = 256, .vd = 16, .bq = 64, .bkv = 32},
    {.style = OCL_STYLE_GPU, .qr = 6, .qs = 8, .nkv = 2, .kc = 256, .vd = 16, .bq = 128, .bkv = 16},
};
enum { FAM_GEMM, FAM_CONV, FAM_FLASH, FAM_COUNT };
static const char *const FAM_NAME[FAM_COUNT] = {"gemm", "conv", "flash"};

/* The small (verify: tails, k not a multiple of the tile, head_dim 40) and the representative
 * (time) workload of a family. */
static void family_workloads(int fam, bool cpu, struct sd_workload *small, struct sd_workload *big)
{
    sd_workload_init(small, fam == FAM_GEMM ? SD_OP_GEMM : fam == FAM_CONV ? SD_OP_CONV2D : SD_OP_ATTENTION);
    sd_workload_init(big, small->op);
    if (fam == FAM_GEMM) {
        small->m = 77, small->n = 45, small->k = 131;
        big->m = cpu ? 2048 : 8192, big->n = cpu ? 640 : 2560, big->k = cpu ? 640 : 1280;
    } else if (fam == FAM_CONV) {
        small->batch = 1, small->c_in = 19, small->c_out = 23, small->h = 9, small->w = 11;
        small->r = small->s = 3, small->pad = 1;
        big->batch = cpu ? 1 : 2, big->c_in = 320, big->c_out = 320, big->h = big->w = cpu ? 32 : 64;
        big->r = big->s = 3, big->pad = 1;
    } else {
        small->batch_heads = 2, small->seq_q = 67, small->seq_kv = 77, small->head_dim = 40;
        /* head_dim 40 on a CPU: where the vector width over head_dim (vd) matters */
        big->batch_heads = cpu ? 8 : 16, big->seq_q = big->seq_kv = cpu ? 1024 : 4096, big->head_dim = cpu ? 40 : 64;
    }
}

/* Candidate i of family fam into trial; its description into desc. Returns false past the last. */
static bool family_candidate(int fam, int i, struct ocl_params *trial, char *desc, size_t len)
{
    int n = fam == FAM_FLASH ? (int)(sizeof FLASH_CANDIDATES / sizeof *FLASH_CANDIDATES)
                             : (int)(sizeof MM_CANDIDATES / sizeof *MM_CANDIDATES);
    if (i >= n)
        return false;
    if (fam == FAM_FLASH) {
        trial->flash = FLASH_CANDIDATES[i];
        fmt_flash(&trial->flash, desc, len);
    } else {
        struct ocl_mm_params *m = fam == FAM_GEMM ? &trial->gemm : &trial->conv;
        *m = MM_CANDIDATES[i];
        fmt_mm(m, desc, len);
    }
    return true;
}

static void family_format(int fam, const struct ocl_params *t, char *desc, size_t len)
{
    if (fam == FAM_FLASH)
        fmt_flash(&t->flash, desc, len);
    else
        fmt_mm(fam == FAM_GEMM ? &t->gemm : &t->conv, desc, len);
}

static int candidate_style(int fam, const struct ocl_params *t)
{
    return fam == FAM_FLASH ? t->flash.style : fam == FAM_GEMM ? t->gemm.style : t->conv.style;
}

/* Candidates verified on the small workload, waiting to be timed. */
#define TUNE_MAX 16
#define TUNE_ROUNDS 3
#define TUNE_MARGIN 0.03
struct tune_set {
    int n;
    struct ocl_params prm[TUNE_MAX];
    char desc[TUNE_MAX][128];
    double ms[TUNE_MAX]; /* best sample so far; < 0: dropped (failed while timed) */
};

/* Every candidate of family fam made for this kind of device that verifies goes into ts. */
static void tune_verified(struct ocl_ctx *c, int fam, bool cpu, const struct ocl_params *cur, const char *impl,
                          const struct sd_workload *small, struct tune_set *ts, FILE *log)
{
    const int want = cpu && !c->loop_limit ? OCL_STYLE_CPU : OCL_STYLE_GPU;
    struct ocl_params trial = *cur;
    char desc[128], first[128] = "";
    ts->n = 0;
    /* candidate -1: the device's defaults (cur), so that ties go to them (tune_family) */
    for (int i = -1; ts->n < TUNE_MAX && (i < 0 || family_candidate(fam, i, &trial, desc, sizeof desc)); i++) {
        if (i < 0)
            family_format(fam, &trial, desc, sizeof desc), snprintf(first, sizeof first, "%s", desc);
        else if (!strcmp(desc, first))
            continue; /* the defaults again */
        /* Only the design made for this kind of device: on PoCL the GPU-style (work-group, barrier)
         * kernels ran at 4-5 GFLOP/s against 75-110 for the CPU-style ones (a 2-core AVX-512 host;
         * docs of the kernels in gemm.cl), and a one-work-item CPU-style work-group wastes a GPU.
         * Each candidate costs a program build (~1 s on PoCL), so trying the other design only
         * lengthened the first `sdmark run` on a device by ~15 s. A CPU device that ends a work-item's
         * loops early (llvmpipe, ocl_limits.c) runs the GPU-style design, as its defaults do. */
        if (candidate_style(fam, &trial) != want)
            continue;
        char r[SD_REASON_LEN] = "";
        enum sd_status st = check(c, small, impl, &trial, r, sizeof(r));
        if (st != SD_OK) {
            if (log)
                fprintf(log, "opencl tune: %-5s %-40s skipped: %s: %s\n", FAM_NAME[fam], desc, sd_status_name(st), r);
            continue;
        }
        ts->prm[ts->n] = trial;
        ts->ms[ts->n] = 1e300;
        snprintf(ts->desc[ts->n], sizeof ts->desc[0], "%s", desc);
        ts->n++;
    }
}

/* Verify every candidate of one family (small workload), then time the survivors on the big one
 * in TUNE_ROUNDS rounds of one sample each (after a warm-up run), keeping each one's fastest: a
 * burst of load from other processes then lands on every candidate, not on whichever was being
 * timed (on a shared 2-core host, back-to-back samples per candidate picked whoever ran in a
 * quiet moment). The fastest replaces cur's. */
static enum sd_status tune_family(struct ocl_ctx *c, int fam, bool cpu, struct ocl_params *cur, FILE *log,
                                  char *reason, size_t len)
{
    struct sd_workload small, big;
    family_workloads(fam, cpu, &small, &big);
    const char *impl = fam == FAM_FLASH ? "flash" : "own";
    const double flops = sd_workload_flops(&big);
    struct tune_set ts;
    tune_verified(c, fam, cpu, cur, impl, &small, &ts, log);
    int best = -1;
    for (int round = 0; round < TUNE_ROUNDS; round++)
        for (int i = 0; i < ts.n; i++) {
            if (ts.ms[i] < 0)
                continue;
            char r[SD_REASON_LEN] = "";
            double ms = 0;
            enum sd_status st = timeit(c, &big, impl, &ts.prm[i], best >= 0 ? ts.ms[best] : 1e300, 1, &ms, r, sizeof(r));
            if (st != SD_OK) {
                if (log)
                    fprintf(log, "opencl tune: %-5s %-40s skipped: %s: %s\n", FAM_NAME[fam], ts.desc[i],
                            sd_status_name(st), r);
                ts.ms[i] = -1;
                continue;
            }
            if (ms < ts.ms[i])
                ts.ms[i] = ms;
            if (best < 0 || ts.ms[i] < ts.ms[best])
                best = i;
        }
    /* Ties go to the earlier candidate (the list starts with the device's defaults): a later one must be
     * TUNE_MARGIN faster, so timing noise alone (all candidates within a few percent of each other
     * on a loaded host) does not swap parameters. */
    best = -1;
    for (int i = 0; i < ts.n; i++) {
        if (ts.ms[i] <= 0 || ts.ms[i] >= 1e299)
            continue;
        if (log)
            fprintf(log, "opencl tune: %-5s %-40s %9.3f ms %8.1f GFLOP/s\n", FAM_NAME[fam], ts.desc[i], ts.ms[i],
                    flops / ts.ms[i] * 1e-6);
        if (best < 0 || ts.ms[i] < ts.ms[best] * (1 - TUNE_MARGIN))
            best = i;
    }
    if (best < 0) {
        snprintf(reason, len, "tuner: no %s candidate passed verification", fam == FAM_CONV ? "conv2d" : FAM_NAME[fam]);
        return SD_ERROR;
    }
    *cur = ts.prm[best];
    return SD_OK;
}

enum sd_status ocl_tune(void *ctx, int force, FILE *log, char *reason, size_t len)
{
    struct ocl_ctx *c = ctx;
    struct ocl_params cur;
    ocl_params_defaults(c, &cur);
    if (!force && cache_read(c, &cur)) {
        c->params = cur;
        c->params_loaded = true;
        if (log)
            fprintf(log, "opencl tune: using cached parameters for %s (force to re-tune)\n", c->info.name);
        return SD_OK;
    }
    const bool cpu = (c->type & CL_DEVICE_TYPE_CPU) != 0;
    double t_start = ocl_now_ms();
    for (int fam = 0; fam < FAM_COUNT; fam++) {
        enum sd_status st = tune_family(c, fam, cpu, &cur, log, reason, len);
        if (st != SD_OK)
            return st;
    }
    snprintf(cur.source, sizeof(cur.source), "tuned");
    c->params = cur;
    c->params_loaded = true;
    char path[1200], buf[512];
    ocl_params_format(&cur, buf, sizeof(buf));
    if (cache_write(c, &cur, path, sizeof(path)) != 0) {
        if (log)
            fprintf(log, "opencl tune: could not write the cache file %s: %s\n", path, strerror(errno));
    } else if (log) {
        fprintf(log, "opencl tune: %s -> %s (%.1f s), cached in %s\n", c->info.name, buf,
                (ocl_now_ms() - t_start) * 1e-3, path);
    }
    return SD_OK;
}
