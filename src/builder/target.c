/* target.c: learn the version and sys.path of a Python environment by
 * running its interpreter once. */
#include "target.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "spawn.h"
#include "util.h"

/* Prints NUL-terminated "key=value" records; paths are written as bytes
 * with os.fsencode, so any file name survives. */
static const char query_script[] =
    "import os, sys, sysconfig\n"
    "w = sys.stdout.buffer.write\n"
    "def out(k, v): w(k.encode() + b'=' + os.fsencode(v) + b'\\0')\n"
    "out('version', '%d.%d' % sys.version_info[:2])\n"
    "out('full_version', '%d.%d.%d' % sys.version_info[:3])\n"
    "out('prefix', sys.prefix)\n"
    "for p in sys.path: out('path', os.path.abspath(p or '.'))\n"
    "for k in ('stdlib', 'platstdlib'): out('stdlib', sysconfig.get_path(k))\n"
    "d = sysconfig.get_config_var('DESTSHARED')\n"
    "if d: out('stdlib', d)\n"
    "for p in sys.path:\n"
    "    if p.endswith('lib-dynload'): out('stdlib', p)\n";

/* The CPython versions inbuilt supports: 3.MIN_MINOR to 3.MAX_MINOR. */
enum { MIN_MINOR = 10, MAX_MINOR = 13 };

/* Prints "inbuilt-probe X.Y.Z" in Python 2 and 3 alike. */
static const char probe_script[] =
    "import sys; sys.stdout.write('inbuilt-probe %d.%d.%d\\n' % "
    "tuple(sys.version_info[:3]))";

/* Exit with one clear line unless python is a Python of a supported
 * version: run before the query script, so that a program that is no
 * Python (or a Python 2, which has no -I) never echoes that script in its
 * errors.  Only options Python 2 has too (-E, -s) are given. */
static void
check_interpreter(const char *python)
{
    char *argv[] = {(char *)python,       "-E", "-s", "-c",
                    (char *)probe_script, NULL};
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

static int
is_dir(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

void
inb_target_query(struct inb_target *t, const char *python)
{
    char *argv[] = {(char *)python, "-I", "-c", (char *)query_script, NULL};
    struct inb_buf out = {0};
    size_t n = 0;
    char *key, *value;
    int rc;

    memset(t, 0, sizeof(*t));
    if (strchr(python, '/') != NULL && access(python, X_OK) < 0) {
        inb_fatal("--python %s: not an executable interpreter:", python);
    }
    check_interpreter(python);
    t->python = inb_xstrdup(python);
    rc = inb_spawn_run(argv, &out);
    if (rc != 0) {
        inb_fatal("--python %s: the interpreter failed (exit status %d); "
                  "give the path of a working python of the environment",
                  python, rc);
    }
    while (inb_record_next(&out, &n, &key, &value)) {
        if (strcmp(key, "version") == 0) {
            t->version = inb_xstrdup(value);
        }
        else if (strcmp(key, "full_version") == 0) {
            t->full_version = inb_xstrdup(value);
        }
        else if (strcmp(key, "prefix") == 0) {
            t->prefix = inb_xstrdup(value);
        }
        else if (strcmp(key, "path") == 0 && is_dir(value)) {
            inb_strv_add(&t->paths, value);
        }
        else if (strcmp(key, "stdlib") == 0) {
            inb_strv_add(&t->stdlib_dirs, value);
        }
    }
    inb_buf_free(&out);
    if (t->version == NULL) {
        inb_fatal("--python %s: did not report its version; is it a "
                  "Python interpreter?",
                  python);
    }
    if (strcmp(t->version, INB_PY_VERSION) != 0) {
        inb_fatal("--python %s is Python %s, but this inbuilt links the "
                  "static libpython of Python %s (%s): give a %s "
                  "environment, or build inbuilt with "
                  "`make PYTHON=/path/to/python%s`",
                  python, t->full_version ? t->full_version : t->version,
                  INB_PY_VERSION, INB_PY_STATICLIB, INB_PY_VERSION,
                  t->version);
    }
}
