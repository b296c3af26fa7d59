/* Builds only when cflags' relative paths resolve against the function directory. */
#include <stdio.h>
#include "greeting.h"

int main(void)
{
    for (int i = 0; i < TIMES; i++) puts(GREETING);
    return 0;
}
