/* Programs: from an xclbin (a reconfiguration of the FPGA) or from OpenCL C
 * source (built by the emulator), with the real build log. */
#include <stdlib.h>
#include "shim.h"

#define LOG_BYTES (64u << 10)

static cl_program new_program(cl_context c)
{
    cl_program p = shim_new(sizeof *p, MAGIC_PROGRAM);
    if (!p) return NULL;
    p->h.id = shim_next_id(ID_PROGRAM);
    p->context = c;
    p->status = CL_BUILD_NONE;
    clRetainContext(c);
    return p;
}

CL_API_ENTRY cl_program CL_API_CALL
clCreateProgramWithSource(cl_context c, cl_uint count, const char **strings, const size_t *lengths, cl_int *errcode_ret)
{
    if (!shim_valid(c, MAGIC_CONTEXT)) SHIM_ERR(CL_INVALID_CONTEXT);
    if (count == 0 || !strings) SHIM_ERR(CL_INVALID_VALUE);
    size_t total = 0;
    for (cl_uint i = 0; i < count; i++) {
        if (!strings[i]) SHIM_ERR(CL_INVALID_VALUE);
        total += lengths && lengths[i] ? lengths[i] : strlen(strings[i]);
    }
    if (total == 0) SHIM_ERR(CL_INVALID_VALUE);
    cl_program p = new_program(c);
    char *source = p ? malloc(total + 1) : NULL;
    if (!source) { if (p) clReleaseProgram(p); SHIM_ERR(CL_OUT_OF_HOST_MEMORY); }
    size_t at = 0;
    for (cl_uint i = 0; i < count; i++) {
        size_t n = lengths && lengths[i] ? lengths[i] : strlen(strings[i]);
        memcpy(source + at, strings[i], n);
        at += n;
    }
    source[total] = 0;
    p->source = source;
    struct kumo_fpga_program *cmd = shim_command(KUMO_FPGA_PROGRAM_SOURCE, sizeof *cmd, 0, 0, NULL, 0, NULL);
    if (!cmd) { clReleaseProgram(p); SHIM_ERR(CL_OUT_OF_RESOURCES); }
    cmd->id = p->h.id;
    cmd->data = (uint64_t)(uintptr_t)source;
    cmd->length = total;
    SHIM_OK();
    return p;
}

CL_API_ENTRY cl_program CL_API_CALL
clCreateProgramWithBinary(cl_context c, cl_uint n, const cl_device_id *devices, const size_t *lengths,
                          const unsigned char **binaries, cl_int *binary_status, cl_int *errcode_ret)
{
    if (!shim_valid(c, MAGIC_CONTEXT)) SHIM_ERR(CL_INVALID_CONTEXT);
    if (n == 0 || !devices) SHIM_ERR(CL_INVALID_VALUE);
    for (cl_uint i = 0; i < n; i++) if (!shim_is_our_device(devices[i])) SHIM_ERR(CL_INVALID_DEVICE);
    if (n != 1) SHIM_ERR(CL_INVALID_DEVICE);   /* a context holds one FPGA, listed once */
    if (!lengths || !binaries || lengths[0] == 0 || !binaries[0]) {
        if (binary_status) binary_status[0] = CL_INVALID_VALUE;
        SHIM_ERR(CL_INVALID_VALUE);
    }
    cl_program p = new_program(c);
    unsigned char *copy = p ? malloc(lengths[0]) : NULL;
    if (p) p->log = malloc(LOG_BYTES);
    if (!copy || !p->log) { if (p) clReleaseProgram(p); free(copy); SHIM_ERR(CL_OUT_OF_HOST_MEMORY); }
    memcpy(copy, binaries[0], lengths[0]);
    p->binary = copy;
    p->binary_size = lengths[0];
    p->log[0] = 0;
    struct kumo_fpga_cmd *cmd;
    struct kumo_fpga_program *q = shim_command(KUMO_FPGA_CONFIGURE, sizeof *q, 0, 0, NULL, 0, &cmd);
    if (!q) { clReleaseProgram(p); SHIM_ERR(CL_OUT_OF_RESOURCES); }
    q->id = p->h.id;
    q->data = (uint64_t)(uintptr_t)copy;
    q->length = lengths[0];
    q->log = (uint64_t)(uintptr_t)p->log;
    q->log_length = LOG_BYTES;
    cl_int st = shim_submit(cmd);
    if (binary_status) binary_status[0] = st == CL_SUCCESS ? CL_SUCCESS : CL_INVALID_BINARY;
    if (st != CL_SUCCESS) {
        p->h.id = 0;   /* the device model made nothing to release */
        clReleaseProgram(p);
        SHIM_ERR(st == CL_OUT_OF_RESOURCES || st == CL_OUT_OF_HOST_MEMORY ? st : CL_INVALID_BINARY);
    }
    p->status = CL_BUILD_SUCCESS;
    SHIM_OK();
    return p;
}

