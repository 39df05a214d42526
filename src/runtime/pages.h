/* pages.h: fewer page faults for the interpreter's memory. */
#ifndef INB_PAGES_H
#define INB_PAGES_H

#include "inb.h"

/* Copy the executable's writable data in at once and, unless
 * INBUILT_HUGEPAGES=0, put pymalloc's arenas and (unless
 * INBUILT_HUGEPAGES=arenas) the C library's heap on transparent huge
 * pages; unless INBUILT_HUGEPAGES=keep, inb_pages_settle() gives their
 * unused parts back.  Call before the interpreter allocates anything.
 * Returns 0 (a step that fails is skipped silently), or -1 with the reason
 * in err when INBUILT_HUGEPAGES has another value. */
INB_HIDDEN int inb_pages_init(char *err, size_t errsize);

/* The interpreter has started (start-up's imports are done): from now on
 * inb_pages_settle() gives pages back. */
INB_HIDDEN void inb_pages_started(void);

/* Give back to the kernel the unused part of each heap's last huge page
 * (pages.c, step 4).  Call when a burst of allocation is over (the
 * outermost import has returned); any thread, at any time; failures are
 * silent. */
INB_HIDDEN void inb_pages_settle(void);

#endif
