/* archive.c: reading and writing the inbuilt archive.
 *
 * Byte format, version 2 (docs/FORMAT.md says the same for humans).
 *
 * Every integer is little-endian and is read and written one byte at a
 * time, so neither the host's byte order nor the alignment of the buffer
 * in memory matters.  Offsets are absolute: they count from the first byte
 * of the archive.  "u32"/"u64" are unsigned 32/64-bit integers.
 *
 * Header, 72 bytes at offset 0:
 *
 *      0  u8[8] magic           "INBUILT\0" (INB_ARCHIVE_MAGIC)
 *      8  u32   version         2 (INB_ARCHIVE_VERSION); others rejected
 *     12  u32   flags           0: no header flag is defined
 *     16  u32   py_magic        PyImport_GetMagicNumber() of the compiler
 *     20  u32   py_version      PY_VERSION_HEX of the compiler
 *     24  u32   entry_count     number of index records
 *     28  u32   entry_size      32 (INB_ARCHIVE_ENTRY_SIZE)
 *     32  u64   index_offset    start of the index
 *     40  u64   strings_offset  start of the string table
 *     48  u64   strings_size    size of the string table in bytes
 *     56  u64   archive_size    size of the whole archive in bytes
 *     64  u64   tables_checksum checksum of the header's first 64 bytes,
 *                               then the index, then the string table
 *                               (inb_archive_tables_checksum())
 *
 * Index: entry_count records of 32 bytes each:
 *
 *      0  u32   name_offset     start of the name, in the string table
 *      4  u32   name_length     length of the name, > 0, no NUL
 *      8  u8    ns              enum inb_ns, < INB_NS_COUNT
 *      9  u8    kind            enum inb_kind, < INB_KIND_COUNT
 *     10  u16   flags           INB_FLAG_* bits only
 *     12  u32   checksum        inb_checksum32() of the entry's data
 *     16  u64   data_offset     start of the data, a multiple of 16
 *     24  u64   data_length     size of the data in bytes
 *
 * The records are sorted by key, and each key appears once.  A key is
 * (ns, name): first by ns, then by the name bytes as memcmp() compares
 * them, a name sorting before every longer name it is a prefix of ("a" <
 * "a.b" < "ab").  The names of a namespace with a common prefix are thus
 * adjacent, which inb_archive_lower_bound() uses.
 *
 * String table: strings_size bytes holding the names, which are not
 * NUL-terminated and may share bytes.
 *
 * Data: each entry's data_length bytes at data_offset.  An entry without
 * data has data_length 0 and, as written, data_offset 0.
 *
 * The checksums are XXH3 (src/common/checksum.c).
 *
 * The writer lays out the header, the index at offset 72, the string table
 * right after it (the names in index order), then the non-empty data blobs
 * in index order, each at the next multiple of INB_ARCHIVE_ALIGN (16);
 * the gaps are zero bytes.  The archive ends with the last blob (or the
 * string table), and archive_size is its size.
 *
 * The reader accepts any layout that passes inb_archive_open(), which
 * checks, once:
 *   - the magic, version, header flags and entry size;
 *   - that archive_size is exactly the size of the buffer;
 *   - that the index and the string table lie inside the archive, after
 *     the header, and do not overlap;
 *   - the tables checksum;
 *   - for every record: a non-empty name inside the string table, a known
 *     namespace, kind and flags, a 16-aligned data
 *     offset, non-empty data after the header, and the data range inside
 *     the archive (computed without overflow);
 *   - that every key is greater than the one before it, which also proves
 *     that keys are unique.
 * After that, inb_archive_find(), inb_archive_lower_bound() and
 * inb_archive_entry() read the index without any check.  An entry's data
 * is checked against its checksum (and its flags) only when it is used,
 * by inb_archive_data(): checking every entry at open would read the whole
 * archive at every start.  Every kind of corruption is reported by inb_fail()
 * with a precise one-line reason. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "archive.h"
#include "checksum.h"
#include "le.h"

/* Entry flags this version knows. */
#define KNOWN_FLAGS INB_FLAG_ZSTD

/* At most this many bytes of a name are quoted in a message. */
#define MAX_QUOTED 200

