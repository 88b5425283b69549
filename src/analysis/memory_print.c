/* memory_print.c — render a memory summary (memory_summary.h) as text, JSON (cJSON) or markdown.
 * Sizes are shown in GiB/MiB (binary, like the memory tiers and cards); JSON keeps bytes. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>

#include <cJSON.h>

#include "sdmark/json_out.h"
#include "sdmark/memory_summary.h"

static const char *precision(const struct sd_mem_opts *o)
{
    return o->train == SD_TRAIN_NONE && o->act_bytes == 4 ? "fp32" : "fp16";
}

static const char *mode_title(const struct sd_mem_opts *o)
{
    return o->train == SD_TRAIN_NONE   ? "inference (UNet at CFG batch 2xN)"
           : o->train == SD_TRAIN_LORA ? "LoRA training"
                                       : "full fine-tune";
}

/* ------------------------------------------------------------------ text */

static void weight_line(FILE *f, const char *what, double params)
{
    char a[32], b[32];
    sd_fmt_gib(params * 2, a, sizeof a);
    sd_fmt_gib(params * 4, b, sizeof b);
    fprintf(f, "  %-18s %7.0f M params        %10s  %10s\n", what, params / 1e6, a, b);
}

static void text_weights(FILE *f, const struct sd_mem_summary *m)
{
    fprintf(f, "weights (params from docs/sd-shapes.md)      fp16        fp32\n");
    weight_line(f, "UNet", m->p.unet);
    for (int t = 0; t < 2; t++)
        if (m->p.text[t] > 0)
            weight_line(f, m->p.text_name[t], m->p.text[t]);
    weight_line(f, "VAE", m->p.vae);
}

static void text_activations(FILE *f, const struct sd_mem_summary *m)
{
    const struct sd_mem_report *r = &m->r;
    char b1[32], b2[32];
    fprintf(f, "largest activations:\n");
    for (int i = 0; i < r->nlargest; i++) {
        sd_fmt_gib(r->largest[i].bytes, b1, sizeof b1);
        fprintf(f, "  %-58s %10s\n", r->largest[i].what, b1);
    }
    sd_fmt_gib(r->score_largest_fp16 * (double)m->o.act_bytes / 2, b1, sizeof b1);
    fprintf(f, "attention score matrix, largest layer: %s%s\n", b1,
            m->o.attn == SD_ATTN_FLASH ? " (not allocated: flash attention)" : "");
    sd_fmt_gib(r->unet_act_peak, b1, sizeof b1);
    sd_fmt_gib(r->vae_decode_peak, b2, sizeof b2);
    fprintf(f, "UNet activation peak (skips + largest layer): %s; VAE decode peak: %s\n", b1, b2);
    if (m->o.train == SD_TRAIN_NONE)
        return;
    sd_fmt_gib(r->train_state, b1, sizeof b1);
    sd_fmt_gib(r->train_act, b2, sizeof b2);
    if (m->o.train == SD_TRAIN_LORA)
        fprintf(f, "LoRA adapters: %.2f M params (rank %d)\n", r->lora_params / 1e6, m->o.lora_rank);
    fprintf(f, "training state (16 B/param%s): %s; activations saved for backward: %s\n",
            m->o.train == SD_TRAIN_LORA ? " of the adapters; UNet frozen in fp16" : "", b1, b2);
}

static void text_tiers(FILE *f, double total)
{
    for (int fit = 1; fit >= 0; fit--) {
        int any = 0;
        fprintf(f, fit ? "runs on:" : "does not fit:");
        for (int i = 0; i < sd_mem_ntiers; i++)
            if (sd_mem_fits(total, sd_mem_tiers_gb[i]) == fit) {
                fprintf(f, " %d", sd_mem_tiers_gb[i]);
                any = 1;
            }
        if (any)
            fprintf(f, " GiB (marketed \"GB\" tiers)\n");
        else
            fprintf(f, fit ? " none of the tiers up to %d GiB\n" : " (fits every tier)\n",
                    sd_mem_tiers_gb[sd_mem_ntiers - 1]);
    }
}

