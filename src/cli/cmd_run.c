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
            "The device timer is cross-checked with the host clock (a timer that disagrees is replaced by\n"
            "the host clock: see the timer and reason columns), and a row faster than the device can be\n"
            "(spec peak in bench/cards.csv, else a bound from what the device reports) is an error row.\n"
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
            "  --impl LIST          only these impls (e.g. own,clblast,openblas,cublas,flash). A word is an\n"
            "                       impl name or a library prefix before '_': onednn runs onednn,\n"
            "                       onednn_unfused and onednn_sliced; unfused runs only unfused\n"
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
            "written or no device, 2 usage error, 130 interrupted (completed rows are kept).\n"
            "Docs: docs/measurement.md (how a number is made), docs/results.md (columns), docs/suites.md\n"
            "(suite format)%s\n", SD_DOCS_INSTALLED);
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

/* Everything the command line says, before any device is touched. */
struct run_cli {
    struct sd_run_opts o;
    char *suites[MAX_SUITES];
    int nsuites;
    char *backends[MAX_BACKENDS];
    int nbackends;
    const char *device;
    int no_tune;
};

/* --op / --dtype: a comma list into a bit mask. */
static int parse_mask(int is_op, char *arg, unsigned *mask)
{
    char *items[16];
    int ni = 0;
    if (split_list(arg, items, 16, &ni))
        return -1;
    for (int i = 0; i < ni; i++) {
        if (is_op) {
            enum sd_op op;
            if (sd_op_parse(items[i], &op)) {
                fprintf(stderr, "sdmark run: unknown op '%s' (gemm, conv2d, attention)\n", items[i]);
                return -1;
            }
            *mask |= 1u << op;
        } else {
            enum sd_dtype dt;
            if (sd_dtype_parse(items[i], &dt)) {
                fprintf(stderr, "sdmark run: unknown dtype '%s' (fp32, tf32, fp16, bf16)\n", items[i]);
                return -1;
            }
            *mask |= 1u << dt;
        }
    }
    return 0;
}

static int parse_format(char *arg, struct sd_run_opts *o)
{
    o->csv = o->json = 0;
    char *items[4];
    int ni = 0;
    if (split_list(arg, items, 4, &ni))
        return -1;
    for (int i = 0; i < ni; i++) {
        if (!strcmp(items[i], "csv"))
            o->csv = 1;
        else if (!strcmp(items[i], "json"))
            o->json = 1;
        else {
            fprintf(stderr, "sdmark run: unknown format '%s' (csv, json)\n", items[i]);
            return -1;
        }
    }
    if (!o->csv && !o->json) {
        fprintf(stderr, "sdmark run: --format needs csv, json or both (e.g. --format csv,json)\n");
        return -1;
    }
    return 0;
}

enum {
    O_SUITE = 256, O_BACKEND, O_DEVICE, O_OP, O_DTYPE, O_IMPL, O_OUT, O_FORMAT, O_MINTIME, O_MINSAMP,
    O_NOISE, O_TIMEOUT, O_WARMUP, O_HOT, O_KDIR, O_QUIET, O_NOTUNE
};

/* The measurement options (numbers). 1 = not one of them, -1 = bad value, 0 = taken. */
static int parse_measure_opt(int c, const char *arg, struct sd_measure_opts *m)
{
    double v;
    switch (c) {
    case O_MINTIME:
        return parse_double("--min-time", arg, &m->min_time_s);
    case O_MINSAMP:
        if (parse_double("--min-samples", arg, &v) || v < 1)
            return -1;
        m->min_samples = (int)v;
        return 0;
    case O_NOISE:
        if (parse_double("--max-noise", arg, &v))
            return -1;
        m->max_noise = v / 100.0;
        return 0;
    case O_TIMEOUT:
        return (parse_double("--timeout", arg, &m->timeout_s) || m->timeout_s <= 0) ? -1 : 0;
    case O_WARMUP:
        return parse_double("--warmup-ms", arg, &m->warmup_ms);
    default:
        return 1;
    }
}

