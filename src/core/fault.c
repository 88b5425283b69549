/* fault.c — counters behind SDMARK_FAULT (see fault.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdmark/fault.h"

static const char *const names[SD_FAULT_KIND_COUNT] = {"alloc", "build", "enqueue", "write"};
static long target[SD_FAULT_KIND_COUNT];
static long count[SD_FAULT_KIND_COUNT];
static int loaded;

void sd_fault_reset(void)
{
    memset(target, 0, sizeof target);
    memset(count, 0, sizeof count);
    loaded = 1;
    const char *env = getenv("SDMARK_FAULT");
    if (!env || !*env)
        return;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", env);
    char *save = NULL;
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(t, '=');
        if (!eq)
            continue;
        *eq = 0;
        for (int k = 0; k < SD_FAULT_KIND_COUNT; k++)
            if (!strcmp(t, names[k]))
                target[k] = strtol(eq + 1, NULL, 10);
    }
}

int sd_fault_hit(enum sd_fault_kind kind)
{
    if (!loaded)
        sd_fault_reset();
    if (kind < 0 || kind >= SD_FAULT_KIND_COUNT || target[kind] <= 0)
        return 0;
    return ++count[kind] == target[kind];
}
