#include <stdint.h>
#include "kumo_abi.h"

/* A malicious guest: rings the doorbell with a struct address beyond its memory. */
int main(void)
{
    volatile uint64_t *doorbell = (volatile uint64_t *)(uintptr_t)KUMO_HC_ADDR(KUMO_HC_WRITE);
    *doorbell = 0x7fff00000000ULL;
    return 0;
}
