/* startup.c: start CPython from the archive embedded in this executable.
 *
 * The interpreter is initialized in two phases.  The core phase is given a
 * complete path configuration (executable, prefixes, an empty and final
 * module search path, no site), so CPython computes nothing from the disk:
 * no landmark search, no pyvenv.cfg, no ._pth file.  Then the in-memory
 * finder goes first on sys.meta_path, and only then does the main phase run,
 * which imports encodings and the rest of start-up from the archive.
 */
#include <Python.h>
#include <errno.h>
#include <limits.h>
#include <link.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

#include "archive.h"
#include "exit.h"
#include "finder.h"
#include "holder.h"
#include "inbuilt.h"
#include "archpages.h"
#include "memso.h"
#include "pages.h"
#include "seal.h"
#include "selfcheck.h"
#include "shareso.h"
#include "startup.h"
#include "tree.h"
#include "vfs.h"

/* The start of the archive: the builder places it, after linking, alone
 * in the executable's last loaded segment (src/builder/place.c). */
extern const unsigned char inb_archive_blob[] INB_HIDDEN;
/* Its end, in a library for host programs, whose archive lies in
 * read-only data (src/builder/library.c); absent (NULL) in an
 * executable. */
extern const unsigned char inb_archive_blob_end[] __attribute__((weak))
INB_HIDDEN;
/* The seal note's 40 bytes (src/common/seal.h), filled in by the
 * builder. */
extern const unsigned char inb_seal_note[] INB_HIDDEN;

/* The archive, valid for the life of the process (tree.c borrows it). */
static inb_archive archive;

/* Copy the value of config key into buf as a NUL-terminated string.
 * Returns 1 when present, 0 when absent, -1 when longer than size - 1.
 * For short settings; entry_value() gives the entry point whole. */
static int
config_value(const char *key, char *buf, size_t size)
{
    inb_entry e;

    if (!inb_archive_find(&archive, INB_NS_CONFIG, key, strlen(key), &e)) {
        return 0;
    }
    if (e.size >= size) {
        return -1;
    }
    memcpy(buf, e.data, e.size);
    buf[e.size] = '\0';
    return 1;
}

/* The entry point setting: a new malloc'd NUL-terminated string, or NULL
 * when absent; *nomem is set when it cannot be copied. */
static char *
entry_value(int *nomem)
{
    inb_entry e;
    char *value;

    *nomem = 0;
    if (!inb_archive_find(&archive, INB_NS_CONFIG, "entry", 5, &e)) {
        return NULL;
    }
    value = malloc(e.size + 1);
    if (value == NULL) {
        *nomem = 1;
        return NULL;
    }
    memcpy(value, e.data, e.size);
    value[e.size] = '\0';
    return value;
}

/* A problem found by INBUILT_VERIFY=1, printed on a line of its own
 * after the program's name (ctx). */
static void
print_problem(void *ctx, const char *line)
{
    fprintf(stderr, "%s: %s\n", (const char *)ctx, line);
}

/* INBUILT_VERIFY=1: check this executable's whole file against its seal,
 * say what is wrong or that it is whole, and return the exit status (0
 * whole, 1 damaged, 2 unreadable). */
static int
verify_self(const char *prog)
{
    uint32_t entries;
    size_t size;
    int problems =
        inb_selfcheck_verify(print_problem, (void *)prog, &entries, &size);

    if (problems < 0) {
        fprintf(stderr, "%s: cannot read /proc/self/exe: %s\n", prog,
                strerror(errno));
        return 2;
    }
    if (problems > 0) {
        fprintf(stderr,
                "%s: damaged (%d problem%s): copy it again or rebuild it\n",
                prog, problems, problems == 1 ? "" : "s");
        return 1;
    }
    fprintf(stderr, "%s: ok: %zu bytes, %u archive entries checked\n", prog,
            size, (unsigned)entries);
    return 0;
}

