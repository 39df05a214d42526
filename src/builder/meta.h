/* meta.h: distribution metadata (.dist-info, .egg-info) of the included
 * packages, for importlib.metadata. */
#ifndef INB_META_H
#define INB_META_H

#include <stddef.h>

#include "archive.h"
#include "collect.h"
#include "inb.h"

/* Add the files of every distribution directory on c's roots that provides
 * a top-level package named by an --include, as python's importlib.metadata
 * sees them (inb_deps_dist_dirs()), as meta entries "X-1.0.dist-info/FILE";
 * of each project only the first found, in root order.  Returns the bytes
 * added. */
INB_HIDDEN size_t inb_meta_add(inb_archive_writer *w,
                               const struct inb_collect *c,
                               const char *python);

#endif
