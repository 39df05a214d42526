/* test_archive.c: unit tests of src/common/archive.c and alloc.c.
 *
 * Every test runs with a counting allocator installed (see setup() and
 * teardown()), so that a block left allocated through alloc.h fails the
 * test even without ASan.  Archives given to inb_archive_open() are copied
 * into libc blocks of exactly their size first, so that ASan catches any
 * read past the end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "alloc.h"
#include "archive.h"
#include "checksum.h"

#define HDR INB_ARCHIVE_HEADER_SIZE
#define ESZ INB_ARCHIVE_ENTRY_SIZE

/* Header and record field offsets, as documented in docs/FORMAT.md. */
enum {
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
    H_CHECKSUM = 64
};
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

#define PY_MAGIC 0x0a0d0da7u
#define PY_VERSION 0x030b04f0u

/* The test allocator: counts calls and live blocks, and fails call number
 * fail_at (1-based; 0 means never). */
static long alloc_calls;
static long live_blocks;
static long fail_at;

/* Whether open_copy() writes the tables checksum its copy's header should
 * have before opening it, so that a test of another check reaches that
 * check (1, the default), or opens the bytes as they are (0). */
static int reseal = 1;

static void *
test_alloc(void *ptr, size_t size)
{
    void *p;

    if (size == 0) {
        if (ptr != NULL) {
            live_blocks--;
        }
        free(ptr);
        return NULL;
    }
    alloc_calls++;
    if (fail_at > 0 && alloc_calls == fail_at) {
        return NULL;
    }
    p = realloc(ptr, size);
    if (p != NULL && ptr == NULL) {
        live_blocks++;
    }
    return p;
}

static int
setup(void **state)
{
    (void)state;
    alloc_calls = 0;
    live_blocks = 0;
    reseal = 1;
    fail_at = 0;
    inb_set_allocator(test_alloc);
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    inb_set_allocator(NULL);
    assert_int_equal(live_blocks, 0);
    return 0;
}

#define assert_contains(s, word)                                     \
    do {                                                             \
        if (strstr((s), (word)) == NULL) {                           \
            fail_msg("\"%s\" does not contain \"%s\"", (s), (word)); \
        }                                                            \
    } while (0)

static void
put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

static void
put64(unsigned char *p, uint64_t v)
{
    put32(p, (uint32_t)v);
    put32(p + 4, (uint32_t)(v >> 32));
}

