/* A trace's persistent function: each request's body is how many milliseconds it takes. */
#include <kumo.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(void)
{
    struct kumo_request req;
    char digits[32], out[32];
    while (kumo_next_request(&req) == 0) {
        size_t n = req.length < sizeof digits - 1 ? req.length : sizeof digits - 1;
        for (size_t i = 0; i < n; i++) digits[i] = ((const char *)req.body)[i];
        digits[n] = 0;
        long ms = atol(digits);
        struct timespec t = { ms / 1000, (ms % 1000) * 1000000L };
        nanosleep(&t, NULL);
        int len = snprintf(out, sizeof out, "%ld\n", ms);
        kumo_respond(out, (size_t)len, 0);
    }
    return 0;
}
