/* realpath.h: os.path.realpath() of a path under the executable answered
 * without a system call (realpath.c). */
#ifndef INB_REALPATH_H
#define INB_REALPATH_H

#include <Python.h>

#include "inb.h"

/* Replace posixpath.realpath (posixpath: the module, borrowed, just
 * executed) by a function that answers paths under the executable from
 * memory and calls the original for the rest.  Returns 0, or -1 with an
 * exception set. */
INB_HIDDEN int inb_realpath_install(PyObject *posixpath);

#endif
