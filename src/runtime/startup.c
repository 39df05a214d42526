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
#include "memso.h"
#include "pages.h"
#include "seal.h"
#include "selfcheck.h"
#include "shareso.h"
#include "vfs.h"

/* The start of the archive: the builder places it, after linking, alone
 * in the executable's last loaded segment (src/builder/place.c). */
extern const unsigned char inb_archive_blob[] INB_HIDDEN;
/* The seal note's 40 bytes (src/common/seal.h), filled in by the
 * builder. */
extern const unsigned char inb_seal_note[] INB_HIDDEN;

/* The archive, valid for the life of the process (the finder borrows it). */
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
 * 0, or -1 with the message printed. */
static int
check_config(const char *prog)
{
    uint32_t i = inb_archive_lower_bound(&archive, INB_NS_CONFIG, NULL, 0);
    char err[512];
    inb_entry e;

    for (; i < archive.count; i++) {
        inb_archive_entry(&archive, i, &e);
        if (e.ns != INB_NS_CONFIG) {
            break;
        }
        if (inb_archive_data(&archive, &e, err, sizeof(err)) < 0) {
            fprintf(stderr, "%s: %s\n", prog, err);
            return -1;
        }
    }
    return 0;
}

/* Print a start-up failure the way CPython does and return the status for
 * main(). */
