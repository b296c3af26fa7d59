/* Sequential HTTP load for Kumo's gateway: one keep-alive connection, one
 * request at a time, latency measured around each request. In C so that the
 * client's own cost (a cold Python client added ~0.5 ms per request) stays out
 * of the figures. Prints p50/p90/p99/max in microseconds and requests/s.
 *
 *   cc -O2 scripts/gateway-load.c -o /tmp/gateway-load
 *   /tmp/gateway-load URL [--requests N] [--gap-ms MS] [--body TEXT] [--label TEXT]
 *
 * --gap-ms waits between requests (cold starts: lets keep-alive 0 stop the
 * instance and the pool refill). Replies with X-Kumo-Cold-Start: true are
 * counted, so a run shows that every request was cold.
 *
 *   /tmp/gateway-load URL --rate PER_SECOND --connections C [--requests N]
 *
 * --rate is open loop: request k is due at k/rate seconds, on connection k mod C;
 * its latency counts from when it was due, so a request that waits for its
 * connection (the one before it still unanswered) counts that wait too. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static int connect_to(const char *host, const char *port)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *list;
    if (getaddrinfo(host, port, &hints, &list) != 0) return -1;
    int fd = -1;
    for (struct addrinfo *a = list; a; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
        if (fd < 0) continue;
        if (connect(fd, a->ai_addr, a->ai_addrlen) == 0) break;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(list);
    if (fd >= 0) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){1}, sizeof(int));
    return fd;
}

/* One response: status, whether it was a cold start, whether the server closes. 0 or -1. */
static int read_response(int fd, int *status, int *cold, int *closes)
{
    static char buf[1 << 20];
    size_t have = 0;
    char *end = NULL;
    while (!end) {
        if (have == sizeof buf - 1) return -1;
        ssize_t n = read(fd, buf + have, sizeof buf - 1 - have);
        if (n <= 0) return -1;
        have += (size_t)n;
        buf[have] = 0;
        end = strstr(buf, "\r\n\r\n");
    }
    size_t header_bytes = (size_t)(end - buf) + 4;
    *status = atoi(buf + 9);
    *cold = 0;
    *closes = 0;
    long length = 0;
    *end = 0;  /* the header lines end here, so searches stay inside them */
    for (char *line = strstr(buf, "\r\n"); line; line = strstr(line, "\r\n")) {
        line += 2;
        char *eol = strstr(line, "\r\n");
        if (eol) *eol = 0;
        if (!strncasecmp(line, "content-length:", 15)) length = atol(line + 15);
        if (!strncasecmp(line, "x-kumo-cold-start:", 18) && strstr(line, "true")) *cold = 1;
        if (!strncasecmp(line, "connection:", 11) && strcasestr(line, "close")) *closes = 1;
        if (!eol) break;
        *eol = '\r';
    }
    long left = length - (long)(have - header_bytes);
    while (left > 0) {
        ssize_t n = read(fd, buf, left < (long)sizeof buf ? (size_t)left : sizeof buf);
        if (n <= 0) return -1;
        left -= n;
    }
    return 0;
}

/* Open loop at `rate` requests/s over `count` connections: fills latency[] (µs from due time). */
static int open_loop(const char *host, const char *port, const char *request, int request_bytes,
                     int requests, double rate, int count, long long *latency, int *errors)
{
    struct pollfd fds[64];
    long long due_of[64];       /* the due time of the request each connection has out; 0: idle */
    int backlog[64] = {0};      /* requests due on it but not yet sent */
    int next_of[64] = {0};      /* the index of the next request it sends (k = i + count * j) */
    for (int c = 0; c < count; c++) {
        if ((fds[c].fd = connect_to(host, port)) < 0) return -1;
        fds[c].events = POLLIN;
        due_of[c] = 0;
        next_of[c] = c;
    }
    long long start = now_ns() + 1000000, gap = (long long)(1e9 / rate);
    int scheduled = 0, done = 0;
    while (done < requests) {
        long long now = now_ns();
        while (scheduled < requests && start + scheduled * gap <= now) {
            int c = scheduled % count;
            if (due_of[c] == 0) {
                if (write(fds[c].fd, request, (size_t)request_bytes) != request_bytes) return -1;
                due_of[c] = start + scheduled * gap;
            } else {
                backlog[c]++;
            }
            scheduled++;
        }
        long long wait_ns = scheduled < requests ? start + scheduled * gap - now_ns() : 100000000;
        struct timespec timeout = {.tv_sec = wait_ns > 0 ? wait_ns / 1000000000 : 0, .tv_nsec = wait_ns > 0 ? wait_ns % 1000000000 : 0};
        if (ppoll(fds, (nfds_t)count, &timeout, NULL) < 0 && errno != EINTR) return -1;
        for (int c = 0; c < count; c++) {
            if (!(fds[c].revents & POLLIN) || due_of[c] == 0) continue;
            int status = 0, cold = 0, closes = 0;
            if (read_response(fds[c].fd, &status, &cold, &closes) != 0 || closes) return -1;
            latency[next_of[c]] = (now_ns() - due_of[c]) / 1000;
            *errors += status != 200;
            done++;
            next_of[c] += count;
            due_of[c] = 0;
            if (backlog[c] > 0) {
                backlog[c]--;
                if (write(fds[c].fd, request, (size_t)request_bytes) != request_bytes) return -1;
                due_of[c] = start + (long long)next_of[c] * gap;
            }
        }
    }
    for (int c = 0; c < count; c++) close(fds[c].fd);
    return 0;
}

