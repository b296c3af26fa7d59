/* Internal interfaces of the Kumo guest runtime. */
#ifndef KUMO_RUNTIME_H
#define KUMO_RUNTIME_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "kumo_abi.h"

/* Large zeroed buffers go after all other data (see kumo.ld). */
#define KUMO_LARGE __attribute__((section(".bss.kumo_large")))

/* Which file uses which: hypercall.c nothing; console -> hypercall; clock ->
 * console, hypercall; scratch -> memory, hypercall; exit -> clock, console,
 * hypercall, scratch; threads -> clock, console, exit, memory; files ->
 * console, scratch, threads; syscall, boot and requests use the rest. No two
 * files need each other. */

/* hypercall.c: the doorbell */
void kumo_hypercall(enum kumo_hypercall nr, void *arg);

/* exit.c */
_Noreturn void kumo_exit(int status, int signal);

/* console.c: stdin, stdout, stderr */
long kumo_console_write(int fd, const void *buf, size_t len);
long kumo_console_read(void *buf, size_t len);
void kumo_console_flush(void);
void kumo_warn(const char *msg);

/* memory.c: brk and anonymous mmap over the guest's free pages */
void kumo_memory_init(uintptr_t heap_start, uintptr_t heap_end);
long kumo_brk(uintptr_t addr);
long kumo_mmap(uintptr_t addr, size_t len, int prot, int flags, int fd, off_t off);
long kumo_munmap(uintptr_t addr, size_t len);
long kumo_mremap(uintptr_t old, size_t old_len, size_t new_len, int flags, uintptr_t new_addr);
void *kumo_early_alloc(size_t len);
uint64_t kumo_memory_total(void);
uint64_t kumo_memory_free(void);

/* files.c: the read-only file tree and the descriptor table */
void kumo_files_init(const char *start_directory);
long kumo_chdir(const char *path);
long kumo_fchdir(int fd);
long kumo_getcwd(char *buf, size_t size);
long kumo_openat(int dirfd, const char *path, int flags);
long kumo_close(int fd);
long kumo_read(int fd, void *buf, size_t len);
long kumo_pread(int fd, void *buf, size_t len, off_t off);
long kumo_write(int fd, const void *buf, size_t len);
long kumo_lseek(int fd, off_t off, int whence);
long kumo_fstat(int fd, void *st);
long kumo_fstatat(int dirfd, const char *path, void *st, int flags);
long kumo_faccessat(int dirfd, const char *path, int mode);
long kumo_fcntl(int fd, int cmd, long arg);
long kumo_dup(int fd, int min_fd, int exact);
long kumo_getdents64(int fd, void *buf, size_t len);

/* files.c, more: what a program creates and removes */
long kumo_pwrite(int fd, const void *buf, size_t len, off_t off);
long kumo_mkdirat(int dirfd, const char *path);
long kumo_unlinkat(int dirfd, const char *path, int flags);
long kumo_renameat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, unsigned flags);
long kumo_ftruncate(int fd, off_t size);
long kumo_truncate(const char *path, off_t size);

/* scratch.c: files and directories a run creates, in guest memory */
struct kumo_scratch;
extern int kumo_scratch_export_at_exit;
void kumo_scratch_tree_has_tmp(void);
struct kumo_scratch *kumo_scratch_find(const char *abs);
long kumo_scratch_create(const char *abs, int dir, struct kumo_scratch **out);
int kumo_scratch_is_dir(const struct kumo_scratch *n);
uint64_t kumo_scratch_size(const struct kumo_scratch *n);
uint64_t kumo_scratch_ino(const struct kumo_scratch *n);
const char *kumo_scratch_path(const struct kumo_scratch *n);
void kumo_scratch_hold(struct kumo_scratch *n);
void kumo_scratch_release(struct kumo_scratch *n);
long kumo_scratch_pread(struct kumo_scratch *n, void *buf, size_t len, uint64_t off);
long kumo_scratch_pwrite(struct kumo_scratch *n, const void *buf, size_t len, uint64_t off);
long kumo_scratch_truncate(struct kumo_scratch *n, uint64_t size);
const char *kumo_scratch_child(const char *abs, uint64_t index, size_t *name_length, int *dir);
long kumo_scratch_unlink(struct kumo_scratch *n, int rmdir);
long kumo_scratch_rename(struct kumo_scratch *n, const char *to, struct kumo_scratch *replaced);
void kumo_scratch_export(void);

/* threads.c: threads switched at blocking calls on the one vCPU */
struct timespec;
long kumo_clone(int (*func)(void *), void *stack, int flags, void *arg, int *ptid, void *tls, int *ctid);
long kumo_futex(volatile int *word, int op, int val, const struct timespec *timeout, volatile int *word2, int val3);
long kumo_thread_sleep(const struct timespec *request);
void kumo_thread_yield(void);
long kumo_gettid(void);
long kumo_set_tid_address(int *clear);
_Noreturn void kumo_thread_exit(int status);
_Noreturn void kumo_thread_unmap_exit(void *base, size_t size);

/* clock.c: time from the TSC, no exits */
extern uint64_t kumo_tsc_entry;
uint64_t kumo_tsc(void);
void kumo_clock_init(uint64_t tsc_khz, uint64_t epoch_ns, uint64_t monotonic_ns);
long kumo_clock_gettime(int clock, void *ts);
long kumo_nanosleep(const void *req, void *rem);

/* syscall.c */
long __kumo_syscall(long n, long a1, long a2, long a3, long a4, long a5, long a6);

#endif
