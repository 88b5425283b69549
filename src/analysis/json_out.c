/* json_out.c — the one place analysis printers turn a cJSON tree into text (json_out.h). */
#include <math.h>
#include <stdlib.h>

#include "sdmark/json_out.h"

void sd_json_emit(FILE *f, cJSON *j)
{
    char *s = cJSON_Print(j);
    if (s)
        fprintf(f, "%s\n", s);
    free(s);
    cJSON_Delete(j);
}

void sd_json_num(cJSON *o, const char *key, double v)
{
    if (isfinite(v))
        cJSON_AddNumberToObject(o, key, v);
    else
        cJSON_AddNullToObject(o, key);
}
