/* A benchmark-suite program: a byte histogram on the device, checked against the
 * CPU; the input's name and the result file's name come from argv, and the result
 * is written with an fopen whose result is not checked, as such programs do. */
#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *source =
    "__kernel void histogram(__global const uchar *in, const uint n, __global uint *bins) {\n"
    "  size_t i = get_global_id(0);\n"
    "  if (i < n) atomic_inc(&bins[in[i] >> 4]);\n"
    "}\n";

int main(int argc, char **argv)
{
    if (argc < 3) { fprintf(stderr, "usage: histogram INPUT OUTPUT\n"); return 2; }
    FILE *f = fopen(argv[1], "rb");
    if (!f) { perror(argv[1]); return 1; }
    static unsigned char data[1 << 20];
    size_t n = fread(data, 1, sizeof data, f);
    fclose(f);

    cl_platform_id platform;
    cl_device_id device;
    cl_int err;
    clGetPlatformIDs(1, &platform, NULL);
    clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, 1, &device, NULL);
    cl_context ctx = clCreateContext(NULL, 1, &device, NULL, NULL, &err);
    cl_command_queue q = clCreateCommandQueue(ctx, device, 0, &err);
    cl_program program = clCreateProgramWithSource(ctx, 1, &source, NULL, &err);
    if (clBuildProgram(program, 1, &device, "", NULL, NULL) != CL_SUCCESS) { fprintf(stderr, "build failed\n"); return 1; }
    cl_kernel k = clCreateKernel(program, "histogram", &err);
    unsigned bins[16] = {0}, cpu[16] = {0};
    cl_mem in = clCreateBuffer(ctx, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, n, data, &err);
    cl_mem out = clCreateBuffer(ctx, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, sizeof bins, bins, &err);
    cl_uint count = (cl_uint)n;
    clSetKernelArg(k, 0, sizeof in, &in);
    clSetKernelArg(k, 1, sizeof count, &count);
    clSetKernelArg(k, 2, sizeof out, &out);
    size_t global = (n + 63) / 64 * 64;
    clEnqueueNDRangeKernel(q, k, 1, NULL, &global, NULL, 0, NULL, NULL);
    clEnqueueReadBuffer(q, out, CL_TRUE, 0, sizeof bins, bins, 0, NULL, NULL);
    for (size_t i = 0; i < n; i++) cpu[data[i] >> 4]++;

    FILE *result = fopen(argv[2], "w");
    for (int b = 0; b < 16; b++) fprintf(result, "bin %2d: %u\n", b, bins[b]);
    fclose(result);
    printf("%zu bytes, 16 bins: %s\n", n, memcmp(bins, cpu, sizeof bins) ? "FAILED" : "PASSED");
    return 0;
}
