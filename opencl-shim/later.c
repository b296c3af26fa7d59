/* What OpenCL 1.2 to 3.0 declare beyond the core the card runs, so every program
 * links. Some of it works: rect transfers (one transfer per row), migration (a
 * marker), buffers with an empty property list, kernel clones, compiling (a build:
 * there is no linker, as CL_DEVICE_LINKER_AVAILABLE says), context destructor
 * callbacks. What the emulated card does not have (images, samplers, pipes, SVM,
 * IL, sub-devices, host timers, built-in and native kernels, device-side queues,
 * sub-groups) answers with the error code the specification gives for a device
 * without it, after the handles it is given are checked. */
#include <stdlib.h>
#include "shim.h"

/* --- rect transfers ------------------------------------------------------ */

/* Offsets of a 3D region in a buffer or host memory, with OpenCL's defaults for
 * zero pitches; 0 when the arguments are invalid. */
static int rect_pitches(const size_t *region, size_t *row_pitch, size_t *slice_pitch)
{
    if (!region || region[0] == 0 || region[1] == 0 || region[2] == 0) return 0;
    if (*row_pitch == 0) *row_pitch = region[0];
    else if (*row_pitch < region[0]) return 0;
    if (*slice_pitch == 0) *slice_pitch = region[1] * *row_pitch;
    else if (*slice_pitch < region[1] * *row_pitch || *slice_pitch % *row_pitch != 0) return 0;
    return 1;
}

static size_t rect_offset(const size_t *origin, size_t row_pitch, size_t slice_pitch)
{
    return origin[2] * slice_pitch + origin[1] * row_pitch + origin[0];
}

/* The last byte a region touches, past its origin. */
static size_t rect_extent(const size_t *region, size_t row_pitch, size_t slice_pitch)
{
    return (region[2] - 1) * slice_pitch + (region[1] - 1) * row_pitch + region[0];
}

enum rect_kind { RECT_READ, RECT_WRITE, RECT_COPY };

/* One command per row, each after the wait list; their events joined by a marker
 * that stands for the whole transfer. */
static cl_int rect(enum rect_kind kind, cl_command_queue q, cl_mem buffer, cl_mem other, cl_bool blocking,
                   const size_t *buffer_origin, const size_t *other_origin, const size_t *region,
                   size_t buffer_row, size_t buffer_slice, size_t other_row, size_t other_slice, void *host,
                   cl_uint n, const cl_event *waits, cl_event *event)
{
    if (!shim_valid(q, MAGIC_QUEUE)) return CL_INVALID_COMMAND_QUEUE;
    if (!shim_valid(buffer, MAGIC_MEM) || (kind == RECT_COPY && !shim_valid(other, MAGIC_MEM))) return CL_INVALID_MEM_OBJECT;
    if (kind != RECT_COPY && !host) return CL_INVALID_VALUE;
    if (!buffer_origin || !other_origin) return CL_INVALID_VALUE;
    if (!rect_pitches(region, &buffer_row, &buffer_slice) || !rect_pitches(region, &other_row, &other_slice))
        return CL_INVALID_VALUE;
    size_t base = rect_offset(buffer_origin, buffer_row, buffer_slice);
    if (base + rect_extent(region, buffer_row, buffer_slice) > buffer->size) return CL_INVALID_VALUE;
    size_t other_base = rect_offset(other_origin, other_row, other_slice);
    if (kind == RECT_COPY && other_base + rect_extent(region, other_row, other_slice) > other->size) return CL_INVALID_VALUE;
    cl_int st = shim_check_waits(q, n, waits);
    if (st != CL_SUCCESS) return st;

    size_t rows = region[1] * region[2];
    cl_event *done = calloc(rows, sizeof *done);
    if (!done) return CL_OUT_OF_HOST_MEMORY;
    size_t issued = 0;
    for (size_t z = 0; z < region[2] && st == CL_SUCCESS; z++) {
        for (size_t y = 0; y < region[1] && st == CL_SUCCESS; y++) {
            size_t at = base + z * buffer_slice + y * buffer_row;
            size_t at_other = other_base + z * other_slice + y * other_row;
            switch (kind) {
            case RECT_READ:
                st = clEnqueueReadBuffer(q, buffer, CL_FALSE, at, region[0], (char *)host + at_other, n, waits, &done[issued]);
                break;
            case RECT_WRITE:
                st = clEnqueueWriteBuffer(q, buffer, CL_FALSE, at, region[0], (char *)host + at_other, n, waits, &done[issued]);
                break;
            case RECT_COPY:
                st = clEnqueueCopyBuffer(q, buffer, other, at, at_other, region[0], n, waits, &done[issued]);
                break;
            }
            if (st == CL_SUCCESS) issued++;
        }
    }
    cl_event joined = NULL;
    if (st == CL_SUCCESS) st = clEnqueueMarkerWithWaitList(q, (cl_uint)issued, done, &joined);
    if (st == CL_SUCCESS && blocking) st = clWaitForEvents(1, &joined);
    for (size_t i = 0; i < issued; i++) clReleaseEvent(done[i]);
    free(done);
    if (joined && (st != CL_SUCCESS || !event)) clReleaseEvent(joined);
    else if (event) *event = joined;
    return st;
}

