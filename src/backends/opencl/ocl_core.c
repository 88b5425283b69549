/* ocl_core.c - OpenCL backend: devices, context, tracked allocator, program cache, ops table. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sdmark/fault.h"
#include "ocl.h"

#ifndef CL_DEVICE_COMPUTE_CAPABILITY_MAJOR_NV
#define CL_DEVICE_COMPUTE_CAPABILITY_MAJOR_NV 0x4000
#define CL_DEVICE_COMPUTE_CAPABILITY_MINOR_NV 0x4001
#endif

/* ------------------------------------------------------------------------------------------ */
/* errors                                                                                      */

const char *ocl_err_name(cl_int err)
{
    switch (err) {
#define E(x) case x: return #x;
    E(CL_SUCCESS) E(CL_DEVICE_NOT_FOUND) E(CL_DEVICE_NOT_AVAILABLE) E(CL_COMPILER_NOT_AVAILABLE)
    E(CL_MEM_OBJECT_ALLOCATION_FAILURE) E(CL_OUT_OF_RESOURCES) E(CL_OUT_OF_HOST_MEMORY)
    E(CL_PROFILING_INFO_NOT_AVAILABLE) E(CL_MEM_COPY_OVERLAP) E(CL_IMAGE_FORMAT_MISMATCH)
    E(CL_IMAGE_FORMAT_NOT_SUPPORTED) E(CL_BUILD_PROGRAM_FAILURE) E(CL_MAP_FAILURE)
    E(CL_MISALIGNED_SUB_BUFFER_OFFSET) E(CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST)
    E(CL_COMPILE_PROGRAM_FAILURE) E(CL_LINKER_NOT_AVAILABLE) E(CL_LINK_PROGRAM_FAILURE)
    E(CL_DEVICE_PARTITION_FAILED) E(CL_KERNEL_ARG_INFO_NOT_AVAILABLE) E(CL_INVALID_VALUE)
    E(CL_INVALID_DEVICE_TYPE) E(CL_INVALID_PLATFORM) E(CL_INVALID_DEVICE) E(CL_INVALID_CONTEXT)
    E(CL_INVALID_QUEUE_PROPERTIES) E(CL_INVALID_COMMAND_QUEUE) E(CL_INVALID_HOST_PTR)
    E(CL_INVALID_MEM_OBJECT) E(CL_INVALID_IMAGE_FORMAT_DESCRIPTOR) E(CL_INVALID_IMAGE_SIZE)
    E(CL_INVALID_SAMPLER) E(CL_INVALID_BINARY) E(CL_INVALID_BUILD_OPTIONS) E(CL_INVALID_PROGRAM)
    E(CL_INVALID_PROGRAM_EXECUTABLE) E(CL_INVALID_KERNEL_NAME) E(CL_INVALID_KERNEL_DEFINITION)
    E(CL_INVALID_KERNEL) E(CL_INVALID_ARG_INDEX) E(CL_INVALID_ARG_VALUE) E(CL_INVALID_ARG_SIZE)
    E(CL_INVALID_KERNEL_ARGS) E(CL_INVALID_WORK_DIMENSION) E(CL_INVALID_WORK_GROUP_SIZE)
    E(CL_INVALID_WORK_ITEM_SIZE) E(CL_INVALID_GLOBAL_OFFSET) E(CL_INVALID_EVENT_WAIT_LIST)
    E(CL_INVALID_EVENT) E(CL_INVALID_OPERATION) E(CL_INVALID_GL_OBJECT) E(CL_INVALID_BUFFER_SIZE)
    E(CL_INVALID_MIP_LEVEL) E(CL_INVALID_GLOBAL_WORK_SIZE) E(CL_INVALID_PROPERTY)
    E(CL_INVALID_IMAGE_DESCRIPTOR) E(CL_INVALID_COMPILER_OPTIONS) E(CL_INVALID_LINKER_OPTIONS)
    E(CL_INVALID_DEVICE_PARTITION_COUNT)
#undef E
    case -1001: return "CL_PLATFORM_NOT_FOUND_KHR";
    default: return "CL_UNKNOWN_ERROR";
    }
}