/* Check what start-up reads of the archive: the config entries.  Returns
 * 0, or -1 with the reason in err. */
static int
check_config(char *err, size_t errsize)
{
    uint32_t i = inb_archive_lower_bound(&archive, INB_NS_CONFIG, NULL, 0);
    inb_entry e;

    for (; i < archive.count; i++) {
        inb_archive_entry(&archive, i, &e);
        if (e.ns != INB_NS_CONFIG) {
            break;
        }
        if (inb_archive_data(&archive, &e, err, errsize) < 0) {
            return -1;
        }
    }
    return 0;
}

/* Write a start-up failure into err as CPython words it ("" when CPython
 * asked to exit: it has said why), its exit status into *exitcode and the
 * status itself into *failure when failure is not NULL.  Returns
 * INB_ERR_PYTHON. */
static inb_status
status_text(PyStatus status, int *exitcode, char *err, size_t errsize,
            PyStatus *failure)
{
    if (failure != NULL) {
        *failure = status;
    }
    if (PyStatus_IsExit(status)) {
        *exitcode = status.exitcode;
        err[0] = '\0';
        return INB_ERR_PYTHON;
    }
    snprintf(err, errsize, "%s: %s", status.func ? status.func : "inbuilt",
             status.err_msg ? status.err_msg : "initialization failed");
    return INB_ERR_PYTHON;
}

/* The first argument with which multiprocessing's spawn and forkserver
 * start methods re-execute a frozen interpreter (sys.frozen is true), as
 * multiprocessing.spawn.get_command_line() writes it; and what such a
 * child runs: spawn_main() with the arguments that follow. */
#define MP_FORK_ARG "--multiprocessing-fork"
#define MP_FORK_COMMAND \
    "from multiprocessing.spawn import freeze_support\nfreeze_support()\n"

/* When the filesystem is allowed: put the directories of PYTHONPATH
 * (colon-separated) on the module search path, as python3 does, so that
 * packages left out of the executable (CPython's test suite) can be found
 * on disk, by child processes too.  Returns a status. */
static PyStatus
add_pythonpath(PyConfig *config)
{
    const char *env = getenv("PYTHONPATH");
    PyStatus status = PyStatus_Ok();
    char *copy, *dir, *save = NULL;
    wchar_t *wdir;

    if (env == NULL || *env == '\0') {
        return status;
    }
    copy = strdup(env);
    if (copy == NULL) {
        return PyStatus_NoMemory();
    }
    for (dir = strtok_r(copy, ":", &save); dir != NULL;
         dir = strtok_r(NULL, ":", &save)) {
        wdir = Py_DecodeLocale(dir, NULL);
        if (wdir == NULL) {
            status = PyStatus_Error("cannot decode PYTHONPATH");
            break;
        }
        status = PyWideStringList_Append(&config->module_search_paths, wdir);
        PyMem_RawFree(wdir);
        if (PyStatus_Exception(status)) {
            break;
        }
    }
    free(copy);
    return status;
}

/* Whether argv is a helper process that multiprocessing starts with
 * sys.executable as a python3 (the forkserver and the resource tracker):
 * interpreter options, then -c and a command importing from
 * multiprocessing.  A tool runs those as python3 would, not its entry
 * point. */
static int
is_multiprocessing_helper(int argc, char **argv)
{
    int i;

    for (i = 1; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "-c") == 0) {
            return i + 1 < argc &&
                   strncmp(argv[i + 1], "from multiprocessing.", 21) == 0;
        }
    }
    return 0;
}

/* Fill the path configuration so that CPython derives nothing from the
 * disk.  exe is the executable's real path; it is also the virtual root of
 * every module's location.  s->entry: "module" or "module:func", or NULL to
 * act like python3; MP_FORK_ARG runs a multiprocessing child.  Returns a
 * status. */
