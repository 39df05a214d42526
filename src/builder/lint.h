/* lint.h: build-time warnings about code that cannot work once its package
 * lives in memory. */
#ifndef INB_LINT_H
#define INB_LINT_H

#include "collect.h"
#include "inb.h"

/* Warn, with file and line, for each place where a module of an --include'd
 * package opens a file next to its __file__ with open() (directly, or
 * through a name bound to an expression using __file__), suggesting
 * importlib.resources.  Needs the compiler's interpreter started.  Returns
 * the number of warnings. */
INB_HIDDEN int inb_lint_file_reads(const struct inb_collect *c);

#endif
