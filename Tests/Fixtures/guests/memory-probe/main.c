#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* "write": leaves 8 MiB of 0x5A bytes in the heap and exits; "write-mapped" the same
 * in a large mapping (the zone the host backs with huge pages).
 * "scan": counts 0x5A bytes anywhere in its heap area: another guest's data
 * must never be visible to it.
 * "place": where a large and a small mapping go (MiB offsets and alignment). */
extern char _end[];
char *volatile kept;

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "write") == 0) {
        char *secret = malloc(8 << 20);
        if (!secret) return 1;
        memset(secret, 0x5A, 8 << 20);
        kept = secret; /* escapes: the compiler must keep the memset */
        printf("wrote\n");
        return 0;
    }
    if (argc > 1 && strcmp(argv[1], "write-mapped") == 0) {
        char *secret = mmap(0, 8 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (secret == MAP_FAILED) return 1;
        memset(secret, 0x5A, 8 << 20);
        kept = secret;
        printf("wrote at %lu MiB\n", (unsigned long)((uintptr_t)secret >> 20));
        return 0;
    }
    if (argc > 1 && strcmp(argv[1], "place") == 0) {
        char *large = mmap(0, (4 << 20) + 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        char *small = mmap(0, 64 << 10, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (large == MAP_FAILED || small == MAP_FAILED || large[0] || small[0]) return 1;
        printf("large %lu aligned %d, small %lu\n", (unsigned long)((uintptr_t)large >> 20),
               (uintptr_t)large % (2 << 20) == 0, (unsigned long)((uintptr_t)small >> 20));
        return 0;
    }
    /* 64M of memory, the top 8M of it stack: scan from the image's end to 56M. */
    size_t found = 0;
    for (volatile unsigned char *p = (unsigned char *)_end; p < (unsigned char *)(56UL << 20); p++)
        found += *p == 0x5A;
    printf("found %zu\n", found);
    return 0;
}
