/* archive.h: the inbuilt archive, the in-memory image of every module an
 * executable carries.  The byte layout is documented at the top of
 * archive.c and in docs/FORMAT.md.  The reader never trusts its input:
 * inb_archive_open() checks every offset and length once, so that the
 * lookups after it cannot read outside the buffer. */
#ifndef INB_ARCHIVE_H
#define INB_ARCHIVE_H

#include <stddef.h>
#include <stdint.h>

#include "inb.h"

#define INB_ARCHIVE_MAGIC "INBUILT\0" /* 8 bytes, NUL included */
#define INB_ARCHIVE_VERSION 2
#define INB_ARCHIVE_HEADER_SIZE 72
#define INB_ARCHIVE_ENTRY_SIZE 32
#define INB_ARCHIVE_ALIGN 16 /* every entry's data starts 16-aligned */

/* Namespaces: each keeps its own sorted names (an entry's key is
 * (namespace, name)). */
enum inb_ns {
    INB_NS_CONFIG = 0, /* build settings: "entry", "allow_filesystem" */
    INB_NS_MODULE = 1, /* importable modules, by full dotted name */
    INB_NS_SOURCE = 2, /* module source, by dotted name: u32 size, zlib */
    INB_NS_DATA = 3,   /* package data files, "pkg/sub/file" */
    INB_NS_SHLIB = 4,  /* shared libraries, by soname */
    INB_NS_META = 5,   /* distribution metadata, "X-1.0.dist-info/FILE" */
    INB_NS_COUNT
};

/* Format a one-line reason into err[0..errsize) (truncated if need be;
 * nothing is written when err is NULL or errsize is 0) and return -1: the
 * one place where every corrupt archive, record or seal, and every writer
 * failure, of src/common ends up. */
