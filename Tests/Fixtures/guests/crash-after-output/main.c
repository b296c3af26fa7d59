#include <stdio.h>
#include <unistd.h>

int main(void)
{
    printf("printed before the crash\n");
    fflush(stdout);                    /* reaches the runtime's buffer, not yet the host */
    write(1, "written too\n", 12);
    volatile int *nothing = 0;
    return *nothing;
}
