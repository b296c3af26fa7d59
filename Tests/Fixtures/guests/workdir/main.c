/* Starts in its workdir (/app/sub): relative opens, '..' included, resolve
 * against the current directory, which chdir and fchdir move within the tree. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void show(const char *path)
{
    char line[64] = "";
    FILE *f = fopen(path, "r");
    if (!f) { printf("%s: %s\n", path, strerror(errno)); return; }
    if (!fgets(line, sizeof line, f)) line[0] = 0;
    fclose(f);
    printf("%s: %s", path, line);
}

int main(void)
{
    char dir[256];
    printf("cwd %s\n", getcwd(dir, sizeof dir));
    show("inner.txt");
    show("../top.txt");
    show("./../sub/../top.txt");
    printf("chdir .. %d\n", chdir(".."));
    printf("cwd %s\n", getcwd(dir, sizeof dir));
    show("sub/inner.txt");
    int r = chdir("/nowhere");
    printf("chdir /nowhere %d %s\n", r, strerror(errno));
    r = chdir("top.txt");
    printf("chdir top.txt %d %s\n", r, strerror(errno));
    int fd = open("/app/sub", O_RDONLY | O_DIRECTORY);
    printf("fchdir %d\n", fchdir(fd));
    printf("cwd %s\n", getcwd(dir, sizeof dir));
    printf("chdir / %d\n", chdir("/"));
    show("app/top.txt");
    return 0;
}
