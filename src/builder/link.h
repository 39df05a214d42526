/* link.h: turn an archive into an executable: embed it in an object file
 * and link it with the runtime and the static libpython of the target
 * (inb_py). */
#ifndef INB_LINK_H
#define INB_LINK_H

#include <stddef.h>

#include "extension.h"
#include "inb.h"

/* An output being written: a temporary file beside its final name. */
struct inb_output {
    char *path; /* the final name, as given to -o */
    char *tmp;  /* the temporary file in the same directory */
};

/* Check that path can be written (not a directory, its directory exists
 * and is writable) by creating the temporary file now, so that a bad -o
 * fails before any work.  Exits with an error naming path otherwise. */
INB_HIDDEN void inb_link_prepare(struct inb_output *o, const char *path);
/* Link the executable holding archive[0..size), the built-in extension
 * modules exts (built by inb_ext_build) with their libraries, and the
 * shared libraries libs[0..nlibs) (paths) besides libpython's, into
 * o->tmp, then rename it to o->path.  Exits with an error when the
 * compiler or linker fails (naming the extension and the symbol for an
 * undefined symbol of an extension, else printing the failing command);
 * then nothing is left at o->path. */
INB_HIDDEN void inb_link_run(struct inb_output *o,
                             const unsigned char *archive, size_t size,
                             const char *const *libs, size_t nlibs,
                             const struct inb_exts *exts);
/* Append the words of the C compiler that links (INBUILT_CC, or the one
 * inbuilt was built with) to a NULL-terminated argv vector. */
INB_HIDDEN void inb_link_cc(char ***argv, size_t *argc);
#endif
