/* What the KVM calls behind one cold boot cost on this machine, without Kumo:
 * VM creation, memory slot, vCPU creation, CPUID and teardown. (The cost of a
 * guest's first touch of a page: scripts/page-touch.) Build and run:
 *   cc -O2 scripts/kvm-costs.c -o /tmp/kvm-costs && /tmp/kvm-costs */
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static double now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

int main(void)
{
    int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (kvm < 0) { perror("/dev/kvm"); return 1; }
    struct { struct kvm_cpuid2 head; struct kvm_cpuid_entry2 entries[256]; } cpuid = { .head.nent = 256 };
    if (ioctl(kvm, KVM_GET_SUPPORTED_CPUID, &cpuid) < 0) { perror("cpuid"); return 1; }
    int run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
    enum { ROUNDS = 50 };
    const size_t memory = 64 << 20;
    double vm = 0, slot = 0, vcpu = 0, set_cpuid = 0, teardown = 0;
    for (int i = 0; i < ROUNDS; i++) {
        double t0 = now_us();
        int vmfd = ioctl(kvm, KVM_CREATE_VM, 0);
        double t1 = now_us();
        void *mem = mmap(NULL, memory, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        struct kvm_userspace_memory_region region = {
            .slot = 0, .guest_phys_addr = 0, .memory_size = memory, .userspace_addr = (uint64_t)(uintptr_t)mem };
        ioctl(vmfd, KVM_SET_USER_MEMORY_REGION, &region);
        double t2 = now_us();
        int vcpufd = ioctl(vmfd, KVM_CREATE_VCPU, 0);
        void *run = mmap(NULL, (size_t)run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpufd, 0);
        double t3 = now_us();
        ioctl(vcpufd, KVM_SET_CPUID2, &cpuid);
        double t4 = now_us();
        munmap(run, (size_t)run_size);
        close(vcpufd);
        close(vmfd);
        munmap(mem, memory);
        double t5 = now_us();
        vm += t1 - t0; slot += t2 - t1; vcpu += t3 - t2; set_cpuid += t4 - t3; teardown += t5 - t4;
    }
    printf("KVM_CREATE_VM %.0f us, memory slot %.0f us, KVM_CREATE_VCPU+mmap %.0f us, "
           "KVM_SET_CPUID2 %.0f us, teardown %.0f us (mean of %d)\n",
           vm / ROUNDS, slot / ROUNDS, vcpu / ROUNDS, set_cpuid / ROUNDS, teardown / ROUNDS, ROUNDS);
    return 0;
}
