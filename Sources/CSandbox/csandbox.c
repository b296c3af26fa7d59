#define _GNU_SOURCE
#include "csandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <malloc.h>
#include <sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/capability.h>

const int CSB_NEWNS = CLONE_NEWNS, CSB_NEWNET = CLONE_NEWNET, CSB_NEWIPC = CLONE_NEWIPC, CSB_NEWUTS = CLONE_NEWUTS;

int csb_pipe_cloexec(int fds[2])
{
    return pipe2(fds, O_CLOEXEC) == 0 ? 0 : -errno;
}

int csb_spawn_close_from(posix_spawn_file_actions_t *actions, int lowest)
{
    return -posix_spawn_file_actions_addclosefrom_np(actions, lowest);
}

int csb_socketpair_cloexec(int fds[2])
{
    return socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) == 0 ? 0 : -errno;
}

int csb_send_fd(int socket, int fd)
{
    char byte = 'i';
    struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
    union { struct cmsghdr header; char space[CMSG_SPACE(sizeof(int))]; } control = { 0 };
    struct msghdr message = { .msg_iov = &iov, .msg_iovlen = 1,
                              .msg_control = control.space, .msg_controllen = sizeof control.space };
    struct cmsghdr *c = CMSG_FIRSTHDR(&message);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof(int));
    ssize_t n;
    do { n = sendmsg(socket, &message, MSG_NOSIGNAL); } while (n < 0 && errno == EINTR);
    return n == 1 ? 0 : -errno;
}

int csb_receive_fd(int socket)
{
    char byte;
    struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
    union { struct cmsghdr header; char space[CMSG_SPACE(sizeof(int))]; } control = { 0 };
    struct msghdr message = { .msg_iov = &iov, .msg_iovlen = 1,
                              .msg_control = control.space, .msg_controllen = sizeof control.space };
    ssize_t n;
    do { n = recvmsg(socket, &message, MSG_CMSG_CLOEXEC); } while (n < 0 && errno == EINTR);
    if (n < 0) return -errno;
    struct cmsghdr *c = CMSG_FIRSTHDR(&message);
    if (n == 0 || !c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
        c->cmsg_len != CMSG_LEN(sizeof(int)) || (message.msg_flags & MSG_CTRUNC)) {
        return -EBADMSG;
    }
    int fd;
    memcpy(&fd, CMSG_DATA(c), sizeof(int));
    return fd;
}

const int CSB_IMAGE_SEALS = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE;

int csb_sealed_memfd(const void *bytes, unsigned long count)
{
    int fd = memfd_create("kumo-image", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0) return -errno;
    const char *at = bytes;
    unsigned long left = count;
    while (left > 0) {
        ssize_t n = write(fd, at, left);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) { int e = n < 0 ? errno : EIO; close(fd); return -e; }
        at += n;
        left -= (unsigned long)n;
    }
    if (fcntl(fd, F_ADD_SEALS, CSB_IMAGE_SEALS) != 0) { int e = errno; close(fd); return -e; }
    return fd;
}

int csb_seals(int fd)
{
    int seals = fcntl(fd, F_GET_SEALS);
    return seals < 0 ? -errno : seals;
}

int csb_keep_heap(int mmap_threshold, int trim_threshold)
{
    return mallopt(M_MMAP_THRESHOLD, mmap_threshold) == 1 && mallopt(M_TRIM_THRESHOLD, trim_threshold) == 1 ? 0 : -EINVAL;
}

int csb_die_with_parent(int signal_number)
{
    return prctl(PR_SET_PDEATHSIG, (unsigned long)signal_number, 0UL, 0UL, 0UL) == 0 ? 0 : -errno;
}

int csb_no_new_privs(void)
{
    return prctl(PR_SET_NO_NEW_PRIVS, 1UL, 0UL, 0UL, 0UL) == 0 ? 0 : -errno;
}

