/* shlib.h: read ELF shared objects (extension modules and the libraries they
 * need) with libelf, resolve their DT_NEEDED libraries the way the dynamic
 * loader would, and lay out the records the runtime loads from memory. */
#ifndef INB_SHLIB_H
#define INB_SHLIB_H

#include <stddef.h>

#include "archive.h"
#include "util.h"

/* The libraries an executable must not embed: the base system every Linux
 * machine has (the manylinux policy's list) and those the executable
 * itself links.  lib_flags: the -l and -L words of the link (libpython's
 * libraries); their sonames are added.  Call once before the others. */
INB_HIDDEN void inb_shlib_init(const char *lib_flags, const char *env_prefix);

/* Add to w the record of extension module name (dotted), built from the .so
 * at path: an NS_MODULE entry of kind INB_KIND_SHARED_EXT.  Every library it
 * needs, recursively, that is not in the base system gets its own NS_SHLIB
 * entry (once per soname).  Exits with an error naming the module when the
 * file is for another architecture or Python version, or a needed library
 * cannot be found.  Returns the bytes added. */
INB_HIDDEN size_t inb_shlib_add_extension(inb_archive_writer *w,
                                          const char *name, const char *path);

/* Whether the shared object at path defines PyInit_X, X being the last
 * component of the dotted name its file stands for: an extension module.
 * A shared object in a package directory that does not is a plain library
 * (one the package loads with ctypes).  Exits with an error naming path
 * when it is not a readable ELF shared object. */
INB_HIDDEN int inb_shlib_is_extension(const char *name, const char *path);

/* Add to w the plain shared library at path as the NS_DATA entry rel
 * ("pkg/sub/libfoo.so") of kind INB_KIND_SHARED_DATA: a shared-object record
 * like an extension's, its needed libraries embedded the same way, so that
 * it can be read as data and loaded from memory.  Exits as
 * inb_shlib_add_extension() does.  Returns the bytes added. */
INB_HIDDEN size_t inb_shlib_add_library(inb_archive_writer *w, const char *rel,
                                        const char *path);

/* Whether the file at path is an ELF shared object for this machine (one
 * inb_shlib_add_library() can embed); 0 for anything else, without a
 * message. */
INB_HIDDEN int inb_shlib_is_library(const char *path);

/* The paths of the base-system libraries (libstdc++, libgcc_s, ...) that
 * embedded objects need and the executable does not link yet; the link
 * adds them, so that they are loaded when the executable starts.  Valid
 * after every inb_shlib_add_extension(). */
INB_HIDDEN const char *const *inb_shlib_base_libraries(size_t *n);

#endif
