/* Kernels: their signatures come from the device model once, at creation,
 * so clSetKernelArg is checked and kept here and costs no exit; a launch is
 * one batched command carrying every argument. */
#include <stdlib.h>
#include "shim.h"

char *shim_kernel_names(cl_program p, cl_int *st);

CL_API_ENTRY cl_kernel CL_API_CALL clCreateKernel(cl_program p, const char *name, cl_int *errcode_ret)
{
    if (!shim_valid(p, MAGIC_PROGRAM)) SHIM_ERR(CL_INVALID_PROGRAM);
    if (p->status != CL_BUILD_SUCCESS) SHIM_ERR(CL_INVALID_PROGRAM_EXECUTABLE);
    if (!name) SHIM_ERR(CL_INVALID_VALUE);
    if (strlen(name) >= KUMO_FPGA_NAME_MAX) SHIM_ERR(CL_INVALID_KERNEL_NAME);
    cl_kernel k = shim_new(sizeof *k, MAGIC_KERNEL);
    struct kumo_fpga_kernel_info *info = k ? malloc(sizeof *info) : NULL;
    if (!info) { free(k); SHIM_ERR(CL_OUT_OF_HOST_MEMORY); }
    k->h.id = shim_next_id(ID_KERNEL);
    struct kumo_fpga_cmd *cmd;
    struct kumo_fpga_kernel *q = shim_command(KUMO_FPGA_KERNEL_CREATE, sizeof *q, 0, 0, NULL, 0, &cmd);
    if (!q) { free(info); free(k); SHIM_ERR(CL_OUT_OF_RESOURCES); }
    q->id = k->h.id;
    q->program = p->h.id;
    strcpy(q->name, name);
    q->reply = (uint64_t)(uintptr_t)info;
    cl_int st = shim_submit(cmd);
    if (st != CL_SUCCESS) {
        free(info);
        free(k);
        SHIM_ERR(st == CL_INVALID_KERNEL_NAME || st == CL_INVALID_KERNEL_DEFINITION ? st : CL_INVALID_KERNEL_NAME);
    }
    if (info->nargs > KUMO_FPGA_ARGS_MAX) info->nargs = KUMO_FPGA_ARGS_MAX;
    k->args = calloc(info->nargs ? info->nargs : 1, sizeof *k->args);
    if (!k->args) { free(info); free(k); SHIM_ERR(CL_OUT_OF_HOST_MEMORY); }
    k->info = info;
    k->program = p;
    strcpy(k->name, name);
    p->kernels++;
    p->h.refs++;
    SHIM_OK();
    return k;
}

CL_API_ENTRY cl_int CL_API_CALL
clCreateKernelsInProgram(cl_program p, cl_uint n, cl_kernel *kernels, cl_uint *n_ret)
{
    if (!shim_valid(p, MAGIC_PROGRAM)) return CL_INVALID_PROGRAM;
    if (p->status != CL_BUILD_SUCCESS) return CL_INVALID_PROGRAM_EXECUTABLE;
    cl_int st;
    char *names = shim_kernel_names(p, &st);
    if (!names) return st;
    cl_uint count = 0;
    for (char *c = names; *c; count++) { c = strchr(c, ';'); if (!c) { count++; break; } c++; }
    if (names[0] == 0) count = 0;
    if (kernels && n < count) { free(names); return CL_INVALID_VALUE; }
    if (kernels) {
        cl_uint i = 0;
        for (char *save = NULL, *name = strtok_r(names, ";", &save); name; name = strtok_r(NULL, ";", &save)) {
            kernels[i] = clCreateKernel(p, name, &st);
            if (!kernels[i]) {
                while (i > 0) clReleaseKernel(kernels[--i]);
                free(names);
                return st;
            }
            i++;
        }
    }
    if (n_ret) *n_ret = count;
    free(names);
    return CL_SUCCESS;
}

