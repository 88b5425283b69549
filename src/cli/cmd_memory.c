/* cmd_memory.c — `sdmark memory`: the memory model of SD 1.5 / 2.1 / SDXL (memory_model.c) and
 * which memory tiers run it; with results, the model's per-layer figures against measured peaks
 * (memory_check.c). Built by memory_summary.c, printed by memory_print.c. */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis_args.h"
#include "cli.h"
#include "sdmark/analysis.h"
#include "sdmark/memory_summary.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: sdmark memory --model sd15|sd21|sdxl [--res N] [--batch N] [--attention unfused|flash]\n"
            "                     [--train none|lora|full] [--lora-rank R] [--precision fp16|fp32] [--vae-slicing]\n"
            "                     [FILE|DIR ...] [--results FILE|DIR ...] [--format text|json|md]\n\n"
            "Memory needed to run (or train) a model: weights per component (fp16 and fp32), the\n"
            "largest activations, the unfused attention score matrix, the VAE decode, and for training\n"
            "16 B/param (fp16 weights + fp32 master + Adam m, v + fp16 grads; LoRA: adapters only,\n"
            "frozen fp16 UNet) plus activations saved for backward. Prints the total and which memory\n"
            "tiers (4 ... 80, marketed \"GB\" = GiB) run it; sizes are in GiB. Excludes the driver context\n"
            "and allocator slack. Inference total = resident weights + max(UNet activations at CFG batch\n"
            "2*N, VAE decode).\n\n"
            SD_INPUTS_HELP
            "memory reads results only when given (no default), and needs no cards.\n\n"
            "  --model M        sd15, sd21 or sdxl (required)\n"
            "  --res N          image side in pixels, multiple of 64 (default: the model's: 512/768/1024)\n"
            "  --batch N        images per batch (default 1)\n"
            "  --attention A    unfused (whole score matrix, default) or flash (no score matrix)\n"
            "  --train T        none (inference, default), lora or full (DreamBooth / full fine-tune)\n"
            "  --lora-rank R    LoRA rank on attention q/k/v/out (default 4, the diffusers default)\n"
            "  --precision P    fp16 (default) or fp32 weights and activations for inference\n"
            "  --vae-slicing    decode the batch one image at a time (diffusers enable_vae_slicing); by\n"
            "                   default the VAE decodes all N images at once, as diffusers does\n"
            "  --results F      also check the model against measured peak memory of attention/conv rows\n"
            "                   (exit 1 when a check disagrees by more than 10 %%)\n"
            "  --format F       text (default), json or md\n"
            "Docs: docs/memory.md (which front-end defaults the model follows: CFG batch, VAE slicing,\n"
            "attention; what is not counted)%s\n", SD_DOCS_INSTALLED);
}

struct mem_args {
    const char *model;
    enum sd_format fmt;
    struct sd_mem_opts o;   /* model set after parsing */
    int res;
    size_t eb;
    struct sd_paths paths;
};

/* One of `names` (NULL-terminated) -> its index, or a message and -1. */
static int pick(const char *opt, const char *s, const char *const *names, const char *expect)
{
    for (int i = 0; names[i]; i++)
        if (!strcmp(s, names[i]))
            return i;
    fprintf(stderr, "sdmark memory: --%s '%s': expected %s\n", opt, s, expect);
    return -1;
}

static int parse_enum(int c, const char *s, struct mem_args *a)
{
    static const char *const attn[] = {"unfused", "flash", NULL}, *const train[] = {"none", "lora", "full", NULL},
                             *const prec[] = {"fp16", "fp32", NULL};
    int v;
    if (c == 'a' && (v = pick("attention", s, attn, "unfused or flash")) >= 0)
        a->o.attn = v ? SD_ATTN_FLASH : SD_ATTN_UNFUSED;
    else if (c == 't' && (v = pick("train", s, train, "none, lora or full")) >= 0)
        a->o.train = v == 2 ? SD_TRAIN_FULL : v == 1 ? SD_TRAIN_LORA : SD_TRAIN_NONE;
    else if (c == 'p' && (v = pick("precision", s, prec, "fp16 or fp32")) >= 0)
        a->eb = v ? 4 : 2;
    else
        return -1;
    return 0;
}