CL_API_ENTRY cl_int CL_API_CALL
clEnqueueReadBufferRect(cl_command_queue q, cl_mem buffer, cl_bool blocking, const size_t *buffer_origin,
                        const size_t *host_origin, const size_t *region, size_t buffer_row_pitch,
                        size_t buffer_slice_pitch, size_t host_row_pitch, size_t host_slice_pitch, void *ptr,
                        cl_uint n, const cl_event *waits, cl_event *event)
{
    return rect(RECT_READ, q, buffer, NULL, blocking, buffer_origin, host_origin, region, buffer_row_pitch,
                buffer_slice_pitch, host_row_pitch, host_slice_pitch, ptr, n, waits, event);
}

CL_API_ENTRY cl_int CL_API_CALL
clEnqueueWriteBufferRect(cl_command_queue q, cl_mem buffer, cl_bool blocking, const size_t *buffer_origin,
                         const size_t *host_origin, const size_t *region, size_t buffer_row_pitch,
                         size_t buffer_slice_pitch, size_t host_row_pitch, size_t host_slice_pitch, const void *ptr,
                         cl_uint n, const cl_event *waits, cl_event *event)
{
    return rect(RECT_WRITE, q, buffer, NULL, blocking, buffer_origin, host_origin, region, buffer_row_pitch,
                buffer_slice_pitch, host_row_pitch, host_slice_pitch, (void *)ptr, n, waits, event);
}

CL_API_ENTRY cl_int CL_API_CALL
clEnqueueCopyBufferRect(cl_command_queue q, cl_mem src, cl_mem dst, const size_t *src_origin, const size_t *dst_origin,
                        const size_t *region, size_t src_row_pitch, size_t src_slice_pitch, size_t dst_row_pitch,
                        size_t dst_slice_pitch, cl_uint n, const cl_event *waits, cl_event *event)
{
    return rect(RECT_COPY, q, src, dst, CL_FALSE, src_origin, dst_origin, region, src_row_pitch, src_slice_pitch,
                dst_row_pitch, dst_slice_pitch, NULL, n, waits, event);
}

/* --- what works as a simpler call ----------------------------------------- */

CL_API_ENTRY cl_int CL_API_CALL
clEnqueueMigrateMemObjects(cl_command_queue q, cl_uint count, const cl_mem *objects, cl_mem_migration_flags flags,
                           cl_uint n, const cl_event *waits, cl_event *event)
{
    if (!shim_valid(q, MAGIC_QUEUE)) return CL_INVALID_COMMAND_QUEUE;
    if (count == 0 || !objects) return CL_INVALID_VALUE;
    if (flags & ~(cl_mem_migration_flags)(CL_MIGRATE_MEM_OBJECT_HOST | CL_MIGRATE_MEM_OBJECT_CONTENT_UNDEFINED))
        return CL_INVALID_VALUE;
    for (cl_uint i = 0; i < count; i++) {
        if (!shim_valid(objects[i], MAGIC_MEM)) return CL_INVALID_MEM_OBJECT;
        if (objects[i]->context != q->context) return CL_INVALID_CONTEXT;
    }
    /* One device, whose memory the buffers already live in: ordering is all there is to do. */
    return clEnqueueMarkerWithWaitList(q, n, waits, event);
}

