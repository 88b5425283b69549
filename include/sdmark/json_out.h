/* json_out.h — write a cJSON tree the way every analysis printer does: pretty-printed, one
 * trailing newline, the tree freed (src/analysis/json_out.c). */
#ifndef SDMARK_JSON_OUT_H
#define SDMARK_JSON_OUT_H

#include <stdio.h>
#include <cJSON.h>

/* Print `j` to f and delete it. */
void sd_json_emit(FILE *f, cJSON *j);
/* A number, or null when not finite (JSON has no NaN). */
void sd_json_num(cJSON *o, const char *key, double v);

#endif
