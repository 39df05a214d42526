/* runtime.h: the runtime library (libinbuilt-rt.a) for a target CPython,
 * compiled against its headers from the sources the builder carries, on
 * first use, and cached per user. */
#ifndef INB_RUNTIME_H
#define INB_RUNTIME_H

#include <stddef.h>

#include "inb.h"
#include "target.h"

/* One source file of the runtime, as the Makefile embeds it: its path in
 * the source tree (src/runtime/finder.c, include/inbuilt.h) and its text. */
struct inb_runtime_file {
    const char *path;
    const char *text;
    size_t len;
};

/* Every file of src/runtime, src/common and include, then {NULL}. */
extern const struct inb_runtime_file inb_runtime_files[];

/* The objects of the runtime's sources that need no CPython header, as
 * inbuilt carries them (made when inbuilt is built, by the command
 * below): named NAME.o, then {NULL}; and the cache directory name
 * (common-HASH) they were compiled for ("": none carried). */
extern const struct inb_runtime_file inb_runtime_objects[];
extern const char inb_runtime_objects_key[];

/* `inbuilt runtime-objects OUT.c`, run by the Makefile: compile the
 * runtime's sources that need no CPython header and write C source
 * defining inb_runtime_objects and inb_runtime_objects_key to OUT.c.
 * Returns the exit status. */
INB_HIDDEN int inb_runtime_objects_main(int argc, char **argv);
/* Start making the runtime library for t when it is not there yet: a
 * forked child of the builder compiles it (as many sources at once as
 * there are CPUs) while the build goes on; inb_runtime_library() waits
 * for it.  Does nothing when $INBUILT_RUNTIME is set or the library is
 * cached. */
INB_HIDDEN void inb_runtime_start(const struct inb_target *t);
/* The path of the runtime library for t: $INBUILT_RUNTIME when set, else
 * the cached build for t's CPython (its version, headers and the
 * compiler) and these sources, under $XDG_CACHE_HOME/inbuilt (default
 * ~/.cache/inbuilt; in runtime/ there), compiled and stored there first
 * when missing (under a temporary name, then renamed: concurrent builds
 * are safe), waiting for inb_runtime_start()'s child if one runs.  Exits
 * with the compiler's messages when it cannot be built. */
INB_HIDDEN const char *inb_runtime_library(const struct inb_target *t);

#endif
