/* The read-only file tree carried in the image (section .kumo.files, packed
 * by `kumo build`), the scratch files a run creates beside it (scratch.c),
 * and the descriptor table. Reads and writes are memcpy: no exits. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#define RENAME_NOREPLACE 1u  /* renameat2 flag (linux/fs.h); musl does not define it */
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include "runtime.h"

extern const char __kumo_files_start[] __attribute__((weak));
extern const char __kumo_files_end[] __attribute__((weak));

#define MAX_FDS 64
#define PATH_MAX_LEN 1024

enum fd_kind { FD_FREE = 0, FD_STDIN, FD_STDOUT, FD_STDERR, FD_FILE, FD_DIR, FD_NULL, FD_SCRATCH };

struct open_file {
    enum fd_kind kind;
    int cloexec;
    int flags;
    const struct kumo_files_entry *entry; /* FD_FILE */
    const char *dir;                      /* FD_DIR of the tree: its normalised path, in the pack */
    size_t dir_length;                    /*   (not NUL-terminated) */
    struct kumo_scratch *scratch;         /* FD_SCRATCH, and FD_DIR of a scratch directory */
    uint64_t offset;
};

static struct open_file fds[MAX_FDS];
/* The current directory: "/", or a directory of the file tree (chdir checks it). */
static char cwd[PATH_MAX_LEN] = "/";
static const struct kumo_files_entry *entries;
static uint32_t entry_count;
static const char *pack;
static size_t pack_size;

static const struct kumo_files_entry *find_file(const char *abs);
static int is_dir(const char *abs);

/* The carried tree, checked: a corrupt one is left out whole. */
static void load_tree(void)
{
    if (!__kumo_files_start || !__kumo_files_end) return;
    pack = __kumo_files_start;
    pack_size = (size_t)(__kumo_files_end - __kumo_files_start);
    const struct kumo_files_header *h = (const void *)pack;
    if (pack_size < sizeof *h || memcmp(h->magic, KUMO_FILES_MAGIC, 8) != 0) {
        kumo_warn("kumo: the image's file tree is corrupt; no files available\n");
        return;
    }
    if (h->count > (pack_size - sizeof *h) / sizeof(struct kumo_files_entry)) return;
    entries = (const void *)(pack + sizeof *h);
    entry_count = h->count;
    for (uint32_t i = 0; i < entry_count; i++) { /* drop entries pointing outside the pack */
        const struct kumo_files_entry *e = &entries[i];
        if ((uint64_t)e->path_offset + e->path_length > pack_size ||
            e->data_offset > pack_size || e->size > pack_size - e->data_offset) {
            kumo_warn("kumo: the image's file tree is corrupt; no files available\n");
            entry_count = 0;
            return;
        }
    }
}

void kumo_files_init(const char *start_directory)
{
    fds[0].kind = FD_STDIN;
    fds[1].kind = FD_STDOUT;
    fds[2].kind = FD_STDERR;
    load_tree();
    if (is_dir("/tmp") || find_file("/tmp")) kumo_scratch_tree_has_tmp();
    /* kumo build checked that the image's workdir is a directory of its tree. */
    if (start_directory && kumo_chdir(start_directory) != 0)
        kumo_warn("kumo: the workdir is not a directory of the image's file tree; starting in /\n");
}

/* Absolute, normalised path ("/a/b") from `path`, relative ones from the current directory. */
static int normalise(const char *path, char *out)
{
    size_t n = 0;
    if (!path) return -EFAULT;
    if (!*path) return -ENOENT;
    if (path[0] != '/' && cwd[1]) {  /* cwd is normalised already: its segments are kept as they are */
        n = strlen(cwd);
        memcpy(out, cwd, n);
    }
    const char *p = path;
    while (*p) {
        while (*p == '/') p++;
        if (!*p) break;
        const char *seg = p;
        while (*p && *p != '/') p++;
        size_t len = (size_t)(p - seg);
        if (len == 1 && seg[0] == '.') continue;
        if (len == 2 && seg[0] == '.' && seg[1] == '.') {
            while (n > 0 && out[n - 1] != '/') n--;
            if (n > 0) n--;
            continue;
        }
        if (n + 1 + len >= PATH_MAX_LEN) return -ENAMETOOLONG;
        out[n++] = '/';
        memcpy(out + n, seg, len);
        n += len;
    }
    if (n == 0) out[n++] = '/';
    out[n] = 0;
    return 0;
}

