#include <stdio.h>
#include <string.h>

/* Tries to write 1 GB to stdout. */
int main(void)
{
    static char block[1 << 16];
    memset(block, 'x', sizeof block);
    for (int i = 0; i < (1 << 14); i++) fwrite(block, 1, sizeof block, stdout);
    return 0;
}