CL_API_ENTRY cl_mem CL_API_CALL
clCreateBufferWithProperties(cl_context context, const cl_mem_properties *properties, cl_mem_flags flags, size_t size,
                             void *host_ptr, cl_int *errcode_ret)
{
    if (!shim_valid(context, MAGIC_CONTEXT)) SHIM_ERR(CL_INVALID_CONTEXT);
    /* No buffer property is supported: only an empty list is accepted. */
    if (properties && properties[0] != 0) SHIM_ERR(CL_INVALID_PROPERTY);
    return clCreateBuffer(context, flags, size, host_ptr, errcode_ret);
}

CL_API_ENTRY cl_kernel CL_API_CALL clCloneKernel(cl_kernel source, cl_int *errcode_ret)
{
    if (!shim_valid(source, MAGIC_KERNEL)) SHIM_ERR(CL_INVALID_KERNEL);
    cl_kernel k = clCreateKernel(source->program, source->name, errcode_ret);
    if (k) memcpy(k->args, source->args, source->info->nargs * sizeof *k->args);
    return k;
}

CL_API_ENTRY cl_int CL_API_CALL
clCompileProgram(cl_program p, cl_uint num_devices, const cl_device_id *devices, const char *options,
                 cl_uint num_headers, const cl_program *headers, const char **header_names,
                 void (CL_CALLBACK *notify)(cl_program, void *), void *data)
{
    if (!shim_valid(p, MAGIC_PROGRAM)) return CL_INVALID_PROGRAM;
    if ((num_headers == 0) != (headers == NULL) || (num_headers && !header_names)) return CL_INVALID_VALUE;
    for (cl_uint i = 0; i < num_headers; i++)
        if (!shim_valid(headers[i], MAGIC_PROGRAM)) return CL_INVALID_PROGRAM;
    /* Embedded headers would need the device's own compiler to see them: refused, as a failed compile. */
    if (num_headers) return CL_COMPILE_PROGRAM_FAILURE;
    return clBuildProgram(p, num_devices, devices, options, notify, data);
}

CL_API_ENTRY cl_program CL_API_CALL
clLinkProgram(cl_context context, cl_uint num_devices, const cl_device_id *devices, const char *options,
              cl_uint num_programs, const cl_program *programs, void (CL_CALLBACK *notify)(cl_program, void *),
              void *data, cl_int *errcode_ret)
{
    if (!shim_valid(context, MAGIC_CONTEXT)) SHIM_ERR(CL_INVALID_CONTEXT);
    if (num_programs == 0 || !programs) SHIM_ERR(CL_INVALID_VALUE);
    SHIM_ERR(CL_LINKER_NOT_AVAILABLE);  /* CL_DEVICE_LINKER_AVAILABLE is false: build with clBuildProgram */
}

CL_API_ENTRY cl_int CL_API_CALL
clSetContextDestructorCallback(cl_context context, void (CL_CALLBACK *notify)(cl_context, void *), void *data)
{
    if (!shim_valid(context, MAGIC_CONTEXT)) return CL_INVALID_CONTEXT;
    if (!notify) return CL_INVALID_VALUE;
    struct shim_context_destructor *d = malloc(sizeof *d);
    if (!d) return CL_OUT_OF_HOST_MEMORY;
    *d = (struct shim_context_destructor){ notify, data, context->destructors };  /* called last registered first */
    context->destructors = d;
    return CL_SUCCESS;
}

/* --- what the card does not have ------------------------------------------ */