static PyStatus
config_fill(PyConfig *config, const char *exe, const struct inb_start *s)
{
    const char *entry = s->entry;
    PyStatus status;
    char *command;
    const char *colon;
    size_t size;
    int n;
    /* home set: getpath.py reads no pyvenv.cfg, ._pth or build landmark;
     * the rest set: it searches for no prefix. */
    wchar_t **fields[] = {
        &config->executable,
        &config->home,
        &config->program_name,
        &config->prefix,
        &config->base_prefix,
        &config->exec_prefix,
        &config->base_exec_prefix,
#if PY_VERSION_HEX >= 0x030B0000
        &config->stdlib_dir,
#endif
    };
    size_t i;

    config->_init_main = 0;
    config->site_import = 0;
    config->user_site_directory = 0;
    config->pathconfig_warnings = 0;
    config->module_search_paths_set = 1; /* empty: nothing on disk */
#if PY_VERSION_HEX >= 0x030B0000
    /* The archive serves the stdlib modules CPython also has frozen (os,
     * codecs, ...): _imp.is_frozen() must not claim them, or importlib's
     * _setup() (a fresh importlib) takes them for FrozenImporter's. */
    config->use_frozen_modules = 0;
#endif
    config->parse_argv = entry == NULL && !s->embedded;
    /* A host program's signal handlers and stdio stay its own. */
    if (s->embedded) {
        config->install_signal_handlers = 0;
        config->configure_c_stdio = 0;
    }
#if PY_VERSION_HEX >= 0x030B0000
    /* An entry point's argv[0] is this executable: do not put its
     * directory on sys.path. */
    if (entry != NULL) {
        config->safe_path = 1;
    }
#endif
    status = PyConfig_SetBytesArgv(config, s->argc, s->argv);
    if (PyStatus_Exception(status)) {
        return status;
    }
    for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        status = PyConfig_SetBytesString(config, fields[i], exe);
        if (PyStatus_Exception(status)) {
            return status;
        }
    }
    /* getpath.py resolves base_executable with readlink() in a loop.  The
     * trailing slash makes the kernel answer ENOTDIR through the proc link
     * without looking any path up, so the loop ends at once and the
     * executable's own path is never resolved.  sys._base_executable is
     * set to the real path after start-up. */
    status = PyConfig_SetString(config, &config->base_executable,
                                L"/proc/self/exe/");
    if (PyStatus_Exception(status)) {
        return status;
    }
    status = PyConfig_SetString(config, &config->platlibdir, L"lib");
    if (PyStatus_Exception(status)) {
        return status;
    }
    if (entry == NULL) {
        return PyStatus_Ok();
    }
    if (strcmp(entry, MP_FORK_ARG) == 0) {
        return PyConfig_SetBytesString(config, &config->run_command,
                                       MP_FORK_COMMAND);
    }
    colon = strchr(entry, ':');
    if (colon == NULL) {
        return PyConfig_SetBytesString(config, &config->run_module, entry);
    }
    /* The builder checked both halves are dotted identifiers.  The command
     * holds entry twice, and 64 bytes of its own. */
    size = 2 * strlen(entry) + 64;
    command = malloc(size);
    if (command == NULL) {
        return PyStatus_NoMemory();
    }
    n = snprintf(command, size,
                 "import sys\nsys.exit(__import__('%.*s', "
                 "fromlist=['%s']).%s())\n",
                 (int)(colon - entry), entry, colon + 1, colon + 1);
    status =
        n > 0 && (size_t)n < size
            ? PyConfig_SetBytesString(config, &config->run_command, command)
            : PyStatus_Error("cannot format the entry point's command");
    free(command);
    return status;
}

/* Whether the command line (-X utf8=0, read up to the first argument
 * that is not an interpreter option, unless no_options) or PYTHONUTF8=0
 * (unless -E or -I) refuses UTF-8 mode. */
