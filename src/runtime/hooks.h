/* hooks.h: where the runtime hooks into CPython and the stdlib so that
 * they read the archive instead of the disk: sys.excepthook and
 * sys.unraisablehook (tracebacks with source lines from the archive, and
 * the hint for a module the executable lacks), and the services given to
 * linecache, ctypes, sysconfig and (before 3.13) threading once each has
 * been executed. */
#ifndef INB_HOOKS_H
#define INB_HOOKS_H

#include <Python.h>

#include "inb.h"

/* Add excepthook and unraisablehook to the module _inbuilt (borrowed).
 * Returns 0, or -1 with an exception set. */
INB_HIDDEN int inb_hooks_add_to_module(PyObject *module);

/* Make sys.unraisablehook and sys.excepthook (and sys.__excepthook__, the
 * same hook) print through the traceback module (before 3.13, whose own
 * printer uses it), so that exceptions show the source lines of in-memory
 * modules (CPython's C printer opens source files itself).  Returns 0, or
 * -1 with an exception set. */
INB_HIDDEN int inb_hooks_configure(void);

/* Called after module name (a str) has been executed: gives linecache the
 * archive's source, ctypes the virtual tree's shared objects, sysconfig its
 * stdlib, posixpath a realpath() that answers the tree from memory
 * (realpath.c), and (before 3.13) threading a default excepthook that
 * prints source lines from the archive.  Returns 0, or -1 with an exception
 * set. */
INB_HIDDEN int inb_hooks_after_exec(PyObject *name, PyObject *module);

#endif