static int
status_exit(PyStatus status)
{
    if (PyStatus_IsExit(status)) {
        return status.exitcode;
    }
    fprintf(stderr, "%s: %s\n", status.func ? status.func : "inbuilt",
            status.err_msg ? status.err_msg : "initialization failed");
    return 1;
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
 * every module's location.  entry: "module" or "module:func", or NULL to act
 * like python3; MP_FORK_ARG runs a multiprocessing child.  Returns a
 * status. */
static PyStatus
config_fill(PyConfig *config, const char *exe, const char *entry, int argc,
            char **argv)
{
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
    config->parse_argv = entry == NULL;
#if PY_VERSION_HEX >= 0x030B0000
    /* An entry point's argv[0] is this executable: do not put its
     * directory on sys.path. */
    if (entry != NULL) {
        config->safe_path = 1;
    }
#endif
    status = PyConfig_SetBytesArgv(config, argc, argv);
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
 * that is not an interpreter option) or PYTHONUTF8=0 (unless -E or -I)
 * refuses UTF-8 mode. */
static int
utf8_refused(int argc, char **argv, int has_entry)
{
    const char *env = getenv("PYTHONUTF8");
    int i, use_env = 1;

    for (i = 1; !has_entry && i < argc; i++) {
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
preinit(int argc, char **argv, int has_entry)
{
    PyPreConfig pre;

    PyPreConfig_InitPythonConfig(&pre);
    if (!utf8_refused(argc, argv, has_entry)) {
        pre.configure_locale = 0;
        pre.coerce_c_locale = 0;
        pre.utf8_mode = 1;
    }
    pre.parse_argv = !has_entry;
    return Py_PreInitializeFromBytesArgs(&pre, argc, argv);
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
 * before it exits, INBUILT_SO_HOLDER_IDLE seconds (default 10).  Another
 * INBUILT_SO_MODE is a start-up error, as CPython's for
 * PYTHONMALLOC=bogus: says so and returns -1; else 0. */
static int
so_mode_init(const char *prog)
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
            fprintf(stderr,
                    "%s: INBUILT_SO_MODE=%.100s is not a mode: shared, "
                    "memory or cache\n",
                    prog, env);
            return -1;
        }
    }
    else if (config_value("so_mode", value, sizeof(value)) == 1) {
        m = so_mode_of(value);
    }
    inb_memso_set_mode(m < 0 ? INB_MEMSO_SHARED : (enum inb_memso_mode)m);
    /* The archive is this executable's read-only data. */
    inb_memso_set_file_backed(1);
    if (idle != NULL && idle[0] != '\0') {
        seconds = strtol(idle, &end, 10);
        if (*end != '\0' || seconds < 0 || seconds > 24 * 3600) {
            seconds = 10;
        }
    }
    inb_shareso_enable((int)seconds);
    return 0;
}

int
inb_main(int argc, char **argv)
{
    PyConfig config;
    PyStatus status;
    char err[256], exe[PATH_MAX], allow[8], *entry = NULL;
    const char *env, *prog = argc > 0 ? argv[0] : "inbuilt";
    wchar_t *root = NULL;
    unsigned char *memo;
    size_t archive_size = archive_size_of_segment();
    inb_seal seal;
    int has_entry, strict, nomem, rc = 1;

    /* This executable started again as the holder of shared objects. */
    if (inb_holder_run(argc, argv, &rc)) {
        return rc;
    }
    env = getenv("INBUILT_VERIFY");
    if (env != NULL && strcmp(env, "1") == 0) {
        return verify_self(prog);
    }
    /* The archive ends the file: its last byte is there or the copy was
     * cut short. */
    if (archive_size == 0) {
        fprintf(stderr,
                "%s: no embedded archive in a loaded segment; "
                "rebuild the executable\n",
                prog);
        return 1;
    }
    if (!inb_selfcheck_readable(inb_archive_blob + archive_size - 1)) {
        if (inb_seal_read(inb_seal_note, &seal) == 0) {
            fprintf(stderr,
                    "%s: this executable is truncated: it was built as %llu "
                    "bytes and its file ends inside its embedded archive; "
                    "copy it again or rebuild it\n",
                    prog, (unsigned long long)seal.file_size);
        }
        else {
            fprintf(stderr,
                    "%s: this executable is truncated: its file ends inside "
                    "its embedded archive; copy it again or rebuild it\n",
                    prog);
        }
        return 1;
    }
    if (inb_archive_open(&archive, inb_archive_blob, archive_size, err,
                         sizeof(err)) < 0) {
        fprintf(stderr,
                "%s: embedded module archive is corrupt: %s (the executable "
                "is damaged: copy it again or rebuild it)\n",
                prog, err);
        return 1;
    }
    /* Each entry is hashed once per process; without the memo, each use
     * hashes it again. */
    memo = calloc(archive.count > 0 ? archive.count : 1, 1);
    if (memo != NULL) {
        inb_archive_set_memo(&archive, memo);
    }
    if (check_config(prog) < 0) {
        return 1;
    }
    if ((archive.py_version >> 16) != (PY_VERSION_HEX >> 16)) {
        fprintf(stderr,
                "%s: embedded modules were compiled for Python %u.%u, this "
                "executable runs %d.%d: rebuild it with one inbuilt\n",
                argc > 0 ? argv[0] : "inbuilt", archive.py_version >> 24,
                (archive.py_version >> 16) & 0xff, PY_MAJOR_VERSION,
                PY_MINOR_VERSION);
        return 1;
    }
    entry = entry_value(&nomem);
    if (nomem) {
        fprintf(stderr, "%s: out of memory\n", prog);
        return 1;
    }
    has_entry = entry != NULL;
    /* Children and helpers of multiprocessing, in a tool as in a
     * python3. */
    if (has_entry && is_multiprocessing_helper(argc, argv)) {
        has_entry = 0;
    }
    if (argc > 1 && strcmp(argv[1], MP_FORK_ARG) == 0) {
        has_entry = 1;
        free(entry);
        entry = strdup(MP_FORK_ARG);
        if (entry == NULL) {
            fprintf(stderr, "%s: out of memory\n", prog);
            return 1;
        }
    }
    strict = config_value("allow_filesystem", allow, sizeof(allow)) != 1 ||
             strcmp(allow, "1") != 0;
    env = getenv("INBUILT_ALLOW_FILESYSTEM");
    if (env != NULL && strcmp(env, "1") == 0) {
        strict = 0;
    }
    if (so_mode_init(prog) < 0) {
        free(entry);
        return 1;
    }
    find_executable(exe, sizeof(exe), argc > 0 ? argv[0] : NULL);
    inb_vfs_init(&archive, exe); /* a failure leaves the tree unanswered */
    inb_pages_init();

    if (PyImport_AppendInittab("_inbuilt", inb_finder_init_module) < 0) {
        fprintf(stderr, "%s: cannot register the _inbuilt module\n", exe);
        free(entry);
        return 1;
    }
    status = preinit(argc, argv, has_entry);
    if (PyStatus_Exception(status)) {
        free(entry);
        return status_exit(status);
    }
    PyConfig_InitPythonConfig(&config);
    status = config_fill(&config, exe, has_entry ? entry : NULL, argc, argv);
    free(entry); /* the configuration holds copies */
    entry = NULL;
    if (!PyStatus_Exception(status) && !strict) {
        status = add_pythonpath(&config);
    }
    if (PyStatus_Exception(status)) {
        PyConfig_Clear(&config);
        return status_exit(status);
    }
    root = wcsdup(config.executable);
    if (root == NULL) {
        PyConfig_Clear(&config);
        fprintf(stderr, "%s: out of memory\n", exe);
        return 1;
    }
    status = Py_InitializeFromConfig(&config); /* core phase */
    PyConfig_Clear(&config);
    if (PyStatus_Exception(status)) {
        rc = status_exit(status);
        goto done;
    }
    if (inb_finder_install(&archive, root) < 0) {
        PyErr_Print();
        Py_FinalizeEx();
        goto done;
    }
    status = _Py_InitializeMain();
    if (PyStatus_Exception(status)) {
        rc = status_exit(status);
        goto done;
    }
    /* The bytecode magic is known only once importlib is complete; the
     * version check above already rules out another minor version. */
    if ((uint32_t)PyImport_GetMagicNumber() != archive.py_magic) {
        fprintf(stderr,
                "%s: embedded bytecode has magic number %u, this Python "
                "expects %ld: rebuild it with one inbuilt\n",
                exe, archive.py_magic, PyImport_GetMagicNumber());
        Py_FinalizeEx();
        goto done;
    }
    if (inb_finder_configure(strict) < 0 ||
        install_site_builtins(sys_flag("inspect") || sys_flag("interactive") ||
                              isatty(0)) < 0 ||
        inb_exit_install() < 0) {
        PyErr_Print();
        Py_FinalizeEx();
        goto done;
    }
    free(root); /* the finder keeps its own copy */
    return Py_RunMain();
done:
    free(root);
    return rc;
}
