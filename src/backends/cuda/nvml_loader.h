/* nvml_loader.h — NVML through dlopen (no build dependency): clocks, temperature and throttle
 * reasons sampled by a background thread while a row runs; power from the total-energy counter
 * over the row (nvmlDeviceGetTotalEnergyConsumption, Volta+), because nvmlDeviceGetPowerUsage is
 * a one-second average on Ampere and newer and would give a short row its predecessor's power.
 * Only without the energy counter does the row fall back to the mean of the power readings.
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
/* Does the GPU report a throttle reason right now? 1 yes, 0 no, -1 unknown (n NULL, no call). */
int sd_nvml_throttled_now(struct sd_nvml *n);

/* Pure helpers (host-tested): a clock-event reason mask means throttling (SW power cap, HW
 * slowdown, SW/HW thermal, HW power brake; not idle, application clocks, sync boost, display);
 * mean power in W from two energy readings in mJ over dt_s seconds, -1 when the counter did not
 * advance (a row shorter than its update period) or went backwards (driver reload). */
int sd_nvml_reasons_throttled(unsigned long long reasons);
double sd_nvml_power_from_energy(unsigned long long e0_mj, unsigned long long e1_mj, double dt_s);

#endif