int csb_unshare(int flags)
{
    return unshare(flags) == 0 ? 0 : -errno;
}

int csb_private_mounts(unsigned long tmp_bytes, const char *const *hidden, int count)
{
    if (mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
        return -errno;
    // The hidden folders first: one under /tmp would be out of reach once /tmp is replaced.
    for (int i = 0; i < count; i++) {
        if (mount("kumo-hidden", hidden[i], "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=4k,mode=0") != 0)
            return -errno;
    }
    char options[64];
    snprintf(options, sizeof options, "size=%lu,mode=1777", tmp_bytes);
    // Executable: the OpenCL runtime links each kernel into a shared object there and loads it.
    if (mount("kumo-tmp", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, options) != 0)
        return -errno;
    return 0;
}

int csb_become(uid_t uid, gid_t gid)
{
    for (int cap = 0; cap <= CAP_LAST_CAP; cap++) {
        if (prctl(PR_CAPBSET_DROP, (unsigned long)cap, 0UL, 0UL, 0UL) != 0 && errno != EINVAL)
            return -errno;
    }
    if (setgroups(0, NULL) != 0)
        return -errno;
    if (setresgid(gid, gid, gid) != 0)
        return -errno;
    if (setresuid(uid, uid, uid) != 0)
        return -errno;
    return 0;
}

int csb_limit(int resource, unsigned long long value)
{
    struct rlimit limit = { .rlim_cur = value, .rlim_max = value };
    return setrlimit(resource, &limit) == 0 ? 0 : -errno;
}

int csb_seccomp(const char *const *names, int count, const unsigned long *tty_requests, int tty_count, int log_only)
{
    scmp_filter_ctx filter = seccomp_init(log_only ? SCMP_ACT_LOG : SCMP_ACT_KILL_PROCESS);
    if (filter == NULL)
        return -ENOMEM;
    // Every thread gets the filter (and NoNewPrivs), not just the caller.
    int rc = seccomp_attr_set(filter, SCMP_FLTATR_CTL_TSYNC, 1);
    // A binary tree over syscall numbers instead of a list of ~150 comparisons: ioctl
    // (KVM_RUN on every guest exit) checks its argument, so the kernel's per-syscall
    // allow cache cannot skip the filter for it.
    if (rc == 0)
        rc = seccomp_attr_set(filter, SCMP_FLTATR_CTL_OPTIMIZE, 2);
    for (int i = 0; i < count && rc == 0; i++) {
        int number = seccomp_syscall_resolve_name(names[i]);
        if (number == __NR_SCMP_ERROR) {
            rc = -EINVAL;
            break;
        }
        rc = seccomp_rule_add(filter, SCMP_ACT_ALLOW, number, 0);
    }
    // ioctl: KVM's requests (_IO*(0xAE, nr): the type byte is bits 8..15) and a few terminal queries.
    if (rc == 0)
        rc = seccomp_rule_add(filter, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1, SCMP_A1(SCMP_CMP_MASKED_EQ, 0xff00, 0xAE00));
    for (int i = 0; i < tty_count && rc == 0; i++)
        rc = seccomp_rule_add(filter, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1, SCMP_A1(SCMP_CMP_EQ, tty_requests[i]));
    // Threads, yes; new namespaces (a user namespace would hand back capabilities), no.
    const unsigned long namespaces = CLONE_NEWNS | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC |
                                     CLONE_NEWUTS | CLONE_NEWCGROUP;
    if (rc == 0)
        rc = seccomp_rule_add(filter, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1, SCMP_A0(SCMP_CMP_MASKED_EQ, namespaces, 0));
    // clone3 passes its flags in memory, where a filter cannot look: ENOSYS makes libc fall back to clone.
    if (rc == 0)
        rc = seccomp_rule_add(filter, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
    if (rc == 0)
        rc = seccomp_load(filter);
    seccomp_release(filter);
    return rc;
}
