/* startup.h: one start of CPython from the archive embedded in this
 * program, shared by inb_main() (an executable) and inb_initialize() (a
 * host program linking the library, embed.c). */
#ifndef INB_STARTUP_H
#define INB_STARTUP_H

#include <Python.h>
#include <stddef.h>

#include "inb.h"
#include "inbuilt.h"

/* What one start asks for. */
struct inb_start {
    int argc;
    char *const *argv; /* sys.argv; NULL when argc is 0 */
    /* "module", "module:func", "--multiprocessing-fork", or NULL to act
     * like python3 (or, embedded, to run nothing). */
    const char *entry;
    /* Also import from sys.path on disk (the archive's build setting and
     * INBUILT_ALLOW_FILESYSTEM=1 allow it too). */
    int allow_filesystem;
    /* For a host program: argv is not parsed as python3's, CPython
     * installs no signal handlers and leaves C stdio alone. */
    int embedded;
    char *const *paths; /* directories for sys.path (filesystem allowed) */
    size_t npaths;
};

/* Open the archive embedded in this program (once) and check that it was
 * compiled for this Python.  Returns 0, or -1 with the reason in err. */
INB_HIDDEN int inb_startup_archive(char *err, size_t errsize);
/* Start CPython as s asks, after inb_startup_archive(): the import
 * machinery serves the archive, the site builtins (exit, help, ...) are
 * there, and nothing of the program has run.  Returns INB_OK with CPython
 * running and the calling thread holding the GIL.  Otherwise CPython is not
 * running (what was started is finalized), err says why (empty when
 * CPython asked to exit, as for python3 --version), *exitcode is the exit
 * status for a command line, and the status is INB_ERR_ARGUMENT (paths
 * while strict), INB_ERR_MEMORY, INB_ERR_ARCHIVE (bytecode for another
 * Python) or INB_ERR_PYTHON.  failure, when not NULL, receives CPython's
 * status when one stopped the start (else it is left alone), for a command
 * line to end as python3 does (Py_ExitStatusException). */
INB_HIDDEN inb_status inb_startup_run(const struct inb_start *s, int *exitcode,
                                      char *err, size_t errsize,
                                      PyStatus *failure);

#endif
