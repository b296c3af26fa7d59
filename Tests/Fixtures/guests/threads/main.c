/* pthreads on the one vCPU: create and join with results, a mutex under
 * contention, a condition variable between a producer and a consumer,
 * thread-local storage, sleeps that let others run, a timed wait, a
 * detached thread, and yields. Argument "deadlock": two threads that each
 * wait for the other; "exit": a thread ends the process while others wait. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static __thread int local = 7;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
static long counter;
static int queue[4], queued, produced_done;

static void *count(void *arg)
{
    for (int i = 0; i < 1000; i++) {
        pthread_mutex_lock(&lock);
        long c = counter;
        if (i % 100 == 0) sched_yield();  /* inside the lock: the others must wait for it */
        counter = c + 1;
        pthread_mutex_unlock(&lock);
    }
    local += (int)(intptr_t)arg;
    return (void *)(intptr_t)local;
}

static void *produce(void *arg)
{
    (void)arg;
    for (int i = 1; i <= 10; i++) {
        pthread_mutex_lock(&lock);
        while (queued == 4) pthread_cond_wait(&changed, &lock);
        queue[queued++] = i;
        pthread_cond_broadcast(&changed);
        pthread_mutex_unlock(&lock);
    }
    pthread_mutex_lock(&lock);
    produced_done = 1;
    pthread_cond_broadcast(&changed);
    pthread_mutex_unlock(&lock);
    return NULL;
}

static void *consume(void *arg)
{
    long sum = 0;
    (void)arg;
    for (;;) {
        pthread_mutex_lock(&lock);
        while (queued == 0 && !produced_done) pthread_cond_wait(&changed, &lock);
        if (queued == 0) { pthread_mutex_unlock(&lock); break; }
        sum += queue[--queued];
        pthread_cond_broadcast(&changed);
        pthread_mutex_unlock(&lock);
    }
    return (void *)sum;
}

static char order[16];
static void *sleeper(void *arg)
{
    struct timespec nap = { 0, 30 * 1000000L };
    nanosleep(&nap, NULL);
    strcat(order, (const char *)arg);
    return NULL;
}

static pthread_mutex_t a = PTHREAD_MUTEX_INITIALIZER, b = PTHREAD_MUTEX_INITIALIZER;
static void *take_b_then_a(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&b);
    sched_yield();
    pthread_mutex_lock(&a);
    return NULL;
}

static void *exit_process(void *arg)
{
    (void)arg;
    exit(3);
}

/* A thread starts on a stack aligned as the ABI wants: SSE spills to the stack need it. */
static void *aligned(void *arg)
{
    (void)arg;
    return (void *)(intptr_t)((uintptr_t)__builtin_frame_address(0) % 16 == 0);
}

static volatile int detached_ran;
static void *detached(void *arg) { (void)arg; detached_ran = 1; return NULL; }

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "deadlock") == 0) {
        pthread_t t;
        pthread_mutex_lock(&a);
        pthread_create(&t, NULL, take_b_then_a, NULL);
        sched_yield();
        printf("main holds a, the other b\n");
        fflush(stdout);
        pthread_mutex_lock(&b);
        printf("not reached\n");
        return 0;
    }
    if (argc > 1 && strcmp(argv[1], "exit") == 0) {
        pthread_t t;
        pthread_create(&t, NULL, exit_process, NULL);
        printf("joining a thread that calls exit(3)\n");
        fflush(stdout);
        pthread_join(t, NULL);
        printf("not reached\n");
        return 0;
    }

    pthread_t t[4];
    for (int i = 0; i < 4; i++) pthread_create(&t[i], NULL, count, (void *)(intptr_t)(i + 1));
    long results = 0;
    for (int i = 0; i < 4; i++) {
        void *r;
        pthread_join(t[i], &r);
        results += (long)(intptr_t)r;
    }
    printf("counter %ld, thread results %ld, main's local %d\n", counter, results, local);

    pthread_t p, c1, c2;
    pthread_create(&c1, NULL, consume, NULL);
    pthread_create(&c2, NULL, consume, NULL);
    pthread_create(&p, NULL, produce, NULL);
    void *s1, *s2;
    pthread_join(p, NULL);
    pthread_join(c1, &s1);
    pthread_join(c2, &s2);
    printf("consumed %ld\n", (long)s1 + (long)s2);

    pthread_t s;
    pthread_create(&s, NULL, sleeper, "b");
    strcat(order, "a");
    pthread_join(s, NULL);
    printf("order %s\n", order);

    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_nsec += 20 * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) { deadline.tv_sec++; deadline.tv_nsec -= 1000000000L; }
    pthread_mutex_lock(&lock);
    int timed = pthread_cond_timedwait(&changed, &lock, &deadline);
    pthread_mutex_unlock(&lock);
    printf("timed wait: %s\n", timed == ETIMEDOUT ? "timed out" : strerror(timed));

    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_t d;
    pthread_create(&d, &attr, detached, NULL);
    struct timespec ms = { 0, 1000000L };
    for (int i = 0; i < 1000 && !detached_ran; i++) nanosleep(&ms, NULL);  /* natively it runs on another core */
    printf("detached ran %d, tid differs %d\n", detached_ran, (int)(pthread_self() != d));

    pthread_t many[60];
    int made = 0;
    for (int i = 0; i < 60; i++) made += pthread_create(&many[i], NULL, detached, NULL) == 0;
    for (int i = 0; i < made; i++) pthread_join(many[i], NULL);
    printf("made and joined %d more\n", made);
    pthread_t probe;
    void *ok;
    pthread_create(&probe, NULL, aligned, NULL);
    pthread_join(probe, &ok);
    printf("stack aligned %d\n", (int)(intptr_t)ok);
    return 0;
}
