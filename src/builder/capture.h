/* capture.h: `inbuilt capture --out DIR -- COMMAND...`: run a package's
 * own build with compiler and linker wrappers that record every Python
 * extension module it links, and keep the result as a bundle that
 * `inbuilt build --bundle DIR` links in as built-in modules. */
#ifndef INB_CAPTURE_H
#define INB_CAPTURE_H

#include "inb.h"

/* The name of the manifest inside a bundle directory: a Setup file (see
 * setup.h) whose paths are relative to the bundle. */
#define INB_BUNDLE_MANIFEST "Setup"

/* `inbuilt capture` with its arguments (argv[0] is "capture").  Returns
 * the exit status; exits on errors. */
INB_HIDDEN int inb_capture_main(int argc, char **argv);
/* `inbuilt wrap TOOL ARGS...`, the wrapper capture puts in CC, CXX,
 * LDSHARED and LDCXXSHARED: runs TOOL ARGS and, when it linked a shared
 * object under capture (INBUILT_CAPTURE_DIR set), records it.  Returns
 * TOOL's exit status. */
INB_HIDDEN int inb_capture_wrap(int argc, char **argv);

#endif