/* Offsets of the header fields. */
enum {
    H_MAGIC = 0,
    H_VERSION = 8,
    H_FLAGS = 12,
    H_PY_MAGIC = 16,
    H_PY_VERSION = 20,
    H_COUNT = 24,
    H_ENTRY_SIZE = 28,
    H_INDEX = 32,
    H_STRINGS = 40,
    H_STRINGS_SIZE = 48,
    H_SIZE = 56,
    H_CHECKSUM = 64,
    H_CHECKSUMMED = 64 /* the header bytes the tables checksum covers */
};

/* Offsets of the fields of an index record. */
enum {
    E_NAME = 0,
    E_NAME_LEN = 4,
    E_NS = 8,
    E_KIND = 9,
    E_FLAGS = 10,
    E_CHECKSUM = 12,
    E_DATA = 16,
    E_DATA_LEN = 24
};

static const char *const ns_names[INB_NS_COUNT] = {
    "config", "module", "source", "data", "shlib", "meta",
};

static const char *const kind_names[INB_KIND_COUNT] = {
    "blob",       "module",      "package",    "namespace",
    "ext-absent", "builtin-ext", "shared-ext", "shared-data",
};

const char *
inb_archive_ns_name(int ns)
{
    return ns >= 0 && ns < INB_NS_COUNT ? ns_names[ns] : "?";
}

const char *
inb_archive_kind_name(int kind)
{
    return kind >= 0 && kind < INB_KIND_COUNT ? kind_names[kind] : "?";
}

int
inb_fail(char *err, size_t errsize, const char *fmt, ...)
{
    va_list ap;

    if (err != NULL && errsize > 0) {
        va_start(ap, fmt);
        vsnprintf(err, errsize, fmt, ap);
        va_end(ap);
    }
    return -1;
}
/* Compare the keys (ns1, n1[0..l1)) and (ns2, n2[0..l2)) in index order:
 * by namespace, then by name bytes, a prefix first.  Returns <0, 0 or >0
 * like memcmp(). */
static int
keycmp(int ns1, const void *n1, size_t l1, int ns2, const void *n2, size_t l2)
{
    size_t common = l1 < l2 ? l1 : l2;
    int c;

    if (ns1 != ns2) {
        return ns1 < ns2 ? -1 : 1;
    }
    /* memcmp() must not see a NULL pointer, even for 0 bytes. */
    c = common > 0 ? memcmp(n1, n2, common) : 0;
    if (c != 0) {
        return c;
    }
    return l1 < l2 ? -1 : l1 > l2;
}

/* The record at index position i of a validated archive. */
static const unsigned char *
record(const inb_archive *a, uint32_t i)
{
    return a->index + (size_t)i * INB_ARCHIVE_ENTRY_SIZE;
}

/* Compare the key of record r of a validated archive with (ns, name[0..len))
 * like keycmp(). */
static int
reccmp(const inb_archive *a, const unsigned char *r, int ns, const char *name,
       size_t len)
{
    return keycmp(r[E_NS], a->strings + inb_get32(r + E_NAME),
                  inb_get32(r + E_NAME_LEN), ns, name, len);
}

/* Check record i of the archive being opened, whose index, string table and
 * size are already set in *a, against the rules at the top of this file and
 * against prev, the record before it (NULL for the first).  Returns 0, or
 * -1 with the reason in err. */
