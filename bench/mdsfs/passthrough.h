/* passthrough.h: the FUSE operations of a mount: a read-only passthrough of
 * the backing directory that charges every request to the server. */
#ifndef MDSFS_PASSTHROUGH_H
#define MDSFS_PASSTHROUGH_H

#include "inode.h"

/* The low-level operations; each session's userdata is its struct mount. */
extern const struct fuse_lowlevel_ops passthrough_ops;

#endif
