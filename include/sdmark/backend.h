/* backend.h — the backend interface (a ggml/clpeak-style vtable).
 *
 * A backend is one `const struct sd_backend_ops` filled with designated initializers.
 * Optional slots may be NULL; the harness then records `unsupported` (or skips the feature).
 * A backend knows nothing of timing policy, verification, claims or output formats: the
 * harness (src/core/run.c) drives it through this table only.
 *
 * Data flow for one row (see src/core/run.c):
 *   supports -> prepare(nsets) -> upload(set i, host fp32 inputs) for each set -> poison ->
 *   run(set 0) -> download -> [verify on host] -> run(set i % nsets, &ms) repeatedly -> release
 * Host data is always fp32; the backend converts to/from the row's storage dtype.
 * All memory a row needs (inputs x nsets, the output, workspaces, score matrices, library
 * workspaces) goes through the backend's tracked allocator so mem_stats() reports the peak.
 *
 * To add a backend: create src/backends/<name>/ with a static library that defines
 * `const struct sd_backend_ops sd_backend_<name>`, add it to src/backends/registry.c behind
 * SDMARK_WITH_<NAME>, and to src/backends/CMakeLists.txt.
 */
#ifndef SDMARK_BACKEND_H
#define SDMARK_BACKEND_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdbool.h>

#include "sdmark/status.h"
#include "sdmark/workload.h"

#define SD_REASON_LEN 256

/* What kind of processor a device is: decides cold-cache budgets, the plausibility bound and
 * which claims a row can speak to. Code tests this, never backend names. */
enum sd_device_kind { SD_DEVICE_OTHER = 0, SD_DEVICE_CPU, SD_DEVICE_GPU };
const char *sd_device_kind_name(enum sd_device_kind k);   /* "other" | "cpu" | "gpu" */

struct sd_device_info {
    char backend[16];          /* "opencl", "cuda", "cpu" */
    enum sd_device_kind kind;  /* cpu | gpu | other (accelerators, unknown) */
    char name[128];            /* e.g. "NVIDIA H100 80GB HBM3", "pthread-skylake-avx512-..." */
    char vendor[64];
    char arch[64];             /* "sm_90", LLVM target, CPU model ... */
    char driver_version[64];
    char api_version[64];      /* "OpenCL 3.0 PoCL ...", "CUDA 13.0", "OpenBLAS 0.3.21" */
    int compute_units;
    int clock_mhz;             /* max/boost clock as reported, 0 if unknown */
    uint64_t mem_bytes;        /* global memory */
    uint64_t max_alloc_bytes;  /* largest single allocation (OpenCL CL_DEVICE_MAX_MEM_ALLOC_SIZE) */
    uint64_t l2_bytes;         /* last-level cache the device reads through (for cold-cache rotation) */
    bool fp16;                 /* fp16 storage/arith supported */
    bool bf16;
    int threads;               /* host threads used (cpu backend / PoCL), 0 if n/a */
};

struct sd_mem_stats {
    uint64_t current_bytes;    /* tracked allocations alive now */
    uint64_t peak_bytes;       /* tracked peak since reset_peak (incl. library workspaces) */
    uint64_t device_free;      /* driver-reported free memory, 0 if unknown */
    uint64_t device_total;
};

/* Environment sampled while a row runs (NVML on CUDA). Fields < 0 mean "not available". */
struct sd_env {
    double clock_mhz_mean;
    double temp_c_max;
    double power_w_mean;
    int throttled;             /* 1 if the GPU reported a throttle reason during the row, 0 no, -1 n/a */
};

struct sd_plan;                /* backend-defined */

struct sd_backend_ops {
    const char *name;

    /* List devices into out[0..max-1]; returns how many exist (may exceed max), 0 if none.
     * Must not print or fail hard when the driver is missing. */
    int (*probe)(struct sd_device_info *out, int max);
    enum sd_status (*open)(int index, void **ctx, char *reason, size_t len);
    void (*close)(void *ctx);
    void (*device_info)(void *ctx, struct sd_device_info *info);

    /* NULL-terminated impl names per op; NULL = op not offered. First entry is the default. */
    const char *const *impls[SD_OP_COUNT];

    /* Quick check without allocating: SD_OK or SD_UNSUPPORTED with a reason. */
    enum sd_status (*supports)(void *ctx, const struct sd_workload *wl, const char *impl,
                               char *reason, size_t len);
    /* Compile/pick kernels, allocate nsets input sets + one output + workspaces.
     * Returns SD_OOM when an allocation fails (and frees what it got). */
    enum sd_status (*prepare)(void *ctx, const struct sd_workload *wl, const char *impl,
                              int nsets, struct sd_plan **plan, char *reason, size_t len);
    /* Copy host fp32 inputs (n_in arrays, sizes from sd_workload_tensors) into set `set`. */
    enum sd_status (*upload)(struct sd_plan *p, int set, const float *const *inputs,
                             char *reason, size_t len);
    /* Fill the output with NaN so an impl that writes nothing fails verification. */
    enum sd_status (*poison)(struct sd_plan *p, char *reason, size_t len);
    /* Run once on input set `set` and wait. If ms != NULL, store the elapsed time measured
     * by the backend's timer (device events where possible). */
    enum sd_status (*run)(struct sd_plan *p, int set, double *ms, char *reason, size_t len);
    /* Copy the output to host as fp32. */
    enum sd_status (*download)(struct sd_plan *p, float *out, char *reason, size_t len);
    void (*release)(struct sd_plan *p);

    void (*mem_stats)(void *ctx, struct sd_mem_stats *out);
    void (*reset_peak)(void *ctx);
    /* Name of the timer run() uses: "cl_event", "cuda_event", "host_monotonic". */
    const char *(*timer_name)(void *ctx);

    /* Optional (NULL where absent). */
    void (*env_begin)(void *ctx);                       /* start sampling clocks/temp/power */
    void (*env_end)(void *ctx, struct sd_env *out);     /* stop and summarise */
    /* Print the driver platforms behind the devices (OpenCL: every platform the ICD loader reports,
     * those without devices too), for `sdmark devices`. */
    void (*describe_platforms)(FILE *out);
    /* Tune kernel parameters for this device; force=1 ignores the cache. Log to `log`. */
    enum sd_status (*tune)(void *ctx, int force, FILE *log, char *reason, size_t len);
    /* Cold rows: evict the device's caches before the next timed run (e.g. write an L2-sized
     * buffer), outside the time run() measures. With it the harness rotates no input sets and
     * records cache_mode "flush"; without it cold rows rotate input sets ("cold"). */
    enum sd_status (*flush_cache)(struct sd_plan *p, char *reason, size_t len);
    /* What an ok row should say about how it ran (chosen algorithm and layout, score dtype,
     * library workspace bytes as "workspace=N", re-taken samples); written into its `reason`. */
    void (*plan_note)(struct sd_plan *p, char *note, size_t len);
};

/* Registry (src/backends/registry.c): the backends compiled into this binary, NULL-terminated,
 * in default-preference order (cuda, opencl, cpu). */
extern const struct sd_backend_ops *const sd_backends[];
const struct sd_backend_ops *sd_backend_find(const char *name);

#endif
