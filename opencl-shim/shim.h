/* Kumo's OpenCL library for the guest: internal declarations.
 * Every object starts with the ICD dispatch pointer, then a magic number that
 * tells its kind; a handle is checked against it before any use, so a wrong
 * or released handle gets the error code the specification names. */
#ifndef KUMO_SHIM_H
#define KUMO_SHIM_H

#define CL_TARGET_OPENCL_VERSION 300
#define CL_USE_DEPRECATED_OPENCL_1_1_APIS
#define CL_USE_DEPRECATED_OPENCL_1_2_APIS
#include <CL/cl.h>
#include <CL/cl_ext.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "kumo_fpga.h"

enum shim_magic {
    MAGIC_PLATFORM = 0x504c4154, MAGIC_DEVICE = 0x44455643, MAGIC_CONTEXT = 0x43545854,
    MAGIC_QUEUE = 0x51554555, MAGIC_MEM = 0x4d454d4f, MAGIC_PROGRAM = 0x50524f47,
    MAGIC_KERNEL = 0x4b45524e, MAGIC_EVENT = 0x45564e54, MAGIC_DEAD = 0x44454144
};

struct shim_header {
    void *dispatch;     /* ICD layout: the dispatch table comes first */
    uint32_t magic;
    uint32_t refs;
    uint32_t id;        /* the device model's id for it */
    uint32_t reserved;
};

struct _cl_platform_id { struct shim_header h; };
struct _cl_device_id { struct shim_header h; };

struct shim_context_destructor {
    void (CL_CALLBACK *fn)(cl_context, void *);
    void *data;
    struct shim_context_destructor *next;
};

struct _cl_context {
    struct shim_header h;
    struct shim_context_destructor *destructors;  /* last registered first */
    cl_context_properties properties[3];
    size_t nproperties;
    void (CL_CALLBACK *notify)(const char *, const void *, size_t, void *);
    void *notify_data;
    cl_command_queue internal;  /* for initial contents of buffers */
};

struct _cl_command_queue {
    struct shim_header h;
    cl_context context;
    cl_command_queue_properties properties;
};

struct shim_mapping { void *ptr; size_t offset, size; cl_map_flags flags; int owned; struct shim_mapping *next; };
struct shim_destructor { void (CL_CALLBACK *fn)(cl_mem, void *); void *data; struct shim_destructor *next; };

struct _cl_mem {
    struct shim_header h;
    cl_context context;
    cl_mem_flags flags;
    size_t size, offset;
    void *host_ptr;
    cl_mem parent;
    cl_uint children;
    cl_uint map_count;
    struct shim_mapping *mappings;
    struct shim_destructor *destructors;
};

struct _cl_program {
    struct shim_header h;
    cl_context context;
    char *source;
    unsigned char *binary;
    size_t binary_size;
    char *options;
    char *log;
    cl_build_status status;
    cl_uint kernels;
};

struct shim_arg {
    int set;
    uint32_t size;
    cl_mem mem;
    unsigned char value[KUMO_FPGA_SCALAR_MAX];
};

struct _cl_kernel {
    struct shim_header h;
    cl_program program;
    char name[KUMO_FPGA_NAME_MAX];
    struct kumo_fpga_kernel_info *info;
    struct shim_arg *args;
};

struct shim_callback {
    void (CL_CALLBACK *fn)(cl_event, cl_int, void *);
    void *data;
    cl_int type;
    struct shim_callback *next;
};

struct _cl_event {
    struct shim_header h;
    cl_context context;
    cl_command_queue queue;     /* NULL for a user event */
    cl_command_type type;
    cl_int status;              /* last status known; CL_QUEUED until learned */
    int user_set;
    struct shim_callback *callbacks;
    cl_event next_watched;      /* events with callbacks still to call */
    int watched;
};

/* objects.c */
void *shim_new(size_t size, uint32_t magic);
void shim_free(void *object);
int shim_valid(const void *object, uint32_t magic);
uint32_t shim_next_id(int kind);
enum { ID_QUEUE, ID_MEM, ID_PROGRAM, ID_KERNEL, ID_EVENT, ID_KINDS };
extern struct _cl_platform_id shim_platform;
extern struct _cl_device_id shim_device;
extern struct kumo_fpga_info shim_info_data;
cl_int shim_init(void);
cl_int shim_copy_info(size_t size, void *value, size_t *size_ret, const void *data, size_t n);
cl_int shim_copy_string(size_t size, void *value, size_t *size_ret, const char *s);
int shim_is_our_device(cl_device_id d);

/* transport.c */
void *shim_command(uint16_t op, size_t payload, cl_uint nwait, size_t extra, cl_command_queue q, uint32_t event,
                   struct kumo_fpga_cmd **cmd_out);
void shim_put_waits(struct kumo_fpga_cmd *cmd, size_t payload, cl_uint n, const cl_event *list);
cl_int shim_submit(struct kumo_fpga_cmd *waited);
cl_int shim_take_deferred(void);

/* events.c */
cl_int shim_check_waits(cl_command_queue q, cl_uint n, const cl_event *list);
cl_event shim_new_event(cl_command_queue q, cl_command_type type, uint32_t *id_out);
void shim_event_learned(cl_event e, cl_int status);
void shim_poll_callbacks(void);
cl_int shim_queued(uint16_t op, cl_command_queue q, cl_command_type type, cl_bool blocking, size_t payload, size_t extra,
                   cl_uint nwait, const cl_event *waits, cl_event *event, void **payload_out, struct kumo_fpga_cmd **cmd_out);
cl_int shim_finish_queued(struct kumo_fpga_cmd *cmd, cl_bool blocking);

/* mem.c */
int shim_mem_host_readable(cl_mem m);
int shim_mem_host_writable(cl_mem m);

#define SHIM_ERR(code) do { if (errcode_ret) *errcode_ret = (code); return NULL; } while (0)
#define SHIM_OK() do { if (errcode_ret) *errcode_ret = CL_SUCCESS; } while (0)

#endif