CL_API_ENTRY cl_int CL_API_CALL
clBuildProgram(cl_program p, cl_uint n, const cl_device_id *devices, const char *options,
               void (CL_CALLBACK *notify)(cl_program, void *), void *data)
{
    if (!shim_valid(p, MAGIC_PROGRAM)) return CL_INVALID_PROGRAM;
    if ((n == 0) != (devices == NULL)) return CL_INVALID_VALUE;
    for (cl_uint i = 0; i < n; i++) if (!shim_is_our_device(devices[i])) return CL_INVALID_DEVICE;
    if (!notify && data) return CL_INVALID_VALUE;
    if (p->kernels) return CL_INVALID_OPERATION;
    free(p->options);
    p->options = strdup(options ? options : "");
    if (!p->log) p->log = malloc(LOG_BYTES);
    if (!p->options || !p->log) return CL_OUT_OF_HOST_MEMORY;
    cl_int st = CL_SUCCESS;
    if (p->source) {
        p->log[0] = 0;
        struct kumo_fpga_cmd *cmd;
        struct kumo_fpga_program *q = shim_command(KUMO_FPGA_PROGRAM_BUILD, sizeof *q, 0, 0, NULL, 0, &cmd);
        if (!q) return CL_OUT_OF_RESOURCES;
        q->id = p->h.id;
        q->data = (uint64_t)(uintptr_t)p->options;
        q->length = strlen(p->options);
        q->log = (uint64_t)(uintptr_t)p->log;
        q->log_length = LOG_BYTES;
        st = shim_submit(cmd);
        p->status = st == CL_SUCCESS ? CL_BUILD_SUCCESS : CL_BUILD_ERROR;
    }
    if (notify) notify(p, data);
    return st;
}

CL_API_ENTRY cl_int CL_API_CALL clRetainProgram(cl_program p)
{
    if (!shim_valid(p, MAGIC_PROGRAM)) return CL_INVALID_PROGRAM;
    p->h.refs++;
    return CL_SUCCESS;
}

CL_API_ENTRY cl_int CL_API_CALL clReleaseProgram(cl_program p)
{
    if (!shim_valid(p, MAGIC_PROGRAM)) return CL_INVALID_PROGRAM;
    if (--p->h.refs > 0) return CL_SUCCESS;
    if (p->h.id) {
        struct kumo_fpga_id *q = shim_command(KUMO_FPGA_PROGRAM_RELEASE, sizeof *q, 0, 0, NULL, 0, NULL);
        if (q) q->id = p->h.id;
        /* The device model may still read the source: it is sent before the release runs. */
        shim_submit(NULL);
    }
    free(p->source);
    free(p->binary);
    free(p->options);
    free(p->log);
    cl_context c = p->context;
    shim_free(p);
    clReleaseContext(c);
    return CL_SUCCESS;
}

/* The ';'-separated kernel names, from the device model; caller frees. */
char *shim_kernel_names(cl_program p, cl_int *st)
{
    static char small[1];
    struct kumo_fpga_cmd *cmd;
    struct kumo_fpga_query *q = shim_command(KUMO_FPGA_PROGRAM_INFO, sizeof *q, 0, 0, NULL, 0, &cmd);
    if (!q) { *st = CL_OUT_OF_RESOURCES; return NULL; }
    q->id = p->h.id;
    q->param = KUMO_FPGA_PROGRAM_KERNEL_NAMES;
    q->reply = (uint64_t)(uintptr_t)small;
    q->reply_length = 0;
    if ((*st = shim_submit(cmd)) != CL_SUCCESS) return NULL;
    size_t needed = q->needed;
    char *names = malloc(needed ? needed : 1);
    if (!names) { *st = CL_OUT_OF_HOST_MEMORY; return NULL; }
    q = shim_command(KUMO_FPGA_PROGRAM_INFO, sizeof *q, 0, 0, NULL, 0, &cmd);
    q->id = p->h.id;
    q->param = KUMO_FPGA_PROGRAM_KERNEL_NAMES;
    q->reply = (uint64_t)(uintptr_t)names;
    q->reply_length = needed;
    if ((*st = shim_submit(cmd)) != CL_SUCCESS) { free(names); return NULL; }
    return names;
}

