/* compare.h — compare result sets (files or directories): rows matched by workload, ratios,
 * noise-aware verdicts and regressions beyond a threshold (for CI).
 * Compute: src/analysis/compare.c; print (text, JSON, markdown): src/analysis/compare_print.c.
 * Reads result files only, never a backend. */
#ifndef SDMARK_COMPARE_H
#define SDMARK_COMPARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include "sdmark/result_set.h"
#include "sdmark/text_util.h"
#include "sdmark/workload.h"

enum sd_cmp_verdict { SD_CMP_FASTER, SD_CMP_SLOWER, SD_CMP_SAME };
const char *sd_cmp_verdict_name(enum sd_cmp_verdict v);
/* Verdict for B against A (times in ms, relative noises as stdev/mean, NaN = unknown):
 * same when |tB/tA - 1| <= threshold, threshold = max(2*sqrt(nA^2 + nB^2), 0.01), and 0.05
 * when either noise is unknown. Returns the threshold used via *thr if non-NULL. */
enum sd_cmp_verdict sd_cmp_verdict(double ta, double na, double tb, double nb, double *thr);
double sd_geomean(const double *x, size_t n);

/* How rows are matched: by workload (suite, op, label, dtype, acc, shape; the fastest usable impl
 * on each side, so cpu vs OpenCL rows meet), or by backend, workload and impl. */
enum sd_cmp_key { SD_CMP_BY_WORKLOAD, SD_CMP_BY_IMPL };
struct sd_cmp_opts {
    enum sd_cmp_key key;
    double threshold;       /* regression: slower beyond the noise AND by more than this fraction */
};

struct sd_cmp_row {
    char key[400];
    enum sd_op op;
    char label[SD_NAME_LEN], dtype[8], shape[160], impl_a[32], impl_b[32];
    double ta, tb, speedup, noise_thr;   /* speedup = ta / tb */
    enum sd_cmp_verdict verdict;
    bool regression;
};
struct sd_cmp_failed {
    char key[400];
    char a[200], b[200];                 /* "ok" or the status and reason on each side */
};
struct sd_cmp_pair {
    char baseline[1024], file[1024];     /* the inputs as given */
    char dev_a[256], dev_b[256];         /* device(s) on each side */
    struct sd_cmp_row *rows;
    size_t nrows;
    char (*only_a)[400], (*only_b)[400];
    size_t nonly_a, nonly_b;
    struct sd_cmp_failed *failed;
    size_t nfailed;
    size_t nduplicates;                  /* by-impl mode: same key twice on one side (first kept) */
    double geomean[SD_OP_COUNT + 1];     /* [SD_OP_COUNT] = overall; NaN when no row */
    size_t ngeo[SD_OP_COUNT + 1];
    int counts[3];                       /* per sd_cmp_verdict */
    size_t nregressions;
};

/* One row per key of a set (or of device `dev` only, -1 = all): by workload the fastest usable
 * row (else the first), by impl the first with duplicates counted. calloc'd into *out. */
struct sd_cmp_keyed {
    char key[400];
    const struct sd_result *r;
    bool matched;
};
size_t sd_cmp_index(const struct sd_rset *s, int dev, enum sd_cmp_key k, struct sd_cmp_keyed **out, size_t *ndup);

/* Compare side B against the baseline A (each a loaded set of one or more files). */
int sd_compare_sets(const struct sd_rset *a, const char *name_a, const struct sd_rset *b, const char *name_b,
                    const struct sd_cmp_opts *o, struct sd_cmp_pair *out, char *err, size_t errlen);
void sd_cmp_pair_free(struct sd_cmp_pair *p);
/* Render n comparisons (all against one baseline) as text, JSON or markdown. */
void sd_compare_print(FILE *f, const struct sd_cmp_pair *p, size_t n, const struct sd_cmp_opts *o,
                      enum sd_format fmt);

/* Fleets (compare_fleet.c): devices of one backend and name on several hosts are nodes of one
 * fleet. Per workload the fleet median of the nodes' fastest usable times; per node the geometric
 * mean of its time / median, and the rows slower than the median by more than the threshold. A
 * node is an OUTLIER when its geometric mean is slower than the fleet by more than the threshold
 * (SuperBench's habit: every node against the fleet, not against the best). */
struct sd_fleet_node {
    char device[256];          /* backend:name@host */
    size_t rows;               /* workloads shared with at least one other node */
    double ratio;              /* geomean of time / fleet median (> 1 = slower) */
    size_t slow_rows;          /* rows slower than the median by more than the threshold */
    char worst[400];           /* key of its slowest row against the median */
    double worst_ratio;
    bool outlier;
};
struct sd_fleet_group {
    char name[200];            /* backend:name */
    struct sd_fleet_node *nodes;
    size_t n;
};
struct sd_fleet {
    struct sd_fleet_group *g;
    size_t ng;
    double threshold;
    size_t noutliers;
};
int sd_fleet_compare(const struct sd_rset *s, double threshold, struct sd_fleet *out, char *err, size_t errlen);
void sd_fleet_free(struct sd_fleet *f);
void sd_fleet_print(FILE *f, const struct sd_fleet *fl, enum sd_format fmt);

#endif