static int
check_record(const inb_archive *a, uint32_t i, const unsigned char *prev,
             char *err, size_t errsize)
{
    const unsigned char *r = record(a, i);
    uint32_t name_off = inb_get32(r + E_NAME);
    uint32_t name_len = inb_get32(r + E_NAME_LEN);
    unsigned ns = r[E_NS], kind = r[E_KIND];
    unsigned flags = inb_get16(r + E_FLAGS);
    uint64_t data_off = inb_get64(r + E_DATA);
    uint64_t data_len = inb_get64(r + E_DATA_LEN);
    int c;

    if (name_len == 0) {
        return inb_fail(err, errsize, "entry %u: empty name", i);
    }
    if ((uint64_t)name_off + name_len > a->strings_size) {
        return inb_fail(err, errsize,
                        "entry %u: name outside the string table", i);
    }
    if (ns >= INB_NS_COUNT) {
        return inb_fail(err, errsize, "entry %u: unknown namespace %u", i, ns);
    }
    if (kind >= INB_KIND_COUNT) {
        return inb_fail(err, errsize, "entry %u: unknown kind %u", i, kind);
    }
    if ((flags & ~KNOWN_FLAGS) != 0) {
        return inb_fail(err, errsize, "entry %u: unknown flags 0x%x", i,
                        flags);
    }
    if (data_off % INB_ARCHIVE_ALIGN != 0) {
        return inb_fail(err, errsize,
                        "entry %u: data offset 0x%llx is not %d-aligned", i,
                        (unsigned long long)data_off, INB_ARCHIVE_ALIGN);
    }
    if (data_len > 0 && data_off < INB_ARCHIVE_HEADER_SIZE) {
        return inb_fail(err, errsize,
                        "entry %u: data offset 0x%llx is inside the header", i,
                        (unsigned long long)data_off);
    }
    if (data_off > a->size || data_len > a->size - data_off) {
        return inb_fail(
            err, errsize,
            "entry %u: data offset 0x%llx + length %llu beyond end "
            "of archive",
            i, (unsigned long long)data_off, (unsigned long long)data_len);
    }
    if (prev == NULL) {
        return 0;
    }
    c = reccmp(a, prev, (int)ns, (const char *)a->strings + name_off,
               name_len);
    if (c > 0) {
        return inb_fail(err, errsize, "entry %u: out of order", i);
    }
    if (c == 0) {
        return inb_fail(err, errsize, "entry %u: duplicate key %s:%.*s", i,
                        inb_archive_ns_name((int)ns),
                        (int)(name_len < MAX_QUOTED ? name_len : MAX_QUOTED),
                        (const char *)a->strings + name_off);
    }
    return 0;
}

/* The tables checksum of the archive at p whose index (index_size bytes
 * at index_off) and string table lie inside it. */
static uint64_t
tables_checksum(const unsigned char *p, uint64_t index_off,
                uint64_t index_size, uint64_t strings_off,
                uint64_t strings_size)
{
    uint64_t sum = inb_checksum(p, H_CHECKSUMMED, 0);

    sum = inb_checksum(p + index_off, (size_t)index_size, sum);
    return inb_checksum(p + strings_off, (size_t)strings_size, sum);
}

int
inb_archive_tables_checksum(const void *buf, size_t size, uint64_t *sum)
{
    const unsigned char *p = buf;
    uint64_t index_off, index_size, strings_off, strings_size;

    if (p == NULL || size < INB_ARCHIVE_HEADER_SIZE) {
        return -1;
    }
    index_off = inb_get64(p + H_INDEX);
    index_size = (uint64_t)inb_get32(p + H_COUNT) * INB_ARCHIVE_ENTRY_SIZE;
    strings_off = inb_get64(p + H_STRINGS);
    strings_size = inb_get64(p + H_STRINGS_SIZE);
    if (index_off > size || index_size > size - index_off ||
        strings_off > size || strings_size > size - strings_off) {
        return -1;
    }
    *sum =
        tables_checksum(p, index_off, index_size, strings_off, strings_size);
    return 0;
}

/* Validate buf[0..size) as a whole.  On failure *a is left empty (count 0)
 * so that a caller ignoring the error still reads nothing. */
