/* memtrack.h — the one memory tracker every backend uses for the bytes a row holds on its device
 * (inputs x rotation sets, output, workspaces, score matrices, library workspaces), so
 * mem_stats() reports the same thing the same way on cuda, opencl and cpu.
 *
 * Two ways to feed it, both updating current/peak:
 *   - sd_memtrack_add/remove: one record per allocation (pointer, bytes, what) — the backend can
 *     free by pointer and ask how many bytes a kind of buffer holds ("cublas workspace");
 *   - sd_memtrack_count: a signed byte delta, for backends that keep the size themselves (cpu's
 *     allocation header, OpenCL's buffers and library-internal estimates).
 * Not thread-safe: a backend context is driven by one thread.
 */
#ifndef SDMARK_MEMTRACK_H
#define SDMARK_MEMTRACK_H

#include <stddef.h>
#include <stdint.h>

#include "sdmark/backend.h"

struct sd_memtrack_rec {
    void *ptr;
    uint64_t bytes;
    const char *what;          /* static string: "input", "output", "cublas workspace", ... */
};

struct sd_memtrack {
    uint64_t current;          /* bytes alive now */
    uint64_t peak;             /* most bytes alive at once since the last reset_peak */
    struct sd_memtrack_rec *rec;
    size_t n, cap;
};

/* Add (delta > 0) or remove (delta < 0) bytes without a record; current never goes below 0. */
void sd_memtrack_count(struct sd_memtrack *t, int64_t delta);
/* Record an allocation: 0, or -1 if the host is out of memory (nothing recorded or counted). */
int sd_memtrack_add(struct sd_memtrack *t, void *ptr, uint64_t bytes, const char *what);
/* Forget a recorded allocation; returns its size (0 if ptr was not recorded). */
uint64_t sd_memtrack_remove(struct sd_memtrack *t, void *ptr);
/* Pointer of the most recent record still alive (NULL if none): lets a context free leftovers. */
void *sd_memtrack_last(const struct sd_memtrack *t);
void sd_memtrack_reset_peak(struct sd_memtrack *t);
/* Bytes recorded for allocations whose `what` equals the given string. */
uint64_t sd_memtrack_bytes_of(const struct sd_memtrack *t, const char *what);
/* current/peak into a mem_stats record (device_free/device_total are left to the backend). */
void sd_memtrack_stats(const struct sd_memtrack *t, struct sd_mem_stats *out);
void sd_memtrack_destroy(struct sd_memtrack *t);

#endif