static const struct kumo_files_entry *find_file(const char *abs)
{
    size_t len = strlen(abs);
    for (uint32_t i = 0; i < entry_count; i++)
        if (entries[i].path_length == len && memcmp(pack + entries[i].path_offset, abs, len) == 0)
            return &entries[i];
    return NULL;
}

/* The directory `abs` as a prefix of an entry's path in the pack (so an open
 * directory needs no copy of its path), or NULL if no entry lies below it. */
static const char *dir_in_pack(const char *abs)
{
    size_t len = strlen(abs);
    if (len == 1) return "/";
    for (uint32_t i = 0; i < entry_count; i++) {
        const char *p = pack + entries[i].path_offset;
        if (entries[i].path_length > len && memcmp(p, abs, len) == 0 && p[len] == '/') return p;
    }
    return NULL;
}

static int is_dir(const char *abs) { return dir_in_pack(abs) != NULL; }

static struct open_file *lookup(int fd)
{
    if (fd < 0 || fd >= MAX_FDS || fds[fd].kind == FD_FREE) return NULL;
    return &fds[fd];
}

/* An open directory's path: in the pack (not NUL-terminated), or a scratch directory's. */
static const char *dir_path(const struct open_file *f, size_t *length)
{
    if (f->scratch) {
        *length = strlen(kumo_scratch_path(f->scratch));
        return kumo_scratch_path(f->scratch);
    }
    *length = f->dir_length;
    return f->dir;
}

/* A directory of the tree or a scratch one. */
static int any_dir(const char *abs)
{
    if (is_dir(abs)) return 1;
    struct kumo_scratch *s = kumo_scratch_find(abs);
    return s && kumo_scratch_is_dir(s);
}

/* Whether `abs` could be created: its parent is a directory (ENOENT or ENOTDIR if not). */
static long parent_ok(const char *abs)
{
    char parent[PATH_MAX_LEN];
    size_t n = strlen(abs);
    while (n > 0 && abs[n - 1] != '/') n--;
    if (n <= 1) return 0;  /* in the root */
    memcpy(parent, abs, n - 1);
    parent[n - 1] = 0;
    if (any_dir(parent)) return 0;
    return find_file(parent) || kumo_scratch_find(parent) ? -ENOTDIR : -ENOENT;
}

static int free_slot(int min)
{
    for (int i = min < 0 ? 0 : min; i < MAX_FDS; i++)
        if (fds[i].kind == FD_FREE) return i;
    return -EMFILE;
}

/* /dev/null, /dev/stdin, /dev/stdout and /dev/stderr, as a program expects them: the
 * console's streams by name, and a sink. Which one `abs` names, or FD_FREE. */
static enum fd_kind device_kind(const char *abs)
{
    if (strcmp(abs, "/dev/null") == 0) return FD_NULL;
    if (strcmp(abs, "/dev/stdin") == 0) return FD_STDIN;
    if (strcmp(abs, "/dev/stdout") == 0) return FD_STDOUT;
    if (strcmp(abs, "/dev/stderr") == 0) return FD_STDERR;
    return FD_FREE;
}

static long open_device(enum fd_kind kind, int flags)
{
    int access = flags & O_ACCMODE;
    if ((kind == FD_STDIN && access != O_RDONLY) || ((kind == FD_STDOUT || kind == FD_STDERR) && access == O_RDONLY))
        return -EACCES;
    if (flags & O_DIRECTORY) return -ENOTDIR;
    int fd = free_slot(0);
    if (fd < 0) return fd;
    fds[fd] = (struct open_file){ .kind = kind, .cloexec = !!(flags & O_CLOEXEC), .flags = flags };
    return fd;
}