/* Images: CL_DEVICE_IMAGE_SUPPORT is false. */
CL_API_ENTRY cl_mem CL_API_CALL
clCreateImage(cl_context context, cl_mem_flags flags, const cl_image_format *format, const cl_image_desc *desc,
              void *host_ptr, cl_int *errcode_ret)
{
    if (!shim_valid(context, MAGIC_CONTEXT)) SHIM_ERR(CL_INVALID_CONTEXT);
    SHIM_ERR(CL_INVALID_OPERATION);
}

CL_API_ENTRY cl_mem CL_API_CALL
clCreateImageWithProperties(cl_context context, const cl_mem_properties *properties, cl_mem_flags flags,
                            const cl_image_format *format, const cl_image_desc *desc, void *host_ptr, cl_int *errcode_ret)
{
    return clCreateImage(context, flags, format, desc, host_ptr, errcode_ret);
}

CL_API_ENTRY cl_mem CL_API_CALL
clCreateImage2D(cl_context context, cl_mem_flags flags, const cl_image_format *format, size_t width, size_t height,
                size_t row_pitch, void *host_ptr, cl_int *errcode_ret)
{
    return clCreateImage(context, flags, format, NULL, host_ptr, errcode_ret);
}

CL_API_ENTRY cl_mem CL_API_CALL
clCreateImage3D(cl_context context, cl_mem_flags flags, const cl_image_format *format, size_t width, size_t height,
                size_t depth, size_t row_pitch, size_t slice_pitch, void *host_ptr, cl_int *errcode_ret)
{
    return clCreateImage(context, flags, format, NULL, host_ptr, errcode_ret);
}

CL_API_ENTRY cl_int CL_API_CALL
clGetSupportedImageFormats(cl_context context, cl_mem_flags flags, cl_mem_object_type type, cl_uint num_entries,
                           cl_image_format *formats, cl_uint *num_formats)
{
    if (!shim_valid(context, MAGIC_CONTEXT)) return CL_INVALID_CONTEXT;
    if (num_entries == 0 && formats) return CL_INVALID_VALUE;
    if (num_formats) *num_formats = 0;  /* none: the device has no image support */
    return CL_SUCCESS;
}

/* No image can exist: any handle given as one is not a valid image. */
CL_API_ENTRY cl_int CL_API_CALL
clGetImageInfo(cl_mem image, cl_image_info param, size_t size, void *value, size_t *size_ret)
{
    return CL_INVALID_MEM_OBJECT;
}

CL_API_ENTRY cl_int CL_API_CALL
clEnqueueReadImage(cl_command_queue q, cl_mem image, cl_bool blocking, const size_t *origin, const size_t *region,
                   size_t row_pitch, size_t slice_pitch, void *ptr, cl_uint n, const cl_event *waits, cl_event *event)
{
    return shim_valid(q, MAGIC_QUEUE) ? CL_INVALID_MEM_OBJECT : CL_INVALID_COMMAND_QUEUE;
}

CL_API_ENTRY cl_int CL_API_CALL
clEnqueueWriteImage(cl_command_queue q, cl_mem image, cl_bool blocking, const size_t *origin, const size_t *region,
                    size_t row_pitch, size_t slice_pitch, const void *ptr, cl_uint n, const cl_event *waits, cl_event *event)
{
    return shim_valid(q, MAGIC_QUEUE) ? CL_INVALID_MEM_OBJECT : CL_INVALID_COMMAND_QUEUE;
}

CL_API_ENTRY cl_int CL_API_CALL
clEnqueueFillImage(cl_command_queue q, cl_mem image, const void *color, const size_t *origin, const size_t *region,
                   cl_uint n, const cl_event *waits, cl_event *event)
{
    return shim_valid(q, MAGIC_QUEUE) ? CL_INVALID_MEM_OBJECT : CL_INVALID_COMMAND_QUEUE;
}

CL_API_ENTRY cl_int CL_API_CALL
clEnqueueCopyImage(cl_command_queue q, cl_mem src, cl_mem dst, const size_t *src_origin, const size_t *dst_origin,
                   const size_t *region, cl_uint n, const cl_event *waits, cl_event *event)
{
    return shim_valid(q, MAGIC_QUEUE) ? CL_INVALID_MEM_OBJECT : CL_INVALID_COMMAND_QUEUE;
}

