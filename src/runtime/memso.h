/* memso.h: shared objects (extension modules and the libraries they need)
 * loaded from the archive through memory files, never from the disk. */
#ifndef INB_MEMSO_H
#define INB_MEMSO_H

#include <stddef.h>

#include "archive.h"

/* A shared-object record, as laid out by src/builder/shlib.c. */
typedef struct inb_memso_record {
    const char *filename; /* NUL-terminated, in the archive */
    const char *needs;    /* NUL-terminated sonames, back to back */
    size_t needs_size;
    const unsigned char *image;
    size_t image_size;
} inb_memso_record;

/* Parse the record in entry e.  Returns 0, or -1 with the reason in err
 * ("record truncated", "image is not an ELF file"). */
INB_HIDDEN int inb_memso_parse(const inb_entry *e, inb_memso_record *r,
                               char *err, size_t errsize);

/* Make the extension module image of entry e loadable: load from the
 * archive the libraries it needs (each after its own needs, each at most
 * once per process), put the image in a sealed memory file, and write the
 * path the dynamic loader opens it by ("/proc/self/fd/N") into path.  The
 * same entry always gets the same path.  Returns 0, or -1 with the reason
 * (the dynamic loader's message, a missing library) in err. */
INB_HIDDEN int inb_memso_prepare(const inb_archive *a, const inb_entry *e,
                                 char *path, size_t pathsize, char *err,
                                 size_t errsize);

#endif
