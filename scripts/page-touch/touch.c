/* Guest-side cost of touching pages: first touch (a shadow page fault on
 * kvm-pvm, plus a host fault where the host page is absent) and second touch.
 *   kumo run scripts/page-touch -- 2000 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

int main(int argc, char **argv)
{
    int pages = argc > 1 ? atoi(argv[1]) : 2000;
    if (pages <= 0 || pages > 16384) {
        fprintf(stderr, "usage: page-touch [1..16384 pages]\n");
        return 2;
    }
    volatile char *p = malloc((size_t)pages * 4096 + 4096);
    if (!p) return 1;
    double t0 = now_us();
    for (int i = 0; i < pages; i++) p[(size_t)i * 4096] = 1;
    double t1 = now_us();
    for (int i = 0; i < pages; i++) p[(size_t)i * 4096] = 2;
    double t2 = now_us();
    printf("%d pages: first touch %.2f us/page, second touch %.3f us/page\n",
           pages, (t1 - t0) / pages, (t2 - t1) / pages);
    /* Freed, as real programs do: a program that never calls free gets musl's bump
     * allocator on brk instead of malloc's own mappings. */
    free((void *)p);
    return 0;
}
