/* Vector addition on an FPGA, written as any OpenCL host program is: find an
 * accelerator, load the xclbin named on the command line, move the data,
 * run the kernel, check the result against the CPU. Builds unchanged for
 * Linux (cc vadd.c -lOpenCL) and for Kumo (kumo build). */
#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CHECK(call) do { cl_int e_ = (call); if (e_ != CL_SUCCESS) { \
    fprintf(stderr, "%s failed: %d (line %d)\n", #call, e_, __LINE__); return 1; } } while (0)

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
    unsigned char *data = malloc(*size);
    if (data && fread(data, 1, *size, f) != *size) { free(data); data = NULL; }
    fclose(f);
    return data;
}

int main(int argc, char **argv)
{
    double started = now();
    const char *xclbin = argc > 1 ? argv[1] : getenv("KUMO_BITSTREAM");
    size_t n = argc > 2 ? strtoul(argv[2], NULL, 0) : 1 << 20;
    if (!xclbin || n == 0) { fprintf(stderr, "usage: vadd FILE.xclbin [ELEMENTS]\n"); return 2; }

    cl_platform_id platform;
    cl_device_id device;
    cl_int err;
    CHECK(clGetPlatformIDs(1, &platform, NULL));
    if (clGetDeviceIDs(platform, CL_DEVICE_TYPE_ACCELERATOR, 1, &device, NULL) != CL_SUCCESS)
        CHECK(clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, 1, &device, NULL));
    char name[256];
    CHECK(clGetDeviceInfo(device, CL_DEVICE_NAME, sizeof name, name, NULL));
    cl_context context = clCreateContext(NULL, 1, &device, NULL, NULL, &err);
    CHECK(err);
    cl_command_queue queue = clCreateCommandQueue(context, device, 0, &err);
    CHECK(err);

    size_t size;
    unsigned char *binary = read_file(xclbin, &size);
    if (!binary) { fprintf(stderr, "cannot read %s\n", xclbin); return 1; }
    cl_program program = clCreateProgramWithBinary(context, 1, &device, &size, (const unsigned char **)&binary, NULL, &err);
    if (err != CL_SUCCESS) {
        /* Not an xclbin this device takes (a Linux run on a CPU): build the kernel's source. */
        size_t source_size;
        char path[512];
        snprintf(path, sizeof path, "%.*s.cl", (int)(strlen(xclbin) - 7), xclbin);
        char *source = (char *)read_file(path, &source_size);
        if (!source) { fprintf(stderr, "the device refused %s (%d) and %s is missing\n", xclbin, err, path); return 1; }
        source = realloc(source, source_size + 1);
        source[source_size] = 0;
        program = clCreateProgramWithSource(context, 1, (const char **)&source, NULL, &err);
        CHECK(err);
    }
    if (clBuildProgram(program, 1, &device, "", NULL, NULL) != CL_SUCCESS) {
        char log[4096];
        clGetProgramBuildInfo(program, device, CL_PROGRAM_BUILD_LOG, sizeof log, log, NULL);
        fprintf(stderr, "build failed:\n%s\n", log);
        return 1;
    }
    cl_kernel kernel = clCreateKernel(program, "vadd", &err);
    CHECK(err);

    size_t bytes = n * sizeof(float);
    float *a = malloc(bytes), *b = malloc(bytes), *c = malloc(bytes);
    if (!a || !b || !c) { fprintf(stderr, "out of memory for %zu elements\n", n); return 1; }
    for (size_t i = 0; i < n; i++) { a[i] = (float)i; b[i] = (float)(2 * i) + 0.5f; }

    double t0 = now();
    cl_mem da = clCreateBuffer(context, CL_MEM_READ_ONLY, bytes, NULL, &err); CHECK(err);
    cl_mem db = clCreateBuffer(context, CL_MEM_READ_ONLY, bytes, NULL, &err); CHECK(err);
    cl_mem dc = clCreateBuffer(context, CL_MEM_WRITE_ONLY, bytes, NULL, &err); CHECK(err);
    CHECK(clEnqueueWriteBuffer(queue, da, CL_FALSE, 0, bytes, a, 0, NULL, NULL));
    CHECK(clEnqueueWriteBuffer(queue, db, CL_FALSE, 0, bytes, b, 0, NULL, NULL));
    cl_uint count = (cl_uint)n;
    CHECK(clSetKernelArg(kernel, 0, sizeof da, &da));
    CHECK(clSetKernelArg(kernel, 1, sizeof db, &db));
    CHECK(clSetKernelArg(kernel, 2, sizeof dc, &dc));
    CHECK(clSetKernelArg(kernel, 3, sizeof count, &count));
    size_t global = n;
    CHECK(clEnqueueNDRangeKernel(queue, kernel, 1, NULL, &global, NULL, 0, NULL, NULL));
    CHECK(clEnqueueReadBuffer(queue, dc, CL_TRUE, 0, bytes, c, 0, NULL, NULL));
    double t1 = now();

    size_t wrong = 0;
    for (size_t i = 0; i < n; i++)
        if (fabsf(c[i] - (a[i] + b[i])) > 1e-3f * fabsf(a[i] + b[i])) wrong++;
    /* The OpenCL part (buffers, transfers, kernel), then the whole program so far. */
    printf("vadd on %s: %zu elements, %s (%zu wrong), %.3f ms, %.3f ms in all\n", name, n, wrong ? "FAIL" : "PASS", wrong,
           (t1 - t0) * 1e3, (now() - started) * 1e3);

    clReleaseMemObject(da); clReleaseMemObject(db); clReleaseMemObject(dc);
    clReleaseKernel(kernel); clReleaseProgram(program);
    clReleaseCommandQueue(queue); clReleaseContext(context);
    return wrong ? 1 : 0;
}
