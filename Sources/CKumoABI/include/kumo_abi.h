/* The one ABI shared by the Kumo tender (Swift, via the CKumoABI module) and
 * the guest runtime (unikernel/). Changing a layout here means bumping
 * KUMO_ABI_VERSION: the tender refuses images built for another version. */
#ifndef KUMO_ABI_H
#define KUMO_ABI_H

#include <stdint.h>

#define KUMO_ABI_VERSION 1

/* Guest-physical layout. The guest runs at CPL 3 with everything identity mapped. */
#define KUMO_PAGE_SIZE        0x1000ULL
#define KUMO_PAGETABLE_BASE   0x1000ULL   /* PML4, PDPT, PDs, first PT: 0x1000..0x10000 */
#define KUMO_BOOTINFO_BASE    0x10000ULL  /* flattened device tree */
#define KUMO_BOOTINFO_MAX     0xF0000ULL  /* it must end below the image */
#define KUMO_IMAGE_BASE       0x200000ULL /* lowest address an ELF segment may use */
#define KUMO_DOORBELL_BASE    0xC0000000ULL /* outside every memslot: stores exit as MMIO */
#define KUMO_MEMORY_MIN       (8ULL << 20)
#define KUMO_MEMORY_MAX       (2ULL << 30)  /* stays below the doorbell */

/* Where the guest puts its mappings, so that the tender can back large ones with huge pages
 * (on kvm-pvm a guest's first touch of a 4 KiB page costs a shadow fault and, without a huge
 * page behind it, a host fault too). Mappings of KUMO_LARGE_MAPPING bytes or more go
 * KUMO_HUGE_PAGE-aligned below the top KUMO_SMALL_MAPPINGS of the heap; smaller ones fill
 * that top first, so a small program never touches the huge-page zone. */
#define KUMO_HUGE_PAGE        0x200000ULL
#define KUMO_LARGE_MAPPING    KUMO_HUGE_PAGE
#define KUMO_SMALL_MAPPINGS   (4ULL << 20)

/* A hypercall: the guest stores the guest-physical address of the call's
 * struct (8 bytes) to KUMO_DOORBELL_BASE + 8 * number. */
enum kumo_hypercall {
    KUMO_HC_WRITE = 1,     /* struct kumo_hc_io: console output */
    KUMO_HC_READ = 2,      /* struct kumo_hc_io: stdin */
    KUMO_HC_EXIT = 3,      /* struct kumo_hc_exit */
    KUMO_HC_SLEEP = 4,     /* struct kumo_hc_sleep */
    KUMO_HC_RANDOM = 5,    /* struct kumo_hc_io: fd ignored, fills data */
    KUMO_HC_FPGA = 6,      /* struct kumo_hc_fpga: a batch of FPGA commands (kumo_fpga.h) */
    KUMO_HC_REQUEST = 7,   /* struct kumo_hc_request: persistent mode's respond-and-wait */
    KUMO_HC_OUTPUT = 8,    /* struct kumo_hc_output: a scratch file or directory, at exit (kumo run --output) */
    KUMO_HC_COUNT = 9
};

#define KUMO_HC_ADDR(nr) (KUMO_DOORBELL_BASE + 8ULL * (uint64_t)(nr))

struct kumo_hc_io {
    uint32_t fd;        /* in: 1 stdout, 2 stderr (WRITE); 0 stdin (READ) */
    uint32_t reserved;
    uint64_t data;      /* in: guest address of the buffer */
    uint64_t len;       /* in: bytes */
    int64_t  ret;       /* out: bytes done, 0 at end of input, or -errno */
};

struct kumo_hc_exit {
    int32_t  status;    /* exit status, 0..255 */
    int32_t  signal;    /* non-zero: the guest died of this signal (abort, ...) */
    uint64_t tsc_entry; /* guest TSC at entry and at exit: guest time for benchmarks */
    uint64_t tsc_exit;
};

/* The scratch file system's copy-out: at exit, when the boot info has
 * kumo,output, the guest hands over each directory and file it created. */
