/* A stand-in libnvidia-ml.so.1 for tests: the few NVML entry points rdic-ops calls, answering as one
 * GPU. pynvml loads it with ctypes (found first on LD_LIBRARY_PATH) and resolves each function by name.
 * FAKE_NVML_NAME, FAKE_NVML_TOTAL_MB and FAKE_NVML_USED_MB describe the GPU (default: the first seed's
 * RTX 3060 Laptop, 6 GB, 0.4 GB held by the Windows desktop). Build: gcc -shared -fPIC -o libnvidia-ml.so.1 */
#include <stdlib.h>
#include <string.h>

typedef struct { unsigned long long total, free, used; } nvmlMemory_t;
typedef void *nvmlDevice_t;
static int device_token;

static unsigned long long mb_env(const char *name, unsigned long long dflt) {
    const char *v = getenv(name);
    return (v && *v) ? strtoull(v, NULL, 10) : dflt;
}

static int copy_out(char *dst, unsigned int len, const char *src) {
    if (len <= strlen(src)) return 7; /* NVML_ERROR_INSUFFICIENT_SIZE */
    strcpy(dst, src);
    return 0;
}

int nvmlInitWithFlags(unsigned int flags) { (void)flags; return 0; }
int nvmlInit_v2(void) { return 0; }
int nvmlShutdown(void) { return 0; }
const char *nvmlErrorString(int result) { return result ? "fake NVML error" : "Success"; }
int nvmlSystemGetDriverVersion(char *version, unsigned int length) { return copy_out(version, length, "560.94"); }
int nvmlDeviceGetCount_v2(unsigned int *count) { *count = 1; return 0; }

int nvmlDeviceGetHandleByIndex_v2(unsigned int index, nvmlDevice_t *device) {
    if (index != 0) return 2; /* NVML_ERROR_INVALID_ARGUMENT */
    *device = &device_token;
    return 0;
}

int nvmlDeviceGetName(nvmlDevice_t device, char *name, unsigned int length) {
    const char *n = getenv("FAKE_NVML_NAME");
    (void)device;
    return copy_out(name, length, (n && *n) ? n : "NVIDIA GeForce RTX 3060 Laptop GPU");
}

int nvmlDeviceGetMemoryInfo(nvmlDevice_t device, nvmlMemory_t *memory) {
    unsigned long long mb = 1024ULL * 1024ULL;
    (void)device;
    memory->total = mb_env("FAKE_NVML_TOTAL_MB", 6144) * mb;
    memory->used = mb_env("FAKE_NVML_USED_MB", 410) * mb;
    memory->free = memory->total - memory->used;
    return 0;
}
