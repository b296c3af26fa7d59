#include <stdint.h>
#include "kumo_abi.h"

/* A malicious guest: a write whose length makes address + length overflow. */
int main(void)
{
    static char text[] = "hello";
    static struct kumo_hc_io call;
    call.fd = 1;
    call.data = (uint64_t)(uintptr_t)text;
    call.len = UINT64_MAX - 2;
    volatile uint64_t *doorbell = (volatile uint64_t *)(uintptr_t)KUMO_HC_ADDR(KUMO_HC_WRITE);
    *doorbell = (uint64_t)(uintptr_t)&call;
    return 0;
}