int
inb_archive_open(inb_archive *a, const void *buf, size_t size, char *err,
                 size_t errsize)
{
    const unsigned char *p = buf;
    uint32_t version, flags, count, entry_size, i;
    uint64_t index_off, index_size, strings_off, strings_size, archive_size;
    inb_archive v;

    memset(a, 0, sizeof *a);
    if (p == NULL) {
        size = 0;
    }
    if (size >= sizeof INB_ARCHIVE_MAGIC - 1 &&
        memcmp(p + H_MAGIC, INB_ARCHIVE_MAGIC, sizeof INB_ARCHIVE_MAGIC - 1) !=
            0) {
        return inb_fail(err, errsize, "not an inbuilt archive (bad magic)");
    }
    if (size < INB_ARCHIVE_HEADER_SIZE) {
        return inb_fail(
            err, errsize,
            "archive truncated: %zu bytes, the header alone needs %d", size,
            INB_ARCHIVE_HEADER_SIZE);
    }
    version = inb_get32(p + H_VERSION);
    flags = inb_get32(p + H_FLAGS);
    count = inb_get32(p + H_COUNT);
    entry_size = inb_get32(p + H_ENTRY_SIZE);
    index_off = inb_get64(p + H_INDEX);
    strings_off = inb_get64(p + H_STRINGS);
    strings_size = inb_get64(p + H_STRINGS_SIZE);
    archive_size = inb_get64(p + H_SIZE);
    if (version != INB_ARCHIVE_VERSION) {
        return inb_fail(err, errsize, "format version %u, expected %d",
                        (unsigned)version, INB_ARCHIVE_VERSION);
    }
    if (flags != 0) {
        return inb_fail(err, errsize, "unknown header flags 0x%x",
                        (unsigned)flags);
    }
    if (entry_size != INB_ARCHIVE_ENTRY_SIZE) {
        return inb_fail(err, errsize, "index entry size %u, expected %d",
                        (unsigned)entry_size, INB_ARCHIVE_ENTRY_SIZE);
    }
    if (archive_size > size) {
        return inb_fail(
            err, errsize,
            "archive truncated: header says %llu bytes, buffer has "
            "%zu",
            (unsigned long long)archive_size, size);
    }
    if (archive_size < size) {
        return inb_fail(
            err, errsize,
            "trailing bytes: header says %llu bytes, buffer has %zu",
            (unsigned long long)archive_size, size);
    }

    /* From here on every offset is compared with size first, so that the
     * subtractions below cannot wrap around. */
    index_size = (uint64_t)count * INB_ARCHIVE_ENTRY_SIZE;
    if (index_off < INB_ARCHIVE_HEADER_SIZE) {
        return inb_fail(err, errsize,
                        "index at offset %llu overlaps the header",
                        (unsigned long long)index_off);
    }
    if (index_off > size || index_size > size - index_off) {
        return inb_fail(
            err, errsize,
            "index truncated: %u entries need %llu bytes at offset "
            "%llu, archive has %zu",
            (unsigned)count, (unsigned long long)index_size,
            (unsigned long long)index_off, size);
    }
    if (strings_off < INB_ARCHIVE_HEADER_SIZE) {
        return inb_fail(err, errsize,
                        "string table at offset %llu overlaps the header",
                        (unsigned long long)strings_off);
    }
    if (strings_off > size || strings_size > size - strings_off) {
        return inb_fail(err, errsize,
                        "string table truncated: %llu bytes at offset %llu, "
                        "archive has %zu",
                        (unsigned long long)strings_size,
                        (unsigned long long)strings_off, size);
    }
    if (index_size > 0 && strings_size > 0 &&
        index_off < strings_off + strings_size &&
        strings_off < index_off + index_size) {
        return inb_fail(err, errsize, "index and string table overlap");
    }
    if (tables_checksum(p, index_off, index_size, strings_off, strings_size) !=
        inb_get64(p + H_CHECKSUM)) {
        return inb_fail(err, errsize,
                        "checksum mismatch in the header, index or string "
                        "table");
    }

    v.base = p;
    v.size = size;
    v.version = version;
    v.py_magic = inb_get32(p + H_PY_MAGIC);
    v.py_version = inb_get32(p + H_PY_VERSION);
    v.count = count;
    v.index = p + index_off;
    v.strings = p + strings_off;
    v.strings_size = (size_t)strings_size;
    v.checked = NULL;
    for (i = 0; i < count; i++) {
        if (check_record(&v, i, i > 0 ? record(&v, i - 1) : NULL, err,
                         errsize) < 0) {
            return -1;
        }
    }
    *a = v;
    return 0;
}

void
inb_archive_entry(const inb_archive *a, uint32_t i, inb_entry *e)
{
    const unsigned char *r = record(a, i);

    e->name = (const char *)a->strings + inb_get32(r + E_NAME);
    e->name_len = inb_get32(r + E_NAME_LEN);
    e->ns = r[E_NS];
    e->kind = r[E_KIND];
    e->flags = inb_get16(r + E_FLAGS);
    e->data = a->base + (size_t)inb_get64(r + E_DATA);
    e->size = (size_t)inb_get64(r + E_DATA_LEN);
    e->checksum = inb_get32(r + E_CHECKSUM);
    e->index = i;
}

/* What inb_archive_data_copy() hands to inb_checksum32_copy(): the sink
 * and where its part of the data starts. */
struct copy {
    const unsigned char *from; /* the first byte the sink gets */
    int (*sink)(void *ctx, const unsigned char *chunk, size_t n);
    void *ctx;
};

