/* memo.h: runs of the target interpreter (the target query, the
 * requirement scan, the metadata scan) whose output the build cache keeps,
 * reused while nothing the run read has changed. */
#ifndef INB_MEMO_H
#define INB_MEMO_H

#include "inb.h"
#include "util.h"

/* Look up an earlier run of argv: argv[0] a Python interpreter of 3.8 or
 * later, and one "-c" TEXT among its words, TEXT printing NUL-terminated
 * "key=value" records.  Returns 1 with that run's standard output appended
 * to out when a run with the same words (and working directory, and PATH
 * when argv[0] has no '/') succeeded and every file and directory it read
 * still has the same identity (device, inode, size, mode, modification
 * and change times), else 0. */
INB_HIDDEN int inb_memo_find(char *const argv[], struct inb_buf *out);
/* Run argv (as inb_memo_find() describes it) with src/builder/memo.py put
 * before TEXT, append its standard output without memo.py's records to
 * out and return its exit status; on success keep the output in the
 * build cache with the identity of what it read, unless a file it read
 * changed during the run or too recently to tell a later change by its
 * times. */
INB_HIDDEN int inb_memo_run(char *const argv[], struct inb_buf *out);

#endif