enum sd_status ocl_fail(cl_int err, const char *what, const char *file, int line, char *reason,
                        size_t len)
{
    const char *base = strrchr(file, '/');
    base = base ? base + 1 : file;
    /* keep only the call name, not its arguments */
    char call[64];
    size_t i = 0;
    while (what[i] && what[i] != '(' && i + 1 < sizeof(call)) {
        call[i] = what[i];
        i++;
    }
    call[i] = 0;
    if (reason && len)
        snprintf(reason, len, "%s: %s (%d) at %s:%d", call, ocl_err_name(err), (int)err, base, line);
    switch (err) {
    case CL_MEM_OBJECT_ALLOCATION_FAILURE:
    case CL_OUT_OF_RESOURCES:
    case CL_OUT_OF_HOST_MEMORY:
    case CL_INVALID_BUFFER_SIZE:
        return SD_OOM;
    default:
        return SD_ERROR;
    }
}

double ocl_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec * 1e-6;
}

/* ------------------------------------------------------------------------------------------ */
/* devices                                                                                     */

#define OCL_MAX_DEVICES 64

/* Every device of every platform, in probe order. Returns the count (0 when no platform). */
static int enumerate(cl_platform_id *plats, cl_device_id *devs, int max)
{
    cl_uint np = 0;
    if (clGetPlatformIDs(0, NULL, &np) != CL_SUCCESS || np == 0)
        return 0;
    cl_platform_id pl[16];
    if (np > 16)
        np = 16;
    if (clGetPlatformIDs(np, pl, NULL) != CL_SUCCESS)
        return 0;
    int n = 0;
    for (cl_uint p = 0; p < np; p++) {
        cl_uint nd = 0;
        if (clGetDeviceIDs(pl[p], CL_DEVICE_TYPE_ALL, 0, NULL, &nd) != CL_SUCCESS || nd == 0)
            continue;
        cl_device_id d[OCL_MAX_DEVICES];
        if (nd > OCL_MAX_DEVICES)
            nd = OCL_MAX_DEVICES;
        if (clGetDeviceIDs(pl[p], CL_DEVICE_TYPE_ALL, nd, d, NULL) != CL_SUCCESS)
            continue;
        for (cl_uint i = 0; i < nd; i++) {
            if (n < max) {
                plats[n] = pl[p];
                devs[n] = d[i];
            }
            n++;
        }
    }
    return n;
}

/* `sdmark devices`: every platform the ICD loader reports, with the device indices it holds
 * (the flat numbering enumerate() gives: platforms in loader order, devices in platform order),
 * including platforms without devices (Mesa's Clover usually has none). */
static void ocl_describe_platforms(FILE *out)
{
    cl_uint np = 0;
    cl_int err = clGetPlatformIDs(0, NULL, &np);
    if (err != CL_SUCCESS || np == 0) {
        fprintf(out, "  no OpenCL platform (ICD loader: %s)\n",
                err == CL_SUCCESS || err == -1001 ? "no vendor ICD installed or enabled" : ocl_err_name(err));
        return;
    }
    cl_platform_id pl[16];
    np = np > 16 ? 16 : np;
    if (clGetPlatformIDs(np, pl, NULL) != CL_SUCCESS)
        return;
    int first = 0;
    for (cl_uint p = 0; p < np; p++) {
        char name[128] = "", ver[128] = "";
        clGetPlatformInfo(pl[p], CL_PLATFORM_NAME, sizeof(name), name, NULL);
        clGetPlatformInfo(pl[p], CL_PLATFORM_VERSION, sizeof(ver), ver, NULL);
        name[sizeof(name) - 1] = ver[sizeof(ver) - 1] = 0;
        cl_uint nd = 0;
        if (clGetDeviceIDs(pl[p], CL_DEVICE_TYPE_ALL, 0, NULL, &nd) != CL_SUCCESS)
            nd = 0;
        nd = nd > OCL_MAX_DEVICES ? OCL_MAX_DEVICES : nd;
        fprintf(out, "  platform %u: %s (%.40s): ", p, name, ver);
        if (nd == 0)
            fprintf(out, "no devices%s\n", strcmp(name, "rusticl") == 0
                                                 ? " (rusticl enables drivers by RUSTICL_ENABLE, e.g. llvmpipe)"
                                                 : "");
        else if (nd == 1)
            fprintf(out, "device [%d]\n", first);
        else
            fprintf(out, "devices [%d]..[%d]\n", first, first + (int)nd - 1);
        first += (int)nd;
    }
}

