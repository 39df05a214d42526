/* write.h: lay out the archive of an executable (write.c). */
#ifndef INB_WRITE_H
#define INB_WRITE_H

#include <stddef.h>

#include "collect.h"
#include "extension.h"
#include "inb.h"
#include "util.h"

/* What goes into the archive. */
struct inb_archive_plan {
    const struct inb_collect *c;         /* the modules */
    const struct inb_exts *exts;         /* built-in extensions (built) */
    const struct inb_strv *exclude_data; /* --exclude-data patterns */
    const char *python;                  /* the target interpreter */
    const char *output;                  /* named when compiling fails */
    const char *entry;                   /* --entry, or NULL */
    const char *so_mode;  /* "shared", "memory", "cache" or NULL */
    int optimize;         /* bytecode optimization level */
    int source;           /* embed sources (not --no-source) */
    int allow_filesystem; /* --allow-filesystem */
};

/* What the archive holds, for the build's summary (added to). */
struct inb_archive_sizes {
    size_t nmods; /* modules, built-in extensions included */
    size_t bytes; /* bytecode and shared objects */
    size_t extra; /* sources, data files and metadata */
};

/* Compile and add everything p names and lay the archive out:
 * *archive (inb_free) of *size bytes.  Runs the compile server (started
 * and stopped here) and the lint.  Exits on failure, naming p->output as
 * not written when a module fails to compile. */
INB_HIDDEN void inb_write_archive(const struct inb_archive_plan *p,
                                  unsigned char **archive, size_t *size,
                                  struct inb_archive_sizes *sizes);

#endif
