/* target.h: the Python environment modules are taken from (--python), and
 * the CPython this inbuilt was built for. */
#ifndef INB_TARGET_H
#define INB_TARGET_H

#include <stddef.h>

#include "inb.h"
#include "util.h"

/* What inb_target_query() learns of an environment. */
struct inb_target {
    char *python;                /* the interpreter as given */
    char *version;               /* "3.11" */
    char *full_version;          /* "3.11.2" */
    char *prefix;                /* its sys.prefix (a venv's or conda env's) */
    struct inb_strv paths;       /* its sys.path, directories only */
    struct inb_strv stdlib_dirs; /* its stdlib, platstdlib, lib-dynload */
};

/* Run python to learn its version and sys.path; exits with an error naming
 * python when it cannot be run or is another major.minor version than the
 * libpython inbuilt links. */
INB_HIDDEN void inb_target_query(struct inb_target *t, const char *python);

#endif
