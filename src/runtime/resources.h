/* resources.h: what the archive holds besides code (module source, package
 * data files, distribution metadata), served to Python: the primitives of
 * the _inbuilt module, on which the archive's _inbuilt_support module
 * (loader.py) builds, and the loader's get_source(). */
#ifndef INB_RESOURCES_H
#define INB_RESOURCES_H

#include <Python.h>

#include "archive.h"

/* Add the primitives to the module _inbuilt: root, read(ns, name),
 * names(ns, prefix), module_kind(name), tree_kind(rel),
 * tree_read(rel), tree_list(rel), module_dir(name), loadable(rel).
 * Returns 0, or -1 with an exception set. */
INB_HIDDEN int inb_resources_add_to_module(PyObject *module);

/* New reference: the decoded source of module name (a str) when the
 * archive keeps it, None when it does not; NULL with ImportError naming the
 * module when its source entry is corrupt. */
INB_HIDDEN PyObject *inb_resources_get_source(PyObject *name);

/* New reference: the directory of module name (a str) in the virtual
 * tree, relative to the root: "a/b" for a.b (modpath.c's rule).  NULL with
 * an exception set. */
INB_HIDDEN PyObject *inb_resources_module_dir(PyObject *name);

#endif