/* `path` as an absolute, normalised path, a relative one from `dirfd` (or the current directory). */
static int resolve(int dirfd, const char *path, char *abs)
{
    if (path && path[0] != '/' && dirfd != AT_FDCWD) {
        struct open_file *d = lookup(dirfd);
        if (!d) return -EBADF;
        if (d->kind != FD_DIR) return -ENOTDIR;
        char joined[PATH_MAX_LEN * 2];
        size_t dl, pl = strlen(path);
        const char *dp = dir_path(d, &dl);
        if (dl + 1 + pl >= sizeof joined) return -ENAMETOOLONG;
        memcpy(joined, dp, dl); joined[dl] = '/'; memcpy(joined + dl + 1, path, pl + 1);
        return normalise(joined, abs);
    }
    return normalise(path, abs);
}

/* A scratch file or directory: opened, or created (O_CREAT) where the tree has nothing. */
static long open_scratch(const char *abs, int flags)
{
    int access = flags & O_ACCMODE;
    struct kumo_scratch *s = kumo_scratch_find(abs);
    if (!s) {
        if (!(flags & O_CREAT)) return -ENOENT;
        if (flags & O_DIRECTORY) return -EINVAL;
        long r = parent_ok(abs);
        if (r) return r;
        r = kumo_scratch_create(abs, 0, &s);
        if (r) return r;
    } else {
        if ((flags & O_CREAT) && (flags & O_EXCL)) return -EEXIST;
        if (kumo_scratch_is_dir(s) && access != O_RDONLY) return -EISDIR;
        if (!kumo_scratch_is_dir(s) && (flags & O_DIRECTORY)) return -ENOTDIR;
    }
    int fd = free_slot(0);
    if (fd < 0) return fd;  /* a file just created stays, as on Linux when EMFILE follows the create */
    if (!kumo_scratch_is_dir(s) && (flags & O_TRUNC) && access != O_RDONLY) kumo_scratch_truncate(s, 0);
    fds[fd] = (struct open_file){
        .kind = kumo_scratch_is_dir(s) ? FD_DIR : FD_SCRATCH, .cloexec = !!(flags & O_CLOEXEC), .flags = flags, .scratch = s,
    };
    kumo_scratch_hold(s);
    return fd;
}

long kumo_openat(int dirfd, const char *path, int flags)
{
    char abs[PATH_MAX_LEN];
    int r = resolve(dirfd, path, abs);
    if (r) return r;
    enum fd_kind device = device_kind(abs);
    if (device != FD_FREE) return open_device(device, flags);
    const struct kumo_files_entry *e = find_file(abs);
    int dir = !e && is_dir(abs);
    if (!e && !dir) return open_scratch(abs, flags);
    if ((flags & O_ACCMODE) != O_RDONLY || (flags & (O_TRUNC | O_CREAT)) == (O_TRUNC | O_CREAT))
        return dir ? -EISDIR : -EROFS;
    if ((flags & O_CREAT) && (flags & O_EXCL)) return -EEXIST;
    if ((flags & O_DIRECTORY) && !dir) return -ENOTDIR;
    int fd = free_slot(0);
    if (fd < 0) return fd;
    fds[fd] = (struct open_file){
        .kind = dir ? FD_DIR : FD_FILE, .cloexec = !!(flags & O_CLOEXEC), .flags = flags, .entry = e,
    };
    if (dir) {
        fds[fd].dir = dir_in_pack(abs);
        fds[fd].dir_length = strlen(abs);
    }
    return fd;
}

long kumo_close(int fd)
{
    struct open_file *f = lookup(fd);
    if (!f) return -EBADF;
    if (f->scratch) kumo_scratch_release(f->scratch);
    *f = (struct open_file){ 0 };
    return 0;
}

