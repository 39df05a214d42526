/* records.h: the records inside the data of archive entries
 * (docs/FORMAT.md): each one's layout, its writer and its bounds-checked
 * reader, in one place for the builder and the runtime.  Every reader
 * takes the entry and first has inb_archive_data() check it (flags,
 * checksum), so that no record is read from a damaged executable. */
#ifndef INB_RECORDS_H
#define INB_RECORDS_H

#include <stddef.h>
#include <stdint.h>

#include "archive.h"

/* Source record (entries of namespace source): u32 size of the source
 * file, then the file as one zlib stream. */
#define INB_SOURCE_HEADER_SIZE 4

typedef struct inb_source_record {
    uint32_t size;             /* the source's size, uncompressed */
    const unsigned char *zlib; /* the stream, in the archive */
    size_t zlib_size;
} inb_source_record;

/* Write the header of the source record of a file of size bytes. */
INB_HIDDEN void inb_record_source_header(unsigned char *out, uint32_t size);
/* Read the source record of entry e of a.  Returns 0, or -1 with the
 * reason in err. */
INB_HIDDEN int inb_record_source_read(const inb_archive *a, const inb_entry *e,
                                      inb_source_record *r, char *err,
                                      size_t errsize);

/* Shared-object record (shared-ext, shared-data, and shlib entries): u32
 * names_size; names_size bytes of NUL-terminated strings: the file's name
 * (no '/'), the image's digest (16 hex digits), then the sonames of the
 * libraries it needs; then the image, an ELF file. */
#define INB_SHOBJ_HEADER_SIZE 4
#define INB_SHOBJ_DIGEST_LEN 16

typedef struct inb_shobj_record {
    const char *filename; /* NUL-terminated, in the archive */
    const char *digest;   /* 16 hex digits of the image's hash */
    const char *needs;    /* NUL-terminated sonames, back to back */
    size_t needs_size;
    const unsigned char *image;
    size_t image_size;
} inb_shobj_record;

/* Write the header of a shared-object record whose names take names_size
 * bytes.  Returns 0, or -1 when names_size does not fit a u32. */
INB_HIDDEN int inb_record_shobj_header(unsigned char *out, size_t names_size);
/* Read the shared-object record of entry e of a.  Returns 0, or -1 with
 * the reason in err ("shared-object record truncated", "image is not an
 * ELF file"). */
INB_HIDDEN int inb_record_shobj_read(const inb_archive *a, const inb_entry *e,
                                     inb_shobj_record *r, char *err,
                                     size_t errsize);

/* The layout checks of inb_record_shobj_read() without the entry's check:
 * for the names only (which file an entry is), or for an image that is
 * then copied through inb_archive_data_copy(), which checks it on the way.
 * The image must not be used otherwise. */
INB_HIDDEN int inb_record_shobj_parse(const inb_entry *e, inb_shobj_record *r,
                                      char *err, size_t errsize);

/* Built-in extension record (builtin-ext entries): u32, the index of the
 * module's record in the executable's inb_builtin_table. */
#define INB_BUILTIN_RECORD_SIZE 4

/* Write the record of table index i. */
INB_HIDDEN void inb_record_builtin_write(unsigned char *out, uint32_t i);
/* Read the built-in extension record of entry e of a into *i.  Returns 0,
 * or -1 with the reason in err. */
INB_HIDDEN int inb_record_builtin_read(const inb_archive *a,
                                       const inb_entry *e, uint32_t *i,
                                       char *err, size_t errsize);

#endif
