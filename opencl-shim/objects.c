/* Objects, ids, the one platform and the one device (the FPGA granted to
 * this instance), and the helpers every Get*Info call shares. */
#include <stdlib.h>
#include "shim.h"

static void *dispatch_table[128];  /* ICD layout; the guest calls us directly */

/* Released objects are kept a while before their memory serves a new one of
 * any kind, so a released handle used again is caught as invalid. */
#define QUARANTINE 256
static void *quarantine[QUARANTINE];
static unsigned quarantine_next;

void *shim_new(size_t size, uint32_t magic)
{
    struct shim_header *h = calloc(1, size);
    if (!h) return NULL;
    h->dispatch = dispatch_table;
    h->magic = magic;
    h->refs = 1;
    return h;
}

void shim_free(void *object)
{
    struct shim_header *h = object;
    h->magic = MAGIC_DEAD;
    void *old = quarantine[quarantine_next];
    quarantine[quarantine_next] = object;
    quarantine_next = (quarantine_next + 1) % QUARANTINE;
    free(old);
}

uintptr_t kumo_memory_end(void);

/* A handle is valid if it points into guest memory, aligned, at a live object
 * of the right kind: a stray pointer gets an error code, not a fault. */
int shim_valid(const void *object, uint32_t magic)
{
    uintptr_t at = (uintptr_t)object;
    if (at < 0x200000 || at % 8 || at + sizeof(struct shim_header) > kumo_memory_end()) return 0;
    return ((const struct shim_header *)object)->magic == magic && ((const struct shim_header *)object)->refs > 0;
}

uint32_t shim_next_id(int kind)
{
    static uint32_t next[ID_KINDS];
    if (next[kind] + 1 >= KUMO_FPGA_IDS_MAX) next[kind] = 0;  /* wraps after a million objects; old ids are long gone */
    return ++next[kind];
}

struct _cl_platform_id shim_platform = { { dispatch_table, MAGIC_PLATFORM, 1, 0, 0 } };
struct _cl_device_id shim_device = { { dispatch_table, MAGIC_DEVICE, 1, 0, 0 } };
struct kumo_fpga_info shim_info_data;

/* Asks the device model who it is, once. */
cl_int shim_init(void)
{
    static int state;  /* 0 unknown, 1 ready, 2 no FPGA */
    if (state) return state == 1 ? CL_SUCCESS : CL_PLATFORM_NOT_FOUND_KHR;
    struct kumo_fpga_cmd *cmd;
    struct kumo_fpga_query *q = shim_command(KUMO_FPGA_INFO, sizeof *q, 0, 0, NULL, 0, &cmd);
    if (!q) return CL_OUT_OF_HOST_MEMORY;
    q->reply = (uint64_t)(uintptr_t)&shim_info_data;
    q->reply_length = sizeof shim_info_data;
    cl_int st = shim_submit(cmd);
    state = st == CL_SUCCESS ? 1 : 2;
    return st == CL_SUCCESS ? CL_SUCCESS : CL_PLATFORM_NOT_FOUND_KHR;
}

cl_int shim_copy_info(size_t size, void *value, size_t *size_ret, const void *data, size_t n)
{
    if (value) {
        if (size < n) return CL_INVALID_VALUE;
        memcpy(value, data, n);
    }
    if (size_ret) *size_ret = n;
    return CL_SUCCESS;
}

cl_int shim_copy_string(size_t size, void *value, size_t *size_ret, const char *s)
{
    return shim_copy_info(size, value, size_ret, s, strlen(s) + 1);
}

int shim_is_our_device(cl_device_id d) { return d == &shim_device; }

CL_API_ENTRY cl_int CL_API_CALL
clGetPlatformIDs(cl_uint num_entries, cl_platform_id *platforms, cl_uint *num_platforms)
{
    if ((num_entries == 0 && platforms) || (!platforms && !num_platforms)) return CL_INVALID_VALUE;
    cl_int st = shim_init();
    if (st != CL_SUCCESS) {
        if (num_platforms) *num_platforms = 0;
        return st;
    }
    if (platforms) platforms[0] = &shim_platform;
    if (num_platforms) *num_platforms = 1;
    return CL_SUCCESS;
}