/* One option into cli. Returns 0, or an exit status (usage error, or 0 for --help: *done set). */
static int parse_opt(int c, char *arg, struct run_cli *cli, int *done)
{
    int r = parse_measure_opt(c, arg, &cli->o.m);
    if (r <= 0)
        return r ? SD_EXIT_USAGE : 0;
    switch (c) {
    case O_SUITE:
        if (split_list(arg, cli->suites, MAX_SUITES, &cli->nsuites)) {
            fprintf(stderr, "sdmark run: too many suites (max %d)\n", MAX_SUITES);
            return SD_EXIT_USAGE;
        }
        return 0;
    case O_BACKEND:
        if (split_list(arg, cli->backends, MAX_BACKENDS, &cli->nbackends)) {
            fprintf(stderr, "sdmark run: too many backends\n");
            return SD_EXIT_USAGE;
        }
        return 0;
    case O_DEVICE: cli->device = arg; return 0;
    case O_OP: return parse_mask(1, arg, &cli->o.op_mask) ? SD_EXIT_USAGE : 0;
    case O_DTYPE: return parse_mask(0, arg, &cli->o.dtype_mask) ? SD_EXIT_USAGE : 0;
    case O_IMPL: cli->o.impls = arg; return 0;
    case O_OUT: cli->o.out_dir = arg; return 0;
    case O_FORMAT: return parse_format(arg, &cli->o) ? SD_EXIT_USAGE : 0;
    case O_HOT: cli->o.hot = 1; return 0;
    case O_KDIR: setenv("SDMARK_KERNEL_DIR", arg, 1); return 0;
    case O_QUIET: cli->o.quiet = 1; return 0;
    case O_NOTUNE: cli->no_tune = 1; return 0;
    case 'h':
        usage(stdout);
        *done = 1;
        return SD_EXIT_OK;
    default:
        usage(stderr);
        return SD_EXIT_USAGE;
    }
}

/* Returns -1 to go on, else the exit status. */
static int parse_args(int argc, char **argv, struct run_cli *cli)
{
    memset(cli, 0, sizeof *cli);
    sd_measure_defaults(&cli->o.m);
    cli->o.out_dir = "results";
    cli->o.csv = cli->o.json = 1;
    cli->device = "0";
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
    int c, done = 0;
    while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
        int r = parse_opt(c, optarg, cli, &done);
        if (r || done)
            return r;
    }
    if (optind < argc) {
        fprintf(stderr, "sdmark run: unexpected argument '%s' (see sdmark run --help)\n", argv[optind]);
        return SD_EXIT_USAGE;
    }
    return -1;
}

/* Backends: explicit, or the best available (a CUDA GPU; else OpenCL + the cpu baseline).
 * Returns how many, or -exit status. *gpu_default: the default picked a CUDA GPU. */
static int choose_backends(const struct run_cli *cli, const struct sd_backend_ops **bes, int *gpu_default)
{
    int nbes = 0;
    *gpu_default = 0;
    for (int i = 0; i < cli->nbackends; i++) {
        const struct sd_backend_ops *be = sd_backend_find(cli->backends[i]);
        if (!be) {
            fprintf(stderr, "sdmark run: backend '%s' is not compiled into this sdmark (have:", cli->backends[i]);
            for (int j = 0; sd_backends[j]; j++)
                fprintf(stderr, " %s", sd_backends[j]->name);
            fprintf(stderr, ")\n");
            return -SD_EXIT_USAGE;
        }
        bes[nbes++] = be;
    }
    if (nbes)
        return nbes;
    const struct sd_backend_ops *cuda = sd_backend_find("cuda"), *ocl = sd_backend_find("opencl"),
                                *cpu = sd_backend_find("cpu");
    struct sd_device_info tmp;
    if (cuda && cuda->probe(&tmp, 1) > 0) {
        bes[nbes++] = cuda;
        *gpu_default = 1;
        return nbes;
    }
    if (ocl && ocl->probe(&tmp, 1) > 0)
        bes[nbes++] = ocl;
    if (cpu)
        bes[nbes++] = cpu;
    if (!nbes) {
        fprintf(stderr, "sdmark run: no device found (no CUDA GPU, no OpenCL device, no cpu backend); "
                        "see sdmark devices\n");
        return -SD_EXIT_FAIL;
    }
    return nbes;
}