/* Device string info, truncated to fit `buf` (drivers refuse a too-small buffer outright). */
static void dev_str(cl_device_id d, cl_device_info what, char *buf, size_t len)
{
    buf[0] = 0;
    size_t sz = 0;
    if (clGetDeviceInfo(d, what, 0, NULL, &sz) != CL_SUCCESS || sz == 0)
        return;
    char *s = calloc(1, sz + 1);
    if (!s)
        return;
    if (clGetDeviceInfo(d, what, sz, s, NULL) == CL_SUCCESS)
        snprintf(buf, len, "%s", s);
    free(s);
    /* trim trailing spaces */
    size_t n = strlen(buf);
    while (n > 0 && buf[n - 1] == ' ')
        buf[--n] = 0;
}

static bool has_ext(cl_device_id d, const char *ext)
{
    size_t sz = 0;
    if (clGetDeviceInfo(d, CL_DEVICE_EXTENSIONS, 0, NULL, &sz) != CL_SUCCESS || sz == 0)
        return false;
    char *s = malloc(sz + 1);
    if (!s)
        return false;
    bool found = false;
    if (clGetDeviceInfo(d, CL_DEVICE_EXTENSIONS, sz, s, NULL) == CL_SUCCESS) {
        s[sz] = 0;
        size_t el = strlen(ext);
        for (char *p = strstr(s, ext); p; p = strstr(p + 1, ext))
            if ((p == s || p[-1] == ' ') && (p[el] == ' ' || p[el] == 0)) {
                found = true;
                break;
            }
    }
    free(s);
    return found;
}

