/* selfcheck.h: the executable checks its own file: a cheap probe at every
 * start for a copy cut short, and the whole check on request
 * (INBUILT_VERIFY=1). */
#ifndef INB_SELFCHECK_H
#define INB_SELFCHECK_H

#include <stddef.h>
#include <stdint.h>

#include "inb.h"

/* Whether the byte at p, in a file-backed mapping of this executable, can
 * be read: 0 when reading it raises SIGBUS (the file ends before it).  No
 * system call but two sigaction(); reads one page of the file. */
INB_HIDDEN int inb_selfcheck_readable(const volatile unsigned char *p);

/* Check /proc/self/exe against its seal, as `inbuilt verify` does: calls
 * report(ctx, line) for each problem.  Returns the number of problems, or
 * -1 with errno set when the file cannot be read.  *entries gets the
 * number of archive entries checked, *size the file's size. */
INB_HIDDEN int
inb_selfcheck_verify(void (*report)(void *ctx, const char *line), void *ctx,
                     uint32_t *entries, size_t *size);

#endif
