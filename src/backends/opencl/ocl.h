/* ocl.h - internals of the OpenCL backend (not a public header). */
#ifndef SDMARK_OCL_H
#define SDMARK_OCL_H

#define CL_USE_DEPRECATED_OPENCL_1_2_APIS
#include <CL/cl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sdmark/backend.h"
#include "sdmark/memtrack.h"

/* ---- errors (llm.c cudaCheck style: file:line + CL error name into the reason) ---- */
const char *ocl_err_name(cl_int err);
/* Writes "<what>: <CL_ERR> (<code>) at file:line" into reason; returns SD_OOM for allocation
 * failures (CL_MEM_OBJECT_ALLOCATION_FAILURE, CL_OUT_OF_RESOURCES, CL_OUT_OF_HOST_MEMORY,
 * CL_INVALID_BUFFER_SIZE), SD_ERROR otherwise. */
enum sd_status ocl_fail(cl_int err, const char *what, const char *file, int line, char *reason,
                        size_t len);
#define OCL_CHECK(expr)                                                                            \
    do {                                                                                           \
        cl_int ocl_e_ = (expr);                                                                    \
        if (ocl_e_ != CL_SUCCESS)                                                                  \
            return ocl_fail(ocl_e_, #expr, __FILE__, __LINE__, reason, len);                       \
    } while (0)
/* Variant that stores the status in `st` and jumps to `label` (cleanup paths). */
#define OCL_CHECK_GOTO(expr, st, label)                                                            \
    do {                                                                                           \
        cl_int ocl_e_ = (expr);                                                                    \
        if (ocl_e_ != CL_SUCCESS) {                                                                \
            (st) = ocl_fail(ocl_e_, #expr, __FILE__, __LINE__, reason, len);                       \
            goto label;                                                                            \
        }                                                                                          \
    } while (0)

/* ---- kernel parameters (chosen per device: defaults by device type, or the tuner's cache) ---- */
enum { OCL_STYLE_CPU = 0, OCL_STYLE_GPU = 1 };

struct ocl_mm_params {      /* gemm and conv2d */
    int style;
    int mb, nb, kb, mr, vw, nv;  /* CPU packed */
    int tx, ty, rm, rn, bk;      /* GPU tiled */
};

struct ocl_flash_params {
    int style;
    int qr, qs, nkv, kc, vd;     /* CPU */
    int bq, bkv;                 /* GPU */
    int pvc;                     /* CPU: most head_dim columns per P*V pass (0: 384 / qr, 24 AVX-512 registers) */
};

struct ocl_params {
    struct ocl_mm_params gemm, conv;
    struct ocl_flash_params flash;
    char source[32];             /* "defaults(cpu)", "defaults(gpu)", "cache", "tuned" */
};

/* ---- context ---- */
struct ocl_prog {
    char *key;                   /* files + options */
    cl_program prog;
};

struct ocl_ctx {
    int index;
    cl_platform_id platform;
    cl_device_id device;
    cl_context context;
    cl_command_queue queue;
    struct sd_device_info info;
    cl_device_type type;
    bool is_pocl;
    uint64_t local_mem;
    size_t max_wg;
    /* tracked allocator: the core's tracker, fed by byte counts (buffer sizes are the callers') */
    struct sd_memtrack mem;
    /* program cache */
    struct ocl_prog *progs;
    int nprogs, cap_progs;
    bool timer_fallback;         /* profiling unusable at least once -> host_monotonic */
    struct ocl_params params;
    bool params_loaded;
    uint64_t loop_limit;         /* loop iterations one work-item may run in all; 0 = no limit */
};

/* Tracked allocation: size check against max alloc / global memory, clCreateBuffer, then a
 * zero fill + clFinish so lazy allocators fail here (-> SD_OOM with the bytes in the reason). */
enum sd_status ocl_alloc(struct ocl_ctx *c, size_t bytes, cl_mem *out, const char *what,
                         char *reason, size_t len);
void ocl_free(struct ocl_ctx *c, cl_mem *m, size_t bytes);
/* Add/remove bytes a library allocates internally (CLBlast temp buffer estimate). */
void ocl_track_extra(struct ocl_ctx *c, int64_t bytes);

/* Build (or fetch from the per-context cache) a program from kernels named in `files`
 * (comma separated, e.g. "common,gemm") with build options `opts`. */
enum sd_status ocl_program(struct ocl_ctx *c, const char *files, const char *opts, cl_program *out,
                           char *reason, size_t len);
enum sd_status ocl_kernel(struct ocl_ctx *c, const char *files, const char *opts, const char *name,
                          cl_kernel *out, char *reason, size_t len);

double ocl_now_ms(void);

/* ---- ops (ocl_ops.c) ---- */
enum sd_status ocl_supports(void *ctx, const struct sd_workload *wl, const char *impl, char *reason,
                            size_t len);
enum sd_status ocl_prepare(void *ctx, const struct sd_workload *wl, const char *impl, int nsets,
                           struct sd_plan **plan, char *reason, size_t len);
enum sd_status ocl_upload(struct sd_plan *p, int set, const float *const *inputs, char *reason,
                          size_t len);
enum sd_status ocl_poison(struct sd_plan *p, char *reason, size_t len);
enum sd_status ocl_run(struct sd_plan *p, int set, double *ms, char *reason, size_t len);
enum sd_status ocl_download(struct sd_plan *p, float *out, char *reason, size_t len);
void ocl_release(struct sd_plan *p);
/* "workspace=N" for a flash plan's workspace (the memory check subtracts it), else empty. */
void ocl_plan_note(struct sd_plan *p, char *note, size_t len);
/* Same as prepare but with explicit parameters (the tuner uses it). */
enum sd_status ocl_prepare_with(struct ocl_ctx *c, const struct sd_workload *wl, const char *impl,
                                int nsets, const struct ocl_params *prm, struct sd_plan **plan,
                                char *reason, size_t len);

/* ---- driver limits on one work-item (ocl_limits.c) ---- */
/* Loop iterations the driver runs per kernel invocation before it silently ends the kernel
 * (llvmpipe: 65535), by device name; 0 = unlimited. */
uint64_t ocl_loop_limit(const char *device_name);
/* Length of the k range one launch of a GPU-style (tiled) gemm/conv may cover: K when the device
 * has no loop limit, else a multiple of BK that keeps a work-item under it. */
int ocl_k_chunk(const struct ocl_ctx *c, const struct ocl_mm_params *p, int K);
/* Same for the keys one launch of flash_gpu may walk (skv when unlimited; a multiple of FBKV). */
int ocl_kv_chunk(const struct ocl_ctx *c, const struct ocl_flash_params *p, int skv, int hd);
/* SD_UNSUPPORTED + reason when the row's kernels would exceed c->loop_limit; fused = flash. */
enum sd_status ocl_loop_check(const struct ocl_ctx *c, const struct sd_workload *wl, bool fused,
                              const struct ocl_params *prm, char *reason, size_t len);

/* ---- params / tuner (ocl_tune.c) ---- */
void ocl_params_defaults(const struct ocl_ctx *c, struct ocl_params *p);
void ocl_params_load(struct ocl_ctx *c);   /* cache or defaults; idempotent */
enum sd_status ocl_tune(void *ctx, int force, FILE *log, char *reason, size_t len);
/* Build options for the kernels ("-DMB=96 -DNB=64 ..."). */
void ocl_mm_opts(const struct ocl_mm_params *p, char *buf, size_t len);
void ocl_flash_opts(const struct ocl_flash_params *p, int hd, char *buf, size_t len);
/* flash_cpu's vector width over head_dim (16 where head_dim is a multiple of 16, else vd), padded
 * head_dim (whole vectors) and the fp32 bytes of the K/V copy flash_pack makes. */
int ocl_flash_vd(const struct ocl_flash_params *p, int hd);
int ocl_flash_hdp(const struct ocl_flash_params *p, int hd);
uint64_t ocl_flash_pack_bytes(const struct ocl_flash_params *p, int64_t bh, int64_t skv, int hd);
/* Hash of the kernel sources built into this binary (part of the tuning cache key). */
uint32_t ocl_kernels_hash(void);
int ocl_params_format(const struct ocl_params *p, char *buf, size_t len);

#endif
