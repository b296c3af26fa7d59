/* Kumo's function API for C programs (the guest side). A function in
 * `mode: persistent` serves many requests in one boot:
 *
 *     #include <kumo.h>
 *     struct kumo_request req;
 *     while (kumo_next_request(&req) == 0) {
 *         ... read req.body (req.length bytes), getenv-style lookups with kumo_request_env() ...
 *         kumo_respond(out, out_len, 0);
 *     }
 *     return 0;
 *
 * kumo_respond hands the answer to the gateway at once and then, as a
 * serverless instance is frozen after it answers, the program is paused until
 * the next request arrives (one VM exit per request). Its return value says
 * whether that next request is already waiting for kumo_next_request.
 * stdout and stderr go to the function's logs in this mode. */
#ifndef KUMO_H
#define KUMO_H

#include <stddef.h>

struct kumo_request {
    const void *body;        /* the request body; valid until the next kumo_next_request */
    size_t length;
    const char *const *env;  /* NULL-terminated "KEY=value" strings: query, method, headers */
};

/* 0: a request is in *req. -1: the instance is shutting down; return from main. */
int kumo_next_request(struct kumo_request *req);

/* Answers the current request: status 0 is success (HTTP 200); any other
 * value marks a failure (HTTP 500, the value in X-Kumo-Status). Returns 0,
 * or -1 when there is no request to answer. */
int kumo_respond(const void *body, size_t length, int status);

/* The value of KEY in the current request's environment, or NULL. */
const char *kumo_request_env(const struct kumo_request *req, const char *key);

#endif
