/* cmd_devices.c — `sdmark devices`: every backend compiled in and every device it sees. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "sdmark/backend.h"
#include "sdmark/cpu_features.h"

/* The CPU's matrix and vector units: what decides which dtypes its impls run at full speed. */
static void print_cpu_units(void)
{
    struct sd_cpu_features f;
    if (sd_cpu_features_read(&f, NULL) != 0)
        return;
    printf("      matrix/vector units: AMX-BF16 %s | AVX512-BF16 %s | AVX512-FP16 %s | AVX-512 %s | AVX2 %s\n",
           f.amx_bf16 ? "yes" : "no", f.avx512_bf16 ? "yes" : "no", f.avx512_fp16 ? "yes" : "no",
           f.avx512f ? "yes" : "no", f.avx2 ? "yes" : "no");
}

/* Which dtypes each impl runs on this device: the backend's own supports() on a small shape. */
static void print_impl_dtypes(const struct sd_backend_ops *be, int index)
{
    void *ctx = NULL;
    char reason[SD_REASON_LEN];
    if (be->open(index, &ctx, reason, sizeof reason) != SD_OK)
        return;
    for (int op = 0; op < SD_OP_COUNT; op++) {
        if (!be->impls[op])
            continue;
        struct sd_workload wl;
        sd_workload_init(&wl, (enum sd_op)op);
        wl.m = wl.n = wl.k = 64;
        wl.c_in = wl.c_out = 32, wl.h = wl.w = 16, wl.r = wl.s = 3, wl.pad = 1;
        wl.batch_heads = 2, wl.seq_q = wl.seq_kv = 64, wl.head_dim = 64;
        printf("      %-9s", sd_op_name(wl.op));
        for (const char *const *im = be->impls[op]; *im; im++) {
            printf(" %s(", *im);
            int n = 0;
            for (int dt = 0; dt < SD_DTYPE_COUNT; dt++) {
                wl.dtype = (enum sd_dtype)dt;
                if (be->supports(ctx, &wl, *im, reason, sizeof reason) == SD_OK)
                    printf("%s%s", n++ ? "," : "", sd_dtype_name(wl.dtype));
            }
            printf("%s)", n ? "" : "none");
        }
        printf("\n");
    }
    be->close(ctx);
}

int sd_cmd_devices(int argc, char **argv)
{
    if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        printf("usage: sdmark devices\nLists every backend compiled into sdmark and the devices it sees:\n"
               "index, name, vendor, driver/API version, compute units, memory, fp16/bf16 support; for CPU devices\n"
               "the matrix/vector units (AMX-BF16, AVX512-BF16, AVX512-FP16, AVX-512, AVX2); and per op\n"
               "which dtypes each impl runs there (e.g. onednn(fp32,bf16)).\n"
               "The index is what `sdmark run --device N` takes. OpenCL also lists every platform the ICD\n"
               "loader reports, those without devices included; its devices are numbered across\n"
               "platforms: platforms in the loader's order, devices in each platform's order. The\n"
               "numbering is stable while the installed ICDs (/etc/OpenCL/vendors, OCL_ICD_VENDORS)\n"
               "and the drivers' enabling variables (e.g. RUSTICL_ENABLE) stay the same.\n");
        return SD_EXIT_OK;
    }
    if (argc > 1) {
        fprintf(stderr, "sdmark devices: unexpected argument '%s'\n", argv[1]);
        return SD_EXIT_USAGE;
    }
    int any = 0;
    for (int b = 0; sd_backends[b]; b++) {
        struct sd_device_info info[32];
        memset(info, 0, sizeof info);
        int n = sd_backends[b]->probe(info, 32);
        printf("%s: %d device(s)\n", sd_backends[b]->name, n);
        if (sd_backends[b]->describe_platforms) /* OpenCL: every platform, with or without devices */
            sd_backends[b]->describe_platforms(stdout);
        for (int i = 0; i < n && i < 32; i++) {
            any = 1;
            printf("  [%d] %s\n      vendor %s | arch %s | driver %s | api %s\n"
                   "      %d compute units%s | %d MHz | memory %.2f GiB (max alloc %.2f GiB) | cache %.1f MiB | "
                   "fp16 %s | bf16 %s\n",
                   i, info[i].name, info[i].vendor, info[i].arch, info[i].driver_version, info[i].api_version,
                   info[i].compute_units, info[i].threads > 0 ? "" : "", info[i].clock_mhz,
                   info[i].mem_bytes / 1073741824.0, info[i].max_alloc_bytes / 1073741824.0,
                   info[i].l2_bytes / 1048576.0, info[i].fp16 ? "yes" : "no", info[i].bf16 ? "yes" : "no");
            if (info[i].kind == SD_DEVICE_CPU)
                print_cpu_units();
            print_impl_dtypes(sd_backends[b], i);
        }
    }
    if (!sd_backends[0])
        printf("(no backend compiled in)\n");
    return any ? SD_EXIT_OK : SD_EXIT_FAIL;
}
