/* Persistent mode (kumo.h): one KUMO_HC_REQUEST per request hands over the
 * last response and brings the next request into runtime-owned buffers. */
#include <stdlib.h>
#include <string.h>
#include "kumo.h"
#include "runtime.h"

#define MAX_ENV 256

static char *body_buf, *env_buf;
static size_t body_cap, env_cap;
static const char *env_list[MAX_ENV + 1];
static int answered = 1;       /* no request is open */
static int next_ready;         /* kumo_respond already fetched the next request */
static int next_result;
static struct kumo_request next_req;

static int grow(char **buf, size_t *cap, size_t need)
{
    if (need <= *cap) return 0;
    size_t cap2 = need < 4096 ? 4096 : need;
    char *p = realloc(*buf, cap2);
    if (!p) return -1;
    *buf = p;
    *cap = cap2;
    return 0;
}

/* One exit: responds if `response`, then waits for and reads the next request. */
static int exchange(const void *response, size_t len, int status, int respond, struct kumo_request *req)
{
    struct kumo_hc_request call;
    kumo_console_flush();  /* logs written while handling this request go out with it */
    for (;;) {
        memset(&call, 0, sizeof call);
        if (respond) {
            call.flags = KUMO_REQUEST_RESPOND;
            call.response = (uint64_t)(uintptr_t)response;
            call.response_len = len;
            call.response_status = status;
        }
        call.body = (uint64_t)(uintptr_t)body_buf;
        call.body_cap = body_cap;
        call.env = (uint64_t)(uintptr_t)env_buf;
        call.env_cap = env_cap;
        kumo_hypercall(KUMO_HC_REQUEST, &call);
        if (call.ret != 1) break;
        respond = 0;  /* answered already; now make room for the request */
        if (grow(&body_buf, &body_cap, call.body_len) || grow(&env_buf, &env_cap, call.env_len)) {
            kumo_warn("kumo: no memory for the next request");
            return -1;
        }
    }
    if (call.ret != 0) return -1;
    size_t n = 0, at = 0;
    while (at < call.env_len && n < MAX_ENV) {
        env_list[n++] = env_buf + at;
        at += strnlen(env_buf + at, call.env_len - at) + 1;
    }
    env_list[n] = NULL;
    req->body = body_buf;
    req->length = call.body_len;
    req->env = env_list;
    answered = 0;
    return 0;
}

int kumo_next_request(struct kumo_request *req)
{
    if (!req) return -1;
    if (next_ready) {
        next_ready = 0;
        *req = next_req;
        return next_result;
    }
    return exchange(NULL, 0, 0, 0, req);
}

int kumo_respond(const void *body, size_t length, int status)
{
    if (answered) return -1;
    answered = 1;
    next_result = exchange(body, length, status, 1, &next_req);
    next_ready = 1;
    return 0;
}

const char *kumo_request_env(const struct kumo_request *req, const char *key)
{
    if (!req || !req->env || !key) return NULL;
    size_t k = strlen(key);
    for (const char *const *e = req->env; *e; e++)
        if (strncmp(*e, key, k) == 0 && (*e)[k] == '=') return *e + k + 1;
    return NULL;
}
