/* fault.h — fault injection for tests (issue: "never crash, never lose a result").
 *
 * SDMARK_FAULT="alloc=N,build=N,enqueue=N,write=N" makes the Nth device allocation, the Nth kernel
 * build, the Nth kernel enqueue, or the Nth results-file write (counted per process, from 1) fail
 * as the real failure would: backends call sd_fault_hit() at those points and take their normal
 * error path (alloc -> SD_OOM, build/enqueue -> SD_ERROR); the results writer treats a write hit
 * as an unwritable directory (EACCES). Unset: zero cost beyond one branch.
 *
 * SDMARK_FAULT="timer=zero|coarse|scaled|fast" makes the device timer lie the way broken drivers do, for
 * every backend (the harness applies it to each time run() reports, src/core/row_phases.c):
 * zero = every run reads 0 ms; coarse = the clock ticks every SD_FAULT_COARSE_MS (a run reads a
 * whole number of ticks); scaled = every run reads SD_FAULT_SCALE x its time; fast = every run reads
 * 1/SD_FAULT_SCALE^3 of its time. The harness's timer cross-check (or, for fast runs of short calls,
 * the plausibility bound) must catch each (docs/measurement.md). */
#ifndef SDMARK_FAULT_H
#define SDMARK_FAULT_H

enum sd_fault_kind { SD_FAULT_ALLOC, SD_FAULT_BUILD, SD_FAULT_ENQUEUE, SD_FAULT_WRITE, SD_FAULT_KIND_COUNT };

enum sd_fault_timer {
    SD_FAULT_TIMER_HONEST, SD_FAULT_TIMER_ZERO, SD_FAULT_TIMER_COARSE, SD_FAULT_TIMER_SCALED, SD_FAULT_TIMER_FAST
};
#define SD_FAULT_COARSE_MS 4.0
#define SD_FAULT_SCALE 10.0

/* The timer lie configured, SD_FAULT_TIMER_HONEST when none. */
enum sd_fault_timer sd_fault_timer(void);
/* A time `ms` the backend reported for a run that the host saw start at t0_s (sd_now_s()), as the
 * configured lying timer would report it. Unchanged when no lie is configured. */
double sd_fault_timer_ms(double ms, double t0_s);

/* Returns 1 when this call is the one configured to fail. */
int sd_fault_hit(enum sd_fault_kind kind);
/* Re-read SDMARK_FAULT and reset the counters (tests). */
void sd_fault_reset(void);

#endif