static int
utf8_refused(int argc, char **argv, int no_options)
{
    const char *env = getenv("PYTHONUTF8");
    int i, use_env = 1;

    for (i = 1; !no_options && i < argc; i++) {
        const char *a = argv[i];

        if (a[0] != '-' || strcmp(a, "-") == 0 || strcmp(a, "--") == 0 ||
            strncmp(a, "-c", 2) == 0 || strncmp(a, "-m", 2) == 0) {
            break;
        }
        if (strcmp(a, "-X") == 0 && i + 1 < argc) {
            a = argv[++i];
        }
        else if (strncmp(a, "-X", 2) == 0) {
            a += 2;
        }
        else {
            if (a[1] != '-' && (strchr(a, 'E') || strchr(a, 'I'))) {
                use_env = 0;
            }
            if (strcmp(a, "-W") == 0) {
                i++; /* -W takes a value */
            }
            continue;
        }
        if (strcmp(a, "utf8=0") == 0) {
            return 1;
        }
    }
    return use_env && env != NULL && strcmp(env, "0") == 0;
}

/* Pre-initialize without touching the locale: setlocale(LC_CTYPE, "")
 * makes the C library read locale files from disk.  UTF-8 mode (PEP 540)
 * gives the encodings python3 has in a UTF-8 locale; -X utf8=0 and
 * PYTHONUTF8=0 still turn it off.  Returns a status. */
static PyStatus
preinit(const struct inb_start *s)
{
    int parse = s->entry == NULL && !s->embedded;
    PyPreConfig pre;

    PyPreConfig_InitPythonConfig(&pre);
    if (!utf8_refused(s->argc, (char **)s->argv, !parse)) {
        pre.configure_locale = 0;
        pre.coerce_c_locale = 0;
        pre.utf8_mode = 1;
    }
    pre.parse_argv = parse;
    return Py_PreInitializeFromBytesArgs(&pre, s->argc, (char **)s->argv);
}

/* Set builtins.name to cls(*args) (args a Py_BuildValue format).  Returns
 * 0, or -1 with an exception set. */
static int
set_builtin(PyObject *builtins, PyObject *module, const char *name,
            const char *cls, const char *format, ...)
{
    PyObject *type = NULL, *args = NULL, *obj = NULL;
    va_list va;
    int rc = -1;

    type = PyObject_GetAttrString(module, cls);
    if (type == NULL) {
        goto done;
    }
    va_start(va, format);
    args = Py_VaBuildValue(format, va);
    va_end(va);
    if (args == NULL) {
        goto done;
    }
    obj = PyObject_CallObject(type, args);
    if (obj == NULL) {
        goto done;
    }
    rc = PyObject_SetAttrString(builtins, name, obj);
done:
    Py_XDECREF(obj);
    Py_XDECREF(args);
    Py_XDECREF(type);
    return rc;
}

/* Whether sys.flags.name is true; 0 when it cannot be read. */
static int
sys_flag(const char *name)
{
    PyObject *flags = PySys_GetObject("flags"); /* borrowed */
    PyObject *value = flags ? PyObject_GetAttrString(flags, name) : NULL;
    int on = value != NULL && PyObject_IsTrue(value) == 1;

    Py_XDECREF(value);
    PyErr_Clear();
    return on;
}

/* Add the builtins that site.py adds and python3 users expect: exit(),
 * quit(), help(), and at an interactive prompt copyright, credits and
 * license, without importing site, which would search the disk.  The last
 * three import os, so a non-interactive start skips them; license names no
 * files to read.  interactive: -i, or stdin is a terminal.  Returns 0, or -1
 * with an exception set. */