/* Suites named on the command line (or the defaults) into loaded[]. Returns 0 or an exit status. */
static int load_suites(struct run_cli *cli, int gpu_default, struct sd_suite *loaded)
{
    static char *default_gpu[] = {"sd15", "sd21", "sdxl", "vae"};
    static char *default_cpu[] = {"quick"};
    if (!cli->nsuites) {
        char **d = gpu_default ? default_gpu : default_cpu;
        int nd = gpu_default ? 4 : 1;
        for (int i = 0; i < nd; i++)
            cli->suites[cli->nsuites++] = d[i];
    }
    char err[1024], path[4096];
    for (int i = 0; i < cli->nsuites; i++) {
        if (sd_suite_resolve(cli->suites[i], path, sizeof path, err, sizeof err) ||
            sd_suite_load(path, &loaded[i], err, sizeof err)) {
            fprintf(stderr, "sdmark run: %s\n", err);
            for (int j = 0; j < i; j++)
                sd_suite_free(&loaded[j]);
            return SD_EXIT_USAGE;
        }
    }
    return 0;
}

/* Open backend b's device (tuning its kernels on first use). Returns 0, or -1 (message printed). */
static int open_device(const struct sd_backend_ops *be, long devidx, int no_tune, int quiet, void **ctx,
                       struct sd_device_info *dev)
{
    char reason[SD_REASON_LEN] = "";
    struct sd_device_info infos[64];
    int nd = be->probe(infos, 64);
    if (devidx >= nd) {
        fprintf(stderr, "sdmark run: %s has %d device(s); --device %ld does not exist (see sdmark devices)\n",
                be->name, nd, devidx);
        return -1;
    }
    if (be->open((int)devidx, ctx, reason, sizeof reason) != SD_OK) {
        fprintf(stderr, "sdmark run: cannot open %s device %ld: %s\n", be->name, devidx, reason);
        *ctx = NULL;
        return -1;
    }
    /* First use of a device: tune its kernels (the backend returns at once when its cache holds
     * parameters for this device + driver). */
    if (be->tune && !no_tune && be->tune(*ctx, 0, quiet ? NULL : stderr, reason, sizeof reason) != SD_OK)
        fprintf(stderr, "sdmark run: tuning %s failed (%s); using default kernel parameters\n", be->name, reason);
    be->device_info(*ctx, dev);
    snprintf(dev->backend, sizeof dev->backend, "%s", be->name);
    if (!quiet)
        fprintf(stderr, "sdmark: %s device %ld: %s (%s %s, %d CUs, %.1f GiB)\n", be->name, devidx, dev->name,
                sd_device_kind_name(dev->kind), dev->api_version, dev->compute_units, dev->mem_bytes / 1073741824.0);
    return 0;
}

/* The spec-sheet lookup the harness calls per row (pct_of_spec, plausibility bound): a card from
 * bench/cards.csv whose match names this device. A card applies to GPUs only (CPUs never match). */
static int spec_lookup(void *arg, const struct sd_device_info *dev, const struct sd_workload *wl, struct sd_spec *out)
{
    const struct sd_cards *cards = arg;
    if (!cards || !cards->n || dev->kind == SD_DEVICE_CPU)
        return -1;
    const struct sd_card *c = sd_cards_match_device(cards, dev->name, dev->mem_bytes);
    if (!c)
        return -1;
    out->peak_tflops = sd_card_peak_tflops(c, wl->dtype, wl->acc);
    out->bw_gbs = c->bw_gbs;
    snprintf(out->name, sizeof out->name, "%s", c->name);
    return 0;
}

