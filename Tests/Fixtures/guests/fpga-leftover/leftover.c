/* Tenant isolation: "write" leaves a secret in device memory and exits
 * without releasing it; "read" allocates the same sizes and reports whether
 * any byte is non-zero. */
#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BYTES (4 << 20)
static unsigned char data[BYTES];

int main(int argc, char **argv)
{
    /* kumo run passes the mode as an argument; through the gateway it is ?mode=. */
    const char *mode = argc > 1 ? argv[1] : getenv("QUERY_mode");
    int writing = mode && strcmp(mode, "write") == 0;
    cl_platform_id platform;
    cl_device_id device;
    cl_int err;
    clGetPlatformIDs(1, &platform, NULL);
    clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, 1, &device, NULL);
    cl_context ctx = clCreateContext(NULL, 1, &device, NULL, NULL, &err);
    cl_command_queue q = clCreateCommandQueue(ctx, device, 0, &err);
    size_t nonzero = 0;
    for (int i = 0; i < 16; i++) {
        size_t bytes = i % 2 ? BYTES : (size_t)1000 << (i / 2);   /* large ones and small ones */
        cl_mem m = clCreateBuffer(ctx, CL_MEM_READ_WRITE, bytes, NULL, &err);
        if (err != CL_SUCCESS) { printf("alloc failed %d\n", err); return 1; }
        if (writing) {
            memset(data, 0xA5, BYTES);
            clEnqueueWriteBuffer(q, m, CL_TRUE, 0, bytes, data, 0, NULL, NULL);
        } else {
            clEnqueueReadBuffer(q, m, CL_TRUE, 0, bytes, data, 0, NULL, NULL);
            for (size_t j = 0; j < bytes; j++) {
                if (data[j] && !nonzero) printf("buffer %d byte %zu is 0x%02x\n", i, j, data[j]);
                nonzero += data[j] != 0;
            }
        }
    }
    const char *hold = getenv("QUERY_hold_ms");  /* keep the card a while (capacity tests) */
    if (hold) {
        long ms = atol(hold);
        struct timespec t = { ms / 1000, (ms % 1000) * 1000000L };
        nanosleep(&t, NULL);
    }
    if (writing) puts("secret written");
    else printf("nonzero bytes: %zu\n", nonzero);
    return 0;
}
