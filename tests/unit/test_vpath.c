/* test_vpath.c: unit tests of src/runtime/vpath.c, the virtual tree's
 * scheme, on a small archive made with the writer: what each path is,
 * sizes and inode numbers, directory listings, reading (raw, inflated,
 * damaged), and path normalization. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zlib.h>

#include "alloc.h"
#include "archive.h"
#include "records.h"
#include "vpath.h"

static const char source_text[] = "VALUE = 42\n";

struct fixture {
    unsigned char *buf;
    size_t size;
    inb_archive a;
};

static void
add(inb_archive_writer *w, int ns, int kind, const char *name,
    const void *data, size_t size)
{
    assert_int_equal(
        inb_archive_writer_add(w, ns, kind, 0, name, strlen(name), data, size),
        0);
}

/* pkg (package, with source), pkg.mod (module, with source), pkg.nosrc
 * (module, no source), pkg.ns (namespace), pkg._ext (extension module
 * _ext.cpython-311-x86_64-linux-gnu.so), pkg.builtin (built in), data
 * files pkg/data/a.txt, pkg/data/sub/b.bin, pkg/libfoo.so (a plain
 * library), lone/x.txt (data under no package), metadata
 * pkg-1.0.dist-info/METADATA. */
static int
setup(void **state)
{
    static const char *names[] = {"_ext.cpython-311-x86_64-linux-gnu.so",
                                  "0123456789abcdef"};
    struct fixture *f = calloc(1, sizeof(*f));
    inb_archive_writer *w = inb_archive_writer_new(1, 0x030b0000);
    unsigned char src[64], rec[256], z[64];
    uLongf zlen = sizeof(z);
    size_t nsize = 0, off, i;
    char err[128];

    assert_non_null(f);
    assert_non_null(w);
    assert_int_equal(compress(z, &zlen, (const Bytef *)source_text,
                              sizeof(source_text) - 1),
                     Z_OK);
    inb_record_source_header(src, sizeof(source_text) - 1);
    memcpy(src + INB_SOURCE_HEADER_SIZE, z, zlen);
    for (i = 0; i < 2; i++) {
        nsize += strlen(names[i]) + 1;
    }
    assert_int_equal(inb_record_shobj_header(rec, nsize), 0);
    for (i = 0, off = INB_SHOBJ_HEADER_SIZE; i < 2; i++) {
        memcpy(rec + off, names[i], strlen(names[i]) + 1);
        off += strlen(names[i]) + 1;
    }
    memcpy(rec + off, "\177ELFimage", 9);
    off += 9;

    add(w, INB_NS_MODULE, INB_KIND_PACKAGE, "pkg", "c", 1);
    add(w, INB_NS_MODULE, INB_KIND_MODULE, "pkg.mod", "c", 1);
    add(w, INB_NS_MODULE, INB_KIND_MODULE, "pkg.nosrc", "c", 1);
    add(w, INB_NS_MODULE, INB_KIND_NAMESPACE, "pkg.ns", NULL, 0);
    add(w, INB_NS_MODULE, INB_KIND_SHARED_EXT, "pkg._ext", rec, off);
    add(w, INB_NS_MODULE, INB_KIND_BUILTIN_EXT, "pkg.builtin", "\0\0\0\0", 4);
    add(w, INB_NS_SOURCE, INB_KIND_BLOB, "pkg", src,
        INB_SOURCE_HEADER_SIZE + zlen);
    add(w, INB_NS_SOURCE, INB_KIND_BLOB, "pkg.mod", src,
        INB_SOURCE_HEADER_SIZE + zlen);
    add(w, INB_NS_DATA, INB_KIND_BLOB, "pkg/data/a.txt", "alpha\n", 6);
    add(w, INB_NS_DATA, INB_KIND_BLOB, "pkg/data/sub/b.bin", "\0\1", 2);
    add(w, INB_NS_DATA, INB_KIND_SHARED_DATA, "pkg/libfoo.so", rec, off);
    add(w, INB_NS_DATA, INB_KIND_BLOB, "lone/x.txt", "x", 1);
    add(w, INB_NS_META, INB_KIND_BLOB, "pkg-1.0.dist-info/METADATA",
        "Name: pkg\n", 10);
    assert_int_equal(
        inb_archive_writer_finish(w, &f->buf, &f->size, err, sizeof(err)), 0);
    inb_archive_writer_free(w);
    assert_int_equal(
        inb_archive_open(&f->a, f->buf, f->size, err, sizeof(err)), 0);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;

    inb_free(f->buf);
    free(f);
    return 0;
}

