/* Every clGetPlatformInfo and clGetDeviceInfo query OpenCL 3.0's cl.h declares
 * answers (the size first, then the value, as programs ask), and what a 3.0
 * device without optional features says. Lines: what failed, then a few values. */
#define CL_TARGET_OPENCL_VERSION 300
#include <CL/cl.h>
#include <stdio.h>
#include <string.h>

#define Q(p) { p, #p }
static const struct { cl_uint param; const char *name; } device_params[] = {
    Q(CL_DEVICE_TYPE), Q(CL_DEVICE_VENDOR_ID), Q(CL_DEVICE_MAX_COMPUTE_UNITS),
    Q(CL_DEVICE_MAX_WORK_ITEM_DIMENSIONS), Q(CL_DEVICE_MAX_WORK_GROUP_SIZE), Q(CL_DEVICE_MAX_WORK_ITEM_SIZES),
    Q(CL_DEVICE_PREFERRED_VECTOR_WIDTH_CHAR), Q(CL_DEVICE_PREFERRED_VECTOR_WIDTH_SHORT), Q(CL_DEVICE_PREFERRED_VECTOR_WIDTH_INT),
    Q(CL_DEVICE_PREFERRED_VECTOR_WIDTH_LONG), Q(CL_DEVICE_PREFERRED_VECTOR_WIDTH_FLOAT), Q(CL_DEVICE_PREFERRED_VECTOR_WIDTH_DOUBLE),
    Q(CL_DEVICE_MAX_CLOCK_FREQUENCY), Q(CL_DEVICE_ADDRESS_BITS), Q(CL_DEVICE_MAX_READ_IMAGE_ARGS),
    Q(CL_DEVICE_MAX_WRITE_IMAGE_ARGS), Q(CL_DEVICE_MAX_MEM_ALLOC_SIZE), Q(CL_DEVICE_IMAGE2D_MAX_WIDTH),
    Q(CL_DEVICE_IMAGE2D_MAX_HEIGHT), Q(CL_DEVICE_IMAGE3D_MAX_WIDTH), Q(CL_DEVICE_IMAGE3D_MAX_HEIGHT),
    Q(CL_DEVICE_IMAGE3D_MAX_DEPTH), Q(CL_DEVICE_IMAGE_SUPPORT), Q(CL_DEVICE_MAX_PARAMETER_SIZE),
    Q(CL_DEVICE_MAX_SAMPLERS), Q(CL_DEVICE_MEM_BASE_ADDR_ALIGN), Q(CL_DEVICE_MIN_DATA_TYPE_ALIGN_SIZE),
    Q(CL_DEVICE_SINGLE_FP_CONFIG), Q(CL_DEVICE_GLOBAL_MEM_CACHE_TYPE), Q(CL_DEVICE_GLOBAL_MEM_CACHELINE_SIZE),
    Q(CL_DEVICE_GLOBAL_MEM_CACHE_SIZE), Q(CL_DEVICE_GLOBAL_MEM_SIZE), Q(CL_DEVICE_MAX_CONSTANT_BUFFER_SIZE),
    Q(CL_DEVICE_MAX_CONSTANT_ARGS), Q(CL_DEVICE_LOCAL_MEM_TYPE), Q(CL_DEVICE_LOCAL_MEM_SIZE),
    Q(CL_DEVICE_ERROR_CORRECTION_SUPPORT), Q(CL_DEVICE_PROFILING_TIMER_RESOLUTION), Q(CL_DEVICE_ENDIAN_LITTLE),
    Q(CL_DEVICE_AVAILABLE), Q(CL_DEVICE_COMPILER_AVAILABLE), Q(CL_DEVICE_EXECUTION_CAPABILITIES),
    Q(CL_DEVICE_QUEUE_PROPERTIES), Q(CL_DEVICE_QUEUE_ON_HOST_PROPERTIES), Q(CL_DEVICE_NAME),
    Q(CL_DEVICE_VENDOR), Q(CL_DEVICE_PROFILE), Q(CL_DEVICE_VERSION),
    Q(CL_DEVICE_EXTENSIONS), Q(CL_DEVICE_PLATFORM), Q(CL_DEVICE_DOUBLE_FP_CONFIG),
    Q(CL_DEVICE_PREFERRED_VECTOR_WIDTH_HALF), Q(CL_DEVICE_HOST_UNIFIED_MEMORY), Q(CL_DEVICE_NATIVE_VECTOR_WIDTH_CHAR),
    Q(CL_DEVICE_NATIVE_VECTOR_WIDTH_SHORT), Q(CL_DEVICE_NATIVE_VECTOR_WIDTH_INT), Q(CL_DEVICE_NATIVE_VECTOR_WIDTH_LONG),
    Q(CL_DEVICE_NATIVE_VECTOR_WIDTH_FLOAT), Q(CL_DEVICE_NATIVE_VECTOR_WIDTH_DOUBLE), Q(CL_DEVICE_NATIVE_VECTOR_WIDTH_HALF),
    Q(CL_DEVICE_OPENCL_C_VERSION), Q(CL_DEVICE_LINKER_AVAILABLE), Q(CL_DEVICE_BUILT_IN_KERNELS),
    Q(CL_DEVICE_IMAGE_MAX_BUFFER_SIZE), Q(CL_DEVICE_IMAGE_MAX_ARRAY_SIZE), Q(CL_DEVICE_PARENT_DEVICE),
    Q(CL_DEVICE_PARTITION_MAX_SUB_DEVICES), Q(CL_DEVICE_PARTITION_PROPERTIES), Q(CL_DEVICE_PARTITION_AFFINITY_DOMAIN),
    Q(CL_DEVICE_PARTITION_TYPE), Q(CL_DEVICE_REFERENCE_COUNT), Q(CL_DEVICE_PREFERRED_INTEROP_USER_SYNC),
    Q(CL_DEVICE_PRINTF_BUFFER_SIZE), Q(CL_DEVICE_IMAGE_PITCH_ALIGNMENT), Q(CL_DEVICE_IMAGE_BASE_ADDRESS_ALIGNMENT),
    Q(CL_DEVICE_MAX_READ_WRITE_IMAGE_ARGS), Q(CL_DEVICE_MAX_GLOBAL_VARIABLE_SIZE), Q(CL_DEVICE_QUEUE_ON_DEVICE_PROPERTIES),
    Q(CL_DEVICE_QUEUE_ON_DEVICE_PREFERRED_SIZE), Q(CL_DEVICE_QUEUE_ON_DEVICE_MAX_SIZE), Q(CL_DEVICE_MAX_ON_DEVICE_QUEUES),
    Q(CL_DEVICE_MAX_ON_DEVICE_EVENTS), Q(CL_DEVICE_SVM_CAPABILITIES), Q(CL_DEVICE_GLOBAL_VARIABLE_PREFERRED_TOTAL_SIZE),
    Q(CL_DEVICE_MAX_PIPE_ARGS), Q(CL_DEVICE_PIPE_MAX_ACTIVE_RESERVATIONS), Q(CL_DEVICE_PIPE_MAX_PACKET_SIZE),
    Q(CL_DEVICE_PREFERRED_PLATFORM_ATOMIC_ALIGNMENT), Q(CL_DEVICE_PREFERRED_GLOBAL_ATOMIC_ALIGNMENT), Q(CL_DEVICE_PREFERRED_LOCAL_ATOMIC_ALIGNMENT),
    Q(CL_DEVICE_IL_VERSION), Q(CL_DEVICE_MAX_NUM_SUB_GROUPS), Q(CL_DEVICE_SUB_GROUP_INDEPENDENT_FORWARD_PROGRESS),
    Q(CL_DEVICE_NUMERIC_VERSION), Q(CL_DEVICE_EXTENSIONS_WITH_VERSION), Q(CL_DEVICE_ILS_WITH_VERSION),
    Q(CL_DEVICE_BUILT_IN_KERNELS_WITH_VERSION), Q(CL_DEVICE_ATOMIC_MEMORY_CAPABILITIES), Q(CL_DEVICE_ATOMIC_FENCE_CAPABILITIES),
    Q(CL_DEVICE_NON_UNIFORM_WORK_GROUP_SUPPORT), Q(CL_DEVICE_OPENCL_C_ALL_VERSIONS), Q(CL_DEVICE_PREFERRED_WORK_GROUP_SIZE_MULTIPLE),
    Q(CL_DEVICE_WORK_GROUP_COLLECTIVE_FUNCTIONS_SUPPORT), Q(CL_DEVICE_GENERIC_ADDRESS_SPACE_SUPPORT), Q(CL_DEVICE_OPENCL_C_FEATURES),
    Q(CL_DEVICE_DEVICE_ENQUEUE_CAPABILITIES), Q(CL_DEVICE_PIPE_SUPPORT), Q(CL_DEVICE_LATEST_CONFORMANCE_VERSION_PASSED),
};
static const struct { cl_uint param; const char *name; } platform_params[] = {
    Q(CL_PLATFORM_PROFILE), Q(CL_PLATFORM_VERSION), Q(CL_PLATFORM_NAME), Q(CL_PLATFORM_VENDOR),
    Q(CL_PLATFORM_EXTENSIONS), Q(CL_PLATFORM_HOST_TIMER_RESOLUTION), Q(CL_PLATFORM_NUMERIC_VERSION),
    Q(CL_PLATFORM_EXTENSIONS_WITH_VERSION),
};