static int
install_site_builtins(int interactive)
{
    static const char eof[] = "Ctrl-D (i.e. EOF)";
    PyObject *builtins = NULL, *site = NULL, *copyright;
    int rc = -1;

    builtins = PyImport_ImportModule("builtins");
    site = PyImport_ImportModule("_sitebuiltins");
    if (builtins == NULL || site == NULL ||
        set_builtin(builtins, site, "quit", "Quitter", "(ss)", "quit", eof) <
            0 ||
        set_builtin(builtins, site, "exit", "Quitter", "(ss)", "exit", eof) <
            0 ||
        set_builtin(builtins, site, "help", "_Helper", "()") < 0) {
        goto done;
    }
    if (interactive) {
        copyright = PySys_GetObject("copyright"); /* borrowed */
        if (copyright == NULL ||
            set_builtin(builtins, site, "copyright", "_Printer", "(sO)",
                        "copyright", copyright) < 0 ||
            set_builtin(builtins, site, "credits", "_Printer", "(ss)",
                        "credits",
                        "Thanks to CWI, CNRI, BeOpen.com, Zope Corporation "
                        "and a cast of thousands\n"
                        "for supporting Python development.  See "
                        "www.python.org for more information.") < 0 ||
            set_builtin(builtins, site, "license", "_Printer", "(ss)",
                        "license",
                        "See https://www.python.org/psf/license/") < 0) {
            goto done;
        }
    }
    rc = 0;
done:
    Py_XDECREF(site);
    Py_XDECREF(builtins);
    return rc;
}

/* Write the real path of this executable into buf.  Reads the link
 * /proc/self/exe (not the file); falls back to argv0. */
static void
find_executable(char *buf, size_t size, const char *argv0)
{
    ssize_t n = readlink("/proc/self/exe", buf, size - 1);

    if (n > 0) {
        buf[n] = '\0';
        return;
    }
    if (argv0 == NULL || realpath(argv0, buf) == NULL) {
        snprintf(buf, size, "%s", argv0 ? argv0 : "inbuilt");
    }
}

/* The size of the archive at inb_archive_blob: the rest of the loaded
 * segment that holds it, whose size the builder set to the archive's
 * (place.c).  Read from the program headers in memory (getauxval), no
 * file; 0 when no segment holds it. */
static size_t
archive_size_of_segment(void)
{
    const ElfW(Phdr) *ph = (const ElfW(Phdr) *)getauxval(AT_PHDR);
    size_t i, n = (size_t)getauxval(AT_PHNUM), size = 0;
    uintptr_t bias = 0, at = (uintptr_t)inb_archive_blob;

    for (i = 0; ph != NULL && i < n; i++) {
        if (ph[i].p_type == PT_PHDR) {
            bias = (uintptr_t)ph - ph[i].p_vaddr;
        }
    }
    for (i = 0; ph != NULL && i < n; i++) {
        uintptr_t start = bias + ph[i].p_vaddr;

        if (ph[i].p_type == PT_LOAD && at >= start &&
            at - start < ph[i].p_memsz) {
            size = ph[i].p_memsz - (at - start);
        }
    }
    return size;
}

/* The value of a --so-mode or INBUILT_SO_MODE: an enum inb_memso_mode,
 * or -1 for NULL or an unknown name. */
static int
so_mode_of(const char *name)
{
    static const char *const names[] = {
        [INB_MEMSO_SHARED] = "shared",
        [INB_MEMSO_MEMORY] = "memory",
        [INB_MEMSO_CACHE] = "cache",
    };
    size_t i;

    for (i = 0; name != NULL && i < sizeof(names) / sizeof(*names); i++) {
        if (strcmp(name, names[i]) == 0) {
            return (int)i;
        }
    }
    return -1;
}

/* Choose where shared objects are loaded from: INBUILT_SO_MODE for this
 * run (empty is unset, as for PYTHON*), else the build's --so-mode, else
 * shared; and how long the holder of shared mode waits for processes
 * before it exits, INBUILT_SO_HOLDER_IDLE seconds (default 10).  Embedded
 * in a host program, shared is memory: its holder is the executable
 * started again, and a host's executable is no inbuilt one.  Another
 * INBUILT_SO_MODE is a start-up error, as CPython's for
 * PYTHONMALLOC=bogus: returns -1 with the reason in err; else 0. */