CL_API_ENTRY cl_int CL_API_CALL
clEnqueueCopyImageToBuffer(cl_command_queue q, cl_mem src, cl_mem dst, const size_t *src_origin, const size_t *region,
                           size_t dst_offset, cl_uint n, const cl_event *waits, cl_event *event)
{
    return shim_valid(q, MAGIC_QUEUE) ? CL_INVALID_MEM_OBJECT : CL_INVALID_COMMAND_QUEUE;
}

CL_API_ENTRY cl_int CL_API_CALL
clEnqueueCopyBufferToImage(cl_command_queue q, cl_mem src, cl_mem dst, size_t src_offset, const size_t *dst_origin,
                           const size_t *region, cl_uint n, const cl_event *waits, cl_event *event)
{
    return shim_valid(q, MAGIC_QUEUE) ? CL_INVALID_MEM_OBJECT : CL_INVALID_COMMAND_QUEUE;
}

CL_API_ENTRY void *CL_API_CALL
clEnqueueMapImage(cl_command_queue q, cl_mem image, cl_bool blocking, cl_map_flags flags, const size_t *origin,
                  const size_t *region, size_t *row_pitch, size_t *slice_pitch, cl_uint n, const cl_event *waits,
                  cl_event *event, cl_int *errcode_ret)
{
    if (!shim_valid(q, MAGIC_QUEUE)) SHIM_ERR(CL_INVALID_COMMAND_QUEUE);
    SHIM_ERR(CL_INVALID_MEM_OBJECT);
}

/* Samplers exist for images only. */
CL_API_ENTRY cl_sampler CL_API_CALL
clCreateSampler(cl_context context, cl_bool normalized, cl_addressing_mode addressing, cl_filter_mode filter,
                cl_int *errcode_ret)
{
    if (!shim_valid(context, MAGIC_CONTEXT)) SHIM_ERR(CL_INVALID_CONTEXT);
    SHIM_ERR(CL_INVALID_OPERATION);
}

CL_API_ENTRY cl_sampler CL_API_CALL
clCreateSamplerWithProperties(cl_context context, const cl_sampler_properties *properties, cl_int *errcode_ret)
{
    return clCreateSampler(context, CL_FALSE, 0, 0, errcode_ret);
}

CL_API_ENTRY cl_int CL_API_CALL clRetainSampler(cl_sampler sampler) { return CL_INVALID_SAMPLER; }
CL_API_ENTRY cl_int CL_API_CALL clReleaseSampler(cl_sampler sampler) { return CL_INVALID_SAMPLER; }

CL_API_ENTRY cl_int CL_API_CALL
clGetSamplerInfo(cl_sampler sampler, cl_sampler_info param, size_t size, void *value, size_t *size_ret)
{
    return CL_INVALID_SAMPLER;
}

/* Pipes: the card has none (optional in OpenCL 3.0). */
CL_API_ENTRY cl_mem CL_API_CALL
clCreatePipe(cl_context context, cl_mem_flags flags, cl_uint packet_size, cl_uint max_packets,
             const cl_pipe_properties *properties, cl_int *errcode_ret)
{
    if (!shim_valid(context, MAGIC_CONTEXT)) SHIM_ERR(CL_INVALID_CONTEXT);
    SHIM_ERR(CL_INVALID_OPERATION);
}

CL_API_ENTRY cl_int CL_API_CALL
clGetPipeInfo(cl_mem pipe, cl_pipe_info param, size_t size, void *value, size_t *size_ret)
{
    return CL_INVALID_OPERATION;
}

/* Shared virtual memory: the card has none (optional in OpenCL 3.0). */
CL_API_ENTRY void *CL_API_CALL clSVMAlloc(cl_context context, cl_svm_mem_flags flags, size_t size, cl_uint alignment)
{
    return NULL;
}

