/* The FPGA command protocol between the guest's OpenCL library (opencl-shim/)
 * and the host's device model (Sources/Accelerator). Part of the Kumo ABI:
 * changing a layout here means bumping KUMO_ABI_VERSION.
 *
 * The guest appends commands to a batch in its own memory and rings the
 * KUMO_HC_FPGA doorbell only where it must wait or learn something: at
 * clFinish, a blocking transfer, an info query. The host consumes the whole
 * batch at each doorbell, in order, writing each command's status back into
 * it. Every id is chosen by the guest and checked by the host; every guest
 * address is bounds-checked. Buffer data moves straight between guest memory
 * and the device. */
#ifndef KUMO_FPGA_H
#define KUMO_FPGA_H

#include <stdint.h>

#define KUMO_FPGA_BATCH_MAX     (4u << 20)  /* bytes of commands in one doorbell */
#define KUMO_FPGA_IDS_MAX       (1u << 20)  /* ids are 1 ..< this, per object kind */
#define KUMO_FPGA_ARGS_MAX      64          /* kernel arguments */
#define KUMO_FPGA_WAIT_MAX      1024        /* events in one wait list */
#define KUMO_FPGA_SCALAR_MAX    128         /* bytes of one by-value kernel argument */
#define KUMO_FPGA_NAME_MAX      64

/* The doorbell's argument (hypercall KUMO_HC_FPGA). */
struct kumo_hc_fpga {
    uint64_t batch;     /* in: guest address of the first command */
    uint32_t bytes;     /* in: bytes of commands */
    uint32_t count;     /* in: commands */
    int32_t  status;    /* out: 0, or the first failed command's (negative, OpenCL) status */
    uint32_t failed;    /* out: index of that command, or UINT32_MAX */
};

enum kumo_fpga_op {
    KUMO_FPGA_INFO = 1,           /* identity and limits -> struct kumo_fpga_info */
    KUMO_FPGA_QUEUE_CREATE,       /* struct kumo_fpga_queue */
    KUMO_FPGA_QUEUE_RELEASE,      /* struct kumo_fpga_id */
    KUMO_FPGA_MEM_ALLOC,          /* struct kumo_fpga_mem */
    KUMO_FPGA_MEM_SUB,            /* struct kumo_fpga_mem (parent, offset) */
    KUMO_FPGA_MEM_RELEASE,        /* struct kumo_fpga_id */
    KUMO_FPGA_WRITE,              /* queued: struct kumo_fpga_transfer, guest -> device */
    KUMO_FPGA_READ,               /* queued: struct kumo_fpga_transfer, device -> guest */
    KUMO_FPGA_COPY,               /* queued: struct kumo_fpga_copy */
    KUMO_FPGA_FILL,               /* queued: struct kumo_fpga_fill */
    KUMO_FPGA_CONFIGURE,          /* struct kumo_fpga_program: an xclbin; reconfigures the FPGA */
    KUMO_FPGA_PROGRAM_SOURCE,     /* struct kumo_fpga_program: OpenCL C, kept for a later BUILD */
    KUMO_FPGA_PROGRAM_BUILD,      /* struct kumo_fpga_program: options; status is the build's */
    KUMO_FPGA_PROGRAM_INFO,       /* struct kumo_fpga_query */
    KUMO_FPGA_PROGRAM_RELEASE,    /* struct kumo_fpga_id */
    KUMO_FPGA_KERNEL_CREATE,      /* struct kumo_fpga_kernel -> kumo_fpga_kernel_info + args */
    KUMO_FPGA_KERNEL_RELEASE,     /* struct kumo_fpga_id */
    KUMO_FPGA_EXECUTE,            /* queued: struct kumo_fpga_execute + kumo_fpga_arg[nargs] */
    KUMO_FPGA_MARKER,             /* queued: no payload */
    KUMO_FPGA_BARRIER,            /* queued: no payload */
    KUMO_FPGA_USER_EVENT,         /* struct kumo_fpga_id */
    KUMO_FPGA_USER_EVENT_SET,     /* struct kumo_fpga_user_event */
    KUMO_FPGA_EVENT_RELEASE,      /* struct kumo_fpga_id */
    KUMO_FPGA_EVENT_QUERY,        /* struct kumo_fpga_query (param unused) -> struct kumo_fpga_event_state */
    KUMO_FPGA_FLUSH,              /* queue: start what is queued */
    KUMO_FPGA_FINISH,             /* queue: wait until everything queued has completed */
    KUMO_FPGA_WAIT,               /* the wait list: wait until each event has completed */
    KUMO_FPGA_OP_COUNT
};

/* Every command starts with this header. Its fixed payload (the op's struct)
 * follows, then `nwait` uint32 event ids padded to 8 bytes, then, for EXECUTE
 * only, the arguments. `size` covers it all and is a multiple of 8. */
struct kumo_fpga_cmd {
    uint16_t op;        /* enum kumo_fpga_op */
    uint16_t flags;     /* KUMO_FPGA_BLOCKING */
    uint32_t size;
    uint32_t queue;     /* queued ops: the queue id */
    uint32_t event;     /* queued ops: an event id to create for this command, or 0 */
    uint32_t nwait;     /* queued ops and WAIT: event ids after the payload */
    int32_t  status;    /* out: 0 (CL_SUCCESS) or a negative OpenCL error code */
};

#define KUMO_FPGA_BLOCKING 1u   /* the command has completed when the doorbell returns */

struct kumo_fpga_id { uint32_t id; uint32_t reserved; };

#define KUMO_FPGA_QUEUE_PROFILING     1u
#define KUMO_FPGA_QUEUE_OUT_OF_ORDER  2u
struct kumo_fpga_queue { uint32_t id; uint32_t flags; };