static void fill_info(cl_platform_id pl, cl_device_id d, struct sd_device_info *info,
                      cl_device_type *type_out, bool *pocl_out)
{
    memset(info, 0, sizeof(*info));
    snprintf(info->backend, sizeof(info->backend), "opencl");
    dev_str(d, CL_DEVICE_NAME, info->name, sizeof(info->name));
    dev_str(d, CL_DEVICE_VENDOR, info->vendor, sizeof(info->vendor));
    dev_str(d, CL_DRIVER_VERSION, info->driver_version, sizeof(info->driver_version));
    char ver[512];
    dev_str(d, CL_DEVICE_VERSION, ver, sizeof(ver));
    snprintf(info->api_version, sizeof(info->api_version), "%.63s", ver);
    char pname[128] = "";
    if (clGetPlatformInfo(pl, CL_PLATFORM_NAME, sizeof(pname), pname, NULL) != CL_SUCCESS)
        pname[0] = 0;
    pname[sizeof(pname) - 1] = 0;
    bool pocl = strstr(pname, "Portable Computing Language") != NULL || strstr(pname, "PoCL") != NULL ||
                strstr(ver, "PoCL") != NULL;
    cl_uint u = 0;
    if (clGetDeviceInfo(d, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof(u), &u, NULL) == CL_SUCCESS)
        info->compute_units = (int)u;
    u = 0;
    if (clGetDeviceInfo(d, CL_DEVICE_MAX_CLOCK_FREQUENCY, sizeof(u), &u, NULL) == CL_SUCCESS)
        info->clock_mhz = (int)u;
    cl_ulong ul = 0;
    if (clGetDeviceInfo(d, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof(ul), &ul, NULL) == CL_SUCCESS)
        info->mem_bytes = ul;
    ul = 0;
    if (clGetDeviceInfo(d, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof(ul), &ul, NULL) == CL_SUCCESS)
        info->max_alloc_bytes = ul;
    ul = 0;
    if (clGetDeviceInfo(d, CL_DEVICE_GLOBAL_MEM_CACHE_SIZE, sizeof(ul), &ul, NULL) == CL_SUCCESS)
        info->l2_bytes = ul;
    info->fp16 = has_ext(d, "cl_khr_fp16");
    info->bf16 = false;
    cl_device_type t = 0;
    if (clGetDeviceInfo(d, CL_DEVICE_TYPE, sizeof(t), &t, NULL) != CL_SUCCESS)
        t = CL_DEVICE_TYPE_DEFAULT;
    if (t & CL_DEVICE_TYPE_CPU)
        info->threads = info->compute_units;
    info->kind = (t & CL_DEVICE_TYPE_GPU) ? SD_DEVICE_GPU : (t & CL_DEVICE_TYPE_CPU) ? SD_DEVICE_CPU : SD_DEVICE_OTHER;
    /* arch: PoCL's device version carries the LLVM target ("HSTR: pthread-<triple>-<cpu>") */
    const char *h = strstr(ver, "HSTR: ");
    if (pocl && h) {
        h += 6;
        const char *dash = strchr(h, '-');
        if (dash && (strncmp(h, "pthread-", 8) == 0 || strncmp(h, "basic-", 6) == 0 ||
                     strncmp(h, "cpu-", 4) == 0))
            h = dash + 1;
        snprintf(info->arch, sizeof(info->arch), "%.63s", h);
    } else if (has_ext(d, "cl_nv_device_attribute_query")) {
        cl_uint ma = 0, mi = 0;
        clGetDeviceInfo(d, CL_DEVICE_COMPUTE_CAPABILITY_MAJOR_NV, sizeof(ma), &ma, NULL);
        clGetDeviceInfo(d, CL_DEVICE_COMPUTE_CAPABILITY_MINOR_NV, sizeof(mi), &mi, NULL);
        snprintf(info->arch, sizeof(info->arch), "sm_%u%u", ma, mi);
    } else {
        snprintf(info->arch, sizeof(info->arch), "%.40s %s", info->vendor,
                 (t & CL_DEVICE_TYPE_GPU) ? "gpu" : (t & CL_DEVICE_TYPE_CPU) ? "cpu" : "accelerator");
    }
    if (type_out)
        *type_out = t;
    if (pocl_out)
        *pocl_out = pocl;
}

static int ocl_probe(struct sd_device_info *out, int max)
{
    cl_platform_id pl[OCL_MAX_DEVICES];
    cl_device_id d[OCL_MAX_DEVICES];
    int n = enumerate(pl, d, OCL_MAX_DEVICES);
    for (int i = 0; i < n && i < max && i < OCL_MAX_DEVICES; i++)
        fill_info(pl[i], d[i], &out[i], NULL, NULL);
    return n;
}

static void ocl_close(void *ctx);

/* A device that cuts loops off per work-item (llvmpipe, see ocl_limits.c) runs the GPU-style
 * kernels by default: their work-items loop over K / the keys in slices, the CPU-style ones
 * walk a whole block each and hit the limit at small shapes. The default parameter sets carry
 * the GPU-style fields too, so only the style changes. Cached/tuned parameters are kept (the
 * tuner verifies each candidate; ocl_loop_check refuses rows that would be cut off). */
