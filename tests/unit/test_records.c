/* test_records.c: unit tests of src/common/records.c: each record written
 * and read back, each reader given every kind of damage, and every reader
 * refusing an entry that is flagged INB_FLAG_ZSTD or fails its checksum. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "archive.h"
#include "checksum.h"
#include "records.h"

/* Entries made by hand belong to no archive: no memo. */
static const inb_archive no_archive;

/* An entry holding data[0..size), with the right checksum. */
static inb_entry
entry_of(const unsigned char *data, size_t size)
{
    inb_entry e = {.name = "x", .name_len = 1, .data = data, .size = size};

    e.checksum = inb_checksum32(data, size);
    return e;
}

/* A shared-object record: header, names (filename, digest, needs...),
 * image; malloc'd, *size bytes. */
static unsigned char *
shobj(const char *const *names, size_t nnames, const void *image,
      size_t image_size, size_t *size)
{
    size_t nsize = 0, i, off;
    unsigned char *r;

    for (i = 0; i < nnames; i++) {
        nsize += strlen(names[i]) + 1;
    }
    *size = INB_SHOBJ_HEADER_SIZE + nsize + image_size;
    r = malloc(*size);
    assert_non_null(r);
    assert_int_equal(inb_record_shobj_header(r, nsize), 0);
    for (i = 0, off = INB_SHOBJ_HEADER_SIZE; i < nnames; i++) {
        memcpy(r + off, names[i], strlen(names[i]) + 1);
        off += strlen(names[i]) + 1;
    }
    memcpy(r + off, image, image_size);
    return r;
}

/* The shared-object reader must refuse data[0..size) with a reason
 * containing want. */
static void
expect_bad_shobj(const unsigned char *data, size_t size, const char *want)
{
    inb_entry e = entry_of(data, size);
    inb_shobj_record r;
    char err[256] = "";

    assert_int_equal(
        inb_record_shobj_read(&no_archive, &e, &r, err, sizeof(err)), -1);
    if (strstr(err, want) == NULL) {
        fail_msg("reason \"%s\" lacks \"%s\"", err, want);
    }
}

static void
test_shobj_reads_names_and_image(void **state)
{
    const char *names[] = {"_x.so", "0123456789abcdef", "liba.so.1",
                           "libb.so.2"};
    size_t size;
    unsigned char *r = shobj(names, 4, "\177ELFrest", 8, &size);
    inb_entry e = entry_of(r, size);
    inb_shobj_record rec;
    char err[128];

    (void)state;
    assert_int_equal(
        inb_record_shobj_read(&no_archive, &e, &rec, err, sizeof(err)), 0);
    assert_string_equal(rec.filename, "_x.so");
    assert_string_equal(rec.digest, "0123456789abcdef");
    assert_int_equal(rec.needs_size, strlen("liba.so.1libb.so.2") + 2);
    assert_string_equal(rec.needs, "liba.so.1");
    assert_int_equal(rec.image_size, 8);
    assert_memory_equal(rec.image, "\177ELFrest", 8);
    free(r);
}

static void
test_shobj_rejects_every_damage(void **state)
{
    const char *good[] = {"_x.so", "0123456789abcdef"};
    const char *slash[] = {"a/_x.so", "0123456789abcdef"};
    const char *short_digest[] = {"_x.so", "0123"};
    const char *no_digest[] = {"_x.so"};
    size_t size, n;
    unsigned char *r;

    (void)state;
    r = shobj(good, 2, "\177ELFrest", 8, &size);
    for (n = 0; n < 4; n++) {
        expect_bad_shobj(r, n, "truncated");
    }
    /* Names running past the end. */
    r[0] = 0xff;
    expect_bad_shobj(r, size, "names beyond");
    r[0] = 0;
    expect_bad_shobj(r, size, "names beyond"); /* size 0 */
    free(r);
    r = shobj(good, 2, "\177ELFrest", 8, &size);
    r[4 + 5 + 1 + 16] = 'x'; /* last NUL of the names */
    expect_bad_shobj(r, size, "not terminated");
    free(r);
    r = shobj(slash, 2, "\177ELFrest", 8, &size);
    expect_bad_shobj(r, size, "bad name or digest");
    free(r);
    r = shobj(short_digest, 2, "\177ELFrest", 8, &size);
    expect_bad_shobj(r, size, "bad name or digest");
    free(r);
    r = shobj(no_digest, 1, "\177ELFrest", 8, &size);
    expect_bad_shobj(r, size, "bad name or digest");
    free(r);
    r = shobj(good, 2, "MZ", 2, &size);
    expect_bad_shobj(r, size, "not an ELF file");
    free(r);
    r = shobj(good, 2, "", 0, &size);
    expect_bad_shobj(r, size, "not an ELF file");
    free(r);
}

