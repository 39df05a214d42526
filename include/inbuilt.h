/* inbuilt.h: the public API of the inbuilt runtime, the static library that
 * every executable made by `inbuilt build` links. */
#ifndef INBUILT_H
#define INBUILT_H

#define INBUILT_VERSION "0.1.0"

/* Run the executable: start CPython from the archive embedded in this
 * executable, then act like python3 (or run the entry point the archive
 * names).  Prints its own diagnostics and returns the process exit status;
 * it never calls exit(). */
__attribute__((visibility("default"))) int inb_main(int argc, char **argv);

#endif
