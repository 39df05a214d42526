/* test_checksum.c: src/common/checksum.c against libxxhash itself (the
 * Debian library, linked here only): the same XXH3 for every length around
 * the header's size classes and its AVX2 threshold, several seeds and
 * unaligned starts, whichever code path the CPU takes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <xxhash.h>

#include "checksum.h"

static void
test_same_as_libxxhash(void **state)
{
    static const uint64_t seeds[] = {0, 1, UINT64_C(0x9E3779B97F4A7C15)};
    size_t n = 70000, len, off, k;
    unsigned char *buf = malloc(n + 16);

    (void)state;
    assert_non_null(buf);
    for (k = 0; k < n + 16; k++) {
        buf[k] = (unsigned char)(k * 131 + (k >> 7));
    }
    for (len = 0; len < n; len = len < 300 ? len + 1 : len * 3 / 2 + 1) {
        for (off = 0; off < 3; off++) {
            for (k = 0; k < sizeof seeds / sizeof seeds[0]; k++) {
                assert_true(inb_checksum(buf + off, len, seeds[k]) ==
                            XXH3_64bits_withSeed(buf + off, len, seeds[k]));
            }
            assert_true(inb_checksum32(buf + off, len) ==
                        (uint32_t)XXH3_64bits(buf + off, len));
        }
    }
    free(buf);
}

/* A sink that appends to a buffer, or fails at its call number fail_at. */
struct collect {
    unsigned char *buf;
    size_t len;
    int calls, fail_at;
};

static int
collect(void *ctx, const unsigned char *chunk, size_t n)
{
    struct collect *c = ctx;

    if (++c->calls == c->fail_at) {
        return -1;
    }
    memcpy(c->buf + c->len, chunk, n);
    c->len += n;
    return 0;
}

/* inb_checksum32_copy(): the whole data passed on, in order, whatever the
 * size; 0 for the right checksum, 1 for another; -1 when the sink fails. */
static void
test_copy_checks_and_passes_everything(void **state)
{
    static const size_t sizes[] = {0, 1, 240, 241, 131072, 131073, 1000003};
    size_t k, i;

    (void)state;
    for (k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        size_t n = sizes[k];
        unsigned char *data = malloc(n + 1), *out = malloc(n + 1);
        struct collect c = {out, 0, 0, 0};
        uint32_t sum;

        assert_non_null(data);
        assert_non_null(out);
        for (i = 0; i < n; i++) {
            data[i] = (unsigned char)(i * 7 + (i >> 9));
        }
        sum = (uint32_t)XXH3_64bits(data, n);
        assert_int_equal(inb_checksum32_copy(data, n, sum, collect, &c), 0);
        assert_int_equal(c.len, n);
        assert_true(n == 0 || memcmp(out, data, n) == 0);
        c.len = 0;
        assert_int_equal(inb_checksum32_copy(data, n, sum ^ 1, collect, &c),
                         1);
        assert_int_equal(c.len, n);
        if (n > 131072) {
            c.len = 0;
            c.calls = 0;
            c.fail_at = 2;
            assert_int_equal(inb_checksum32_copy(data, n, sum, collect, &c),
                             -1);
            assert_int_equal(c.len, 131072);
        }
        free(data);
        free(out);
    }
}

int
main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_as_libxxhash),
        cmocka_unit_test(test_copy_checks_and_passes_everything),
    };

    if (argc > 1) {
        cmocka_set_test_filter(argv[1]);
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
