/* cmd_memory.c — `sdmark memory`: the memory model of SD 1.5 / 2.1 / SDXL (memmodel.c) and which
 * memory tiers run it; with --results, the model's per-layer figures against measured peaks. */
#define _GNU_SOURCE
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "cli.h"
#include "sdmark/analysis.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: sdmark memory --model sd15|sd21|sdxl [--res N] [--batch N] [--attention unfused|flash]\n"
            "                     [--train none|lora|full] [--lora-rank R] [--precision fp16|fp32]\n"
            "                     [--results FILE|DIR ...] [--format text|json]\n\n"
            "Memory needed to run (or train) a model: weights per component (fp16 and fp32), the\n"
            "largest activations, the unfused attention score matrix, the VAE decode, and for training\n"
            "16 B/param (fp16 weights + fp32 master + Adam m, v + fp16 grads; LoRA: adapters only,\n"
            "frozen fp16 UNet) plus activations saved for backward. Prints the total and which memory\n"
            "tiers (4 ... 80 GB, taken as GiB) run it. Excludes the driver context and allocator slack.\n"
            "Inference total = resident weights + max(UNet activations at CFG batch 2*N, VAE decode).\n\n"
            "  --model M        sd15, sd21 or sdxl (required)\n"
            "  --res N          image side in pixels, multiple of 64 (default: the model's: 512/768/1024)\n"
            "  --batch N        images per batch (default 1)\n"
            "  --attention A    unfused (whole score matrix, default) or flash (no score matrix)\n"
            "  --train T        none (inference, default), lora or full (DreamBooth / full fine-tune)\n"
            "  --lora-rank R    LoRA rank on attention q/k/v/out (default 4, the diffusers default)\n"
            "  --precision P    fp16 (default) or fp32 weights and activations for inference\n"
            "  --results F      also check the model against measured peak memory of attention/conv rows\n"
            "  --format F       text (default) or json\n");
}

static const char *attn_name(enum sd_attn_mode a) { return a == SD_ATTN_FLASH ? "flash" : "unfused"; }
static const char *train_name(enum sd_train_mode t)
{
    return t == SD_TRAIN_FULL ? "full" : t == SD_TRAIN_LORA ? "lora" : "none";
}

static int parse_int(const char *s, int *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == 0 || *end || v < 1 || v > 1000000)
        return -1;
    *out = (int)v;
    return 0;
}

