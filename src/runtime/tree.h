/* tree.h: the one owner of what the runtime serves, the archive and the
 * virtual root (the executable's real path, under which modules, package
 * data and metadata appear as a read-only tree, vpath.h).  Start-up sets
 * both once, before any thread starts; every other file of the runtime
 * reads them here. */
#ifndef INB_TREE_H
#define INB_TREE_H

#include <stddef.h>

#include "archive.h"

/* Record archive a (borrowed: it lives as long as the process) and the
 * root (NUL-terminated, copied).  Returns 0, or -1 when root is empty, not
 * absolute or longer than PATH_MAX (the archive is recorded, the root is
 * then ""). */
INB_HIDDEN int inb_tree_set(const inb_archive *a, const char *root);

/* Borrowed: the archive, NULL before inb_tree_set(). */
INB_HIDDEN const inb_archive *inb_tree_archive(void);

/* Borrowed: the root, NUL-terminated ("" when unset), its length in *len. */
INB_HIDDEN const char *inb_tree_root(size_t *len);

/* Borrowed: the root as a Python str (its bytes decoded as CPython decoded
 * sys.executable: UTF-8, surrogateescape), made on the first call, which
 * must come after CPython's core initialization.  NULL with an exception
 * set. */
INB_HIDDEN struct _object *inb_tree_root_str(void);

/* New reference: the str of path rel[0..len) of the tree (relative to the
 * root, normalized): ROOT/rel, or ROOT for "".  NULL with an exception
 * set. */
INB_HIDDEN struct _object *inb_tree_path(const char *rel, size_t len);

#endif