static void
test_source_round_trip_and_damage(void **state)
{
    unsigned char data[INB_SOURCE_HEADER_SIZE + 3] = {0,   0,   0,  0,
                                                      'z', 'z', 'z'};
    inb_source_record r;
    inb_entry e;
    char err[256];
    size_t n;

    (void)state;
    inb_record_source_header(data, 0x01020304u);
    assert_memory_equal(data, "\x04\x03\x02\x01", 4);
    e = entry_of(data, sizeof data);
    assert_int_equal(
        inb_record_source_read(&no_archive, &e, &r, err, sizeof err), 0);
    assert_int_equal(r.size, 0x01020304u);
    assert_ptr_equal(r.zlib, data + 4);
    assert_int_equal(r.zlib_size, 3);
    for (n = 0; n < INB_SOURCE_HEADER_SIZE; n++) {
        e = entry_of(data, n);
        assert_int_equal(
            inb_record_source_read(&no_archive, &e, &r, err, sizeof err), -1);
        assert_string_equal(err, "shorter than its length field");
    }
}

static void
test_builtin_round_trip_and_damage(void **state)
{
    unsigned char data[INB_BUILTIN_RECORD_SIZE + 1];
    inb_entry e;
    uint32_t i = 0;
    char err[256];

    (void)state;
    inb_record_builtin_write(data, 70000);
    e = entry_of(data, INB_BUILTIN_RECORD_SIZE);
    assert_int_equal(
        inb_record_builtin_read(&no_archive, &e, &i, err, sizeof err), 0);
    assert_int_equal(i, 70000);
    e = entry_of(data, INB_BUILTIN_RECORD_SIZE - 1);
    assert_int_equal(
        inb_record_builtin_read(&no_archive, &e, &i, err, sizeof err), -1);
    assert_string_equal(err, "built-in extension record of 3 bytes, "
                             "expected 4");
    e = entry_of(data, INB_BUILTIN_RECORD_SIZE + 1);
    assert_int_equal(
        inb_record_builtin_read(&no_archive, &e, &i, err, sizeof err), -1);
}

/* Every reader goes through inb_archive_data(): a flipped bit or the zstd
 * flag is refused before the layout is looked at. */
static void
test_readers_check_the_entry(void **state)
{
    const char *names[] = {"_x.so", "0123456789abcdef"};
    unsigned char src[8] = {3, 0, 0, 0, 1, 2, 3, 4}, bi[4] = {1, 0, 0, 0};
    unsigned char *so;
    inb_shobj_record sr;
    inb_source_record rr;
    inb_entry e;
    size_t size;
    uint32_t i;
    char err[512];

    (void)state;
    so = shobj(names, 2, "\177ELFrest", 8, &size);
    e = entry_of(so, size);
    so[size - 1] ^= 1;
    assert_int_equal(
        inb_record_shobj_read(&no_archive, &e, &sr, err, sizeof err), -1);
    assert_non_null(strstr(err, "entry config:x of the embedded archive is "
                                "damaged (checksum mismatch): this "
                                "executable was damaged"));
    so[size - 1] ^= 1;
    e.flags = INB_FLAG_ZSTD;
    assert_int_equal(
        inb_record_shobj_read(&no_archive, &e, &sr, err, sizeof err), -1);
    assert_non_null(strstr(err, "zstd"));
    free(so);

    e = entry_of(src, sizeof src);
    src[5] ^= 0x80;
    assert_int_equal(
        inb_record_source_read(&no_archive, &e, &rr, err, sizeof err), -1);
    assert_non_null(strstr(err, "checksum mismatch"));
    src[5] ^= 0x80;
    e.flags = INB_FLAG_ZSTD;
    assert_int_equal(
        inb_record_source_read(&no_archive, &e, &rr, err, sizeof err), -1);

    e = entry_of(bi, sizeof bi);
    bi[0] = 2;
    assert_int_equal(
        inb_record_builtin_read(&no_archive, &e, &i, err, sizeof err), -1);
    assert_non_null(strstr(err, "checksum mismatch"));
    bi[0] = 1;
    e.flags = INB_FLAG_ZSTD;
    assert_int_equal(
        inb_record_builtin_read(&no_archive, &e, &i, err, sizeof err), -1);
}

/* Runs every test, or those whose name matches argv[1] (a pattern with
 * * and ?, as cmocka_set_test_filter() takes). */
int
main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shobj_reads_names_and_image),
        cmocka_unit_test(test_shobj_rejects_every_damage),
        cmocka_unit_test(test_source_round_trip_and_damage),
        cmocka_unit_test(test_builtin_round_trip_and_damage),
        cmocka_unit_test(test_readers_check_the_entry),
    };

    if (argc > 1) {
        cmocka_set_test_filter(argv[1]);
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
