/* Exercises the runtime's system calls through ordinary libc calls. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/sysinfo.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define CHECK(cond) do { if (!(cond)) { printf("FAIL %s (errno %d)\n", #cond, errno); failures++; } else printf("ok %s\n", #cond); } while (0)

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

int main(void)
{
    int failures = 0;
    double before = now_ms();
    struct timespec nap = { 0, 20 * 1000 * 1000 };
    CHECK(nanosleep(&nap, NULL) == 0);
    CHECK(now_ms() - before >= 19.0);

    unsigned char random[32] = { 0 };
    CHECK(getrandom(random, sizeof random, 0) == sizeof random);
    int nonzero = 0;
    for (size_t i = 0; i < sizeof random; i++) nonzero += random[i] != 0;
    CHECK(nonzero > 0);

    struct utsname u;
    CHECK(uname(&u) == 0 && strcmp(u.machine, "x86_64") == 0);
    CHECK(getpid() > 0);
    CHECK(!isatty(1) && errno == ENOTTY);

    int fd = open("/tree/digits.txt", O_RDONLY);
    CHECK(fd >= 0);
    struct stat st;
    CHECK(fstat(fd, &st) == 0 && st.st_size == 11 && S_ISREG(st.st_mode));
    CHECK(lseek(fd, 5, SEEK_SET) == 5);
    char buf[8] = { 0 };
    CHECK(read(fd, buf, 3) == 3 && memcmp(buf, "567", 3) == 0);
    int copy = dup(fd);
    CHECK(copy > fd && lseek(copy, 0, SEEK_CUR) >= 0);
    CHECK(close(copy) == 0 && close(fd) == 0);
    CHECK(close(fd) == -1 && errno == EBADF);
    CHECK(stat("/tree/sub", &st) == 0 && S_ISDIR(st.st_mode));
    CHECK(access("/tree/sub/inner.txt", R_OK) == 0);
    CHECK(access("/tree/sub/inner.txt", W_OK) == -1 && errno == EROFS);
    CHECK(open("/tree/sub/inner.txt", O_WRONLY) == -1 && errno == EROFS);
    int made = open("/tree/new.txt", O_WRONLY | O_CREAT, 0644);  /* a scratch file beside the tree's */
    CHECK(made >= 0 && close(made) == 0 && unlink("/tree/new.txt") == 0);
    CHECK(open("/nope", O_RDONLY) == -1 && errno == ENOENT);

    DIR *dir = opendir("/tree");
    CHECK(dir != NULL);
    int seen_digits = 0, seen_sub = 0, entries = 0;
    for (struct dirent *e; dir && (e = readdir(dir));) {
        entries++;
        seen_digits |= strcmp(e->d_name, "digits.txt") == 0;
        seen_sub |= strcmp(e->d_name, "sub") == 0 && e->d_type == DT_DIR;
    }
    if (dir) closedir(dir);
    CHECK(entries == 2 && seen_digits && seen_sub);

    char *big = malloc(32 << 20);
    CHECK(big != NULL);
    memset(big, 1, 32 << 20);
    big = realloc(big, 48 << 20);
    CHECK(big != NULL && big[(32 << 20) - 1] == 1);
    free(big);
    void *map = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(map != MAP_FAILED && ((char *)map)[4096] == 0);
    CHECK(munmap(map, 1 << 20) == 0);
    CHECK(malloc((size_t)1 << 40) == NULL && errno == ENOMEM);

    char link[64];
    CHECK(readlink("/tree/digits.txt", link, sizeof link) == -1 && errno == EINVAL);
    CHECK(sysconf(_SC_NPROCESSORS_ONLN) == 1);
    struct sysinfo si;
    CHECK(sysinfo(&si) == 0 && si.totalram > (64UL << 20) && si.freeram > 0 && si.freeram <= si.totalram);

    printf("%d failures\n", failures);
    return failures ? 1 : 0;
}
