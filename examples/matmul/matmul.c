/* Matrix multiplication on an FPGA: a 2D NDRange with 16x16 work-groups that
 * stage tiles in local memory (two __local arguments set with a NULL value).
 * The result is checked against a CPU reference. */
#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TILE 16
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
    unsigned char *data = malloc(*size + 1);
    if (data && fread(data, 1, *size, f) != *size) { free(data); data = NULL; }
    if (data) data[*size] = 0;
    fclose(f);
    return data;
}

int main(int argc, char **argv)
{
    const char *xclbin = argc > 1 ? argv[1] : getenv("KUMO_BITSTREAM");
    int n = argc > 2 ? atoi(argv[2]) : 256;
    int repeat = argc > 3 ? atoi(argv[3]) : 1;
    if (!xclbin || n <= 0 || n % TILE || repeat <= 0) {
        fprintf(stderr, "usage: matmul FILE.xclbin [N, a multiple of %d] [REPEAT]\n", TILE);
        return 2;
    }
    cl_platform_id platform;
    cl_device_id device;
    cl_int err;
    CHECK(clGetPlatformIDs(1, &platform, NULL));
    CHECK(clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, 1, &device, NULL));
    cl_context context = clCreateContext(NULL, 1, &device, NULL, NULL, &err);
    CHECK(err);
    cl_command_queue queue = clCreateCommandQueue(context, device, CL_QUEUE_PROFILING_ENABLE, &err);
    CHECK(err);
    size_t size;
    unsigned char *binary = read_file(xclbin, &size);
    if (!binary) { fprintf(stderr, "cannot read %s\n", xclbin); return 1; }
    cl_program program = clCreateProgramWithBinary(context, 1, &device, &size, (const unsigned char **)&binary, NULL, &err);
    if (err != CL_SUCCESS) {   /* a plain OpenCL device: build the kernel's source instead */
        char path[512];
        snprintf(path, sizeof path, "%.*s.cl", (int)(strlen(xclbin) - 7), xclbin);
        char *source = (char *)read_file(path, &size);
        if (!source) { fprintf(stderr, "%s refused (%d), %s missing\n", xclbin, err, path); return 1; }
        program = clCreateProgramWithSource(context, 1, (const char **)&source, NULL, &err);
        CHECK(err);
    }
    CHECK(clBuildProgram(program, 1, &device, NULL, NULL, NULL));
    cl_kernel kernel = clCreateKernel(program, "matmul", &err);
    CHECK(err);

    size_t bytes = (size_t)n * n * sizeof(float);
    float *a = malloc(bytes), *b = malloc(bytes), *c = malloc(bytes);
    for (int i = 0; i < n * n; i++) { a[i] = (float)(i % 7) - 3.0f; b[i] = (float)(i % 5) * 0.5f; }
    cl_mem da = clCreateBuffer(context, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, bytes, a, &err); CHECK(err);
    cl_mem db = clCreateBuffer(context, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, bytes, b, &err); CHECK(err);
    cl_mem dc = clCreateBuffer(context, CL_MEM_WRITE_ONLY, bytes, NULL, &err); CHECK(err);
    CHECK(clSetKernelArg(kernel, 0, sizeof da, &da));
    CHECK(clSetKernelArg(kernel, 1, sizeof db, &db));
    CHECK(clSetKernelArg(kernel, 2, sizeof dc, &dc));
    CHECK(clSetKernelArg(kernel, 3, sizeof n, &n));
    CHECK(clSetKernelArg(kernel, 4, TILE * TILE * sizeof(float), NULL));
    CHECK(clSetKernelArg(kernel, 5, TILE * TILE * sizeof(float), NULL));
    size_t global[2] = { (size_t)n, (size_t)n }, local[2] = { TILE, TILE };
    double t0 = now();
    cl_event done;
    for (int r = 0; r < repeat; r++)
        CHECK(clEnqueueNDRangeKernel(queue, kernel, 2, NULL, global, local, 0, NULL, r == repeat - 1 ? &done : NULL));
    CHECK(clEnqueueReadBuffer(queue, dc, CL_TRUE, 0, bytes, c, 1, &done, NULL));
    double t1 = now();
    cl_ulong start, end;
    CHECK(clGetEventProfilingInfo(done, CL_PROFILING_COMMAND_START, sizeof start, &start, NULL));
    CHECK(clGetEventProfilingInfo(done, CL_PROFILING_COMMAND_END, sizeof end, &end, NULL));

    int wrong = 0;
    for (int i = 0; i < n; i += (n > 64 ? 7 : 1))
        for (int j = 0; j < n; j += (n > 64 ? 5 : 1)) {
            float want = 0;
            for (int k = 0; k < n; k++) want += a[i * n + k] * b[k * n + j];
            if (fabsf(c[i * n + j] - want) > 1e-3f * (fabsf(want) + 1)) wrong++;
        }
    printf("matmul %dx%d x%d: %s (%d wrong), %.3f ms, last kernel %.3f ms\n", n, n, repeat, wrong ? "FAIL" : "PASS", wrong,
           (t1 - t0) * 1e3, (end - start) / 1e6);
    clReleaseEvent(done);
    clReleaseMemObject(da); clReleaseMemObject(db); clReleaseMemObject(dc);
    clReleaseKernel(kernel); clReleaseProgram(program); clReleaseCommandQueue(queue); clReleaseContext(context);
    return wrong ? 1 : 0;
}
