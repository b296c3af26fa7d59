/* Contexts and command queues. */
#include <stdlib.h>
#include "shim.h"

static cl_int check_properties(const cl_context_properties *props, cl_context_properties *copy, size_t *n)
{
    *n = 0;
    if (!props) return CL_SUCCESS;
    for (size_t i = 0; props[i] != 0; i += 2) {
        if (props[i] != CL_CONTEXT_PLATFORM || i > 0) return CL_INVALID_PROPERTY;
        if ((cl_platform_id)props[i + 1] != &shim_platform) return CL_INVALID_PLATFORM;
        copy[0] = props[0];
        copy[1] = props[1];
        copy[2] = 0;
        *n = 3;
    }
    return CL_SUCCESS;
}

static cl_context new_context(const cl_context_properties *props,
                              void (CL_CALLBACK *notify)(const char *, const void *, size_t, void *), void *data,
                              cl_int *errcode_ret)
{
    if (!notify && data) SHIM_ERR(CL_INVALID_VALUE);
    cl_context c = shim_new(sizeof *c, MAGIC_CONTEXT);
    if (!c) SHIM_ERR(CL_OUT_OF_HOST_MEMORY);
    cl_int st = check_properties(props, c->properties, &c->nproperties);
    if (st != CL_SUCCESS) { shim_free(c); SHIM_ERR(st); }
    c->notify = notify;
    c->notify_data = data;
    SHIM_OK();
    return c;
}

CL_API_ENTRY cl_context CL_API_CALL
clCreateContext(const cl_context_properties *props, cl_uint n, const cl_device_id *devices,
                void (CL_CALLBACK *notify)(const char *, const void *, size_t, void *), void *data, cl_int *errcode_ret)
{
    if (n == 0 || !devices) SHIM_ERR(CL_INVALID_VALUE);
    if (shim_init() != CL_SUCCESS) SHIM_ERR(CL_INVALID_PLATFORM);
    for (cl_uint i = 0; i < n; i++) if (!shim_is_our_device(devices[i])) SHIM_ERR(CL_INVALID_DEVICE);
    return new_context(props, notify, data, errcode_ret);
}

int shim_device_matches(cl_device_type type);

CL_API_ENTRY cl_context CL_API_CALL
clCreateContextFromType(const cl_context_properties *props, cl_device_type type,
                        void (CL_CALLBACK *notify)(const char *, const void *, size_t, void *), void *data, cl_int *errcode_ret)
{
    if (shim_init() != CL_SUCCESS) SHIM_ERR(CL_INVALID_PLATFORM);
    int match = shim_device_matches(type);
    if (match < 0) SHIM_ERR(CL_INVALID_DEVICE_TYPE);
    if (!match) SHIM_ERR(CL_DEVICE_NOT_FOUND);
    return new_context(props, notify, data, errcode_ret);
}

CL_API_ENTRY cl_int CL_API_CALL clRetainContext(cl_context c)
{
    if (!shim_valid(c, MAGIC_CONTEXT)) return CL_INVALID_CONTEXT;
    c->h.refs++;
    return CL_SUCCESS;
}

CL_API_ENTRY cl_int CL_API_CALL clReleaseContext(cl_context c)
{
    if (!shim_valid(c, MAGIC_CONTEXT)) return CL_INVALID_CONTEXT;
    if (--c->h.refs > 0) return CL_SUCCESS;
    if (c->internal) { c->internal->context = NULL; clReleaseCommandQueue(c->internal); }
    for (struct shim_context_destructor *d = c->destructors, *next; d; d = next) {
        next = d->next;
        d->fn(c, d->data);
        free(d);
    }
    shim_free(c);
    return CL_SUCCESS;
}

CL_API_ENTRY cl_int CL_API_CALL
clGetContextInfo(cl_context c, cl_context_info param, size_t size, void *value, size_t *size_ret)
{
    if (!shim_valid(c, MAGIC_CONTEXT)) return CL_INVALID_CONTEXT;
    switch (param) {
    case CL_CONTEXT_REFERENCE_COUNT: return shim_copy_info(size, value, size_ret, &c->h.refs, sizeof(cl_uint));
    case CL_CONTEXT_NUM_DEVICES: { cl_uint n = 1; return shim_copy_info(size, value, size_ret, &n, sizeof n); }
    case CL_CONTEXT_DEVICES: { cl_device_id d = &shim_device; return shim_copy_info(size, value, size_ret, &d, sizeof d); }
    case CL_CONTEXT_PROPERTIES:
        return shim_copy_info(size, value, size_ret, c->properties, c->nproperties * sizeof(cl_context_properties));
    default: return CL_INVALID_VALUE;
    }
}

