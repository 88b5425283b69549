/* nvml_fake.c — a stand-in libnvidia-ml for the cuda backend's host tests (SDMARK_NVML_LIB points
 * at it). The energy counter advances at 250 W of wall time while nvmlDeviceGetPowerUsage
 * reports a stale 999 W (a one-second average from an earlier row): a loader that reports
 * 250 W reads the energy counter. The clock-event reasons come from SDMARK_FAKE_NVML_REASONS. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

int nvmlInit_v2(void) { return 0; }
int nvmlShutdown(void) { return 0; }
int nvmlDeviceGetHandleByPciBusId_v2(const char *bus, void **dev)
{
    *dev = (void *)0x1;
    return strcmp(bus, "0000:00:00.0") == 0 ? 0 : 13; /* NVML_ERROR_NOT_FOUND */
}
int nvmlDeviceGetTotalEnergyConsumption(void *dev, unsigned long long *mj)
{
    *mj = 5000000ull + (unsigned long long)(now_s() * 250.0 * 1000.0);
    return 0;
}
int nvmlDeviceGetPowerUsage(void *dev, unsigned *mw)
{
    *mw = 999000;
    return 0;
}
int nvmlDeviceGetClockInfo(void *dev, int type, unsigned *mhz)
{
    *mhz = 1980;
    return 0;
}
int nvmlDeviceGetTemperature(void *dev, int sensor, unsigned *c)
{
    *c = 55;
    return 0;
}
int nvmlDeviceGetCurrentClocksEventReasons(void *dev, unsigned long long *r)
{
    const char *e = getenv("SDMARK_FAKE_NVML_REASONS");
    *r = e ? strtoull(e, NULL, 0) : 0;
    return 0;
}
int nvmlSystemGetDriverVersion(char *buf, unsigned len)
{
    strncpy(buf, "580.00.fake", len);
    return 0;
}
