/* embed.c: the API for host programs that link a library made by
 * `inbuilt build --library` (include/inbuilt.h, docs/EMBEDDING.md).
 *
 * CPython is started through the same path as an executable's
 * (startup.c), with embedded set: the host's argv is sys.argv without
 * being parsed, CPython installs no signal handlers and leaves C stdio, the
 * locale and the heaps alone, and no exit hook of the runtime is added.
 *
 * Life cycle, process-wide, under one mutex:
 *     NEW --inb_initialize ok--> RUNNING --inb_finalize--> DONE
 *     NEW --inb_initialize failed after CPython started--> DONE
 * CPython cannot be started twice in a process (extension modules such as
 * numpy cannot be initialized again), so DONE is final.  Errors are
 * returned as a status and a message kept per thread.
 */
#include <Python.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inbuilt.h"
#include "startup.h"

struct inb_settings {
    int argc;
    char **argv;
    int allow_filesystem;
    char **paths;
    size_t npaths;
};

enum state { NEW, RUNNING, DONE };

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static enum state state = NEW;
static pthread_t owner; /* the thread that initialized, while RUNNING */

/* The calling thread's last error message. */
static __thread char last_error[512];

/* Keep the message of a failure for inb_last_error() and return status. */
static __attribute__((format(printf, 2, 3))) inb_status
fail(inb_status status, const char *fmt, ...)
{
    va_list va;

    va_start(va, fmt);
    vsnprintf(last_error, sizeof(last_error), fmt, va);
    va_end(va);
    return status;
}

/* Free the strings of v[0..n) and v. */
static void
strings_free(char **v, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        free(v[i]);
    }
    free(v);
}

inb_settings *
inb_settings_new(void)
{
    return calloc(1, sizeof(inb_settings));
}

void
inb_settings_free(inb_settings *settings)
{
    if (settings == NULL) {
        return;
    }
    strings_free(settings->argv, (size_t)settings->argc);
    strings_free(settings->paths, settings->npaths);
    free(settings);
}

inb_status
inb_settings_set_argv(inb_settings *settings, int argc, char *const *argv)
{
    char **copy;
    int i;

    if (settings == NULL || argc < 0 || (argc > 0 && argv == NULL)) {
        return fail(INB_ERR_ARGUMENT,
                    "inb_settings_set_argv: settings is NULL, or argc is "
                    "negative, or argv is NULL");
    }
    copy = calloc((size_t)argc + 1, sizeof(char *));
    if (copy == NULL) {
        return fail(INB_ERR_MEMORY, "inb_settings_set_argv: out of memory");
    }
    for (i = 0; i < argc; i++) {
        copy[i] = strdup(argv[i] != NULL ? argv[i] : "");
        if (copy[i] == NULL) {
            strings_free(copy, (size_t)i);
            return fail(INB_ERR_MEMORY,
                        "inb_settings_set_argv: out of memory");
        }
    }
    strings_free(settings->argv, (size_t)settings->argc);
    settings->argv = copy;
    settings->argc = argc;
    return INB_OK;
}

inb_status
inb_settings_allow_filesystem(inb_settings *settings, int allow)
{
    if (settings == NULL) {
        return fail(INB_ERR_ARGUMENT,
                    "inb_settings_allow_filesystem: settings is NULL");
    }
    settings->allow_filesystem = allow != 0;
    return INB_OK;
}

inb_status
inb_settings_add_path(inb_settings *settings, const char *dir)
{
    char **grown, *copy;

    if (settings == NULL || dir == NULL) {
        return fail(INB_ERR_ARGUMENT,
                    "inb_settings_add_path: settings or dir is NULL");
    }
    copy = strdup(dir);
    grown = realloc(settings->paths, (settings->npaths + 1) * sizeof(char *));
    if (copy == NULL || grown == NULL) {
        free(copy);
        return fail(INB_ERR_MEMORY, "inb_settings_add_path: out of memory");
    }
    grown[settings->npaths++] = copy;
    settings->paths = grown;
    return INB_OK;
}

/* Start CPython with settings; the caller holds the lock and state is NEW.
 * Returns a status, the message kept on failure. */
static inb_status
start(const inb_settings *settings)
{
    static const inb_settings none = {0};
    struct inb_start s = {0};
    char err[sizeof(last_error) - 32];
    inb_status rc;
    int exitcode;

    if (settings == NULL) {
        settings = &none;
    }
    if (Py_IsInitialized()) {
        return fail(INB_ERR_STATE, "inb_initialize: CPython was already "
                                   "started by other means in this process");
    }
    if (inb_startup_archive(err, sizeof(err)) < 0) {
        return fail(INB_ERR_ARCHIVE, "inb_initialize: %s", err);
    }
    s.argc = settings->argc;
    s.argv = settings->argv;
    s.allow_filesystem = settings->allow_filesystem;
    s.embedded = 1;
    s.paths = settings->paths;
    s.npaths = settings->npaths;
    rc = inb_startup_run(&s, &exitcode, err, sizeof(err), NULL);
    if (rc == INB_OK) {
        state = RUNNING;
        owner = pthread_self();
        return INB_OK;
    }
    if (rc != INB_ERR_ARGUMENT) {
        state = DONE; /* CPython was (partly) started: never again */
    }
    if (err[0] == '\0') {
        snprintf(err, sizeof(err), "CPython asked to exit with status %d",
                 exitcode);
    }
    return fail(rc, "inb_initialize: %s", err);
}

inb_status
inb_initialize(const inb_settings *settings)
{
    inb_status rc;

    pthread_mutex_lock(&lock);
    if (state == RUNNING) {
        rc = fail(INB_ERR_STATE, "inb_initialize: CPython already runs; "
                                 "call inb_finalize() first");
    }
    else if (state == DONE) {
        rc = fail(INB_ERR_STATE,
                  "inb_initialize: CPython ran already in this process and "
                  "cannot start again");
    }
    else {
        rc = start(settings);
    }
    pthread_mutex_unlock(&lock);
    return rc;
}

inb_status
inb_finalize(void)
{
    inb_status rc = INB_OK;

    pthread_mutex_lock(&lock);
    if (state != RUNNING) {
        rc = fail(INB_ERR_STATE, "inb_finalize: CPython does not run (%s)",
                  state == NEW ? "inb_initialize() was not called"
                               : "it was finalized already");
    }
    else if (!pthread_equal(owner, pthread_self())) {
        rc = fail(INB_ERR_THREAD,
                  "inb_finalize: called from another thread than the one "
                  "that called inb_initialize()");
    }
    else if (!PyGILState_Check()) {
        rc = fail(INB_ERR_STATE,
                  "inb_finalize: the calling thread does not hold the GIL "
                  "(end PyEval_SaveThread() with PyEval_RestoreThread())");
    }
    else {
        state = DONE;
        if (Py_FinalizeEx() < 0) {
            rc = fail(INB_ERR_PYTHON,
                      "inb_finalize: flushing Python's buffered data failed");
        }
    }
    pthread_mutex_unlock(&lock);
    return rc;
}

const char *
inb_last_error(void)
{
    return last_error;
}
