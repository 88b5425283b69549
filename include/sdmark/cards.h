/* cards.h — bench/cards.csv spec sheets: load, match a driver device name to a card, peak per dtype.
 * Implementation: src/analysis/cards.c. Reads result files and suites only, never a backend. */
#ifndef SDMARK_CARDS_H
#define SDMARK_CARDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "sdmark/workload.h"

/* One row of bench/cards.csv: dense peaks (TFLOP/s, NaN = not available on that card). */
struct sd_card {
    char name[48];        /* "RTX 4090" — matched case-insensitively */
    char vendor[16];      /* nvidia | amd | intel */
    char arch[24];        /* "Ada", "Ampere", "Hopper", ... */
    char sm[8];           /* "8.9" or "" */
    double fp32, tf32, fp16, fp16_f32acc, bf16;
    double mem_gb;        /* marketed memory, GB (binary: an "8 GB" card has 8 GiB) */
    double bw_gbs;        /* memory bandwidth, GB/s (decimal) */
    double msrp_usd;      /* NaN = no launch price */
    char match[160];      /* ';'-separated substrings of driver device names that are this card */
    char source[160];
    char date[16];
};

struct sd_cards {
    struct sd_card *v;
    size_t n;
    char path[512];
};

/* Path of cards.csv in the bench folder (sd_bench_path, bench_dir.h); "bench/cards.csv" when
 * none has it. */
void sd_cards_default_path(char *buf, size_t len);
/* Load cards.csv (RFC 4180 quoting). Errors name file:line. */
int sd_cards_load(const char *path, struct sd_cards *out, char *err, size_t errlen);
void sd_cards_free(struct sd_cards *c);
/* Exact name, case-insensitive, runs of spaces/'-'/'_' treated as one space. NULL if none. */
const struct sd_card *sd_cards_find(const struct sd_cards *c, const char *name);
/* --card NAME: the card of that name, else the one card whose `match` column lists NAME (both
 * case-insensitive: "rtx 3060" -> "RTX 3060 12GB"). NULL when none or several match; then `close`
 * gets the candidates as "'A', 'B'": the several, else names sharing a word with NAME, else the
 * nearest few by edit distance, else all. */
const struct sd_card *sd_cards_lookup(const struct sd_cards *c, const char *name, char *close, size_t len);
/* The card a driver device name belongs to (longest `match` substring wins). NULL if none. */
const struct sd_card *sd_cards_match_device(const struct sd_cards *c, const char *device_name,
                                           uint64_t mem_bytes);
/* Peak TFLOP/s for a storage dtype + accumulate type (fp16/fp16 -> fp16 column, fp16/fp32 ->
 * fp16_f32acc, bf16 -> bf16, tf32 -> tf32, fp32 -> fp32). NaN when the card has no such path. */
double sd_card_peak_tflops(const struct sd_card *card, enum sd_dtype dtype, enum sd_dtype acc);
/* Case-insensitive equality with the normalisation of sd_cards_find. */
bool sd_name_eq(const char *a, const char *b);

#endif
