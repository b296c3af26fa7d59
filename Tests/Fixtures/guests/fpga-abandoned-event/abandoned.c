/* A guest that leaves work queued behind a user event it never sets, then
 * exits ("wait": first blocks on it until its timeout): the card must come
 * back for the next tenant, not wait forever or leave service. */
#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char data[4096];

int main(int argc, char **argv)
{
    cl_platform_id platform;
    cl_device_id device;
    cl_int err;
    clGetPlatformIDs(1, &platform, NULL);
    clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, 1, &device, NULL);
    cl_context ctx = clCreateContext(NULL, 1, &device, NULL, NULL, &err);
    cl_command_queue q = clCreateCommandQueue(ctx, device, 0, &err);
    cl_mem m = clCreateBuffer(ctx, CL_MEM_READ_WRITE, sizeof data, NULL, &err);
    cl_event never = clCreateUserEvent(ctx, &err);
    if (err != CL_SUCCESS) { printf("user event: %d\n", err); return 1; }
    err = clEnqueueWriteBuffer(q, m, CL_FALSE, 0, sizeof data, data, 1, &never, NULL);
    if (err != CL_SUCCESS) { printf("write: %d\n", err); return 1; }
    clEnqueueMarkerWithWaitList(q, 1, &never, NULL);
    clReleaseEvent(never);
    clFlush(q);
    printf("left work behind an unset user event\n");
    const char *mode = argc > 1 ? argv[1] : getenv("QUERY_mode");   /* through the gateway: ?mode= */
    if (mode && strcmp(mode, "wait") == 0) {
        fflush(stdout);
        clFinish(q);   /* never returns: the function's timeout ends the guest */
        printf("finished\n");
    }
    return 0;
}