static void prefer_gpu_style(struct ocl_ctx *c)
{
    if (!c->loop_limit || strncmp(c->params.source, "defaults", 8) != 0)
        return;
    c->params.gemm.style = c->params.conv.style = c->params.flash.style = OCL_STYLE_GPU;
    snprintf(c->params.source, sizeof(c->params.source), "defaults(gpu: loop limit)");
}

static enum sd_status ocl_open(int index, void **ctxp, char *reason, size_t len)
{
    *ctxp = NULL;
    cl_platform_id pl[OCL_MAX_DEVICES];
    cl_device_id d[OCL_MAX_DEVICES];
    int n = enumerate(pl, d, OCL_MAX_DEVICES);
    if (index < 0 || index >= n || index >= OCL_MAX_DEVICES) {
        snprintf(reason, len, "no OpenCL device with index %d (%d found)", index, n);
        return n == 0 ? SD_UNSUPPORTED : SD_ERROR;
    }
    struct ocl_ctx *c = calloc(1, sizeof(*c));
    if (!c) {
        snprintf(reason, len, "out of host memory");
        return SD_ERROR;
    }
    c->index = index;
    c->platform = pl[index];
    c->device = d[index];
    fill_info(c->platform, c->device, &c->info, &c->type, &c->is_pocl);
    cl_ulong lm = 0;
    clGetDeviceInfo(c->device, CL_DEVICE_LOCAL_MEM_SIZE, sizeof(lm), &lm, NULL);
    c->local_mem = lm;
    size_t wg = 0;
    clGetDeviceInfo(c->device, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof(wg), &wg, NULL);
    c->max_wg = wg;
    cl_int err = CL_SUCCESS;
    cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)c->platform, 0};
    c->context = clCreateContext(props, 1, &c->device, NULL, NULL, &err);
    if (err != CL_SUCCESS) {
        enum sd_status st = ocl_fail(err, "clCreateContext", __FILE__, __LINE__, reason, len);
        free(c);
        return st;
    }
    c->queue = clCreateCommandQueue(c->context, c->device, CL_QUEUE_PROFILING_ENABLE, &err);
    if (err != CL_SUCCESS) {
        enum sd_status st = ocl_fail(err, "clCreateCommandQueue", __FILE__, __LINE__, reason, len);
        clReleaseContext(c->context);
        free(c);
        return st;
    }
    c->loop_limit = ocl_loop_limit(c->info.name);
    ocl_params_load(c);
    prefer_gpu_style(c);
    *ctxp = c;
    return SD_OK;
}

static void ocl_close(void *ctx)
{
    struct ocl_ctx *c = ctx;
    if (!c)
        return;
    for (int i = 0; i < c->nprogs; i++) {
        clReleaseProgram(c->progs[i].prog);
        free(c->progs[i].key);
    }
    free(c->progs);
    if (c->queue) {
        clFinish(c->queue);
        clReleaseCommandQueue(c->queue);
    }
    if (c->context)
        clReleaseContext(c->context);
    free(c);
}

static void ocl_device_info(void *ctx, struct sd_device_info *info)
{
    *info = ((struct ocl_ctx *)ctx)->info;
}

/* ------------------------------------------------------------------------------------------ */
/* tracked allocator                                                                           */

