/* test_modpath.c: unit tests of src/common/modpath.c, the one rule between
 * a module's dotted name and its file or directory: every kind both ways,
 * the "__init__" alias, names that are no module, and outputs that do not
 * fit (measured first, as snprintf()). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "archive.h"
#include "modpath.h"

static void
test_files_of_each_kind(void **state)
{
    static const struct {
        const char *name;
        int kind;
        const char *so;
        const char *file;
    } cases[] = {
        {"a", INB_KIND_MODULE, NULL, "a.py"},
        {"a.b.c", INB_KIND_MODULE, NULL, "a/b/c.py"},
        {"a.b", INB_KIND_PACKAGE, NULL, "a/b/__init__.py"},
        {"a.b", INB_KIND_NAMESPACE, NULL, "a/b"},
        {"a.b.__init__", INB_KIND_MODULE, NULL, "a/b/__init__.py"},
        {"a.b._m", INB_KIND_SHARED_EXT, "_m.cpython-311-x86_64-linux-gnu.so",
         "a/b/_m.cpython-311-x86_64-linux-gnu.so"},
        {"_m", INB_KIND_SHARED_EXT, "_m.abi3.so", "_m.abi3.so"},
    };
    char out[64];
    size_t i, n;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        n = inb_modpath_file(cases[i].name, strlen(cases[i].name),
                             cases[i].kind, cases[i].so, out, sizeof(out));
        assert_int_equal(n, strlen(cases[i].file));
        assert_string_equal(out, cases[i].file);
    }
    n = inb_modpath_dir("a.b.c", 5, out, sizeof(out));
    assert_int_equal(n, 5);
    assert_string_equal(out, "a/b/c");
}

static void
test_short_output_is_measured_not_overrun(void **state)
{
    char out[8];
    size_t n;

    (void)state;
    memset(out, 'x', sizeof(out));
    n = inb_modpath_file("pkg.sub", 7, INB_KIND_PACKAGE, NULL, out, 4);
    assert_int_equal(n, strlen("pkg/sub/__init__.py"));
    assert_int_equal(out[4], 'x');
    assert_int_equal(inb_modpath_file("m", 1, INB_KIND_MODULE, NULL, NULL, 0),
                     4);
    n = inb_modpath_file("m", 1, INB_KIND_MODULE, NULL, out, 5);
    assert_int_equal(n, 4);
    assert_string_equal(out, "m.py");
}

static void
test_names_of_paths(void **state)
{
    static const char *bad[] = {"", "a.b", "/a", "a/", "a//b", "a/.b"};
    char out[16];
    size_t i;
    int kind = -1;
    long n;

    (void)state;
    assert_int_equal(inb_modpath_name("a/b/c", 5, out, sizeof(out)), 0);
    assert_memory_equal(out, "a.b.c", 5);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (inb_modpath_name(bad[i], strlen(bad[i]), out, sizeof(out)) != -1) {
            fail_msg("%s named a module", bad[i]);
        }
    }
    assert_int_equal(inb_modpath_name("abcdef", 6, out, 5), -1);

    n = inb_modpath_of_source("a/b.py", 6, out, sizeof(out), &kind);
    assert_int_equal(n, 3);
    assert_memory_equal(out, "a.b", 3);
    assert_int_equal(kind, INB_KIND_MODULE);
    n = inb_modpath_of_source("a/b/__init__.py", 15, out, sizeof(out), &kind);
    assert_int_equal(n, 3);
    assert_memory_equal(out, "a.b", 3);
    assert_int_equal(kind, INB_KIND_PACKAGE);
    n = inb_modpath_of_source("__init__.py", 11, out, sizeof(out), &kind);
    assert_int_equal(n, 8);
    assert_int_equal(kind, INB_KIND_MODULE);
    assert_int_equal(inb_modpath_of_source("a/b.txt", 7, out, 16, &kind), -1);
    assert_int_equal(inb_modpath_of_source("a/b.c.py", 8, out, 16, &kind), -1);
    assert_int_equal(inb_modpath_of_source(".py", 3, out, 16, &kind), -1);
}

/* Runs every test, or those whose name matches argv[1] (a pattern with
 * * and ?, as cmocka_set_test_filter() takes). */
int
main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_files_of_each_kind),
        cmocka_unit_test(test_short_output_is_measured_not_overrun),
        cmocka_unit_test(test_names_of_paths),
    };

    if (argc > 1) {
        cmocka_set_test_filter(argv[1]);
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
