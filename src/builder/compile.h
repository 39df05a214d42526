/* compile.h: compile Python source to marshalled code objects with the
 * embedded libpython, i.e. exactly the CPython version of the runtime. */
#ifndef INB_COMPILE_H
#define INB_COMPILE_H

#include <stddef.h>
#include <stdint.h>

#include "inb.h"
#include "util.h"

/* Start the embedded interpreter (once).  Exits on failure. */
INB_HIDDEN void inb_compile_init(void);
/* Compile the source file at path, naming it relname inside code objects,
 * with optimization level optimize (0, 1 or 2), and append
 * marshal.dumps(code) to out.  Returns 0, or -1 after printing
 * "path:line:col: SyntaxError: message" (or the I/O error) to stderr. */
INB_HIDDEN int inb_compile_file(const char *path, const char *relname,
                                int optimize, struct inb_buf *out);
/* inb_compile_file() for source src[0..len) (path names it in
 * messages). */
INB_HIDDEN int inb_compile_source(const char *src, size_t len,
                                  const char *path, const char *relname,
                                  int optimize, struct inb_buf *out);
/* The bytecode magic number and PY_VERSION_HEX of the embedded CPython. */
INB_HIDDEN uint32_t inb_compile_magic(void);
INB_HIDDEN uint32_t inb_compile_version(void);
/* Stop the embedded interpreter. */
INB_HIDDEN void inb_compile_fini(void);

#endif
