#include <errno.h>
#include <stdio.h>
#include <sys/socket.h>

/* Asks for a socket twice: ENOSYS both times, reported once on stderr. */
int main(void)
{
    int a = socket(AF_INET, SOCK_STREAM, 0);
    int first = errno;
    int b = socket(AF_INET, SOCK_STREAM, 0);
    printf("socket: %d %d, errno %s\n", a, b, first == ENOSYS ? "ENOSYS" : "other");
    return 0;
}