static int
so_mode_init(int embedded, char *err, size_t errsize)
{
    const char *env = getenv("INBUILT_SO_MODE");
    const char *idle = getenv("INBUILT_SO_HOLDER_IDLE");
    char value[16];
    char *end;
    long seconds = 10;
    int m = -1;

    if (env != NULL && env[0] != '\0') {
        m = so_mode_of(env);
        if (m < 0) {
            snprintf(err, errsize,
                     "INBUILT_SO_MODE=%.100s is not a mode: shared, memory "
                     "or cache",
                     env);
            return -1;
        }
    }
    else if (config_value("so_mode", value, sizeof(value)) == 1) {
        m = so_mode_of(value);
    }
    if (m < 0) {
        m = INB_MEMSO_SHARED;
    }
    if (embedded && m == INB_MEMSO_SHARED) {
        m = INB_MEMSO_MEMORY;
    }
    inb_memso_set_mode((enum inb_memso_mode)m);
    /* The archive is this executable's read-only data. */
    inb_archpages_set_file_backed(1);
    if (embedded) {
        return 0;
    }
    if (idle != NULL && idle[0] != '\0') {
        seconds = strtol(idle, &end, 10);
        if (*end != '\0' || seconds < 0 || seconds > 24 * 3600) {
            seconds = 10;
        }
    }
    inb_shareso_enable((int)seconds);
    return 0;
}

/* The archive's bounds: between inb_archive_blob and
 * inb_archive_blob_end in a library, else the rest of the segment that the
 * builder placed it in.  Checks that its last byte is there (an executable
 * cut short).  Returns its size, or 0 with the reason in err. */
static size_t
archive_bounds(char *err, size_t errsize)
{
    size_t size;
    inb_seal seal;

    if (inb_archive_blob_end != NULL) {
        return (size_t)(inb_archive_blob_end - inb_archive_blob);
    }
    size = archive_size_of_segment();
    /* The archive ends the file: its last byte is there or the copy was
     * cut short. */
    if (size == 0) {
        snprintf(err, errsize,
                 "no embedded archive in a loaded segment; "
                 "rebuild the executable");
        return 0;
    }
    if (!inb_selfcheck_readable(inb_archive_blob + size - 1)) {
        if (inb_seal_read(inb_seal_note, &seal) == 0) {
            snprintf(err, errsize,
                     "this executable is truncated: it was built as %llu "
                     "bytes and its file ends inside its embedded archive; "
                     "copy it again or rebuild it",
                     (unsigned long long)seal.file_size);
        }
        else {
            snprintf(err, errsize,
                     "this executable is truncated: its file ends inside "
                     "its embedded archive; copy it again or rebuild it");
        }
        return 0;
    }
    return size;
}

int
inb_startup_archive(char *err, size_t errsize)
{
    static int opened;
    size_t size;
    unsigned char *memo;

    if (opened) {
        return 0;
    }
    size = archive_bounds(err, errsize);
    if (size == 0) {
        return -1;
    }
    if (inb_archive_open(&archive, inb_archive_blob, size, err, errsize) < 0) {
        /* err holds the reason: put the subject first. */
        char reason[256];

        snprintf(reason, sizeof(reason), "%s", err);
        snprintf(err, errsize,
                 "embedded module archive is corrupt: %s (the executable "
                 "is damaged: copy it again or rebuild it)",
                 reason);
        return -1;
    }
    /* Each entry is hashed once per process; without the memo, each use
     * hashes it again. */
    memo = calloc(archive.count > 0 ? archive.count : 1, 1);
    if (memo != NULL) {
        inb_archive_set_memo(&archive, memo);
    }
    if (check_config(err, errsize) < 0) {
        return -1;
    }
    if ((archive.py_version >> 16) != (PY_VERSION_HEX >> 16)) {
        snprintf(err, errsize,
                 "embedded modules were compiled for Python %u.%u, this "
                 "program runs %d.%d: rebuild it with one inbuilt",
                 archive.py_version >> 24, (archive.py_version >> 16) & 0xff,
                 PY_MAJOR_VERSION, PY_MINOR_VERSION);
        return -1;
    }
    opened = 1;
    return 0;
}

