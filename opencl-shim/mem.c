/* Buffers and their transfers. Data moves straight between the program's
 * memory and the device: the library passes guest addresses, never copies. */
#include <stdlib.h>
#include "shim.h"

cl_command_queue shim_internal_queue(cl_context c);

#define ACCESS_FLAGS (CL_MEM_READ_WRITE | CL_MEM_WRITE_ONLY | CL_MEM_READ_ONLY)
#define HOST_PTR_FLAGS (CL_MEM_USE_HOST_PTR | CL_MEM_ALLOC_HOST_PTR | CL_MEM_COPY_HOST_PTR)
#define HOST_ACCESS_FLAGS (CL_MEM_HOST_WRITE_ONLY | CL_MEM_HOST_READ_ONLY | CL_MEM_HOST_NO_ACCESS)

static int more_than_one(cl_mem_flags f) { return (f & (f - 1)) != 0; }

int shim_mem_host_readable(cl_mem m) { return !(m->flags & (CL_MEM_HOST_WRITE_ONLY | CL_MEM_HOST_NO_ACCESS)); }
int shim_mem_host_writable(cl_mem m) { return !(m->flags & (CL_MEM_HOST_READ_ONLY | CL_MEM_HOST_NO_ACCESS)); }

static uint32_t device_access(cl_mem_flags f)
{
    if (f & CL_MEM_READ_ONLY) return KUMO_FPGA_MEM_READ;
    if (f & CL_MEM_WRITE_ONLY) return KUMO_FPGA_MEM_WRITE;
    return KUMO_FPGA_MEM_READ | KUMO_FPGA_MEM_WRITE;
}

static cl_int write_now(cl_mem m, const void *data)
{
    cl_command_queue q = shim_internal_queue(m->context);
    if (!q) return CL_OUT_OF_RESOURCES;
    return clEnqueueWriteBuffer(q, m, CL_TRUE, 0, m->size, data, 0, NULL, NULL);
}

CL_API_ENTRY cl_mem CL_API_CALL
clCreateBuffer(cl_context c, cl_mem_flags flags, size_t size, void *host_ptr, cl_int *errcode_ret)
{
    if (!shim_valid(c, MAGIC_CONTEXT)) SHIM_ERR(CL_INVALID_CONTEXT);
    const cl_mem_flags known = ACCESS_FLAGS | HOST_PTR_FLAGS | HOST_ACCESS_FLAGS;
    if ((flags & ~known) || more_than_one(flags & ACCESS_FLAGS) || more_than_one(flags & HOST_ACCESS_FLAGS) ||
        ((flags & CL_MEM_USE_HOST_PTR) && (flags & (CL_MEM_ALLOC_HOST_PTR | CL_MEM_COPY_HOST_PTR))))
        SHIM_ERR(CL_INVALID_VALUE);
    if (size == 0 || size > shim_info_data.max_alloc) SHIM_ERR(CL_INVALID_BUFFER_SIZE);
    int needs_ptr = (flags & (CL_MEM_USE_HOST_PTR | CL_MEM_COPY_HOST_PTR)) != 0;
    if (needs_ptr != (host_ptr != NULL)) SHIM_ERR(CL_INVALID_HOST_PTR);
    cl_mem m = shim_new(sizeof *m, MAGIC_MEM);
    if (!m) SHIM_ERR(CL_OUT_OF_HOST_MEMORY);
    m->h.id = shim_next_id(ID_MEM);
    m->context = c;
    m->flags = flags | ((flags & ACCESS_FLAGS) ? 0 : CL_MEM_READ_WRITE);
    m->size = size;
    m->host_ptr = (flags & CL_MEM_USE_HOST_PTR) ? host_ptr : NULL;
    struct kumo_fpga_mem *p = shim_command(KUMO_FPGA_MEM_ALLOC, sizeof *p, 0, 0, NULL, 0, NULL);
    if (!p) { shim_free(m); SHIM_ERR(CL_OUT_OF_RESOURCES); }
    p->id = m->h.id;
    p->flags = device_access(m->flags);
    p->size = size;
    clRetainContext(c);
    if (needs_ptr) {
        cl_int st = write_now(m, host_ptr);
        if (st != CL_SUCCESS) { clReleaseMemObject(m); SHIM_ERR(st == CL_INVALID_BUFFER_SIZE ? st : CL_MEM_OBJECT_ALLOCATION_FAILURE); }
    }
    SHIM_OK();
    return m;
}

