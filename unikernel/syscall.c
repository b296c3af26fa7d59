/* The Linux system calls that musl and ordinary C programs make, answered
 * in the guest. Kumo's musl calls __kumo_syscall instead of `syscall`.
 * Anything not here returns -ENOSYS and is reported once on stderr. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <sys/resource.h>
#include <sys/sysinfo.h>
#include <sys/stat.h>
#include <time.h>
#include "runtime.h"

#define ARCH_SET_FS 0x1002
#define ARCH_GET_FS 0x1003

static uint64_t reported[8]; /* bitmap of unsupported calls already reported */

static void report_unsupported(long n)
{
    if (n >= 0 && n < 512) {
        if (reported[n / 64] & (1ULL << (n % 64))) return;
        reported[n / 64] |= 1ULL << (n % 64);
    }
    char msg[96] = "kumo: unsupported system call ";
    char digits[24];
    int d = 0;
    unsigned long v = n < 0 ? 0 : (unsigned long)n;
    do { digits[d++] = (char)('0' + v % 10); v /= 10; } while (v);
    size_t len = strlen(msg);
    while (d) msg[len++] = digits[--d];
    memcpy(msg + len, ", returning ENOSYS\n", 20);
    kumo_warn(msg);
}

static long do_iov(int fd, const struct iovec *iov, int count, int writing)
{
    if (count < 0 || count > 1024) return -EINVAL;
    if (count && !iov) return -EFAULT;
    long total = 0;
    for (int i = 0; i < count; i++) {
        if (iov[i].iov_len == 0) continue;
        long n = writing ? kumo_write(fd, iov[i].iov_base, iov[i].iov_len)
                         : kumo_read(fd, iov[i].iov_base, iov[i].iov_len);
        if (n < 0) return total ? total : n;
        total += n;
        if ((size_t)n < iov[i].iov_len) break;
    }
    return total;
}

static long set_fs(uintptr_t base)
{
    __asm__ __volatile__("wrfsbase %0" :: "r"(base) : "memory");
    return 0;
}

static long get_fs(uintptr_t *out)
{
    uintptr_t base;
    __asm__ __volatile__("rdfsbase %0" : "=r"(base));
    if (!out) return -EFAULT;
    *out = base;
    return 0;
}

static long uname_answer(struct utsname *u)
{
    if (!u) return -EFAULT;
    memset(u, 0, sizeof *u);
    strcpy(u->sysname, "Linux");   /* programs test for it; the ABI is Linux's */
    strcpy(u->nodename, "kumo");
    strcpy(u->release, "6.1.0-kumo");
    strcpy(u->version, "#1 Kumo unikernel");
    strcpy(u->machine, "x86_64");
    return 0;
}

static long rlimit_answer(int resource, struct rlimit *old)
{
    if (resource < 0 || resource >= RLIM_NLIMITS) return -EINVAL;
    if (old) {
        old->rlim_cur = old->rlim_max = RLIM_INFINITY;
        if (resource == RLIMIT_NOFILE) old->rlim_cur = old->rlim_max = 256;
        if (resource == RLIMIT_STACK) old->rlim_cur = old->rlim_max = 1 << 20;
    }
    return 0;
}

static long sysinfo_answer(struct sysinfo *info)
{
    if (!info) return -EFAULT;
    memset(info, 0, sizeof *info);
    struct { long sec, nsec; } up;
    kumo_clock_gettime(CLOCK_BOOTTIME, &up);
    info->uptime = up.sec;
    info->totalram = kumo_memory_total();
    info->freeram = kumo_memory_free();
    info->procs = 1;
    info->mem_unit = 1;
    return 0;
}

static long random_bytes(void *buf, size_t len)
{
    if (len > 1 << 20) len = 1 << 20;
    struct kumo_hc_io call = { .data = (uint64_t)(uintptr_t)buf, .len = len };
    kumo_hypercall(KUMO_HC_RANDOM, &call);
    return call.ret;
}

/* Fatal signals sent to ourselves (abort, raise) end the function. */
static long signal_self(int sig)
{
    if (sig == 0) return 0;
    if (sig < 0 || sig >= 65) return -EINVAL;
    if (sig == SIGCHLD || sig == SIGURG || sig == SIGWINCH || sig == SIGCONT) return 0;
    kumo_exit(128 + sig, sig);
}