/* Options into `a`. Returns -1 to go on, else the exit code. */
static int parse_args(int argc, char **argv, struct mem_args *a)
{
    static const struct option opts[] = {
        {"model", required_argument, 0, 'm'},     {"res", required_argument, 0, 'r'},
        {"batch", required_argument, 0, 'b'},     {"attention", required_argument, 0, 'a'},
        {"train", required_argument, 0, 't'},     {"lora-rank", required_argument, 0, 'l'},
        {"precision", required_argument, 0, 'p'}, {"results", required_argument, 0, 'R'},
        {"format", required_argument, 0, 'f'},    {"help", no_argument, 0, 'h'},
        {"vae-slicing", no_argument, 0, 'V'},     {0, 0, 0, 0}};
    int c, bad = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "m:r:b:a:t:l:p:R:f:hV", opts, NULL)) != -1) {
        switch (c) {
        case 'm': a->model = optarg; break;
        case 'r': bad = sd_cli_int("memory", "res", optarg, 1, 1000000, &a->res); break;
        case 'b': bad = sd_cli_int("memory", "batch", optarg, 1, 1000000, &a->o.batch); break;
        case 'l': bad = sd_cli_int("memory", "lora-rank", optarg, 1, 1000000, &a->o.lora_rank); break;
        case 'a': case 't': case 'p': bad = parse_enum(c, optarg, a); break;
        case 'R': sd_paths_add(&a->paths, optarg); break;
        case 'V': a->o.vae_slicing = true; break;
        case 'f': bad = sd_cli_format("memory", optarg, SD_FMT_TEXT | SD_FMT_JSON | SD_FMT_MD, &a->fmt); break;
        case 'h': usage(stdout); return SD_EXIT_OK;
        default: usage(stderr); return SD_EXIT_USAGE;
        }
        if (bad)
            return SD_EXIT_USAGE;
    }
    sd_paths_rest(&a->paths, argc, argv);
    return -1;
}

/* --model and the option defaults into a->o. */
static int finish_opts(struct mem_args *a)
{
    enum sd_model model;
    if (!a->model || sd_model_parse(a->model, &model)) {
        fprintf(stderr, "sdmark memory: --model %s%s%s: expected sd15, sd21 or sdxl\n", a->model ? "'" : "",
                a->model ? a->model : "is required", a->model ? "'" : "");
        return -1;
    }
    struct sd_mem_opts o;
    sd_mem_opts_default(&o, model);
    o.res = a->res ? a->res : o.res;
    o.batch = a->o.batch;
    o.attn = a->o.attn;
    o.train = a->o.train;
    o.lora_rank = a->o.lora_rank;
    o.act_bytes = o.train == SD_TRAIN_NONE ? a->eb : 2;
    o.vae_slicing = a->o.vae_slicing;
    a->o = o;
    return 0;
}

int sd_cmd_memory(int argc, char **argv)
{
    struct mem_args a = {.fmt = SD_FMT_TEXT, .eb = 2, .o = {.batch = 1, .lora_rank = 4}};
    if (sd_paths_init(&a.paths, argc))
        return SD_EXIT_FAIL;
    struct sd_inputs in = {0};
    struct sd_mem_summary m = {0};
    char err[512];
    int rc = parse_args(argc, argv, &a);
    if (rc >= 0)
        goto out;
    rc = SD_EXIT_USAGE;
    if (finish_opts(&a))
        goto out;
    rc = SD_EXIT_FAIL;
    if (a.paths.n && sd_cli_inputs("memory", &in, &a.paths, 0))
        goto out;
    if (sd_mem_summarize(&a.o, a.paths.n ? &in.set : NULL, &m, err, sizeof err)) {
        fprintf(stderr, "sdmark memory: %s\n", err);
        rc = SD_EXIT_USAGE;
        goto out;
    }
    sd_mem_print(stdout, &m, a.fmt);
    rc = m.checks_ok ? SD_EXIT_OK : SD_EXIT_FAIL;
out:
    sd_mem_summary_free(&m);
    sd_inputs_free(&in);
    sd_paths_free(&a.paths);
    return rc;
}
