/* Persistent mode under stress: the body picks what the instance does.
 * "crash" dereferences NULL, "hang" never answers, "exit" returns from main
 * without answering, "fail" answers with status 7, "count" tells how many
 * requests this boot has served; anything else is echoed. */
#include <kumo.h>
#include <stdio.h>
#include <string.h>

static int is(const struct kumo_request *r, const char *word)
{
    return r->length == strlen(word) && memcmp(r->body, word, r->length) == 0;
}

int main(void)
{
    struct kumo_request req;
    unsigned long served = 0;
    char out[64];
    while (kumo_next_request(&req) == 0) {
        served++;
        fprintf(stderr, "request %lu: %zu bytes\n", served, req.length);
        if (is(&req, "crash")) *(volatile int *)0 = 1;
        if (is(&req, "hang")) for (;;) {}
        if (is(&req, "exit")) return 3;
        if (is(&req, "fail")) { kumo_respond("failed on purpose", 17, 7); continue; }
        if (is(&req, "count")) {
            int n = snprintf(out, sizeof out, "%lu", served);
            kumo_respond(out, (size_t)n, 0);
            continue;
        }
        kumo_respond(req.body, req.length, 0);
    }
    return 0;
}
