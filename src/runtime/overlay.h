/* overlay.h: INBUILT_OVERLAY=DIR, a directory whose modules and data files
 * take precedence over the embedded ones, for trying a fix without
 * rebuilding. */
#ifndef INB_OVERLAY_H
#define INB_OVERLAY_H

#include <Python.h>

#include "inb.h"

/* Look module name (str) up in the overlay, when INBUILT_OVERLAY names one
 * (the first call reads the variable and says on sys.stderr, once, that an
 * overlay is active).  Returns 1 with *spec set to a new reference (a spec
 * whose loader reads the overlay's file), 0 when the overlay is off or has
 * no such module, -1 with an exception set. */
INB_HIDDEN int inb_overlay_find_spec(PyObject *name, PyObject **spec);

/* Add overlay_file(rel) to the _inbuilt module (borrowed): the path of file
 * rel ("pkg/data/x.txt") of the virtual tree in the overlay, or None.
 * Returns 0, or -1 with an exception set. */
INB_HIDDEN int inb_overlay_add_to_module(PyObject *module);

#endif