enum sd_status ocl_alloc(struct ocl_ctx *c, size_t bytes, cl_mem *out, const char *what,
                         char *reason, size_t len)
{
    *out = NULL;
    if (bytes == 0)
        bytes = 4;
    if (c->info.max_alloc_bytes && bytes > c->info.max_alloc_bytes) {
        snprintf(reason, len,
                 "%s needs %" PRIu64 " bytes in one buffer > CL_DEVICE_MAX_MEM_ALLOC_SIZE %" PRIu64,
                 what, (uint64_t)bytes, c->info.max_alloc_bytes);
        return SD_OOM;
    }
    if (c->info.mem_bytes && c->mem.current + bytes > c->info.mem_bytes) {
        snprintf(reason, len,
                 "%s needs %" PRIu64 " bytes; %" PRIu64 " already allocated of %" PRIu64
                 " global memory",
                 what, (uint64_t)bytes, c->mem.current, c->info.mem_bytes);
        return SD_OOM;
    }
    if (sd_fault_hit(SD_FAULT_ALLOC)) {
        snprintf(reason, len, "%s (%" PRIu64 " bytes): clCreateBuffer CL_MEM_OBJECT_ALLOCATION_FAILURE (injected by SDMARK_FAULT)",
                 what, (uint64_t)bytes);
        return SD_OOM;
    }
    cl_int err = CL_SUCCESS;
    cl_mem m = clCreateBuffer(c->context, CL_MEM_READ_WRITE, bytes, NULL, &err);
    if (err != CL_SUCCESS || !m) {
        char r[160];
        enum sd_status st = ocl_fail(err, "clCreateBuffer", __FILE__, __LINE__, r, sizeof(r));
        snprintf(reason, len, "%s (%" PRIu64 " bytes): %s", what, (uint64_t)bytes, r);
        return st == SD_ERROR && err == CL_INVALID_BUFFER_SIZE ? SD_OOM : st;
    }
    /* First touch: drivers allocate lazily; a failure shows up here, not at create. */
    const cl_uint zero = 0;
    size_t pat = (bytes % 4 == 0) ? 4 : 1;
    err = clEnqueueFillBuffer(c->queue, m, &zero, pat, 0, bytes, 0, NULL, NULL);
    if (err == CL_SUCCESS)
        err = clFinish(c->queue);
    if (err != CL_SUCCESS) {
        char r[160];
        enum sd_status st = ocl_fail(err, "clEnqueueFillBuffer", __FILE__, __LINE__, r, sizeof(r));
        snprintf(reason, len, "%s (%" PRIu64 " bytes) failed on first use: %s", what,
                 (uint64_t)bytes, r);
        clReleaseMemObject(m);
        return st;
    }
    sd_memtrack_count(&c->mem, (int64_t)bytes);
    *out = m;
    return SD_OK;
}

void ocl_free(struct ocl_ctx *c, cl_mem *m, size_t bytes)
{
    if (!*m)
        return;
    clReleaseMemObject(*m);
    *m = NULL;
    if (bytes == 0)
        bytes = 4;
    sd_memtrack_count(&c->mem, -(int64_t)bytes);
}

void ocl_track_extra(struct ocl_ctx *c, int64_t bytes)
{
    sd_memtrack_count(&c->mem, bytes);
}

static void ocl_mem_stats(void *ctx, struct sd_mem_stats *out)
{
    struct ocl_ctx *c = ctx;
    memset(out, 0, sizeof(*out));
    sd_memtrack_stats(&c->mem, out);
    out->device_free = 0; /* OpenCL has no portable free-memory query */
    out->device_total = c->info.mem_bytes;
}

static void ocl_reset_peak(void *ctx)
{
    struct ocl_ctx *c = ctx;
    sd_memtrack_reset_peak(&c->mem);
}

static const char *ocl_timer_name(void *ctx)
{
    struct ocl_ctx *c = ctx;
    return (c && c->timer_fallback) ? "host_monotonic" : "cl_event";
}

/* ------------------------------------------------------------------------------------------ */
/* kernel sources and program cache                                                            */

struct sd_ocl_embedded {
    const char *name;
    const char *src;
};
extern const struct sd_ocl_embedded sd_ocl_embedded_kernels[];

/* FNV-1a over the embedded kernel sources: the tuning cache keys on it, so parameters tuned for
 * other kernels (an older or newer sdmark) are never reused for these. */
uint32_t ocl_kernels_hash(void)
{
    uint32_t h = 2166136261u;
    for (int i = 0; sd_ocl_embedded_kernels[i].name; i++)
        for (const char *q = sd_ocl_embedded_kernels[i].src; *q; q++)
            h = (h ^ (uint8_t)*q) * 16777619u;
    return h;
}

