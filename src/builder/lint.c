/* lint.c: say, with --verbose, where code reads files next to its own
 * __file__ with open(): the executable's file layer serves those reads
 * from memory, so this is a note, not a warning (they fail with
 * INBUILT_VFS=0).  The results are kept in the build cache like the
 * bytecode.  The check walks each module's
 * syntax tree with the target interpreter (ast, in the compile server):
 * a call of open()
 * (builtins, io, codecs, os) or of Path.open/read_text/read_bytes whose
 * file argument or receiver uses __file__, directly or through a name an
 * assignment anywhere in the module bound to an expression using it.
 * Test modules are not checked, nor code that only runs when its module is
 * __main__ (a script's `if __name__ == "__main__":` block and the
 * module-level functions only that block names): such code runs from a
 * source tree, not from an executable. */
#include "lint.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "archive.h"
#include "cache.h"
#include "compile.h"
#include "util.h"

/* lint.py, the checker. */
extern const char inb_lint_py[];
extern const size_t inb_lint_py_len;

/* The lines of module m that read a file next to __file__, as "12,40",
 * appended to out: from the build cache (keyed by the source's bytes, not
 * read when its fingerprint is known), else found by the checker in the
 * compile server, defined there on first use (*defined: 0 not yet, 1
 * done, -1 failed).  Returns 0, or -1 when it cannot run. */
static int
lint_lines(int *defined, const struct inb_module *m, struct inb_buf *out)
{
    struct inb_cache_key k;
    struct inb_buf src = {0};
    uint32_t version = inb_compile_version();
    int found;

    inb_cache_key_start(&k, "lint");
    inb_cache_key_add(&k, inb_lint_py, inb_lint_py_len + 1);
    inb_cache_key_add(&k, &version, sizeof(version));
    inb_cache_key_str(&k, m->path);
    found = inb_cache_get_file(&k, m->path, out, &src);
    inb_buf_free(&src);
    if (found != 0) {
        return found > 0 ? 0 : -1;
    }
    if (*defined == 0) {
        *defined = inb_compile_exec(inb_lint_py) == 0 ? 1 : -1;
        if (*defined < 0) {
            inb_note("cannot check for file reads next to __file__: no ast");
        }
    }
    if (*defined < 0 || inb_compile_call("check", m->path, out) < 0) {
        return -1;
    }
    inb_cache_put(&k, out->data ? out->data : "", out->len);
    return 0;
}

/* Warn for the lines of module m; returns how many. */
static int
lint_module(int *defined, const struct inb_module *m)
{
    struct inb_buf lines = {0};
    char *package = inb_xstrdup(m->name), *dot, *p, *end;
    int n = 0;

    if (m->kind == INB_KIND_MODULE && (dot = strrchr(package, '.')) != NULL) {
        *dot = '\0';
    }
    if (lint_lines(defined, m, &lines) == 0) {
        inb_buf_add(&lines, "", 1);
        for (p = lines.data; *p != '\0'; p = *end == ',' ? end + 1 : end) {
            long line = strtol(p, &end, 10);

            if (end == p) {
                break;
            }
            inb_note("%s:%ld: %s reads a file next to its __file__ with "
                     "open(): served from memory by the file layer, not "
                     "with INBUILT_VFS=0, where "
                     "importlib.resources.files('%s') still works",
                     m->path, line, m->name, package);
            n++;
        }
    }
    inb_buf_free(&lines);
    free(package);
    return n;
}

/* Whether dotted name is a test module: one of its components is test,
 * tests or conftest, or starts with test_ or ends with _test. */
static int
is_test_module(const char *name)
{
    char *copy = inb_xstrdup(name), *comp, *save = NULL;
    int found = 0;

    for (comp = strtok_r(copy, ".", &save); comp != NULL && !found;
         comp = strtok_r(NULL, ".", &save)) {
        size_t n = strlen(comp);

        found = strcmp(comp, "test") == 0 || strcmp(comp, "tests") == 0 ||
                strcmp(comp, "conftest") == 0 ||
                strncmp(comp, "test_", 5) == 0 ||
                (n > 5 && strcmp(comp + n - 5, "_test") == 0);
    }
    free(copy);
    return found;
}

int
inb_lint_file_reads(const struct inb_collect *c)
{
    size_t i;
    int warnings = 0, defined = 0;

    for (i = 0; i < c->n; i++) {
        const struct inb_module *m = &c->mods[i];

        if (m->priority == 0 &&
            (m->kind == INB_KIND_MODULE || m->kind == INB_KIND_PACKAGE) &&
            !is_test_module(m->name)) {
            warnings += lint_module(&defined, m);
        }
    }
    return warnings;
}
