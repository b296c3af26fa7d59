/* What the KVM calls behind one cold boot cost on this machine, without Kumo:
 * VM creation, memory slot, vCPU creation, CPUID and teardown; and a tiny CPL 3
 * guest's first KVM_RUN (to its first MMIO exit) on a fresh vCPU, again on the
 * same memory, and after its memory slot was swapped for fresh memory. (The
 * cost of a guest's first touch of a page: scripts/page-touch.) Build and run:
 *   cc -O2 scripts/kvm-costs.c -o /tmp/kvm-costs && /tmp/kvm-costs */
#include <fcntl.h>
#include <string.h>
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

enum { GUEST_MEMORY = 4 << 20 };

/* Page tables (2 MiB pages, U bit) for 4 MiB and the doorbell at 3 GiB, and at
 * 2 MiB: movabs $0xC0000000, %rbx; mov %eax, (%rbx); ud2. */
static void *guest_memory(void)
{
    uint8_t *mem = mmap(NULL, GUEST_MEMORY, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    uint64_t *pml4 = (void *)(mem + 0x1000), *pdpt = (void *)(mem + 0x2000);
    uint64_t *pd = (void *)(mem + 0x3000), *doorbell_pd = (void *)(mem + 0x4000);
    pml4[0] = 0x2000 | 7;
    pdpt[0] = 0x3000 | 7;
    pdpt[3] = 0x4000 | 7;
    pd[0] = 0x87;
    pd[1] = (1ULL << 21) | 0x87;
    doorbell_pd[0] = 0xC0000000ULL | 0x87;
    static const uint8_t code[] = { 0x48, 0xBB, 0, 0, 0, 0xC0, 0, 0, 0, 0, 0x89, 0x03, 0x0F, 0x0B };
    memcpy(mem + 0x200000, code, sizeof code);
    return mem;
}

static void enter_user_mode(int vcpu)
{
    struct kvm_sregs s;
    ioctl(vcpu, KVM_GET_SREGS, &s);
    struct kvm_segment code = { .limit = 0xffffffff, .selector = 0x33, .type = 11, .present = 1, .dpl = 3, .s = 1, .l = 1, .g = 1 };
    struct kvm_segment data = { .limit = 0xffffffff, .selector = 0x2b, .type = 3, .present = 1, .dpl = 3, .db = 1, .s = 1, .g = 1 };
    s.cs = code;
    s.ss = s.ds = s.es = s.fs = s.gs = data;
    s.cr3 = 0x1000;
    s.cr4 = 0x20 | 0x200 | 0x400 | 0x10000;
    s.cr0 = 0x80050033;
    s.efer = 0x100 | 0x400 | 0x800 | 1;
    ioctl(vcpu, KVM_SET_SREGS, &s);
    struct kvm_regs regs = { .rip = 0x200000, .rsp = GUEST_MEMORY, .rflags = 0x202 };
    ioctl(vcpu, KVM_SET_REGS, &regs);
}

static double timed_run(int vcpu, struct kvm_run *run)
{
    double t0 = now_us();
    ioctl(vcpu, KVM_RUN, 0);
    double t1 = now_us();
    if (run->exit_reason != KVM_EXIT_MMIO) fprintf(stderr, "unexpected exit %u\n", run->exit_reason);
    return t1 - t0;
}

static void first_runs(int kvm, void *cpuid, int run_size)
{
    enum { ROUNDS = 30 };
    double fresh = 0, again = 0, swapped = 0;
    for (int i = 0; i < ROUNDS; i++) {
        int vm = ioctl(kvm, KVM_CREATE_VM, 0);
        void *first = guest_memory(), *second = guest_memory();
        struct kvm_userspace_memory_region region = {
            .slot = 0, .memory_size = GUEST_MEMORY, .userspace_addr = (uint64_t)(uintptr_t)first };
        ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region);
        int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
        struct kvm_run *run = mmap(NULL, (size_t)run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
        ioctl(vcpu, KVM_SET_CPUID2, cpuid);
        enter_user_mode(vcpu);
        fresh += timed_run(vcpu, run);
        enter_user_mode(vcpu);
        again += timed_run(vcpu, run);
        region.memory_size = 0;
        ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region);
        region.memory_size = GUEST_MEMORY;
        region.userspace_addr = (uint64_t)(uintptr_t)second;
        ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region);
        enter_user_mode(vcpu);
        swapped += timed_run(vcpu, run);
        munmap(run, (size_t)run_size);
        close(vcpu);
        close(vm);
        munmap(first, GUEST_MEMORY);
        munmap(second, GUEST_MEMORY);
    }
    printf("first KVM_RUN to the first exit: fresh vCPU %.0f us, again %.0f us, "
           "after a memory slot swap %.0f us (mean of %d)\n",
           fresh / ROUNDS, again / ROUNDS, swapped / ROUNDS, ROUNDS);
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
    first_runs(kvm, &cpuid, run_size);
    return 0;
}
