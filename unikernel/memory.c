/* brk and anonymous mmap over the guest's free pages, [heap_start, heap_end).
 * All guest memory is mapped up front (no page faults at CPL 3), so this is
 * bookkeeping only: a bitmap of used pages. brk grows up from heap_start;
 * mmap takes the highest free run (a large one the highest 2 MiB-aligned run
 * below the small mappings: kumo_abi.h), so the two meet only when memory is full.
 * Pages handed out are zero: memory starts zeroed and munmap clears pages. */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include "runtime.h"

#define PAGE KUMO_PAGE_SIZE
#define MAX_PAGES (KUMO_MEMORY_MAX / PAGE)

KUMO_LARGE static uint64_t used[MAX_PAGES / 64];
static uintptr_t heap_lo, heap_hi, brk_cur;
static size_t page_count;

static int page_used(size_t i) { return (used[i / 64] >> (i % 64)) & 1; }

static void mark(size_t first, size_t count, int on)
{
    for (size_t i = first; i < first + count; i++) {
        if (on) used[i / 64] |= 1ULL << (i % 64);
        else used[i / 64] &= ~(1ULL << (i % 64));
    }
}

static int range_free(size_t first, size_t count)
{
    if (first + count > page_count || first + count < first) return 0;
    for (size_t i = first; i < first + count; i++)
        if (page_used(i)) return 0;
    return 1;
}

void kumo_memory_init(uintptr_t start, uintptr_t end)
{
    heap_lo = (start + PAGE - 1) & ~(PAGE - 1);
    heap_hi = end & ~(PAGE - 1);
    if (heap_hi < heap_lo) heap_hi = heap_lo;
    page_count = (heap_hi - heap_lo) / PAGE;
    brk_cur = heap_lo;
}

static size_t pages_for(size_t len) { return (len + PAGE - 1) / PAGE; }

/* Highest run of `count` free pages, or (size_t)-1. */
static size_t find_free_run(size_t count)
{
    size_t run = 0;
    for (size_t i = page_count; i-- > 0;) {
        /* A whole word of used pages: skip its 64 pages at once. */
        if (i % 64 == 63 && used[i / 64] == ~0ULL) { run = 0; i -= 63; continue; }
        if (page_used(i)) { run = 0; continue; }
        if (++run == count) return i;
    }
    return (size_t)-1;
}

uint64_t kumo_memory_total(void) { return (uint64_t)page_count * PAGE; }

/* The end of memory a program allocates from (for the OpenCL library's handle checks). */
uintptr_t kumo_memory_end(void) { return heap_hi; }

uint64_t kumo_memory_free(void)
{
    uint64_t free_pages = 0;
    for (size_t w = 0; w < (page_count + 63) / 64; w++) free_pages += 64 - (uint64_t)__builtin_popcountll(used[w]);
    free_pages -= (uint64_t)((page_count + 63) / 64 * 64 - page_count); /* bits past the end */
    return free_pages * PAGE;
}

void *kumo_early_alloc(size_t len)
{
    long p = kumo_mmap(0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p < 0 ? NULL : (void *)p;
}

/* Highest run of `count` free pages that starts KUMO_HUGE_PAGE-aligned and ends at or below
 * page `limit` (the huge-page zone's top), or (size_t)-1. */
static size_t find_aligned_run(size_t count, size_t limit)
{
    const size_t align = KUMO_HUGE_PAGE / PAGE;
    size_t first = (size_t)(((KUMO_HUGE_PAGE - heap_lo % KUMO_HUGE_PAGE) % KUMO_HUGE_PAGE) / PAGE);
    if (limit > page_count || limit < count || limit - count < first) return (size_t)-1;
    for (size_t p = first + (limit - count - first) / align * align;; p -= align) {
        if (range_free(p, count)) return p;
        if (p < first + align) return (size_t)-1;
    }
}

long kumo_brk(uintptr_t addr)
{
    if (addr == 0 || addr < heap_lo || addr > heap_hi) return (long)brk_cur;
    size_t cur_pages = pages_for(brk_cur - heap_lo);
    size_t new_pages = pages_for(addr - heap_lo);
    if (new_pages > cur_pages) {
        if (!range_free(cur_pages, new_pages - cur_pages)) return (long)brk_cur;
        mark(cur_pages, new_pages - cur_pages, 1);
    } else if (new_pages < cur_pages) {
        memset((void *)(heap_lo + new_pages * PAGE), 0, (cur_pages - new_pages) * PAGE);
        mark(new_pages, cur_pages - new_pages, 0);
    }
    brk_cur = addr;
    return (long)brk_cur;
}

long kumo_mmap(uintptr_t addr, size_t len, int prot, int flags, int fd, off_t off)
{
    (void)prot; (void)off;
    if (len == 0) return -EINVAL;
    if (!(flags & MAP_ANONYMOUS) || fd != -1) return -ENODEV; /* no file mappings */
    size_t count = pages_for(len);
    if (count == 0 || count > page_count) return -ENOMEM;
    if (flags & MAP_FIXED) {
        if (addr % PAGE || addr < heap_lo || addr >= heap_hi) return -ENOMEM;
        size_t first = (addr - heap_lo) / PAGE;
        if (first + count > page_count) return -ENOMEM;
        for (size_t i = first; i < first + count; i++) {
            if (page_used(i)) memset((void *)(heap_lo + i * PAGE), 0, PAGE);
        }
        mark(first, count, 1);
        return (long)addr;
    }
    size_t first = (size_t)-1;
    if (count * PAGE >= KUMO_LARGE_MAPPING && page_count * PAGE > KUMO_SMALL_MAPPINGS)
        first = find_aligned_run(count, page_count - (size_t)(KUMO_SMALL_MAPPINGS / PAGE));
    if (first == (size_t)-1) first = find_free_run(count);
    if (first == (size_t)-1) return -ENOMEM;
    mark(first, count, 1);
    return (long)(heap_lo + first * PAGE);
}

long kumo_munmap(uintptr_t addr, size_t len)
{
    if (addr % PAGE || len == 0) return -EINVAL;
    if (addr < heap_lo || addr >= heap_hi) return 0; /* nothing of ours there */
    size_t first = (addr - heap_lo) / PAGE;
    size_t count = pages_for(len);
    if (first + count > page_count) count = page_count - first;
    for (size_t i = first; i < first + count; i++) {
        if (page_used(i)) memset((void *)(heap_lo + i * PAGE), 0, PAGE);
    }
    mark(first, count, 0);
    return 0;
}

long kumo_mremap(uintptr_t old, size_t old_len, size_t new_len, int flags, uintptr_t new_addr)
{
    (void)new_addr;
    if (old % PAGE || new_len == 0 || old < heap_lo || old >= heap_hi) return -EINVAL;
    if (flags & MREMAP_FIXED) return -EINVAL;
    size_t first = (old - heap_lo) / PAGE;
    size_t old_pages = pages_for(old_len), new_pages = pages_for(new_len);
    if (new_pages <= old_pages) {
        if (new_pages < old_pages) kumo_munmap(old + new_pages * PAGE, (old_pages - new_pages) * PAGE);
        return (long)old;
    }
    if (range_free(first + old_pages, new_pages - old_pages)) {
        mark(first + old_pages, new_pages - old_pages, 1);
        return (long)old;
    }
    if (!(flags & MREMAP_MAYMOVE)) return -ENOMEM;
    long moved = kumo_mmap(0, new_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (moved < 0) return moved;
    memcpy((void *)moved, (void *)old, old_pages * PAGE);
    kumo_munmap(old, old_len);
    return moved;
}
