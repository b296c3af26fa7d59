/* clGetDeviceInfo: the FPGA's identity and limits, as the device model told them.
 * It is an OpenCL 3.0 device with none of 3.0's optional features (images, SVM,
 * pipes, device-side enqueue, sub-groups, generic address space, program-scope
 * globals), which 3.0 allows; every 3.0 query answers as such a device does. */
#include "shim.h"

#define UINT_INFO(v)  do { cl_uint x_ = (v); return shim_copy_info(size, value, size_ret, &x_, sizeof x_); } while (0)
#define ULONG_INFO(v) do { cl_ulong x_ = (v); return shim_copy_info(size, value, size_ret, &x_, sizeof x_); } while (0)
#define SIZE_INFO(v)  do { size_t x_ = (v); return shim_copy_info(size, value, size_ret, &x_, sizeof x_); } while (0)
#define BOOL_INFO(v)  do { cl_bool x_ = (v); return shim_copy_info(size, value, size_ret, &x_, sizeof x_); } while (0)
#define STRING_INFO(s) return shim_copy_string(size, value, size_ret, (s))
#define NAME_VERSIONS(a) return shim_copy_info(size, value, size_ret, (a), sizeof (a))
#define NO_NAME_VERSIONS() do { static const cl_name_version none_[1]; return shim_copy_info(size, value, size_ret, none_, 0); } while (0)

/* The OpenCL C versions and optional 3.0 language features the card's compiler takes
 * (the emulator's: the host's PoCL, which builds kernels for these). */
static const cl_name_version c_versions[] = {
    { CL_MAKE_VERSION(1, 0, 0), "OpenCL C" }, { CL_MAKE_VERSION(1, 1, 0), "OpenCL C" },
    { CL_MAKE_VERSION(1, 2, 0), "OpenCL C" }, { CL_MAKE_VERSION(3, 0, 0), "OpenCL C" },
};
static const cl_name_version c_features[] = {
    { CL_MAKE_VERSION(3, 0, 0), "__opencl_c_int64" }, { CL_MAKE_VERSION(3, 0, 0), "__opencl_c_fp64" },
    { CL_MAKE_VERSION(3, 0, 0), "__opencl_c_atomic_order_acq_rel" },
    { CL_MAKE_VERSION(3, 0, 0), "__opencl_c_atomic_order_seq_cst" },
    { CL_MAKE_VERSION(3, 0, 0), "__opencl_c_atomic_scope_device" },
};

