/* fuzz_archive.c: libFuzzer target for the archive reader and the readers
 * of the records inside entries (src/common/records.c).
 *
 * The input's tables checksum is set to what its tables give before it is
 * opened (when they lie inside it), so that the fuzzer reaches the checks
 * behind the checksum.  Any input must either be refused by
 * inb_archive_open() with a reason, or be an archive whose every entry
 * lies inside the input and is found again by name, by inb_archive_find()
 * and inb_archive_lower_bound(); every entry's data is then given to
 * inb_archive_data() and to each record reader, which must not read
 * outside it.  A valid
 * input is also written anew with the writer, which must accept every
 * entry, and the copy must read back the same.  Any broken promise aborts.
 *
 * The seeds in tests/fuzz/corpus/ are archives made by the writer (each
 * under 2 KiB), by a throwaway program linked with src/common/archive.c:
 *   empty.inb     no entries (the 72-byte header alone);
 *   modules.inb   a package "json" with submodules, a namespace package,
 *                 an absent extension with its reason, and the config
 *                 entries "entry" and "allow_filesystem";
 *   prefixes.inb  "a", "a.b", "a.b.c", "ab", "b" in two namespaces;
 *   all.inb       an entry of every namespace and kind, empty data and
 *                 INB_FLAG_ZSTD included.
 * Run: make check-fuzz (20 s) or make fuzz (FUZZ_SECONDS). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "archive.h"
#include "records.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Like assert(), but kept whatever NDEBUG says. */
#define CHECK(c)                                                             \
    do {                                                                     \
        if (!(c)) {                                                          \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, \
                    #c);                                                     \
            abort();                                                         \
        }                                                                    \
    } while (0)

/* Whether x and y hold the same key, kind, flags and data bytes. */
static int
same_entry(const inb_entry *x, const inb_entry *y)
{
    return x->ns == y->ns && x->kind == y->kind && x->flags == y->flags &&
           x->name_len == y->name_len &&
           memcmp(x->name, y->name, x->name_len) == 0 && x->size == y->size &&
           (x->size == 0 || memcmp(x->data, y->data, x->size) == 0);
}

/* Write a valid archive anew with the writer and check the copy. */
static void
rewrite(const inb_archive *a)
{
    inb_archive_writer *w;
    unsigned char *out;
    size_t outsize;
    inb_archive b;
    inb_entry e, f;
    char err[128];
    uint32_t i;

    w = inb_archive_writer_new(a->py_magic, a->py_version);
    CHECK(w != NULL);
    for (i = 0; i < a->count; i++) {
        inb_archive_entry(a, i, &e);
        CHECK(inb_archive_writer_add(w, e.ns, e.kind, e.flags, e.name,
                                     e.name_len, e.data, e.size) == 0);
    }
    CHECK(inb_archive_writer_finish(w, &out, &outsize, err, sizeof err) == 0);
    inb_archive_writer_free(w);
    CHECK(inb_archive_open(&b, out, outsize, err, sizeof err) == 0);
    CHECK(b.count == a->count);
    CHECK(b.py_magic == a->py_magic && b.py_version == a->py_version);
    for (i = 0; i < a->count; i++) {
        inb_archive_entry(a, i, &e);
        inb_archive_entry(&b, i, &f);
        CHECK(same_entry(&e, &f));
        CHECK(f.size == 0 ||
              (size_t)(f.data - b.base) % INB_ARCHIVE_ALIGN == 0);
    }
    inb_free(out);
}

/* Give entry e of a to inb_archive_data() and to every record reader: a
 * reader accepts only what inb_archive_data() accepts, and what it returns
 * lies inside the entry. */