CL_API_ENTRY cl_int CL_API_CALL clRetainKernel(cl_kernel k)
{
    if (!shim_valid(k, MAGIC_KERNEL)) return CL_INVALID_KERNEL;
    k->h.refs++;
    return CL_SUCCESS;
}

CL_API_ENTRY cl_int CL_API_CALL clReleaseKernel(cl_kernel k)
{
    if (!shim_valid(k, MAGIC_KERNEL)) return CL_INVALID_KERNEL;
    if (--k->h.refs > 0) return CL_SUCCESS;
    struct kumo_fpga_id *q = shim_command(KUMO_FPGA_KERNEL_RELEASE, sizeof *q, 0, 0, NULL, 0, NULL);
    if (q) q->id = k->h.id;
    cl_program p = k->program;
    free(k->info);
    free(k->args);
    shim_free(k);
    p->kernels--;
    clReleaseProgram(p);
    return CL_SUCCESS;
}

CL_API_ENTRY cl_int CL_API_CALL clSetKernelArg(cl_kernel k, cl_uint index, size_t size, const void *value)
{
    if (!shim_valid(k, MAGIC_KERNEL)) return CL_INVALID_KERNEL;
    if (index >= k->info->nargs) return CL_INVALID_ARG_INDEX;
    const struct kumo_fpga_arg_info *a = &k->info->args[index];
    struct shim_arg *arg = &k->args[index];
    switch (a->kind) {
    case KUMO_FPGA_ARG_GLOBAL: case KUMO_FPGA_ARG_CONSTANT: {
        if (size != sizeof(cl_mem)) return CL_INVALID_ARG_SIZE;
        cl_mem m = value ? *(const cl_mem *)value : NULL;
        if (m && !shim_valid(m, MAGIC_MEM)) return CL_INVALID_MEM_OBJECT;
        if (m && m->context != k->program->context) return CL_INVALID_MEM_OBJECT;
        arg->mem = m;
        arg->size = sizeof(cl_mem);
        break;
    }
    case KUMO_FPGA_ARG_LOCAL:
        if (value) return CL_INVALID_ARG_VALUE;
        if (size == 0 || size > shim_info_data.local_memory) return CL_INVALID_ARG_SIZE;
        arg->size = (uint32_t)size;
        break;
    default:
        if (!value) return CL_INVALID_ARG_VALUE;
        if (size == 0 || size > KUMO_FPGA_SCALAR_MAX || (a->size && size != a->size)) return CL_INVALID_ARG_SIZE;
        memcpy(arg->value, value, size);
        arg->size = (uint32_t)size;
        break;
    }
    arg->set = 1;
    return CL_SUCCESS;
}

