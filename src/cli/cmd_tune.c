/* cmd_tune.c — `sdmark tune`: run a backend's tuner (kernel tile / work-group parameters) for a device
 * and cache the choice (the backend owns the cache; see its tune slot). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "sdmark/backend.h"

int sd_cmd_tune(int argc, char **argv)
{
    const char *backend = "opencl";
    long dev = 0;
    int force = 0;
    static const struct option lo[] = {{"backend", required_argument, 0, 'b'}, {"device", required_argument, 0, 'd'},
                                       {"force", no_argument, 0, 'f'},         {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
        switch (c) {
        case 'b':
            backend = optarg;
            break;
        case 'd': {
            char *end;
            dev = strtol(optarg, &end, 10);
            if (*end || dev < 0) {
                fprintf(stderr, "sdmark tune: --device expects an index, got '%s'\n", optarg);
                return SD_EXIT_USAGE;
            }
            break;
        }
        case 'f':
            force = 1;
            break;
        case 'h':
            printf("usage: sdmark tune [--backend opencl] [--device N] [--force]\n"
                   "Times candidate kernel parameters (tile sizes, work-group shape) on the device, each\n"
                   "verified first, and caches the fastest under $SDMARK_CACHE_DIR, $XDG_CACHE_HOME/sdmark or\n"
                   "~/.cache/sdmark, keyed by device and driver. `run` uses the cache (and tunes on first use).\n"
                   "--force re-tunes even when a cached choice exists.\n");
            return SD_EXIT_OK;
        default:
            return SD_EXIT_USAGE;
        }
    }
    const struct sd_backend_ops *be = sd_backend_find(backend);
    if (!be) {
        fprintf(stderr, "sdmark tune: backend '%s' is not compiled in\n", backend);
        return SD_EXIT_USAGE;
    }
    if (!be->tune) {
        fprintf(stderr, "sdmark tune: the %s backend has nothing to tune (it uses vendor libraries)\n", backend);
        return SD_EXIT_OK;
    }
    void *ctx;
    char reason[SD_REASON_LEN] = "";
    if (be->open((int)dev, &ctx, reason, sizeof reason) != SD_OK) {
        fprintf(stderr, "sdmark tune: cannot open %s device %ld: %s\n", backend, dev, reason);
        return SD_EXIT_FAIL;
    }
    enum sd_status st = be->tune(ctx, force, stderr, reason, sizeof reason);
    be->close(ctx);
    if (st != SD_OK) {
        fprintf(stderr, "sdmark tune: %s\n", reason);
        return SD_EXIT_FAIL;
    }
    return SD_EXIT_OK;
}
