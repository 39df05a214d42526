/* pages.h: fewer page faults for the interpreter's memory. */
#ifndef INB_PAGES_H
#define INB_PAGES_H

#include "inb.h"

/* Copy the executable's writable data in at once and, unless
 * INBUILT_HUGEPAGES=0, put pymalloc's arenas on transparent huge pages
 * (and the C library's heap too with INBUILT_HUGEPAGES=all).
 * Call before the interpreter allocates anything; failures are silent. */
INB_HIDDEN void inb_pages_init(void);

#endif