static cl_int launch(cl_command_queue q, cl_kernel k, cl_uint dims, const size_t *offset, const size_t *global,
                     const size_t *local, cl_uint n, const cl_event *waits, cl_event *event, cl_command_type type)
{
    if (!shim_valid(q, MAGIC_QUEUE)) return CL_INVALID_COMMAND_QUEUE;
    if (!shim_valid(k, MAGIC_KERNEL)) return CL_INVALID_KERNEL;
    if (q->context != k->program->context) return CL_INVALID_CONTEXT;
    if (dims < 1 || dims > 3) return CL_INVALID_WORK_DIMENSION;
    if (!global) return CL_INVALID_GLOBAL_WORK_SIZE;
    size_t items = 1;
    const uint64_t *compiled = k->info->compile_work_group_size;
    int has_compiled = compiled[0] || compiled[1] || compiled[2];
    for (cl_uint d = 0; d < dims; d++) {
        if (global[d] == 0 || global[d] > (1ull << 32)) return CL_INVALID_GLOBAL_WORK_SIZE;
        if (offset && offset[d] + global[d] < global[d]) return CL_INVALID_GLOBAL_OFFSET;
        if (local) {
            if (local[d] == 0 || global[d] % local[d]) return CL_INVALID_WORK_GROUP_SIZE;
            if (local[d] > shim_info_data.max_work_item_sizes[d]) return CL_INVALID_WORK_ITEM_SIZE;
            if (has_compiled && local[d] != compiled[d]) return CL_INVALID_WORK_GROUP_SIZE;
            items *= local[d];
        }
    }
    if (!local && has_compiled) return CL_INVALID_WORK_GROUP_SIZE;
    if (local && items > k->info->work_group_size) return CL_INVALID_WORK_GROUP_SIZE;
    size_t extra = 0;
    for (uint32_t i = 0; i < k->info->nargs; i++) {
        if (!k->args[i].set) return CL_INVALID_KERNEL_ARGS;
        if (k->args[i].mem && !shim_valid(k->args[i].mem, MAGIC_MEM)) return CL_INVALID_MEM_OBJECT;
        extra += sizeof(struct kumo_fpga_arg);
        if (k->info->args[i].kind == KUMO_FPGA_ARG_VALUE) extra += (k->args[i].size + 7) & ~7u;
    }
    struct kumo_fpga_execute *p;
    struct kumo_fpga_cmd *cmd;
    cl_int st = shim_queued(KUMO_FPGA_EXECUTE, q, type, CL_FALSE, sizeof *p, extra, n, waits, event, (void **)&p, &cmd);
    if (st != CL_SUCCESS) return st;
    p->kernel = k->h.id;
    p->dimensions = dims;
    for (cl_uint d = 0; d < dims; d++) {
        p->offset[d] = offset ? offset[d] : 0;
        p->global[d] = global[d];
        p->local[d] = local ? local[d] : 0;
    }
    p->nargs = k->info->nargs;
    unsigned char *at = (unsigned char *)(p + 1) + (((size_t)n * 4 + 7) & ~(size_t)7);
    for (uint32_t i = 0; i < k->info->nargs; i++) {
        struct kumo_fpga_arg *a = (struct kumo_fpga_arg *)at;
        a->kind = k->info->args[i].kind;
        a->size = k->args[i].size;
        a->mem = k->args[i].mem ? k->args[i].mem->h.id : 0;
        at += sizeof *a;
        if (a->kind == KUMO_FPGA_ARG_VALUE) {
            memcpy(at, k->args[i].value, a->size);
            at += (a->size + 7) & ~7u;
        }
    }
    return CL_SUCCESS;
}

CL_API_ENTRY cl_int CL_API_CALL
clEnqueueNDRangeKernel(cl_command_queue q, cl_kernel k, cl_uint dims, const size_t *offset, const size_t *global,
                       const size_t *local, cl_uint n, const cl_event *waits, cl_event *event)
{
    return launch(q, k, dims, offset, global, local, n, waits, event, CL_COMMAND_NDRANGE_KERNEL);
}

CL_API_ENTRY cl_int CL_API_CALL
clEnqueueTask(cl_command_queue q, cl_kernel k, cl_uint n, const cl_event *waits, cl_event *event)
{
    static const size_t one[1] = { 1 };
    return launch(q, k, 1, NULL, one, one, n, waits, event, CL_COMMAND_TASK);
}

CL_API_ENTRY cl_int CL_API_CALL
clGetKernelInfo(cl_kernel k, cl_kernel_info param, size_t size, void *value, size_t *size_ret)
{
    if (!shim_valid(k, MAGIC_KERNEL)) return CL_INVALID_KERNEL;
    switch (param) {
    case CL_KERNEL_FUNCTION_NAME: return shim_copy_string(size, value, size_ret, k->name);
    case CL_KERNEL_NUM_ARGS: return shim_copy_info(size, value, size_ret, &k->info->nargs, sizeof(cl_uint));
    case CL_KERNEL_REFERENCE_COUNT: return shim_copy_info(size, value, size_ret, &k->h.refs, sizeof(cl_uint));
    case CL_KERNEL_CONTEXT: return shim_copy_info(size, value, size_ret, &k->program->context, sizeof(cl_context));
    case CL_KERNEL_PROGRAM: return shim_copy_info(size, value, size_ret, &k->program, sizeof k->program);
    case CL_KERNEL_ATTRIBUTES: return shim_copy_string(size, value, size_ret, "");
    default: return CL_INVALID_VALUE;
    }
}

