/* resources.h: what the archive holds besides code (module source, package
 * data files, distribution metadata), served to Python: the primitives of
 * the _inbuilt module, the loader's get_source(), and the services written
 * in Python in the archive's _inbuilt_support module (loader.py). */
#ifndef INB_RESOURCES_H
#define INB_RESOURCES_H

#include <Python.h>

#include "archive.h"

/* Remember the archive (borrowed, lives as long as the process) and the
 * virtual root (a str, borrowed: the finder keeps it alive). */
INB_HIDDEN void inb_resources_init(const inb_archive *archive, PyObject *root);

/* Add the primitives to the module _inbuilt: root, read(ns, name),
 * has(ns, name), names(ns, prefix), module_kind(name), excepthook.
 * Returns 0, or -1 with an exception set. */
INB_HIDDEN int inb_resources_add_to_module(PyObject *module);

/* New reference: the decoded source of module name (a str) when the
 * archive keeps it, None when it does not; NULL with ImportError naming the
 * module when its source entry is corrupt. */
INB_HIDDEN PyObject *inb_resources_get_source(PyObject *name);

/* New reference: _inbuilt_support.func(arg), importing that module on first
 * use; NULL with an exception set. */
INB_HIDDEN PyObject *inb_resources_call(const char *func, PyObject *arg);

/* Called after module name (a str) has been executed: gives linecache the
 * archive's source, posixpath a realpath() that answers the tree from
 * memory (realpath.c), and (before 3.13) threading a default excepthook
 * that prints source lines from it.  Returns 0, or -1 with an exception set.
 */
INB_HIDDEN int inb_resources_after_exec(PyObject *name, PyObject *module);

/* Make sys.unraisablehook (and, before 3.13, sys.excepthook) print through
 * the traceback module, so that exceptions show the source lines of
 * in-memory modules (CPython's C printer opens source files itself).
 * Returns 0, or -1 with an exception set. */
INB_HIDDEN int inb_resources_configure(void);

#endif
