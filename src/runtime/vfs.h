/* vfs.h: the executable as a read-only directory to every file API.
 *
 * The runtime defines the C library's file entry points (open, stat,
 * opendir, realpath, dlopen, ... listed in vfs.c) in the executable, so
 * that they come first for CPython, which is linked in, and for every
 * shared object loaded later.  A path under the executable's own path (the
 * virtual root) is answered from the archive, with no system call reaching
 * a filesystem; every other path goes to the C library after one prefix
 * comparison. */
#ifndef INB_VFS_H
#define INB_VFS_H

#include "archive.h"

/* Answer paths under the virtual root from the archive (both tree.c's,
 * set before) from now on.  Call once, before any thread starts.
 * INBUILT_VFS=0 in the environment leaves every path to the C library.
 * Returns 0, or -1 when tree.c holds no root (nothing is answered then). */
INB_HIDDEN int inb_vfs_init(void);

/* The canonical path of absolute path[0..len) when it names the tree,
 * found without a system call: the root (which the kernel gave as a path
 * free of symbolic links) and the rest normalized, since the tree holds
 * no symbolic links.  Written NUL-terminated into out (outsize bytes).
 * Returns its length, or -1 when path does not start with the root, when
 * ".." leads out of the tree or when the result does not fit: then only
 * the filesystem can answer. */
INB_HIDDEN long inb_vfs_canonical(const char *path, size_t len, char *out,
                                  size_t outsize);

#endif
