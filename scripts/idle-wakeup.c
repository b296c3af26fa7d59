/* The machine's own tail for a cold request's shape, without Kumo: after an
 * idle gap, ten wakeups across two processes with ~1.2 ms of work on the far
 * side (as a cold start: event loop, instance process, guest, reader thread),
 * timed as one "request". On a VM whose vCPUs the host deschedules, its p99
 * is a floor under Kumo's cold-start p99.
 *   cc -O2 scripts/idle-wakeup.c -o /tmp/idle-wakeup && /tmp/idle-wakeup [ROUNDS] [GAP_MS] */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void busy(long long ns)
{
    long long end = now_ns() + ns;
    while (now_ns() < end) {}
}

static int by_value(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 200, gap_ms = argc > 2 ? atoi(argv[2]) : 400;
    if (rounds <= 0 || gap_ms < 0) { fprintf(stderr, "usage: idle-wakeup [ROUNDS] [GAP_MS]\n"); return 2; }
    int down[2], up[2];
    char c = 0;
    if (pipe(down) || pipe(up)) return 1;
    if (fork() == 0) {
        int n = 0;
        while (read(down[0], &c, 1) == 1) {
            if (++n % 10 == 5) busy(1200000);  /* the boot, once per request */
            (void)!write(up[1], &c, 1);
        }
        exit(0);
    }
    long long *took = calloc((size_t)rounds, sizeof *took);
    for (int r = 0; r < rounds; r++) {
        usleep((useconds_t)gap_ms * 1000);
        long long t0 = now_ns();
        for (int i = 0; i < 10; i++) {
            (void)!write(down[1], &c, 1);
            (void)!read(up[0], &c, 1);
        }
        took[r] = (now_ns() - t0) / 1000;
    }
    qsort(took, (size_t)rounds, sizeof *took, by_value);
    printf("idle %d ms, then 10 wakeups and 1.2 ms of work: p50 %lld us, p90 %lld, p99 %lld, max %lld (%d rounds)\n",
           gap_ms, took[rounds / 2], took[rounds * 9 / 10], took[rounds * 99 / 100], took[rounds - 1], rounds);
    return 0;
}
