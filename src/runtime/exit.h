/* exit.h: a cheaper end of the interpreter, with the same visible effects
 * (see exit.c). */
#ifndef INB_EXIT_H
#define INB_EXIT_H

#include <Python.h>

#include "inb.h"

/* Register the atexit callback that lets the collections at exit skip the
 * objects whose collection nobody could see.  Call before the program
 * runs, so that its own callbacks run first.  Returns 0, or -1 with an
 * exception set. */
INB_HIDDEN int inb_exit_install(void);

#endif
