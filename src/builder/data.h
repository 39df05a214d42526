/* data.h: the archive's entries besides code: module source, package data
 * files, and the runtime's support module. */
#ifndef INB_DATA_H
#define INB_DATA_H

#include <stddef.h>

#include "archive.h"
#include "collect.h"
#include "inb.h"
#include "util.h"

/* Add the source of every module and package of c as a source entry (a
 * u32 length, then zlib).  Returns the bytes added; exits when a file
 * cannot be read. */
INB_HIDDEN size_t inb_data_add_sources(inb_archive_writer *w,
                                       const struct inb_collect *c);
/* Add the data files of the packages of c (every file in their directories
 * that is not code, and in the plain directories below them) as data
 * entries named "pkg/sub/file", but those whose name matches one of the
 * shell patterns excludes.  Returns the bytes added. */
INB_HIDDEN size_t inb_data_add_files(inb_archive_writer *w,
                                     const struct inb_collect *c,
                                     const struct inb_strv *excludes);
/* Whether data entry rel ("pkg/sub/file") matches one of the shell
 * patterns excludes (--exclude-data); says so as a note when it does. */
INB_HIDDEN int inb_data_excluded(const struct inb_strv *excludes,
                                 const char *rel);
/* Compile the runtime's support module (src/runtime/loader.py) into the
 * archive as INB_SUPPORT_MODULE, with its source when with_source.  Exits
 * on failure. */
INB_HIDDEN void inb_data_add_support(inb_archive_writer *w, int optimize,
                                     int with_source);

#endif