/* Append the directories of the host's settings to the module search
 * path.  Returns a status. */
static PyStatus
add_paths(PyConfig *config, const struct inb_start *s)
{
    PyStatus status = PyStatus_Ok();
    wchar_t *wdir;
    size_t i;

    for (i = 0; i < s->npaths && !PyStatus_Exception(status); i++) {
        wdir = Py_DecodeLocale(s->paths[i], NULL);
        if (wdir == NULL) {
            return PyStatus_Error("cannot decode a sys.path directory");
        }
        status = PyWideStringList_Append(&config->module_search_paths, wdir);
        PyMem_RawFree(wdir);
    }
    return status;
}

/* Write "what: Type: message" for the Python exception set into err and
 * clear it. */
static void
exception_text(const char *what, char *err, size_t errsize)
{
    PyObject *type = NULL, *value = NULL, *tb = NULL, *text = NULL;
    const char *msg = NULL;

    PyErr_Fetch(&type, &value, &tb);
    if (value != NULL) {
        text = PyObject_Str(value);
        msg = text ? PyUnicode_AsUTF8(text) : NULL;
    }
    snprintf(err, errsize, "%s: %s: %s", what,
             type ? ((PyTypeObject *)type)->tp_name : "error",
             msg ? msg : "(no message)");
    PyErr_Clear();
    Py_XDECREF(text);
    Py_XDECREF(tb);
    Py_XDECREF(value);
    Py_XDECREF(type);
}

inb_status
inb_startup_run(const struct inb_start *s, int *exitcode, char *err,
                size_t errsize, PyStatus *failure)
{
    PyConfig config;
    PyStatus status;
    char exe[PATH_MAX], allow[8];
    const char *env;
    inb_status rc = INB_ERR_PYTHON;
    int strict;

    *exitcode = 1;
    err[0] = '\0';
    strict = !s->allow_filesystem &&
             (config_value("allow_filesystem", allow, sizeof(allow)) != 1 ||
              strcmp(allow, "1") != 0);
    env = getenv("INBUILT_ALLOW_FILESYSTEM");
    if (env != NULL && strcmp(env, "1") == 0) {
        strict = 0;
    }
    if (strict && s->npaths > 0) {
        snprintf(err, errsize,
                 "sys.path directories were given but the filesystem is not "
                 "allowed: allow it, or give no directories");
        return INB_ERR_ARGUMENT;
    }
    if (so_mode_init(s->embedded, err, errsize) < 0) {
        return INB_ERR_ARGUMENT;
    }
    find_executable(exe, sizeof(exe), s->argc > 0 ? s->argv[0] : NULL);
    /* A failure leaves the tree unanswered by the file layer; modules
     * then get their paths under "". */
    inb_tree_set(&archive, exe);
    inb_vfs_init();

    if (PyImport_AppendInittab("_inbuilt", inb_finder_init_module) < 0) {
        snprintf(err, errsize, "cannot register the _inbuilt module");
        return INB_ERR_PYTHON;
    }
    status = preinit(s);
    if (PyStatus_Exception(status)) {
        return status_text(status, exitcode, err, errsize, failure);
    }
    PyConfig_InitPythonConfig(&config);
    status = config_fill(&config, exe, s);
    if (!PyStatus_Exception(status)) {
        status = add_paths(&config, s);
    }
    if (!PyStatus_Exception(status) && !strict) {
        status = add_pythonpath(&config);
    }
    if (PyStatus_Exception(status)) {
        PyConfig_Clear(&config);
        return status_text(status, exitcode, err, errsize, failure);
    }
    status = Py_InitializeFromConfig(&config); /* core phase */
    PyConfig_Clear(&config);
    if (PyStatus_Exception(status)) {
        rc = status_text(status, exitcode, err, errsize, failure);
        goto done;
    }
    if (inb_finder_install() < 0) {
        exception_text("cannot install the in-memory finder", err, errsize);
        goto finalize;
    }
    status = _Py_InitializeMain();
    if (PyStatus_Exception(status)) {
        rc = status_text(status, exitcode, err, errsize, failure);
        goto done;
    }
    /* The bytecode magic is known only once importlib is complete; the
     * version check above already rules out another minor version. */
    if ((uint32_t)PyImport_GetMagicNumber() != archive.py_magic) {
        snprintf(err, errsize,
                 "embedded bytecode has magic number %u, this Python "
                 "expects %ld: rebuild it with one inbuilt",
                 archive.py_magic, PyImport_GetMagicNumber());
        rc = INB_ERR_ARCHIVE;
        goto finalize;
    }
    if (inb_finder_configure(strict) < 0 ||
        install_site_builtins(!s->embedded &&
                              (sys_flag("inspect") ||
                               sys_flag("interactive") || isatty(0))) < 0) {
        exception_text("cannot set up the embedded modules", err, errsize);
        goto finalize;
    }
    return INB_OK;
finalize:
    Py_FinalizeEx();
done:
    return rc;
}