static uint32_t
get32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static uint64_t
get64(const unsigned char *p)
{
    return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

/* A hand-picked archive with every namespace and kind, names chosen to
 * test prefixes ("a", "a.b", "ab"). */
struct sample_entry {
    int ns;
    int kind;
    unsigned flags;
    const char *name;
    const char *data;
};

static const struct sample_entry sample[] = {
    {INB_NS_MODULE, INB_KIND_PACKAGE, 0, "json", "<json code>"},
    {INB_NS_MODULE, INB_KIND_MODULE, 0, "json.scanner", "<scanner>"},
    {INB_NS_MODULE, INB_KIND_MODULE, 0, "a", "A"},
    {INB_NS_CONFIG, INB_KIND_BLOB, 0, "entry", "app:main"},
    {INB_NS_MODULE, INB_KIND_PACKAGE, 0, "a.b", "AB"},
    {INB_NS_MODULE, INB_KIND_NAMESPACE, 0, "ab", ""},
    {INB_NS_MODULE, INB_KIND_MODULE, 0, "json.decoder", "<decoder>"},
    {INB_NS_MODULE, INB_KIND_MODULE, 0, "json.encoder", "<encoder>"},
    {INB_NS_MODULE, INB_KIND_MODULE, 0, "jsonx", "<jsonx>"},
    {INB_NS_MODULE, INB_KIND_EXT_ABSENT, 0, "_ssl", "not built in"},
    {INB_NS_MODULE, INB_KIND_BUILTIN_EXT, 0, "_zz", ""},
    {INB_NS_CONFIG, INB_KIND_BLOB, 0, "allow_filesystem", "1"},
    {INB_NS_SOURCE, INB_KIND_BLOB, 0, "a", "x = 1\n"},
    {INB_NS_DATA, INB_KIND_BLOB, 0, "json/data.txt", "hello"},
    {INB_NS_SHLIB, INB_KIND_SHARED_EXT, INB_FLAG_ZSTD, "libfoo.so.1",
     "\x28\xb5\x2f\xfd"},
    {INB_NS_META, INB_KIND_BLOB, 0, "json-1.0.dist-info/METADATA", "Name"},
};
#define SAMPLE_COUNT (sizeof sample / sizeof sample[0])

/* The sample's keys in index order. */
static const struct {
    int ns;
    const char *name;
} sample_sorted[] = {
    {INB_NS_CONFIG, "allow_filesystem"},
    {INB_NS_CONFIG, "entry"},
    {INB_NS_MODULE, "_ssl"},
    {INB_NS_MODULE, "_zz"},
    {INB_NS_MODULE, "a"},
    {INB_NS_MODULE, "a.b"},
    {INB_NS_MODULE, "ab"},
    {INB_NS_MODULE, "json"},
    {INB_NS_MODULE, "json.decoder"},
    {INB_NS_MODULE, "json.encoder"},
    {INB_NS_MODULE, "json.scanner"},
    {INB_NS_MODULE, "jsonx"},
    {INB_NS_SOURCE, "a"},
    {INB_NS_DATA, "json/data.txt"},
    {INB_NS_SHLIB, "libfoo.so.1"},
    {INB_NS_META, "json-1.0.dist-info/METADATA"},
};

/* Index positions in the sample of some entries the tests corrupt. */
enum {
    S_A = 4,
    S_A_B = 5,
    S_AB = 6,
    S_JSON = 7,
    S_SOURCE_A = 12,
    S_META = 15
};

/* Generated entry i of a big archive: its name, namespace, kind, flags and
 * data (size i % 45, bytes derived from i). */
static void
gen_name(unsigned i, char *buf, size_t bufsize)
{
    snprintf(buf, bufsize, "pkg%u.mod%u", i % 17, i);
}

static int
gen_ns(unsigned i)
{
    return (int)(i % INB_NS_COUNT);
}

static int
gen_kind(unsigned i)
{
    return (int)(i / INB_NS_COUNT % INB_KIND_COUNT);
}

static unsigned
gen_flags(unsigned i)
{
    return i % 11 == 0 ? INB_FLAG_ZSTD : 0;
}

static size_t
gen_data(unsigned i, unsigned char *buf)
{
    size_t n = i % 45, j;

    for (j = 0; j < n; j++) {
        buf[j] = (unsigned char)(i * 31 + j);
    }
    return n;
}

/* Failure points of build(). */
enum { BUILD_OK = 0, BUILD_FINISH = -1, BUILD_NEW = -2, BUILD_ADD = -3 };

/* Build an archive of the sample followed by ngen generated entries, added
 * in an order that depends on stride, which must be coprime with the number
 * of entries (else some are added twice).  Returns a BUILD_* code; on
 * BUILD_FINISH err holds the writer's reason. */
static int
build(unsigned ngen, unsigned stride, unsigned char **out, size_t *size,
      char *err, size_t errsize)
{
    inb_archive_writer *w;
    unsigned total = (unsigned)SAMPLE_COUNT + ngen, k, i;
    unsigned char data[64];
    char name[64];
    size_t n;
    int rc = BUILD_OK;

    w = inb_archive_writer_new(PY_MAGIC, PY_VERSION);
    if (w == NULL) {
        return BUILD_NEW;
    }
    for (k = 0; k < total && rc == BUILD_OK; k++) {
        i = (unsigned)((unsigned long)k * stride % total);
        if (i < SAMPLE_COUNT) {
            if (inb_archive_writer_add(w, sample[i].ns, sample[i].kind,
                                       sample[i].flags, sample[i].name,
                                       strlen(sample[i].name), sample[i].data,
                                       strlen(sample[i].data)) < 0) {
                rc = BUILD_ADD;
            }
        }
        else {
            i -= (unsigned)SAMPLE_COUNT;
            gen_name(i, name, sizeof name);
            n = gen_data(i, data);
            if (inb_archive_writer_add(w, gen_ns(i), gen_kind(i), gen_flags(i),
                                       name, strlen(name), data, n) < 0) {
                rc = BUILD_ADD;
            }
        }
    }
    if (rc == BUILD_OK &&
        inb_archive_writer_finish(w, out, size, err, errsize) < 0) {
        rc = BUILD_FINISH;
    }
    inb_archive_writer_free(w);
    return rc;
}

/* The sample archive in a libc block of exactly *size bytes. */
static unsigned char *
sample_archive(size_t *size)
{
    unsigned char *buf, *copy;
    char err[200] = "";

    assert_int_equal(build(0, 7, &buf, size, err, sizeof err), BUILD_OK);
    copy = malloc(*size);
    assert_non_null(copy);
    memcpy(copy, buf, *size);
    inb_free(buf);
    return copy;
}

/* Open a copy of buf[0..size) in a block of exactly size bytes.  Returns
 * what inb_archive_open() returns; err gets its reason. */
static int
open_copy(const unsigned char *buf, size_t size, char *err, size_t errsize)
{
    unsigned char *copy = malloc(size > 0 ? size : 1);
    inb_archive a;
    uint64_t sum;
    int rc;

    assert_non_null(copy);
    if (size > 0) {
        memcpy(copy, buf, size);
    }
    if (reseal && inb_archive_tables_checksum(copy, size, &sum) == 0) {
        put64(copy + H_CHECKSUM, sum);
    }
    err[0] = '\0';
    rc = inb_archive_open(&a, copy, size, err, errsize);
    if (rc < 0) {
        assert_int_equal(a.count, 0);
    }
    free(copy);
    return rc;
}

/* Assert that buf[0..size) is rejected with a reason containing word. */
static void
expect_corrupt(const unsigned char *buf, size_t size, const char *word)
{
    char err[300];

    assert_int_equal(open_copy(buf, size, err, sizeof err), -1);
    assert_contains(err, word);
}

/* The record at index position i of an archive written by the writer. */
static unsigned char *
rec(unsigned char *buf, unsigned i)
{
    return buf + HDR + (size_t)i * ESZ;
}

static void
test_names(void **state)
{
    (void)state;
    assert_string_equal(inb_archive_ns_name(INB_NS_CONFIG), "config");
    assert_string_equal(inb_archive_ns_name(INB_NS_MODULE), "module");
    assert_string_equal(inb_archive_ns_name(INB_NS_SOURCE), "source");
    assert_string_equal(inb_archive_ns_name(INB_NS_DATA), "data");
    assert_string_equal(inb_archive_ns_name(INB_NS_SHLIB), "shlib");
    assert_string_equal(inb_archive_ns_name(INB_NS_META), "meta");
    assert_string_equal(inb_archive_ns_name(INB_NS_COUNT), "?");
    assert_string_equal(inb_archive_ns_name(-1), "?");
    assert_string_equal(inb_archive_kind_name(INB_KIND_BLOB), "blob");
    assert_string_equal(inb_archive_kind_name(INB_KIND_MODULE), "module");
    assert_string_equal(inb_archive_kind_name(INB_KIND_PACKAGE), "package");
    assert_string_equal(inb_archive_kind_name(INB_KIND_NAMESPACE),
                        "namespace");
    assert_string_equal(inb_archive_kind_name(INB_KIND_EXT_ABSENT),
                        "ext-absent");
    assert_string_equal(inb_archive_kind_name(INB_KIND_BUILTIN_EXT),
                        "builtin-ext");
    assert_string_equal(inb_archive_kind_name(INB_KIND_SHARED_EXT),
                        "shared-ext");
    assert_string_equal(inb_archive_kind_name(INB_KIND_COUNT), "?");
    assert_string_equal(inb_archive_kind_name(-1), "?");
}

static void
test_alloc_wrapper(void **state)
{
    unsigned char *p, *q;

    (void)state;
    /* A 0-byte request still yields a block, so NULL only means failure. */
    p = inb_malloc(0);
    assert_non_null(p);
    assert_int_equal(live_blocks, 1);
    q = inb_realloc(p, 100);
    assert_non_null(q);
    memset(q, 1, 100);
    p = inb_realloc(q, 0);
    assert_non_null(p);
    inb_free(p);
    inb_free(NULL);
    assert_int_equal(live_blocks, 0);

    /* A failed realloc leaves the block alone. */
    p = inb_malloc(8);
    assert_non_null(p);
    memcpy(p, "abcdefg", 8);
    fail_at = alloc_calls + 1;
    assert_null(inb_realloc(p, 1000));
    fail_at = 0;
    assert_string_equal((char *)p, "abcdefg");
    inb_free(p);
}

/* inb_set_allocator(NULL) restores the libc allocator. */
static void
test_alloc_default(void **state)
{
    void *p;

    (void)state;
    inb_set_allocator(NULL);
    p = inb_malloc(0);
    assert_non_null(p);
    inb_free(p);
    p = inb_realloc(NULL, 16);
    assert_non_null(p);
    inb_free(p);
    inb_set_allocator(test_alloc);
}

/* The sample: every entry is found with its data, in index order. */
static void
test_sample_round_trip(void **state)
{
    unsigned char *buf;
    size_t size, i, j;
    inb_archive a;
    inb_entry e, f;
    char err[200];

    (void)state;
    buf = sample_archive(&size);
    assert_int_equal(inb_archive_open(&a, buf, size, err, sizeof err), 0);
    assert_int_equal(a.count, SAMPLE_COUNT);
    assert_int_equal(a.version, INB_ARCHIVE_VERSION);
    assert_int_equal(a.py_magic, PY_MAGIC);
    assert_int_equal(a.py_version, PY_VERSION);
    assert_ptr_equal(a.base, buf);
    assert_int_equal(a.size, size);
    assert_ptr_equal(a.index, buf + HDR);
    for (i = 0; i < SAMPLE_COUNT; i++) {
        inb_archive_entry(&a, (uint32_t)i, &e);
        assert_int_equal(e.ns, sample_sorted[i].ns);
        assert_int_equal(e.name_len, strlen(sample_sorted[i].name));
        assert_memory_equal(e.name, sample_sorted[i].name, e.name_len);
        for (j = 0; j < SAMPLE_COUNT; j++) {
            if (sample[j].ns == e.ns && strlen(sample[j].name) == e.name_len &&
                memcmp(sample[j].name, e.name, e.name_len) == 0) {
                break;
            }
        }
        assert_true(j < SAMPLE_COUNT);
        assert_int_equal(e.kind, sample[j].kind);
        assert_int_equal(e.flags, sample[j].flags);
        assert_int_equal(e.size, strlen(sample[j].data));
        if (e.size > 0) {
            assert_memory_equal(e.data, sample[j].data, e.size);
            assert_int_equal((e.data - buf) % INB_ARCHIVE_ALIGN, 0);
        }
        assert_int_equal(inb_archive_find(&a, e.ns, e.name, e.name_len, &f),
                         1);
        assert_ptr_equal(f.name, e.name);
        assert_ptr_equal(f.data, e.data);
        assert_int_equal(f.size, e.size);
        assert_int_equal(f.kind, e.kind);
    }
    /* The layout the writer promises. */
    assert_int_equal(get64(buf + H_INDEX), HDR);
    assert_int_equal(get64(buf + H_STRINGS), HDR + SAMPLE_COUNT * ESZ);
    assert_int_equal(get64(buf + H_SIZE), size);
    assert_int_equal(get32(rec(buf, S_AB) + E_DATA), 0); /* "ab": no data */
    assert_int_equal(get32(rec(buf, S_AB) + E_DATA_LEN), 0);
    free(buf);
}

/* Many generated entries across every namespace and kind, added in two
 * different orders: the same bytes come out, and everything reads back. */
static void
test_round_trip_many(void **state)
{
    const unsigned ngen = 3000;
    unsigned char *buf, *buf2, data[64];
    const unsigned char *prev_name = NULL;
    size_t size, size2, prev_len = 0, n, strings_end;
    int prev_ns = -1, c;
    unsigned i, seen[INB_NS_COUNT][INB_KIND_COUNT] = {{0}}, idx, mod;
    uint32_t k;
    inb_archive a;
    inb_entry e, f;
    char err[200], name[64];

    (void)state;
    assert_int_equal(build(ngen, 7, &buf, &size, err, sizeof err), BUILD_OK);
    assert_int_equal(build(ngen, 1, &buf2, &size2, err, sizeof err), BUILD_OK);
    assert_int_equal(size, size2);
    assert_memory_equal(buf, buf2, size);
    inb_free(buf2);

    assert_int_equal(inb_archive_open(&a, buf, size, err, sizeof err), 0);
    assert_int_equal(a.count, SAMPLE_COUNT + ngen);
    strings_end = HDR + (size_t)a.count * ESZ + a.strings_size;
    for (k = 0; k < a.count; k++) {
        inb_archive_entry(&a, k, &e);
        /* Strictly increasing keys. */
        if (prev_name != NULL) {
            assert_true(e.ns >= prev_ns);
            if (e.ns == prev_ns) {
                n = e.name_len < prev_len ? e.name_len : prev_len;
                c = memcmp(prev_name, e.name, n);
                assert_true(c < 0 || (c == 0 && prev_len < e.name_len));
            }
        }
        prev_ns = e.ns;
        prev_name = (const unsigned char *)e.name;
        prev_len = e.name_len;
        seen[e.ns][e.kind]++;

        assert_int_equal(inb_archive_find(&a, e.ns, e.name, e.name_len, &f),
                         1);
        assert_ptr_equal(f.data, e.data);
        assert_int_equal(inb_archive_lower_bound(&a, e.ns, e.name, e.name_len),
                         k);
        if (e.size > 0) {
            assert_int_equal((e.data - buf) % INB_ARCHIVE_ALIGN, 0);
            assert_true((size_t)(e.data - buf) >= strings_end);
            assert_true((size_t)(e.data - buf) + e.size <= size);
        }
        if (e.name_len < 4 || memcmp(e.name, "pkg", 3) != 0) {
            continue; /* a sample entry */
        }
        assert_true(e.name_len < sizeof name);
        memcpy(name, e.name, e.name_len);
        name[e.name_len] = '\0';
        assert_int_equal(sscanf(name, "pkg%u.mod%u", &mod, &idx), 2);
        assert_int_equal(mod, idx % 17);
        assert_int_equal(e.ns, gen_ns(idx));
        assert_int_equal(e.kind, gen_kind(idx));
        assert_int_equal(e.flags, gen_flags(idx));
        n = gen_data(idx, data);
        assert_int_equal(e.size, n);
        if (n > 0) {
            assert_memory_equal(e.data, data, n);
        }
    }
    for (i = 0; i < INB_NS_COUNT * INB_KIND_COUNT; i++) {
        assert_true(seen[i / INB_KIND_COUNT][i % INB_KIND_COUNT] > 0);
    }
    /* The exact layout: after the strings, each non-empty blob in index
     * order at the next multiple of 16, zero bytes in between, and the
     * archive ends with the last blob. */
    n = strings_end;
    for (k = 0; k < a.count; k++) {
        inb_archive_entry(&a, k, &e);
        if (e.size == 0) {
            assert_ptr_equal(e.data, buf); /* offset 0 */
            continue;
        }
        for (; n % INB_ARCHIVE_ALIGN != 0; n++) {
            assert_int_equal(buf[n], 0);
        }
        assert_ptr_equal(e.data, buf + n);
        n += e.size;
    }
    assert_int_equal(n, size);
    inb_free(buf);
}

/* Lookups that hit and miss, around names that are prefixes of others. */
static void
test_find(void **state)
{
    unsigned char *buf;
    size_t size;
    inb_archive a;
    inb_entry e;
    char err[200];

    (void)state;
    buf = sample_archive(&size);
    assert_int_equal(inb_archive_open(&a, buf, size, err, sizeof err), 0);

    assert_int_equal(inb_archive_find(&a, INB_NS_MODULE, "a", 1, &e), 1);
    assert_int_equal(e.kind, INB_KIND_MODULE);
    assert_memory_equal(e.data, "A", 1);
    assert_int_equal(inb_archive_find(&a, INB_NS_MODULE, "a.b", 3, &e), 1);
    assert_int_equal(e.kind, INB_KIND_PACKAGE);
    assert_memory_equal(e.data, "AB", 2);
    assert_int_equal(inb_archive_find(&a, INB_NS_MODULE, "ab", 2, &e), 1);
    assert_int_equal(e.kind, INB_KIND_NAMESPACE);
    assert_int_equal(e.size, 0);
    assert_int_equal(inb_archive_find(&a, INB_NS_SOURCE, "a", 1, &e), 1);
    assert_memory_equal(e.data, "x = 1\n", 6);
    assert_int_equal(inb_archive_find(&a, INB_NS_CONFIG, "entry", 5, &e), 1);
    assert_memory_equal(e.data, "app:main", 8);
    assert_int_equal(inb_archive_find(&a, INB_NS_META,
                                      "json-1.0.dist-info/METADATA", 27, &e),
                     1);
    /* name need not be NUL-terminated: only len bytes count. */
    assert_int_equal(inb_archive_find(&a, INB_NS_MODULE, "jsonxyz", 4, &e), 1);
    assert_int_equal(e.name_len, 4);
    assert_int_equal(inb_archive_find(&a, INB_NS_MODULE, "a", 1, NULL), 1);

    assert_int_equal(inb_archive_find(&a, INB_NS_MODULE, "a.", 2, &e), 0);
    assert_int_equal(inb_archive_find(&a, INB_NS_MODULE, "a.b.c", 5, &e), 0);
    assert_int_equal(inb_archive_find(&a, INB_NS_MODULE, "aa", 2, &e), 0);
    assert_int_equal(inb_archive_find(&a, INB_NS_MODULE, "abc", 3, &e), 0);
    assert_int_equal(inb_archive_find(&a, INB_NS_MODULE, "A", 1, &e), 0);
    assert_int_equal(inb_archive_find(&a, INB_NS_MODULE, "json.", 5, &e), 0);
    assert_int_equal(inb_archive_find(&a, INB_NS_MODULE, "", 0, &e), 0);
    assert_int_equal(inb_archive_find(&a, INB_NS_MODULE, NULL, 0, &e), 0);
    assert_int_equal(inb_archive_find(&a, INB_NS_MODULE, "\xff", 1, &e), 0);
    assert_int_equal(inb_archive_find(&a, INB_NS_MODULE, "\0", 1, &e), 0);
    assert_int_equal(inb_archive_find(&a, INB_NS_MODULE, "entry", 5, &e), 0);
    assert_int_equal(inb_archive_find(&a, INB_NS_CONFIG, "a", 1, &e), 0);
    assert_int_equal(inb_archive_find(&a, INB_NS_DATA, "a", 1, &e), 0);
    assert_int_equal(inb_archive_find(&a, -1, "a", 1, &e), 0);
    assert_int_equal(inb_archive_find(&a, INB_NS_COUNT, "a", 1, &e), 0);
    assert_int_equal(inb_archive_find(&a, 1000, "a", 1, &e), 0);
    free(buf);
}

/* Iterating the names with a prefix, as a package's submodules. */
static void
test_lower_bound(void **state)
{
    static const char *const want[] = {"json.decoder", "json.encoder",
                                       "json.scanner"};
    unsigned char *buf;
    size_t size, n = 0;
    uint32_t i;
    inb_archive a;
    inb_entry e;
    char err[200];

    (void)state;
    buf = sample_archive(&size);
    assert_int_equal(inb_archive_open(&a, buf, size, err, sizeof err), 0);

    for (i = inb_archive_lower_bound(&a, INB_NS_MODULE, "json.", 5);
         i < a.count; i++) {
        inb_archive_entry(&a, i, &e);
        if (e.ns != INB_NS_MODULE || e.name_len < 5 ||
            memcmp(e.name, "json.", 5) != 0) {
            break;
        }
        assert_true(n < 3);
        assert_int_equal(e.name_len, strlen(want[n]));
        assert_memory_equal(e.name, want[n], e.name_len);
        n++;
    }
    assert_int_equal(n, 3);

    /* An empty name finds the first entry of a namespace. */
    assert_int_equal(inb_archive_lower_bound(&a, INB_NS_CONFIG, "", 0), 0);
    assert_int_equal(inb_archive_lower_bound(&a, INB_NS_MODULE, NULL, 0), 2);
    assert_int_equal(inb_archive_lower_bound(&a, INB_NS_SOURCE, "", 0),
                     S_SOURCE_A);
    assert_int_equal(inb_archive_lower_bound(&a, INB_NS_MODULE, "a", 1), S_A);
    assert_int_equal(inb_archive_lower_bound(&a, INB_NS_MODULE, "a.", 2),
                     S_A_B);
    assert_int_equal(inb_archive_lower_bound(&a, INB_NS_MODULE, "a.c", 3),
                     S_AB);
    assert_int_equal(inb_archive_lower_bound(&a, INB_NS_MODULE, "json", 4),
                     S_JSON);
    assert_int_equal(inb_archive_lower_bound(&a, INB_NS_MODULE, "zzz", 3),
                     S_SOURCE_A);
    assert_int_equal(inb_archive_lower_bound(&a, -5, "zzz", 3), 0);
    assert_int_equal(inb_archive_lower_bound(&a, INB_NS_META, "zzz", 3),
                     a.count);
    assert_int_equal(inb_archive_lower_bound(&a, INB_NS_COUNT, "", 0),
                     a.count);
    free(buf);
}

/* An archive without entries is valid and finds nothing. */
static void
test_empty_archive(void **state)
{
    inb_archive_writer *w;
    unsigned char *buf;
    size_t size;
    inb_archive a;
    inb_entry e;
    char err[200];

    (void)state;
    w = inb_archive_writer_new(1, 2);
    assert_non_null(w);
    assert_int_equal(
        inb_archive_writer_finish(w, &buf, &size, err, sizeof err), 0);
    inb_archive_writer_free(w);
    assert_int_equal(size, HDR);
    assert_memory_equal(buf, "INBUILT\0", 8);
    assert_int_equal(open_copy(buf, size, err, sizeof err), 0);
    assert_int_equal(inb_archive_open(&a, buf, size, err, sizeof err), 0);
    assert_int_equal(a.count, 0);
    assert_int_equal(a.py_magic, 1);
    assert_int_equal(a.py_version, 2);
    assert_int_equal(inb_archive_find(&a, INB_NS_MODULE, "a", 1, &e), 0);
    assert_int_equal(inb_archive_lower_bound(&a, INB_NS_MODULE, "a", 1), 0);
    inb_free(buf);
    inb_archive_writer_free(NULL);
}

/* The same key twice is refused; the same name in two namespaces is not. */
static void
test_duplicate(void **state)
{
    inb_archive_writer *w;
    unsigned char *buf = (unsigned char *)"x";
    size_t size = 99;
    char err[200] = "";

    (void)state;
    w = inb_archive_writer_new(PY_MAGIC, PY_VERSION);
    assert_non_null(w);
    assert_int_equal(inb_archive_writer_add(w, INB_NS_MODULE, INB_KIND_MODULE,
                                            0, "json", 4, "1", 1),
                     0);
    assert_int_equal(inb_archive_writer_add(w, INB_NS_SOURCE, INB_KIND_BLOB, 0,
                                            "json", 4, "2", 1),
                     0);
    assert_int_equal(inb_archive_writer_add(w, INB_NS_MODULE, INB_KIND_MODULE,
                                            0, "json.x", 6, "3", 1),
                     0);
    assert_int_equal(
        inb_archive_writer_finish(w, &buf, &size, err, sizeof err), 0);
    inb_free(buf);
    assert_int_equal(inb_archive_writer_add(w, INB_NS_MODULE, INB_KIND_PACKAGE,
                                            0, "json", 4, NULL, 0),
                     0);
    assert_int_equal(
        inb_archive_writer_finish(w, &buf, &size, err, sizeof err), -1);
    assert_string_equal(err, "duplicate entry module:json");
    assert_null(buf);
    assert_int_equal(size, 0);
    inb_archive_writer_free(w);
}

/* What the format cannot hold is refused by inb_archive_writer_add(). */
static void
test_writer_add_rejects(void **state)
{
    inb_archive_writer *w;
    unsigned char *buf;
    size_t size;
    inb_archive a;
    char err[200];

    (void)state;
    w = inb_archive_writer_new(PY_MAGIC, PY_VERSION);
    assert_non_null(w);
    assert_int_equal(inb_archive_writer_add(w, -1, 0, 0, "a", 1, NULL, 0), -1);
    assert_int_equal(
        inb_archive_writer_add(w, INB_NS_COUNT, 0, 0, "a", 1, NULL, 0), -1);
    assert_int_equal(inb_archive_writer_add(w, 0, -1, 0, "a", 1, NULL, 0), -1);
    assert_int_equal(
        inb_archive_writer_add(w, 0, INB_KIND_COUNT, 0, "a", 1, NULL, 0), -1);
    assert_int_equal(inb_archive_writer_add(w, 0, 0, 0x2, "a", 1, NULL, 0),
                     -1);
    assert_int_equal(inb_archive_writer_add(w, 0, 0, 0, "a", 0, NULL, 0), -1);
    assert_int_equal(inb_archive_writer_add(w, 0, 0, 0, NULL, 1, NULL, 0), -1);
    assert_int_equal(inb_archive_writer_add(w, 0, 0, 0, "a", 1, NULL, 5), -1);
    /* None of them went in. */
    assert_int_equal(
        inb_archive_writer_finish(w, &buf, &size, err, sizeof err), 0);
    assert_int_equal(size, HDR);
    assert_int_equal(inb_archive_open(&a, buf, size, err, sizeof err), 0);
    assert_int_equal(a.count, 0);
    inb_free(buf);
    inb_archive_writer_free(w);
}

/* Make allocation 1, 2, ... fail in turn until the whole build succeeds:
 * each failure is reported, and nothing leaks. */
static void
test_writer_out_of_memory(void **state)
{
    unsigned char *buf, *want;
    size_t size, want_size;
    long k, calls_ok;
    int rc, seen_finish = 0, seen_add = 0;
    char err[200];

    (void)state;
    /* 40 generated entries: the entry array grows from 16 to 32 to 64. */
    assert_int_equal(build(40, 5, &want, &want_size, err, sizeof err),
                     BUILD_OK);
    calls_ok = alloc_calls;
    for (k = 1;; k++) {
        alloc_calls = 0;
        fail_at = k;
        strcpy(err, "unset");
        buf = NULL;
        rc = build(40, 5, &buf, &size, err, sizeof err);
        fail_at = 0;
        if (rc == BUILD_OK) {
            break;
        }
        assert_true(alloc_calls >= k);
        assert_null(buf);
        assert_int_equal(live_blocks, 1); /* want only */
        if (k == 1) {
            assert_int_equal(rc, BUILD_NEW);
        }
        else if (rc == BUILD_ADD) {
            seen_add = 1;
        }
        else {
            assert_int_equal(rc, BUILD_FINISH);
            assert_string_equal(err, "out of memory");
            seen_finish = 1;
        }
    }
    assert_true(seen_add);
    assert_true(seen_finish);
    assert_int_equal(k, calls_ok + 1); /* every allocation failed once */
    assert_int_equal(size, want_size);
    assert_memory_equal(buf, want, size);
    inb_free(buf);
    inb_free(want);
}

/* Cut the archive at every length: each is refused with a reason, both as
 * is and with archive_size patched to the cut length. */
static void
test_truncated(void **state)
{
    unsigned char *buf;
    size_t size, len;
    char err[300];

    (void)state;
    buf = sample_archive(&size);
    assert_int_equal(open_copy(buf, size, err, sizeof err), 0);
    for (len = 0; len < size; len++) {
        assert_int_equal(open_copy(buf, len, err, sizeof err), -1);
        if (len >= 8) {
            assert_contains(err, "archive truncated");
        }
        if (len >= HDR) {
            put64(buf + H_SIZE, len);
            assert_int_equal(open_copy(buf, len, err, sizeof err), -1);
            assert_true(err[0] != '\0');
            put64(buf + H_SIZE, size);
        }
    }
    expect_corrupt(buf, 0, "archive truncated: 0 bytes");
    expect_corrupt(buf, 63, "archive truncated: 63 bytes");
    expect_corrupt(buf, 71,
                   "archive truncated: 71 bytes, the header alone "
                   "needs 72");
    expect_corrupt(buf, 72, "archive truncated: header says");
    /* The last blob ends the archive, so cutting it shows. */
    put64(buf + H_SIZE, size - 1);
    expect_corrupt(buf, size - 1, "beyond end of archive");
    free(buf);
}

/* Each header field set to a bad value. */
static void
test_header_fields(void **state)
{
    unsigned char *buf, *big;
    size_t size;
    char err[300];
    inb_archive a;
    uint64_t sum;
    int i;

    (void)state;
    buf = sample_archive(&size);
    for (i = 0; i < 8; i++) {
        buf[i] ^= 0x20;
        expect_corrupt(buf, size, "not an inbuilt archive (bad magic)");
        expect_corrupt(buf, 8, "bad magic");
        buf[i] ^= 0x20;
    }
    expect_corrupt((const unsigned char *)"ELF", 3, "archive truncated");

    put32(buf + H_VERSION, 3);
    expect_corrupt(buf, size, "format version 3, expected 2");
    put32(buf + H_VERSION, 1);
    expect_corrupt(buf, size, "format version 1, expected 2");
    put32(buf + H_VERSION, 0);
    expect_corrupt(buf, size, "format version 0, expected 2");
    put32(buf + H_VERSION, 2);

    put32(buf + H_FLAGS, 0x80000000u);
    expect_corrupt(buf, size, "unknown header flags 0x80000000");
    put32(buf + H_FLAGS, 0);

    put32(buf + H_ENTRY_SIZE, 16);
    expect_corrupt(buf, size, "index entry size 16, expected 32");
    put32(buf + H_ENTRY_SIZE, 33);
    expect_corrupt(buf, size, "index entry size 33, expected 32");
    put32(buf + H_ENTRY_SIZE, ESZ);

    put64(buf + H_SIZE, size + 1);
    expect_corrupt(buf, size, "archive truncated: header says");
    put64(buf + H_SIZE, UINT64_MAX);
    expect_corrupt(buf, size, "archive truncated");
    put64(buf + H_SIZE, size - 1);
    expect_corrupt(buf, size, "trailing bytes");
    put64(buf + H_SIZE, 0);
    expect_corrupt(buf, size, "trailing bytes");
    put64(buf + H_SIZE, size);

    /* A bigger buffer is trailing bytes even when they are zero. */
    big = calloc(1, size + 16);
    assert_non_null(big);
    memcpy(big, buf, size);
    expect_corrupt(big, size + 1, "trailing bytes");
    expect_corrupt(big, size + 16, "trailing bytes");
    free(big);

    /* py_magic and py_version are for the runtime to judge. */
    put32(buf + H_PY_MAGIC, 0xdeadbeefu);
    put32(buf + H_PY_VERSION, 0x01020304u);
    assert_int_equal(inb_archive_tables_checksum(buf, size, &sum), 0);
    put64(buf + H_CHECKSUM, sum);
    assert_int_equal(inb_archive_open(&a, buf, size, err, sizeof err), 0);
    assert_int_equal(a.py_magic, 0xdeadbeefu);
    assert_int_equal(a.py_version, 0x01020304u);

    assert_int_equal(open_copy(buf, size, err, sizeof err), 0);
    assert_int_equal(inb_archive_open(&a, NULL, 0, err, sizeof err), -1);
    assert_contains(err, "archive truncated: 0 bytes");
    assert_int_equal(inb_archive_open(&a, NULL, 100, err, sizeof err), -1);
    free(buf);
}

/* Flip every bit of the header in turn: each is caught, by the field's
 * own check or by the tables checksum. */
static void
test_header_bit_flips(void **state)
{
    unsigned char *buf;
    size_t size;
    char err[300];
    int bit, byte, rc;

    (void)state;
    buf = sample_archive(&size);
    reseal = 0;
    for (bit = 0; bit < HDR * 8; bit++) {
        byte = bit / 8;
        buf[byte] ^= (unsigned char)(1u << bit % 8);
        rc = open_copy(buf, size, err, sizeof err);
        assert_int_equal(rc, -1);
        assert_true(err[0] != '\0');
        if (byte >= H_PY_MAGIC && byte < H_COUNT) {
            assert_contains(err, "checksum mismatch in the header");
        }
        buf[byte] ^= (unsigned char)(1u << bit % 8);
    }
    assert_int_equal(open_copy(buf, size, err, sizeof err), 0);
    free(buf);
}

/* Index and string table out of range or overlapping. */
static void
test_tables_out_of_range(void **state)
{
    unsigned char *buf;
    size_t size;
    char want[200];

    (void)state;
    buf = sample_archive(&size);

    put32(buf + H_COUNT, 40);
    snprintf(want, sizeof want,
             "index truncated: 40 entries need 1280 bytes at offset 72, "
             "archive has %zu",
             size);
    expect_corrupt(buf, size, want);
    put32(buf + H_COUNT, UINT32_MAX);
    expect_corrupt(buf, size, "index truncated: 4294967295 entries");
    put32(buf + H_COUNT, SAMPLE_COUNT);

    put64(buf + H_INDEX, 0);
    expect_corrupt(buf, size, "index at offset 0 overlaps the header");
    put64(buf + H_INDEX, 71);
    expect_corrupt(buf, size, "index at offset 71 overlaps the header");
    put64(buf + H_INDEX, size);
    expect_corrupt(buf, size, "index truncated");
    put64(buf + H_INDEX, UINT64_MAX - 15);
    expect_corrupt(buf, size, "index truncated");
    put64(buf + H_INDEX, size - ESZ * SAMPLE_COUNT + 1);
    expect_corrupt(buf, size, "index truncated");
    /* Index moved onto the string table. */
    put64(buf + H_INDEX, HDR + 16);
    expect_corrupt(buf, size, "index and string table overlap");
    put64(buf + H_INDEX, HDR);

    put64(buf + H_STRINGS, 8);
    expect_corrupt(buf, size, "string table at offset 8 overlaps the header");
    put64(buf + H_STRINGS, HDR);
    expect_corrupt(buf, size, "index and string table overlap");
    put64(buf + H_STRINGS, size + 1);
    expect_corrupt(buf, size, "string table truncated");
    put64(buf + H_STRINGS, UINT64_MAX);
    expect_corrupt(buf, size, "string table truncated");
    put64(buf + H_STRINGS, HDR + ESZ * SAMPLE_COUNT);

    put64(buf + H_STRINGS_SIZE, size);
    expect_corrupt(buf, size, "string table truncated");
    put64(buf + H_STRINGS_SIZE, UINT64_MAX);
    expect_corrupt(buf, size, "string table truncated");
    /* A string table too short for the names. */
    put64(buf + H_STRINGS_SIZE, 10);
    expect_corrupt(buf, size, "name outside the string table");
    free(buf);
}

/* Names outside the string table or empty. */
static void
test_bad_names(void **state)
{
    unsigned char *buf, *r;
    size_t size;
    uint64_t strings_size;

    (void)state;
    buf = sample_archive(&size);
    strings_size = get64(buf + H_STRINGS_SIZE);
    r = rec(buf, S_JSON);

    put32(r + E_NAME, (uint32_t)strings_size);
    expect_corrupt(buf, size, "entry 7: name outside the string table");
    put32(r + E_NAME, (uint32_t)strings_size - 3);
    put32(r + E_NAME_LEN, 4);
    expect_corrupt(buf, size, "entry 7: name outside the string table");
    put32(r + E_NAME, UINT32_MAX);
    put32(r + E_NAME_LEN, UINT32_MAX);
    expect_corrupt(buf, size, "entry 7: name outside the string table");
    /* Sums that wrap around 2^32. */
    put32(r + E_NAME, UINT32_MAX);
    put32(r + E_NAME_LEN, 2);
    expect_corrupt(buf, size, "entry 7: name outside the string table");
    put32(r + E_NAME, 2);
    put32(r + E_NAME_LEN, UINT32_MAX);
    expect_corrupt(buf, size, "entry 7: name outside the string table");
    put32(r + E_NAME, 0);
    put32(r + E_NAME_LEN, UINT32_MAX);
    expect_corrupt(buf, size, "entry 7: name outside the string table");
    put32(r + E_NAME_LEN, 0);
    expect_corrupt(buf, size, "entry 7: empty name");
    free(buf);
}

/* Data ranges: overflow, out of the archive, misaligned, in the header. */
static void
test_bad_data(void **state)
{
    unsigned char *buf, *r;
    size_t size;
    char err[300], want[200];
    uint64_t off;

    (void)state;
    buf = sample_archive(&size);
    r = rec(buf, S_JSON);
    off = get64(r + E_DATA);

    /* Offset + length wraps around 2^64. */
    put64(r + E_DATA_LEN, UINT64_MAX - off + 1);
    snprintf(want, sizeof want,
             "entry 7: data offset 0x%llx + length %llu beyond end of "
             "archive",
             (unsigned long long)off,
             (unsigned long long)(UINT64_MAX - off + 1));
    expect_corrupt(buf, size, want);
    put64(r + E_DATA_LEN, UINT64_MAX);
    expect_corrupt(buf, size, "beyond end of archive");
    put64(r + E_DATA, UINT64_MAX - 15);
    put64(r + E_DATA_LEN, 32);
    expect_corrupt(buf, size,
                   "entry 7: data offset 0xfffffffffffffff0 + length 32");
    put64(r + E_DATA, (size + 15) / 16 * 16);
    put64(r + E_DATA_LEN, 1);
    expect_corrupt(buf, size, "beyond end of archive");
    put64(r + E_DATA, off);
    put64(r + E_DATA_LEN, size - off + 1);
    expect_corrupt(buf, size, "beyond end of archive");
    put64(r + E_DATA_LEN, size - off);
    assert_int_equal(open_copy(buf, size, err, sizeof err), 0);

    put64(r + E_DATA, off + 1);
    snprintf(want, sizeof want,
             "entry 7: data offset 0x%llx is not 16-aligned",
             (unsigned long long)off + 1);
    expect_corrupt(buf, size, want);
    put64(r + E_DATA, off + 8);
    expect_corrupt(buf, size, "not 16-aligned");

    put64(r + E_DATA, 0);
    expect_corrupt(buf, size, "entry 7: data offset 0x0 is inside the header");
    put64(r + E_DATA, 48);
    expect_corrupt(buf, size,
                   "entry 7: data offset 0x30 is inside the header");
    /* Without data, offset 0 is the norm, and any aligned offset up to the
     * end is harmless. */
    put64(r + E_DATA_LEN, 0);
    assert_int_equal(open_copy(buf, size, err, sizeof err), 0);
    put64(r + E_DATA, size / 16 * 16);
    assert_int_equal(open_copy(buf, size, err, sizeof err), 0);
    put64(r + E_DATA, (size / 16 + 1) * 16);
    expect_corrupt(buf, size, "beyond end of archive");
    free(buf);
}

/* Unknown namespace, kind or flag; a changed entry checksum. */
static void
test_bad_fields(void **state)
{
    unsigned char *buf, *r;
    size_t size;
    char err[300];

    (void)state;
    buf = sample_archive(&size);
    r = rec(buf, S_META);

    r[E_NS] = INB_NS_COUNT;
    expect_corrupt(buf, size, "entry 15: unknown namespace 6");
    r[E_NS] = 0xff;
    expect_corrupt(buf, size, "entry 15: unknown namespace 255");
    r[E_NS] = INB_NS_META;

    r[E_KIND] = INB_KIND_COUNT;
    expect_corrupt(buf, size, "entry 15: unknown kind 8");
    r[E_KIND] = 0x80;
    expect_corrupt(buf, size, "entry 15: unknown kind 128");
    r[E_KIND] = INB_KIND_BLOB;

    r[E_FLAGS] = 0x2;
    expect_corrupt(buf, size, "entry 15: unknown flags 0x2");
    r[E_FLAGS] = 0;
    r[E_FLAGS + 1] = 0x80;
    expect_corrupt(buf, size, "entry 15: unknown flags 0x8000");
    r[E_FLAGS + 1] = 0;
    r[E_FLAGS] = INB_FLAG_ZSTD; /* reserved, but a known bit */
    assert_int_equal(open_copy(buf, size, err, sizeof err), 0);
    r[E_FLAGS] = 0;

    /* The entry's checksum is checked when its data is used, not at
     * open. */
    r[E_CHECKSUM + 3] ^= 1;
    assert_int_equal(open_copy(buf, size, err, sizeof err), 0);
    r[E_CHECKSUM + 3] ^= 1;

    /* A bad first entry is named as entry 0. */
    rec(buf, 0)[E_KIND] = 9;
    expect_corrupt(buf, size, "entry 0: unknown kind 9");
    rec(buf, 0)[E_KIND] = INB_KIND_BLOB;
    assert_int_equal(open_copy(buf, size, err, sizeof err), 0);
    free(buf);
}

/* Records out of order or with the same key, in a hand-made index. */
static void
test_bad_order(void **state)
{
    unsigned char *buf, tmp[ESZ];
    size_t size;
    char err[300];

    (void)state;
    buf = sample_archive(&size);

    /* Swap "a.b" and "ab". */
    memcpy(tmp, rec(buf, S_A_B), ESZ);
    memcpy(rec(buf, S_A_B), rec(buf, S_AB), ESZ);
    memcpy(rec(buf, S_AB), tmp, ESZ);
    expect_corrupt(buf, size, "entry 6: out of order");
    memcpy(rec(buf, S_AB), rec(buf, S_A_B), ESZ);
    memcpy(rec(buf, S_A_B), tmp, ESZ);
    assert_int_equal(open_copy(buf, size, err, sizeof err), 0);

    /* "a" after "a.b": a prefix sorts first. */
    memcpy(tmp, rec(buf, S_A), ESZ);
    memcpy(rec(buf, S_A), rec(buf, S_A_B), ESZ);
    memcpy(rec(buf, S_A_B), tmp, ESZ);
    expect_corrupt(buf, size, "entry 5: out of order");
    memcpy(rec(buf, S_A_B), rec(buf, S_A), ESZ);
    memcpy(rec(buf, S_A), tmp, ESZ);

    /* Namespaces out of order, though the names are not. */
    rec(buf, 0)[E_NS] = INB_NS_MODULE;
    expect_corrupt(buf, size, "entry 1: out of order");
    rec(buf, 0)[E_NS] = INB_NS_CONFIG;
    rec(buf, S_META)[E_NS] = INB_NS_SHLIB;
    expect_corrupt(buf, size, "entry 15: out of order");
    rec(buf, S_META)[E_NS] = INB_NS_META;
    rec(buf, S_META - 1)[E_NS] = INB_NS_SOURCE;
    expect_corrupt(buf, size, "entry 14: out of order");
    rec(buf, S_META - 1)[E_NS] = INB_NS_SHLIB;
    assert_int_equal(open_copy(buf, size, err, sizeof err), 0);

    /* "ab" renamed "a.b": a duplicate key. */
    memcpy(rec(buf, S_AB) + E_NAME, rec(buf, S_A_B) + E_NAME, 8);
    expect_corrupt(buf, size, "entry 6: duplicate key module:a.b");
    free(buf);

    buf = sample_archive(&size);
    /* Two records that are the very same. */
    memcpy(rec(buf, S_A_B), rec(buf, S_A), ESZ);
    expect_corrupt(buf, size, "entry 5: duplicate key module:a");
    free(buf);
}

/* The checksum is XXH3 (64 bits), whose value for no bytes is published
 * with the algorithm; chaining ranges through the seed depends on every
 * range; the 32-bit entry checksum is its low half. */
static void
test_checksum(void **state)
{
    static const char text[] = "inbuilt";
    uint64_t a, b;

    (void)state;
    assert_true(inb_checksum("", 0, 0) == UINT64_C(0x2D06800538D394C2));
    a = inb_checksum(text, 7, 0);
    assert_true(inb_checksum32(text, 7) == (uint32_t)a);
    assert_true(inb_checksum(text, 7, 0) == a);
    assert_true(inb_checksum(text, 6, 0) != a);
    b = inb_checksum(text + 3, 4, inb_checksum(text, 3, 0));
    assert_true(b != a);
    assert_true(inb_checksum(text + 3, 4, inb_checksum("inc", 3, 0)) != b);
    assert_true(inb_checksum(text, 7, 1) != a);
}

/* Every bit of the index and the string table is covered by the tables
 * checksum; a bit of the data is not, until the entry is used. */
static void
test_tables_checksum(void **state)
{
    unsigned char *buf;
    size_t size, end, bit;
    char err[300];
    uint64_t sum;

    (void)state;
    buf = sample_archive(&size);
    reseal = 0;
    end = (size_t)get64(buf + H_STRINGS) + (size_t)get64(buf + H_STRINGS_SIZE);
    for (bit = HDR * 8; bit < end * 8; bit++) {
        buf[bit / 8] ^= (unsigned char)(1u << bit % 8);
        expect_corrupt(buf, size,
                       "checksum mismatch in the header, index or string "
                       "table");
        buf[bit / 8] ^= (unsigned char)(1u << bit % 8);
    }
    buf[size - 1] ^= 1;
    assert_int_equal(open_copy(buf, size, err, sizeof err), 0);
    buf[size - 1] ^= 1;
    assert_int_equal(inb_archive_tables_checksum(buf, size, &sum), 0);
    assert_true(sum == get64(buf + H_CHECKSUM));
    assert_int_equal(inb_archive_tables_checksum(buf, HDR - 1, &sum), -1);
    assert_int_equal(inb_archive_tables_checksum(NULL, 0, &sum), -1);
    put64(buf + H_INDEX, size);
    assert_int_equal(inb_archive_tables_checksum(buf, size, &sum), -1);
    free(buf);
}

/* inb_archive_data(): every entry of the sample passes but the one flagged
 * INB_FLAG_ZSTD; any flipped bit of an entry's data, or of its recorded
 * checksum, is a checksum mismatch. */
static void
test_entry_data(void **state)
{
    unsigned char *buf;
    size_t size, bit;
    inb_archive a;
    inb_entry e;
    char err[300];
    unsigned char memo[SAMPLE_COUNT];
    uint32_t i;

    (void)state;
    buf = sample_archive(&size);
    assert_int_equal(inb_archive_open(&a, buf, size, err, sizeof err), 0);
    for (i = 0; i < a.count; i++) {
        inb_archive_entry(&a, i, &e);
        if (e.flags & INB_FLAG_ZSTD) {
            assert_int_equal(inb_archive_data(&a, &e, err, sizeof err), -1);
            assert_contains(err, "entry shlib:libfoo.so.1 of the embedded "
                                 "archive is damaged (zstd-compressed");
            continue;
        }
        assert_int_equal(inb_archive_data(&a, &e, err, sizeof err), 0);
        for (bit = 0; bit < e.size * 8; bit++) {
            buf[e.data - buf + bit / 8] ^= (unsigned char)(1u << bit % 8);
            assert_int_equal(inb_archive_data(&a, &e, err, sizeof err), -1);
            assert_contains(err, "damaged (checksum mismatch)");
            buf[e.data - buf + bit / 8] ^= (unsigned char)(1u << bit % 8);
        }
        for (bit = 0; bit < 32; bit++) {
            e.checksum ^= 1u << bit;
            assert_int_equal(inb_archive_data(&a, &e, err, sizeof err), -1);
            e.checksum ^= 1u << bit;
        }
        assert_int_equal(inb_archive_data(&a, &e, NULL, 0), 0);
    }
    /* With a memo, an entry that passed once is not hashed again. */
    memset(memo, 0, sizeof memo);
    inb_archive_set_memo(&a, memo);
    assert_int_equal(inb_archive_find(&a, INB_NS_MODULE, "json", 4, &e), 1);
    assert_int_equal(memo[e.index], 0);
    buf[e.data - buf] ^= 1;
    assert_int_equal(inb_archive_data(&a, &e, err, sizeof err), -1);
    assert_int_equal(memo[e.index], 0);
    buf[e.data - buf] ^= 1;
    assert_int_equal(inb_archive_data(&a, &e, err, sizeof err), 0);
    assert_int_equal(memo[e.index], 1);
    buf[e.data - buf] ^= 1;
    assert_int_equal(inb_archive_data(&a, &e, err, sizeof err), 0);
    free(buf);
}

/* The reason is cut to fit err, and no err at all is fine. */
static void
test_error_buffer(void **state)
{
    inb_archive_writer *w;
    unsigned char *buf, *out;
    size_t size, outsize;
    char err[300], small[8], name[1000];
    inb_archive a;

    (void)state;
    buf = sample_archive(&size);
    buf[0] = 'X';
    memset(small, '#', sizeof small);
    assert_int_equal(inb_archive_open(&a, buf, size, small, sizeof small), -1);
    assert_string_equal(small, "not an ");
    assert_int_equal(inb_archive_open(&a, buf, size, NULL, 0), -1);
    small[0] = '#';
    assert_int_equal(inb_archive_open(&a, buf, size, small, 0), -1);
    assert_int_equal(small[0], '#');
    free(buf);

    /* Long names are quoted up to 200 bytes. */
    memset(name, 'n', sizeof name);
    w = inb_archive_writer_new(PY_MAGIC, PY_VERSION);
    assert_non_null(w);
    assert_int_equal(inb_archive_writer_add(w, INB_NS_DATA, INB_KIND_BLOB, 0,
                                            name, sizeof name, NULL, 0),
                     0);
    assert_int_equal(inb_archive_writer_add(w, INB_NS_DATA, INB_KIND_BLOB, 0,
                                            name, sizeof name, "x", 1),
                     0);
    assert_int_equal(
        inb_archive_writer_finish(w, &out, &outsize, err, sizeof err), -1);
    assert_int_equal(strlen(err), strlen("duplicate entry data:") + 200);
    assert_int_equal(inb_archive_writer_finish(w, &out, &outsize, NULL, 0),
                     -1);
    inb_archive_writer_free(w);
}

/* The buffer need not be aligned in memory: only offsets are. */
static void
test_unaligned_buffer(void **state)
{
    unsigned char *buf, *odd;
    size_t size;
    inb_archive a;
    inb_entry e;
    char err[300];

    (void)state;
    buf = sample_archive(&size);
    odd = malloc(size + 3);
    assert_non_null(odd);
    memcpy(odd + 3, buf, size);
    assert_int_equal(inb_archive_open(&a, odd + 3, size, err, sizeof err), 0);
    assert_int_equal(
        inb_archive_find(&a, INB_NS_MODULE, "json.encoder", 12, &e), 1);
    assert_memory_equal(e.data, "<encoder>", 9);
    free(odd);
    free(buf);
}

/* Runs every test, or those whose name matches argv[1] (a pattern with
 * * and ?, as cmocka_set_test_filter() takes). */
int
main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        T(test_names),
        T(test_alloc_wrapper),
        T(test_alloc_default),
        T(test_sample_round_trip),
        T(test_round_trip_many),
        T(test_find),
        T(test_lower_bound),
        T(test_empty_archive),
        T(test_duplicate),
        T(test_writer_add_rejects),
        T(test_writer_out_of_memory),
        T(test_truncated),
        T(test_header_fields),
        T(test_header_bit_flips),
        T(test_tables_out_of_range),
        T(test_bad_names),
        T(test_bad_data),
        T(test_bad_fields),
        T(test_bad_order),
        T(test_checksum),
        T(test_tables_checksum),
        T(test_entry_data),
        T(test_error_buffer),
        T(test_unaligned_buffer),
#undef T
    };

    if (argc > 1) {
        cmocka_set_test_filter(argv[1]);
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
