/* Hypercalls: a store of the call struct's address to the doorbell page,
 * which lies outside every memslot and so exits to the tender as MMIO. */
#include "runtime.h"

void kumo_hypercall(enum kumo_hypercall nr, void *arg)
{
    /* Identity mapping: the struct's virtual address is its guest-physical one. */
    volatile uint64_t *doorbell = (volatile uint64_t *)(uintptr_t)KUMO_HC_ADDR(nr);
    __asm__ __volatile__("" ::: "memory");
    *doorbell = (uint64_t)(uintptr_t)arg;
    __asm__ __volatile__("" ::: "memory");
}

static inline uint64_t read_tsc(void)
{
    uint32_t lo, hi;
    __asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

uint64_t kumo_tsc_entry; /* written by _start */

_Noreturn void kumo_exit(int status, int signal)
{
    kumo_console_flush();
    struct kumo_hc_exit call = {
        .status = status & 0xff, .signal = signal,
        .tsc_entry = kumo_tsc_entry, .tsc_exit = read_tsc(),
    };
    for (;;) kumo_hypercall(KUMO_HC_EXIT, &call);
}
