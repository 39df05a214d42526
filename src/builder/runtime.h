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

/* The path of the runtime library for t: $INBUILT_RUNTIME when set, else
 * the cached build for t's CPython (its version, headers and the
 * compiler) and these sources, under $XDG_CACHE_HOME/inbuilt (default
 * ~/.cache/inbuilt; in runtime/ there), compiled and stored there first when missing (under
 * a temporary name, then renamed: concurrent builds are safe).  Exits with
 * the compiler's messages when it cannot be built. */
INB_HIDDEN const char *inb_runtime_library(const struct inb_target *t);

#endif
