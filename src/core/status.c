/* status.c — names of row statuses and device kinds as they appear in result files. */
#include <string.h>
#include "sdmark/backend.h"
#include "sdmark/status.h"

static const char *const names[SD_STATUS_COUNT] = {
    [SD_OK] = "ok", [SD_OOM] = "oom", [SD_UNSUPPORTED] = "unsupported",
    [SD_WRONG] = "wrong", [SD_ERROR] = "error",
};

const char *sd_status_name(enum sd_status s)
{
    return (s >= 0 && s < SD_STATUS_COUNT) ? names[s] : "error";
}

int sd_status_parse(const char *s, enum sd_status *out)
{
    for (int i = 0; i < SD_STATUS_COUNT; i++)
        if (strcmp(s, names[i]) == 0) {
            *out = (enum sd_status)i;
            return 0;
        }
    return -1;
}

/* Declared in backend.h; it lives here with the other names that appear in result files. */
const char *sd_device_kind_name(enum sd_device_kind k)
{
    return k == SD_DEVICE_CPU ? "cpu" : k == SD_DEVICE_GPU ? "gpu" : "other";
}
