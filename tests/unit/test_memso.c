/* Unit tests of src/runtime/memso.c: real libraries of this machine
 * (libbz2, libuuid) loaded through memory files and the cache directory,
 * and a damaged image refused.  The record's reader is tested in
 * test_records.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <dlfcn.h>

#include "alloc.h"
#include "archive.h"
#include "memso.h"

#define BZ2 "/lib/x86_64-linux-gnu/libbz2.so.1.0"
#define UUID "/lib/x86_64-linux-gnu/libuuid.so.1"

/* A record: u32 size, names (filename, digest, needs...), image. */
static unsigned char *
record(const char *const *names, size_t nnames, const void *image,
       size_t image_size, size_t *size)
{
    size_t nsize = 0, i, off;
    unsigned char *r;

    for (i = 0; i < nnames; i++) {
        nsize += strlen(names[i]) + 1;
    }
    *size = 4 + nsize + image_size;
    r = malloc(*size);
    assert_non_null(r);
    assert_int_equal(inb_record_shobj_header(r, nsize), 0);
    for (i = 0, off = 4; i < nnames; i++) {
        memcpy(r + off, names[i], strlen(names[i]) + 1);
        off += strlen(names[i]) + 1;
    }
    memcpy(r + off, image, image_size);
    return r;
}

