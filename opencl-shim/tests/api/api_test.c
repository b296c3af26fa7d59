/* Kumo's OpenCL library, call by call, inside a unikernel: each call's
 * success and the error codes the specification names for wrong handles,
 * sizes, flags and indices. Prints one line per check; the exit status is
 * the number of failed checks. */
#define CL_TARGET_OPENCL_VERSION 300
#define CL_USE_DEPRECATED_OPENCL_1_2_APIS
#include <CL/cl.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

static int failures, checks;
#define EXPECT(cond, what) do { checks++; if (cond) printf("ok %s\n", what); \
    else { failures++; printf("FAIL %s (line %d)\n", what, __LINE__); } } while (0)
#define EXPECT_ERR(expr, code, what) do { cl_int e_ = (expr); checks++; if (e_ == (code)) printf("ok %s\n", what); \
    else { failures++; printf("FAIL %s: got %d, want %d (line %d)\n", what, e_, (code), __LINE__); } } while (0)

static const char *source =
    "__kernel void scale(__global float *x, const float f, __local float *scratch) {\n"
    "  size_t i = get_global_id(0); scratch[get_local_id(0)] = x[i] * f;\n"
    "  barrier(CLK_LOCAL_MEM_FENCE); x[i] = scratch[get_local_id(0)]; }\n"
    "__kernel void spin(__global int *flag) { while (flag[0] == 0) { } }\n";

static int callback_calls;
static void CL_CALLBACK on_complete(cl_event e, cl_int status, void *data) { callback_calls += status == CL_COMPLETE && data == &callback_calls; }
static int destructor_calls;
static void CL_CALLBACK on_destroy(cl_mem m, void *data) { destructor_calls++; }