static int
type_of(struct fixture *f, const char *rel, inb_vnode *n)
{
    return inb_vpath_lookup(&f->a, rel, strlen(rel), n);
}

static void
test_paths_are_files_directories_or_nothing(void **state)
{
    struct fixture *f = *state;
    static const struct {
        const char *rel;
        int type;
        uint64_t size;
    } cases[] = {
        {"", INB_VNODE_DIR, 0},
        {"pkg", INB_VNODE_DIR, 0},
        {"pkg/ns", INB_VNODE_DIR, 0},
        {"pkg/data", INB_VNODE_DIR, 0},
        {"pkg/data/sub", INB_VNODE_DIR, 0},
        {"lone", INB_VNODE_DIR, 0},
        {"pkg-1.0.dist-info", INB_VNODE_DIR, 0},
        {"pkg/__init__.py", INB_VNODE_FILE, sizeof(source_text) - 1},
        {"pkg/mod.py", INB_VNODE_FILE, sizeof(source_text) - 1},
        {"pkg/data/a.txt", INB_VNODE_FILE, 6},
        {"pkg/data/sub/b.bin", INB_VNODE_FILE, 2},
        {"pkg/libfoo.so", INB_VNODE_FILE, 9},
        {"pkg/_ext.cpython-311-x86_64-linux-gnu.so", INB_VNODE_FILE, 9},
        {"pkg-1.0.dist-info/METADATA", INB_VNODE_FILE, 10},
        {"pkg/nosrc.py", INB_VNODE_NONE, 0},   /* no source kept */
        {"pkg/builtin.py", INB_VNODE_NONE, 0}, /* built in: no file */
        {"pkg/_ext.so", INB_VNODE_NONE, 0},    /* not its file name */
        {"pkg/mod", INB_VNODE_NONE, 0},        /* a module, not a dir */
        {"pkg/data/none.txt", INB_VNODE_NONE, 0},
        {"pkg.mod", INB_VNODE_NONE, 0}, /* dots are no slashes */
        {"pkg/da", INB_VNODE_NONE, 0},  /* a prefix of a name */
        {"share/locale/de/LC_MESSAGES/x.mo", INB_VNODE_NONE, 0},
    };
    inb_vnode n;
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (type_of(f, cases[i].rel, &n) != cases[i].type) {
            fail_msg("%s: type %d, expected %d", cases[i].rel, n.type,
                     cases[i].type);
        }
        if (n.type == INB_VNODE_FILE && n.size != cases[i].size) {
            fail_msg("%s: size %llu", cases[i].rel,
                     (unsigned long long)n.size);
        }
    }
}

static void
test_inode_numbers_are_unique_and_stable(void **state)
{
    struct fixture *f = *state;
    static const char *nodes[] = {"",
                                  "pkg",
                                  "pkg/ns",
                                  "pkg/data",
                                  "pkg/data/sub",
                                  "lone",
                                  "pkg-1.0.dist-info",
                                  "pkg/__init__.py",
                                  "pkg/mod.py",
                                  "pkg/data/a.txt",
                                  "pkg/data/sub/b.bin",
                                  "pkg/libfoo.so",
                                  "pkg/_ext.cpython-311-x86_64-linux-gnu.so",
                                  "pkg-1.0.dist-info/METADATA"};
    uint64_t inos[sizeof(nodes) / sizeof(nodes[0])];
    inb_vnode n, again;
    size_t i, j;

    for (i = 0; i < sizeof(nodes) / sizeof(nodes[0]); i++) {
        type_of(f, nodes[i], &n);
        type_of(f, nodes[i], &again);
        assert_int_equal(n.ino, again.ino);
        assert_true(n.ino >= 1);
        inos[i] = n.ino;
        for (j = 0; j < i; j++) {
            if (inos[j] == inos[i]) {
                fail_msg("%s and %s share inode %llu", nodes[i], nodes[j],
                         (unsigned long long)inos[i]);
            }
        }
    }
}

