/* spawn.h: run a program (the compiler, the target Python) and wait. */
#ifndef INB_SPAWN_H
#define INB_SPAWN_H

#include <sys/types.h>

#include "util.h"

/* Run argv[0] (searched on PATH) with argv and wait for it.  When out is
 * not NULL its standard output is appended to out.  Returns the exit status
 * (128 + N when killed by signal N); exits via inb_fatal, printing the
 * command line, when the program cannot be started. */
INB_HIDDEN int inb_spawn_run(char *const argv[], struct inb_buf *out);
/* As inb_spawn_run(), appending its standard error to err instead. */
INB_HIDDEN int inb_spawn_run_stderr(char *const argv[], struct inb_buf *err);
/* As inb_spawn_run(), appending both its standard output and its
 * standard error to out. */
INB_HIDDEN int inb_spawn_run_both(char *const argv[], struct inb_buf *out);
/* Start argv[0] (searched on PATH) with argv, its standard error written
 * to the file errpath, without waiting.  Returns its pid; exits via
 * inb_fatal when it cannot be started. */
INB_HIDDEN pid_t inb_spawn_start(char *const argv[], const char *errpath);
/* Wait for any child started by inb_spawn_start() (the caller has no
 * other but the reserved one); returns its pid and sets *status as
 * inb_spawn_run() returns it. */
INB_HIDDEN pid_t inb_spawn_wait_any(int *status);
/* Start argv[0] (searched on PATH) with argv, its standard input and
 * output connected to pipes: *to is written to its input, *from reads its
 * output (both close-on-exec).  Returns its pid; exits via inb_fatal when
 * it cannot be started. */
INB_HIDDEN pid_t inb_spawn_pipes(char *const argv[], int *to, int *from);
/* Set child pid aside for inb_spawn_wait(): inb_spawn_wait_any() keeps
 * its status for that call instead of returning it (one at a time). */
INB_HIDDEN void inb_spawn_reserve(pid_t pid);
/* Wait for child pid; returns its status as inb_spawn_run() does. */
INB_HIDDEN int inb_spawn_wait(pid_t pid);
/* Print argv as a shell-quoted command line to stderr, after prefix. */
INB_HIDDEN void inb_spawn_print(const char *prefix, char *const argv[]);

#endif