static int by_value(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    const char *url = NULL, *body = "", *label = NULL;
    int requests = 200, connections = 1;
    double gap_ms = 0, rate = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--requests") && i + 1 < argc) requests = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--gap-ms") && i + 1 < argc) gap_ms = atof(argv[++i]);
        else if (!strcmp(argv[i], "--rate") && i + 1 < argc) rate = atof(argv[++i]);
        else if (!strcmp(argv[i], "--connections") && i + 1 < argc) connections = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--body") && i + 1 < argc) body = argv[++i];
        else if (!strcmp(argv[i], "--label") && i + 1 < argc) label = argv[++i];
        else if (!url) url = argv[i];
        else { fprintf(stderr, "gateway-load: unexpected argument %s\n", argv[i]); return 2; }
    }
    char host[256], port[16] = "80", path[2048] = "/";
    if (!url || requests <= 0 || connections < 1 || connections > 64 || rate < 0 || sscanf(url, "http://%255[^:/]", host) != 1) {
        fprintf(stderr, "usage: gateway-load http://HOST[:PORT]/PATH [--requests N] [--gap-ms MS | --rate PER_SECOND --connections 1..64]"
                        " [--body TEXT] [--label TEXT]\n");
        return 2;
    }
    const char *rest = url + 7 + strlen(host);
    if (*rest == ':') { sscanf(rest + 1, "%15[0-9]", port); rest += 1 + strlen(port); }
    if (*rest == '/') snprintf(path, sizeof path, "%s", rest);

    char request[4096];
    int request_bytes = snprintf(request, sizeof request,
        "POST %s HTTP/1.1\r\nHost: %s:%s\r\nContent-Type: application/octet-stream\r\nContent-Length: %zu\r\n\r\n%s",
        path, host, port, strlen(body), body);
    if (request_bytes >= (int)sizeof request) { fprintf(stderr, "gateway-load: body too long\n"); return 2; }

    long long *latency = calloc((size_t)requests, sizeof *latency);
    int fd = -1, cold = 0, errors = 0;
    long long started = now_ns();
    if (rate > 0) {
        if (open_loop(host, port, request, request_bytes, requests, rate, connections, latency, &errors) != 0) {
            fprintf(stderr, "gateway-load: a connection to %s:%s failed: %s\n", host, port, strerror(errno));
            return 1;
        }
    }
    for (int i = 0; rate == 0 && i < requests; i++) {
        if (gap_ms > 0) usleep((useconds_t)(gap_ms * 1000));
        if (fd < 0 && (fd = connect_to(host, port)) < 0) {
            fprintf(stderr, "gateway-load: cannot connect to %s:%s: %s\n", host, port, strerror(errno));
            return 1;
        }
        long long t0 = now_ns();
        int status = 0, was_cold = 0, closes = 0;
        if (write(fd, request, (size_t)request_bytes) != request_bytes || read_response(fd, &status, &was_cold, &closes) != 0) {
            fprintf(stderr, "gateway-load: the connection broke on request %d\n", i + 1);
            return 1;
        }
        latency[i] = (now_ns() - t0) / 1000;
        errors += status != 200;
        cold += was_cold;
        if (closes) { close(fd); fd = -1; }
    }
    double wall = (now_ns() - started) / 1e9;
    long long busy = 0;
    for (int i = 0; i < requests; i++) busy += latency[i];
    qsort(latency, (size_t)requests, sizeof *latency, by_value);
#define PICK(q) latency[(int)((q) * requests) < requests ? (int)((q) * requests) : requests - 1]
    printf("%s: n=%d cold=%d errors=%d p50=%lldus p90=%lldus p99=%lldus max=%lldus rps=%.0f (wall %.1fs)\n",
           label ? label : path, requests, cold, errors, PICK(0.50), PICK(0.90), PICK(0.99), latency[requests - 1],
           rate > 0 ? requests / wall : requests / (busy / 1e6), wall);
    return errors ? 1 : 0;
}
