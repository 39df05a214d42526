/* pages.h: fewer page faults for the interpreter's memory. */
#ifndef INB_PAGES_H
#define INB_PAGES_H

#include "inb.h"

/* Copy the executable's writable data in at once and, unless
 * INBUILT_HUGEPAGES=0, put pymalloc's arenas and (unless
 * INBUILT_HUGEPAGES=arenas) the C library's heap on transparent huge
 * pages.
 * Call before the interpreter allocates anything; failures are silent. */
INB_HIDDEN void inb_pages_init(void);

#endif