/* Source of kernels/opencl/<name>.cl: from $SDMARK_KERNEL_DIR when set, else embedded. */
static char *kernel_source(const char *name, char *reason, size_t len)
{
    const char *dir = getenv("SDMARK_KERNEL_DIR");
    if (dir && *dir) {
        char path[1024];
        snprintf(path, sizeof(path), "%s/%s.cl", dir, name);
        FILE *f = fopen(path, "rb");
        if (!f) {
            snprintf(reason, len, "SDMARK_KERNEL_DIR: cannot open %s", path);
            return NULL;
        }
        fseek(f, 0, SEEK_END);
        long n = ftell(f);
        fseek(f, 0, SEEK_SET);
        char *s = malloc((size_t)(n > 0 ? n : 0) + 1);
        if (!s || (n > 0 && fread(s, 1, (size_t)n, f) != (size_t)n)) {
            fclose(f);
            free(s);
            snprintf(reason, len, "SDMARK_KERNEL_DIR: cannot read %s", path);
            return NULL;
        }
        fclose(f);
        s[n > 0 ? n : 0] = 0;
        return s;
    }
    for (int i = 0; sd_ocl_embedded_kernels[i].name; i++)
        if (strcmp(sd_ocl_embedded_kernels[i].name, name) == 0)
            return strdup(sd_ocl_embedded_kernels[i].src);
    snprintf(reason, len, "no embedded OpenCL kernel file '%s.cl'", name);
    return NULL;
}

enum sd_status ocl_program(struct ocl_ctx *c, const char *files, const char *opts, cl_program *out,
                           char *reason, size_t len)
{
    char key[1024];
    snprintf(key, sizeof(key), "%s|%s", files, opts);
    for (int i = 0; i < c->nprogs; i++)
        if (strcmp(c->progs[i].key, key) == 0) {
            *out = c->progs[i].prog;
            return SD_OK;
        }
    /* load and concatenate the files */
    const char *srcs[8];
    char *owned[8];
    int nf = 0;
    char list[256];
    snprintf(list, sizeof(list), "%s", files);
    enum sd_status st = SD_OK;
    for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok && nf < 8;
         tok = strtok_r(NULL, ",", &save)) {
        owned[nf] = kernel_source(tok, reason, len);
        if (!owned[nf]) {
            st = SD_ERROR;
            break;
        }
        srcs[nf] = owned[nf];
        nf++;
    }
    cl_program prog = NULL;
    if (st == SD_OK) {
        cl_int err = CL_SUCCESS;
        prog = clCreateProgramWithSource(c->context, (cl_uint)nf, srcs, NULL, &err);
        if (err != CL_SUCCESS) {
            st = ocl_fail(err, "clCreateProgramWithSource", __FILE__, __LINE__, reason, len);
            prog = NULL;
        } else {
            /* SDMARK_FAULT=build=N: the Nth build fails as a compiler error would. */
            int injected = sd_fault_hit(SD_FAULT_BUILD);
            err = injected ? CL_BUILD_PROGRAM_FAILURE : clBuildProgram(prog, 1, &c->device, opts, NULL, NULL);
            if (err != CL_SUCCESS) {
                size_t lsz = 0;
                clGetProgramBuildInfo(prog, c->device, CL_PROGRAM_BUILD_LOG, 0, NULL, &lsz);
                char *log = calloc(1, lsz + 1);
                if (log)
                    clGetProgramBuildInfo(prog, c->device, CL_PROGRAM_BUILD_LOG, lsz, log, NULL);
                /* first error line(s) of the log, on one line */
                char first[160] = "";
                if (log) {
                    char *e = strstr(log, "error");
                    const char *from = e ? e : log;
                    size_t k = 0;
                    for (; from[k] && k + 1 < sizeof(first); k++)
                        first[k] = (from[k] == '\n' || from[k] == '\r') ? ' ' : from[k];
                    first[k] = 0;
                }
                if (injected)
                    snprintf(first, sizeof first, "(injected by SDMARK_FAULT)");
                snprintf(reason, len, "clBuildProgram(%s) %s: %s", files, ocl_err_name(err), first);
                free(log);
                clReleaseProgram(prog);
                prog = NULL;
                st = SD_ERROR;
            }
        }
    }
    for (int i = 0; i < nf; i++)
        free(owned[i]);
    if (st != SD_OK)
        return st;
    if (c->nprogs == c->cap_progs) {
        int cap = c->cap_progs ? c->cap_progs * 2 : 16;
        struct ocl_prog *np = realloc(c->progs, (size_t)cap * sizeof(*np));
        if (!np) {
            clReleaseProgram(prog);
            snprintf(reason, len, "out of host memory");
            return SD_ERROR;
        }
        c->progs = np;
        c->cap_progs = cap;
    }
    c->progs[c->nprogs].key = strdup(key);
    c->progs[c->nprogs].prog = prog;
    c->nprogs++;
    *out = prog;
    return SD_OK;
}

