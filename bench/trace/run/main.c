/* A trace's run-mode function: the body is how many milliseconds the invocation takes. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(void)
{
    char body[32] = "";
    size_t n = fread(body, 1, sizeof body - 1, stdin);
    body[n] = 0;
    long ms = atol(body);
    struct timespec t = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&t, NULL);
    printf("%ld\n", ms);
    return 0;
}
