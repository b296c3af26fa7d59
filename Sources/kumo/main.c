// `kumo`: a launcher, linked statically (no shared library to load; SwiftPM's link still
// puts the Swift runtime in, unused). Build, run and the instance process are
// kumo-local's (small: `kumo run` of hello 7-8 ms, against 12 in kumo-control); every
// other command is kumo-control's (the gateway, the cluster and their libraries). Each
// command pays only for its own binary's start, plus this exec (about 0.5 ms).
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *const local_commands[] = {"build", "run", "instance"};

static int answered_locally(const char *command) {
    for (size_t i = 0; i < sizeof local_commands / sizeof local_commands[0]; i++) {
        if (strcmp(command, local_commands[i]) == 0) return 1;
    }
    return 0;
}

// `name` beside this executable (/proc/self/exe: symbolic links resolved, so a
// `kumo` linked into PATH still finds it). 0 on success.
static int sibling(const char *name, char *path, size_t size) {
    ssize_t n = readlink("/proc/self/exe", path, size - 1);
    if (n <= 0) return -1;
    path[n] = '\0';
    char *slash = strrchr(path, '/');
    size_t length = strlen(name) + 1;
    if (slash == NULL || (size_t)(slash + 1 - path) + length > size) return -1;
    memcpy(slash + 1, name, length);
    return 0;
}

int main(int argc, char **argv, char **envp) {
    const char *name = argc >= 2 && answered_locally(argv[1]) ? "kumo-local" : "kumo-control";
    char path[PATH_MAX];
    if (sibling(name, path, sizeof path) != 0) {
        fprintf(stderr, "kumo: cannot find where this kumo executable lives (/proc/self/exe); is /proc mounted?\n");
        return 1;
    }
    execve(path, argv, envp);
    fprintf(stderr, "kumo: cannot start %s: %s; `swift build` builds it beside kumo\n", path, strerror(errno));
    return 1;
}
