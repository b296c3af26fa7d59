/* Copies stdin to stdout, as cat(1) with no arguments does. */
#include <stdio.h>

int main(void)
{
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, stdin)) > 0) {
        if (fwrite(buf, 1, n, stdout) != n) return 1;
    }
    return ferror(stdin) ? 1 : 0;
}
