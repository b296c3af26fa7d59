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
