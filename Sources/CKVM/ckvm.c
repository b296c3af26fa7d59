#include "ckvm.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

int ckvm_open(const char *path)
{
    int fd = open(path, O_RDWR | O_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

int ckvm_close(int fd) { return close(fd) < 0 ? -errno : 0; }

int ckvm_ioctl_value(int fd, unsigned long request, unsigned long value)
{
    int r = ioctl(fd, request, value);
    return r < 0 ? -errno : r;
}

int ckvm_ioctl_pointer(int fd, unsigned long request, void *arg)
{
    int r = ioctl(fd, request, arg);
    return r < 0 ? -errno : r;
}

struct kvm_run *ckvm_map_run(int vcpu_fd, int size)
{
    void *p = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu_fd, 0);
    return p == MAP_FAILED ? NULL : p;
}

void ckvm_unmap_run(struct kvm_run *run, int size) { munmap(run, (size_t)size); }

uint32_t ckvm_run_exit_reason(const struct kvm_run *run) { return run->exit_reason; }

void ckvm_run_mmio(const struct kvm_run *run, uint64_t *address, uint64_t *data,
                   uint32_t *length, uint8_t *is_write)
{
    uint64_t value = 0;
    uint32_t len = run->mmio.len > 8 ? 8 : run->mmio.len;
    memcpy(&value, run->mmio.data, len);
    *address = run->mmio.phys_addr;
    *data = value;
    *length = run->mmio.len;
    *is_write = run->mmio.is_write;
}

uint32_t ckvm_run_internal_suberror(const struct kvm_run *run) { return run->internal.suberror; }

uint64_t ckvm_run_fail_entry_reason(const struct kvm_run *run)
{
    return run->fail_entry.hardware_entry_failure_reason;
}

void ckvm_run_set_immediate_exit(struct kvm_run *run, uint8_t value)
{
    __atomic_store_n(&run->immediate_exit, value, __ATOMIC_SEQ_CST);
}

struct ckvm_cpuid *ckvm_supported_cpuid(int kvm_fd, int *err)
{
    enum { MAX_ENTRIES = 256 };
    struct kvm_cpuid2 *cpuid = calloc(1, sizeof *cpuid + MAX_ENTRIES * sizeof(struct kvm_cpuid_entry2));
    if (!cpuid) { *err = -ENOMEM; return NULL; }
    cpuid->nent = MAX_ENTRIES;
    if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, cpuid) < 0) {
        *err = -errno;
        free(cpuid);
        return NULL;
    }
    return (struct ckvm_cpuid *)cpuid;
}

void ckvm_free_cpuid(struct ckvm_cpuid *table) { free(table); }

int ckvm_set_cpuid(int vcpu_fd, struct ckvm_cpuid *table)
{
    return ioctl(vcpu_fd, KVM_SET_CPUID2, (struct kvm_cpuid2 *)table) < 0 ? -errno : 0;
}

static void kick_handler(int signal_number) { (void)signal_number; }

int ckvm_install_kick_handler(int signal_number)
{
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = kick_handler;
    sigemptyset(&action.sa_mask);
    action.sa_flags = 0; /* no SA_RESTART: KVM_RUN must return -EINTR */
    return sigaction(signal_number, &action, NULL) < 0 ? -errno : 0;
}

int ckvm_kick_thread(pthread_t thread, int signal_number)
{
    int r = pthread_kill(thread, signal_number);
    return r ? -r : 0;
}

int ckvm_unblock_kick(int signal_number)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, signal_number);
    int r = pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    return r ? -r : 0;
}

pthread_t ckvm_current_thread(void) { return pthread_self(); }