long kumo_pread(int fd, void *buf, size_t len, off_t off)
{
    struct open_file *f = lookup(fd);
    if (!f) return -EBADF;
    if (f->kind == FD_DIR) return -EISDIR;
    if (off < 0) return -EINVAL;
    if (f->kind == FD_SCRATCH) {
        if ((f->flags & O_ACCMODE) == O_WRONLY) return -EBADF;
        return kumo_scratch_pread(f->scratch, buf, len, (uint64_t)off);
    }
    if (f->kind != FD_FILE) return -ESPIPE;
    if ((uint64_t)off >= f->entry->size) return 0;
    uint64_t left = f->entry->size - (uint64_t)off;
    if (len > left) len = (size_t)left;
    memcpy(buf, pack + f->entry->data_offset + (uint64_t)off, len);
    return (long)len;
}

long kumo_read(int fd, void *buf, size_t len)
{
    struct open_file *f = lookup(fd);
    if (!f) return -EBADF;
    switch (f->kind) {
    case FD_STDIN:
        kumo_thread_yield();  /* a read may block on the host: other threads get a turn first */
        return kumo_console_read(buf, len);
    case FD_FILE:
    case FD_SCRATCH: {
        long n = kumo_pread(fd, buf, len, (off_t)f->offset);
        if (n > 0) f->offset += (uint64_t)n;
        return n;
    }
    case FD_DIR: return -EISDIR;
    case FD_NULL: return 0;
    default: return -EBADF; /* stdout/stderr are write-only */
    }
}

long kumo_write(int fd, const void *buf, size_t len)
{
    struct open_file *f = lookup(fd);
    if (!f) return -EBADF;
    if (f->kind == FD_STDOUT) return kumo_console_write(1, buf, len);
    if (f->kind == FD_STDERR) return kumo_console_write(2, buf, len);
    if (f->kind == FD_NULL) return (long)len;
    if (f->kind == FD_SCRATCH) {
        uint64_t at = (f->flags & O_APPEND) ? kumo_scratch_size(f->scratch) : f->offset;
        long n = kumo_pwrite(fd, buf, len, (off_t)at);
        if (n > 0) f->offset = at + (uint64_t)n;
        return n;
    }
    return -EBADF;  /* stdin, a directory, or a file of the tree (opened read-only: it cannot be written) */
}

long kumo_pwrite(int fd, const void *buf, size_t len, off_t off)
{
    struct open_file *f = lookup(fd);
    if (!f) return -EBADF;
    if (f->kind == FD_DIR) return -EISDIR;
    if (f->kind != FD_SCRATCH) return f->kind == FD_FILE ? -EBADF : -ESPIPE;
    if ((f->flags & O_ACCMODE) == O_RDONLY) return -EBADF;
    if (off < 0) return -EINVAL;
    return kumo_scratch_pwrite(f->scratch, buf, len, (uint64_t)off);
}

long kumo_lseek(int fd, off_t off, int whence)
{
    struct open_file *f = lookup(fd);
    if (!f) return -EBADF;
    if (f->kind != FD_FILE && f->kind != FD_DIR && f->kind != FD_SCRATCH) return -ESPIPE;
    int64_t base;
    switch (whence) {
    case SEEK_SET: base = 0; break;
    case SEEK_CUR: base = (int64_t)f->offset; break;
    case SEEK_END:
        base = f->kind == FD_FILE ? (int64_t)f->entry->size
             : f->kind == FD_SCRATCH ? (int64_t)kumo_scratch_size(f->scratch) : 0;
        break;
    default: return -EINVAL;
    }
    int64_t pos;
    if (__builtin_add_overflow(base, (int64_t)off, &pos) || pos < 0) return -EINVAL;
    f->offset = (uint64_t)pos;
    return (long)pos;
}

static void fill_stat(struct stat *st, mode_t mode, uint64_t size, uint64_t ino)
{
    memset(st, 0, sizeof *st);
    st->st_dev = 1;
    st->st_ino = ino;
    st->st_mode = mode;
    st->st_nlink = 1;
    st->st_size = (off_t)size;
    st->st_blksize = 4096;
    st->st_blocks = (blkcnt_t)((size + 511) / 512);
}