CL_API_ENTRY void CL_API_CALL clSVMFree(cl_context context, void *pointer) {}

CL_API_ENTRY cl_int CL_API_CALL
clEnqueueSVMFree(cl_command_queue q, cl_uint count, void *pointers[],
                 void (CL_CALLBACK *notify)(cl_command_queue, cl_uint, void *[], void *), void *data,
                 cl_uint n, const cl_event *waits, cl_event *event)
{
    return shim_valid(q, MAGIC_QUEUE) ? CL_INVALID_OPERATION : CL_INVALID_COMMAND_QUEUE;
}

CL_API_ENTRY cl_int CL_API_CALL
clEnqueueSVMMemcpy(cl_command_queue q, cl_bool blocking, void *dst, const void *src, size_t size, cl_uint n,
                   const cl_event *waits, cl_event *event)
{
    return shim_valid(q, MAGIC_QUEUE) ? CL_INVALID_OPERATION : CL_INVALID_COMMAND_QUEUE;
}

CL_API_ENTRY cl_int CL_API_CALL
clEnqueueSVMMemFill(cl_command_queue q, void *pointer, const void *pattern, size_t pattern_size, size_t size,
                    cl_uint n, const cl_event *waits, cl_event *event)
{
    return shim_valid(q, MAGIC_QUEUE) ? CL_INVALID_OPERATION : CL_INVALID_COMMAND_QUEUE;
}

CL_API_ENTRY cl_int CL_API_CALL
clEnqueueSVMMap(cl_command_queue q, cl_bool blocking, cl_map_flags flags, void *pointer, size_t size, cl_uint n,
                const cl_event *waits, cl_event *event)
{
    return shim_valid(q, MAGIC_QUEUE) ? CL_INVALID_OPERATION : CL_INVALID_COMMAND_QUEUE;
}

CL_API_ENTRY cl_int CL_API_CALL
clEnqueueSVMUnmap(cl_command_queue q, void *pointer, cl_uint n, const cl_event *waits, cl_event *event)
{
    return shim_valid(q, MAGIC_QUEUE) ? CL_INVALID_OPERATION : CL_INVALID_COMMAND_QUEUE;
}

CL_API_ENTRY cl_int CL_API_CALL
clEnqueueSVMMigrateMem(cl_command_queue q, cl_uint count, const void **pointers, const size_t *sizes,
                       cl_mem_migration_flags flags, cl_uint n, const cl_event *waits, cl_event *event)
{
    return shim_valid(q, MAGIC_QUEUE) ? CL_INVALID_OPERATION : CL_INVALID_COMMAND_QUEUE;
}

CL_API_ENTRY cl_int CL_API_CALL clSetKernelArgSVMPointer(cl_kernel k, cl_uint index, const void *value)
{
    return shim_valid(k, MAGIC_KERNEL) ? CL_INVALID_OPERATION : CL_INVALID_KERNEL;
}

CL_API_ENTRY cl_int CL_API_CALL clSetKernelExecInfo(cl_kernel k, cl_kernel_exec_info param, size_t size, const void *value)
{
    return shim_valid(k, MAGIC_KERNEL) ? CL_INVALID_OPERATION : CL_INVALID_KERNEL;
}

/* Intermediate language (SPIR-V): the card takes OpenCL C and xclbins only. */
CL_API_ENTRY cl_program CL_API_CALL clCreateProgramWithIL(cl_context context, const void *il, size_t length, cl_int *errcode_ret)
{
    if (!shim_valid(context, MAGIC_CONTEXT)) SHIM_ERR(CL_INVALID_CONTEXT);
    if (!il || length == 0) SHIM_ERR(CL_INVALID_VALUE);
    SHIM_ERR(CL_INVALID_OPERATION);
}

CL_API_ENTRY cl_int CL_API_CALL
clSetProgramSpecializationConstant(cl_program p, cl_uint id, size_t size, const void *value)
{
    return shim_valid(p, MAGIC_PROGRAM) ? CL_INVALID_OPERATION : CL_INVALID_PROGRAM;
}

