/* Thin C shim over linux/kvm.h for Swift: ioctl numbers as typed constants
 * (Swift cannot import the _IO* macros) and non-variadic wrappers that
 * return -errno. No logic lives here. */
#ifndef CKVM_H
#define CKVM_H

#include <stdint.h>
#include <pthread.h>
#include <linux/kvm.h>

static const unsigned long CKVM_GET_API_VERSION = KVM_GET_API_VERSION;
static const unsigned long CKVM_CREATE_VM = KVM_CREATE_VM;
static const unsigned long CKVM_CHECK_EXTENSION = KVM_CHECK_EXTENSION;
static const unsigned long CKVM_GET_VCPU_MMAP_SIZE = KVM_GET_VCPU_MMAP_SIZE;
static const unsigned long CKVM_GET_SUPPORTED_CPUID = KVM_GET_SUPPORTED_CPUID;
static const unsigned long CKVM_CREATE_VCPU = KVM_CREATE_VCPU;
static const unsigned long CKVM_SET_USER_MEMORY_REGION = KVM_SET_USER_MEMORY_REGION;
static const unsigned long CKVM_RUN = KVM_RUN;
static const unsigned long CKVM_GET_REGS = KVM_GET_REGS;
static const unsigned long CKVM_SET_REGS = KVM_SET_REGS;
static const unsigned long CKVM_GET_SREGS = KVM_GET_SREGS;
static const unsigned long CKVM_SET_SREGS = KVM_SET_SREGS;
static const unsigned long CKVM_SET_CPUID2 = KVM_SET_CPUID2;
static const unsigned long CKVM_GET_TSC_KHZ = KVM_GET_TSC_KHZ;

static const int CKVM_CAP_USER_MEMORY = KVM_CAP_USER_MEMORY;
static const int CKVM_CAP_IMMEDIATE_EXIT = KVM_CAP_IMMEDIATE_EXIT;
static const int CKVM_CAP_GET_TSC_KHZ = KVM_CAP_GET_TSC_KHZ;

static const uint32_t CKVM_EXIT_UNKNOWN = KVM_EXIT_UNKNOWN;
static const uint32_t CKVM_EXIT_IO = KVM_EXIT_IO;
static const uint32_t CKVM_EXIT_HLT = KVM_EXIT_HLT;
static const uint32_t CKVM_EXIT_MMIO = KVM_EXIT_MMIO;
static const uint32_t CKVM_EXIT_SHUTDOWN = KVM_EXIT_SHUTDOWN;
static const uint32_t CKVM_EXIT_FAIL_ENTRY = KVM_EXIT_FAIL_ENTRY;
static const uint32_t CKVM_EXIT_INTR = KVM_EXIT_INTR;
static const uint32_t CKVM_EXIT_INTERNAL_ERROR = KVM_EXIT_INTERNAL_ERROR;

/* open("/dev/kvm"): fd or -errno. */
int ckvm_open(const char *path);
int ckvm_close(int fd);
/* ioctl with an integer or a pointer argument: the result or -errno. */
int ckvm_ioctl_value(int fd, unsigned long request, unsigned long value);
int ckvm_ioctl_pointer(int fd, unsigned long request, void *arg);

/* mmap of a vCPU's kvm_run area: NULL on failure. */
struct kvm_run *ckvm_map_run(int vcpu_fd, int size);
void ckvm_unmap_run(struct kvm_run *run, int size);

/* kvm_run fields behind unions. */
uint32_t ckvm_run_exit_reason(const struct kvm_run *run);
void ckvm_run_mmio(const struct kvm_run *run, uint64_t *address, uint64_t *data,
                   uint32_t *length, uint8_t *is_write);
uint32_t ckvm_run_internal_suberror(const struct kvm_run *run);
uint64_t ckvm_run_fail_entry_reason(const struct kvm_run *run);
void ckvm_run_set_immediate_exit(struct kvm_run *run, uint8_t value);

/* The host's supported CPUID table (malloc'd; free with ckvm_free_cpuid), or
 * NULL with *err = -errno. Opaque to Swift: only handed back to ckvm_set_cpuid. */
struct ckvm_cpuid;
struct ckvm_cpuid *ckvm_supported_cpuid(int kvm_fd, int *err);
void ckvm_free_cpuid(struct ckvm_cpuid *table);
/* KVM_SET_CPUID2 on the vCPU: 0 or -errno. */
int ckvm_set_cpuid(int vcpu_fd, struct ckvm_cpuid *table);

/* Kicking a vCPU thread out of KVM_RUN: a no-op handler installed without
 * SA_RESTART makes the ioctl return -EINTR. */
int ckvm_install_kick_handler(int signal_number);
int ckvm_kick_thread(pthread_t thread, int signal_number);
/* Unblocks the kick signal in the calling thread (dispatch workers block all
 * signals, and a blocked kick would never interrupt KVM_RUN). */
int ckvm_unblock_kick(int signal_number);
pthread_t ckvm_current_thread(void);

/* The host TSC (rdtsc). */
static inline uint64_t ckvm_rdtsc(void) { return __builtin_ia32_rdtsc(); }

#endif