static void text_checks(FILE *f, const struct sd_mem_summary *m)
{
    fprintf(f, "\nmodel vs measured peak memory (within 10 %%):\n");
    if (!m->nchecks)
        fprintf(f, "  no checkable rows (needs unfused + flash or sliced attention rows of one shape, or conv rows, "
                   "with peak_mem_bytes)\n");
    for (size_t i = 0; i < m->nchecks; i++) {
        const struct sd_mem_check *c = &m->checks[i];
        char b1[32], b2[32];
        sd_fmt_gib(c->model, b1, sizeof b1);
        sd_fmt_gib(c->measured, b2, sizeof b2);
        const char *verdict = !c->judged ? "--" : c->ok ? "ok" : "FAIL";
        fprintf(f, "  %-4s %s: %s\n       model %s, measured %s%s%s\n", verdict, c->device, c->what, b1, b2,
                c->note[0] ? "; " : "", c->note);
    }
}

static void print_text(FILE *f, const struct sd_mem_summary *m)
{
    char b[32];
    fprintf(f, "%s @ %dx%d, batch %d, %s, attention %s, %s, VAE %s\n", sd_model_title(m->o.model), m->o.res,
            m->o.res, m->o.batch, mode_title(&m->o), sd_attn_mode_name(m->o.attn), precision(&m->o),
            m->o.vae_slicing ? "sliced (one image at a time)" : "decodes the whole batch");
    text_weights(f, m);
    text_activations(f, m);
    sd_fmt_gib(m->r.weights, b, sizeof b);
    fprintf(f, "resident weights: %s\n", b);
    sd_fmt_gib(m->r.total, b, sizeof b);
    fprintf(f, "total: %s (%.0f bytes = %.2f GB decimal)\n", b, m->r.total, m->r.total / 1e9);
    text_tiers(f, m->r.total);
    if (m->checked)
        text_checks(f, m);
}

/* ------------------------------------------------------------------ JSON */

static void json_weights(cJSON *j, const struct sd_mem_summary *m)
{
    cJSON *w = cJSON_AddObjectToObject(j, "weights");
    cJSON_AddNumberToObject(w, "unet_params", m->p.unet);
    cJSON_AddNumberToObject(w, "unet_fp16", m->r.w_unet_fp16);
    cJSON_AddNumberToObject(w, "unet_fp32", m->r.w_unet_fp32);
    cJSON_AddNumberToObject(w, "text_params", m->p.text[0] + m->p.text[1]);
    cJSON_AddNumberToObject(w, "text_fp16", m->r.w_text_fp16);
    cJSON_AddNumberToObject(w, "text_fp32", m->r.w_text_fp32);
    cJSON_AddNumberToObject(w, "vae_params", m->p.vae);
    cJSON_AddNumberToObject(w, "vae_fp16", m->r.w_vae_fp16);
    cJSON_AddNumberToObject(w, "vae_fp32", m->r.w_vae_fp32);
}

static void json_activations(cJSON *j, const struct sd_mem_summary *m)
{
    const struct sd_mem_report *r = &m->r;
    cJSON_AddNumberToObject(j, "weights_resident", r->weights);
    cJSON_AddNumberToObject(j, "unet_activations_peak", r->unet_act_peak);
    cJSON_AddNumberToObject(j, "score_matrix_largest", r->score_largest);
    cJSON_AddNumberToObject(j, "score_matrix_largest_fp16", r->score_largest_fp16);
    cJSON_AddNumberToObject(j, "vae_decode_peak", r->vae_decode_peak);
    cJSON_AddNumberToObject(j, "vae_score_matrix", r->vae_score);
    if (m->o.train != SD_TRAIN_NONE) {
        cJSON_AddNumberToObject(j, "train_state", r->train_state);
        cJSON_AddNumberToObject(j, "train_activations", r->train_act);
        if (m->o.train == SD_TRAIN_LORA)
            cJSON_AddNumberToObject(j, "lora_params", r->lora_params);
    }
    cJSON *lg = cJSON_AddArrayToObject(j, "largest");
    for (int i = 0; i < r->nlargest; i++) {
        cJSON *x = cJSON_CreateObject();
        cJSON_AddStringToObject(x, "what", r->largest[i].what);
        cJSON_AddNumberToObject(x, "bytes", r->largest[i].bytes);
        cJSON_AddItemToArray(lg, x);
    }
}

