/* target.c: learn the version and sys.path of a Python environment by
 * running its interpreter once. */
#include "target.h"

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