static void scratch_stat(const struct kumo_scratch *s, struct stat *st)
{
    int dir = kumo_scratch_is_dir(s);
    fill_stat(st, dir ? S_IFDIR | 0755 : S_IFREG | 0644, dir ? 4096 : kumo_scratch_size(s), kumo_scratch_ino(s));
}

static long stat_path(const char *abs, struct stat *st)
{
    const struct kumo_files_entry *e = find_file(abs);
    if (e) {
        fill_stat(st, S_IFREG | (e->mode & 0555), e->size, (uint64_t)(e - entries) + 2);
        return 0;
    }
    if (is_dir(abs)) { fill_stat(st, S_IFDIR | 0755, 4096, 1); return 0; }
    struct kumo_scratch *s = kumo_scratch_find(abs);
    if (s) { scratch_stat(s, st); return 0; }
    if (device_kind(abs) == FD_NULL) { fill_stat(st, S_IFCHR | 0666, 0, 0); return 0; }
    if (device_kind(abs) != FD_FREE) { fill_stat(st, S_IFIFO | 0600, 0, 0); return 0; }  /* as the stream's fd */
    return -ENOENT;
}

long kumo_fstat(int fd, void *out)
{
    struct stat *st = out;
    struct open_file *f = lookup(fd);
    if (!f) return -EBADF;
    if (!st) return -EFAULT;
    switch (f->kind) {
    case FD_FILE:
        fill_stat(st, S_IFREG | (f->entry->mode & 0555), f->entry->size, (uint64_t)(f->entry - entries) + 2);
        return 0;
    case FD_SCRATCH: scratch_stat(f->scratch, st); return 0;
    case FD_DIR:
        if (f->scratch) scratch_stat(f->scratch, st);
        else fill_stat(st, S_IFDIR | 0755, 4096, 1);
        return 0;
    case FD_NULL: fill_stat(st, S_IFCHR | 0666, 0, 0); return 0;
    default: fill_stat(st, S_IFIFO | 0600, 0, 0); return 0; /* stdio behaves like pipes */
    }
}

long kumo_fstatat(int dirfd, const char *path, void *st, int flags)
{
    if (!st) return -EFAULT;
    if ((flags & AT_EMPTY_PATH) && path && !*path) return kumo_fstat(dirfd, st);
    if (path && path[0] != '/' && dirfd != AT_FDCWD) {
        long fd = kumo_openat(dirfd, path, O_RDONLY);
        if (fd < 0) return fd;
        long r = kumo_fstat((int)fd, st);
        kumo_close((int)fd);
        return r;
    }
    char abs[PATH_MAX_LEN];
    int r = normalise(path, abs);
    if (r) return r;
    return stat_path(abs, st);
}

long kumo_faccessat(int dirfd, const char *path, int mode)
{
    struct stat st;
    long r = kumo_fstatat(dirfd, path, &st, 0);
    if (r) return r;
    if ((mode & W_OK) && !(st.st_mode & 0200)) return -EROFS;  /* the tree is read-only; scratch files are not */
    if ((mode & X_OK) && !(st.st_mode & 0111)) return -EACCES;
    return 0;
}

long kumo_fcntl(int fd, int cmd, long arg)
{
    struct open_file *f = lookup(fd);
    if (!f) return -EBADF;
    switch (cmd) {
    case F_GETFD: return f->cloexec ? FD_CLOEXEC : 0;
    case F_SETFD: f->cloexec = !!(arg & FD_CLOEXEC); return 0;
    case F_GETFL:
        if (f->kind == FD_STDOUT || f->kind == FD_STDERR) return O_WRONLY;
        return f->flags & ~O_CLOEXEC;
    case F_SETFL: return 0;
    case F_DUPFD: return kumo_dup(fd, (int)arg, 0);
    case F_DUPFD_CLOEXEC: {
        long n = kumo_dup(fd, (int)arg, 0);
        if (n >= 0) fds[n].cloexec = 1;
        return n;
    }
    default: return -EINVAL;
    }
}