CL_API_ENTRY cl_int CL_API_CALL
clSetProgramReleaseCallback(cl_program p, void (CL_CALLBACK *notify)(cl_program, void *), void *data)
{
    return shim_valid(p, MAGIC_PROGRAM) ? CL_INVALID_OPERATION : CL_INVALID_PROGRAM;
}

/* One device that cannot be partitioned (CL_DEVICE_PARTITION_MAX_SUB_DEVICES is 0). */
CL_API_ENTRY cl_int CL_API_CALL
clCreateSubDevices(cl_device_id device, const cl_device_partition_property *properties, cl_uint num_devices,
                   cl_device_id *out, cl_uint *num_ret)
{
    return shim_is_our_device(device) ? CL_INVALID_VALUE : CL_INVALID_DEVICE;
}

/* No synchronized device and host timer. */
CL_API_ENTRY cl_int CL_API_CALL clGetHostTimer(cl_device_id device, cl_ulong *host_timestamp)
{
    if (!shim_is_our_device(device)) return CL_INVALID_DEVICE;
    return host_timestamp ? CL_INVALID_OPERATION : CL_INVALID_VALUE;
}

CL_API_ENTRY cl_int CL_API_CALL clGetDeviceAndHostTimer(cl_device_id device, cl_ulong *device_timestamp, cl_ulong *host_timestamp)
{
    if (!shim_is_our_device(device)) return CL_INVALID_DEVICE;
    return device_timestamp && host_timestamp ? CL_INVALID_OPERATION : CL_INVALID_VALUE;
}

/* No built-in kernels (CL_DEVICE_BUILT_IN_KERNELS is empty): every name is unknown. */
CL_API_ENTRY cl_program CL_API_CALL
clCreateProgramWithBuiltInKernels(cl_context context, cl_uint num_devices, const cl_device_id *devices,
                                  const char *names, cl_int *errcode_ret)
{
    if (!shim_valid(context, MAGIC_CONTEXT)) SHIM_ERR(CL_INVALID_CONTEXT);
    SHIM_ERR(CL_INVALID_VALUE);
}

/* No native kernels (CL_EXEC_NATIVE_KERNEL is not in CL_DEVICE_EXECUTION_CAPABILITIES). */
CL_API_ENTRY cl_int CL_API_CALL
clEnqueueNativeKernel(cl_command_queue q, void (CL_CALLBACK *fn)(void *), void *args, size_t args_size,
                      cl_uint num_mems, const cl_mem *mems, const void **locations, cl_uint n, const cl_event *waits,
                      cl_event *event)
{
    return shim_valid(q, MAGIC_QUEUE) ? CL_INVALID_OPERATION : CL_INVALID_COMMAND_QUEUE;
}

/* No device-side queues, no sub-groups. */
CL_API_ENTRY cl_int CL_API_CALL
clSetDefaultDeviceCommandQueue(cl_context context, cl_device_id device, cl_command_queue q)
{
    if (!shim_valid(context, MAGIC_CONTEXT)) return CL_INVALID_CONTEXT;
    return shim_is_our_device(device) ? CL_INVALID_OPERATION : CL_INVALID_DEVICE;
}

CL_API_ENTRY cl_int CL_API_CALL
clGetKernelSubGroupInfo(cl_kernel k, cl_device_id device, cl_kernel_sub_group_info param, size_t input_size,
                        const void *input, size_t size, void *value, size_t *size_ret)
{
    return shim_valid(k, MAGIC_KERNEL) ? CL_INVALID_OPERATION : CL_INVALID_KERNEL;
}

/* Deprecated since 1.1; queue properties are set at creation. */
CL_API_ENTRY cl_int CL_API_CALL
clSetCommandQueueProperty(cl_command_queue q, cl_command_queue_properties properties, cl_bool enable,
                          cl_command_queue_properties *old)
{
    return shim_valid(q, MAGIC_QUEUE) ? CL_INVALID_OPERATION : CL_INVALID_COMMAND_QUEUE;
}