enum sd_status ocl_kernel(struct ocl_ctx *c, const char *files, const char *opts, const char *name,
                          cl_kernel *out, char *reason, size_t len)
{
    cl_program prog;
    enum sd_status st = ocl_program(c, files, opts, &prog, reason, len);
    if (st != SD_OK)
        return st;
    cl_int err = CL_SUCCESS;
    *out = clCreateKernel(prog, name, &err);
    if (err != CL_SUCCESS) {
        *out = NULL;
        return ocl_fail(err, "clCreateKernel", __FILE__, __LINE__, reason, len);
    }
    /* Some drivers (llvmpipe) launch a kernel whose __local arrays exceed the device's local
     * memory and let it overrun; refuse it here so parameters that do not fit never run. */
    cl_ulong lm = 0;
    if (c->local_mem &&
        clGetKernelWorkGroupInfo(*out, c->device, CL_KERNEL_LOCAL_MEM_SIZE, sizeof(lm), &lm, NULL) == CL_SUCCESS &&
        lm > c->local_mem) {
        clReleaseKernel(*out);
        *out = NULL;
        snprintf(reason, len, "kernel %s needs %" PRIu64 " bytes of local memory > %" PRIu64 " on the device",
                 name, (uint64_t)lm, c->local_mem);
        return SD_UNSUPPORTED;
    }
    return SD_OK;
}

/* ------------------------------------------------------------------------------------------ */

static const char *const gemm_impls[] = {"own",
#ifdef SDMARK_HAVE_CLBLAST
                                         "clblast",
#endif
                                         NULL};
static const char *const conv_impls[] = {"own", NULL};
static const char *const attn_impls[] = {"unfused", "sliced", "flash", NULL};

const struct sd_backend_ops sd_backend_opencl = {
    .name = "opencl",
    .probe = ocl_probe,
    .open = ocl_open,
    .close = ocl_close,
    .device_info = ocl_device_info,
    .impls = {[SD_OP_GEMM] = gemm_impls, [SD_OP_CONV2D] = conv_impls, [SD_OP_ATTENTION] = attn_impls},
    .supports = ocl_supports,
    .prepare = ocl_prepare,
    .upload = ocl_upload,
    .poison = ocl_poison,
    .run = ocl_run,
    .download = ocl_download,
    .release = ocl_release,
    .mem_stats = ocl_mem_stats,
    .reset_peak = ocl_reset_peak,
    .timer_name = ocl_timer_name,
    .env_begin = NULL,
    .env_end = NULL,
    .tune = ocl_tune,
    .describe_platforms = ocl_describe_platforms,
    .plan_note = ocl_plan_note,
};
