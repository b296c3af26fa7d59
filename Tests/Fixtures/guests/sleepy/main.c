/* Sleeps ?ms= milliseconds (default 500), then says so: a slow request. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(void)
{
    const char *ms = getenv("QUERY_ms");
    long wait = ms ? atol(ms) : 500;
    struct timespec t = { wait / 1000, (wait % 1000) * 1000000L };
    nanosleep(&t, NULL);
    printf("slept %ld ms\n", wait);
    return 0;
}