static void json_checks(cJSON *j, const struct sd_mem_summary *m)
{
    cJSON *ch = cJSON_AddArrayToObject(j, "checks");
    for (size_t i = 0; i < m->nchecks; i++) {
        const struct sd_mem_check *c = &m->checks[i];
        cJSON *x = cJSON_CreateObject();
        cJSON_AddStringToObject(x, "device", c->device);
        cJSON_AddStringToObject(x, "what", c->what);
        cJSON_AddNumberToObject(x, "model", c->model);
        cJSON_AddNumberToObject(x, "measured", c->measured);
        cJSON_AddBoolToObject(x, "judged", c->judged);
        cJSON_AddBoolToObject(x, "within_10pct", c->judged && c->ok);
        cJSON_AddStringToObject(x, "note", c->note);
        cJSON_AddItemToArray(ch, x);
    }
}

static void print_json(FILE *f, const struct sd_mem_summary *m)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "model", sd_model_name(m->o.model));
    cJSON_AddNumberToObject(j, "res", m->o.res);
    cJSON_AddNumberToObject(j, "batch", m->o.batch);
    cJSON_AddStringToObject(j, "attention", sd_attn_mode_name(m->o.attn));
    cJSON_AddStringToObject(j, "train", sd_train_mode_name(m->o.train));
    cJSON_AddStringToObject(j, "precision", precision(&m->o));
    cJSON_AddBoolToObject(j, "vae_slicing", m->o.vae_slicing);
    json_weights(j, m);
    json_activations(j, m);
    cJSON_AddNumberToObject(j, "total_bytes", m->r.total);
    cJSON_AddNumberToObject(j, "total_gib", m->r.total / 1073741824.0);
    cJSON *tiers = cJSON_AddArrayToObject(j, "fits_tiers_gb");
    for (int i = 0; i < sd_mem_ntiers; i++)
        if (sd_mem_fits(m->r.total, sd_mem_tiers_gb[i]))
            cJSON_AddItemToArray(tiers, cJSON_CreateNumber(sd_mem_tiers_gb[i]));
    if (m->checked)
        json_checks(j, m);
    sd_json_emit(f, j);
}

/* ------------------------------------------------------------------ markdown */

static void print_md(FILE *f, const struct sd_mem_summary *m)
{
    char b[32];
    fprintf(f, "### %s @ %d², batch %d, %s, attention %s, %s\n\n| item | size |\n|---|---|\n",
            sd_model_title(m->o.model), m->o.res, m->o.batch, mode_title(&m->o), sd_attn_mode_name(m->o.attn),
            precision(&m->o));
    const struct {
        const char *what;
        double v;
    } items[] = {{"resident weights", m->r.weights},         {"UNet activation peak", m->r.unet_act_peak},
                 {"VAE decode peak", m->r.vae_decode_peak},   {"training state", m->r.train_state},
                 {"activations saved for backward", m->r.train_act}, {"**total**", m->r.total}};
    for (size_t i = 0; i < sizeof items / sizeof items[0]; i++) {
        if (i == 3 && m->o.train == SD_TRAIN_NONE)
            i = 5;
        sd_fmt_gib(items[i].v, b, sizeof b);
        fprintf(f, "| %s | %s |\n", items[i].what, b);
    }
    fprintf(f, "\nRuns on (GiB tiers):");
    for (int i = 0; i < sd_mem_ntiers; i++)
        fprintf(f, " %d %s", sd_mem_tiers_gb[i], sd_mem_fits(m->r.total, sd_mem_tiers_gb[i]) ? "yes" : "no");
    fprintf(f, "\n");
    if (!m->checked)
        return;
    fprintf(f, "\n| check | device | model | measured | within 10 %% |\n|---|---|---|---|---|\n");
    for (size_t i = 0; i < m->nchecks; i++) {
        char a[32], c[32];
        sd_fmt_gib(m->checks[i].model, a, sizeof a);
        sd_fmt_gib(m->checks[i].measured, c, sizeof c);
        fprintf(f, "| %s | %s | %s | %s | %s |\n", m->checks[i].what, m->checks[i].device, a, c,
                !m->checks[i].judged ? "not judged" : m->checks[i].ok ? "yes" : "**no**");
    }
}

void sd_mem_print(FILE *f, const struct sd_mem_summary *m, enum sd_format fmt)
{
    if (fmt == SD_FMT_JSON)
        print_json(f, m);
    else if (fmt == SD_FMT_MD)
        print_md(f, m);
    else
        print_text(f, m);
}