#define KUMO_FPGA_MEM_READ  1u   /* kernels may read it */
#define KUMO_FPGA_MEM_WRITE 2u   /* kernels may write it */
struct kumo_fpga_mem {
    uint32_t id;
    uint32_t flags;
    uint32_t parent;    /* MEM_SUB only */
    uint32_t reserved;
    uint64_t offset;    /* MEM_SUB only */
    uint64_t size;
};

struct kumo_fpga_transfer {
    uint32_t mem;
    uint32_t reserved;
    uint64_t offset;    /* in the buffer */
    uint64_t size;
    uint64_t guest;     /* guest address of the host-side bytes */
};

struct kumo_fpga_copy {
    uint32_t source, destination;
    uint64_t source_offset, destination_offset, size;
};

struct kumo_fpga_fill {
    uint32_t mem;
    uint32_t pattern_size;      /* 1, 2, 4, ..., 128 */
    uint64_t offset, size;
    uint8_t  pattern[KUMO_FPGA_SCALAR_MAX];
};

struct kumo_fpga_program {
    uint32_t id;
    uint32_t reserved;
    uint64_t data, length;      /* CONFIGURE: the xclbin; SOURCE: the source; BUILD: options */
    uint64_t log, log_length;   /* BUILD/CONFIGURE: where the build log goes (NUL-terminated, truncated) */
};

enum kumo_fpga_program_param {
    KUMO_FPGA_PROGRAM_KERNEL_NAMES = 1, /* ';'-separated, NUL-terminated */
    KUMO_FPGA_PROGRAM_BUILD_LOG = 2     /* NUL-terminated */
};

struct kumo_fpga_query {
    uint32_t id;
    uint32_t param;
    uint64_t reply, reply_length;
    uint64_t needed;            /* out: bytes the full answer takes */
};

struct kumo_fpga_kernel {
    uint32_t id;
    uint32_t program;
    char     name[KUMO_FPGA_NAME_MAX];  /* NUL-terminated */
    uint64_t reply;             /* struct kumo_fpga_kernel_info */
};

enum kumo_fpga_arg_kind {
    KUMO_FPGA_ARG_GLOBAL = 1,   /* a buffer: value is the mem id, 0 for NULL */
    KUMO_FPGA_ARG_CONSTANT = 2, /* likewise */
    KUMO_FPGA_ARG_LOCAL = 3,    /* local memory: size bytes, no value */
    KUMO_FPGA_ARG_VALUE = 4     /* by value: size bytes inline after the arg, padded to 8 */
};

struct kumo_fpga_arg_info {
    uint32_t kind;              /* enum kumo_fpga_arg_kind */
    uint32_t size;              /* VALUE: bytes of the type, 0 when unknown */
    uint32_t access;            /* CL_KERNEL_ARG_ACCESS_* */
    uint32_t type_qualifier;    /* CL_KERNEL_ARG_TYPE_* bits */
    char     type_name[KUMO_FPGA_NAME_MAX];
    char     name[KUMO_FPGA_NAME_MAX];
};

struct kumo_fpga_kernel_info {
    uint32_t nargs;
    uint32_t reserved;
    uint64_t work_group_size;           /* the most work-items in one group */
    uint64_t compile_work_group_size[3];
    uint64_t local_mem_size;
    uint64_t private_mem_size;
    uint64_t preferred_multiple;
    struct kumo_fpga_arg_info args[KUMO_FPGA_ARGS_MAX];
};

struct kumo_fpga_execute {
    uint32_t kernel;
    uint32_t dimensions;        /* 1..3 */
    uint64_t offset[3];
    uint64_t global[3];
    uint64_t local[3];          /* all 0: the device chooses */
    uint32_t nargs;             /* must be the kernel's count */
    uint32_t reserved;
};

struct kumo_fpga_arg {
    uint32_t kind;              /* enum kumo_fpga_arg_kind */
    uint32_t size;              /* LOCAL: bytes to reserve; VALUE: bytes that follow */
    uint64_t mem;               /* GLOBAL/CONSTANT: the mem id or 0 */
};

struct kumo_fpga_user_event { uint32_t id; int32_t status; };

struct kumo_fpga_event_state {
    int32_t  status;            /* CL_QUEUED .. CL_COMPLETE, or a negative error */
    uint32_t reserved;
    uint64_t queued, submitted, started, ended;   /* profiling, nanoseconds; 0 if not profiled */
};

/* What the FPGA tells the guest about itself (configurable per function). */
struct kumo_fpga_info {
    char     platform_name[KUMO_FPGA_NAME_MAX];
    char     platform_vendor[KUMO_FPGA_NAME_MAX];
    char     platform_version[KUMO_FPGA_NAME_MAX];
    char     device_name[KUMO_FPGA_NAME_MAX];
    char     device_vendor[KUMO_FPGA_NAME_MAX];
    char     device_version[KUMO_FPGA_NAME_MAX];
    char     driver_version[KUMO_FPGA_NAME_MAX];
    uint64_t device_type;       /* CL_DEVICE_TYPE_* bits */
    uint32_t vendor_id;
    uint32_t compute_units;
    uint32_t clock_mhz;
    uint32_t address_bits;
    uint64_t global_memory;
    uint64_t max_alloc;
    uint64_t local_memory;
    uint64_t max_work_group_size;
    uint64_t max_work_item_sizes[3];
    uint32_t mem_base_align_bits;
    uint32_t max_constant_args;
    uint64_t max_constant_buffer;
    uint64_t max_parameter_size;
    uint64_t profiling_resolution_ns;
};

#endif