/* The names of directory rel, joined by spaces, with "/" after
 * directories. */
static void
listing(struct fixture *f, const char *rel, char *out, size_t size)
{
    inb_vdir d;
    inb_vnode child, again;
    char name[256], path[512];

    out[0] = '\0';
    assert_int_equal(inb_vpath_opendir(&d, rel, strlen(rel)), 0);
    while (inb_vpath_readdir(&f->a, &d, name, sizeof(name), &child)) {
        snprintf(path, sizeof(path), "%s%s%s", rel, *rel ? "/" : "", name);
        type_of(f, path, &again);
        assert_int_equal(again.type, child.type);
        assert_int_equal(again.ino, child.ino);
        snprintf(out + strlen(out), size - strlen(out), "%s%s%s",
                 *out ? " " : "", name,
                 child.type == INB_VNODE_DIR ? "/" : "");
    }
}

static void
test_directories_list_what_the_archive_holds_there(void **state)
{
    struct fixture *f = *state;
    char out[512];

    listing(f, "pkg", out, sizeof(out));
    assert_string_equal(out, "data/ libfoo.so __init__.py "
                             "_ext.cpython-311-x86_64-linux-gnu.so mod.py "
                             "ns/");
    listing(f, "pkg/data", out, sizeof(out));
    assert_string_equal(out, "a.txt sub/");
    listing(f, "", out, sizeof(out));
    assert_string_equal(out, "lone/ pkg/ pkg-1.0.dist-info/");
    listing(f, "pkg/ns", out, sizeof(out));
    assert_string_equal(out, "");
}

static void
test_files_read_raw_inflated_and_damaged(void **state)
{
    struct fixture *f = *state;
    unsigned char out[64];
    inb_vnode n;

    type_of(f, "pkg/data/a.txt", &n);
    assert_int_equal(inb_vpath_read(&f->a, &n, out), 0);
    assert_memory_equal(out, "alpha\n", 6);
    type_of(f, "pkg/mod.py", &n);
    assert_int_equal(inb_vpath_read(&f->a, &n, out), 0);
    assert_memory_equal(out, source_text, sizeof(source_text) - 1);
    type_of(f, "pkg/libfoo.so", &n);
    assert_int_equal(inb_vpath_read(&f->a, &n, out), 0);
    assert_memory_equal(out, "\177ELFimage", 9);
    /* A flipped byte: the data entry's checksum no longer matches. */
    type_of(f, "pkg/data/a.txt", &n);
    ((unsigned char *)n.data)[0] ^= 1;
    assert_int_equal(inb_vpath_read(&f->a, &n, out), -1);
    ((unsigned char *)n.data)[0] ^= 1;
    /* A stream that does not inflate to the recorded size. */
    type_of(f, "pkg/mod.py", &n);
    n.size += 1;
    assert_int_equal(inb_vpath_read(&f->a, &n, out), -1);
}

static void
test_paths_normalize_lexically(void **state)
{
    static const struct {
        const char *in, *out;
        long len;
    } cases[] = {
        {"/a/b", "a/b", 3},     {"a//b/", "a/b", 3}, {"./a/./b", "a/b", 3},
        {"a/x/../b", "a/b", 3}, {"", "", 0},         {"/", "", 0},
        {"a/..", "", 0},        {"..", NULL, -2},    {"a/../..", NULL, -2},
    };
    char out[16];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        long n = inb_vpath_normalize(cases[i].in, strlen(cases[i].in), out,
                                     sizeof(out));

        if (n != cases[i].len || (n >= 0 && strcmp(out, cases[i].out) != 0)) {
            fail_msg("%s: %ld \"%s\"", cases[i].in, n, n >= 0 ? out : "");
        }
    }
    assert_int_equal(
        inb_vpath_normalize("abcdefghijklmnopq", 17, out, sizeof(out)), -1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_paths_are_files_directories_or_nothing),
        cmocka_unit_test(test_inode_numbers_are_unique_and_stable),
        cmocka_unit_test(test_directories_list_what_the_archive_holds_there),
        cmocka_unit_test(test_files_read_raw_inflated_and_damaged),
        cmocka_unit_test(test_paths_normalize_lexically),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
