/* cpysource.h: --cpython-source DIR: the standard library's extension modules
 * that the target ships only as shared objects, compiled from a CPython
 * source tree and linked in as built-in modules. */
#ifndef INB_CPYSOURCE_H
#define INB_CPYSOURCE_H

#include "collect.h"
#include "extension.h"

/* Declare in l, as optional extensions (a module that fails to compile is
 * reported and stays a shared object), every extension module of c that
 * comes from the target's lib-dynload and that l does not declare yet,
 * with the recipe of DIR's Modules/Setup.stdlib.in (and, for _ctypes,
 * which 3.11 builds with setup.py, its sources and libffi) and the
 * target's configure results (sysconfig's MODULE_<NAME>_CFLAGS,
 * _LDFLAGS, _STATE).  Modules without a recipe are reported.  Exits when
 * DIR is not a CPython source tree of the target's version. */
INB_HIDDEN void inb_cpysource_declare(struct inb_exts *l,
                                      const struct inb_collect *c,
                                      const char *dir);

#endif
