/* CPU work of a length the caller chooses, for the load-balancing benchmark: the
 * request body is a number N, the function runs N thousand rounds of a
 * multiply-add and answers with the result. Its time grows when its CPU is shared. */
#include <kumo.h>
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
    struct kumo_request req;
    char out[64], digits[24];
    while (kumo_next_request(&req) == 0) {
        size_t n = req.length < sizeof digits - 1 ? req.length : sizeof digits - 1;
        for (size_t i = 0; i < n; i++) digits[i] = ((const char *)req.body)[i];
        digits[n] = 0;
        unsigned long rounds = strtoul(digits, NULL, 10) * 1000;
        unsigned long x = 1;
        for (unsigned long i = 0; i < rounds; i++) x = x * 6364136223846793005UL + 1442695040888963407UL;
        int len = snprintf(out, sizeof out, "%lu\n", x);
        kumo_respond(out, (size_t)len, 0);
    }
    return 0;
}
