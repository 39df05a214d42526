/* support.h: the calls from C into _inbuilt_support, the runtime's Python
 * half (src/runtime/loader.py, compiled into every archive).  Only the top
 * of the runtime calls down into it (the finder's loader methods, the
 * hooks, the overlay's specs); it calls only the primitives of _inbuilt
 * below it (resources.c, overlay.c), never back up. */
#ifndef INB_SUPPORT_H
#define INB_SUPPORT_H

#include <Python.h>

#include "inb.h"

/* New reference: _inbuilt_support.func(arg), importing that module on first
 * use; NULL with an exception set. */
INB_HIDDEN PyObject *inb_support_call(const char *func, PyObject *arg);

/* New reference: attribute attr of module modname (imported if need be);
 * NULL with an exception set.  The finder and extload.c fetch CPython's
 * importlib and _imp functions with it. */
INB_HIDDEN PyObject *inb_import_attr(const char *modname, const char *attr);

#endif
