/* setup.h: read a Setup file, the format of CPython's Modules/Setup, into
 * built-in extension modules. */
#ifndef INB_SETUP_H
#define INB_SETUP_H

#include "extension.h"

/* Read the Setup file at path and declare its modules in l.  The grammar
 * is CPython's: `#` starts a comment, a trailing backslash continues a
 * line, `NAME = value` defines a variable used as $(NAME) or ${NAME}
 * (else the environment's), the tag lines *static*, *shared* and
 * *disabled* mark the lines after them (static and shared modules are both
 * built in: the executable has no separate shared objects; disabled ones
 * are skipped), and a module line is `name... source... cpparg...
 * library...` where names may be dotted (mypkg.sub._ext).  Relative paths
 * are relative to the file's directory.  Exits with an error naming
 * path:line on a line it cannot read. */
INB_HIDDEN void inb_setup_read(struct inb_exts *l, const char *path);

#endif
