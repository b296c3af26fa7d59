/* Threads on the guest's one vCPU, switched cooperatively: a thread runs until
 * it blocks (a futex wait, a sleep, a read, an OpenCL wait) or yields, then the
 * next runnable one runs. A thread that never blocks starves the others. When
 * every thread waits on another and none can ever run, the run ends with a
 * message instead of hanging until its timeout. musl's pthreads sit on this
 * through clone, futex, set_tid_address and exit. */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <string.h>
#include <time.h>
#include "runtime.h"

/* Linux's futex operations (linux/futex.h, which musl's headers do not carry). */
enum { FUTEX_WAIT = 0, FUTEX_WAKE = 1, FUTEX_REQUEUE = 3, FUTEX_CMP_REQUEUE = 4, FUTEX_WAIT_BITSET = 9,
       FUTEX_WAKE_BITSET = 10, FUTEX_PRIVATE_FLAG = 128, FUTEX_CLOCK_REALTIME = 256 };
#define FUTEX_CMD_MASK (~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME))

#define MAX_THREADS 64

enum state { FREE = 0, RUNNING, RUNNABLE, WAITING, SLEEPING };

struct thread {
    enum state state;
    int tid;
    uint64_t rsp;                  /* saved by kumo_switch while not running */
    uint64_t fs;                   /* its TLS pointer */
    volatile int *clear_tid;       /* CLONE_CHILD_CLEARTID / set_tid_address: zeroed and woken at exit */
    volatile int *futex;           /* WAITING: on this word */
    uint32_t bitset;
    uint64_t wait_order;           /* FIFO among waiters of one word */
    uint64_t deadline;             /* WAITING (0: none) and SLEEPING: monotonic ns */
    int timed_out;
};

/* Zero until a program starts a thread: a program with one pays nothing. */
KUMO_LARGE static struct thread threads[MAX_THREADS];
static int current, active, next_tid = 2;
/* set_tid_address before the first clone (musl's start-up): kept out of the table. */
static volatile int *main_clear_tid;
static uint64_t wait_counter;
/* A finished thread's stack, unmapped once another thread runs (it was running on it). */
static uintptr_t unmap_base;
static size_t unmap_size;

/* Saves the callee-saved registers, MXCSR and the x87 control word on this
 * stack, stores the stack pointer in *save, and resumes the thread whose
 * stack pointer is `next` (saved the same way, or built by start_frame). */
void kumo_switch(uint64_t *save, uint64_t next);
__asm__(
    ".text\n.global kumo_switch\n.type kumo_switch,@function\nkumo_switch:\n"
    "  push %rbp\n  push %rbx\n  push %r12\n  push %r13\n  push %r14\n  push %r15\n"
    "  sub $8, %rsp\n  stmxcsr (%rsp)\n  fnstcw 4(%rsp)\n"
    "  mov %rsp, (%rdi)\n  mov %rsi, %rsp\n"
    "  ldmxcsr (%rsp)\n  fldcw 4(%rsp)\n  add $8, %rsp\n"
    "  pop %r15\n  pop %r14\n  pop %r13\n  pop %r12\n  pop %rbx\n  pop %rbp\n  ret\n"
    /* A new thread's first instructions: func (r12) called with arg (r13), then its exit. */
    ".global kumo_thread_entry\n.type kumo_thread_entry,@function\nkumo_thread_entry:\n"
    "  mov %r13, %rdi\n  call *%r12\n  mov %eax, %edi\n  call kumo_thread_exit\n  hlt\n");
void kumo_thread_entry(void);