CL_API_ENTRY cl_mem CL_API_CALL
clCreateSubBuffer(cl_mem parent, cl_mem_flags flags, cl_buffer_create_type type, const void *info, cl_int *errcode_ret)
{
    if (!shim_valid(parent, MAGIC_MEM) || parent->parent) SHIM_ERR(CL_INVALID_MEM_OBJECT);
    if (type != CL_BUFFER_CREATE_TYPE_REGION || !info) SHIM_ERR(CL_INVALID_VALUE);
    if ((flags & ~(ACCESS_FLAGS | HOST_ACCESS_FLAGS)) || more_than_one(flags & ACCESS_FLAGS) ||
        more_than_one(flags & HOST_ACCESS_FLAGS))
        SHIM_ERR(CL_INVALID_VALUE);
    if (((parent->flags & CL_MEM_WRITE_ONLY) && (flags & (CL_MEM_READ_WRITE | CL_MEM_READ_ONLY))) ||
        ((parent->flags & CL_MEM_READ_ONLY) && (flags & (CL_MEM_READ_WRITE | CL_MEM_WRITE_ONLY))))
        SHIM_ERR(CL_INVALID_VALUE);
    const cl_buffer_region *r = info;
    if (r->size == 0) SHIM_ERR(CL_INVALID_BUFFER_SIZE);
    if (r->origin > parent->size || r->size > parent->size - r->origin) SHIM_ERR(CL_INVALID_VALUE);
    if (r->origin % (shim_info_data.mem_base_align_bits / 8)) SHIM_ERR(CL_MISALIGNED_SUB_BUFFER_OFFSET);
    cl_mem m = shim_new(sizeof *m, MAGIC_MEM);
    if (!m) SHIM_ERR(CL_OUT_OF_HOST_MEMORY);
    m->h.id = shim_next_id(ID_MEM);
    m->context = parent->context;
    m->flags = (flags & ACCESS_FLAGS ? flags & ACCESS_FLAGS : parent->flags & ACCESS_FLAGS) |
               (parent->flags & HOST_PTR_FLAGS) |
               (flags & HOST_ACCESS_FLAGS ? flags & HOST_ACCESS_FLAGS : parent->flags & HOST_ACCESS_FLAGS);
    m->size = r->size;
    m->offset = r->origin;
    m->parent = parent;
    m->host_ptr = parent->host_ptr ? (char *)parent->host_ptr + r->origin : NULL;
    struct kumo_fpga_mem *p = shim_command(KUMO_FPGA_MEM_SUB, sizeof *p, 0, 0, NULL, 0, NULL);
    if (!p) { shim_free(m); SHIM_ERR(CL_OUT_OF_RESOURCES); }
    p->id = m->h.id;
    p->flags = device_access(m->flags);
    p->parent = parent->h.id;
    p->offset = r->origin;
    p->size = r->size;
    parent->h.refs++;
    parent->children++;
    clRetainContext(m->context);
    SHIM_OK();
    return m;
}

CL_API_ENTRY cl_int CL_API_CALL clRetainMemObject(cl_mem m)
{
    if (!shim_valid(m, MAGIC_MEM)) return CL_INVALID_MEM_OBJECT;
    m->h.refs++;
    return CL_SUCCESS;
}

