/* What one wakeup between two processes costs here: a byte bounced over two
 * pipes between a parent and a child. Pin both to one CPU to compare:
 *   cc -O2 scripts/pipe-pingpong.c -o /tmp/pingpong && /tmp/pingpong && taskset -c 0 /tmp/pingpong */
#include <stdio.h>
#include <stdlib.h>
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
    int down[2], up[2];
    char c = 0;
    if (pipe(down) || pipe(up)) return 1;
    if (fork() == 0) {
        while (read(down[0], &c, 1) == 1) (void)!write(up[1], &c, 1);
        exit(0);
    }
    const int rounds = 20000;
    double t0 = now_us();
    for (int i = 0; i < rounds; i++) {
        (void)!write(down[1], &c, 1);
        (void)!read(up[0], &c, 1);
    }
    printf("pipe round trip: %.1f us\n", (now_us() - t0) / rounds);
    return 0;
}