static uint64_t now(void)
{
    struct timespec ts;
    kumo_clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t read_fs(void)
{
    uint64_t fs;
    __asm__ __volatile__("rdfsbase %0" : "=r"(fs));
    return fs;
}

/* The first clone turns the program into thread 1 of many. */
static void activate(void)
{
    if (active) return;
    threads[0] = (struct thread){ .state = RUNNING, .tid = 1, .fs = read_fs(), .clear_tid = main_clear_tid };
    current = 0;
    active = 1;
}

static void switch_to(int next)
{
    if (next == current) return;
    int previous = current;
    threads[previous].fs = read_fs();
    current = next;
    threads[next].state = RUNNING;
    __asm__ __volatile__("wrfsbase %0" :: "r"(threads[next].fs) : "memory");
    kumo_switch(&threads[previous].rsp, threads[next].rsp);
    /* Back on this thread. A thread that finished before us left its stack to free. */
    if (unmap_size) {
        kumo_munmap(unmap_base, unmap_size);
        unmap_size = 0;
    }
}

static _Noreturn void deadlock(void)
{
    kumo_warn("kumo: deadlock: every thread waits for another (on a futex: a mutex, a condition, a join) "
              "and none can run; the run ends\n");
    kumo_exit(0, 6);  /* as abort(): status 134 */
}

/* Gives the vCPU to the next thread that can run, waking sleepers and timed waits
 * whose time came; with none, sleeps on the host until the earliest is due. The
 * current thread, if it can still run, runs again once the others have had a turn. */
static void run_next(void)
{
    for (;;) {
        uint64_t t = now(), earliest = 0;
        for (int i = 0; i < MAX_THREADS; i++) {
            struct thread *th = &threads[i];
            if ((th->state == SLEEPING || (th->state == WAITING && th->deadline)) && th->deadline <= t) {
                th->timed_out = th->state == WAITING;
                th->state = RUNNABLE;
            }
            if ((th->state == SLEEPING || th->state == WAITING) && th->deadline && (!earliest || th->deadline < earliest))
                earliest = th->deadline;
        }
        for (int k = 1; k <= MAX_THREADS; k++) {
            int i = (current + k) % MAX_THREADS;
            if (threads[i].state == RUNNABLE || (i == current && threads[i].state == RUNNING)) {
                switch_to(i);
                return;
            }
        }
        if (!earliest) deadlock();
        struct timespec nap = { .tv_sec = (time_t)((earliest - t) / 1000000000u), .tv_nsec = (long)((earliest - t) % 1000000000u) };
        kumo_nanosleep(&nap, NULL);
    }
}

/* sched_yield, and before a call that blocks on the host (a read, an OpenCL wait). */
void kumo_thread_yield(void)
{
    if (!active) return;
    threads[current].state = RUNNABLE;
    run_next();
}

/* Builds a stack on which kumo_switch "returns" into kumo_thread_entry, with the stack
 * 16-byte aligned there, so its `call` enters func as the ABI wants (rsp = 8 mod 16). */
static uint64_t start_frame(uintptr_t top, int (*func)(void *), void *arg)
{
    uint64_t *sp = (uint64_t *)(top & ~(uintptr_t)15);
    *--sp = (uint64_t)(uintptr_t)kumo_thread_entry;
    *--sp = 0;                                /* rbp */
    *--sp = 0;                                /* rbx */
    *--sp = (uint64_t)(uintptr_t)func;        /* r12 */
    *--sp = (uint64_t)(uintptr_t)arg;         /* r13 */
    *--sp = 0;                                /* r14 */
    *--sp = 0;                                /* r15 */
    *--sp = 0x1f80 | (0x37fULL << 32);        /* MXCSR, x87 control word: their defaults */
    return (uint64_t)(uintptr_t)sp;
}

/* musl's __clone: a new thread sharing everything, on `stack`, with TLS `tls`. */
long kumo_clone(int (*func)(void *), void *stack, int flags, void *arg, int *ptid, void *tls, int *ctid)
{
    const int needed = CLONE_VM | CLONE_THREAD;
    if ((flags & needed) != needed) return -ENOSYS;  /* processes: none in a unikernel */
    if (!func || !stack) return -EINVAL;
    activate();
    int slot = -1;
    for (int i = 0; i < MAX_THREADS && slot < 0; i++)
        if (threads[i].state == FREE) slot = i;
    if (slot < 0) return -EAGAIN;
    struct thread *th = &threads[slot];
    *th = (struct thread){
        .state = RUNNABLE, .tid = next_tid++,
        .fs = (flags & CLONE_SETTLS) ? (uint64_t)(uintptr_t)tls : threads[current].fs,
        .clear_tid = (flags & CLONE_CHILD_CLEARTID) ? ctid : NULL,
        .rsp = start_frame((uintptr_t)stack, func, arg),
    };
    if ((flags & CLONE_PARENT_SETTID) && ptid) *ptid = th->tid;
    return th->tid;
}

long kumo_gettid(void) { return active ? threads[current].tid : 1; }

long kumo_set_tid_address(int *clear)
{
    if (active) threads[current].clear_tid = clear;
    else main_clear_tid = clear;
    return kumo_gettid();
}

static long futex_wake(volatile int *word, int count, uint32_t bitset)
{
    long woken = 0;
    while (woken < count) {
        int first = -1;
        for (int i = 0; i < MAX_THREADS; i++) {
            struct thread *th = &threads[i];
            if (th->state == WAITING && th->futex == word && (th->bitset & bitset) &&
                (first < 0 || th->wait_order < threads[first].wait_order)) first = i;
        }
        if (first < 0) break;
        threads[first].state = RUNNABLE;
        threads[first].timed_out = 0;
        woken++;
    }
    return woken;
}

/* SYS_exit: this thread ends (the process with it when it was the last). */
_Noreturn void kumo_thread_exit(int status)
{
    if (!active) kumo_exit(status, 0);
    struct thread *me = &threads[current];
    if (me->clear_tid) {
        *me->clear_tid = 0;
        futex_wake(me->clear_tid, 1, ~0u);
    }
    me->state = FREE;
    int alive = 0;
    for (int i = 0; i < MAX_THREADS; i++) alive += threads[i].state != FREE;
    if (!alive) kumo_exit(status, 0);
    run_next();
    kumo_exit(status, 0);  /* not reached: nothing switches back to a finished thread */
}

/* musl's __unmapself: a detached thread frees its own stack as it ends. */
_Noreturn void kumo_thread_unmap_exit(void *base, size_t size)
{
    if (unmap_size) kumo_munmap(unmap_base, unmap_size);  /* an earlier one's: nothing runs on it now */
    unmap_base = (uintptr_t)base;
    unmap_size = size;
    kumo_thread_exit(0);
}

/* The deadline, in monotonic ns, of a futex timeout: relative for FUTEX_WAIT, absolute for
 * FUTEX_WAIT_BITSET (on CLOCK_REALTIME with FUTEX_CLOCK_REALTIME). 0: none; -1: invalid. */
static int64_t futex_deadline(const struct timespec *ts, int absolute, int realtime)
{
    if (!ts) return 0;
    if (ts->tv_sec < 0 || ts->tv_nsec < 0 || ts->tv_nsec >= 1000000000L) return -1;
    uint64_t ns = (uint64_t)ts->tv_sec * 1000000000u + (uint64_t)ts->tv_nsec;
    uint64_t t = now();
    if (!absolute) return (int64_t)(t + ns + 1);
    if (realtime) {
        struct timespec wall;
        kumo_clock_gettime(CLOCK_REALTIME, &wall);
        uint64_t w = (uint64_t)wall.tv_sec * 1000000000u + (uint64_t)wall.tv_nsec;
        return (int64_t)(ns > w ? t + (ns - w) : t) + 1;
    }
    return (int64_t)(ns ? ns : 1);
}

long kumo_futex(volatile int *word, int op, int val, const struct timespec *timeout, volatile int *word2, int val3)
{
    int cmd = op & FUTEX_CMD_MASK;
    if (!word || ((uintptr_t)word & 3)) return -EINVAL;
    switch (cmd) {
    case FUTEX_WAIT:
    case FUTEX_WAIT_BITSET: {
        uint32_t bitset = cmd == FUTEX_WAIT ? ~0u : (uint32_t)val3;
        if (!bitset) return -EINVAL;
        int64_t deadline = futex_deadline(timeout, cmd == FUTEX_WAIT_BITSET, !!(op & FUTEX_CLOCK_REALTIME));
        if (deadline < 0) return -EINVAL;
        if (*word != val) return -EAGAIN;
        if (!active) {  /* one thread: nothing can change the word but a timeout */
            if (!deadline) deadlock();
            uint64_t t = now();
            if ((uint64_t)deadline > t) {
                struct timespec nap = { .tv_sec = (time_t)(((uint64_t)deadline - t) / 1000000000u),
                                        .tv_nsec = (long)(((uint64_t)deadline - t) % 1000000000u) };
                kumo_nanosleep(&nap, NULL);
            }
            return -ETIMEDOUT;
        }
        struct thread *me = &threads[current];
        me->state = WAITING;
        me->futex = word;
        me->bitset = bitset;
        me->wait_order = ++wait_counter;
        me->deadline = (uint64_t)deadline;
        me->timed_out = 0;
        run_next();
        me->futex = NULL;
        return me->timed_out ? -ETIMEDOUT : 0;
    }
    case FUTEX_WAKE:
    case FUTEX_WAKE_BITSET:
        if (cmd == FUTEX_WAKE_BITSET && !val3) return -EINVAL;
        return active ? futex_wake(word, val, cmd == FUTEX_WAKE ? ~0u : (uint32_t)val3) : 0;
    case FUTEX_REQUEUE:
    case FUTEX_CMP_REQUEUE: {
        if (cmd == FUTEX_CMP_REQUEUE && *word != val3) return -EAGAIN;
        if (!word2 || ((uintptr_t)word2 & 3)) return -EINVAL;
        if (!active) return 0;
        long woken = futex_wake(word, val, ~0u);
        long moved = 0, limit = (long)(uintptr_t)timeout;  /* val2 travels in the timeout argument */
        for (int i = 0; i < MAX_THREADS && moved < limit; i++)
            if (threads[i].state == WAITING && threads[i].futex == word) { threads[i].futex = word2; moved++; }
        return woken + moved;
    }
    default:
        return -ENOSYS;  /* priority inheritance and the rest: musl does not use them */
    }
}

/* nanosleep with other threads: this one sleeps, they run. */
long kumo_thread_sleep(const struct timespec *request)
{
    if (!active) return kumo_nanosleep(request, NULL);
    if (!request) return -EFAULT;
    if (request->tv_sec < 0 || request->tv_nsec < 0 || request->tv_nsec >= 1000000000L) return -EINVAL;
    struct thread *me = &threads[current];
    me->state = SLEEPING;
    me->deadline = now() + (uint64_t)request->tv_sec * 1000000000u + (uint64_t)request->tv_nsec;
    run_next();
    return 0;
}
