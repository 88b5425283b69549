/* cmd_run.c — `sdmark run`: option parsing, device selection, suites, progress, final table. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "run.h"
#include "sdmark/analysis.h"

#define MAX_SUITES 32
#define MAX_BACKENDS 8

static void usage(FILE *f)
{
    fprintf(f,
            "usage: sdmark run [options]\n"
            "Runs suites on a device: every (workload, impl) is verified against a CPU reference in\n"
            "double precision, then timed until its noise is <= --max-noise or --min-time has passed.\n"
            "Writes <out>/<backend>-<device>-<suite>.csv (and .json) after every row (device index N > 0\n"
            "adds -devN to <device>, so identical cards keep separate files).\n\n"
            "  --suite NAME|FILE    suite to run (repeatable, or comma list). NAME is bench/NAME.suite:\n"
            "                       quick, sd15, sd21, sdxl, vae. Default: sd15,sd21,sdxl,vae on a CUDA GPU,\n"
            "                       quick otherwise\n"
            "  --backend LIST       cuda, opencl, cpu (comma list). Default: cuda if a GPU is present,\n"
            "                       else opencl + cpu\n"
            "  --device N|all       device index within the backend (see sdmark devices); default 0;\n"
            "                       'all' runs one process per device. OpenCL numbers devices across\n"
            "                       platforms: platforms in ICD loader order, devices in platform order\n"
            "  --op LIST            only these ops: gemm,conv2d,attention\n"
            "  --dtype LIST         only these dtypes: fp32,tf32,fp16,bf16\n"
            "  --impl LIST          only these impls (e.g. own,clblast,openblas,cublas,flash)\n"
            "  --out DIR            results directory (default: results)\n"
            "  --format LIST        csv,json (default both)\n"
            "  --min-time S         minimum sampling time per row in seconds (default 0.5)\n"
            "  --min-samples N      minimum samples per row (default 10)\n"
            "  --max-noise P        stop early when relative noise <= P percent (default 0.5)\n"
            "  --timeout S          per-row sampling limit in seconds (default 15)\n"
            "  --warmup-ms MS       warm-up time per row (default 100)\n"
            "  --hot                hot-cache mode (default cold: inputs rotated over >= 3x the LLC)\n"
            "  --kernel-dir DIR     load OpenCL kernels from DIR instead of the embedded copies (development)\n"
            "  --no-tune            do not tune kernels on first use of a device (use cached or default\n"
            "                       parameters; `sdmark tune` tunes explicitly)\n"
            "  --quiet              no progress on stderr\n"
            "  -h, --help           this help\n"
            "Exit status: 0 done (rows may be oom/unsupported/wrong: see the table), 1 results could not be\n"
            "written or no device, 2 usage error, 130 interrupted (completed rows are kept).\n");
}

static int split_list(char *s, char **out, int max, int *n)
{
    for (char *save = NULL, *t = strtok_r(s, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (*n >= max)
            return -1;
        out[(*n)++] = t;
    }
    return 0;
}

static int parse_double(const char *opt, const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (*end || errno || !(v >= 0) || v > 1e9) {
        fprintf(stderr, "sdmark run: %s expects a number >= 0, got '%s'\n", opt, s);
        return -1;
    }
    *out = v;
    return 0;
}

static int mkdir_p(const char *dir)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", dir);
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            if (mkdir(tmp, 0755) && errno != EEXIST)
                return -1;
            *p = '/';
        }
    if (mkdir(tmp, 0755) && errno != EEXIST)
        return -1;
    struct stat st;
    return (stat(tmp, &st) == 0 && S_ISDIR(st.st_mode)) ? 0 : -1;
}

/* --device all: re-exec ourselves once per device, in parallel, each with --device i. */
static int run_all_devices(int argc, char **argv, const struct sd_backend_ops *be)
{
    struct sd_device_info infos[16];
    int nd = be->probe(infos, 16);
    if (nd <= 0) {
        fprintf(stderr, "sdmark run: no %s device found\n", be->name);
        return SD_EXIT_FAIL;
    }
    if (nd > 16)
        nd = 16;
    pid_t pids[16];
    for (int d = 0; d < nd; d++) {
        char idx[16];
        snprintf(idx, sizeof idx, "%d", d);
        char **av = calloc((size_t)argc + 3, sizeof *av);
        if (!av)
            return SD_EXIT_FAIL;
        av[0] = "sdmark";
        av[1] = "run";
        int k = 2;
        for (int i = 1; i < argc; i++) {
            if (!strcmp(argv[i], "all") && i > 0 && !strcmp(argv[i - 1], "--device"))
                av[k++] = idx;
            else if (!strcmp(argv[i], "--device=all"))
                av[k++] = "--device", av[k++] = idx;
            else
                av[k++] = argv[i];
        }
        av[k] = NULL;
        pids[d] = fork();
        if (pids[d] == 0) {
            execv("/proc/self/exe", av);
            perror("sdmark run: exec");
            _exit(127);
        }
        free(av);
        fprintf(stderr, "sdmark: device %d (%s) -> pid %d\n", d, infos[d].name, (int)pids[d]);
    }
    int rc = SD_EXIT_OK;
    for (int d = 0; d < nd; d++) {
        int status = 0;
        if (pids[d] > 0 && waitpid(pids[d], &status, 0) > 0 && (!WIFEXITED(status) || WEXITSTATUS(status) != 0)) {
            fprintf(stderr, "sdmark: device %d run failed (status %d)\n", d,
                    WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
            rc = SD_EXIT_FAIL;
        }
    }
    return rc;
}

int sd_cmd_run(int argc, char **argv)
{
    struct sd_run_opts o;
    memset(&o, 0, sizeof o);
    sd_measure_defaults(&o.m);
    o.out_dir = "results";
    o.csv = o.json = 1;
    char *suites[MAX_SUITES];
    int nsuites = 0;
    char *backends[MAX_BACKENDS];
    int nbackends = 0;
    const char *device = "0";
    int no_tune = 0;
    enum {
        O_SUITE = 256, O_BACKEND, O_DEVICE, O_OP, O_DTYPE, O_IMPL, O_OUT, O_FORMAT, O_MINTIME, O_MINSAMP,
        O_NOISE, O_TIMEOUT, O_WARMUP, O_HOT, O_KDIR, O_QUIET, O_NOTUNE
    };
    static const struct option lo[] = {
        {"suite", required_argument, 0, O_SUITE},     {"backend", required_argument, 0, O_BACKEND},
        {"device", required_argument, 0, O_DEVICE},   {"op", required_argument, 0, O_OP},
        {"dtype", required_argument, 0, O_DTYPE},     {"impl", required_argument, 0, O_IMPL},
        {"out", required_argument, 0, O_OUT},         {"format", required_argument, 0, O_FORMAT},
        {"min-time", required_argument, 0, O_MINTIME}, {"min-samples", required_argument, 0, O_MINSAMP},
        {"max-noise", required_argument, 0, O_NOISE}, {"timeout", required_argument, 0, O_TIMEOUT},
        {"warmup-ms", required_argument, 0, O_WARMUP}, {"hot", no_argument, 0, O_HOT},
        {"kernel-dir", required_argument, 0, O_KDIR}, {"quiet", no_argument, 0, O_QUIET},
        {"no-tune", no_argument, 0, O_NOTUNE},
        {"help", no_argument, 0, 'h'},                {0, 0, 0, 0},
    };
    optind = 1;
    int c;
    double v;
    while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
        switch (c) {
        case O_SUITE:
            if (split_list(optarg, suites, MAX_SUITES, &nsuites)) {
                fprintf(stderr, "sdmark run: too many suites (max %d)\n", MAX_SUITES);
                return SD_EXIT_USAGE;
            }
            break;
        case O_BACKEND:
            if (split_list(optarg, backends, MAX_BACKENDS, &nbackends)) {
                fprintf(stderr, "sdmark run: too many backends\n");
                return SD_EXIT_USAGE;
            }
            break;
        case O_DEVICE:
            device = optarg;
            break;
        case O_OP:
        case O_DTYPE: {
            char *items[16];
            int ni = 0;
            if (split_list(optarg, items, 16, &ni))
                return SD_EXIT_USAGE;
            for (int i = 0; i < ni; i++) {
                if (c == O_OP) {
                    enum sd_op op;
                    if (sd_op_parse(items[i], &op)) {
                        fprintf(stderr, "sdmark run: unknown op '%s' (gemm, conv2d, attention)\n", items[i]);
                        return SD_EXIT_USAGE;
                    }
                    o.op_mask |= 1u << op;
                } else {
                    enum sd_dtype dt;
                    if (sd_dtype_parse(items[i], &dt)) {
                        fprintf(stderr, "sdmark run: unknown dtype '%s' (fp32, tf32, fp16, bf16)\n", items[i]);
                        return SD_EXIT_USAGE;
                    }
                    o.dtype_mask |= 1u << dt;
                }
            }
            break;
        }
        case O_IMPL:
            o.impls = optarg;
            break;
        case O_OUT:
            o.out_dir = optarg;
            break;
        case O_FORMAT: {
            o.csv = o.json = 0;
            char *items[4];
            int ni = 0;
            if (split_list(optarg, items, 4, &ni))
                return SD_EXIT_USAGE;
            for (int i = 0; i < ni; i++) {
                if (!strcmp(items[i], "csv"))
                    o.csv = 1;
                else if (!strcmp(items[i], "json"))
                    o.json = 1;
                else {
                    fprintf(stderr, "sdmark run: unknown format '%s' (csv, json)\n", items[i]);
                    return SD_EXIT_USAGE;
                }
            }
            if (!o.csv && !o.json) {
                fprintf(stderr, "sdmark run: --format needs csv, json or both (e.g. --format csv,json)\n");
                return SD_EXIT_USAGE;
            }
            break;
        }
        case O_MINTIME:
            if (parse_double("--min-time", optarg, &o.m.min_time_s))
                return SD_EXIT_USAGE;
            break;
        case O_MINSAMP:
            if (parse_double("--min-samples", optarg, &v) || v < 1)
                return SD_EXIT_USAGE;
            o.m.min_samples = (int)v;
            break;
        case O_NOISE:
            if (parse_double("--max-noise", optarg, &v))
                return SD_EXIT_USAGE;
            o.m.max_noise = v / 100.0;
            break;
        case O_TIMEOUT:
            if (parse_double("--timeout", optarg, &o.m.timeout_s) || o.m.timeout_s <= 0)
                return SD_EXIT_USAGE;
            break;
        case O_WARMUP:
            if (parse_double("--warmup-ms", optarg, &o.m.warmup_ms))
                return SD_EXIT_USAGE;
            break;
        case O_HOT:
            o.hot = 1;
            break;
        case O_KDIR:
            setenv("SDMARK_KERNEL_DIR", optarg, 1);
            break;
        case O_QUIET:
            o.quiet = 1;
            break;
        case O_NOTUNE:
            no_tune = 1;
            break;
        case 'h':
            usage(stdout);
            return SD_EXIT_OK;
        default:
            usage(stderr);
            return SD_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "sdmark run: unexpected argument '%s' (see sdmark run --help)\n", argv[optind]);
        return SD_EXIT_USAGE;
    }

    /* Choose backends: explicit, or the best available (a CUDA GPU; else OpenCL + the cpu baseline). */
    const struct sd_backend_ops *bes[MAX_BACKENDS];
    int nbes = 0;
    int gpu_default = 0;
    for (int i = 0; i < nbackends; i++) {
        const struct sd_backend_ops *be = sd_backend_find(backends[i]);
        if (!be) {
            fprintf(stderr, "sdmark run: backend '%s' is not compiled into this sdmark (have:", backends[i]);
            for (int j = 0; sd_backends[j]; j++)
                fprintf(stderr, " %s", sd_backends[j]->name);
            fprintf(stderr, ")\n");
            return SD_EXIT_USAGE;
        }
        bes[nbes++] = be;
    }
    if (!nbes) {
        const struct sd_backend_ops *cuda = sd_backend_find("cuda");
        struct sd_device_info tmp;
        if (cuda && cuda->probe(&tmp, 1) > 0) {
            bes[nbes++] = cuda;
            gpu_default = 1;
        } else {
            const struct sd_backend_ops *ocl = sd_backend_find("opencl");
            if (ocl && ocl->probe(&tmp, 1) > 0)
                bes[nbes++] = ocl;
            const struct sd_backend_ops *cpu = sd_backend_find("cpu");
            if (cpu)
                bes[nbes++] = cpu;
        }
        if (!nbes) {
            fprintf(stderr, "sdmark run: no device found (no CUDA GPU, no OpenCL device, no cpu backend); "
                            "see sdmark devices\n");
            return SD_EXIT_FAIL;
        }
    }
    if (!strcmp(device, "all")) {
        if (nbes != 1) {
            fprintf(stderr, "sdmark run: --device all needs exactly one --backend\n");
            return SD_EXIT_USAGE;
        }
        return run_all_devices(argc, argv, bes[0]);
    }
    char *end;
    long devidx = strtol(device, &end, 10);
    if (*end || devidx < 0 || devidx > 1000) {
        fprintf(stderr, "sdmark run: --device expects an index or 'all', got '%s'\n", device);
        return SD_EXIT_USAGE;
    }

    /* Suites. */
    char *default_gpu[] = {"sd15", "sd21", "sdxl", "vae"};
    char *default_cpu[] = {"quick"};
    if (!nsuites) {
        char **d = gpu_default ? default_gpu : default_cpu;
        int nd = gpu_default ? 4 : 1;
        for (int i = 0; i < nd; i++)
            suites[nsuites++] = d[i];
    }
    struct sd_suite loaded[MAX_SUITES];
    char err[1024], path[4096];
    for (int i = 0; i < nsuites; i++) {
        if (sd_suite_resolve(suites[i], path, sizeof path, err, sizeof err) ||
            sd_suite_load(path, &loaded[i], err, sizeof err)) {
            fprintf(stderr, "sdmark run: %s\n", err);
            for (int j = 0; j < i; j++)
                sd_suite_free(&loaded[j]);
            return SD_EXIT_USAGE;
        }
    }
    if (mkdir_p(o.out_dir) || access(o.out_dir, W_OK)) {
        fprintf(stderr, "sdmark run: cannot write to results directory '%s': %s\n", o.out_dir, strerror(errno));
        for (int j = 0; j < nsuites; j++)
            sd_suite_free(&loaded[j]);
        return SD_EXIT_FAIL;
    }
    o.device_index = (int)devidx;
    snprintf(o.run_id, sizeof o.run_id, "%lx-%d", (long)time(NULL), (int)getpid());
    sd_install_signal_handlers();

    /* Open every backend first so the progress total is known. */
    void *ctxs[MAX_BACKENDS] = {0};
    struct sd_device_info devs[MAX_BACKENDS];
    int total = 0, rc = SD_EXIT_OK;
    for (int b = 0; b < nbes; b++) {
        char reason[SD_REASON_LEN] = "";
        struct sd_device_info infos[64];
        int nd = bes[b]->probe(infos, 64);
        if (devidx >= nd) {
            fprintf(stderr, "sdmark run: %s has %d device(s); --device %ld does not exist (see sdmark devices)\n",
                    bes[b]->name, nd, devidx);
            rc = SD_EXIT_FAIL;
            continue;
        }
        if (bes[b]->open((int)devidx, &ctxs[b], reason, sizeof reason) != SD_OK) {
            fprintf(stderr, "sdmark run: cannot open %s device %ld: %s\n", bes[b]->name, devidx, reason);
            ctxs[b] = NULL;
            rc = SD_EXIT_FAIL;
            continue;
        }
        /* First use of a device: tune its kernels (the backend returns at once when its cache holds
         * parameters for this device + driver). */
        if (bes[b]->tune && !no_tune) {
            char treason[SD_REASON_LEN] = "";
            if (bes[b]->tune(ctxs[b], 0, o.quiet ? NULL : stderr, treason, sizeof treason) != SD_OK)
                fprintf(stderr, "sdmark run: tuning %s failed (%s); using default kernel parameters\n", bes[b]->name,
                        treason);
        }
        bes[b]->device_info(ctxs[b], &devs[b]);
        snprintf(devs[b].backend, sizeof devs[b].backend, "%s", bes[b]->name);
        for (int s = 0; s < nsuites; s++)
            total += sd_count_rows(bes[b], &loaded[s], &o);
        if (!o.quiet)
            fprintf(stderr, "sdmark: %s device %ld: %s (%s, %d CUs, %.1f GiB)\n", bes[b]->name, devidx, devs[b].name,
                    devs[b].api_version, devs[b].compute_units, devs[b].mem_bytes / 1073741824.0);
    }
    /* pct_of_spec: achieved / the matched card's spec peak for the row's dtype (bench/cards.csv).
     * Devices without a spec row (CPUs, unknown GPUs) leave the column empty. */
    struct sd_cards cards = {0};
    char cpath[4096];
    sd_cards_default_path(cpath, sizeof cpath);
    if (sd_cards_load(cpath, &cards, err, sizeof err) == 0)
        for (int b = 0; b < nbes; b++)
            if (ctxs[b])
                o.cards[b] = sd_cards_match_device(&cards, devs[b].name, devs[b].mem_bytes);
    struct sd_result *rows = NULL;
    size_t nrows = 0;
    int idx = 0;
    double t0 = sd_now_s();
    for (int b = 0; b < nbes && !sd_interrupted; b++) {
        if (!ctxs[b])
            continue;
        for (int s = 0; s < nsuites && !sd_interrupted; s++) {
            o.card = o.cards[b];
            int r = sd_run_suite(bes[b], ctxs[b], &devs[b], &loaded[s], &o, &idx, total, t0, &rows, &nrows);
            if (r < 0)
                rc = SD_EXIT_FAIL;
        }
    }
    for (int b = 0; b < nbes; b++)
        if (ctxs[b])
            bes[b]->close(ctxs[b]);
    for (int s = 0; s < nsuites; s++)
        sd_suite_free(&loaded[s]);
    sd_cards_free(&cards);
    if (nrows)
        sd_print_table(stdout, rows, nrows);
    if (!o.quiet)
        fprintf(stderr, "sdmark: %zu rows in %.0f s; results in %s/\n", nrows, sd_now_s() - t0, o.out_dir);
    free(rows);
    if (sd_interrupted)
        return SD_EXIT_INTERRUPTED;
    return rc;
}
