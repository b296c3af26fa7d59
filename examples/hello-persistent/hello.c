/* A persistent-mode function: boots once, then answers each request with a
 * greeting and the request body (see <kumo.h>). */
#include <kumo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void)
{
    const char *greeting = getenv("GREETING");
    char out[4096];
    unsigned long served = 0;
    struct kumo_request req;
    while (kumo_next_request(&req) == 0) {
        const char *who = kumo_request_env(&req, "QUERY_name");
        int n = snprintf(out, sizeof out, "%s %s, request %lu, %zu bytes: ",
                         greeting ? greeting : "hello", who ? who : "there", ++served, req.length);
        size_t room = sizeof out - (size_t)n;
        size_t copy = req.length < room ? req.length : room;
        memcpy(out + n, req.body, copy);
        kumo_respond(out, (size_t)n + copy, 0);
    }
    printf("hello-persistent: shutting down after %lu requests\n", served);
    return 0;
}
