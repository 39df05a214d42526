/* modpath.h: the one rule between a module's dotted name and its file or
 * directory, relative to a root (the executable's virtual tree at run
 * time, an archive entry's recorded file name at build time):
 *  - module a.b is "a/b.py", package a.b is "a/b/__init__.py" (its
 *    directory, __path__, "a/b"), a namespace package only "a/b";
 *  - extension module a.b._m is "a/b/" + the file name it was built as.
 * "a.b.__init__" (package a.b's code as a plain module, as CPython's path
 * finder gives it from a/b/__init__.py) is, as a module, "a/b/__init__.py".
 * Pure C: no allocation, no system call. */
#ifndef INB_MODPATH_H
#define INB_MODPATH_H

#include <stddef.h>

#include "inb.h"

/* Write the file of module name[0..len) of kind (enum inb_kind: module,
 * package, namespace package (its directory), shared extension) into out
 * (outsize bytes, NUL-terminated).  so_name: the extension's file name
 * (no '/'), NULL for other kinds.  Returns the path's length; when that
 * is outsize or more, out holds nothing useful (as snprintf()). */
INB_HIDDEN size_t inb_modpath_file(const char *name, size_t len, int kind,
                                   const char *so_name, char *out,
                                   size_t outsize);

/* Write the directory of package name[0..len) ("a/b") into out, as
 * inb_modpath_file() does. */
INB_HIDDEN size_t inb_modpath_dir(const char *name, size_t len, char *out,
                                  size_t outsize);

/* Write the dotted name that directory or file stem rel[0..len) ("a/b")
 * names into out (outsize bytes, not NUL-terminated).  Returns 0, or -1
 * when it names no module: empty, a component empty or holding a dot, or
 * longer than outsize. */
INB_HIDDEN int inb_modpath_name(const char *rel, size_t len, char *out,
                                size_t outsize);

/* The module whose source file rel[0..len) would be: "a/b.py" is module
 * a.b (*kind INB_KIND_MODULE), "a/b/__init__.py" package a.b
 * (INB_KIND_PACKAGE).  Writes the dotted name into out (outsize bytes,
 * not NUL-terminated) and returns its length, or -1 when rel names no
 * module's source. */
INB_HIDDEN long inb_modpath_of_source(const char *rel, size_t len, char *out,
                                      size_t outsize, int *kind);

#endif