/* exact < 0: dup to the lowest free >= min_fd; else dup2 onto min_fd. */
long kumo_dup(int fd, int min_fd, int exact)
{
    struct open_file *f = lookup(fd);
    if (!f) return -EBADF;
    int target;
    if (exact) {
        if (min_fd < 0 || min_fd >= MAX_FDS) return -EBADF;
        target = min_fd;
        if (target == fd) return target;
    } else {
        if (min_fd < 0 || min_fd >= MAX_FDS) return -EINVAL;
        target = free_slot(min_fd);
        if (target < 0) return target;
    }
    if (fds[target].kind != FD_FREE) kumo_close(target);
    fds[target] = *f;
    fds[target].cloexec = 0;
    if (f->scratch) kumo_scratch_hold(f->scratch);
    return target;
}

/* Appends one entry; 0 when it does not fit. */
static size_t put_dirent(void *buf, size_t used, size_t len, const char *name, size_t nl, uint64_t ino, uint64_t index, int dir)
{
    size_t reclen = (offsetof(struct dirent, d_name) + nl + 1 + 7) & ~(size_t)7;
    if (used + reclen > len) return 0;
    struct dirent *d = (struct dirent *)((char *)buf + used);
    d->d_ino = ino;
    d->d_off = (off_t)index;
    d->d_reclen = (unsigned short)reclen;
    d->d_type = dir ? DT_DIR : DT_REG;
    memcpy(d->d_name, name, nl);
    d->d_name[nl] = 0;
    return reclen;
}

/* Lists the immediate children of an open directory, one call's worth at a time:
 * the tree's, then the scratch files and directories created in it. */
long kumo_getdents64(int fd, void *buf, size_t len)
{
    struct open_file *f = lookup(fd);
    if (!f) return -EBADF;
    if (f->kind != FD_DIR) return -ENOTDIR;
    size_t dl, used = 0;
    const char *dp = dir_path(f, &dl);
    if (dl == 1) dl = 0; /* root: children start right after "/" */
    /* The offset counts entries (with duplicates of one child collapsed) seen so far. */
    uint64_t index = 0;
    for (uint32_t i = 0; i < entry_count && !f->scratch; i++) {
        const char *p = pack + entries[i].path_offset;
        size_t pl = entries[i].path_length;
        if (pl <= dl + 1 || memcmp(p, dp, dl) != 0 || p[dl] != '/') continue;
        const char *name = p + dl + 1;
        size_t nl = 0;
        while (dl + 1 + nl < pl && name[nl] != '/') nl++;
        int is_subdir = dl + 1 + nl < pl;
        int seen = 0; /* was this child already listed by an earlier entry? */
        for (uint32_t j = 0; j < i && !seen; j++) {
            const char *q = pack + entries[j].path_offset;
            size_t ql = entries[j].path_length;
            seen = ql > dl + 1 + nl && memcmp(q, p, dl + 1 + nl) == 0 &&
                   (ql == dl + 1 + nl || q[dl + 1 + nl] == '/');
        }
        if (seen) continue;
        if (index++ < f->offset) continue;
        size_t added = put_dirent(buf, used, len, name, nl, i + 2, index, is_subdir);
        if (!added) return used ? (long)used : -EINVAL;
        used += added;
        f->offset = index;
    }
    char abs[PATH_MAX_LEN];
    memcpy(abs, dp, dl);
    abs[dl] = 0;
    if (dl == 0) memcpy(abs, "/", 2);
    size_t nl;
    int is_subdir;
    for (uint64_t k = 0;; k++) {
        const char *name = kumo_scratch_child(abs, k, &nl, &is_subdir);
        if (!name) break;
        if (index++ < f->offset) continue;
        size_t added = put_dirent(buf, used, len, name, nl, (1ULL << 32) + k, index, is_subdir);
        if (!added) return used ? (long)used : -EINVAL;
        used += added;
        f->offset = index;
    }
    return (long)used;
}