static unsigned char *
read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    unsigned char *data;
    long n;

    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    data = malloc((size_t)n);
    assert_non_null(data);
    assert_int_equal(fread(data, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *size = (size_t)n;
    return data;
}

/* An archive with extension "ext" (libuuid's image standing in) needing
 * libbz2.so.1.0 (a shlib entry). */
static unsigned char *
archive_with_library(inb_archive *a, const char *need)
{
    const char *lib_names[] = {"libbz2.so.1.0", "00000000000000aa"};
    const char *ext_names[] = {"ext.so", "00000000000000bb", need};
    size_t bz_size, uu_size, lrec_size, erec_size, size;
    unsigned char *bz = read_file(BZ2, &bz_size);
    unsigned char *uu = read_file(UUID, &uu_size);
    unsigned char *lrec = record(lib_names, 2, bz, bz_size, &lrec_size);
    unsigned char *erec = record(ext_names, 3, uu, uu_size, &erec_size);
    inb_archive_writer *w = inb_archive_writer_new(0, 0);
    unsigned char *out;
    char err[256];

    assert_non_null(w);
    assert_int_equal(inb_archive_writer_add(w, INB_NS_SHLIB, INB_KIND_BLOB, 0,
                                            "libbz2.so.1.0", 13, lrec,
                                            lrec_size),
                     0);
    assert_int_equal(inb_archive_writer_add(w, INB_NS_MODULE,
                                            INB_KIND_SHARED_EXT, 0, "ext", 3,
                                            erec, erec_size),
                     0);
    assert_int_equal(
        inb_archive_writer_finish(w, &out, &size, err, sizeof(err)), 0);
    inb_archive_writer_free(w);
    assert_int_equal(inb_archive_open(a, out, size, err, sizeof(err)), 0);
    free(bz);
    free(uu);
    free(lrec);
    free(erec);
    return out;
}

static void
test_memory_mode_loads_library_first_and_each_once(void **state)
{
    inb_archive a;
    unsigned char *buf = archive_with_library(&a, "libbz2.so.1.0");
    inb_entry e;
    char path[256], again[256], err[256];
    void *lib;

    (void)state;
    inb_memso_set_mode(INB_MEMSO_MEMORY);
    assert_int_equal(inb_archive_find(&a, INB_NS_MODULE, "ext", 3, &e), 1);
    assert_int_equal(
        inb_memso_prepare(&a, &e, path, sizeof(path), err, sizeof(err)), 0);
    assert_int_equal(strncmp(path, "/proc/self/fd/", 14), 0);
    /* The library was dlopen'ed: its soname now resolves without a search,
     * to an object that defines its symbols. */
    lib = dlopen("libbz2.so.1.0", RTLD_NOW | RTLD_NOLOAD);
    assert_non_null(lib);
    assert_non_null(dlsym(lib, "BZ2_bzlibVersion"));
    dlclose(lib);
    /* The image is loadable, and prepared once. */
    lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    assert_non_null(lib);
    assert_non_null(dlsym(lib, "uuid_generate"));
    assert_int_equal(
        inb_memso_prepare(&a, &e, again, sizeof(again), err, sizeof(err)), 0);
    assert_string_equal(path, again);
    assert_null(inb_memso_take_diagnostic());
    inb_free(buf);
}

/* A flipped byte in the image of a library an extension needs: the
 * extension is refused, naming the damaged entry, and nothing is loaded. */
static void
test_damaged_library_is_refused(void **state)
{
    inb_archive a;
    unsigned char *buf = archive_with_library(&a, "libbz2.so.1.0");
    inb_entry e;
    char path[256], err[512] = "";

    (void)state;
    inb_memso_set_mode(INB_MEMSO_MEMORY);
    assert_int_equal(
        inb_archive_find(&a, INB_NS_SHLIB, "libbz2.so.1.0", 13, &e), 1);
    buf[e.data - buf + e.size / 2] ^= 0x10;
    assert_int_equal(inb_archive_find(&a, INB_NS_MODULE, "ext", 3, &e), 1);
    assert_int_equal(
        inb_memso_prepare(&a, &e, path, sizeof(path), err, sizeof(err)), -1);
    assert_non_null(strstr(err, "entry shlib:libbz2.so.1.0 of the embedded "
                                "archive is damaged (checksum mismatch)"));
    inb_free(buf);
}

static void
test_missing_needed_library_is_reported(void **state)
{
    inb_archive a;
    unsigned char *buf = archive_with_library(&a, "libnothere.so.9");
    inb_entry e;
    char path[256], err[256] = "";

    (void)state;
    assert_int_equal(inb_archive_find(&a, INB_NS_MODULE, "ext", 3, &e), 1);
    assert_int_equal(
        inb_memso_prepare(&a, &e, path, sizeof(path), err, sizeof(err)), -1);
    assert_non_null(strstr(err, "libnothere.so.9"));
    assert_non_null(strstr(err, "not in the executable"));
    inb_free(buf);
}

static void
test_cache_mode_writes_a_private_directory(void **state)
{
    char tmpl[] = "/tmp/memso-test-XXXXXX", dir[300], path[512], err[256];
    inb_archive a;
    unsigned char *buf = archive_with_library(&a, "libbz2.so.1.0");
    inb_entry e;
    struct stat st;

    (void)state;
    assert_non_null(mkdtemp(tmpl));
    setenv("XDG_RUNTIME_DIR", tmpl, 1);
    inb_memso_set_mode(INB_MEMSO_CACHE);
    /* A different record address than the memory-mode test's archive, so
     * it is made loadable anew. */
    assert_int_equal(inb_archive_find(&a, INB_NS_MODULE, "ext", 3, &e), 1);
    assert_int_equal(
        inb_memso_prepare(&a, &e, path, sizeof(path), err, sizeof(err)), 0);
    snprintf(dir, sizeof(dir), "%s/inbuilt", tmpl);
    assert_int_equal(strncmp(path, dir, strlen(dir)), 0);
    assert_non_null(strstr(path, "00000000000000bb-ext.so"));
    assert_int_equal(stat(dir, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    assert_int_equal(stat(path, &st), 0);
    assert_true(S_ISREG(st.st_mode) && st.st_size > 0);
    inb_memso_set_mode(INB_MEMSO_MEMORY);
    inb_free(buf);
}

/* In a child (the cache directory is chosen once per process, and kept),
 * with the environment variable var set to value: prepare a record in cache
 * mode.  Returns the child's verdict: 0 when the record was refused with
 * an error containing refusal (or, with refusal NULL, made loadable in a
 * path not under avoid). */
static int
cache_choice_in_child(const char *var, const char *value, const char *refusal,
                      const char *avoid)
{
    pid_t pid = fork();
    int status;

    assert_true(pid >= 0);
    if (pid == 0) {
        inb_archive a;
        unsigned char *buf;
        inb_entry e;
        char path[512] = "", err[1024] = "";
        int rc, ok;

        unsetenv("INBUILT_CACHE_DIR");
        setenv(var, value, 1);
        inb_memso_set_mode(INB_MEMSO_CACHE);
        buf = archive_with_library(&a, "libbz2.so.1.0");
        inb_archive_find(&a, INB_NS_MODULE, "ext", 3, &e);
        rc = inb_memso_prepare(&a, &e, path, sizeof(path), err, sizeof(err));
        if (refusal != NULL) {
            ok = rc == -1 && strstr(err, refusal) != NULL &&
                 strstr(err, "INBUILT_CACHE_DIR") != NULL;
        }
        else {
            ok = rc == 0 && strncmp(path, avoid, strlen(avoid)) != 0;
        }
        inb_free(buf);
        _exit(ok ? 0 : 1);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

static void
test_cache_directory_of_wrong_mode_is_refused(void **state)
{
    char tmpl[] = "/tmp/memso-test-XXXXXX", dir[300];

    (void)state;
    assert_non_null(mkdtemp(tmpl));
    snprintf(dir, sizeof(dir), "%s/inbuilt", tmpl);
    assert_int_equal(mkdir(dir, 0777), 0);
    assert_int_equal(chmod(dir, 0777), 0);
    /* Given explicitly: refused, saying why and what to do. */
    assert_int_equal(cache_choice_in_child("INBUILT_CACHE_DIR", dir,
                                           "not a directory private", NULL),
                     0);
    /* $XDG_RUNTIME_DIR/inbuilt of the wrong mode: the next candidate. */
    assert_int_equal(
        cache_choice_in_child("XDG_RUNTIME_DIR", tmpl, NULL, tmpl), 0);
}

/* Runs every test, or those whose name matches argv[1] (a pattern with
 * * and ?, as cmocka_set_test_filter() takes). */
int
main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_memory_mode_loads_library_first_and_each_once),
        cmocka_unit_test(test_missing_needed_library_is_reported),
        cmocka_unit_test(test_damaged_library_is_refused),
        cmocka_unit_test(test_cache_directory_of_wrong_mode_is_refused),
        cmocka_unit_test(test_cache_mode_writes_a_private_directory),
    };

    if (argc > 1) {
        cmocka_set_test_filter(argv[1]);
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
