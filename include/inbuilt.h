/* inbuilt.h: the public API of the inbuilt runtime.
 *
 * Two ways to use it:
 *
 *  - an executable made by `inbuilt build -o OUT`: its main() calls
 *    inb_main();
 *  - a host program with its own main() (a simulation code in C or C++)
 *    linking a library made by `inbuilt build --library -o libNAME.a`
 *    (docs/EMBEDDING.md): it starts CPython with inb_initialize(), uses
 *    the ordinary CPython C API (PyImport_ImportModule() finds the modules
 *    embedded in the library, from memory), and stops it with
 *    inb_finalize().
 *
 * Nothing here exits the process or prints, except inb_main(), which acts
 * as python3 does.  The host keeps its own main(), signal handlers (CPython
 * installs none), atexit handlers and locale.
 */
#ifndef INBUILT_H
#define INBUILT_H

#ifdef __cplusplus
extern "C" {
#endif

#define INBUILT_VERSION "0.1.0"

#define INBUILT_API __attribute__((visibility("default")))

/* Run the executable: start CPython from the archive embedded in this
 * executable, then act like python3 (or run the entry point the archive
 * names).  Prints its own diagnostics and returns the process exit status;
 * it never calls exit(). */
INBUILT_API int inb_main(int argc, char **argv);

/* The result of a call of the embedding API.  Every failure also leaves a
 * message for inb_last_error(). */
typedef enum inb_status {
    INB_OK = 0,
    /* Called out of order: inb_initialize() while CPython runs (or after
     * it ran once: it cannot start twice in one process), inb_finalize()
     * while it does not run, or without holding the GIL. */
    INB_ERR_STATE = 1,
    /* inb_finalize() from another thread than the one that called
     * inb_initialize(). */
    INB_ERR_THREAD = 2,
    /* The embedded archive is corrupt or for another version of Python. */
    INB_ERR_ARCHIVE = 3,
    /* CPython failed to start or to stop; the message says why. */
    INB_ERR_PYTHON = 4,
    /* Out of memory. */
    INB_ERR_MEMORY = 5,
    /* A bad argument: a NULL pointer, or sys.path directories while the
     * filesystem is not allowed. */
    INB_ERR_ARGUMENT = 6
} inb_status;

/* The settings of inb_initialize(), built with the functions below. */
typedef struct inb_settings inb_settings;

/* New settings: no arguments (sys.argv is ['']), strict (imports come
 * from the embedded archive only), no extra sys.path.  Returns NULL when
 * out of memory. */
INBUILT_API inb_settings *inb_settings_new(void);
/* Free settings made by inb_settings_new() (NULL is allowed). */
INBUILT_API void inb_settings_free(inb_settings *settings);
/* sys.argv for Python: argv[0..argc), copied (the host's own argc/argv,
 * or any other).  They are not parsed as python3's options. */
INBUILT_API inb_status inb_settings_set_argv(inb_settings *settings, int argc,
                                             char *const *argv);
/* Whether Python may also import from sys.path on disk, after the
 * embedded modules (allow nonzero).  The default is strict; the library's
 * build (--allow-filesystem) and INBUILT_ALLOW_FILESYSTEM=1 also allow
 * it. */
INBUILT_API inb_status inb_settings_allow_filesystem(inb_settings *settings,
                                                     int allow);
/* Append directory dir (copied) to sys.path; Python imports from it only
 * when the filesystem is allowed, which inb_initialize() then requires. */
INBUILT_API inb_status inb_settings_add_path(inb_settings *settings,
                                             const char *dir);

/* Start CPython from the archive embedded in the library, with settings
 * (NULL: those of inb_settings_new()), which the caller may free after.
 * On INB_OK the calling thread holds the GIL, as after Py_Initialize(),
 * and the whole CPython C API may be used.  CPython starts at most once per
 * process: a second call, while it runs or after inb_finalize(), is
 * INB_ERR_STATE and changes nothing.  Calls from several threads are
 * serialized. */
INBUILT_API inb_status inb_initialize(const inb_settings *settings);
/* Stop CPython (Py_FinalizeEx(): Python's atexit callbacks run, buffers
 * are flushed).  Must be called by the thread that called
 * inb_initialize() (else INB_ERR_THREAD) holding the GIL (else
 * INB_ERR_STATE), and only while CPython runs (else INB_ERR_STATE).
 * INB_ERR_PYTHON when flushing buffered data failed; CPython is stopped
 * then too. */
INBUILT_API inb_status inb_finalize(void);
/* The message of the last call of this API that failed in the calling
 * thread ("" when none did).  Valid until that thread's next call. */
INBUILT_API const char *inb_last_error(void);

#ifdef __cplusplus
}
#endif

#endif
