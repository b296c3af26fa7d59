/* A textbook exercise: pick the first GPU or accelerator of any platform (else any
 * device), load the kernel from ../kernels relative to where it runs, build it,
 * run SAXPY and check it against the CPU. */
#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define CHECK(x) do { cl_int e_ = (x); if (e_ != CL_SUCCESS) { fprintf(stderr, "%s: %d\n", #x, e_); return 1; } } while (0)

static char *load(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    char *text = malloc((size_t)n + 1);
    fread(text, 1, (size_t)n, f);
    text[n] = 0;
    fclose(f);
    return text;
}

static cl_device_id pick_device(void)
{
    cl_platform_id platforms[8];
    cl_uint count = 0;
    clGetPlatformIDs(8, platforms, &count);
    cl_device_id fallback = NULL;
    for (cl_uint i = 0; i < count; i++) {
        cl_device_id d;
        if (clGetDeviceIDs(platforms[i], CL_DEVICE_TYPE_GPU | CL_DEVICE_TYPE_ACCELERATOR, 1, &d, NULL) == CL_SUCCESS) return d;
        if (!fallback && clGetDeviceIDs(platforms[i], CL_DEVICE_TYPE_ALL, 1, &d, NULL) == CL_SUCCESS) fallback = d;
    }
    return fallback;
}

int main(void)
{
    cl_device_id device = pick_device();
    if (!device) { fprintf(stderr, "no OpenCL device\n"); return 1; }
    char name[256];
    clGetDeviceInfo(device, CL_DEVICE_NAME, sizeof name, name, NULL);
    fprintf(stderr, "using %s\n", name);
    char *source = load("../kernels/saxpy.cl");
    if (!source) { perror("../kernels/saxpy.cl"); return 1; }

    cl_int err;
    cl_context ctx = clCreateContext(NULL, 1, &device, NULL, NULL, &err);
    CHECK(err);
    cl_command_queue q = clCreateCommandQueue(ctx, device, 0, &err);
    CHECK(err);
    cl_program program = clCreateProgramWithSource(ctx, 1, (const char **)&source, NULL, &err);
    CHECK(err);
    CHECK(clBuildProgram(program, 1, &device, "", NULL, NULL));
    cl_kernel k = clCreateKernel(program, "saxpy", &err);
    CHECK(err);

    enum { N = 4096 };
    static float x[N], y[N], expect[N];
    for (int i = 0; i < N; i++) { x[i] = (float)i * 0.5f; y[i] = (float)(N - i); expect[i] = 2.0f * x[i] + y[i]; }
    cl_mem bx = clCreateBuffer(ctx, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, sizeof x, x, &err);
    cl_mem by = clCreateBuffer(ctx, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, sizeof y, y, &err);
    float a = 2.0f;
    CHECK(clSetKernelArg(k, 0, sizeof a, &a));
    CHECK(clSetKernelArg(k, 1, sizeof bx, &bx));
    CHECK(clSetKernelArg(k, 2, sizeof by, &by));
    size_t global = N, local = 64;
    CHECK(clEnqueueNDRangeKernel(q, k, 1, NULL, &global, &local, 0, NULL, NULL));
    CHECK(clEnqueueReadBuffer(q, by, CL_TRUE, 0, sizeof y, y, 0, NULL, NULL));
    int wrong = 0;
    double sum = 0;
    for (int i = 0; i < N; i++) { wrong += fabsf(y[i] - expect[i]) > 1e-3f; sum += y[i]; }
    printf("saxpy: %d elements, sum %.1f, %s\n", N, sum, wrong ? "FAIL" : "PASS");
    return wrong != 0;
}