CL_API_ENTRY cl_int CL_API_CALL clReleaseMemObject(cl_mem m)
{
    if (!shim_valid(m, MAGIC_MEM)) return CL_INVALID_MEM_OBJECT;
    if (--m->h.refs > 0) return CL_SUCCESS;
    struct kumo_fpga_id *p = shim_command(KUMO_FPGA_MEM_RELEASE, sizeof *p, 0, 0, NULL, 0, NULL);
    if (p) p->id = m->h.id;
    for (struct shim_destructor *d = m->destructors, *next; d; d = next) {
        next = d->next;
        d->fn(m, d->data);
        free(d);
    }
    while (m->mappings) {
        struct shim_mapping *next = m->mappings->next;
        if (m->mappings->owned) free(m->mappings->ptr);
        free(m->mappings);
        m->mappings = next;
    }
    cl_mem parent = m->parent;
    cl_context c = m->context;
    shim_free(m);
    if (parent) { parent->children--; clReleaseMemObject(parent); }
    clReleaseContext(c);
    return CL_SUCCESS;
}

CL_API_ENTRY cl_int CL_API_CALL
clSetMemObjectDestructorCallback(cl_mem m, void (CL_CALLBACK *fn)(cl_mem, void *), void *data)
{
    if (!shim_valid(m, MAGIC_MEM)) return CL_INVALID_MEM_OBJECT;
    if (!fn) return CL_INVALID_VALUE;
    struct shim_destructor *d = malloc(sizeof *d);
    if (!d) return CL_OUT_OF_HOST_MEMORY;
    *d = (struct shim_destructor){ fn, data, m->destructors };
    m->destructors = d;
    return CL_SUCCESS;
}

CL_API_ENTRY cl_int CL_API_CALL
clGetMemObjectInfo(cl_mem m, cl_mem_info param, size_t size, void *value, size_t *size_ret)
{
    if (!shim_valid(m, MAGIC_MEM)) return CL_INVALID_MEM_OBJECT;
    switch (param) {
    case CL_MEM_TYPE: { cl_mem_object_type t = CL_MEM_OBJECT_BUFFER; return shim_copy_info(size, value, size_ret, &t, sizeof t); }
    case CL_MEM_FLAGS: return shim_copy_info(size, value, size_ret, &m->flags, sizeof m->flags);
    case CL_MEM_SIZE: return shim_copy_info(size, value, size_ret, &m->size, sizeof m->size);
    case CL_MEM_HOST_PTR: return shim_copy_info(size, value, size_ret, &m->host_ptr, sizeof m->host_ptr);
    case CL_MEM_MAP_COUNT: return shim_copy_info(size, value, size_ret, &m->map_count, sizeof m->map_count);
    case CL_MEM_REFERENCE_COUNT: return shim_copy_info(size, value, size_ret, &m->h.refs, sizeof(cl_uint));
    case CL_MEM_CONTEXT: return shim_copy_info(size, value, size_ret, &m->context, sizeof m->context);
    case CL_MEM_ASSOCIATED_MEMOBJECT: return shim_copy_info(size, value, size_ret, &m->parent, sizeof m->parent);
    case CL_MEM_OFFSET: return shim_copy_info(size, value, size_ret, &m->offset, sizeof m->offset);
    case CL_MEM_USES_SVM_POINTER: { cl_bool b = CL_FALSE; return shim_copy_info(size, value, size_ret, &b, sizeof b); }
    default: return CL_INVALID_VALUE;
    }
}

static cl_int check_transfer(cl_command_queue q, cl_mem m, size_t offset, size_t size, const void *ptr)
{
    if (!shim_valid(q, MAGIC_QUEUE)) return CL_INVALID_COMMAND_QUEUE;
    if (!shim_valid(m, MAGIC_MEM)) return CL_INVALID_MEM_OBJECT;
    if (q->context != m->context) return CL_INVALID_CONTEXT;
    if (!ptr || size == 0 || offset > m->size || size > m->size - offset) return CL_INVALID_VALUE;
    return CL_SUCCESS;
}

static cl_int transfer(uint16_t op, cl_command_type type, cl_command_queue q, cl_mem m, cl_bool blocking, size_t offset,
                       size_t size, const void *ptr, cl_uint n, const cl_event *waits, cl_event *event)
{
    struct kumo_fpga_transfer *p;
    struct kumo_fpga_cmd *cmd;
    cl_int st = shim_queued(op, q, type, blocking, sizeof *p, 0, n, waits, event, (void **)&p, &cmd);
    if (st != CL_SUCCESS) return st;
    p->mem = m->h.id;
    p->offset = offset;
    p->size = size;
    p->guest = (uint64_t)(uintptr_t)ptr;   /* identity-mapped: the device reads and writes it in place */
    return shim_finish_queued(cmd, blocking);
}

