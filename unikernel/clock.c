/* Time without VM exits: the TSC runs natively at CPL 3 on kvm-pvm and on
 * hardware KVM; the tender passes its frequency and the wall clock at boot. */
#include <errno.h>
#include <time.h>
#include "runtime.h"

static uint64_t tsc_khz = 1;
static uint64_t boot_epoch_ns, boot_monotonic_ns;

uint64_t kumo_tsc_entry; /* written by _start */

uint64_t kumo_tsc(void)
{
    uint32_t lo, hi;
    __asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

void kumo_clock_init(uint64_t khz, uint64_t epoch_ns, uint64_t monotonic_ns)
{
    tsc_khz = khz ? khz : 1;
    boot_epoch_ns = epoch_ns;
    boot_monotonic_ns = monotonic_ns;
}

static uint64_t ns_since_boot(void)
{
    uint64_t ticks = kumo_tsc() - kumo_tsc_entry;
    return (uint64_t)((unsigned __int128)ticks * 1000000u / tsc_khz);
}

long kumo_clock_gettime(int clock, void *out)
{
    struct timespec *ts = out;
    uint64_t ns;
    switch (clock) {
    case CLOCK_REALTIME: case CLOCK_REALTIME_COARSE:
        ns = boot_epoch_ns + ns_since_boot(); break;
    case CLOCK_MONOTONIC: case CLOCK_MONOTONIC_RAW: case CLOCK_MONOTONIC_COARSE: case CLOCK_BOOTTIME:
        ns = boot_monotonic_ns + ns_since_boot(); break;
    case CLOCK_PROCESS_CPUTIME_ID: case CLOCK_THREAD_CPUTIME_ID:
        ns = ns_since_boot(); break;
    default:
        return -EINVAL;
    }
    if (ts == NULL) return -EFAULT;
    ts->tv_sec = (time_t)(ns / 1000000000u);
    ts->tv_nsec = (long)(ns % 1000000000u);
    return 0;
}

long kumo_nanosleep(const void *request, void *remaining)
{
    const struct timespec *req = request;
    if (req == NULL) return -EFAULT;
    if (req->tv_sec < 0 || req->tv_nsec < 0 || req->tv_nsec >= 1000000000L) return -EINVAL;
    kumo_console_flush();
    struct kumo_hc_sleep call = {
        .nanoseconds = (uint64_t)req->tv_sec * 1000000000u + (uint64_t)req->tv_nsec,
    };
    kumo_hypercall(KUMO_HC_SLEEP, &call);
    if (remaining) {
        struct timespec *rem = remaining;
        rem->tv_sec = 0;
        rem->tv_nsec = 0;
    }
    return call.ret;
}
