/* collect.h: find the modules an executable will carry: the target's
 * standard library and each --include'd module or package, less what
 * --exclude drops. */
#ifndef INB_COLLECT_H
#define INB_COLLECT_H

#include <stddef.h>

#include "inb.h"
#include "util.h"

/* One module found. */
struct inb_module {
    char *name;    /* full dotted name */
    int kind;      /* INB_KIND_MODULE, _PACKAGE, _NAMESPACE, _SHARED_EXT,
                      _EXT_ABSENT */
    char *path;    /* the .py or .so file; NULL for a namespace package */
    char *relname; /* "a/b/__init__.py", "a/_m.cpython-311-...so": the
                      file's name inside the archive */
    int priority;  /* 0 for --include, 1 for the stdlib: lower wins */
    int rank;      /* then 0 for an extension of this CPython's suffixes,
                      1 for another version's: lower wins */
    size_t order;  /* order found, for stable de-duplication */
};

/* The collection in progress. */
struct inb_collect {
    struct inb_module *mods;
    size_t n, cap;
    struct inb_strv excludes; /* fnmatch patterns on dotted names */
    struct inb_strv roots;    /* search roots for --include, in order */
    struct inb_strv included; /* names given to --include */
};

/* Add an --exclude pattern (applies to everything collected after). */
INB_HIDDEN void inb_collect_exclude(struct inb_collect *c,
                                    const char *pattern);
/* Add a search root for --include (searched in the order added). */
INB_HIDDEN void inb_collect_root(struct inb_collect *c, const char *dir);
/* Whether name or one of its parent packages matches an --exclude. */
INB_HIDDEN int inb_collect_excluded(const struct inb_collect *c,
                                    const char *name);
/* Add the standard library under dir, but its test suites, idlelib,
 * tkinter and turtledemo, and the extension modules in dynload (may be
 * NULL), but the test suites' helpers, which are recorded as left out. */
INB_HIDDEN void inb_collect_stdlib(struct inb_collect *c, const char *dir,
                                   const char *dynload);
/* Add module or package name, its parent packages and all its submodules,
 * found on the roots as CPython would find it (PEP 420 included).  Exits
 * with an error naming name and the roots when it is not found. */
INB_HIDDEN void inb_collect_include(struct inb_collect *c, const char *name);
/* Sort by name and drop duplicates: an --include'd module wins over the
 * stdlib's, and an earlier root over a later one. */
INB_HIDDEN void inb_collect_finish(struct inb_collect *c);
/* After finish: the module named name, or NULL. */
INB_HIDDEN const struct inb_module *
inb_collect_find(const struct inb_collect *c, const char *name);

#endif
