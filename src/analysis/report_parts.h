/* report_parts.h — the pieces of the HTML / markdown report, private to src/analysis/report*.c:
 * report.c (document and tables), report_svg.c (charts), report_head.c (headline, provenance). */
#ifndef SDMARK_REPORT_PARTS_H
#define SDMARK_REPORT_PARTS_H

#include <stdbool.h>
#include <stdio.h>
#include "sdmark/cards.h"
#include "sdmark/result_set.h"
#include "sdmark/workload.h"

#define SD_REPORT_NCOLORS 10
extern const char *const sd_report_palette[SD_REPORT_NCOLORS];

/* Throughput bars of one op in one suite, one bar per device, value labels, log axis. */
void sd_report_bars(FILE *f, const struct sd_rset *s, enum sd_op op, const char *suite);
/* Suites with usable rows of `op`, model suites first, "quick" last; returns how many (max n). */
size_t sd_report_suites(const struct sd_rset *s, enum sd_op op, char names[][SD_NAME_LEN], size_t n);
/* One bar of the it/s chart: a measured device or a projected card. */
struct sd_it_bar {
    const char *name;
    double its;
    bool projected;
    double coverage; /* FLOP fraction measured: below 1 the value misses work and says so */
};
/* Horizontal bars of SD 1.5 it/s per device or card, measured solid, projected light + dashed. */
void sd_report_it_chart(FILE *f, const struct sd_it_bar *bars, size_t n);
/* Roofline: measured points, roofs from the spec sheet or, without one, from the measured best
 * GEMM and bandwidth probe. */
void sd_report_roofline(FILE *f, const struct sd_rset *s);
/* The first screen: per measured device SD 1.5 / SDXL it/s and seconds per image, ratio to the
 * fastest CPU, measured or projected. */
void sd_report_headline(FILE *f, const struct sd_rset *s, const struct sd_cards *cards, int md);
/* Where the numbers come from: dates, hosts, versions, drivers, commits, files. */
void sd_report_provenance(FILE *f, const struct sd_rset *s, int md);

#endif
