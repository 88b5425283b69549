/* nvml_loader.h — NVML through dlopen (no build dependency): clocks, temperature, power and
 * throttle reasons sampled by a background thread while a row runs.
 * The library path is "libnvidia-ml.so.1" unless the environment variable SDMARK_NVML_LIB names
 * another one (tests point it at a missing file). Without the library everything reports
 * "not available" (sd_env fields < 0). */
#ifndef SDMARK_CUDA_NVML_LOADER_H
#define SDMARK_CUDA_NVML_LOADER_H

#include <stddef.h>
#include "sdmark/backend.h"

struct sd_nvml;

/* Load NVML and find the device with this PCI bus id ("0000:65:00.0", from
 * cudaDeviceGetPCIBusId). Returns NULL with a reason ("not available: ...") on any failure. */
struct sd_nvml *sd_nvml_open(const char *pci_bus_id, char *why, size_t len);
void sd_nvml_close(struct sd_nvml *n);
/* Driver version string ("580.65.06"); 0 on success. */
int sd_nvml_driver_version(struct sd_nvml *n, char *buf, size_t len);
/* Start sampling every period_ms (n may be NULL: no-op). */
void sd_nvml_begin(struct sd_nvml *n, int period_ms);
/* Stop sampling and summarise into out; with n == NULL (or no samples) every field is -1. */
void sd_nvml_end(struct sd_nvml *n, struct sd_env *out);

#endif