int
inb_main(int argc, char **argv)
{
    struct inb_start s = {argc, argv, NULL, 0, 0, NULL, 0};
    char err[512], *entry;
    const char *env, *prog = argc > 0 ? argv[0] : "inbuilt";
    int nomem, exitcode;
    inb_status rc;
    PyStatus failure = PyStatus_Ok();

    /* This executable started again as the holder of shared objects. */
    if (inb_holder_run(argc, argv, &exitcode)) {
        return exitcode;
    }
    env = getenv("INBUILT_VERIFY");
    if (env != NULL && strcmp(env, "1") == 0) {
        return verify_self(prog);
    }
    if (inb_startup_archive(err, sizeof(err)) < 0) {
        fprintf(stderr, "%s: %s\n", prog, err);
        return 1;
    }
    entry = entry_value(&nomem);
    if (nomem) {
        fprintf(stderr, "%s: out of memory\n", prog);
        return 1;
    }
    /* Children and helpers of multiprocessing, in a tool as in a
     * python3. */
    if (entry != NULL && is_multiprocessing_helper(argc, argv)) {
        free(entry);
        entry = NULL;
    }
    if (argc > 1 && strcmp(argv[1], MP_FORK_ARG) == 0) {
        free(entry);
        entry = strdup(MP_FORK_ARG);
        if (entry == NULL) {
            fprintf(stderr, "%s: out of memory\n", prog);
            return 1;
        }
    }
    s.entry = entry;
    if (inb_pages_init(err, sizeof(err)) < 0) {
        fprintf(stderr, "%s: %s\n", prog, err);
        free(entry);
        return 1;
    }
    rc = inb_startup_run(&s, &exitcode, err, sizeof(err), &failure);
    free(entry); /* the configuration holds copies */
    if (rc != INB_OK) {
        if (PyStatus_IsError(failure)) {
            /* As python3 says it: "Fatal Python error: ...", the runtime's
             * state, the pending exception, the thread; exit status 1. */
            Py_ExitStatusException(failure);
        }
        if (err[0] != '\0') {
            fprintf(stderr, "%s: %s\n", prog, err);
        }
        return exitcode;
    }
    if (inb_exit_install() < 0) {
        PyErr_Print();
        Py_FinalizeEx();
        return 1;
    }
    inb_pages_started();
    return Py_RunMain();
}