CL_API_ENTRY cl_int CL_API_CALL
clEnqueueWriteBuffer(cl_command_queue q, cl_mem m, cl_bool blocking, size_t offset, size_t size, const void *ptr,
                     cl_uint n, const cl_event *waits, cl_event *event)
{
    cl_int st = check_transfer(q, m, offset, size, ptr);
    if (st != CL_SUCCESS) return st;
    if (!shim_mem_host_writable(m)) return CL_INVALID_OPERATION;
    return transfer(KUMO_FPGA_WRITE, CL_COMMAND_WRITE_BUFFER, q, m, blocking, offset, size, ptr, n, waits, event);
}

CL_API_ENTRY cl_int CL_API_CALL
clEnqueueReadBuffer(cl_command_queue q, cl_mem m, cl_bool blocking, size_t offset, size_t size, void *ptr,
                    cl_uint n, const cl_event *waits, cl_event *event)
{
    cl_int st = check_transfer(q, m, offset, size, ptr);
    if (st != CL_SUCCESS) return st;
    if (!shim_mem_host_readable(m)) return CL_INVALID_OPERATION;
    return transfer(KUMO_FPGA_READ, CL_COMMAND_READ_BUFFER, q, m, blocking, offset, size, ptr, n, waits, event);
}

CL_API_ENTRY cl_int CL_API_CALL
clEnqueueCopyBuffer(cl_command_queue q, cl_mem src, cl_mem dst, size_t src_offset, size_t dst_offset, size_t size,
                    cl_uint n, const cl_event *waits, cl_event *event)
{
    if (!shim_valid(q, MAGIC_QUEUE)) return CL_INVALID_COMMAND_QUEUE;
    if (!shim_valid(src, MAGIC_MEM) || !shim_valid(dst, MAGIC_MEM)) return CL_INVALID_MEM_OBJECT;
    if (q->context != src->context || q->context != dst->context) return CL_INVALID_CONTEXT;
    if (size == 0 || src_offset > src->size || size > src->size - src_offset || dst_offset > dst->size ||
        size > dst->size - dst_offset)
        return CL_INVALID_VALUE;
    if (src == dst && (src_offset < dst_offset ? dst_offset - src_offset : src_offset - dst_offset) < size)
        return CL_MEM_COPY_OVERLAP;
    struct kumo_fpga_copy *p;
    struct kumo_fpga_cmd *cmd;
    cl_int st = shim_queued(KUMO_FPGA_COPY, q, CL_COMMAND_COPY_BUFFER, CL_FALSE, sizeof *p, 0, n, waits, event, (void **)&p, &cmd);
    if (st != CL_SUCCESS) return st;
    *p = (struct kumo_fpga_copy){ src->h.id, dst->h.id, src_offset, dst_offset, size };
    return CL_SUCCESS;
}

CL_API_ENTRY cl_int CL_API_CALL
clEnqueueFillBuffer(cl_command_queue q, cl_mem m, const void *pattern, size_t pattern_size, size_t offset, size_t size,
                    cl_uint n, const cl_event *waits, cl_event *event)
{
    if (!shim_valid(q, MAGIC_QUEUE)) return CL_INVALID_COMMAND_QUEUE;
    if (!shim_valid(m, MAGIC_MEM)) return CL_INVALID_MEM_OBJECT;
    if (q->context != m->context) return CL_INVALID_CONTEXT;
    if (!pattern || pattern_size == 0 || pattern_size > KUMO_FPGA_SCALAR_MAX || (pattern_size & (pattern_size - 1)) ||
        offset % pattern_size || size % pattern_size || offset > m->size || size > m->size - offset)
        return CL_INVALID_VALUE;
    struct kumo_fpga_fill *p;
    struct kumo_fpga_cmd *cmd;
    cl_int st = shim_queued(KUMO_FPGA_FILL, q, CL_COMMAND_FILL_BUFFER, CL_FALSE, sizeof *p, 0, n, waits, event, (void **)&p, &cmd);
    if (st != CL_SUCCESS) return st;
    p->mem = m->h.id;
    p->pattern_size = (uint32_t)pattern_size;
    p->offset = offset;
    p->size = size;
    memcpy(p->pattern, pattern, pattern_size);
    return CL_SUCCESS;
}

