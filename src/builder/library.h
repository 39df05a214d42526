/* library.h: `inbuilt build --library -o DIR/libNAME.a`: a static library
 * for host programs (docs/EMBEDDING.md), instead of an executable. */
#ifndef INB_LIBRARY_H
#define INB_LIBRARY_H

#include <stddef.h>

#include "extension.h"
#include "inb.h"
#include "link.h"
#include "util.h"

/* A library being made. */
struct inb_library {
    char *dir;  /* the directory of libNAME.a and its companion files */
    char *name; /* NAME */
    /* libpython's libraries that are not the C library's: their static
     * archives (libz.a, libexpat.a) are linked into the library, made
     * local, so that a host's own crc32 or XML_Parse do not collide. */
    struct inb_strv archives;
    /* The rest of libpython's libraries (-ldl -lm ...), for the host. */
    char *dynamic;
};

/* Check that path names libNAME.a with NAME of letters, digits, '_', '-'
 * and '.', and find libpython's libraries' static archives.  Exits with an
 * error naming path otherwise. */
INB_HIDDEN void inb_library_prepare(struct inb_library *l, const char *path);
/* Write o->path, the static library holding the runtime, the whole
 * libpython, archive[0..size) and the built-in extensions exts as one
 * object in which every global symbol but the CPython C API (Py*, _Py*)
 * and the inbuilt API is local; and beside it inbuilt.h, libNAME.pc,
 * NAMEConfig.cmake (the imported target inbuilt::NAME) and libNAME.syms
 * (the symbols the host exports for extension modules).  libs[0..nlibs)
 * are base libraries that embedded shared objects need, which the host
 * links.  Each file is written to a temporary name and renamed, the
 * library last.  Exits with an error when a tool fails. */
INB_HIDDEN void inb_library_write(const struct inb_library *l,
                                  struct inb_output *o,
                                  const unsigned char *archive, size_t size,
                                  const char *const *libs, size_t nlibs,
                                  const struct inb_exts *exts);

#endif
