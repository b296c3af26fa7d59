/* The run's scratch file system: files and directories a program creates
 * outside the carried (read-only) tree, kept in guest memory like Lambda's
 * /tmp. Their contents come from the guest's free pages, so they count
 * against `memory:`; past half of it, writes fail with ENOSPC. Everything is
 * gone when the run ends; `kumo run --output DIR` gets a copy at exit. */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include "runtime.h"

#define SCRATCH_NODES 255  /* and /tmp */

struct kumo_scratch {
    uint8_t used, dir, named;
    uint32_t open;          /* descriptors on it: an unlinked file lives until the last closes */
    uint64_t size, capacity;
    uint8_t *data;          /* `capacity` bytes of pages from kumo_mmap */
    char path[KUMO_SCRATCH_PATH_MAX];
};

/* Zero until used: the table costs no memory a run does not write to. /tmp,
 * which every run has, lives with the small data, on pages a boot touches anyway. */
KUMO_LARGE static struct kumo_scratch table[SCRATCH_NODES];
/* Initialised data, so a boot writes nothing for it (every page a guest touches first costs a fault). */
static struct kumo_scratch tmp = { .used = 1, .dir = 1, .named = 1, .path = "/tmp" };

static struct kumo_scratch *node(int i) { return i == 0 ? &tmp : &table[i - 1]; }
#define EACH_NODE(n) for (int each_ = 0; each_ <= SCRATCH_NODES; each_++) for (struct kumo_scratch *n = node(each_); n; n = NULL)

/* The carried tree has its own /tmp: the scratch one steps aside. */
void kumo_scratch_tree_has_tmp(void)
{
    tmp = (struct kumo_scratch){ 0 };
}

static uint64_t bytes_held;
int kumo_scratch_export_at_exit;

static uint64_t limit(void) { return kumo_memory_total() / 2; }

struct kumo_scratch *kumo_scratch_find(const char *abs)
{
    EACH_NODE(n)
        if (n->used && n->named && strcmp(n->path, abs) == 0) return n;
    return NULL;
}

int kumo_scratch_is_dir(const struct kumo_scratch *n) { return n->dir; }
uint64_t kumo_scratch_size(const struct kumo_scratch *n) { return n->size; }
const char *kumo_scratch_path(const struct kumo_scratch *n) { return n->path; }
/* Inode numbers above the carried tree's. */
uint64_t kumo_scratch_ino(const struct kumo_scratch *n) { return n == &tmp ? 1ULL << 32 : (1ULL << 32) + 1 + (uint64_t)(n - table); }

long kumo_scratch_create(const char *abs, int dir, struct kumo_scratch **out)
{
    size_t len = strlen(abs);
    if (len >= KUMO_SCRATCH_PATH_MAX) return -ENAMETOOLONG;
    EACH_NODE(n) {
        if (n->used) continue;
        *n = (struct kumo_scratch){ .used = 1, .dir = (uint8_t)dir, .named = 1 };
        memcpy(n->path, abs, len + 1);
        *out = n;
        return 0;
    }
    return -ENOSPC;  /* no free inode */
}

static void forget(struct kumo_scratch *n)
{
    if (n->named || n->open) return;
    if (n->data) kumo_munmap((uintptr_t)n->data, n->capacity);
    bytes_held -= n->capacity;
    *n = (struct kumo_scratch){ 0 };
}

void kumo_scratch_hold(struct kumo_scratch *n) { n->open++; }

void kumo_scratch_release(struct kumo_scratch *n)
{
    if (n->open) n->open--;
    forget(n);
}

/* Room for `size` bytes: false if that passes the limit or memory is full. */
static int reserve(struct kumo_scratch *n, uint64_t size)
{
    if (size <= n->capacity) return 1;
    uint64_t want = (size + KUMO_PAGE_SIZE - 1) & ~(uint64_t)(KUMO_PAGE_SIZE - 1);
    uint64_t doubled = n->capacity * 2;
    if (doubled > want && bytes_held - n->capacity + doubled <= limit()) want = doubled;
    if (bytes_held - n->capacity + want > limit()) return 0;
    long p = n->data ? kumo_mremap((uintptr_t)n->data, n->capacity, want, MREMAP_MAYMOVE, 0)
                     : kumo_mmap(0, want, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p < 0) return 0;
    bytes_held += want - n->capacity;
    n->data = (uint8_t *)p;
    n->capacity = want;
    return 1;
}

long kumo_scratch_pread(struct kumo_scratch *n, void *buf, size_t len, uint64_t off)
{
    if (off >= n->size) return 0;
    if (len > n->size - off) len = (size_t)(n->size - off);
    memcpy(buf, n->data + off, len);
    return (long)len;
}

