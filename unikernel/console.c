/* stdin/stdout/stderr. Each hypercall costs a VM exit (~27 us on kvm-pvm),
 * so stdout is gathered in a buffer and flushed when full, before stdin is
 * read, before anything goes to stderr, before sleeping, and at exit.
 * stderr is unbuffered, as on Linux. stdin is read ahead in large blocks. */
#include <errno.h>
#include <string.h>
#include "runtime.h"

#define OUT_BUFFER (64 * 1024)
#define IN_BUFFER (64 * 1024)

/* Global, with these names, so that the tender can find them in the image's
 * symbols and salvage stdout not yet flushed when a guest crashes or is killed. */
KUMO_LARGE char kumo_stdout_buffer[OUT_BUFFER];
uint64_t kumo_stdout_used;
KUMO_LARGE static char in_buffer[IN_BUFFER];
static size_t in_start, in_end;
static int in_eof;

static long host_io(enum kumo_hypercall nr, int fd, const void *buf, size_t len)
{
    struct kumo_hc_io call = { .fd = (uint32_t)fd, .data = (uint64_t)(uintptr_t)buf, .len = len };
    kumo_hypercall(nr, &call);
    return call.ret;
}

static long host_write_all(int fd, const char *buf, size_t len)
{
    size_t done = 0;
    while (done < len) {
        long n = host_io(KUMO_HC_WRITE, fd, buf + done, len - done);
        if (n < 0) return n;
        if (n == 0) return -EIO;
        done += (size_t)n;
    }
    return (long)done;
}

void kumo_console_flush(void)
{
    if (kumo_stdout_used) host_write_all(1, kumo_stdout_buffer, kumo_stdout_used);
    kumo_stdout_used = 0;
}

long kumo_console_write(int fd, const void *buf, size_t len)
{
    if (fd == 2) {
        kumo_console_flush();
        return host_write_all(2, buf, len);
    }
    if (len >= OUT_BUFFER) {
        kumo_console_flush();
        return host_write_all(1, buf, len);
    }
    if (kumo_stdout_used + len > OUT_BUFFER) kumo_console_flush();
    memcpy(kumo_stdout_buffer + kumo_stdout_used, buf, len);
    kumo_stdout_used += len;
    return (long)len;
}

long kumo_console_read(void *buf, size_t len)
{
    kumo_console_flush();
    if (len == 0) return 0;
    if (in_start == in_end && !in_eof) {
        if (len >= IN_BUFFER) {
            long n = host_io(KUMO_HC_READ, 0, buf, len);
            if (n == 0) in_eof = 1;
            return n;
        }
        long n = host_io(KUMO_HC_READ, 0, in_buffer, IN_BUFFER);
        if (n < 0) return n;
        if (n == 0) in_eof = 1;
        in_start = 0;
        in_end = (size_t)n;
    }
    size_t avail = in_end - in_start;
    if (avail == 0) return 0;
    if (len > avail) len = avail;
    memcpy(buf, in_buffer + in_start, len);
    in_start += len;
    return (long)len;
}

void kumo_warn(const char *msg)
{
    kumo_console_write(2, msg, strlen(msg));
}
