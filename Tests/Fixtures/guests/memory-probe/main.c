#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "write": leaves 8 MiB of 0x5A bytes in the heap and exits.
 * "scan": counts 0x5A bytes anywhere in its heap area: another guest's data
 * must never be visible to it. */
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
    /* 64M of memory, the top 8M of it stack: scan from the image's end to 56M. */
    size_t found = 0;
    for (volatile unsigned char *p = (unsigned char *)_end; p < (unsigned char *)(56UL << 20); p++)
        found += *p == 0x5A;
    printf("found %zu\n", found);
    return 0;
}