CL_API_ENTRY void *CL_API_CALL
clEnqueueMapBuffer(cl_command_queue q, cl_mem m, cl_bool blocking, cl_map_flags flags, size_t offset, size_t size,
                   cl_uint n, const cl_event *waits, cl_event *event, cl_int *errcode_ret)
{
    int dummy = 1;
    cl_int st = check_transfer(q, m, offset, size, &dummy);
    if (st != CL_SUCCESS) SHIM_ERR(st);
    if (flags & ~(cl_map_flags)(CL_MAP_READ | CL_MAP_WRITE | CL_MAP_WRITE_INVALIDATE_REGION) ||
        ((flags & CL_MAP_WRITE_INVALIDATE_REGION) && (flags & (CL_MAP_READ | CL_MAP_WRITE))))
        SHIM_ERR(CL_INVALID_VALUE);
    if (((flags & CL_MAP_READ) && !shim_mem_host_readable(m)) ||
        ((flags & (CL_MAP_WRITE | CL_MAP_WRITE_INVALIDATE_REGION)) && !shim_mem_host_writable(m)))
        SHIM_ERR(CL_INVALID_OPERATION);
    struct shim_mapping *map = calloc(1, sizeof *map);
    if (!map) SHIM_ERR(CL_OUT_OF_HOST_MEMORY);
    map->offset = offset;
    map->size = size;
    map->flags = flags;
    if (m->host_ptr) {
        map->ptr = (char *)m->host_ptr + offset;
    } else {
        map->ptr = malloc(size);
        map->owned = 1;
        if (!map->ptr) { free(map); SHIM_ERR(CL_MAP_FAILURE); }
    }
    if (flags & CL_MAP_WRITE_INVALIDATE_REGION)
        st = clEnqueueMarkerWithWaitList(q, n, waits, event);
    else
        st = transfer(KUMO_FPGA_READ, CL_COMMAND_MAP_BUFFER, q, m, blocking, offset, size, map->ptr, n, waits, event);
    if (st != CL_SUCCESS) {
        if (map->owned) free(map->ptr);
        free(map);
        SHIM_ERR(st);
    }
    map->next = m->mappings;
    m->mappings = map;
    m->map_count++;
    SHIM_OK();
    return map->ptr;
}

CL_API_ENTRY cl_int CL_API_CALL
clEnqueueUnmapMemObject(cl_command_queue q, cl_mem m, void *ptr, cl_uint n, const cl_event *waits, cl_event *event)
{
    if (!shim_valid(q, MAGIC_QUEUE)) return CL_INVALID_COMMAND_QUEUE;
    if (!shim_valid(m, MAGIC_MEM)) return CL_INVALID_MEM_OBJECT;
    if (q->context != m->context) return CL_INVALID_CONTEXT;
    struct shim_mapping **link = &m->mappings;
    while (*link && (*link)->ptr != ptr) link = &(*link)->next;
    if (!*link) return CL_INVALID_VALUE;
    struct shim_mapping *map = *link;
    cl_int st;
    if (map->flags & (CL_MAP_WRITE | CL_MAP_WRITE_INVALIDATE_REGION))
        /* Blocking when the library owns the staging memory, so it can be freed now. */
        st = transfer(KUMO_FPGA_WRITE, CL_COMMAND_UNMAP_MEM_OBJECT, q, m, map->owned ? CL_TRUE : CL_FALSE, map->offset,
                      map->size, map->ptr, n, waits, event);
    else
        st = clEnqueueMarkerWithWaitList(q, n, waits, event);
    if (st != CL_SUCCESS) return st;
    *link = map->next;
    m->map_count--;
    if (map->owned) free(map->ptr);
    free(map);
    return CL_SUCCESS;
}
