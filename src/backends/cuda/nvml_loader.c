/* nvml_loader.c — NVML via dlopen, and the sampling thread behind env_begin/env_end. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nvml_loader.h"

/* Minimal NVML ABI (stable since NVML 5): opaque handles, int return codes (0 = success). */
typedef int nvml_ret;
typedef void *nvml_dev;
#define NVML_SUCCESS 0
#define NVML_CLOCK_SM 1
#define NVML_TEMPERATURE_GPU 0
/* Throttle (clock event) reasons that mean "the GPU slowed itself down": SW power cap (0x4),
 * HW slowdown (0x8), SW thermal (0x20), HW thermal (0x40), HW power brake (0x80). Idle (0x1),
 * application clocks (0x2), sync boost (0x10) and display clocks (0x100) are not throttling. */
#define SD_NVML_THROTTLE_MASK 0xECull

struct sd_nvml {
    void *lib;
    nvml_dev dev;
    nvml_ret (*shutdown)(void);
    nvml_ret (*clock)(nvml_dev, int, unsigned *);
    nvml_ret (*temp)(nvml_dev, int, unsigned *);
    nvml_ret (*power)(nvml_dev, unsigned *);
    nvml_ret (*reasons)(nvml_dev, unsigned long long *);
    nvml_ret (*energy)(nvml_dev, unsigned long long *); /* mJ since the driver loaded */
    nvml_ret (*driver_version)(char *, unsigned);

    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int running, stop, period_ms;
    /* accumulated while running */
    double clock_sum, power_sum, temp_max;
    long clock_n, power_n;
    int throttled, reasons_ok;
    unsigned long long energy0;  /* mJ at begin */
    double t0;                   /* CLOCK_MONOTONIC s at begin */
    int energy_ok;
};

int sd_nvml_reasons_throttled(unsigned long long reasons)
{
    return (reasons & SD_NVML_THROTTLE_MASK) != 0;
}

double sd_nvml_power_from_energy(unsigned long long e0_mj, unsigned long long e1_mj, double dt_s)
{
    if (e1_mj <= e0_mj || !(dt_s > 0))
        return -1;
    return (double)(e1_mj - e0_mj) / 1000.0 / dt_s;
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

struct sd_nvml *sd_nvml_open(const char *pci_bus_id, char *why, size_t len)
{
    const char *path = getenv("SDMARK_NVML_LIB");
    if (!path || !*path)
        path = "libnvidia-ml.so.1";
    void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        const char *e = dlerror();
        snprintf(why, len, "not available: cannot load %s (%s)", path, e ? e : "dlopen failed");
        return NULL;
    }
    struct sd_nvml *n = calloc(1, sizeof(*n));
    if (!n) {
        dlclose(lib);
        snprintf(why, len, "not available: out of host memory");
        return NULL;
    }
    n->lib = lib;
    nvml_ret (*init)(void) = (nvml_ret(*)(void))dlsym(lib, "nvmlInit_v2");
    nvml_ret (*by_pci)(const char *, nvml_dev *) =
        (nvml_ret(*)(const char *, nvml_dev *))dlsym(lib, "nvmlDeviceGetHandleByPciBusId_v2");
    n->shutdown = (nvml_ret(*)(void))dlsym(lib, "nvmlShutdown");
    n->clock = (nvml_ret(*)(nvml_dev, int, unsigned *))dlsym(lib, "nvmlDeviceGetClockInfo");
    n->temp = (nvml_ret(*)(nvml_dev, int, unsigned *))dlsym(lib, "nvmlDeviceGetTemperature");
    n->power = (nvml_ret(*)(nvml_dev, unsigned *))dlsym(lib, "nvmlDeviceGetPowerUsage");
    n->reasons = (nvml_ret(*)(nvml_dev, unsigned long long *))dlsym(
        lib, "nvmlDeviceGetCurrentClocksEventReasons");
    if (!n->reasons)
        n->reasons = (nvml_ret(*)(nvml_dev, unsigned long long *))dlsym(
            lib, "nvmlDeviceGetCurrentClocksThrottleReasons");
    n->driver_version = (nvml_ret(*)(char *, unsigned))dlsym(lib, "nvmlSystemGetDriverVersion");
    n->energy = (nvml_ret(*)(nvml_dev, unsigned long long *))dlsym(
        lib, "nvmlDeviceGetTotalEnergyConsumption");
    if (!init || !by_pci || !n->shutdown) {
        snprintf(why, len, "not available: %s lacks nvmlInit_v2/nvmlDeviceGetHandleByPciBusId_v2",
                 path);
        dlclose(lib);
        free(n);
        return NULL;
    }
    nvml_ret r = init();
    if (r != NVML_SUCCESS) {
        snprintf(why, len, "not available: nvmlInit_v2 returned %d", r);
        dlclose(lib);
        free(n);
        return NULL;
    }
    r = by_pci(pci_bus_id, &n->dev);
    if (r != NVML_SUCCESS) {
        snprintf(why, len, "not available: no NVML device at PCI bus id %s (error %d)", pci_bus_id,
                 r);
        n->shutdown();
        dlclose(lib);
        free(n);
        return NULL;
    }
    pthread_mutex_init(&n->mu, NULL);
    pthread_cond_init(&n->cv, NULL);
    return n;
}

