/* compile.h: compile Python source to marshalled code objects with the
 * target interpreter (a server process started once), i.e. exactly the
 * CPython version the executable links. */
#ifndef INB_COMPILE_H
#define INB_COMPILE_H

#include <stddef.h>
#include <stdint.h>

#include "cache.h"
#include "inb.h"
#include "util.h"

/* Make python, the target interpreter, whose bytecode magic number and
 * PY_VERSION_HEX are magic and version (from the target query), the
 * compile server; it is started on the first request, and exits the
 * build if it reports another magic number or version. */
INB_HIDDEN void inb_compile_init(const char *python, uint32_t magic,
                                 uint32_t version);
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
/* Start k, the build cache's key of the bytecode of module relname at
 * level optimize, to which the SHA-256 of its source is to be added
 * (inb_cache_key_digest, inb_cache_get_file). */
INB_HIDDEN void inb_compile_key(struct inb_cache_key *k, const char *relname,
                                int optimize);
/* inb_compile_source() through the build cache: the bytecode of the same
 * source, relname, optimization level and CPython is reused. */
INB_HIDDEN int inb_compile_cached(const char *src, size_t len,
                                  const char *path, const char *relname,
                                  int optimize, struct inb_buf *out);
/* The bytecode magic number and PY_VERSION_HEX of the target CPython. */
INB_HIDDEN uint32_t inb_compile_magic(void);
INB_HIDDEN uint32_t inb_compile_version(void);
/* Run Python text in the server's namespace (to define functions for
 * inb_compile_call).  Returns 0, or -1 after printing the error. */
INB_HIDDEN int inb_compile_exec(const char *text);
/* Call function(source, path), defined by inb_compile_exec, on the source
 * of the file at path; it returns a list of ints, appended to result in
 * decimal, comma-separated ("12,40").  Returns 0, or -1 with the error message
 * in result. */
INB_HIDDEN int inb_compile_call(const char *function, const char *path,
                                struct inb_buf *result);
/* Stop the server. */
INB_HIDDEN void inb_compile_fini(void);

#endif