/* Pass the part of chunk[0..n) at or after c->from on to c's sink. */
static int
copy_from(void *ctx, const unsigned char *chunk, size_t n)
{
    struct copy *c = ctx;

    if (chunk + n <= c->from) {
        return 0;
    }
    if (chunk < c->from) {
        n -= (size_t)(c->from - chunk);
        chunk = c->from;
    }
    return c->sink(c->ctx, chunk, n);
}

int
inb_archive_data_copy(const inb_archive *a, const inb_entry *e, size_t from,
                      int (*sink)(void *ctx, const unsigned char *chunk,
                                  size_t n),
                      void *ctx, char *err, size_t errsize)
{
    struct copy c;
    int rc;

    if (from > e->size) {
        from = e->size;
    }
    if ((e->flags & INB_FLAG_ZSTD) ||
        (a->checked != NULL && e->index < a->count &&
         __atomic_load_n(&a->checked[e->index], __ATOMIC_RELAXED))) {
        /* Refused, or checked already: nothing more to hash. */
        if (inb_archive_data(a, e, err, errsize) < 0) {
            return -1;
        }
        return from < e->size && sink(ctx, e->data + from, e->size - from) < 0
                   ? -2
                   : 0;
    }
    c.from = e->data + from;
    c.sink = sink;
    c.ctx = ctx;
    rc = inb_checksum32_copy(e->data, e->size, e->checksum, copy_from, &c);
    if (rc < 0) {
        return -2;
    }
    if (rc > 0) {
        /* Damaged: inb_archive_data() finds it again and says so. */
        return inb_archive_data(a, e, err, errsize);
    }
    if (a->checked != NULL && e->index < a->count) {
        __atomic_store_n(&a->checked[e->index], 1, __ATOMIC_RELAXED);
    }
    return 0;
}

void
inb_archive_set_memo(inb_archive *a, unsigned char *memo)
{
    a->checked = memo;
}

/* The memo's bytes are read and written atomically (relaxed): two threads
 * checking one entry both write 1. */
int
inb_archive_data(const inb_archive *a, const inb_entry *e, char *err,
                 size_t errsize)
{
    const char *why;

    if (a->checked != NULL && e->index < a->count &&
        __atomic_load_n(&a->checked[e->index], __ATOMIC_RELAXED)) {
        return 0;
    }
    if (e->flags & INB_FLAG_ZSTD) {
        why = "zstd-compressed, which this runtime cannot read";
    }
    else if (inb_checksum32(e->data, e->size) != e->checksum) {
        why = "checksum mismatch";
    }
    else {
        if (a->checked != NULL && e->index < a->count) {
            __atomic_store_n(&a->checked[e->index], 1, __ATOMIC_RELAXED);
        }
        return 0;
    }
    return inb_fail(
        err, errsize,
        "entry %s:%.*s of the embedded archive is damaged (%s): "
        "this executable was damaged when it was written or copied; "
        "rebuild it or copy it again",
        inb_archive_ns_name(e->ns),
        (int)(e->name_len < MAX_QUOTED ? e->name_len : MAX_QUOTED), e->name,
        why);
}

/* Binary search: the first position whose key is not less than the given
 * one.  name may be NULL when len is 0. */
uint32_t
inb_archive_lower_bound(const inb_archive *a, int ns, const char *name,
                        size_t len)
{
    uint32_t lo = 0, hi = a->count, mid;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        if (reccmp(a, record(a, mid), ns, name, len) < 0) {
            lo = mid + 1;
        }
        else {
            hi = mid;
        }
    }
    return lo;
}

int
inb_archive_find(const inb_archive *a, int ns, const char *name, size_t len,
                 inb_entry *e)
{
    uint32_t i = inb_archive_lower_bound(a, ns, name, len);

    if (i == a->count || reccmp(a, record(a, i), ns, name, len) != 0) {
        return 0;
    }
    if (e != NULL) {
        inb_archive_entry(a, i, e);
    }
    return 1;
}

/* The writer. */

/* An entry added to a writer. */
struct wentry {
    unsigned char *name; /* owned, name_len bytes */
    size_t name_len;
    unsigned char *data; /* owned, size bytes; NULL when size is 0 */
    size_t size;
    int ns;
    int kind;
    unsigned flags;
    size_t name_off; /* set by layout() */
    size_t data_off; /* set by layout(); 0 when size is 0 */
};

