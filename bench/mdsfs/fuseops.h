/* fuseops.h: the FUSE operations of a mount: a read-only mirror of
 * the backing directory that charges every request to the server. */
#ifndef MDSFS_FUSEOPS_H
#define MDSFS_FUSEOPS_H

#include "inode.h"

/* The low-level operations; each session's userdata is its struct mount. */
extern const struct fuse_lowlevel_ops mdsfs_ops;

#endif
