/* A kernel that never ends: the function's timeout must end the run. */
#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
#include <stdio.h>

static const char *source = "__kernel void spin(__global volatile int *flag) { while (flag[0] == 0) { } }";

int main(void)
{
    cl_platform_id platform;
    cl_device_id device;
    cl_int err;
    clGetPlatformIDs(1, &platform, NULL);
    clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, 1, &device, NULL);
    cl_context ctx = clCreateContext(NULL, 1, &device, NULL, NULL, &err);
    cl_command_queue q = clCreateCommandQueue(ctx, device, 0, &err);
    cl_program p = clCreateProgramWithSource(ctx, 1, &source, NULL, &err);
    if (clBuildProgram(p, 1, &device, NULL, NULL, NULL) != CL_SUCCESS) { puts("build failed"); return 1; }
    cl_kernel k = clCreateKernel(p, "spin", &err);
    int zero = 0;
    cl_mem flag = clCreateBuffer(ctx, CL_MEM_COPY_HOST_PTR, sizeof zero, &zero, &err);
    clSetKernelArg(k, 0, sizeof flag, &flag);
    size_t one = 1;
    clEnqueueNDRangeKernel(q, k, 1, NULL, &one, NULL, 0, NULL, NULL);
    puts("spinning");
    fflush(stdout);
    clFinish(q);
    puts("finished?!");
    return 0;
}
