/* fault.h — fault injection for tests (issue: "never crash, never lose a result").
 *
 * SDMARK_FAULT="alloc=N,build=N,enqueue=N,write=N" makes the Nth device allocation, the Nth kernel
 * build, the Nth kernel enqueue, or the Nth results-file write (counted per process, from 1) fail
 * as the real failure would: backends call sd_fault_hit() at those points and take their normal
 * error path (alloc -> SD_OOM, build/enqueue -> SD_ERROR); the results writer treats a write hit
 * as an unwritable directory (EACCES). Unset: zero cost beyond one branch. */
#ifndef SDMARK_FAULT_H
#define SDMARK_FAULT_H

enum sd_fault_kind { SD_FAULT_ALLOC, SD_FAULT_BUILD, SD_FAULT_ENQUEUE, SD_FAULT_WRITE, SD_FAULT_KIND_COUNT };

/* Returns 1 when this call is the one configured to fail. */
int sd_fault_hit(enum sd_fault_kind kind);
/* Re-read SDMARK_FAULT and reset the counters (tests). */
void sd_fault_reset(void);

#endif
