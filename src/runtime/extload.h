/* extload.h: extension modules from the archive that are shared objects
 * (kind shared-ext): made loadable from memory by memso.c and initialized
 * by CPython's own extension loader.  (One linked into the executable,
 * kind builtin-ext, is created by builtin.c.) */
#ifndef INB_EXTLOAD_H
#define INB_EXTLOAD_H

#include <Python.h>

#include "archive.h"

/* Make the shared object of archive entry e loadable (inb_memso_prepare(),
 * whose contract this has), and print on sys.stderr, once, the one line a
 * fall-back from memory files to the cache directory owes the user. */
INB_HIDDEN int inb_extload_prepare(const inb_entry *e, char *path,
                                   size_t pathsize, char *err, size_t errsize);

/* New reference: the module of extension name (a str) found as entry e
 * (kind shared-ext), for spec, whose loader is loader: CPython's
 * extension loader (_imp.create_dynamic: single- or multi-phase init, the
 * package context of a dotted name) runs it from the path
 * inb_extload_prepare() gives, and the module's __file__ is spec.origin.
 * NULL with an exception set: a load failure is an ImportError naming the
 * module, with the loader's message, caused by the loader's own exception.
 */
INB_HIDDEN PyObject *inb_extload_create(PyObject *loader, PyObject *spec,
                                        PyObject *name, const inb_entry *e);

/* Run the exec slots of extension module (multi-phase init; shared or
 * built in), as ExtensionFileLoader.exec_module does.  Returns 0, or -1
 * with an exception set. */
INB_HIDDEN int inb_extload_exec(PyObject *module);

#endif