#define KUMO_SCRATCH_PATH_MAX 512
enum kumo_output_kind { KUMO_OUTPUT_FILE = 0, KUMO_OUTPUT_DIRECTORY = 1 };

struct kumo_hc_output {
    uint64_t path;      /* in: guest address of the absolute path, "/a/b" */
    uint32_t path_len;  /* in: its bytes, without a NUL */
    uint32_t kind;      /* in: enum kumo_output_kind */
    uint64_t data;      /* in: the file's bytes (files only) */
    uint64_t len;       /* in */
    int64_t  ret;       /* out: 0, or -errno (the host did not keep it) */
};

struct kumo_hc_sleep {
    uint64_t nanoseconds;
    int64_t  ret;       /* out: 0 */
};

/* Persistent mode (a function that serves many requests in one boot). One
 * call hands over the last request's response (if KUMO_REQUEST_RESPOND) and
 * blocks until the next request, so a request costs one exit. The guest is
 * paused between the two, as a serverless instance is frozen after it
 * answers. ret: 0 a request was written; 1 the buffers were too small (nothing
 * written, body_len/env_len say what is needed, the request stays pending:
 * call again with room and without RESPOND); -1 the instance must exit. */
#define KUMO_REQUEST_RESPOND 1u

struct kumo_hc_request {
    uint64_t response;        /* in: guest address of the response body */
    uint64_t response_len;    /* in */
    int32_t  response_status; /* in: 0 success; anything else: the function failed */
    uint32_t flags;           /* in: KUMO_REQUEST_RESPOND */
    uint64_t body;            /* in: where the next request body goes */
    uint64_t body_cap;        /* in */
    uint64_t body_len;        /* out: the body's length */
    uint64_t env;             /* in: where the request's "KEY=value\0" strings go */
    uint64_t env_cap;         /* in */
    uint64_t env_len;         /* out: bytes of those strings */
    int64_t  ret;             /* out: 0, 1 or -1 as above */
};

/* The manifest: an ELF note (name "KUMO", type KUMO_NOTE_MANIFEST) in section
 * .note.kumo. The tender attaches only the devices it names. */
#define KUMO_NOTE_NAME       "KUMO"
#define KUMO_NOTE_MANIFEST   0x4b4d0001u
#define KUMO_NOTE_CONFIG     0x4b4d0002u /* JSON: the function's limits, args, env (for the host only) */
#define KUMO_MANIFEST_MAX    16
#define KUMO_DEVICE_NAME_MAX 28

enum kumo_device_type {
    KUMO_DEVICE_CONSOLE = 1,  /* stdout + stderr */
    KUMO_DEVICE_STDIN = 2,    /* the request body / the terminal's input */
    KUMO_DEVICE_FILES = 3,    /* the read-only file tree carried in the image */
    KUMO_DEVICE_FPGA = 4,     /* a whole FPGA for this tenant */
    KUMO_DEVICE_REQUESTS = 5  /* persistent mode: requests arrive by KUMO_HC_REQUEST */
};

struct kumo_manifest_entry {
    char     name[KUMO_DEVICE_NAME_MAX]; /* NUL-terminated */
    uint32_t type;                       /* enum kumo_device_type */
};

struct kumo_manifest {
    uint32_t version;   /* KUMO_ABI_VERSION */
    uint32_t count;     /* entries used */
    struct kumo_manifest_entry entries[KUMO_MANIFEST_MAX];
};

/* The read-only file tree, packed by `kumo build` into section .kumo.files. */
#define KUMO_FILES_MAGIC "KUMOFS01"

struct kumo_files_header {
    char     magic[8];
    uint32_t count;
    uint32_t reserved;
};

struct kumo_files_entry {
    uint32_t path_offset; /* from the start of the pack; absolute path, no NUL */
    uint32_t path_length;
    uint64_t data_offset; /* from the start of the pack */
    uint64_t size;
    uint32_t mode;        /* permission bits */
    uint32_t reserved;
};

#endif
