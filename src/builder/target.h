/* target.h: the Python environment modules are taken from (--python), and
 * its CPython, which the executable links. */
#ifndef INB_TARGET_H
#define INB_TARGET_H

#include <stddef.h>
#include <stdint.h>

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
    /* Its CPython (a venv's base interpreter's), from sysconfig: */
    char *base_prefix;    /* sys.base_prefix */
    char *stdlib_dir;     /* the pure-Python standard library */
    char *platstdlib_dir; /* ..., whose lib-dynload holds its .so modules */
    char *include;        /* the directory of Python.h */
    char *platinclude;    /* the directory of pyconfig.h */
    char *staticlib;      /* libpython3.X.a (checked to exist) */
    char *libs;           /* the libraries libpython needs: -lm -lz ... */
    char *ext_suffix;     /* ".cpython-311-x86_64-linux-gnu.so" */
    char *ext_cflags;     /* how it compiles extension modules */
    uint32_t magic;       /* its bytecode magic number, little-endian */
    uint32_t hexversion;  /* sys.hexversion */
};

/* The target of this build, set by inb_target_query(); NULL before. */
INB_HIDDEN extern const struct inb_target *inb_py;

/* Run python to learn its version, sys.path and build facts (or take
 * them from the build cache while nothing the run read has changed:
 * memo.h), and make t the target (inb_py; t must outlive its use).  Exits with
 * an error naming python when it cannot be run, is not CPython 3.10 to 3.13,
 * or lacks its static libpython or headers (saying what to install). */
INB_HIDDEN void inb_target_query(struct inb_target *t, const char *python);

#endif
