/* verify.h: `inbuilt verify EXE`, the check of a built executable against
 * its seal. */
#ifndef INB_VERIFY_H
#define INB_VERIFY_H

#include "inb.h"

/* Run `inbuilt verify` with argv[1..argc) (argv[0] is "verify"): prints
 * what is wrong with each executable named, or that it is whole.  Returns
 * the exit status: 0 all whole, 1 one damaged, 2 a usage error or a file
 * that cannot be read. */
INB_HIDDEN int inb_verify_main(int argc, char **argv);

#endif
