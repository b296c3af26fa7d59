/* Files a program writes: a scratch file system in guest memory beside the
 * read-only carried tree. Each step prints what it saw. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void list(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) { printf("opendir %s: %s\n", dir, strerror(errno)); return; }
    char names[512] = "";
    struct dirent *e;
    while ((e = readdir(d))) {
        strcat(names, " ");
        strcat(names, e->d_name);
        if (e->d_type == DT_DIR) strcat(names, "/");
    }
    closedir(d);
    printf("ls %s:%s\n", dir, names);
}

static const char *result(int r) { return r == 0 ? "ok" : strerror(errno); }

int main(int argc, char **argv)
{
    /* A benchmark-suite program: its result file's name from argv, fopen unchecked. */
    FILE *out = fopen(argc > 1 ? argv[1] : "result.txt", "w");
    fprintf(out, "sum=%d\n", 42);
    fclose(out);
    char line[64] = "";
    FILE *in = fopen(argv[1], "r");
    fgets(line, sizeof line, in);
    fclose(in);
    printf("read back: %s", line);

    /* Seek, overwrite, pread, truncate, a hole, append. */
    int fd = open("/tmp/data.bin", O_RDWR | O_CREAT | O_EXCL, 0644);
    write(fd, "hello world", 11);
    lseek(fd, 6, SEEK_SET);
    write(fd, "kumo!", 5);
    char buf[32] = "";
    pread(fd, buf, sizeof buf - 1, 0);
    printf("after seek: %s\n", buf);
    ftruncate(fd, 5);
    struct stat st;
    fstat(fd, &st);
    printf("truncated: size %lld, end at %lld\n", (long long)st.st_size, (long long)lseek(fd, 0, SEEK_END));
    pwrite(fd, "x", 1, 10);
    memset(buf, 'z', sizeof buf);
    long n = pread(fd, buf, sizeof buf, 0);
    printf("hole: %ld bytes, byte 7 is %d\n", n, buf[7]);
    close(fd);
    fd = open("/tmp/data.bin", O_WRONLY | O_APPEND);
    write(fd, "!", 1);
    close(fd);
    stat("/tmp/data.bin", &st);
    printf("appended: size %lld\n", (long long)st.st_size);
    printf("exclusive again: %s\n", open("/tmp/data.bin", O_RDWR | O_CREAT | O_EXCL, 0644) < 0 ? strerror(errno) : "opened");

    /* Directories, rename, unlink. */
    printf("mkdir: %s\n", result(mkdir("/tmp/out", 0755)));
    printf("mkdir again: %s\n", result(mkdir("/tmp/out", 0755)));
    printf("mkdir without parent: %s\n", result(mkdir("/tmp/no/such", 0755)));
    printf("rename: %s\n", result(rename("/tmp/data.bin", "/tmp/out/data.bin")));
    printf("old name: %s\n", result(stat("/tmp/data.bin", &st)));
    printf("new name: %s, size %lld\n", result(stat("/tmp/out/data.bin", &st)), (long long)st.st_size);
    list("/tmp/out");
    printf("rmdir non-empty: %s\n", result(rmdir("/tmp/out")));
    fd = open("/tmp/out/data.bin", O_RDONLY);
    printf("unlink while open: %s\n", result(unlink("/tmp/out/data.bin")));
    memset(buf, 0, sizeof buf);
    read(fd, buf, 5);
    printf("still readable: %s\n", buf);
    close(fd);
    printf("rmdir: %s\n", result(rmdir("/tmp/out")));

    /* The carried tree stays read-only; new files may be made beside its own. */
    printf("write carried: %s\n", open("/data/input.txt", O_WRONLY) < 0 ? strerror(errno) : "opened");
    printf("unlink carried: %s\n", result(unlink("/data/input.txt")));
    printf("rename carried: %s\n", result(rename("/data/input.txt", "/tmp/x")));
    FILE *beside = fopen("/data/new.txt", "w");
    fputs("made at run time\n", beside);
    fclose(beside);
    printf("writable: %s\n", result(access("/data", W_OK)));
    list("/data");
    list("/");

    /* Filling the scratch space: ENOSPC, not a crash; freeing it makes room again. */
    static char chunk[1 << 20];
    memset(chunk, 'f', sizeof chunk);
    fd = open("/tmp/fill", O_WRONLY | O_CREAT, 0644);
    long mib = 0;
    for (;;) {
        long w = write(fd, chunk, sizeof chunk);
        if (w < 0) { printf("filled after %s MiB: %s\n", mib > 1 ? "some" : "no", strerror(errno)); break; }
        if (w < (long)sizeof chunk) continue;  /* a short write: the next one says why */
        mib++;
    }
    close(fd);
    unlink("/tmp/fill");
    fd = open("/tmp/again", O_WRONLY | O_CREAT, 0644);
    printf("after unlink: %s\n", write(fd, chunk, sizeof chunk) == (long)sizeof chunk ? "room again" : strerror(errno));
    close(fd);
    unlink("/tmp/again");

    close(open("/tmp/empty", O_CREAT | O_WRONLY, 0644));
    mkdir("/tmp/keep", 0755);
    printf("end\n");
    return 0;
}
