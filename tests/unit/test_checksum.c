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

int
main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_as_libxxhash),
    };

    if (argc > 1) {
        cmocka_set_test_filter(argv[1]);
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
