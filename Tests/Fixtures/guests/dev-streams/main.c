/* Programs that name their output: /dev/stdout and /dev/stderr by path, /dev/null as
 * a sink, /dev/stdin read by path. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int main(void)
{
    FILE *out = fopen("/dev/stdout", "w");
    if (!out) { printf("fopen /dev/stdout: %s\n", strerror(errno)); return 1; }
    fprintf(out, "written to /dev/stdout\n");
    fclose(out);
    FILE *err = fopen("/dev/stderr", "w");
    fprintf(err, "written to /dev/stderr\n");
    fclose(err);
    FILE *sink = fopen("/dev/null", "w");
    size_t n = fwrite("discarded", 1, 9, sink);
    fclose(sink);
    char buf[16];
    int null = open("/dev/null", O_RDONLY);
    long got = read(null, buf, sizeof buf);
    struct stat st;
    fstat(null, &st);
    close(null);
    printf("null: wrote %zu, read %ld, char device %d\n", n, got, S_ISCHR(st.st_mode) ? 1 : 0);
    FILE *in = fopen("/dev/stdin", "r");
    char line[32] = "";
    if (in && fgets(line, sizeof line, in)) printf("stdin by path: %s", line);
    int r = open("/dev/stdin", O_WRONLY);
    printf("stdin for writing %d %s\n", r, strerror(errno));
    r = open("/dev/stdout", O_RDONLY);
    printf("stdout for reading %d %s\n", r, strerror(errno));
    printf("null writable %d\n", access("/dev/null", W_OK));
    return 0;
}