CL_API_ENTRY cl_int CL_API_CALL
clGetProgramInfo(cl_program p, cl_program_info param, size_t size, void *value, size_t *size_ret)
{
    if (!shim_valid(p, MAGIC_PROGRAM)) return CL_INVALID_PROGRAM;
    switch (param) {
    case CL_PROGRAM_REFERENCE_COUNT: return shim_copy_info(size, value, size_ret, &p->h.refs, sizeof(cl_uint));
    case CL_PROGRAM_CONTEXT: return shim_copy_info(size, value, size_ret, &p->context, sizeof p->context);
    case CL_PROGRAM_NUM_DEVICES: { cl_uint n = 1; return shim_copy_info(size, value, size_ret, &n, sizeof n); }
    case CL_PROGRAM_DEVICES: { cl_device_id d = &shim_device; return shim_copy_info(size, value, size_ret, &d, sizeof d); }
    case CL_PROGRAM_SOURCE: return shim_copy_string(size, value, size_ret, p->source ? p->source : "");
    case CL_PROGRAM_BINARY_SIZES: return shim_copy_info(size, value, size_ret, &p->binary_size, sizeof p->binary_size);
    case CL_PROGRAM_BINARIES: {
        if (size_ret) *size_ret = sizeof(unsigned char *);
        if (!value) return CL_SUCCESS;
        if (size < sizeof(unsigned char *)) return CL_INVALID_VALUE;
        unsigned char *target = *(unsigned char **)value;
        if (target && p->binary) memcpy(target, p->binary, p->binary_size);
        return CL_SUCCESS;
    }
    case CL_PROGRAM_NUM_KERNELS: case CL_PROGRAM_KERNEL_NAMES: {
        if (p->status != CL_BUILD_SUCCESS) return CL_INVALID_PROGRAM_EXECUTABLE;
        cl_int st;
        char *names = shim_kernel_names(p, &st);
        if (!names) return st;
        if (param == CL_PROGRAM_KERNEL_NAMES) st = shim_copy_string(size, value, size_ret, names);
        else {
            size_t n = names[0] ? 1 : 0;
            for (char *c = names; *c; c++) n += *c == ';';
            st = shim_copy_info(size, value, size_ret, &n, sizeof n);
        }
        free(names);
        return st;
    }
    default: return CL_INVALID_VALUE;
    }
}

CL_API_ENTRY cl_int CL_API_CALL
clGetProgramBuildInfo(cl_program p, cl_device_id d, cl_program_build_info param, size_t size, void *value, size_t *size_ret)
{
    if (!shim_valid(p, MAGIC_PROGRAM)) return CL_INVALID_PROGRAM;
    if (!shim_is_our_device(d)) return CL_INVALID_DEVICE;
    switch (param) {
    case CL_PROGRAM_BUILD_STATUS: return shim_copy_info(size, value, size_ret, &p->status, sizeof p->status);
    case CL_PROGRAM_BUILD_OPTIONS: return shim_copy_string(size, value, size_ret, p->options ? p->options : "");
    case CL_PROGRAM_BUILD_LOG: return shim_copy_string(size, value, size_ret, p->log ? p->log : "");
    case CL_PROGRAM_BINARY_TYPE: {
        cl_program_binary_type t = p->status == CL_BUILD_SUCCESS ? CL_PROGRAM_BINARY_TYPE_EXECUTABLE : CL_PROGRAM_BINARY_TYPE_NONE;
        return shim_copy_info(size, value, size_ret, &t, sizeof t);
    }
    case CL_PROGRAM_BUILD_GLOBAL_VARIABLE_TOTAL_SIZE: { size_t z = 0; return shim_copy_info(size, value, size_ret, &z, sizeof z); }
    default: return CL_INVALID_VALUE;
    }
}
