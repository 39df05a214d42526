/* memso.h: shared objects (extension modules and the libraries they need)
 * loaded from the archive through memory files, or through a node-local
 * cache directory, never from where the executable came from. */
#ifndef INB_MEMSO_H
#define INB_MEMSO_H

#include <stddef.h>

#include "archive.h"
#include "records.h"

/* How images are made loadable. */
enum inb_memso_mode {
    INB_MEMSO_SHARED, /* sealed memory files, one per node (the default) */
    INB_MEMSO_MEMORY, /* sealed memory files, one per process */
    INB_MEMSO_CACHE,  /* files in a per-user node-local cache directory */
};

/* Choose the mode for the images made loadable from now on. */
INB_HIDDEN void inb_memso_set_mode(enum inb_memso_mode mode);

/* Make the extension module image of entry e loadable: load from the
 * archive the libraries it needs (each after its own needs, each at most
 * once per process), put the image in a sealed memory file or the cache
 * directory, and write the path the dynamic loader opens it by
 * ("/proc/self/fd/N" or the cached file) into path.  The same entry always
 * gets the same path.  When memory files cannot be executed here, falls
 * back to the cache and leaves a diagnostic.  Returns 0, or -1 with the
 * reason (the dynamic loader's message, a missing library) in err. */
INB_HIDDEN int inb_memso_prepare(const inb_archive *a, const inb_entry *e,
                                 char *path, size_t pathsize, char *err,
                                 size_t errsize);

/* A one-line diagnostic of a fall-back from memory files to the cache, to
 * be shown once; NULL when there is none (or it was taken already). */
INB_HIDDEN const char *inb_memso_take_diagnostic(void);

#endif
