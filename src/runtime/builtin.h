/* builtin.h: extension modules linked into the executable (archive kind
 * builtin-ext), initialized by calling their init function from the table
 * the builder generates. */
#ifndef INB_BUILTIN_H
#define INB_BUILTIN_H

#include <Python.h>

#include "archive.h"

/* One built-in extension module: its full dotted name and its init
 * function (PyInit_<last part>, renamed by the builder).  The builder
 * generates the table inb_builtin_table, ended by a {NULL, NULL} record. */
struct inb_builtin {
    const char *name;
    PyObject *(*init)(void);
};

/* New reference: the module of built-in extension name (a str), entry e of
 * kind builtin-ext, for spec.  Runs its init function with the package
 * context of the full dotted name, the way CPython's extension loader
 * does: a multi-phase module (PEP 489) is created from its definition and
 * spec (its exec slots run later, in exec_module); a single-phase one is
 * initialized once per process, and later imports get a copy of its first
 * namespace (m_size -1) or a new instance (m_size >= 0), as CPython gives
 * for extensions.  NULL with an exception set (ImportError naming the
 * module for a table entry that does not match e, or a damaged entry of
 * archive a). */
INB_HIDDEN PyObject *inb_builtin_create(const inb_archive *a, PyObject *spec,
                                        PyObject *name, const inb_entry *e);

#endif