struct inb_archive_writer {
    uint32_t py_magic;
    uint32_t py_version;
    struct wentry *entries; /* owned, capacity slots, count used */
    size_t count;
    size_t capacity;
};

inb_archive_writer *
inb_archive_writer_new(uint32_t py_magic, uint32_t py_version)
{
    inb_archive_writer *w = inb_malloc(sizeof *w);

    if (w == NULL) {
        return NULL;
    }
    w->py_magic = py_magic;
    w->py_version = py_version;
    w->entries = NULL;
    w->count = 0;
    w->capacity = 0;
    return w;
}

void
inb_archive_writer_free(inb_archive_writer *w)
{
    size_t i;

    if (w == NULL) {
        return;
    }
    for (i = 0; i < w->count; i++) {
        inb_free(w->entries[i].name);
        inb_free(w->entries[i].data);
    }
    inb_free(w->entries);
    inb_free(w);
}

/* Copy the entry into w.  Besides running out of memory, fails on what the
 * format cannot hold: an unknown namespace, kind or flag, an empty name or
 * one longer than a u32, more than 2^32-1 entries.  On failure w is as it
 * was. */
int
inb_archive_writer_add(inb_archive_writer *w, int ns, int kind, unsigned flags,
                       const char *name, size_t name_len, const void *data,
                       size_t size)
{
    struct wentry *v, *e;
    size_t capacity;

    if (ns < 0 || ns >= INB_NS_COUNT || kind < 0 || kind >= INB_KIND_COUNT ||
        (flags & ~KNOWN_FLAGS) != 0 || name == NULL || name_len == 0 ||
        name_len > UINT32_MAX || (data == NULL && size > 0) ||
        w->count >= UINT32_MAX) {
        return -1;
    }
    if (w->count == w->capacity) {
        capacity = w->capacity > 0 ? w->capacity * 2 : 16;
        if (capacity > SIZE_MAX / sizeof *v) {
            return -1;
        }
        v = inb_realloc(w->entries, capacity * sizeof *v);
        if (v == NULL) {
            return -1;
        }
        w->entries = v;
        w->capacity = capacity;
    }
    e = &w->entries[w->count];
    e->name = inb_malloc(name_len);
    if (e->name == NULL) {
        return -1;
    }
    memcpy(e->name, name, name_len);
    e->data = NULL;
    if (size > 0) {
        e->data = inb_malloc(size);
        if (e->data == NULL) {
            inb_free(e->name);
            return -1;
        }
        memcpy(e->data, data, size);
    }
    e->name_len = name_len;
    e->size = size;
    e->ns = ns;
    e->kind = kind;
    e->flags = flags;
    e->name_off = 0;
    e->data_off = 0;
    w->count++;
    return 0;
}

/* qsort() comparison of two struct wentry, in index order. */
static int
wentry_cmp(const void *x, const void *y)
{
    const struct wentry *a = x, *b = y;

    return keycmp(a->ns, a->name, a->name_len, b->ns, b->name, b->name_len);
}

/* *acc += n; returns -1 (leaving *acc alone) if the sum overflows. */
static int
addsize(size_t *acc, size_t n)
{
    if (n > SIZE_MAX - *acc) {
        return -1;
    }
    *acc += n;
    return 0;
}

/* Set the name and data offsets of w's sorted entries as described at the
 * top of this file, and the size of the whole archive in *total.  Returns
 * 0, or -1 with the reason in err when the archive would not fit the
 * format or the address space. */
static int
layout(inb_archive_writer *w, size_t *total, char *err, size_t errsize)
{
    size_t pos = INB_ARCHIVE_HEADER_SIZE, strings_size = 0, i, pad;
    struct wentry *e;

    if (w->count > (SIZE_MAX - pos) / INB_ARCHIVE_ENTRY_SIZE) {
        return inb_fail(err, errsize, "archive too large");
    }
    pos += w->count * INB_ARCHIVE_ENTRY_SIZE;
    for (i = 0; i < w->count; i++) {
        e = &w->entries[i];
        if (e->name_len > UINT32_MAX - strings_size) {
            return inb_fail(err, errsize, "string table too large");
        }
        e->name_off = strings_size;
        strings_size += e->name_len;
    }
    if (addsize(&pos, strings_size) < 0) {
        return inb_fail(err, errsize, "archive too large");
    }
    for (i = 0; i < w->count; i++) {
        e = &w->entries[i];
        if (e->size == 0) {
            continue;
        }
        pad =
            (INB_ARCHIVE_ALIGN - pos % INB_ARCHIVE_ALIGN) % INB_ARCHIVE_ALIGN;
        if (addsize(&pos, pad) < 0) {
            return inb_fail(err, errsize, "archive too large");
        }
        e->data_off = pos;
        if (addsize(&pos, e->size) < 0) {
            return inb_fail(err, errsize, "archive too large");
        }
    }
    *total = pos;
    return 0;
}

