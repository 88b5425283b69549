/* memtrack.c — the tracked-allocation bookkeeping shared by every backend (see memtrack.h). */
#include <stdlib.h>
#include <string.h>

#include "sdmark/memtrack.h"

void sd_memtrack_count(struct sd_memtrack *t, int64_t delta)
{
    if (delta < 0 && (uint64_t)(-delta) > t->current)
        t->current = 0; /* a size the backend estimated (library internals) may come back larger */
    else
        t->current += (uint64_t)delta;
    if (t->current > t->peak)
        t->peak = t->current;
}

int sd_memtrack_add(struct sd_memtrack *t, void *ptr, uint64_t bytes, const char *what)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 32;
        struct sd_memtrack_rec *r = realloc(t->rec, cap * sizeof(*r));
        if (!r)
            return -1;
        t->rec = r;
        t->cap = cap;
    }
    t->rec[t->n++] = (struct sd_memtrack_rec){ptr, bytes, what ? what : "?"};
    sd_memtrack_count(t, (int64_t)bytes);
    return 0;
}

uint64_t sd_memtrack_remove(struct sd_memtrack *t, void *ptr)
{
    for (size_t i = 0; i < t->n; i++)
        if (t->rec[i].ptr == ptr) {
            uint64_t b = t->rec[i].bytes;
            t->rec[i] = t->rec[--t->n];
            sd_memtrack_count(t, -(int64_t)b);
            return b;
        }
    return 0;
}

void *sd_memtrack_last(const struct sd_memtrack *t) { return t->n ? t->rec[t->n - 1].ptr : NULL; }

void sd_memtrack_reset_peak(struct sd_memtrack *t) { t->peak = t->current; }

uint64_t sd_memtrack_bytes_of(const struct sd_memtrack *t, const char *what)
{
    uint64_t s = 0;
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->rec[i].what, what) == 0)
            s += t->rec[i].bytes;
    return s;
}

void sd_memtrack_stats(const struct sd_memtrack *t, struct sd_mem_stats *out)
{
    out->current_bytes = t->current;
    out->peak_bytes = t->peak;
}

void sd_memtrack_destroy(struct sd_memtrack *t)
{
    free(t->rec);
    memset(t, 0, sizeof(*t));
}
