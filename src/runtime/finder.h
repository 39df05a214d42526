/* finder.h: the meta-path finder and loader that serve modules from the
 * embedded archive, exposed to Python as the built-in module _inbuilt. */
#ifndef INB_FINDER_H
#define INB_FINDER_H

#include <Python.h>

#include "archive.h"

/* The init function of the built-in module _inbuilt, for the inittab. */
INB_HIDDEN PyObject *inb_finder_init_module(void);

/* Put the in-memory finder first on sys.meta_path, serving the archive
 * and the virtual root that tree.c holds (the directory under which
 * modules get __file__ and __path__).  Call after the core phase of
 * initialization.  Returns 0, or -1 with a Python exception set. */
INB_HIDDEN int inb_finder_install(void);

/* After the main phase: add a path hook that claims the executable's
 * virtual directories (so neither a path-based finder nor zipimport ever
 * opens them), and when strict, drop CPython's path-based finder so that
 * nothing is looked for on disk.  Returns 0, or -1 with an exception set. */
INB_HIDDEN int inb_finder_configure(int strict);

#endif
