/* Prints its arguments, its environment and the first line of a carried file. */
#include <stdio.h>
#include <string.h>

extern char **environ;

int main(int argc, char **argv)
{
    printf("hello from a Kumo unikernel\n");
    for (int i = 0; i < argc; i++) printf("argv[%d] = %s\n", i, argv[i]);
    for (char **e = environ; *e; e++) printf("env: %s\n", *e);

    FILE *f = fopen("/data/greeting.txt", "r");
    if (!f) {
        perror("fopen /data/greeting.txt");
        return 1;
    }
    char line[256];
    if (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        printf("greeting: %s\n", line);
    }
    fclose(f);
    return 0;
}