static unsigned char value[4096];

int main(void)
{
    cl_platform_id platform;
    cl_device_id device;
    clGetPlatformIDs(1, &platform, NULL);
    clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, 1, &device, NULL);
    int failed = 0;
    for (size_t i = 0; i < sizeof platform_params / sizeof platform_params[0]; i++) {
        size_t n = 0;
        cl_int a = clGetPlatformInfo(platform, platform_params[i].param, 0, NULL, &n);
        cl_int b = n <= sizeof value ? clGetPlatformInfo(platform, platform_params[i].param, n, value, NULL) : -1;
        if (a != CL_SUCCESS || b != CL_SUCCESS) { printf("platform %s: %d %d\n", platform_params[i].name, a, b); failed++; }
    }
    for (size_t i = 0; i < sizeof device_params / sizeof device_params[0]; i++) {
        size_t n = 0;
        cl_int a = clGetDeviceInfo(device, device_params[i].param, 0, NULL, &n);
        cl_int b = n <= sizeof value ? clGetDeviceInfo(device, device_params[i].param, n, value, NULL) : -1;
        if (a != CL_SUCCESS || b != CL_SUCCESS) { printf("device %s: %d %d\n", device_params[i].name, a, b); failed++; }
    }
    printf("queries: %zu platform, %zu device, %d failed\n", sizeof platform_params / sizeof platform_params[0],
           sizeof device_params / sizeof device_params[0], failed);

    char text[256];
    cl_version version;
    clGetPlatformInfo(platform, CL_PLATFORM_VERSION, sizeof text, text, NULL);
    clGetPlatformInfo(platform, CL_PLATFORM_NUMERIC_VERSION, sizeof version, &version, NULL);
    printf("platform: %s, %u.%u\n", text, CL_VERSION_MAJOR(version), CL_VERSION_MINOR(version));
    clGetDeviceInfo(device, CL_DEVICE_VERSION, sizeof text, text, NULL);
    clGetDeviceInfo(device, CL_DEVICE_NUMERIC_VERSION, sizeof version, &version, NULL);
    printf("device: %s, %u.%u\n", text, CL_VERSION_MAJOR(version), CL_VERSION_MINOR(version));
    cl_name_version names[16];
    size_t n;
    clGetDeviceInfo(device, CL_DEVICE_OPENCL_C_ALL_VERSIONS, sizeof names, names, &n);
    printf("OpenCL C:");
    for (size_t i = 0; i < n / sizeof names[0]; i++)
        printf(" %u.%u", CL_VERSION_MAJOR(names[i].version), CL_VERSION_MINOR(names[i].version));
    printf("\n");
    clGetDeviceInfo(device, CL_DEVICE_OPENCL_C_FEATURES, sizeof names, names, &n);
    printf("features:");
    for (size_t i = 0; i < n / sizeof names[0]; i++) printf(" %s", names[i].name);
    printf("\n");
    clGetDeviceInfo(device, CL_DEVICE_ILS_WITH_VERSION, sizeof names, names, &n);
    printf("ILs: %zu\n", n / sizeof names[0]);
    cl_device_svm_capabilities svm;
    cl_command_queue_properties on_host;
    clGetDeviceInfo(device, CL_DEVICE_SVM_CAPABILITIES, sizeof svm, &svm, NULL);
    clGetDeviceInfo(device, CL_DEVICE_QUEUE_ON_HOST_PROPERTIES, sizeof on_host, &on_host, NULL);
    printf("svm %lu, queue on host %lu\n", (unsigned long)svm, (unsigned long)on_host);
    printf("unknown query: %d\n", clGetDeviceInfo(device, 0x7fff, sizeof value, value, NULL));

    /* A program built as OpenCL C 3.0 runs. */
    cl_int err;
    cl_context ctx = clCreateContext(NULL, 1, &device, NULL, NULL, &err);
    cl_command_queue q = clCreateCommandQueueWithProperties(ctx, device, NULL, &err);
    const char *source = "__kernel void twice(__global int *a) { a[get_global_id(0)] *= 2; }\n";
    cl_program program = clCreateProgramWithSource(ctx, 1, &source, NULL, &err);
    cl_int built = clBuildProgram(program, 1, &device, "-cl-std=CL3.0", NULL, NULL);
    cl_kernel k = clCreateKernel(program, "twice", &err);
    int data[4] = {1, 2, 3, 4};
    cl_mem m = clCreateBuffer(ctx, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, sizeof data, data, &err);
    clSetKernelArg(k, 0, sizeof m, &m);
    size_t global = 4;
    clEnqueueNDRangeKernel(q, k, 1, NULL, &global, NULL, 0, NULL, NULL);
    clEnqueueReadBuffer(q, m, CL_TRUE, 0, sizeof data, data, 0, NULL, NULL);
    printf("CL3.0 build %d: %d %d %d %d\n", built, data[0], data[1], data[2], data[3]);
    return 0;
}
