/* status.h — outcome of every step of a row. Failures are rows, never crashes. */
#ifndef SDMARK_STATUS_H
#define SDMARK_STATUS_H

enum sd_status {
    SD_OK = 0,
    SD_OOM,          /* an allocation failed: the shape does not fit this device */
    SD_UNSUPPORTED,  /* this backend/impl/dtype cannot run it (e.g. no cl_khr_fp16) */
    SD_WRONG,        /* ran, but the output failed verification */
    SD_ERROR,        /* driver/runtime failure; the reason says which call */
    SD_STATUS_COUNT
};

const char *sd_status_name(enum sd_status s);
int sd_status_parse(const char *s, enum sd_status *out); /* 0 on success */

#endif
