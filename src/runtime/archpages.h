/* archpages.h: the archive's pages in this process, dropped once read. */
#ifndef INB_ARCHPAGES_H
#define INB_ARCHPAGES_H

#include <stddef.h>

#include "inb.h"

/* Say whether the archive lies in read-only memory mapped from a file
 * (the executable's own data, as the builder lays it out).  Only then may
 * inb_archpages_drop() drop its pages. */
INB_HIDDEN void inb_archpages_set_file_backed(int file_backed);

/* Drop the whole pages inside [p, p + size) of the archive from this
 * process's page tables: they stay in the page cache and a later read maps
 * them again, unchanged, since they are read-only and file-backed.  Does
 * nothing unless inb_archpages_set_file_backed(1) was called.  p must point
 * into the archive: anywhere else (writable or anonymous memory), dropping
 * would lose data. */
INB_HIDDEN void inb_archpages_drop(const void *p, size_t size);

#endif
