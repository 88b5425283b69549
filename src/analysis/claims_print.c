/* claims_print.c — render claim verdicts (claims.c) as a text table + evidence, JSON (cJSON) or a
 * markdown table. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "sdmark/json_out.h"
#include "sdmark/claims.h"

static void print_json(FILE *f, const struct sd_claim_result *c)
{
    cJSON *arr = cJSON_CreateArray();
    for (int i = 0; i < SD_NCLAIMS; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "id", c[i].id);
        cJSON_AddStringToObject(o, "claim", c[i].claim);
        cJSON_AddStringToObject(o, "verdict", sd_verdict_name(c[i].verdict));
        cJSON *ev = cJSON_AddArrayToObject(o, "evidence");
        char *dup = strdup(c[i].evidence), *save = NULL;
        for (char *l = strtok_r(dup, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
            cJSON_AddItemToArray(ev, cJSON_CreateString(l));
        free(dup);
        cJSON_AddStringToObject(o, "basis", c[i].basis);
        cJSON_AddItemToArray(arr, o);
    }
    sd_json_emit(f, arr);
}

static void print_text(FILE *f, const struct sd_claim_result *c)
{
    fprintf(f, "%-3s  %-9s  %-40s  %s\n", "id", "verdict", "basis", "claim");
    for (int i = 0; i < SD_NCLAIMS; i++)
        fprintf(f, "%-3s  %-9s  %-40s  %s\n", c[i].id, sd_verdict_name(c[i].verdict), c[i].basis, c[i].claim);
    fprintf(f, "\nevidence:\n");
    for (int i = 0; i < SD_NCLAIMS; i++) {
        fprintf(f, "%s %s\n", c[i].id, sd_verdict_name(c[i].verdict));
        char *dup = strdup(c[i].evidence), *save = NULL;
        for (char *l = strtok_r(dup, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
            fprintf(f, "    %s\n", l);
        free(dup);
    }
}

static void print_md(FILE *f, const struct sd_claim_result *c)
{
    fprintf(f, "| id | verdict | basis | claim |\n|---|---|---|---|\n");
    for (int i = 0; i < SD_NCLAIMS; i++)
        fprintf(f, "| %s | **%s** | %s | %s |\n", c[i].id, sd_verdict_name(c[i].verdict), c[i].basis, c[i].claim);
}

void sd_claims_print(FILE *f, const struct sd_claim_result *c, enum sd_format fmt)
{
    if (fmt == SD_FMT_JSON)
        print_json(f, c);
    else if (fmt == SD_FMT_MD)
        print_md(f, c);
    else
        print_text(f, c);
}