CL_API_ENTRY cl_int CL_API_CALL
clGetPlatformInfo(cl_platform_id platform, cl_platform_info param, size_t size, void *value, size_t *size_ret)
{
    if (platform && platform != &shim_platform) return CL_INVALID_PLATFORM;
    if (shim_init() != CL_SUCCESS) return CL_INVALID_PLATFORM;
    switch (param) {
    case CL_PLATFORM_PROFILE: return shim_copy_string(size, value, size_ret, "FULL_PROFILE");
    case CL_PLATFORM_VERSION: return shim_copy_string(size, value, size_ret, shim_info_data.platform_version);
    case CL_PLATFORM_NAME: return shim_copy_string(size, value, size_ret, shim_info_data.platform_name);
    case CL_PLATFORM_VENDOR: return shim_copy_string(size, value, size_ret, shim_info_data.platform_vendor);
    case CL_PLATFORM_EXTENSIONS: return shim_copy_string(size, value, size_ret, "");
    case CL_PLATFORM_ICD_SUFFIX_KHR: return shim_copy_string(size, value, size_ret, "Kumo");
    case CL_PLATFORM_HOST_TIMER_RESOLUTION: { cl_ulong r = 0; return shim_copy_info(size, value, size_ret, &r, sizeof r); }
    case CL_PLATFORM_NUMERIC_VERSION: { cl_version v = CL_MAKE_VERSION(3, 0, 0); return shim_copy_info(size, value, size_ret, &v, sizeof v); }
    case CL_PLATFORM_EXTENSIONS_WITH_VERSION: { static const cl_name_version none[1]; return shim_copy_info(size, value, size_ret, none, 0); }
    default: return CL_INVALID_VALUE;
    }
}

static const cl_device_type known_types = CL_DEVICE_TYPE_DEFAULT | CL_DEVICE_TYPE_CPU | CL_DEVICE_TYPE_GPU |
                                          CL_DEVICE_TYPE_ACCELERATOR | CL_DEVICE_TYPE_CUSTOM;

/* Whether our device answers a request for `type`; -1 for an invalid type. */
int shim_device_matches(cl_device_type type)
{
    if (type == CL_DEVICE_TYPE_ALL) return 1;
    if (type == 0 || (type & ~known_types)) return -1;
    return (type & CL_DEVICE_TYPE_DEFAULT) || (type & shim_info_data.device_type) ? 1 : 0;
}

CL_API_ENTRY cl_int CL_API_CALL
clGetDeviceIDs(cl_platform_id platform, cl_device_type type, cl_uint num_entries, cl_device_id *devices, cl_uint *num_devices)
{
    if (platform && platform != &shim_platform) return CL_INVALID_PLATFORM;
    if (shim_init() != CL_SUCCESS) return CL_INVALID_PLATFORM;
    int match = shim_device_matches(type);
    if (match < 0) return CL_INVALID_DEVICE_TYPE;
    if ((num_entries == 0 && devices) || (!devices && !num_devices)) return CL_INVALID_VALUE;
    if (!match) {
        if (num_devices) *num_devices = 0;
        return CL_DEVICE_NOT_FOUND;
    }
    if (devices) devices[0] = &shim_device;
    if (num_devices) *num_devices = 1;
    return CL_SUCCESS;
}

CL_API_ENTRY cl_int CL_API_CALL clRetainDevice(cl_device_id d) { return shim_is_our_device(d) ? CL_SUCCESS : CL_INVALID_DEVICE; }
CL_API_ENTRY cl_int CL_API_CALL clReleaseDevice(cl_device_id d) { return shim_is_our_device(d) ? CL_SUCCESS : CL_INVALID_DEVICE; }
CL_API_ENTRY cl_int CL_API_CALL clUnloadCompiler(void) { return CL_SUCCESS; }
CL_API_ENTRY cl_int CL_API_CALL clUnloadPlatformCompiler(cl_platform_id p) { return p == &shim_platform ? CL_SUCCESS : CL_INVALID_PLATFORM; }
CL_API_ENTRY void *CL_API_CALL clGetExtensionFunctionAddress(const char *name) { (void)name; return NULL; }
CL_API_ENTRY void *CL_API_CALL clGetExtensionFunctionAddressForPlatform(cl_platform_id p, const char *name) { (void)p; (void)name; return NULL; }
