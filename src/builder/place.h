/* place.h: put an archive into an executable linked without it, so that a
 * rebuild whose code did not change needs no link. */
#ifndef INB_PLACE_H
#define INB_PLACE_H

#include <stddef.h>

#include "inb.h"
#include "util.h"

/* The name of the section that holds the archive, alone in the last
 * PT_LOAD segment of the executable (link.c's linker script puts it
 * there), and the size of the placeholder the base is linked with. */
#define INB_PLACE_SECTION ".inbuilt"
#define INB_PLACE_PLACEHOLDER 64

/* The executable of a base with an archive placed: head, the archive,
 * pad zero bytes, tail. */
struct inb_placed {
    struct inb_buf head;   /* the base's bytes before the placeholder,
                              patched; archive_offset bytes */
    size_t archive_offset; /* where the archive starts in the file */
    size_t pad;            /* zero bytes after the archive */
    struct inb_buf tail;   /* the base's bytes after the placeholder,
                              patched */
};

/* Lay out the executable base[0..n) (an ELF64 little-endian executable
 * whose INB_PLACE_SECTION section, of INB_PLACE_PLACEHOLDER bytes, is alone
 * in its segment, the last thing of the file that is loaded) with an
 * archive of size bytes in the placeholder's stead: the bytes after it
 * move, and the section's, the segment's and the ELF header's sizes and
 * offsets are updated, in p's copies (p zeroed by the caller).  Returns
 * 0, or -1 with the reason in err. */
INB_HIDDEN int inb_place_archive(const unsigned char *base, size_t n,
                                 size_t size, struct inb_placed *p, char *err,
                                 size_t errsize);

#endif
