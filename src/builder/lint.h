/* lint.h: build-time notes about code that reads files next to its own
 * __file__ (served by the file layer, but not with INBUILT_VFS=0). */
#ifndef INB_LINT_H
#define INB_LINT_H

#include "collect.h"
#include "inb.h"

/* With --verbose, note, with file and line, each place where a module of
 * an --include'd package opens a file next to its __file__ with open()
 * (directly, or through a name bound to an expression using __file__):
 * the file layer serves it, but not with INBUILT_VFS=0.  Needs the
 * compiler's interpreter started.  Returns the number of places. */
INB_HIDDEN int inb_lint_file_reads(const struct inb_collect *c);

#endif