void sd_nvml_close(struct sd_nvml *n)
{
    if (!n)
        return;
    if (n->running) {
        struct sd_env tmp;
        sd_nvml_end(n, &tmp);
    }
    n->shutdown();
    dlclose(n->lib);
    pthread_mutex_destroy(&n->mu);
    pthread_cond_destroy(&n->cv);
    free(n);
}

int sd_nvml_driver_version(struct sd_nvml *n, char *buf, size_t len)
{
    if (!n || !n->driver_version || len == 0)
        return -1;
    char tmp[96] = {0};
    if (n->driver_version(tmp, sizeof(tmp)) != NVML_SUCCESS)
        return -1;
    snprintf(buf, len, "%s", tmp);
    return 0;
}

static void sample(struct sd_nvml *n)
{
    unsigned v;
    unsigned long long rs;
    if (n->clock && n->clock(n->dev, NVML_CLOCK_SM, &v) == NVML_SUCCESS) {
        n->clock_sum += v;
        n->clock_n++;
    }
    if (n->temp && n->temp(n->dev, NVML_TEMPERATURE_GPU, &v) == NVML_SUCCESS && v > n->temp_max)
        n->temp_max = v;
    if (n->power && n->power(n->dev, &v) == NVML_SUCCESS) { /* milliwatts */
        n->power_sum += v / 1000.0;
        n->power_n++;
    }
    if (n->reasons && n->reasons(n->dev, &rs) == NVML_SUCCESS) {
        n->reasons_ok = 1;
        if (sd_nvml_reasons_throttled(rs))
            n->throttled = 1;
    }
}

static void *sampler(void *arg)
{
    struct sd_nvml *n = arg;
    pthread_mutex_lock(&n->mu);
    while (!n->stop) {
        pthread_mutex_unlock(&n->mu);
        sample(n); /* only this thread touches the accumulators while running */
        pthread_mutex_lock(&n->mu);
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += (long)n->period_ms * 1000000L;
        ts.tv_sec += ts.tv_nsec / 1000000000L;
        ts.tv_nsec %= 1000000000L;
        while (!n->stop) {
            int rc = pthread_cond_timedwait(&n->cv, &n->mu, &ts);
            if (rc == ETIMEDOUT)
                break;
        }
    }
    pthread_mutex_unlock(&n->mu);
    return NULL;
}

void sd_nvml_begin(struct sd_nvml *n, int period_ms)
{
    if (!n || n->running)
        return;
    n->clock_sum = n->power_sum = 0;
    n->clock_n = n->power_n = 0;
    n->temp_max = -1;
    n->throttled = 0;
    n->reasons_ok = 0;
    n->stop = 0;
    n->period_ms = period_ms > 0 ? period_ms : 20;
    n->energy_ok = n->energy && n->energy(n->dev, &n->energy0) == NVML_SUCCESS;
    n->t0 = mono_s();
    if (pthread_create(&n->thread, NULL, sampler, n) == 0)
        n->running = 1;
}

void sd_nvml_end(struct sd_nvml *n, struct sd_env *out)
{
    out->clock_mhz_mean = -1;
    out->temp_c_max = -1;
    out->power_w_mean = -1;
    out->throttled = -1;
    if (!n || !n->running)
        return;
    pthread_mutex_lock(&n->mu);
    n->stop = 1;
    pthread_cond_signal(&n->cv);
    pthread_mutex_unlock(&n->mu);
    pthread_join(n->thread, NULL);
    n->running = 0;
    sample(n); /* at least one sample even for rows shorter than the period */
    if (n->clock_n)
        out->clock_mhz_mean = n->clock_sum / n->clock_n;
    if (n->temp_max >= 0)
        out->temp_c_max = n->temp_max;
    unsigned long long e1 = 0;
    if (n->energy_ok && n->energy(n->dev, &e1) == NVML_SUCCESS)
        out->power_w_mean = sd_nvml_power_from_energy(n->energy0, e1, mono_s() - n->t0);
    else if (n->power_n) /* no energy counter (pre-Volta): the mean of the 1 s averages */
        out->power_w_mean = n->power_sum / n->power_n;
    if (n->reasons_ok)
        out->throttled = n->throttled;
}

int sd_nvml_throttled_now(struct sd_nvml *n)
{
    unsigned long long rs = 0;
    if (!n || !n->reasons || n->reasons(n->dev, &rs) != NVML_SUCCESS)
        return -1;
    return sd_nvml_reasons_throttled(rs);
}