/* Measure every open device over every suite; print the table. Returns the exit status so far. */
static int run_devices(const struct sd_backend_ops **bes, int nbes, void **ctxs, struct sd_device_info *devs,
                       const struct sd_suite *loaded, int nsuites, struct sd_run_opts *o, int total)
{
    int rc = SD_EXIT_OK, idx = 0;
    struct sd_result *rows = NULL;
    size_t nrows = 0;
    double t0 = sd_now_s();
    for (int b = 0; b < nbes && !sd_interrupted; b++)
        for (int s = 0; ctxs[b] && s < nsuites && !sd_interrupted; s++)
            if (sd_run_suite(bes[b], ctxs[b], &devs[b], &loaded[s], o, &idx, total, t0, &rows, &nrows) < 0)
                rc = SD_EXIT_FAIL;
    if (nrows)
        sd_print_table(stdout, rows, nrows);
    if (!o->quiet)
        fprintf(stderr, "sdmark: %zu rows in %.0f s; results in %s/\n", nrows, sd_now_s() - t0, o->out_dir);
    free(rows);
    return rc;
}

/* Open the devices, load the spec sheets, measure, close. */
static int run_suites(struct run_cli *c, const struct sd_backend_ops **bes, int nbes, long devidx,
                      struct sd_suite *loaded)
{
    c->o.device_index = (int)devidx;
    snprintf(c->o.run_id, sizeof c->o.run_id, "%lx-%d", (long)time(NULL), (int)getpid());
    sd_install_signal_handlers();
    void *ctxs[MAX_BACKENDS] = {0};
    struct sd_device_info devs[MAX_BACKENDS];
    int total = 0, rc = SD_EXIT_OK;
    for (int b = 0; b < nbes; b++) { /* open every backend first so the progress total is known */
        if (open_device(bes[b], devidx, c->no_tune, c->o.quiet, &ctxs[b], &devs[b])) {
            rc = SD_EXIT_FAIL;
            continue;
        }
        for (int s = 0; s < c->nsuites; s++)
            total += sd_count_rows(bes[b], &loaded[s], &c->o);
    }
    /* Without cards.csv there are no spec sheets: bounds then come from what devices report. */
    struct sd_cards cards = {0};
    char cpath[4096], err[1024];
    sd_cards_default_path(cpath, sizeof cpath);
    if (sd_cards_load(cpath, &cards, err, sizeof err) != 0 && !c->o.quiet)
        fprintf(stderr, "sdmark run: %s; pct_of_spec stays empty\n", err);
    c->o.spec = (struct sd_spec_source){spec_lookup, &cards};
    int r = run_devices(bes, nbes, ctxs, devs, loaded, c->nsuites, &c->o, total);
    for (int b = 0; b < nbes; b++)
        if (ctxs[b])
            bes[b]->close(ctxs[b]);
    sd_cards_free(&cards);
    return r ? r : rc;
}

int sd_cmd_run(int argc, char **argv)
{
    struct run_cli cli;
    int r = parse_args(argc, argv, &cli);
    if (r >= 0)
        return r;
    const struct sd_backend_ops *bes[MAX_BACKENDS];
    int gpu_default, nbes = choose_backends(&cli, bes, &gpu_default);
    if (nbes < 0)
        return -nbes;
    if (!strcmp(cli.device, "all")) {
        if (nbes != 1) {
            fprintf(stderr, "sdmark run: --device all needs exactly one --backend\n");
            return SD_EXIT_USAGE;
        }
        return run_all_devices(argc, argv, bes[0]);
    }
    char *end;
    long devidx = strtol(cli.device, &end, 10);
    if (*end || devidx < 0 || devidx > 1000) {
        fprintf(stderr, "sdmark run: --device expects an index or 'all', got '%s'\n", cli.device);
        return SD_EXIT_USAGE;
    }
    struct sd_suite loaded[MAX_SUITES];
    if ((r = load_suites(&cli, gpu_default, loaded)) != 0)
        return r;
    if (mkdir_p(cli.o.out_dir) || access(cli.o.out_dir, W_OK)) {
        fprintf(stderr, "sdmark run: cannot write to results directory '%s': %s\n", cli.o.out_dir, strerror(errno));
        r = SD_EXIT_FAIL;
    } else {
        r = run_suites(&cli, bes, nbes, devidx, loaded);
    }
    for (int s = 0; s < cli.nsuites; s++)
        sd_suite_free(&loaded[s]);
    if (sd_interrupted)
        return SD_EXIT_INTERRUPTED;
    return r;
}
