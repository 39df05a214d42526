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

/* Answer paths under root (the executable's real path, NUL-terminated)
 * from archive a (borrowed: it lives as long as the process) from now on.
 * Call once, before any thread starts.  INBUILT_VFS=0 in the environment
 * leaves every path to the C library.  Returns 0, or -1 when root is too
 * long (nothing is answered then). */
INB_HIDDEN int inb_vfs_init(const inb_archive *a, const char *root);

#endif