CL_API_ENTRY cl_int CL_API_CALL
clGetKernelArgInfo(cl_kernel k, cl_uint index, cl_kernel_arg_info param, size_t size, void *value, size_t *size_ret)
{
    if (!shim_valid(k, MAGIC_KERNEL)) return CL_INVALID_KERNEL;
    if (index >= k->info->nargs) return CL_INVALID_ARG_INDEX;
    const struct kumo_fpga_arg_info *a = &k->info->args[index];
    switch (param) {
    case CL_KERNEL_ARG_ADDRESS_QUALIFIER: {
        cl_kernel_arg_address_qualifier q = a->kind == KUMO_FPGA_ARG_GLOBAL ? CL_KERNEL_ARG_ADDRESS_GLOBAL
            : a->kind == KUMO_FPGA_ARG_CONSTANT ? CL_KERNEL_ARG_ADDRESS_CONSTANT
            : a->kind == KUMO_FPGA_ARG_LOCAL ? CL_KERNEL_ARG_ADDRESS_LOCAL : CL_KERNEL_ARG_ADDRESS_PRIVATE;
        return shim_copy_info(size, value, size_ret, &q, sizeof q);
    }
    case CL_KERNEL_ARG_ACCESS_QUALIFIER: {
        cl_kernel_arg_access_qualifier q = a->access;
        return shim_copy_info(size, value, size_ret, &q, sizeof q);
    }
    case CL_KERNEL_ARG_TYPE_NAME: return shim_copy_string(size, value, size_ret, a->type_name);
    case CL_KERNEL_ARG_TYPE_QUALIFIER: {
        cl_kernel_arg_type_qualifier q = a->type_qualifier;
        return shim_copy_info(size, value, size_ret, &q, sizeof q);
    }
    case CL_KERNEL_ARG_NAME: return shim_copy_string(size, value, size_ret, a->name);
    default: return CL_INVALID_VALUE;
    }
}

CL_API_ENTRY cl_int CL_API_CALL
clGetKernelWorkGroupInfo(cl_kernel k, cl_device_id d, cl_kernel_work_group_info param, size_t size, void *value, size_t *size_ret)
{
    if (!shim_valid(k, MAGIC_KERNEL)) return CL_INVALID_KERNEL;
    if (d && !shim_is_our_device(d)) return CL_INVALID_DEVICE;
    const struct kumo_fpga_kernel_info *i = k->info;
    switch (param) {
    case CL_KERNEL_WORK_GROUP_SIZE: { size_t v = i->work_group_size; return shim_copy_info(size, value, size_ret, &v, sizeof v); }
    case CL_KERNEL_COMPILE_WORK_GROUP_SIZE: {
        size_t v[3] = { i->compile_work_group_size[0], i->compile_work_group_size[1], i->compile_work_group_size[2] };
        return shim_copy_info(size, value, size_ret, v, sizeof v);
    }
    case CL_KERNEL_LOCAL_MEM_SIZE: { cl_ulong v = i->local_mem_size; return shim_copy_info(size, value, size_ret, &v, sizeof v); }
    case CL_KERNEL_PRIVATE_MEM_SIZE: { cl_ulong v = i->private_mem_size; return shim_copy_info(size, value, size_ret, &v, sizeof v); }
    case CL_KERNEL_PREFERRED_WORK_GROUP_SIZE_MULTIPLE: { size_t v = i->preferred_multiple; return shim_copy_info(size, value, size_ret, &v, sizeof v); }
    default: return CL_INVALID_VALUE;
    }
}