int sd_cmd_memory(int argc, char **argv)
{
    static const struct option opts[] = {{"model", required_argument, 0, 'm'},  {"res", required_argument, 0, 'r'},
                                         {"batch", required_argument, 0, 'b'},  {"attention", required_argument, 0, 'a'},
                                         {"train", required_argument, 0, 't'},  {"lora-rank", required_argument, 0, 'l'},
                                         {"precision", required_argument, 0, 'p'},
                                         {"results", required_argument, 0, 'R'}, {"format", required_argument, 0, 'f'},
                                         {"help", no_argument, 0, 'h'},          {0, 0, 0, 0}};
    const char *model_s = NULL, *format = "text";
    int res = 0, batch = 1, rank = 4;
    enum sd_attn_mode attn = SD_ATTN_UNFUSED;
    enum sd_train_mode train = SD_TRAIN_NONE;
    size_t eb = 2;
    const char *results[64];
    int nres = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "m:r:b:a:t:l:p:R:f:h", opts, NULL)) != -1) {
        switch (c) {
        case 'm':
            model_s = optarg;
            break;
        case 'r':
            if (parse_int(optarg, &res)) {
                fprintf(stderr, "sdmark memory: --res '%s': expected a positive integer\n", optarg);
                return SD_EXIT_USAGE;
            }
            break;
        case 'b':
            if (parse_int(optarg, &batch)) {
                fprintf(stderr, "sdmark memory: --batch '%s': expected a positive integer\n", optarg);
                return SD_EXIT_USAGE;
            }
            break;
        case 'l':
            if (parse_int(optarg, &rank)) {
                fprintf(stderr, "sdmark memory: --lora-rank '%s': expected a positive integer\n", optarg);
                return SD_EXIT_USAGE;
            }
            break;
        case 'a':
            if (!strcmp(optarg, "unfused"))
                attn = SD_ATTN_UNFUSED;
            else if (!strcmp(optarg, "flash"))
                attn = SD_ATTN_FLASH;
            else {
                fprintf(stderr, "sdmark memory: --attention '%s': expected unfused or flash\n", optarg);
                return SD_EXIT_USAGE;
            }
            break;
        case 't':
            if (!strcmp(optarg, "none"))
                train = SD_TRAIN_NONE;
            else if (!strcmp(optarg, "lora"))
                train = SD_TRAIN_LORA;
            else if (!strcmp(optarg, "full"))
                train = SD_TRAIN_FULL;
            else {
                fprintf(stderr, "sdmark memory: --train '%s': expected none, lora or full\n", optarg);
                return SD_EXIT_USAGE;
            }
            break;
        case 'p':
            if (!strcmp(optarg, "fp16"))
                eb = 2;
            else if (!strcmp(optarg, "fp32"))
                eb = 4;
            else {
                fprintf(stderr, "sdmark memory: --precision '%s': expected fp16 or fp32\n", optarg);
                return SD_EXIT_USAGE;
            }
            break;
        case 'R':
            if (nres < 64)
                results[nres++] = optarg;
            break;
        case 'f':
            format = optarg;
            break;
        case 'h':
            usage(stdout);
            return SD_EXIT_OK;
        default:
            usage(stderr);
            return SD_EXIT_USAGE;
        }
    }
    /* extra positional arguments are results files too */
    while (optind < argc && nres < 64)
        results[nres++] = argv[optind++];
    if (strcmp(format, "text") && strcmp(format, "json")) {
        fprintf(stderr, "sdmark memory: --format '%s': expected text or json\n", format);
        return SD_EXIT_USAGE;
    }
    enum sd_model model;
    if (!model_s || sd_model_parse(model_s, &model)) {
        fprintf(stderr, "sdmark memory: --model %s%s%s: expected sd15, sd21 or sdxl\n", model_s ? "'" : "",
                model_s ? model_s : "is required", model_s ? "'" : "");
        return SD_EXIT_USAGE;
    }
    struct sd_mem_opts o;
    sd_mem_opts_default(&o, model);
    if (res)
        o.res = res;
    o.batch = batch;
    o.attn = attn;
    o.train = train;
    o.lora_rank = rank;
    o.act_bytes = train == SD_TRAIN_NONE ? eb : 2;
    struct sd_mem_report r;
    char err[512];
    if (sd_mem_compute(&o, &r, err, sizeof err)) {
        fprintf(stderr, "sdmark memory: %s\n", err);
        return SD_EXIT_USAGE;
    }
    struct sd_rset set = {0};
    struct sd_mem_check checks[256];
    size_t nchk = 0;
    for (int i = 0; i < nres; i++)
        if (sd_rset_add(&set, results[i], err, sizeof err)) {
            fprintf(stderr, "sdmark memory: %s\n", err);
            sd_rset_free(&set);
            return SD_EXIT_FAIL;
        }
    if (nres) {
        sd_rset_index(&set, NULL);
        nchk = sd_mem_check_rows(&set, checks, 256);
    }
    struct sd_model_params p;
    sd_model_published_params(model, &p);
    char b1[32], b2[32];
    int ok_all = 1;
    for (size_t i = 0; i < nchk; i++)
        ok_all &= checks[i].ok;
    if (!strcmp(format, "json")) {
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "model", sd_model_name(model));
        cJSON_AddNumberToObject(j, "res", o.res);
        cJSON_AddNumberToObject(j, "batch", o.batch);
        cJSON_AddStringToObject(j, "attention", attn_name(attn));
        cJSON_AddStringToObject(j, "train", train_name(train));
        cJSON_AddStringToObject(j, "precision", eb == 4 && train == SD_TRAIN_NONE ? "fp32" : "fp16");
        cJSON *w = cJSON_AddObjectToObject(j, "weights");
        cJSON_AddNumberToObject(w, "unet_params", p.unet);
        cJSON_AddNumberToObject(w, "unet_fp16", r.w_unet_fp16);
        cJSON_AddNumberToObject(w, "unet_fp32", r.w_unet_fp32);
        cJSON_AddNumberToObject(w, "text_params", p.text[0] + p.text[1]);
        cJSON_AddNumberToObject(w, "text_fp16", r.w_text_fp16);
        cJSON_AddNumberToObject(w, "text_fp32", r.w_text_fp32);
        cJSON_AddNumberToObject(w, "vae_params", p.vae);
        cJSON_AddNumberToObject(w, "vae_fp16", r.w_vae_fp16);
        cJSON_AddNumberToObject(w, "vae_fp32", r.w_vae_fp32);
        cJSON_AddNumberToObject(j, "weights_resident", r.weights);
        cJSON_AddNumberToObject(j, "unet_activations_peak", r.unet_act_peak);
        cJSON_AddNumberToObject(j, "score_matrix_largest", r.score_largest);
        cJSON_AddNumberToObject(j, "score_matrix_largest_fp16", r.score_largest_fp16);
        cJSON_AddNumberToObject(j, "vae_decode_peak", r.vae_decode_peak);
        cJSON_AddNumberToObject(j, "vae_score_matrix", r.vae_score);
        if (train != SD_TRAIN_NONE) {
            cJSON_AddNumberToObject(j, "train_state", r.train_state);
            cJSON_AddNumberToObject(j, "train_activations", r.train_act);
            if (train == SD_TRAIN_LORA)
                cJSON_AddNumberToObject(j, "lora_params", r.lora_params);
        }
        cJSON *lg = cJSON_AddArrayToObject(j, "largest");
        for (int i = 0; i < r.nlargest; i++) {
            cJSON *x = cJSON_CreateObject();
            cJSON_AddStringToObject(x, "what", r.largest[i].what);
            cJSON_AddNumberToObject(x, "bytes", r.largest[i].bytes);
            cJSON_AddItemToArray(lg, x);
        }
        cJSON_AddNumberToObject(j, "total_bytes", r.total);
        cJSON *tiers = cJSON_AddArrayToObject(j, "fits_tiers_gb");
        for (int i = 0; i < sd_mem_ntiers; i++)
            if (sd_mem_fits(r.total, sd_mem_tiers_gb[i]))
                cJSON_AddItemToArray(tiers, cJSON_CreateNumber(sd_mem_tiers_gb[i]));
        if (nres) {
            cJSON *ch = cJSON_AddArrayToObject(j, "checks");
            for (size_t i = 0; i < nchk; i++) {
                cJSON *x = cJSON_CreateObject();
                cJSON_AddStringToObject(x, "device", checks[i].device);
                cJSON_AddStringToObject(x, "what", checks[i].what);
                cJSON_AddNumberToObject(x, "model", checks[i].model);
                cJSON_AddNumberToObject(x, "measured", checks[i].measured);
                cJSON_AddBoolToObject(x, "within_10pct", checks[i].ok);
                cJSON_AddStringToObject(x, "note", checks[i].note);
                cJSON_AddItemToArray(ch, x);
            }
        }
        char *s = cJSON_Print(j);
        printf("%s\n", s);
        free(s);
        cJSON_Delete(j);
    } else {
        printf("%s @ %dx%d, batch %d, %s, attention %s, %s\n", sd_model_title(model), o.res, o.res, o.batch,
               train == SD_TRAIN_NONE ? "inference (UNet at CFG batch 2xN)" : train == SD_TRAIN_LORA ? "LoRA training"
                                                                                                  : "full fine-tune",
               attn_name(attn), eb == 4 && train == SD_TRAIN_NONE ? "fp32" : "fp16");
        printf("weights (params from docs/sd-shapes.md)      fp16        fp32\n");
        sd_fmt_bytes(r.w_unet_fp16, b1, sizeof b1);
        sd_fmt_bytes(r.w_unet_fp32, b2, sizeof b2);
        printf("  UNet               %7.0f M params        %10s  %10s\n", p.unet / 1e6, b1, b2);
        for (int t = 0; t < 2; t++)
            if (p.text[t] > 0) {
                sd_fmt_bytes(p.text[t] * 2, b1, sizeof b1);
                sd_fmt_bytes(p.text[t] * 4, b2, sizeof b2);
                printf("  %-18s %7.0f M params        %10s  %10s\n", p.text_name[t], p.text[t] / 1e6, b1, b2);
            }
        sd_fmt_bytes(r.w_vae_fp16, b1, sizeof b1);
        sd_fmt_bytes(r.w_vae_fp32, b2, sizeof b2);
        printf("  VAE                %7.0f M params        %10s  %10s\n", p.vae / 1e6, b1, b2);
        printf("largest activations:\n");
        for (int i = 0; i < r.nlargest; i++) {
            sd_fmt_bytes(r.largest[i].bytes, b1, sizeof b1);
            printf("  %-58s %10s\n", r.largest[i].what, b1);
        }
        sd_fmt_bytes(r.score_largest_fp16 * (double)eb / 2, b1, sizeof b1);
        printf("attention score matrix, largest layer: %s%s\n", b1,
               attn == SD_ATTN_FLASH ? " (not allocated: flash attention)" : "");
        sd_fmt_bytes(r.unet_act_peak, b1, sizeof b1);
        sd_fmt_bytes(r.vae_decode_peak, b2, sizeof b2);
        printf("UNet activation peak (skips + largest layer): %s; VAE decode peak: %s\n", b1, b2);
        if (train != SD_TRAIN_NONE) {
            sd_fmt_bytes(r.train_state, b1, sizeof b1);
            sd_fmt_bytes(r.train_act, b2, sizeof b2);
            if (train == SD_TRAIN_LORA)
                printf("LoRA adapters: %.2f M params (rank %d)\n", r.lora_params / 1e6, rank);
            printf("training state (16 B/param%s): %s; activations saved for backward: %s\n",
                   train == SD_TRAIN_LORA ? " of the adapters; UNet frozen in fp16" : "", b1, b2);
        }
        sd_fmt_bytes(r.weights, b1, sizeof b1);
        printf("resident weights: %s\n", b1);
        sd_fmt_bytes(r.total, b1, sizeof b1);
        printf("total: %s (%.0f bytes)\nruns on:", b1, r.total);
        int any = 0;
        for (int i = 0; i < sd_mem_ntiers; i++)
            if (sd_mem_fits(r.total, sd_mem_tiers_gb[i])) {
                printf(" %d", sd_mem_tiers_gb[i]);
                any = 1;
            }
        printf(any ? " GB\n" : " none of the tiers up to 80 GB\n");
        printf("does not fit:");
        any = 0;
        for (int i = 0; i < sd_mem_ntiers; i++)
            if (!sd_mem_fits(r.total, sd_mem_tiers_gb[i])) {
                printf(" %d", sd_mem_tiers_gb[i]);
                any = 1;
            }
        printf(any ? " GB\n" : " (fits every tier)\n");
        if (nres) {
            printf("\nmodel vs measured peak memory (within 10 %%):\n");
            if (!nchk)
                printf("  no checkable rows (needs unfused + flash attention rows of one shape, or conv rows, with "
                       "peak_mem_bytes)\n");
            for (size_t i = 0; i < nchk; i++) {
                sd_fmt_bytes(checks[i].model, b1, sizeof b1);
                sd_fmt_bytes(checks[i].measured, b2, sizeof b2);
                printf("  %-4s %s: %s\n       model %s, measured %s%s%s\n", checks[i].ok ? "ok" : "FAIL",
                       checks[i].device, checks[i].what, b1, b2, checks[i].note[0] ? "; " : "", checks[i].note);
            }
        }
    }
    sd_rset_free(&set);
    return nres && !ok_all ? SD_EXIT_FAIL : SD_EXIT_OK;
}