static void
read_records(const inb_archive *a, const inb_entry *e)
{
    inb_source_record src;
    inb_shobj_record so;
    char err[512];
    uint32_t index;
    int ok = inb_archive_data(a, e, err, sizeof err) == 0;

    if (inb_record_source_read(a, e, &src, err, sizeof err) == 0) {
        CHECK(ok);
        CHECK(src.zlib >= e->data &&
              src.zlib + src.zlib_size == e->data + e->size);
    }
    if (inb_record_shobj_read(a, e, &so, err, sizeof err) == 0) {
        CHECK(ok);
        CHECK((const unsigned char *)so.filename > e->data &&
              so.image + so.image_size == e->data + e->size &&
              (const unsigned char *)so.needs + so.needs_size == so.image);
        CHECK(strlen(so.digest) == INB_SHOBJ_DIGEST_LEN);
    }
    if (inb_record_builtin_read(a, e, &index, err, sizeof err) == 0) {
        CHECK(ok && e->size == INB_BUILTIN_RECORD_SIZE);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *input, size_t size)
{
    inb_archive a;
    inb_entry e, f;
    char err[128], *next;
    unsigned char *data = malloc(size > 0 ? size : 1);
    uint64_t sum;
    uint32_t i, j;
    int ns;

    CHECK(data != NULL);
    if (size > 0) {
        memcpy(data, input, size);
    }
    if (inb_archive_tables_checksum(data, size, &sum) == 0) {
        for (i = 0; i < 8; i++) {
            data[64 + i] = (unsigned char)(sum >> (8 * i));
        }
    }
    memset(err, 'x', sizeof err);
    if (inb_archive_open(&a, data, size, err, sizeof err) < 0) {
        CHECK(memchr(err, '\0', sizeof err) != NULL);
        CHECK(err[0] != '\0');
        CHECK(a.count == 0);
        free(data);
        return 0;
    }
    CHECK(a.base == data && a.size == size);
    for (i = 0; i < a.count; i++) {
        inb_archive_entry(&a, i, &e);
        CHECK(e.name_len > 0);
        CHECK(e.ns >= 0 && e.ns < INB_NS_COUNT);
        CHECK(e.kind >= 0 && e.kind < INB_KIND_COUNT);
        CHECK((const unsigned char *)e.name >= a.strings &&
              e.name_len <= a.strings_size &&
              (const unsigned char *)e.name - a.strings <=
                  (ptrdiff_t)(a.strings_size - e.name_len));
        CHECK(e.data >= data && e.size <= size &&
              e.data - data <= (ptrdiff_t)(size - e.size));
        CHECK(e.size == 0 || (e.data - data) % INB_ARCHIVE_ALIGN == 0);

        read_records(&a, &e);
        CHECK(inb_archive_find(&a, e.ns, e.name, e.name_len, &f) == 1);
        CHECK(f.name == e.name && f.data == e.data && f.size == e.size &&
              f.kind == e.kind && f.flags == e.flags);
        CHECK(inb_archive_lower_bound(&a, e.ns, e.name, e.name_len) == i);
        /* A proper prefix sorts before the name. */
        j = inb_archive_lower_bound(&a, e.ns, e.name, e.name_len / 2);
        CHECK(j <= i);
        /* Nothing sorts between the name and the name followed by a NUL. */
        next = malloc(e.name_len + 1);
        CHECK(next != NULL);
        memcpy(next, e.name, e.name_len);
        next[e.name_len] = '\0';
        CHECK(inb_archive_lower_bound(&a, e.ns, next, e.name_len + 1) ==
              i + 1);
        free(next);
    }
    for (ns = -1; ns <= INB_NS_COUNT; ns++) {
        /* Names are never empty; the first entry of ns starts there. */
        CHECK(inb_archive_find(&a, ns, NULL, 0, NULL) == 0);
        j = inb_archive_lower_bound(&a, ns, NULL, 0);
        CHECK(j <= a.count);
        if (j < a.count) {
            inb_archive_entry(&a, j, &e);
            CHECK(e.ns >= ns);
        }
        if (j > 0) {
            inb_archive_entry(&a, j - 1, &e);
            CHECK(e.ns < ns);
        }
    }
    if (a.count <= 4096) {
        rewrite(&a);
    }
    free(data);
    return 0;
}
