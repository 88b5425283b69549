/* registry.c — the backends compiled into this binary, in default-preference order:
 * a GPU backend first (cuda), then opencl (GPU or the CPU through PoCL), then cpu (OpenBLAS). */
#include <string.h>
#include "sdmark/backend.h"

#ifdef SDMARK_WITH_CUDA
extern const struct sd_backend_ops sd_backend_cuda;
#endif
#ifdef SDMARK_WITH_OPENCL
extern const struct sd_backend_ops sd_backend_opencl;
#endif
#ifdef SDMARK_WITH_CPU
extern const struct sd_backend_ops sd_backend_cpu;
#endif

const struct sd_backend_ops *const sd_backends[] = {
#ifdef SDMARK_WITH_CUDA
    &sd_backend_cuda,
#endif
#ifdef SDMARK_WITH_OPENCL
    &sd_backend_opencl,
#endif
#ifdef SDMARK_WITH_CPU
    &sd_backend_cpu,
#endif
    NULL,
};

const struct sd_backend_ops *sd_backend_find(const char *name)
{
    for (int i = 0; sd_backends[i]; i++)
        if (strcmp(sd_backends[i]->name, name) == 0)
            return sd_backends[i];
    return NULL;
}
