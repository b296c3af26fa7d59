/* clGetDeviceInfo: the FPGA's identity and limits, as the device model told them. */
#include "shim.h"

#define UINT_INFO(v)  do { cl_uint x_ = (v); return shim_copy_info(size, value, size_ret, &x_, sizeof x_); } while (0)
#define ULONG_INFO(v) do { cl_ulong x_ = (v); return shim_copy_info(size, value, size_ret, &x_, sizeof x_); } while (0)
#define SIZE_INFO(v)  do { size_t x_ = (v); return shim_copy_info(size, value, size_ret, &x_, sizeof x_); } while (0)
#define BOOL_INFO(v)  do { cl_bool x_ = (v); return shim_copy_info(size, value, size_ret, &x_, sizeof x_); } while (0)
#define STRING_INFO(s) return shim_copy_string(size, value, size_ret, (s))

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
    default: return CL_INVALID_VALUE;
    }
}