int main(void)
{
    cl_int err;
    cl_platform_id platform;
    cl_uint n;
    EXPECT_ERR(clGetPlatformIDs(0, &platform, NULL), CL_INVALID_VALUE, "clGetPlatformIDs refuses 0 entries with a list");
    EXPECT_ERR(clGetPlatformIDs(0, NULL, NULL), CL_INVALID_VALUE, "clGetPlatformIDs refuses no outputs");
    EXPECT_ERR(clGetPlatformIDs(1, &platform, &n), CL_SUCCESS, "clGetPlatformIDs");
    EXPECT(n == 1, "one platform");
    char text[256];
    EXPECT_ERR(clGetPlatformInfo(platform, CL_PLATFORM_NAME, sizeof text, text, NULL), CL_SUCCESS, "platform name");
    EXPECT(strcmp(text, "Kumo Test Platform") == 0, "platform name from function.yaml");
    EXPECT_ERR(clGetPlatformInfo(platform, CL_PLATFORM_NAME, 2, text, NULL), CL_INVALID_VALUE, "platform info too small");
    EXPECT_ERR(clGetPlatformInfo(platform, 0x7777, sizeof text, text, NULL), CL_INVALID_VALUE, "unknown platform param");
    EXPECT_ERR(clGetPlatformInfo((cl_platform_id)&n, CL_PLATFORM_NAME, sizeof text, text, NULL), CL_INVALID_PLATFORM, "bogus platform");

    cl_device_id device;
    EXPECT_ERR(clGetDeviceIDs(platform, CL_DEVICE_TYPE_ACCELERATOR, 1, &device, NULL), CL_SUCCESS, "device by type ACCELERATOR");
    EXPECT_ERR(clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, 1, &device, &n), CL_SUCCESS, "device by type ALL");
    EXPECT_ERR(clGetDeviceIDs(platform, CL_DEVICE_TYPE_DEFAULT, 1, &device, NULL), CL_SUCCESS, "device by type DEFAULT");
    EXPECT_ERR(clGetDeviceIDs(platform, CL_DEVICE_TYPE_GPU, 1, &device, NULL), CL_DEVICE_NOT_FOUND, "no GPU");
    EXPECT_ERR(clGetDeviceIDs(platform, 1u << 20, 1, &device, NULL), CL_INVALID_DEVICE_TYPE, "invalid device type");
    cl_device_type type;
    EXPECT_ERR(clGetDeviceInfo(device, CL_DEVICE_TYPE, sizeof type, &type, NULL), CL_SUCCESS, "device type");
    EXPECT(type == CL_DEVICE_TYPE_ACCELERATOR, "the device is an accelerator");
    EXPECT_ERR(clGetDeviceInfo(device, CL_DEVICE_NAME, sizeof text, text, NULL), CL_SUCCESS, "device name");
    EXPECT(strcmp(text, "test_card") == 0, "device name from function.yaml");
    size_t wg, sz;
    EXPECT_ERR(clGetDeviceInfo(device, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof wg, &wg, NULL), CL_SUCCESS, "max work-group size");
    cl_ulong global_mem, max_alloc;
    clGetDeviceInfo(device, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof global_mem, &global_mem, NULL);
    clGetDeviceInfo(device, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof max_alloc, &max_alloc, &sz);
    EXPECT(global_mem == 1ull << 30 && max_alloc == global_mem / 4 && sz == 8, "memory limits");
    EXPECT_ERR(clGetDeviceInfo((cl_device_id)&n, CL_DEVICE_NAME, sizeof text, text, NULL), CL_INVALID_DEVICE, "bogus device");

    EXPECT(clCreateContext(NULL, 0, &device, NULL, NULL, &err) == NULL && err == CL_INVALID_VALUE, "context with no devices");
    cl_device_id bogus = (cl_device_id)&n;
    EXPECT(clCreateContext(NULL, 1, &bogus, NULL, NULL, &err) == NULL && err == CL_INVALID_DEVICE, "context with a bogus device");
    cl_context_properties props[] = { CL_CONTEXT_PLATFORM, (cl_context_properties)platform, 0 };
    cl_context ctx = clCreateContext(props, 1, &device, NULL, NULL, &err);
    EXPECT(ctx && err == CL_SUCCESS, "clCreateContext");
    cl_context ctx2 = clCreateContextFromType(NULL, CL_DEVICE_TYPE_ACCELERATOR, NULL, NULL, &err);
    EXPECT(ctx2 && err == CL_SUCCESS, "clCreateContextFromType");
    EXPECT(clCreateContextFromType(NULL, CL_DEVICE_TYPE_CPU, NULL, NULL, &err) == NULL && err == CL_DEVICE_NOT_FOUND, "no CPU context");
    cl_uint refs;
    EXPECT_ERR(clRetainContext(ctx2), CL_SUCCESS, "clRetainContext");
    clGetContextInfo(ctx2, CL_CONTEXT_REFERENCE_COUNT, sizeof refs, &refs, NULL);
    EXPECT(refs == 2, "context reference count");
    clReleaseContext(ctx2);
    EXPECT_ERR(clReleaseContext(ctx2), CL_SUCCESS, "clReleaseContext");
    EXPECT_ERR(clReleaseContext(ctx2), CL_INVALID_CONTEXT, "a released context is invalid");

    EXPECT(clCreateCommandQueue(ctx, device, 1u << 10, &err) == NULL && err == CL_INVALID_VALUE, "queue with bad properties");
    cl_command_queue q = clCreateCommandQueue(ctx, device, CL_QUEUE_PROFILING_ENABLE, &err);
    EXPECT(q && err == CL_SUCCESS, "clCreateCommandQueue (profiling)");
    cl_queue_properties qp[] = { CL_QUEUE_PROPERTIES, CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE, 0 };
    cl_command_queue ooo = clCreateCommandQueueWithProperties(ctx, device, qp, &err);
    EXPECT(ooo && err == CL_SUCCESS, "clCreateCommandQueueWithProperties (out of order)");
    cl_command_queue_properties got;
    clGetCommandQueueInfo(ooo, CL_QUEUE_PROPERTIES, sizeof got, &got, NULL);
    EXPECT(got == CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE, "queue properties");

    /* Buffers */
    float host[256];
    for (int i = 0; i < 256; i++) host[i] = (float)i;
    EXPECT(clCreateBuffer(ctx, CL_MEM_READ_WRITE, 0, NULL, &err) == NULL && err == CL_INVALID_BUFFER_SIZE, "buffer of 0 bytes");
    EXPECT(clCreateBuffer(ctx, CL_MEM_READ_WRITE, max_alloc + 1, NULL, &err) == NULL && err == CL_INVALID_BUFFER_SIZE, "buffer too large");
    EXPECT(clCreateBuffer(ctx, CL_MEM_READ_ONLY | CL_MEM_WRITE_ONLY, 64, NULL, &err) == NULL && err == CL_INVALID_VALUE, "conflicting flags");
    EXPECT(clCreateBuffer(ctx, CL_MEM_COPY_HOST_PTR, 64, NULL, &err) == NULL && err == CL_INVALID_HOST_PTR, "COPY_HOST_PTR without a pointer");
    EXPECT(clCreateBuffer(ctx, 0, 64, host, &err) == NULL && err == CL_INVALID_HOST_PTR, "a pointer without a host-pointer flag");
    EXPECT(clCreateBuffer((cl_context)&n, 0, 64, NULL, &err) == NULL && err == CL_INVALID_CONTEXT, "buffer in a bogus context");
    cl_mem copy = clCreateBuffer(ctx, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, sizeof host, host, &err);
    EXPECT(copy && err == CL_SUCCESS, "COPY_HOST_PTR buffer");
    float use_host[256];
    memcpy(use_host, host, sizeof host);
    cl_mem use = clCreateBuffer(ctx, CL_MEM_READ_WRITE | CL_MEM_USE_HOST_PTR, sizeof use_host, use_host, &err);
    EXPECT(use && err == CL_SUCCESS, "USE_HOST_PTR buffer");
    cl_mem alloc = clCreateBuffer(ctx, CL_MEM_READ_WRITE | CL_MEM_ALLOC_HOST_PTR, sizeof host, NULL, &err);
    EXPECT(alloc && err == CL_SUCCESS, "ALLOC_HOST_PTR buffer");
    float back[256] = { 0 };
    EXPECT_ERR(clEnqueueReadBuffer(q, copy, CL_TRUE, 0, sizeof back, back, 0, NULL, NULL), CL_SUCCESS, "blocking read");
    EXPECT(memcmp(back, host, sizeof host) == 0, "COPY_HOST_PTR contents");
    EXPECT_ERR(clEnqueueReadBuffer(q, copy, CL_TRUE, 1, sizeof back, back, 0, NULL, NULL), CL_INVALID_VALUE, "read past the end");
    EXPECT_ERR(clEnqueueReadBuffer(q, copy, CL_TRUE, 0, 4, NULL, 0, NULL, NULL), CL_INVALID_VALUE, "read into NULL");
    EXPECT_ERR(clEnqueueReadBuffer((cl_command_queue)&n, copy, CL_TRUE, 0, 4, back, 0, NULL, NULL), CL_INVALID_COMMAND_QUEUE, "bogus queue");
    EXPECT_ERR(clEnqueueReadBuffer(q, (cl_mem)&n, CL_TRUE, 0, 4, back, 0, NULL, NULL), CL_INVALID_MEM_OBJECT, "bogus buffer");
    EXPECT_ERR(clEnqueueReadBuffer(q, copy, CL_TRUE, 0, 4, back, 1, NULL, NULL), CL_INVALID_EVENT_WAIT_LIST, "bad wait list");
    cl_event wev;
    EXPECT_ERR(clEnqueueWriteBuffer(q, alloc, CL_FALSE, 0, sizeof host, host, 0, NULL, &wev), CL_SUCCESS, "non-blocking write with event");
    EXPECT_ERR(clWaitForEvents(1, &wev), CL_SUCCESS, "clWaitForEvents");
    cl_int status;
    clGetEventInfo(wev, CL_EVENT_COMMAND_EXECUTION_STATUS, sizeof status, &status, NULL);
    EXPECT(status == CL_COMPLETE, "event complete");
    cl_command_type ctype;
    clGetEventInfo(wev, CL_EVENT_COMMAND_TYPE, sizeof ctype, &ctype, NULL);
    EXPECT(ctype == CL_COMMAND_WRITE_BUFFER, "event command type");
    cl_ulong t_start = 0, t_end = 0;
    EXPECT_ERR(clGetEventProfilingInfo(wev, CL_PROFILING_COMMAND_START, sizeof t_start, &t_start, NULL), CL_SUCCESS, "profiling start");
    clGetEventProfilingInfo(wev, CL_PROFILING_COMMAND_END, sizeof t_end, &t_end, NULL);
    EXPECT(t_end >= t_start && t_start > 0, "profiling times ordered");
    EXPECT_ERR(clReleaseEvent(wev), CL_SUCCESS, "clReleaseEvent");
    EXPECT_ERR(clReleaseEvent(wev), CL_INVALID_EVENT, "a released event is invalid");
    EXPECT_ERR(clEnqueueCopyBuffer(q, copy, alloc, 0, 0, sizeof host, 0, NULL, NULL), CL_SUCCESS, "copy buffer");
    EXPECT_ERR(clEnqueueCopyBuffer(q, copy, copy, 0, 4, 64, 0, NULL, NULL), CL_MEM_COPY_OVERLAP, "overlapping copy");
    float pattern = 7.5f;
    EXPECT_ERR(clEnqueueFillBuffer(q, alloc, &pattern, sizeof pattern, 16, 64, 0, NULL, NULL), CL_SUCCESS, "fill buffer");
    EXPECT_ERR(clEnqueueFillBuffer(q, alloc, &pattern, 3, 0, 63, 0, NULL, NULL), CL_INVALID_VALUE, "fill with a 3-byte pattern");
    EXPECT_ERR(clEnqueueReadBuffer(q, alloc, CL_TRUE, 0, sizeof back, back, 0, NULL, NULL), CL_SUCCESS, "read after copy and fill");
    EXPECT(back[0] == 0.0f && back[4] == 7.5f && back[19] == 7.5f && back[20] == 20.0f, "copy and fill contents");
    float *mapped = clEnqueueMapBuffer(q, copy, CL_TRUE, CL_MAP_READ | CL_MAP_WRITE, 0, sizeof host, 0, NULL, NULL, &err);
    EXPECT(mapped && err == CL_SUCCESS && mapped[10] == 10.0f, "map for read and write");
    mapped[10] = -1.0f;
    EXPECT_ERR(clEnqueueUnmapMemObject(q, copy, mapped, 0, NULL, NULL), CL_SUCCESS, "unmap");
    EXPECT_ERR(clEnqueueUnmapMemObject(q, copy, host, 0, NULL, NULL), CL_INVALID_VALUE, "unmap of a pointer never mapped");
    clEnqueueReadBuffer(q, copy, CL_TRUE, 40, 4, back, 0, NULL, NULL);
    EXPECT(back[0] == -1.0f, "unmap wrote back");
    float *usemap = clEnqueueMapBuffer(q, use, CL_TRUE, CL_MAP_READ, 0, sizeof host, 0, NULL, NULL, &err);
    EXPECT(usemap == use_host, "USE_HOST_PTR maps to the host pointer");
    clEnqueueUnmapMemObject(q, use, usemap, 0, NULL, NULL);
    cl_buffer_region region = { 256, 256 };
    cl_mem sub = clCreateSubBuffer(copy, CL_MEM_READ_WRITE, CL_BUFFER_CREATE_TYPE_REGION, &region, &err);
    EXPECT(sub && err == CL_SUCCESS, "clCreateSubBuffer");
    cl_buffer_region misaligned = { 4, 16 };
    EXPECT(clCreateSubBuffer(copy, 0, CL_BUFFER_CREATE_TYPE_REGION, &misaligned, &err) == NULL && err == CL_MISALIGNED_SUB_BUFFER_OFFSET,
           "misaligned sub-buffer");
    cl_buffer_region outside = { 512, 1024 };
    EXPECT(clCreateSubBuffer(copy, 0, CL_BUFFER_CREATE_TYPE_REGION, &outside, &err) == NULL && err == CL_INVALID_VALUE, "sub-buffer outside");
    clEnqueueReadBuffer(q, sub, CL_TRUE, 0, 4, back, 0, NULL, NULL);
    EXPECT(back[0] == 64.0f, "sub-buffer reads its region");
    size_t msize;
    clGetMemObjectInfo(sub, CL_MEM_SIZE, sizeof msize, &msize, NULL);
    EXPECT(msize == 256, "sub-buffer size");
    EXPECT_ERR(clSetMemObjectDestructorCallback(sub, on_destroy, NULL), CL_SUCCESS, "destructor callback");
    EXPECT_ERR(clReleaseMemObject(sub), CL_SUCCESS, "release sub-buffer");
    EXPECT(destructor_calls == 1, "destructor ran");
    EXPECT_ERR(clReleaseMemObject(sub), CL_INVALID_MEM_OBJECT, "a released buffer is invalid");
    EXPECT_ERR(clEnqueueReadBuffer(q, sub, CL_TRUE, 0, 4, back, 0, NULL, NULL), CL_INVALID_MEM_OBJECT, "reading a released buffer");

    /* Programs and kernels from source */
    cl_program bad = clCreateProgramWithSource(ctx, 1, (const char *[]){ "__kernel void broken( { }" }, NULL, &err);
    EXPECT(bad && err == CL_SUCCESS, "program with bad source created");
    EXPECT_ERR(clBuildProgram(bad, 1, &device, NULL, NULL, NULL), CL_BUILD_PROGRAM_FAILURE, "a bad source does not build");
    char log[4096] = "";
    clGetProgramBuildInfo(bad, device, CL_PROGRAM_BUILD_LOG, sizeof log, log, NULL);
    EXPECT(strstr(log, "error") != NULL, "the build log is the compiler's");
    cl_build_status bs;
    clGetProgramBuildInfo(bad, device, CL_PROGRAM_BUILD_STATUS, sizeof bs, &bs, NULL);
    EXPECT(bs == CL_BUILD_ERROR, "build status error");
    EXPECT(clCreateKernel(bad, "broken", &err) == NULL && err == CL_INVALID_PROGRAM_EXECUTABLE, "kernel of an unbuilt program");
    clReleaseProgram(bad);
    cl_program prog = clCreateProgramWithSource(ctx, 1, &source, NULL, &err);
    EXPECT(prog && err == CL_SUCCESS, "clCreateProgramWithSource");
    EXPECT_ERR(clBuildProgram(prog, 0, NULL, "-cl-fast-relaxed-math", NULL, NULL), CL_SUCCESS, "clBuildProgram with options");
    clGetProgramBuildInfo(prog, device, CL_PROGRAM_BUILD_OPTIONS, sizeof log, log, NULL);
    EXPECT(strcmp(log, "-cl-fast-relaxed-math") == 0, "build options kept");
    size_t nk;
    clGetProgramInfo(prog, CL_PROGRAM_NUM_KERNELS, sizeof nk, &nk, NULL);
    EXPECT(nk == 2, "two kernels");
    cl_kernel ks[2];
    cl_uint nks;
    EXPECT_ERR(clCreateKernelsInProgram(prog, 2, ks, &nks), CL_SUCCESS, "clCreateKernelsInProgram");
    EXPECT(nks == 2, "created both");
    clReleaseKernel(ks[0]); clReleaseKernel(ks[1]);
    EXPECT(clCreateKernel(prog, "nope", &err) == NULL && err == CL_INVALID_KERNEL_NAME, "unknown kernel name");
    cl_kernel k = clCreateKernel(prog, "scale", &err);
    EXPECT(k && err == CL_SUCCESS, "clCreateKernel");
    cl_uint nargs;
    clGetKernelInfo(k, CL_KERNEL_NUM_ARGS, sizeof nargs, &nargs, NULL);
    EXPECT(nargs == 3, "kernel argument count");
    clGetKernelInfo(k, CL_KERNEL_FUNCTION_NAME, sizeof text, text, NULL);
    EXPECT(strcmp(text, "scale") == 0, "kernel name");
    cl_kernel_arg_address_qualifier aq;
    clGetKernelArgInfo(k, 2, CL_KERNEL_ARG_ADDRESS_QUALIFIER, sizeof aq, &aq, NULL);
    EXPECT(aq == CL_KERNEL_ARG_ADDRESS_LOCAL, "argument 2 is local");
    clGetKernelArgInfo(k, 1, CL_KERNEL_ARG_TYPE_NAME, sizeof text, text, NULL);
    EXPECT(strcmp(text, "float") == 0, "argument 1 is a float");
    EXPECT_ERR(clGetKernelArgInfo(k, 3, CL_KERNEL_ARG_NAME, sizeof text, text, NULL), CL_INVALID_ARG_INDEX, "arg info index past the end");
    size_t kwg;
    EXPECT_ERR(clGetKernelWorkGroupInfo(k, device, CL_KERNEL_WORK_GROUP_SIZE, sizeof kwg, &kwg, NULL), CL_SUCCESS, "kernel work-group size");
    EXPECT_ERR(clBuildProgram(prog, 0, NULL, NULL, NULL, NULL), CL_INVALID_OPERATION, "rebuild with a kernel attached");
    float f = 2.0f;
    double d = 2.0;
    EXPECT_ERR(clSetKernelArg(k, 3, sizeof f, &f), CL_INVALID_ARG_INDEX, "arg index past the end");
    EXPECT_ERR(clSetKernelArg(k, 1, sizeof d, &d), CL_INVALID_ARG_SIZE, "a double for a float");
    EXPECT_ERR(clSetKernelArg(k, 1, sizeof f, NULL), CL_INVALID_ARG_VALUE, "a NULL value");
    EXPECT_ERR(clSetKernelArg(k, 2, 64, &f), CL_INVALID_ARG_VALUE, "a value for a local argument");
    cl_mem fake = (cl_mem)&n;
    EXPECT_ERR(clSetKernelArg(k, 0, sizeof fake, &fake), CL_INVALID_MEM_OBJECT, "a bogus buffer argument");
    fake = (cl_mem)(uintptr_t)0xdeadbeef0;
    EXPECT_ERR(clSetKernelArg(k, 0, sizeof fake, &fake), CL_INVALID_MEM_OBJECT, "a wild pointer as a buffer");
    EXPECT_ERR(clSetKernelArg(k, 0, 4, &copy), CL_INVALID_ARG_SIZE, "a buffer argument of the wrong size");
    size_t global = 256, local = 64, bad_local = 48;
    EXPECT_ERR(clEnqueueNDRangeKernel(q, k, 1, NULL, &global, &local, 0, NULL, NULL), CL_INVALID_KERNEL_ARGS, "launch with args unset");
    EXPECT_ERR(clSetKernelArg(k, 0, sizeof copy, &copy), CL_SUCCESS, "set buffer arg");
    EXPECT_ERR(clSetKernelArg(k, 1, sizeof f, &f), CL_SUCCESS, "set scalar arg");
    EXPECT_ERR(clSetKernelArg(k, 2, local * sizeof(float), NULL), CL_SUCCESS, "set local arg");
    EXPECT_ERR(clEnqueueNDRangeKernel(q, k, 0, NULL, &global, &local, 0, NULL, NULL), CL_INVALID_WORK_DIMENSION, "0 dimensions");
    EXPECT_ERR(clEnqueueNDRangeKernel(q, k, 1, NULL, NULL, &local, 0, NULL, NULL), CL_INVALID_GLOBAL_WORK_SIZE, "no global size");
    EXPECT_ERR(clEnqueueNDRangeKernel(q, k, 1, NULL, &global, &bad_local, 0, NULL, NULL), CL_INVALID_WORK_GROUP_SIZE, "local size not dividing");
    cl_event kev;
    EXPECT_ERR(clEnqueueNDRangeKernel(q, k, 1, NULL, &global, &local, 0, NULL, &kev), CL_SUCCESS, "clEnqueueNDRangeKernel");
    EXPECT_ERR(clSetEventCallback(kev, CL_COMPLETE, on_complete, &callback_calls), CL_SUCCESS, "clSetEventCallback");
    EXPECT_ERR(clSetEventCallback(kev, 99, on_complete, NULL), CL_INVALID_VALUE, "callback for a bad status");
    EXPECT_ERR(clFinish(q), CL_SUCCESS, "clFinish");
    EXPECT(callback_calls == 1, "the callback ran once at completion");
    clEnqueueReadBuffer(q, copy, CL_TRUE, 0, sizeof back, back, 0, NULL, NULL);
    EXPECT(back[3] == 6.0f && back[10] == -2.0f && back[255] == 510.0f, "kernel results");
    clReleaseEvent(kev);
    float half = 0.5f;
    clSetKernelArg(k, 1, sizeof half, &half);
    EXPECT_ERR(clEnqueueNDRangeKernel(q, k, 1, NULL, &global, &local, 0, NULL, NULL), CL_SUCCESS, "a launch with a changed argument");
    clEnqueueReadBuffer(q, copy, CL_TRUE, 0, sizeof back, back, 0, NULL, NULL);
    EXPECT(back[3] == 3.0f && back[10] == -1.0f && back[255] == 255.0f, "the changed argument reached the kernel");
    EXPECT_ERR(clEnqueueTask(q, k, 0, NULL, NULL), CL_SUCCESS, "clEnqueueTask");

    /* User events, markers, barriers, out-of-order queue */
    cl_event user = clCreateUserEvent(ctx, &err);
    EXPECT(user && err == CL_SUCCESS, "clCreateUserEvent");
    cl_event gated, marker;
    EXPECT_ERR(clEnqueueWriteBuffer(ooo, alloc, CL_FALSE, 0, 16, host, 1, &user, &gated), CL_SUCCESS, "a write gated by a user event");
    EXPECT_ERR(clEnqueueMarkerWithWaitList(ooo, 1, &gated, &marker), CL_SUCCESS, "clEnqueueMarkerWithWaitList");
    clGetEventInfo(gated, CL_EVENT_COMMAND_EXECUTION_STATUS, sizeof status, &status, NULL);
    EXPECT(status > CL_COMPLETE, "the gated write waits");
    EXPECT_ERR(clSetUserEventStatus(user, 5), CL_INVALID_VALUE, "user event status must be COMPLETE or negative");
    EXPECT_ERR(clSetUserEventStatus(user, CL_COMPLETE), CL_SUCCESS, "clSetUserEventStatus");
    EXPECT_ERR(clSetUserEventStatus(user, CL_COMPLETE), CL_INVALID_OPERATION, "user event set twice");
    EXPECT_ERR(clWaitForEvents(1, &marker), CL_SUCCESS, "the marker completes after the user event");
    EXPECT_ERR(clEnqueueBarrierWithWaitList(ooo, 0, NULL, NULL), CL_SUCCESS, "clEnqueueBarrierWithWaitList");
    EXPECT_ERR(clFlush(ooo), CL_SUCCESS, "clFlush");
    EXPECT_ERR(clWaitForEvents(0, NULL), CL_INVALID_VALUE, "wait for no events");
    clReleaseEvent(user); clReleaseEvent(gated); clReleaseEvent(marker);

    /* A bitstream */
    const char *path = getenv("KUMO_BITSTREAM");
    FILE *file = path ? fopen(path, "rb") : NULL;
    static unsigned char xclbin[1 << 20];
    size_t xsize = file ? fread(xclbin, 1, sizeof xclbin, file) : 0;
    if (file) fclose(file);
    EXPECT(xsize > 0, "the bitstream is in the file tree");
    const unsigned char *bins[] = { xclbin };
    cl_int bstatus;
    size_t truncated = xsize / 2;
    EXPECT(clCreateProgramWithBinary(ctx, 1, &device, &truncated, bins, &bstatus, &err) == NULL && err == CL_INVALID_BINARY &&
           bstatus == CL_INVALID_BINARY, "a truncated xclbin is CL_INVALID_BINARY");
    xclbin[2000] ^= 0xff;
    EXPECT(clCreateProgramWithBinary(ctx, 1, &device, &xsize, bins, NULL, &err) == NULL && err == CL_INVALID_BINARY,
           "a corrupt xclbin is CL_INVALID_BINARY");
    xclbin[2000] ^= 0xff;
    cl_program bin = clCreateProgramWithBinary(ctx, 1, &device, &xsize, bins, &bstatus, &err);
    EXPECT(bin && err == CL_SUCCESS && bstatus == CL_SUCCESS, "clCreateProgramWithBinary with an xclbin");
    EXPECT_ERR(clBuildProgram(bin, 1, &device, NULL, NULL, NULL), CL_SUCCESS, "building a bitstream program");
    clGetProgramInfo(bin, CL_PROGRAM_KERNEL_NAMES, sizeof text, text, NULL);
    EXPECT(strcmp(text, "vadd") == 0, "the bitstream's kernels");
    size_t bsize;
    clGetProgramInfo(bin, CL_PROGRAM_BINARY_SIZES, sizeof bsize, &bsize, NULL);
    EXPECT(bsize == xsize, "binary size");
    cl_kernel vk = clCreateKernel(bin, "vadd", &err);
    EXPECT(vk && err == CL_SUCCESS, "kernel from the bitstream");
    clGetKernelArgInfo(vk, 3, CL_KERNEL_ARG_NAME, sizeof text, text, NULL);
    EXPECT(strcmp(text, "n") == 0, "argument names from EMBEDDED_METADATA");
    clReleaseKernel(vk);
    clReleaseProgram(bin);

    /* Releases */
    EXPECT_ERR(clReleaseKernel(k), CL_SUCCESS, "clReleaseKernel");
    EXPECT_ERR(clSetKernelArg(k, 1, sizeof f, &f), CL_INVALID_KERNEL, "a released kernel is invalid");
    EXPECT_ERR(clReleaseProgram(prog), CL_SUCCESS, "clReleaseProgram");
    EXPECT_ERR(clReleaseProgram(prog), CL_INVALID_PROGRAM, "a released program is invalid");
    clReleaseMemObject(copy); clReleaseMemObject(use); clReleaseMemObject(alloc);
    EXPECT_ERR(clReleaseCommandQueue(q), CL_SUCCESS, "clReleaseCommandQueue");
    EXPECT_ERR(clFinish(q), CL_INVALID_COMMAND_QUEUE, "a released queue is invalid");
    clReleaseCommandQueue(ooo);
    clReleaseContext(ctx);
    printf("%d checks, %d failed\n", checks, failures);
    return failures;
}
