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

/* Append to out the executable base[0..n) (an ELF64 little-endian
 * executable whose INB_PLACE_SECTION section is alone in its segment, the
 * last thing of the file that is loaded) with the section's contents
 * replaced by archive[0..size): the bytes after it (sections not loaded,
 * the section headers) move, and the section's, the segment's and the
 * ELF header's sizes and offsets are updated.  *archive_offset gets the
 * archive's offset in the file.  Returns 0, or -1 with the reason in
 * err. */
INB_HIDDEN int inb_place_archive(const unsigned char *base, size_t n,
                                 const unsigned char *archive, size_t size,
                                 struct inb_buf *out, size_t *archive_offset,
                                 char *err, size_t errsize);

#endif
