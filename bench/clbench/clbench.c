/* The cost of the OpenCL transport: write/read bandwidth (64 MB), the latency
 * of one blocking 4-byte read, and 10,000 non-blocking clSetKernelArg +
 * clEnqueueNDRangeKernel calls. The same source runs natively (cc ... -lOpenCL)
 * and as a Kumo unikernel; it prints one line per figure. */
#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CHECK(call) do { cl_int e_ = (call); if (e_ != CL_SUCCESS) { \
    fprintf(stderr, "%s failed: %d (line %d)\n", #call, e_, __LINE__); exit(1); } } while (0)

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static unsigned char *read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    *size = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *data = malloc(*size + 1);
    if (data && fread(data, 1, *size, f) != *size) { free(data); data = NULL; }
    if (data) data[*size] = 0;
    fclose(f);
    return data;
}

int main(int argc, char **argv)
{
    const char *xclbin = argc > 1 ? argv[1] : getenv("KUMO_BITSTREAM");
    cl_platform_id platform;
    cl_device_id device;
    cl_int err;
    CHECK(clGetPlatformIDs(1, &platform, NULL));
    CHECK(clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, 1, &device, NULL));
    cl_context ctx = clCreateContext(NULL, 1, &device, NULL, NULL, &err);
    CHECK(err);
    cl_command_queue q = clCreateCommandQueue(ctx, device, 0, &err);
    CHECK(err);
    size_t size;
    unsigned char *binary = xclbin ? read_file(xclbin, &size) : NULL;
    if (!binary) { fprintf(stderr, "usage: clbench FILE.xclbin\n"); return 2; }
    cl_program p = clCreateProgramWithBinary(ctx, 1, &device, &size, (const unsigned char **)&binary, NULL, &err);
    if (err != CL_SUCCESS) {
        char path[512];
        snprintf(path, sizeof path, "%.*s.cl", (int)(strlen(xclbin) - 7), xclbin);
        char *source = (char *)read_file(path, &size);
        if (!source) { fprintf(stderr, "%s missing\n", path); return 1; }
        p = clCreateProgramWithSource(ctx, 1, (const char **)&source, NULL, &err);
        CHECK(err);
    }
    CHECK(clBuildProgram(p, 1, &device, NULL, NULL, NULL));
    cl_kernel k = clCreateKernel(p, "touch", &err);
    CHECK(err);

    size_t bytes = 64 << 20;
    unsigned char *host = malloc(bytes);
    memset(host, 1, bytes);
    cl_mem big = clCreateBuffer(ctx, CL_MEM_READ_WRITE, bytes, NULL, &err);
    CHECK(err);
    CHECK(clEnqueueWriteBuffer(q, big, CL_TRUE, 0, bytes, host, 0, NULL, NULL));   /* first touch, not timed */
    CHECK(clEnqueueReadBuffer(q, big, CL_TRUE, 0, bytes, host, 0, NULL, NULL));
    int rounds = 10;
    double t0 = now();
    for (int i = 0; i < rounds; i++) CHECK(clEnqueueWriteBuffer(q, big, CL_TRUE, 0, bytes, host, 0, NULL, NULL));
    double t1 = now();
    for (int i = 0; i < rounds; i++) CHECK(clEnqueueReadBuffer(q, big, CL_TRUE, 0, bytes, host, 0, NULL, NULL));
    double t2 = now();
    printf("write_bandwidth_MBps %.0f\n", rounds * bytes / (t1 - t0) / 1e6);
    printf("read_bandwidth_MBps %.0f\n", rounds * bytes / (t2 - t1) / 1e6);

    cl_mem small = clCreateBuffer(ctx, CL_MEM_READ_WRITE, 64, NULL, &err);
    CHECK(err);
    int value = 0, reads = 2000;
    CHECK(clEnqueueReadBuffer(q, small, CL_TRUE, 0, 4, &value, 0, NULL, NULL));
    double t3 = now();
    for (int i = 0; i < reads; i++) CHECK(clEnqueueReadBuffer(q, small, CL_TRUE, 0, 4, &value, 0, NULL, NULL));
    double t4 = now();
    printf("blocking_read_4B_us %.2f\n", (t4 - t3) / reads * 1e6);

    int calls = 10000, one = 1;
    size_t global = 1;
    int zero = 0;
    CHECK(clEnqueueWriteBuffer(q, small, CL_TRUE, 0, 4, &zero, 0, NULL, NULL));
    CHECK(clSetKernelArg(k, 0, sizeof small, &small));
    CHECK(clFinish(q));
    double t5 = now();
    for (int i = 0; i < calls; i++) {
        CHECK(clSetKernelArg(k, 1, sizeof one, &one));
        CHECK(clEnqueueNDRangeKernel(q, k, 1, NULL, &global, NULL, 0, NULL, NULL));
    }
    double t6 = now();
    CHECK(clFinish(q));
    double t7 = now();
    CHECK(clEnqueueReadBuffer(q, small, CL_TRUE, 0, 4, &value, 0, NULL, NULL));
    printf("batched_call_us %.3f\n", (t6 - t5) / calls * 1e6);
    printf("batch_with_finish_us %.2f\n", (t7 - t5) / calls * 1e6);
    printf("launches_counted %d\n", value);
    return value == calls ? 0 : 1;
}
