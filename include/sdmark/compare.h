/* compare.h — compare result files: rows matched by workload, ratios, noise-aware verdicts.
 * Implementation: src/analysis/compare.c. Reads result files and suites only, never a backend. */
#ifndef SDMARK_COMPARE_H
#define SDMARK_COMPARE_H

#include <stddef.h>
#include <stdio.h>

enum sd_cmp_verdict { SD_CMP_FASTER, SD_CMP_SLOWER, SD_CMP_SAME };
const char *sd_cmp_verdict_name(enum sd_cmp_verdict v);
/* Verdict for B against A (times in ms, relative noises as stdev/mean, NaN = unknown):
 * same when |tB/tA - 1| <= threshold, threshold = max(2*sqrt(nA^2 + nB^2), 0.01), and 0.05
 * when either noise is unknown. Returns the threshold used via *thr if non-NULL. */
enum sd_cmp_verdict sd_cmp_verdict(double ta, double na, double tb, double nb, double *thr);
double sd_geomean(const double *x, size_t n);
/* Compare files[1..n-1] against files[0] (the baseline) and print the result: format "text",
 * "json" or "md". Returns 0, or -1 with a message naming the file. */
int sd_compare_files(FILE *out, const char *const *files, int n, const char *format, char *err, size_t errlen);

#endif
