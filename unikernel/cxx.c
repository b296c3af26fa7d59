/* What C++ programs need of the runtime beyond libc, linked only into them (an
 * archive member is pulled in only when referenced): the handle crtbegin.o
 * would define, and glibc's _dl_find_object, which Debian's libgcc_eh (the
 * exception unwinder) asks where an address's unwind tables are. The image is
 * one static object, and the linker's --eh-frame-hdr table sits between the
 * two symbols kumo.ld places around .eh_frame_hdr. */
#include <stdint.h>

void *__dso_handle = &__dso_handle;

extern const char __kumo_image_start[], _end[], __kumo_eh_frame_hdr_start[], __kumo_eh_frame_hdr_end[];

/* glibc's layout (dlfcn.h, 2.35): what libgcc_eh was compiled against. */
struct dl_find_object {
    unsigned long long dlfo_flags;
    void *dlfo_map_start;
    void *dlfo_map_end;
    void *dlfo_link_map;
    void *dlfo_eh_frame;
    unsigned long long reserved[7];
};

int _dl_find_object(void *pc, struct dl_find_object *result)
{
    const char *at = pc;
    if (at < __kumo_image_start || at >= _end || &__kumo_eh_frame_hdr_start[0] == &__kumo_eh_frame_hdr_end[0]) return -1;
    *result = (struct dl_find_object){
        .dlfo_map_start = (void *)__kumo_image_start, .dlfo_map_end = (void *)_end,
        .dlfo_eh_frame = (void *)__kumo_eh_frame_hdr_start,
    };
    return 0;
}