CL_API_ENTRY cl_int CL_API_CALL
clGetDeviceInfo(cl_device_id device, cl_device_info param, size_t size, void *value, size_t *size_ret)
{
    if (!shim_is_our_device(device) || shim_init() != CL_SUCCESS) return CL_INVALID_DEVICE;
    const struct kumo_fpga_info *i = &shim_info_data;
    switch (param) {
    case CL_DEVICE_TYPE: { cl_device_type t = i->device_type; return shim_copy_info(size, value, size_ret, &t, sizeof t); }
    case CL_DEVICE_VENDOR_ID: UINT_INFO(i->vendor_id);
    case CL_DEVICE_MAX_COMPUTE_UNITS: UINT_INFO(i->compute_units);
    case CL_DEVICE_MAX_WORK_ITEM_DIMENSIONS: UINT_INFO(3);
    case CL_DEVICE_MAX_WORK_ITEM_SIZES: {
        size_t s[3] = { i->max_work_item_sizes[0], i->max_work_item_sizes[1], i->max_work_item_sizes[2] };
        return shim_copy_info(size, value, size_ret, s, sizeof s);
    }
    case CL_DEVICE_MAX_WORK_GROUP_SIZE: SIZE_INFO(i->max_work_group_size);
    case CL_DEVICE_PREFERRED_VECTOR_WIDTH_CHAR: case CL_DEVICE_NATIVE_VECTOR_WIDTH_CHAR: UINT_INFO(16);
    case CL_DEVICE_PREFERRED_VECTOR_WIDTH_SHORT: case CL_DEVICE_NATIVE_VECTOR_WIDTH_SHORT: UINT_INFO(8);
    case CL_DEVICE_PREFERRED_VECTOR_WIDTH_INT: case CL_DEVICE_NATIVE_VECTOR_WIDTH_INT: UINT_INFO(4);
    case CL_DEVICE_PREFERRED_VECTOR_WIDTH_LONG: case CL_DEVICE_NATIVE_VECTOR_WIDTH_LONG: UINT_INFO(2);
    case CL_DEVICE_PREFERRED_VECTOR_WIDTH_FLOAT: case CL_DEVICE_NATIVE_VECTOR_WIDTH_FLOAT: UINT_INFO(4);
    case CL_DEVICE_PREFERRED_VECTOR_WIDTH_DOUBLE: case CL_DEVICE_NATIVE_VECTOR_WIDTH_DOUBLE: UINT_INFO(2);
    case CL_DEVICE_PREFERRED_VECTOR_WIDTH_HALF: case CL_DEVICE_NATIVE_VECTOR_WIDTH_HALF: UINT_INFO(0);
    case CL_DEVICE_MAX_CLOCK_FREQUENCY: UINT_INFO(i->clock_mhz);
    case CL_DEVICE_ADDRESS_BITS: UINT_INFO(i->address_bits);
    case CL_DEVICE_MAX_MEM_ALLOC_SIZE: ULONG_INFO(i->max_alloc);
    case CL_DEVICE_GLOBAL_MEM_SIZE: ULONG_INFO(i->global_memory);
    case CL_DEVICE_LOCAL_MEM_SIZE: ULONG_INFO(i->local_memory);
    case CL_DEVICE_LOCAL_MEM_TYPE: UINT_INFO(CL_LOCAL);
    case CL_DEVICE_MAX_CONSTANT_BUFFER_SIZE: ULONG_INFO(i->max_constant_buffer);
    case CL_DEVICE_MAX_CONSTANT_ARGS: UINT_INFO(i->max_constant_args);
    case CL_DEVICE_MAX_PARAMETER_SIZE: SIZE_INFO(i->max_parameter_size);
    case CL_DEVICE_MEM_BASE_ADDR_ALIGN: UINT_INFO(i->mem_base_align_bits);
    case CL_DEVICE_MIN_DATA_TYPE_ALIGN_SIZE: UINT_INFO(128);
    case CL_DEVICE_GLOBAL_MEM_CACHE_TYPE: UINT_INFO(CL_NONE);
    case CL_DEVICE_GLOBAL_MEM_CACHELINE_SIZE: UINT_INFO(64);
    case CL_DEVICE_GLOBAL_MEM_CACHE_SIZE: ULONG_INFO(0);
    case CL_DEVICE_ERROR_CORRECTION_SUPPORT: BOOL_INFO(CL_FALSE);
    case CL_DEVICE_HOST_UNIFIED_MEMORY: BOOL_INFO(CL_FALSE);
    case CL_DEVICE_PROFILING_TIMER_RESOLUTION: SIZE_INFO(i->profiling_resolution_ns);
    case CL_DEVICE_ENDIAN_LITTLE: BOOL_INFO(CL_TRUE);
    case CL_DEVICE_AVAILABLE: BOOL_INFO(CL_TRUE);
    case CL_DEVICE_COMPILER_AVAILABLE: BOOL_INFO(CL_TRUE);   /* the emulator builds OpenCL C; a card would not */
    case CL_DEVICE_LINKER_AVAILABLE: BOOL_INFO(CL_FALSE);
    case CL_DEVICE_EXECUTION_CAPABILITIES: ULONG_INFO(CL_EXEC_KERNEL);
    case CL_DEVICE_QUEUE_PROPERTIES: ULONG_INFO(CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE | CL_QUEUE_PROFILING_ENABLE);
    case CL_DEVICE_SINGLE_FP_CONFIG: ULONG_INFO(CL_FP_INF_NAN | CL_FP_ROUND_TO_NEAREST | CL_FP_FMA);
    case CL_DEVICE_DOUBLE_FP_CONFIG: ULONG_INFO(CL_FP_FMA | CL_FP_ROUND_TO_NEAREST | CL_FP_ROUND_TO_ZERO |
                                                CL_FP_ROUND_TO_INF | CL_FP_INF_NAN | CL_FP_DENORM);
    case CL_DEVICE_IMAGE_SUPPORT: BOOL_INFO(CL_FALSE);
    case CL_DEVICE_MAX_READ_IMAGE_ARGS: case CL_DEVICE_MAX_WRITE_IMAGE_ARGS: case CL_DEVICE_MAX_SAMPLERS: UINT_INFO(0);
    case CL_DEVICE_IMAGE2D_MAX_WIDTH: case CL_DEVICE_IMAGE2D_MAX_HEIGHT: case CL_DEVICE_IMAGE3D_MAX_WIDTH:
    case CL_DEVICE_IMAGE3D_MAX_HEIGHT: case CL_DEVICE_IMAGE3D_MAX_DEPTH: case CL_DEVICE_IMAGE_MAX_BUFFER_SIZE:
    case CL_DEVICE_IMAGE_MAX_ARRAY_SIZE: SIZE_INFO(0);
    case CL_DEVICE_NAME: STRING_INFO(i->device_name);
    case CL_DEVICE_VENDOR: STRING_INFO(i->device_vendor);
    case CL_DRIVER_VERSION: STRING_INFO(i->driver_version);
    case CL_DEVICE_PROFILE: STRING_INFO("FULL_PROFILE");
    case CL_DEVICE_VERSION: STRING_INFO(i->device_version);
    case CL_DEVICE_OPENCL_C_VERSION: STRING_INFO("OpenCL C 1.2 ");
    case CL_DEVICE_EXTENSIONS: STRING_INFO("");
    case CL_DEVICE_BUILT_IN_KERNELS: STRING_INFO("");
    case CL_DEVICE_PLATFORM: { cl_platform_id p = &shim_platform; return shim_copy_info(size, value, size_ret, &p, sizeof p); }
    case CL_DEVICE_PARENT_DEVICE: { cl_device_id d = NULL; return shim_copy_info(size, value, size_ret, &d, sizeof d); }
    case CL_DEVICE_PARTITION_MAX_SUB_DEVICES: UINT_INFO(0);
    case CL_DEVICE_PARTITION_PROPERTIES: case CL_DEVICE_PARTITION_TYPE: {
        cl_device_partition_property none = 0;
        return shim_copy_info(size, value, size_ret, &none, sizeof none);
    }
    case CL_DEVICE_PARTITION_AFFINITY_DOMAIN: ULONG_INFO(0);
    case CL_DEVICE_REFERENCE_COUNT: UINT_INFO(1);
    case CL_DEVICE_PREFERRED_INTEROP_USER_SYNC: BOOL_INFO(CL_TRUE);
    case CL_DEVICE_PRINTF_BUFFER_SIZE: SIZE_INFO(1 << 20);
    /* OpenCL 2.x and 3.0: optional features this card lacks, and their limits. */
    case CL_DEVICE_NUMERIC_VERSION: UINT_INFO(CL_MAKE_VERSION(3, 0, 0));
    case CL_DEVICE_EXTENSIONS_WITH_VERSION: case CL_DEVICE_ILS_WITH_VERSION:
    case CL_DEVICE_BUILT_IN_KERNELS_WITH_VERSION: NO_NAME_VERSIONS();
    case CL_DEVICE_OPENCL_C_ALL_VERSIONS: NAME_VERSIONS(c_versions);
    case CL_DEVICE_OPENCL_C_FEATURES: NAME_VERSIONS(c_features);
    case CL_DEVICE_IL_VERSION: STRING_INFO("");
    case CL_DEVICE_LATEST_CONFORMANCE_VERSION_PASSED: STRING_INFO("v0000-01-01-00");  /* never submitted to Khronos */
    case CL_DEVICE_ATOMIC_MEMORY_CAPABILITIES:
        ULONG_INFO(CL_DEVICE_ATOMIC_ORDER_RELAXED | CL_DEVICE_ATOMIC_ORDER_ACQ_REL | CL_DEVICE_ATOMIC_ORDER_SEQ_CST |
                   CL_DEVICE_ATOMIC_SCOPE_WORK_GROUP | CL_DEVICE_ATOMIC_SCOPE_DEVICE);
    case CL_DEVICE_ATOMIC_FENCE_CAPABILITIES:
        ULONG_INFO(CL_DEVICE_ATOMIC_ORDER_RELAXED | CL_DEVICE_ATOMIC_ORDER_ACQ_REL | CL_DEVICE_ATOMIC_ORDER_SEQ_CST |
                   CL_DEVICE_ATOMIC_SCOPE_WORK_ITEM | CL_DEVICE_ATOMIC_SCOPE_WORK_GROUP | CL_DEVICE_ATOMIC_SCOPE_DEVICE);
    case CL_DEVICE_PREFERRED_WORK_GROUP_SIZE_MULTIPLE: SIZE_INFO(1);
    case CL_DEVICE_NON_UNIFORM_WORK_GROUP_SUPPORT: case CL_DEVICE_WORK_GROUP_COLLECTIVE_FUNCTIONS_SUPPORT:
    case CL_DEVICE_GENERIC_ADDRESS_SPACE_SUPPORT: case CL_DEVICE_PIPE_SUPPORT:
    case CL_DEVICE_SUB_GROUP_INDEPENDENT_FORWARD_PROGRESS: BOOL_INFO(CL_FALSE);
    case CL_DEVICE_DEVICE_ENQUEUE_CAPABILITIES: ULONG_INFO(0);
    case CL_DEVICE_SVM_CAPABILITIES: ULONG_INFO(0);
    case CL_DEVICE_QUEUE_ON_DEVICE_PROPERTIES: ULONG_INFO(0);
    case CL_DEVICE_QUEUE_ON_DEVICE_PREFERRED_SIZE: case CL_DEVICE_QUEUE_ON_DEVICE_MAX_SIZE:
    case CL_DEVICE_MAX_ON_DEVICE_QUEUES: case CL_DEVICE_MAX_ON_DEVICE_EVENTS: case CL_DEVICE_MAX_PIPE_ARGS:
    case CL_DEVICE_PIPE_MAX_ACTIVE_RESERVATIONS: case CL_DEVICE_PIPE_MAX_PACKET_SIZE: case CL_DEVICE_MAX_NUM_SUB_GROUPS:
    case CL_DEVICE_MAX_READ_WRITE_IMAGE_ARGS: case CL_DEVICE_IMAGE_PITCH_ALIGNMENT:
    case CL_DEVICE_IMAGE_BASE_ADDRESS_ALIGNMENT: case CL_DEVICE_PREFERRED_PLATFORM_ATOMIC_ALIGNMENT:
    case CL_DEVICE_PREFERRED_GLOBAL_ATOMIC_ALIGNMENT: case CL_DEVICE_PREFERRED_LOCAL_ATOMIC_ALIGNMENT: UINT_INFO(0);
    case CL_DEVICE_MAX_GLOBAL_VARIABLE_SIZE: case CL_DEVICE_GLOBAL_VARIABLE_PREFERRED_TOTAL_SIZE: SIZE_INFO(0);
    case CL_DEVICE_HALF_FP_CONFIG: ULONG_INFO(0);
    default: return CL_INVALID_VALUE;
    }
}