static cl_command_queue new_queue(cl_context c, cl_device_id d, cl_command_queue_properties props, cl_int *errcode_ret)
{
    if (!shim_valid(c, MAGIC_CONTEXT)) SHIM_ERR(CL_INVALID_CONTEXT);
    if (!shim_is_our_device(d)) SHIM_ERR(CL_INVALID_DEVICE);
    if (props & ~(cl_command_queue_properties)(CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE | CL_QUEUE_PROFILING_ENABLE))
        SHIM_ERR(props & (CL_QUEUE_ON_DEVICE | CL_QUEUE_ON_DEVICE_DEFAULT) ? CL_INVALID_QUEUE_PROPERTIES : CL_INVALID_VALUE);
    cl_command_queue q = shim_new(sizeof *q, MAGIC_QUEUE);
    if (!q) SHIM_ERR(CL_OUT_OF_HOST_MEMORY);
    q->h.id = shim_next_id(ID_QUEUE);
    q->context = c;
    q->properties = props;
    struct kumo_fpga_queue *p = shim_command(KUMO_FPGA_QUEUE_CREATE, sizeof *p, 0, 0, NULL, 0, NULL);
    if (!p) { shim_free(q); SHIM_ERR(CL_OUT_OF_RESOURCES); }
    p->id = q->h.id;
    p->flags = (props & CL_QUEUE_PROFILING_ENABLE ? KUMO_FPGA_QUEUE_PROFILING : 0) |
               (props & CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE ? KUMO_FPGA_QUEUE_OUT_OF_ORDER : 0);
    clRetainContext(c);
    SHIM_OK();
    return q;
}

CL_API_ENTRY cl_command_queue CL_API_CALL
clCreateCommandQueue(cl_context c, cl_device_id d, cl_command_queue_properties props, cl_int *errcode_ret)
{
    return new_queue(c, d, props, errcode_ret);
}

CL_API_ENTRY cl_command_queue CL_API_CALL
clCreateCommandQueueWithProperties(cl_context c, cl_device_id d, const cl_queue_properties *list, cl_int *errcode_ret)
{
    cl_command_queue_properties props = 0;
    for (size_t i = 0; list && list[i] != 0; i += 2) {
        if (list[i] == CL_QUEUE_PROPERTIES) props = (cl_command_queue_properties)list[i + 1];
        else if (list[i] == CL_QUEUE_SIZE) SHIM_ERR(CL_INVALID_QUEUE_PROPERTIES);
        else SHIM_ERR(CL_INVALID_VALUE);
    }
    return new_queue(c, d, props, errcode_ret);
}

/* The context's own queue, for the initial contents of buffers. */
cl_command_queue shim_internal_queue(cl_context c)
{
    if (!c->internal) {
        cl_int st;
        c->internal = new_queue(c, &shim_device, 0, &st);
        if (c->internal) c->h.refs--;   /* the context holds its own queue; no cycle */
    }
    return c->internal;
}

CL_API_ENTRY cl_int CL_API_CALL clRetainCommandQueue(cl_command_queue q)
{
    if (!shim_valid(q, MAGIC_QUEUE)) return CL_INVALID_COMMAND_QUEUE;
    q->h.refs++;
    return CL_SUCCESS;
}

CL_API_ENTRY cl_int CL_API_CALL clReleaseCommandQueue(cl_command_queue q)
{
    if (!shim_valid(q, MAGIC_QUEUE)) return CL_INVALID_COMMAND_QUEUE;
    if (--q->h.refs > 0) return CL_SUCCESS;
    struct kumo_fpga_id *p = shim_command(KUMO_FPGA_QUEUE_RELEASE, sizeof *p, 0, 0, NULL, 0, NULL);
    if (p) p->id = q->h.id;
    cl_context c = q->context;
    shim_free(q);
    if (c && c->internal != q) clReleaseContext(c);
    return CL_SUCCESS;
}

CL_API_ENTRY cl_int CL_API_CALL
clGetCommandQueueInfo(cl_command_queue q, cl_command_queue_info param, size_t size, void *value, size_t *size_ret)
{
    if (!shim_valid(q, MAGIC_QUEUE)) return CL_INVALID_COMMAND_QUEUE;
    switch (param) {
    case CL_QUEUE_CONTEXT: return shim_copy_info(size, value, size_ret, &q->context, sizeof q->context);
    case CL_QUEUE_DEVICE: { cl_device_id d = &shim_device; return shim_copy_info(size, value, size_ret, &d, sizeof d); }
    case CL_QUEUE_REFERENCE_COUNT: return shim_copy_info(size, value, size_ret, &q->h.refs, sizeof(cl_uint));
    case CL_QUEUE_PROPERTIES: return shim_copy_info(size, value, size_ret, &q->properties, sizeof q->properties);
    default: return CL_INVALID_VALUE;
    }
}