/* Changes the current directory: "/" or a directory of the file tree. */
long kumo_chdir(const char *path)
{
    char abs[PATH_MAX_LEN];
    int r = normalise(path, abs);
    if (r) return r;
    if (!any_dir(abs)) return find_file(abs) || kumo_scratch_find(abs) ? -ENOTDIR : -ENOENT;
    memcpy(cwd, abs, strlen(abs) + 1);
    return 0;
}

long kumo_fchdir(int fd)
{
    struct open_file *d = lookup(fd);
    if (!d) return -EBADF;
    if (d->kind != FD_DIR) return -ENOTDIR;
    size_t length;
    const char *path = dir_path(d, &length);
    memcpy(cwd, path, length);
    cwd[length] = 0;
    return 0;
}

long kumo_getcwd(char *buf, size_t size)
{
    size_t n = strlen(cwd) + 1;
    if (!buf) return -EFAULT;
    if (size < n) return -ERANGE;
    memcpy(buf, cwd, n);
    return (long)n;
}

/* What a program creates and removes: only scratch files and directories; the tree is read-only. */

/* Whether `abs` names something of the tree (or a device): EROFS for a change, EEXIST for a create. */
static int in_tree(const char *abs)
{
    return find_file(abs) || is_dir(abs) || device_kind(abs) != FD_FREE || strcmp(abs, "/") == 0;
}

long kumo_mkdirat(int dirfd, const char *path)
{
    char abs[PATH_MAX_LEN];
    int r = resolve(dirfd, path, abs);
    if (r) return r;
    if (in_tree(abs) || kumo_scratch_find(abs)) return -EEXIST;
    long p = parent_ok(abs);
    if (p) return p;
    struct kumo_scratch *s;
    return kumo_scratch_create(abs, 1, &s);
}

long kumo_unlinkat(int dirfd, const char *path, int flags)
{
    char abs[PATH_MAX_LEN];
    int r = resolve(dirfd, path, abs);
    if (r) return r;
    if (in_tree(abs)) return -EROFS;
    struct kumo_scratch *s = kumo_scratch_find(abs);
    if (!s) return -ENOENT;
    return kumo_scratch_unlink(s, !!(flags & AT_REMOVEDIR));
}

long kumo_renameat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, unsigned flags)
{
    char from[PATH_MAX_LEN], to[PATH_MAX_LEN];
    int r = resolve(olddirfd, oldpath, from);
    if (!r) r = resolve(newdirfd, newpath, to);
    if (r) return r;
    if (flags & ~(unsigned)RENAME_NOREPLACE) return -EINVAL;
    if (in_tree(from) || in_tree(to)) return -EROFS;
    struct kumo_scratch *s = kumo_scratch_find(from);
    if (!s) return -ENOENT;
    struct kumo_scratch *replaced = kumo_scratch_find(to);
    if (replaced && replaced != s && (flags & RENAME_NOREPLACE)) return -EEXIST;
    long p = parent_ok(to);
    if (p) return p;
    return kumo_scratch_rename(s, to, replaced);
}

long kumo_ftruncate(int fd, off_t size)
{
    struct open_file *f = lookup(fd);
    if (!f) return -EBADF;
    if (size < 0) return -EINVAL;
    if (f->kind == FD_DIR) return -EISDIR;
    if (f->kind != FD_SCRATCH) return f->kind == FD_FILE ? -EBADF : -EINVAL;
    if ((f->flags & O_ACCMODE) == O_RDONLY) return -EBADF;
    return kumo_scratch_truncate(f->scratch, (uint64_t)size);
}

long kumo_truncate(const char *path, off_t size)
{
    char abs[PATH_MAX_LEN];
    int r = normalise(path, abs);
    if (r) return r;
    if (size < 0) return -EINVAL;
    if (in_tree(abs)) return is_dir(abs) ? -EISDIR : -EROFS;
    struct kumo_scratch *s = kumo_scratch_find(abs);
    if (!s) return -ENOENT;
    if (kumo_scratch_is_dir(s)) return -EISDIR;
    return kumo_scratch_truncate(s, (uint64_t)size);
}