/* Writes what fits: a short count when the space runs out, ENOSPC when nothing does. */
long kumo_scratch_pwrite(struct kumo_scratch *n, const void *buf, size_t len, uint64_t off)
{
    uint64_t end;
    if (__builtin_add_overflow(off, (uint64_t)len, &end) || end > (uint64_t)INT64_MAX) return -EFBIG;
    if (len == 0) return 0;
    if (!reserve(n, end)) {
        if (off >= n->capacity) return -ENOSPC;
        len = (size_t)(n->capacity - off);
        end = n->capacity;
    }
    memcpy(n->data + off, buf, len);  /* a gap before `off` reads as zeros: pages come zeroed */
    if (end > n->size) n->size = end;
    return (long)len;
}

long kumo_scratch_truncate(struct kumo_scratch *n, uint64_t size)
{
    if (size > (uint64_t)INT64_MAX) return -EFBIG;
    if (size < n->size) {
        memset(n->data + size, 0, n->size - size);  /* growing again reads zeros */
    } else if (!reserve(n, size)) {
        return -ENOSPC;
    }
    n->size = size;
    return 0;
}

/* The i-th entry directly inside directory `abs` ("/" for the root): its name, and whether it is a directory. */
const char *kumo_scratch_child(const char *abs, uint64_t index, size_t *name_length, int *dir)
{
    size_t dl = strcmp(abs, "/") == 0 ? 0 : strlen(abs);
    EACH_NODE(n) {
        if (!n->used || !n->named || memcmp(n->path, abs, dl) != 0 || n->path[dl] != '/') continue;
        const char *name = n->path + dl + 1;
        if (!*name || strchr(name, '/')) continue;
        if (index-- > 0) continue;
        *name_length = strlen(name);
        *dir = n->dir;
        return name;
    }
    return NULL;
}

static int has_children(const char *abs)
{
    size_t len;
    int dir;
    return kumo_scratch_child(abs, 0, &len, &dir) != NULL;
}

long kumo_scratch_unlink(struct kumo_scratch *n, int rmdir)
{
    if (rmdir && !n->dir) return -ENOTDIR;
    if (!rmdir && n->dir) return -EISDIR;
    if (n->dir && has_children(n->path)) return -ENOTEMPTY;
    n->named = 0;
    forget(n);
    return 0;
}

/* Moves `n` (and, for a directory, everything below it) to `to`; `replaced` is what `to` named, if anything. */
long kumo_scratch_rename(struct kumo_scratch *n, const char *to, struct kumo_scratch *replaced)
{
    size_t from_len = strlen(n->path), to_len = strlen(to);
    if (replaced == n) return 0;
    if (n->dir && to_len > from_len && memcmp(to, n->path, from_len) == 0 && to[from_len] == '/') return -EINVAL;
    if (replaced) {
        if (replaced->dir != n->dir) return replaced->dir ? -EISDIR : -ENOTDIR;
        if (replaced->dir && has_children(replaced->path)) return -ENOTEMPTY;
    }
    if (to_len >= KUMO_SCRATCH_PATH_MAX) return -ENAMETOOLONG;
    if (n->dir) {  /* every path below it changes: check they all still fit first */
        EACH_NODE(c) {
            if (c->used && c->named && memcmp(c->path, n->path, from_len) == 0 && c->path[from_len] == '/' &&
                strlen(c->path) - from_len + to_len >= KUMO_SCRATCH_PATH_MAX) return -ENAMETOOLONG;
        }
        EACH_NODE(c) {
            if (!c->used || !c->named || memcmp(c->path, n->path, from_len) != 0 || c->path[from_len] != '/') continue;
            char tail[KUMO_SCRATCH_PATH_MAX];
            memcpy(tail, c->path + from_len, strlen(c->path) - from_len + 1);
            memcpy(c->path, to, to_len);
            memcpy(c->path + to_len, tail, strlen(tail) + 1);
        }
    }
    if (replaced) {
        replaced->named = 0;
        forget(replaced);
    }
    memcpy(n->path, to, to_len + 1);
    return 0;
}

/* At exit, when the host asked (kumo run --output): every file, and every empty
 * directory the program made, by hypercall (the host makes a file's parents). */
void kumo_scratch_export(void)
{
    if (!kumo_scratch_export_at_exit) return;
    EACH_NODE(n) {
        if (!n->used || !n->named || n == &tmp || (n->dir && has_children(n->path))) continue;
        struct kumo_hc_output call = {
            .path = (uint64_t)(uintptr_t)n->path, .path_len = (uint32_t)strlen(n->path),
            .kind = n->dir ? KUMO_OUTPUT_DIRECTORY : KUMO_OUTPUT_FILE,
            .data = (uint64_t)(uintptr_t)n->data, .len = n->size,
        };
        kumo_hypercall(KUMO_HC_OUTPUT, &call);
    }
}
