/* deps.c: which installed distributions provide the included packages,
 * what they require and what they import, found by the target interpreter
 * itself running src/builder/deps.py (importlib.metadata reads the
 * .dist-info and .egg-info directories of its environment; ast reads the
 * modules).  One script answers both the builder's questions, so that the
 * packages --include follows and the metadata the executable embeds come
 * from one mapping of names to distributions.  Nothing is imported, so
 * nothing of the user's code runs at build time. */
#include "deps.h"

#include <stdlib.h>
#include <string.h>

#include "memo.h"

/* The text of src/builder/deps.py, generated into the build directory by
 * the Makefile: what the target interpreter runs for this file. */
extern const char inb_deps_py[];

/* Run deps.py in mode with roots, names and the --exclude patterns
 * excludes (may be NULL); its records are left in out.  what names the
 * step in the error when python fails. */
static void
run_script(const char *python, const char *mode, const struct inb_strv *roots,
           const struct inb_strv *names, const struct inb_strv *excludes,
           struct inb_buf *out, const char *what)
{
    size_t nex = excludes != NULL ? excludes->n : 0;
    char **argv =
        inb_xmalloc((roots->n + names->n + nex + 8) * sizeof(char *));
    size_t i, k = 0;
    int rc;

    argv[k++] = (char *)python;
    argv[k++] = "-I";
    argv[k++] = "-c";
    argv[k++] = (char *)inb_deps_py;
    argv[k++] = (char *)mode;
    for (i = 0; i < roots->n; i++) {
        argv[k++] = roots->v[i];
    }
    argv[k++] = "--";
    for (i = 0; i < names->n; i++) {
        argv[k++] = names->v[i];
    }
    argv[k++] = "--";
    for (i = 0; i < nex; i++) {
        argv[k++] = excludes->v[i];
    }
    argv[k] = NULL;
    rc = inb_memo_find(argv, out) ? 0 : inb_memo_run(argv, out);
    free(argv);
    if (rc != 0) {
        inb_fatal("--python %s failed (exit status %d) reading %s", python, rc,
                  what);
    }
}

void
inb_deps_dist_dirs(const char *python, const struct inb_strv *roots,
                   const struct inb_strv *names, struct inb_strv *dirs)
{
    struct inb_buf out = {0};
    size_t n = 0;
    char *key, *value;

    memset(dirs, 0, sizeof(*dirs));
    if (names->n == 0) {
        return;
    }
    run_script(python, "meta", roots, names, NULL, &out,
               "the metadata of the included packages");
    while (inb_record_next(&out, &n, &key, &value)) {
        if (strcmp(key, "dist") == 0) {
            inb_strv_add(dirs, value);
        }
    }
    inb_buf_free(&out);
}

void
inb_deps_resolve(const char *python, const struct inb_strv *roots,
                 const struct inb_strv *names, const struct inb_strv *excludes,
                 struct inb_deps *d)
{
    struct inb_buf out = {0};
    size_t n = 0;
    char *key, *value;

    memset(d, 0, sizeof(*d));
    run_script(python, "deps", roots, names, excludes, &out,
               "the requirements of the included packages; --no-deps "
               "skips that step");
    while (inb_record_next(&out, &n, &key, &value)) {
        if (strcmp(key, "add") == 0) {
            inb_strv_add(&d->add, value);
        }
        else if (strcmp(key, "why") == 0) {
            inb_strv_add(&d->why, value);
        }
        else if (strcmp(key, "missing") == 0) {
            inb_strv_add(&d->missing, value);
        }
    }
    inb_buf_free(&out);
}
