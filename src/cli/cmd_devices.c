/* cmd_devices.c — `sdmark devices`: every backend compiled in and every device it sees. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "sdmark/backend.h"

#ifdef SDMARK_WITH_OPENCL
void sd_opencl_list_platforms(FILE *out); /* ocl_core.c */
#endif

int sd_cmd_devices(int argc, char **argv)
{
    if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        printf("usage: sdmark devices\nLists every backend compiled into sdmark and the devices it sees:\n"
               "index, name, vendor, driver/API version, compute units, memory, fp16 support.\n"
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
#ifdef SDMARK_WITH_OPENCL
        if (!strcmp(sd_backends[b]->name, "opencl"))
            sd_opencl_list_platforms(stdout);
#endif
        for (int i = 0; i < n && i < 32; i++) {
            any = 1;
            printf("  [%d] %s\n      vendor %s | arch %s | driver %s | api %s\n"
                   "      %d compute units%s | %d MHz | memory %.2f GiB (max alloc %.2f GiB) | cache %.1f MiB | "
                   "fp16 %s | bf16 %s\n",
                   i, info[i].name, info[i].vendor, info[i].arch, info[i].driver_version, info[i].api_version,
                   info[i].compute_units, info[i].threads > 0 ? "" : "", info[i].clock_mhz,
                   info[i].mem_bytes / 1073741824.0, info[i].max_alloc_bytes / 1073741824.0,
                   info[i].l2_bytes / 1048576.0, info[i].fp16 ? "yes" : "no", info[i].bf16 ? "yes" : "no");
        }
    }
    if (!sd_backends[0])
        printf("(no backend compiled in)\n");
    return any ? SD_EXIT_OK : SD_EXIT_FAIL;
}