/* Sort, check and lay out the entries, then write the archive into a new
 * buffer.  The writer keeps its entries (sorted) and must still be freed
 * with inb_archive_writer_free(). */
int
inb_archive_writer_finish(inb_archive_writer *w, unsigned char **out,
                          size_t *outsize, char *err, size_t errsize)
{
    size_t total = 0, i, index_size, strings_off;
    unsigned char *buf, *r;
    struct wentry *e;

    *out = NULL;
    *outsize = 0;
    if (w->count > 1) {
        qsort(w->entries, w->count, sizeof *w->entries, wentry_cmp);
    }
    for (i = 1; i < w->count; i++) {
        e = &w->entries[i];
        if (wentry_cmp(e - 1, e) == 0) {
            return inb_fail(
                err, errsize, "duplicate entry %s:%.*s",
                inb_archive_ns_name(e->ns),
                (int)(e->name_len < MAX_QUOTED ? e->name_len : MAX_QUOTED),
                (const char *)e->name);
        }
    }
    if (layout(w, &total, err, errsize) < 0) {
        return -1;
    }
    buf = inb_malloc(total);
    if (buf == NULL) {
        return inb_fail(err, errsize, "out of memory");
    }
    memset(buf, 0, total);

    index_size = w->count * INB_ARCHIVE_ENTRY_SIZE;
    strings_off = INB_ARCHIVE_HEADER_SIZE + index_size;
    memcpy(buf + H_MAGIC, INB_ARCHIVE_MAGIC, sizeof INB_ARCHIVE_MAGIC - 1);
    inb_put32(buf + H_VERSION, INB_ARCHIVE_VERSION);
    inb_put32(buf + H_FLAGS, 0);
    inb_put32(buf + H_PY_MAGIC, w->py_magic);
    inb_put32(buf + H_PY_VERSION, w->py_version);
    inb_put32(buf + H_COUNT, (uint32_t)w->count);
    inb_put32(buf + H_ENTRY_SIZE, INB_ARCHIVE_ENTRY_SIZE);
    inb_put64(buf + H_INDEX, INB_ARCHIVE_HEADER_SIZE);
    inb_put64(buf + H_STRINGS, strings_off);
    inb_put64(buf + H_STRINGS_SIZE, w->count > 0
                                        ? w->entries[w->count - 1].name_off +
                                              w->entries[w->count - 1].name_len
                                        : 0);
    inb_put64(buf + H_SIZE, total);
    for (i = 0; i < w->count; i++) {
        e = &w->entries[i];
        r = buf + INB_ARCHIVE_HEADER_SIZE + i * INB_ARCHIVE_ENTRY_SIZE;
        inb_put32(r + E_NAME, (uint32_t)e->name_off);
        inb_put32(r + E_NAME_LEN, (uint32_t)e->name_len);
        r[E_NS] = (unsigned char)e->ns;
        r[E_KIND] = (unsigned char)e->kind;
        inb_put16(r + E_FLAGS, (uint16_t)e->flags);
        inb_put32(r + E_CHECKSUM, inb_checksum32(e->data, e->size));
        inb_put64(r + E_DATA, e->data_off);
        inb_put64(r + E_DATA_LEN, e->size);
        memcpy(buf + strings_off + e->name_off, e->name, e->name_len);
        if (e->size > 0) {
            memcpy(buf + e->data_off, e->data, e->size);
        }
    }
    inb_put64(buf + H_CHECKSUM,
              tables_checksum(buf, INB_ARCHIVE_HEADER_SIZE, index_size,
                              strings_off, inb_get64(buf + H_STRINGS_SIZE)));
    *out = buf;
    *outsize = total;
    return 0;
}