INB_HIDDEN int inb_fail(char *err, size_t errsize, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Entry kinds. */
enum inb_kind {
    INB_KIND_BLOB = 0,        /* raw bytes (config values, data files) */
    INB_KIND_MODULE = 1,      /* marshalled code object of a module */
    INB_KIND_PACKAGE = 2,     /* marshalled code object of a package */
    INB_KIND_NAMESPACE = 3,   /* namespace package (PEP 420), no data */
    INB_KIND_EXT_ABSENT = 4,  /* extension known but not built in; data is
                                 the reason, UTF-8 */
    INB_KIND_BUILTIN_EXT = 5, /* linked-in extension module; data is its
                                 index in inb_builtin_table, u32 */
    INB_KIND_SHARED_EXT = 6,  /* embedded .so extension: a shared-object
                                 record (src/runtime/memso.h) */
    INB_KIND_SHARED_DATA = 7, /* a package's plain shared library (one
                                 ctypes loads): a shared-object record */
    INB_KIND_COUNT
};

/* Entry flags. */
#define INB_FLAG_ZSTD 0x1u /* reserved: data is zstd-compressed */

/* A validated archive.  The buffer is borrowed: it must outlive this. */
typedef struct inb_archive {
    const unsigned char *base;
    size_t size;
    uint32_t version;
    uint32_t py_magic;          /* PyImport_GetMagicNumber() of the compiler */
    uint32_t py_version;        /* PY_VERSION_HEX of the compiler */
    uint32_t count;             /* number of entries */
    const unsigned char *index; /* count records of ENTRY_SIZE bytes */
    const unsigned char *strings; /* the name table */
    size_t strings_size;
    unsigned char *checked; /* count bytes, 1 for an entry that passed
                               inb_archive_data(), or NULL: see
                               inb_archive_set_memo() */
} inb_archive;

/* One entry; pointers borrow from the archive's buffer.  name is not
 * NUL-terminated. */
typedef struct inb_entry {
    const char *name;
    size_t name_len;
    int ns;
    int kind;
    unsigned flags;
    const unsigned char *data; /* unchecked: see inb_archive_data() */
    size_t size;
    uint32_t checksum; /* recorded inb_checksum32() of the data */
    uint32_t index;    /* position in the index */
} inb_entry;

/* Check buf[0..size) as an archive and fill *a.  Returns 0, or -1 with a
 * one-line reason written to err (e.g. "index truncated", "format version
 * 3, expected 2") and *a emptied (count 0).  Never reads outside the
 * buffer. */
INB_HIDDEN int inb_archive_open(inb_archive *a, const void *buf, size_t size,
                                char *err, size_t errsize);
/* Look up (ns, name[0..len)) in O(log n).  Returns 1 and fills *e (unless
 * e is NULL) when found, 0 when not. */
INB_HIDDEN int inb_archive_find(const inb_archive *a, int ns, const char *name,
                                size_t len, inb_entry *e);
/* Fill *e with the entry at index position i (0 <= i < count): entries are
 * ordered by namespace, then by name bytes. */
INB_HIDDEN void inb_archive_entry(const inb_archive *a, uint32_t i,
                                  inb_entry *e);
/* Index position of the first entry whose key is >= (ns, name[0..len)),
 * or count: with inb_archive_entry, iterates names with a given prefix. */
INB_HIDDEN uint32_t inb_archive_lower_bound(const inb_archive *a, int ns,
                                            const char *name, size_t len);

/* Check entry e before its data is used: refuse an entry flagged
 * INB_FLAG_ZSTD, and one whose data does not match its checksum (a
 * damaged executable).  Every user of entry data calls this (or a reader of
 * src/common/records.c, which does) first.  Returns 0, or -1 with the
 * whole message in err: "entry module:json of the embedded archive is
 * damaged (checksum mismatch): this executable was damaged when it was
 * written or copied; rebuild it or copy it again". */
INB_HIDDEN int inb_archive_data(const inb_archive *a, const inb_entry *e,
                                char *err, size_t errsize);
/* inb_archive_data() while passing the entry's data from offset from
 * (at most e->size) to sink(ctx, chunk, n), reading it from memory once:
 * for data that is copied anyway (a shared object's image into a memory
 * file).  What sink received is good only if this returns 0.  Returns 0;
 * -1 with the message in err (damaged, as inb_archive_data() says); or -2
 * when sink failed (err untouched, errno as sink left it). */
INB_HIDDEN int inb_archive_data_copy(
    const inb_archive *a, const inb_entry *e, size_t from,
    int (*sink)(void *ctx, const unsigned char *chunk, size_t n), void *ctx,
    char *err, size_t errsize);
/* Remember in memo (a->count zeroed bytes the caller owns and keeps for
 * the archive's life) which entries passed inb_archive_data(), so that
 * each is hashed once; without a memo every use hashes again. */
INB_HIDDEN void inb_archive_set_memo(inb_archive *a, unsigned char *memo);
/* The tables checksum that the header of the archive in buf[0..size)
 * should record, computed from its index and string table fields.  Returns
 * 0 and sets *sum, or -1 when those lie outside the buffer. */
INB_HIDDEN int inb_archive_tables_checksum(const void *buf, size_t size,
                                           uint64_t *sum);

/* An archive being written (opaque). */
typedef struct inb_archive_writer inb_archive_writer;

/* A new empty writer, or NULL when out of memory. */
INB_HIDDEN inb_archive_writer *inb_archive_writer_new(uint32_t py_magic,
                                                      uint32_t py_version);
/* Add an entry; name and data are copied.  Returns 0, or -1 when out of
 * memory or when ns/kind are out of range. */
INB_HIDDEN int inb_archive_writer_add(inb_archive_writer *w, int ns, int kind,
                                      unsigned flags, const char *name,
                                      size_t name_len, const void *data,
                                      size_t size);
/* Lay out the archive: sorts the entries and rejects duplicate keys.
 * Returns 0 with *out a buffer from inb_malloc() of *outsize bytes that the
 * caller frees with inb_free(), or -1 with a reason in err ("duplicate
 * entry module:json", "out of memory"). */
INB_HIDDEN int inb_archive_writer_finish(inb_archive_writer *w,
                                         unsigned char **out, size_t *outsize,
                                         char *err, size_t errsize);
/* Free the writer and everything it holds (NULL is allowed). */
INB_HIDDEN void inb_archive_writer_free(inb_archive_writer *w);

/* Name of a namespace or kind for messages ("module", "package"...). */
INB_HIDDEN const char *inb_archive_ns_name(int ns);
INB_HIDDEN const char *inb_archive_kind_name(int kind);

#endif
