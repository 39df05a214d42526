/* records.c: the records inside archive entries, written by the builder
 * and read by the runtime (layouts in records.h and docs/FORMAT.md).  A
 * reader checks the entry (inb_archive_data()), then every length against
 * the entry's size before it reads, and reports a precise reason. */
#include "records.h"

#include <stdio.h>
#include <string.h>

#include "le.h"

void
inb_record_source_header(unsigned char *out, uint32_t size)
{
    inb_put32(out, size);
}

int
inb_record_source_read(const inb_archive *a, const inb_entry *e,
                       inb_source_record *r, char *err, size_t errsize)
{
    if (inb_archive_data(a, e, err, errsize) < 0) {
        return -1;
    }
    if (e->size < INB_SOURCE_HEADER_SIZE) {
        return inb_fail(err, errsize, "shorter than its length field");
    }
    r->size = inb_get32(e->data);
    r->zlib = e->data + INB_SOURCE_HEADER_SIZE;
    r->zlib_size = e->size - INB_SOURCE_HEADER_SIZE;
    return 0;
}

int
inb_record_shobj_header(unsigned char *out, size_t names_size)
{
    if (names_size > UINT32_MAX) {
        return -1;
    }
    inb_put32(out, (uint32_t)names_size);
    return 0;
}

int
inb_record_shobj_read(const inb_archive *a, const inb_entry *e,
                      inb_shobj_record *r, char *err, size_t errsize)
{
    if (inb_archive_data(a, e, err, errsize) < 0) {
        return -1;
    }
    return inb_record_shobj_parse(e, r, err, errsize);
}

int
inb_record_shobj_parse(const inb_entry *e, inb_shobj_record *r, char *err,
                       size_t errsize)
{
    const char *names, *end;
    size_t size;

    if (e->size < INB_SHOBJ_HEADER_SIZE) {
        return inb_fail(err, errsize, "shared-object record truncated");
    }
    size = inb_get32(e->data);
    if (size == 0 || size > e->size - INB_SHOBJ_HEADER_SIZE) {
        return inb_fail(err, errsize,
                        "shared-object record: names beyond the record");
    }
    names = (const char *)e->data + INB_SHOBJ_HEADER_SIZE;
    end = names + size;
    if (end[-1] != '\0') {
        return inb_fail(err, errsize,
                        "shared-object record: names not terminated");
    }
    r->filename = names;
    r->digest = r->filename + strlen(r->filename) + 1;
    if (r->digest >= end || strlen(r->digest) != INB_SHOBJ_DIGEST_LEN ||
        strchr(r->filename, '/') != NULL) {
        return inb_fail(err, errsize,
                        "shared-object record of %.100s: bad name or digest",
                        r->filename);
    }
    r->needs = r->digest + INB_SHOBJ_DIGEST_LEN + 1;
    r->needs_size = (size_t)(end - r->needs);
    r->image = (const unsigned char *)end;
    r->image_size = e->size - INB_SHOBJ_HEADER_SIZE - size;
    if (r->image_size < 4 || memcmp(r->image, "\177ELF", 4) != 0) {
        return inb_fail(err, errsize,
                        "shared-object record of %.100s: image is not an ELF "
                        "file",
                        r->filename);
    }
    return 0;
}

void
inb_record_builtin_write(unsigned char *out, uint32_t i)
{
    inb_put32(out, i);
}

int
inb_record_builtin_read(const inb_archive *a, const inb_entry *e, uint32_t *i,
                        char *err, size_t errsize)
{
    if (inb_archive_data(a, e, err, errsize) < 0) {
        return -1;
    }
    if (e->size != INB_BUILTIN_RECORD_SIZE) {
        return inb_fail(err, errsize,
                        "built-in extension record of %zu bytes, expected %d",
                        e->size, INB_BUILTIN_RECORD_SIZE);
    }
    *i = inb_get32(e->data);
    return 0;
}
