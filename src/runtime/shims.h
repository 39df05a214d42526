/* shims.h: built-in modules for extension modules whose implementation is
 * already inside libpython but which the target ships as separate .so files
 * (Debian's _contextvars). */
#ifndef INB_SHIMS_H
#define INB_SHIMS_H

#include "inb.h"

/* Add to the inittab each shim whose module the static libpython does not
 * already build in.  Call before initialization.  Returns 0, or -1 when
 * the inittab cannot grow. */
INB_HIDDEN int inb_shims_register(void);

#endif