long __kumo_syscall(long n, long a1, long a2, long a3, long a4, long a5, long a6)
{
    (void)a5; (void)a6;
    switch (n) {
    case SYS_read: return kumo_read((int)a1, (void *)a2, (size_t)a3);
    case SYS_write: return kumo_write((int)a1, (const void *)a2, (size_t)a3);
    case SYS_readv: return do_iov((int)a1, (const struct iovec *)a2, (int)a3, 0);
    case SYS_writev: return do_iov((int)a1, (const struct iovec *)a2, (int)a3, 1);
    case SYS_pread64: return kumo_pread((int)a1, (void *)a2, (size_t)a3, (off_t)a4);
    case SYS_pwrite64: return kumo_pwrite((int)a1, (const void *)a2, (size_t)a3, (off_t)a4);
    case SYS_creat: return kumo_openat(AT_FDCWD, (const char *)a1, O_CREAT | O_WRONLY | O_TRUNC);
    case SYS_mkdir: return kumo_mkdirat(AT_FDCWD, (const char *)a1);
    case SYS_mkdirat: return kumo_mkdirat((int)a1, (const char *)a2);
    case SYS_unlink: return kumo_unlinkat(AT_FDCWD, (const char *)a1, 0);
    case SYS_rmdir: return kumo_unlinkat(AT_FDCWD, (const char *)a1, AT_REMOVEDIR);
    case SYS_unlinkat: return kumo_unlinkat((int)a1, (const char *)a2, (int)a3);
    case SYS_rename: return kumo_renameat(AT_FDCWD, (const char *)a1, AT_FDCWD, (const char *)a2, 0);
    case SYS_renameat: return kumo_renameat((int)a1, (const char *)a2, (int)a3, (const char *)a4, 0);
    case SYS_renameat2: return kumo_renameat((int)a1, (const char *)a2, (int)a3, (const char *)a4, (unsigned)a5);
    case SYS_ftruncate: return kumo_ftruncate((int)a1, (off_t)a2);
    case SYS_truncate: return kumo_truncate((const char *)a1, (off_t)a2);
    case SYS_open: return kumo_openat(AT_FDCWD, (const char *)a1, (int)a2);
    case SYS_openat: return kumo_openat((int)a1, (const char *)a2, (int)a3);
    case SYS_close: return kumo_close((int)a1);
    case SYS_lseek: return kumo_lseek((int)a1, (off_t)a2, (int)a3);
    case SYS_fstat: return kumo_fstat((int)a1, (void *)a2);
    case SYS_stat: case SYS_lstat: return kumo_fstatat(AT_FDCWD, (const char *)a1, (void *)a2, 0);
    case SYS_newfstatat: return kumo_fstatat((int)a1, (const char *)a2, (void *)a3, (int)a4);
    case SYS_access: return kumo_faccessat(AT_FDCWD, (const char *)a1, (int)a2);
    case SYS_faccessat: case SYS_faccessat2: return kumo_faccessat((int)a1, (const char *)a2, (int)a3);
    case SYS_fcntl: return kumo_fcntl((int)a1, (int)a2, a3);
    case SYS_dup: return kumo_dup((int)a1, 0, 0);
    case SYS_dup2: case SYS_dup3: return kumo_dup((int)a1, (int)a2, 1);
    case SYS_getdents64: return kumo_getdents64((int)a1, (void *)a2, (size_t)a3);
    case SYS_ioctl: return kumo_fcntl((int)a1, F_GETFD, 0) < 0 ? -EBADF : -ENOTTY; /* TIOCGWINSZ too: no terminals */
    case SYS_getcwd: return kumo_getcwd((char *)a1, (size_t)a2);
    case SYS_chdir: return kumo_chdir((const char *)a1);
    case SYS_fchdir: return kumo_fchdir((int)a1);
    case SYS_fsync: case SYS_fdatasync: return 0;

    case SYS_brk: return kumo_brk((uintptr_t)a1);
    case SYS_mmap: return kumo_mmap((uintptr_t)a1, (size_t)a2, (int)a3, (int)a4, (int)a5, (off_t)a6);
    case SYS_munmap: return kumo_munmap((uintptr_t)a1, (size_t)a2);
    case SYS_mremap: return kumo_mremap((uintptr_t)a1, (size_t)a2, (size_t)a3, (int)a4, (uintptr_t)a5);
    case SYS_mprotect: case SYS_madvise: case SYS_msync: case SYS_mlock: case SYS_munlock: return 0;

    case SYS_clock_gettime: return kumo_clock_gettime((int)a1, (void *)a2);
    case SYS_clock_getres:
        if (a2) { ((long *)a2)[0] = 0; ((long *)a2)[1] = 1; }
        return 0;
    case SYS_gettimeofday: {
        struct { long sec, nsec; } ts;
        long r = kumo_clock_gettime(0, &ts);
        if (r == 0 && a1) { ((long *)a1)[0] = ts.sec; ((long *)a1)[1] = ts.nsec / 1000; }
        return r;
    }
    case SYS_time: {
        struct { long sec, nsec; } ts;
        kumo_clock_gettime(0, &ts);
        if (a1) *(long *)a1 = ts.sec;
        return ts.sec;
    }
    case SYS_nanosleep: return kumo_thread_sleep((const struct timespec *)a1);
    case SYS_clock_nanosleep:
        if (a2 != 0) return -EINVAL; /* TIMER_ABSTIME is not supported */
        return kumo_thread_sleep((const struct timespec *)a3);
    case SYS_sched_yield: kumo_thread_yield(); return 0;
    case SYS_futex: return kumo_futex((volatile int *)a1, (int)a2, (int)a3, (const struct timespec *)a4, (volatile int *)a5, (int)a6);

    case SYS_exit: kumo_thread_exit((int)a1);
    case SYS_exit_group: kumo_exit((int)a1, 0);
    case SYS_arch_prctl:
        if (a1 == ARCH_SET_FS) return set_fs((uintptr_t)a2);
        if (a1 == ARCH_GET_FS) return get_fs((uintptr_t *)a2);
        return -EINVAL;
    case SYS_set_tid_address: return kumo_set_tid_address((int *)a1);
    case SYS_getpid: return 1;
    case SYS_gettid: return kumo_gettid();
    case SYS_getppid: return 0;
    case SYS_getuid: case SYS_geteuid: case SYS_getgid: case SYS_getegid: return 0;
    case SYS_uname: return uname_answer((struct utsname *)a1);
    case SYS_getrandom: return random_bytes((void *)a1, (size_t)a2);

    case SYS_rt_sigaction: case SYS_rt_sigprocmask: case SYS_sigaltstack: return 0;
    case SYS_kill: return (a1 == 1 || a1 == 0 || a1 == -1) ? signal_self((int)a2) : -ESRCH;
    case SYS_tkill: return a1 == kumo_gettid() ? signal_self((int)a2) : -ESRCH;
    case SYS_tgkill: return (a1 == 1 && a2 == kumo_gettid()) ? signal_self((int)a3) : -ESRCH;
    case SYS_getrlimit: return rlimit_answer((int)a1, (struct rlimit *)a2);
    case SYS_setrlimit: return 0;
    case SYS_prlimit64:
        if (a1 != 0 && a1 != 1) return -ESRCH;
        return rlimit_answer((int)a2, (struct rlimit *)a4);
    case SYS_readlink: case SYS_readlinkat: {
        /* The file tree has no symbolic links: EINVAL for what exists. */
        int dirfd = n == SYS_readlink ? AT_FDCWD : (int)a1;
        const char *path = (const char *)(n == SYS_readlink ? a1 : a2);
        struct stat st;
        long r = kumo_fstatat(dirfd, path, &st, 0);
        return r < 0 ? r : -EINVAL;
    }
    case SYS_sched_getaffinity: {
        /* One vCPU: CPU 0 only (sysconf(_SC_NPROCESSORS_ONLN) asks this). */
        if (a2 < 8 || !a3) return -EINVAL;
        memset((void *)a3, 0, 8);
        *(unsigned char *)a3 = 1;
        return 8;
    }
    case SYS_sysinfo: return sysinfo_answer((struct sysinfo *)a1);
    case SYS_membarrier: case SYS_rseq: return -ENOSYS; /* expected probes: no report */

    default:
        report_unsupported(n);
        return -ENOSYS;
    }
}
