/* OpenCL 1.2-3.0 entry points beyond the card's core: rect transfers, migration,
 * buffers with properties, kernel clones, compile and link, context destructors
 * work; images, samplers, pipes, SVM, IL, sub-devices and host timers answer with
 * the specification's error code. Each line: what was called, then what it gave. */
#define CL_TARGET_OPENCL_VERSION 300
#include <CL/cl.h>
#include <stdio.h>
#include <string.h>

static const char *source =
    "__kernel void add(__global int *a, int n) { a[get_global_id(0)] += n; }\n";

static void destroyed(cl_context c, void *data) { printf("destructor %s\n", (const char *)data); }

int main(void)
{
    cl_platform_id platform;
    cl_device_id device;
    cl_int err;
    clGetPlatformIDs(1, &platform, NULL);
    clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, 1, &device, NULL);
    cl_context ctx = clCreateContext(NULL, 1, &device, NULL, NULL, &err);
    cl_command_queue q = clCreateCommandQueueWithProperties(ctx, device, NULL, &err);

    /* A 4x4 grid of ints; a 2x2 block written at (1,1), then the grid read whole. */
    int grid[16] = {0}, block[4] = {1, 2, 3, 4}, back[16];
    cl_mem m = clCreateBuffer(ctx, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, sizeof grid, grid, &err);
    size_t at[3] = {4, 1, 0}, zero[3] = {0, 0, 0}, region[3] = {8, 2, 1};
    err = clEnqueueWriteBufferRect(q, m, CL_TRUE, at, zero, region, 16, 0, 8, 0, block, 0, NULL, NULL);
    clEnqueueReadBuffer(q, m, CL_TRUE, 0, sizeof back, back, 0, NULL, NULL);
    printf("write rect %d:", err);
    for (int i = 0; i < 16; i++) printf(" %d", back[i]);
    printf("\n");
    int out[4] = {0};
    cl_event done;
    err = clEnqueueReadBufferRect(q, m, CL_FALSE, at, zero, region, 16, 0, 8, 0, out, 0, NULL, &done);
    clWaitForEvents(1, &done);
    clReleaseEvent(done);
    printf("read rect %d: %d %d %d %d\n", err, out[0], out[1], out[2], out[3]);
    cl_mem copy = clCreateBuffer(ctx, CL_MEM_READ_WRITE, sizeof grid, NULL, &err);
    size_t to[3] = {0, 0, 0};
    err = clEnqueueCopyBufferRect(q, m, copy, at, to, region, 16, 0, 8, 0, 0, NULL, NULL);
    memset(out, 0, sizeof out);
    clEnqueueReadBuffer(q, copy, CL_TRUE, 0, sizeof out, out, 0, NULL, NULL);
    printf("copy rect %d: %d %d %d %d\n", err, out[0], out[1], out[2], out[3]);
    size_t too_far[3] = {8, 3, 0};
    printf("rect past the end %d\n", clEnqueueWriteBufferRect(q, m, CL_TRUE, too_far, zero, region, 16, 0, 8, 0, block, 0, NULL, NULL));
    printf("migrate %d\n", clEnqueueMigrateMemObjects(q, 1, &m, CL_MIGRATE_MEM_OBJECT_HOST, 0, NULL, NULL));

    cl_mem_properties none[1] = {0}, bad[3] = {1, 1, 0};
    cl_mem p = clCreateBufferWithProperties(ctx, none, CL_MEM_READ_WRITE, 64, NULL, &err);
    printf("buffer with no properties %d\n", err);
    clCreateBufferWithProperties(ctx, bad, CL_MEM_READ_WRITE, 64, NULL, &err);
    printf("buffer with an unknown property %d\n", err);

    cl_program program = clCreateProgramWithSource(ctx, 1, &source, NULL, &err);
    printf("compile %d\n", clCompileProgram(program, 1, &device, "", 0, NULL, NULL, NULL, NULL));
    clLinkProgram(ctx, 1, &device, "", 1, &program, NULL, NULL, &err);
    printf("link %d\n", err);
    cl_kernel k = clCreateKernel(program, "add", &err);
    int n = 5;
    clSetKernelArg(k, 0, sizeof p, &p);
    clSetKernelArg(k, 1, sizeof n, &n);
    cl_kernel clone = clCloneKernel(k, &err);
    printf("clone %d\n", err);
    int ones[4] = {1, 1, 1, 1};
    clEnqueueWriteBuffer(q, p, CL_TRUE, 0, sizeof ones, ones, 0, NULL, NULL);
    size_t global = 4;
    err = clEnqueueNDRangeKernel(q, clone, 1, NULL, &global, NULL, 0, NULL, NULL);
    clEnqueueReadBuffer(q, p, CL_TRUE, 0, sizeof ones, ones, 0, NULL, NULL);
    printf("clone ran %d: %d %d %d %d\n", err, ones[0], ones[1], ones[2], ones[3]);

    cl_image_format format = {CL_RGBA, CL_UNORM_INT8};
    cl_image_desc desc = {CL_MEM_OBJECT_IMAGE2D, 4, 4, 1, 1, 0, 0, 0, 0, {NULL}};
    clCreateImage(ctx, CL_MEM_READ_ONLY, &format, &desc, NULL, &err);
    printf("image %d\n", err);
    cl_uint formats = 7;
    err = clGetSupportedImageFormats(ctx, CL_MEM_READ_ONLY, CL_MEM_OBJECT_IMAGE2D, 0, NULL, &formats);
    printf("image formats %d %u\n", err, formats);
    clCreateSamplerWithProperties(ctx, NULL, &err);
    printf("sampler %d\n", err);
    clCreatePipe(ctx, 0, 4, 4, NULL, &err);
    printf("pipe %d\n", err);
    printf("svm %s\n", clSVMAlloc(ctx, CL_MEM_READ_WRITE, 64, 0) ? "allocated" : "null");
    unsigned char il[4] = {0x03, 0x02, 0x23, 0x07};
    clCreateProgramWithIL(ctx, il, sizeof il, &err);
    printf("il %d\n", err);
    cl_device_partition_property equally[3] = {CL_DEVICE_PARTITION_EQUALLY, 1, 0};
    printf("sub-devices %d\n", clCreateSubDevices(device, equally, 0, NULL, NULL));
    cl_ulong stamp;
    printf("host timer %d\n", clGetHostTimer(device, &stamp));
    printf("stale handle %d\n", clRetainSampler((cl_sampler)q));

    clSetContextDestructorCallback(ctx, destroyed, "first");
    clSetContextDestructorCallback(ctx, destroyed, "second");
    clReleaseKernel(clone);
    clReleaseKernel(k);
    clReleaseProgram(program);
    clReleaseMemObject(p);
    clReleaseMemObject(copy);
    clReleaseMemObject(m);
    clReleaseCommandQueue(q);
    clReleaseContext(ctx);
    printf("end\n");
    return 0;
}
