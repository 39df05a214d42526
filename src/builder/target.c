/* target.c: learn the version and sys.path of a Python environment, and
 * what linking its CPython takes (headers, static libpython, libraries),
 * by running its interpreter once. */
#include "target.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "memo.h"
#include "spawn.h"
#include "util.h"

/* target.py, the query (NUL-terminated "key=value" records). */
extern const char inb_target_py[];

const struct inb_target *inb_py;

/* The record of key, or NULL: each fact below is printed once. */
static char **
fact(struct inb_target *t, const char *key)
{
    static const struct {
        const char *key;
        size_t offset;
    } facts[] = {
        {"version", offsetof(struct inb_target, version)},
        {"full_version", offsetof(struct inb_target, full_version)},
        {"prefix", offsetof(struct inb_target, prefix)},
        {"base_prefix", offsetof(struct inb_target, base_prefix)},
        {"stdlib_dir", offsetof(struct inb_target, stdlib_dir)},
        {"platstdlib_dir", offsetof(struct inb_target, platstdlib_dir)},
        {"include", offsetof(struct inb_target, include)},
        {"platinclude", offsetof(struct inb_target, platinclude)},
        {"staticlib", offsetof(struct inb_target, staticlib)},
        {"ext_suffix", offsetof(struct inb_target, ext_suffix)},
        {"ext_cflags", offsetof(struct inb_target, ext_cflags)},
        {"libs", offsetof(struct inb_target, libs)},
    };
    size_t i;

    for (i = 0; i < sizeof(facts) / sizeof(facts[0]); i++) {
        if (strcmp(key, facts[i].key) == 0) {
            return (char **)((char *)t + facts[i].offset);
        }
    }
    return NULL;
}

/* Exit unless t's CPython (of a supported version: check_interpreter)
 * can be linked: its static libpython and headers are installed. */
static void
check_linkable(const struct inb_target *t)
{
    char *header;

    if (t->staticlib == NULL || t->include == NULL || t->stdlib_dir == NULL ||
        t->platstdlib_dir == NULL || t->libs == NULL ||
        t->ext_suffix == NULL || t->ext_cflags == NULL ||
        t->platinclude == NULL || t->base_prefix == NULL) {
        inb_fatal("--python %s: its sysconfig did not describe how it was "
                  "built",
                  t->python);
    }
    if (access(t->staticlib, R_OK) < 0) {
        inb_fatal("--python %s (Python %s in %s) has no static libpython "
                  "%s, which inbuilt links into every executable; install "
                  "it: Debian and Ubuntu: apt-get install libpython%s-dev; "
                  "pyenv: reinstall without --enable-shared (pyenv install "
                  "--force %s); conda: conda install libpython-static; or "
                  "give --python a Python that has it",
                  t->python, t->full_version, t->base_prefix, t->staticlib,
                  t->version, t->full_version);
    }
    header = inb_xprintf("%s/Python.h", t->include);
    if (access(header, R_OK) < 0) {
        inb_fatal("--python %s (Python %s in %s) has no C headers (%s "
                  "missing); install them: Debian and Ubuntu: apt-get "
                  "install libpython%s-dev",
                  t->python, t->full_version, t->base_prefix, header,
                  t->version);
    }
    free(header);
}

/* The CPython versions inbuilt supports: 3.MIN_MINOR to 3.MAX_MINOR. */
enum { MIN_MINOR = 10, MAX_MINOR = 13 };

/* probe.py: prints "inbuilt-probe X.Y.Z" in Python 2 and 3 alike. */
extern const char inb_probe_py[];

/* Exit with one clear line unless python is a Python of a supported
 * version: run before the query script, so that a program that is no
 * Python (or a Python 2, which has no -I) never echoes that script in its
 * errors.  Only options Python 2 has too (-E, -s) are given. */
static void
check_interpreter(const char *python)
{
    char *argv[] = {(char *)python,       "-E", "-s", "-c",
                    (char *)inb_probe_py, NULL};
    struct inb_buf out = {0};
    const char *probe, *last;
    int rc, major = 0, minor = 0, patch = 0;

    rc = inb_spawn_run_both(argv, &out);
    probe = out.data != NULL ? strstr(out.data, "inbuilt-probe ") : NULL;
    if (rc != 0 || probe == NULL ||
        sscanf(probe, "inbuilt-probe %d.%d.%d", &major, &minor, &patch) != 3) {
        /* The last line it printed says most (a Python's fatal error). */
        while (out.len > 0 && (out.data[out.len - 1] == '\n' ||
                               out.data[out.len - 1] == '\r')) {
            out.data[--out.len] = '\0';
        }
        last = out.len > 0 ? strrchr(out.data, '\n') : NULL;
        last = last != NULL ? last + 1 : out.len > 0 ? out.data : "nothing";
        inb_fatal("--python %s: not a working Python interpreter (exit "
                  "status %d; its last line of output: %.200s); give the "
                  "path of the environment's python3",
                  python, rc, last);
    }
    if (major != 3 || minor < MIN_MINOR || minor > MAX_MINOR) {
        inb_fatal("--python %s is Python %d.%d.%d, which is not supported: "
                  "CPython 3.%d to 3.%d are",
                  python, major, minor, patch, MIN_MINOR, MAX_MINOR);
    }
    inb_buf_free(&out);
}

void
inb_target_query(struct inb_target *t, const char *python)
{
    char *argv[] = {(char *)python, "-I", "-c", (char *)inb_target_py, NULL};
    struct inb_buf out = {0};
    size_t n = 0;
    char *key, *value;
    int rc = 0;

    memset(t, 0, sizeof(*t));
    if (strchr(python, '/') != NULL && access(python, X_OK) < 0) {
        inb_fatal("--python %s: not an executable interpreter:", python);
    }
    t->python = inb_xstrdup(python);
    /* A run kept in the build cache was of a Python it checked. */
    if (!inb_memo_find(argv, &out)) {
        check_interpreter(python);
        rc = inb_memo_run(argv, &out);
    }
    if (rc != 0) {
        inb_fatal("--python %s: the interpreter failed (exit status %d); "
                  "give the path of a working python of the environment",
                  python, rc);
    }
    while (inb_record_next(&out, &n, &key, &value)) {
        char **slot = fact(t, key);

        if (slot != NULL && *slot == NULL) {
            *slot = inb_xstrdup(value);
        }
        else if (strcmp(key, "path") == 0 && inb_is_dir(value)) {
            inb_strv_add(&t->paths, value);
        }
        else if (strcmp(key, "stdlib") == 0) {
            inb_strv_add(&t->stdlib_dirs, value);
        }
        else if (strcmp(key, "magic") == 0) {
            t->magic = (uint32_t)strtoul(value, NULL, 10);
        }
        else if (strcmp(key, "hexversion") == 0) {
            t->hexversion = (uint32_t)strtoul(value, NULL, 10);
        }
    }
    inb_buf_free(&out);
    if (t->version == NULL || t->magic == 0 || t->hexversion == 0) {
        inb_fatal("--python %s: did not report its version; is it a "
                  "Python interpreter?",
                  python);
    }
    check_linkable(t);
    inb_py = t;
}
