/* fault.c — counters behind SDMARK_FAULT (see fault.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdmark/fault.h"

static const char *const names[SD_FAULT_KIND_COUNT] = {"alloc", "build", "enqueue", "write"};
static long target[SD_FAULT_KIND_COUNT];
static long count[SD_FAULT_KIND_COUNT];
static int loaded;
static enum sd_fault_timer timer_lie;

static enum sd_fault_timer parse_timer(const char *v)
{
    return !strcmp(v, "zero") ? SD_FAULT_TIMER_ZERO : !strcmp(v, "coarse") ? SD_FAULT_TIMER_COARSE
                                                   : !strcmp(v, "scaled") ? SD_FAULT_TIMER_SCALED
                                                   : !strcmp(v, "fast")   ? SD_FAULT_TIMER_FAST
                                                                          : SD_FAULT_TIMER_HONEST;
}

void sd_fault_reset(void)
{
    memset(target, 0, sizeof target);
    memset(count, 0, sizeof count);
    timer_lie = SD_FAULT_TIMER_HONEST;
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
        if (!strcmp(t, "timer"))
            timer_lie = parse_timer(eq + 1);
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

enum sd_fault_timer sd_fault_timer(void)
{
    if (!loaded)
        sd_fault_reset();
    return timer_lie;
}

double sd_fault_timer_ms(double ms, double t0_s)
{
    switch (sd_fault_timer()) {
    case SD_FAULT_TIMER_ZERO:
        return 0;
    case SD_FAULT_TIMER_SCALED:
        return ms * SD_FAULT_SCALE;
    case SD_FAULT_TIMER_FAST:
        return ms / (SD_FAULT_SCALE * SD_FAULT_SCALE * SD_FAULT_SCALE);
    case SD_FAULT_TIMER_COARSE: { /* ticks of a clock with an unknown phase: the host start time */
        double q = SD_FAULT_COARSE_MS, t0 = t0_s * 1e3;
        return (floor((t0 + ms) / q) - floor(t0 / q)) * q;
    }
    default:
        return ms;
    }
}
