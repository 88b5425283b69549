/* result_set.h — result sets: rows of many result files with the devices they came from, matched to cards.
 * Implementation: src/analysis/result_set.c. Reads result files and suites only, never a backend. */
#ifndef SDMARK_RESULT_SET_H
#define SDMARK_RESULT_SET_H

#include <stdbool.h>
#include <stddef.h>
#include "sdmark/result.h"
#include "sdmark/cards.h"

/* A device seen in result files: (host, backend, device name). The host is part of the key: two
 * nodes of a fleet with the same card are two devices, never merged. */
struct sd_device_ref {
    char host[64];
    char backend[16];
    char name[128];
    char arch[64];
    char kind[8];                 /* device_kind column: cpu | gpu | other, "" in schema-1 files */
    bool shared_name;             /* another host has a device of this backend and name */
    const struct sd_card *card;   /* matched spec row, or NULL (CPUs, unknown GPUs) */
};

struct sd_rset {
    struct sd_result *rows;
    size_t n;
    size_t *file_of;              /* index into files[] per row */
    int *line_of;                 /* line of the row in its file (CSV), 0 for JSON */
    char **files;
    size_t nfiles;
    struct sd_device_ref *dev;
    size_t ndev;
    int *dev_of;                  /* device index per row */
};

/* Add one results file, or every *.csv in a directory (sorted). Errors name the file. */
int sd_rset_add(struct sd_rset *s, const char *path, char *err, size_t errlen);
/* Match devices to cards (call after adding; cards may be NULL). */
void sd_rset_index(struct sd_rset *s, const struct sd_cards *cards);
void sd_rset_free(struct sd_rset *s);
/* "cuda:NVIDIA GeForce RTX 4090" style display name, with "@host" when another host in the set
 * has a device of the same name. */
void sd_device_display(const struct sd_device_ref *d, char *buf, size_t len);
bool sd_device_is_gpu(const struct sd_device_ref *d);
/* A row is usable as a time: status ok, verify not 'fail', finite positive median. */
bool sd_row_usable(const struct sd_result *r);

#endif
