// Process confinement for Kumo's instance processes: namespaces, mounts,
// identity, limits, seccomp. Thin, non-variadic wrappers returning 0 or
// -errno; the policy (which calls, which uid) is decided in Swift.
#ifndef CSANDBOX_H
#define CSANDBOX_H

#include <spawn.h>
#include <sys/types.h>

// Namespace flags for csb_unshare, re-exported as plain ints.
extern const int CSB_NEWNS, CSB_NEWNET, CSB_NEWIPC, CSB_NEWUTS;

// pipe2(O_CLOEXEC) and posix_spawn_file_actions_addclosefrom_np, which glibc
// declares only under _GNU_SOURCE (Swift's Glibc module does not set it).
int csb_pipe_cloexec(int fds[2]);
int csb_spawn_close_from(posix_spawn_file_actions_t *actions, int lowest);

// A connected AF_UNIX SOCK_SEQPACKET pair with close-on-exec: the node hands
// an instance its image over it as a descriptor.
int csb_socketpair_cloexec(int fds[2]);
// Sends `fd` as SCM_RIGHTS with a one-byte message; 0 or -errno.
int csb_send_fd(int socket, int fd);
// Receives one descriptor sent by csb_send_fd (close-on-exec); the descriptor or -errno
// (-EBADMSG when a message came without exactly one descriptor).
int csb_receive_fd(int socket);

// A memfd holding `count` bytes, sealed against writes, growth and shrinking
// (and further seal changes): every instance it is handed to sees the same,
// unchangeable image. The descriptor or -errno.
int csb_sealed_memfd(const void *bytes, unsigned long count);
// F_GET_SEALS of `fd`, or -errno.
int csb_seals(int fd);
// The seals csb_sealed_memfd sets.
extern const int CSB_IMAGE_SEALS;

// mallopt: blocks up to `mmap_threshold` come from the heap, which is trimmed only
// past `trim_threshold`, so memory faulted in once is reused (malloc.h is not in Swift's Glibc).
int csb_keep_heap(int mmap_threshold, int trim_threshold);

// Delivers `signal_number` when the parent process dies (PR_SET_PDEATHSIG).
int csb_die_with_parent(int signal_number);

// PR_SET_NO_NEW_PRIVS: exec can never grant privileges again.
int csb_no_new_privs(void);

int csb_unshare(int flags);

// In a new mount namespace: every mount private (nothing propagates back),
// an empty tmpfs (`tmp_bytes` at most) on /tmp, and an empty read-only tmpfs
// over each of `hidden` (`count` paths) so the process cannot see them.
int csb_private_mounts(unsigned long tmp_bytes, const char *const *hidden, int count);

// Drops every capability from the bounding set, then becomes uid/gid with no
// supplementary groups; the permitted and effective sets empty with the uid change.
int csb_become(uid_t uid, gid_t gid);

// Sets both limits of `resource` (RLIMIT_*).
int csb_limit(int resource, unsigned long long value);

// Installs a seccomp filter that allows only the `count` named system calls
// (unknown names are an error, -EINVAL) and kills the process on any other;
// ioctl is allowed only for KVM's request numbers (type 0xAE) and the terminal
// queries in `tty_requests`; clone only without namespace flags; clone3 gets ENOSYS. With `log_only` the other calls are logged, not killed.
int csb_seccomp(const char *const *names, int count, const unsigned long *tty_requests, int tty_count, int log_only);

#endif
