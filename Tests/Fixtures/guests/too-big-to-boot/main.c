/* 32 MiB of .bss in an 8 MiB guest: the image builds and uploads, but the
 * tender cannot place it, so it never boots. */
#include <stdio.h>

__attribute__((used)) static char big[32 << 20];

int main(int argc, char **argv)
{
    volatile char *p = big;  /* volatile: the array must stay in the image */
    p[12345] = (char)argc;
    printf("%d %s\n", p[12345], argv[0]);
    return 0;
}
