/* capture.c: capture the extension modules a package's own build links.
 *
 * `inbuilt capture --out DIR -- COMMAND...` runs COMMAND with
 *     CC=CXX="<inbuilt> wrap <cc or c++>"
 *     LDSHARED=LDCXXSHARED="<inbuilt> wrap <cc or c++> -shared"
 *     INBUILT_CAPTURE_DIR=<temporary directory beside DIR>
 *     INBUILT_CAPTURE_CWD=<COMMAND's directory>
 * which setuptools (and distutils, and most build systems) use for
 * compiling and linking extensions.  `inbuilt wrap` runs the real tool;
 * when it links a shared object whose name ends in .so, it derives the
 * module's dotted name from the output path (the part after build/lib.*,
 * or the path under COMMAND's directory for in-place builds), isolates
 * the objects (isolate.c, the init function keeping its name) into
 * NAME.o in the bundle, and writes NAME.setup, the module's line: its
 * object and the libraries of the link (-l, -L, .a).  When COMMAND
 * succeeds, the lines are gathered, sorted, into the bundle's Setup file
 * and the temporary directory is renamed DIR.  A bundle is read back by
 * `inbuilt build --bundle DIR` as `--setup DIR/Setup`.
 */
#include "capture.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "isolate.h"
#include "spawn.h"
#include "util.h"

/* This program's path. */
static char *
self_path(void)
{
    char buf[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);

    if (n < 0) {
        inb_fatal("cannot find this program's path in /proc/self/exe:");
    }
    buf[n] = '\0';
    return inb_xstrdup(buf);
}

/* path made absolute against the current directory (malloc'd). */
static char *
absolute(const char *path)
{
    char cwd[PATH_MAX];

    if (path[0] == '/') {
        return inb_xstrdup(path);
    }
    if (getcwd(cwd, sizeof(cwd)) == NULL) {
        inb_fatal("getcwd:");
    }
    return inb_xprintf("%s/%s", cwd, path);
}

/* The dotted module name of extension file path (absolute), or NULL when
 * it is neither under build/lib.* nor under cwd. */
static char *
module_name(const char *path, const char *cwd)
{
    const char *rel = strstr(path, "/build/lib."), *p;
    size_t n = strlen(cwd);
    char *name, *q;

    if (rel != NULL) {
        rel = strchr(rel + 1 + strlen("build/lib."), '/');
        rel = rel != NULL ? rel + 1 : NULL;
    }
    else if (strncmp(path, cwd, n) == 0 && path[n] == '/') {
        rel = path + n + 1;
    }
    if (rel == NULL) {
        return NULL;
    }
    name = inb_xstrdup(rel);
    /* pkg/sub/_ext.cpython-311-x86_64-linux-gnu.so -> pkg.sub._ext */
    p = strrchr(name, '/');
    q = strchr(p != NULL ? p : name, '.');
    if (q != NULL) {
        *q = '\0';
    }
    for (q = name; *q; q++) {
        if (*q == '/') {
            *q = '.';
        }
    }
    if (!inb_is_dotted_name(name, strlen(name))) {
        free(name);
        return NULL;
    }
    return name;
}

/* Record the shared object out linked from argv's objects and libraries. */
static void
record(const char *dir, const char *cwd, char **argv, const char *out)
{
    struct inb_strv objects = {0};
    struct inb_buf line = {0};
    char *abs = absolute(out), *name = module_name(abs, cwd), *obj, *init;
    char *setup, *word;
    size_t i;

    if (name == NULL) {
        inb_warn("capture: %s is not under build/lib.* nor under %s: not "
                 "recorded",
                 abs, cwd);
        free(abs);
        return;
    }
    inb_buf_addstr(&line, name);
    inb_buf_addstr(&line, " ");
    inb_buf_addstr(&line, name);
    inb_buf_addstr(&line, ".o");
    for (i = 1; argv[i] != NULL; i++) {
        const char *a = argv[i];
        size_t n = strlen(a);

        if (strcmp(a, "-o") == 0 && argv[i + 1] != NULL) {
            i++;
        }
        else if (n > 2 && strcmp(a + n - 2, ".o") == 0) {
            word = absolute(a);
            inb_strv_add(&objects, word);
            free(word);
        }
        else if (strncmp(a, "-l", 2) == 0 && n > 2) {
            inb_buf_addstr(&line, " ");
            inb_buf_addstr(&line, a);
        }
        else if ((strncmp(a, "-L", 2) == 0 && n > 2) ||
                 (n > 2 && strcmp(a + n - 2, ".a") == 0)) {
            word = a[1] == 'L' ? absolute(a + 2) : absolute(a);
            inb_buf_addstr(&line, a[1] == 'L' ? " -L" : " ");
            inb_buf_addstr(&line, word);
            free(word);
        }
    }
    inb_buf_addstr(&line, "\n");
    init = inb_init_name(name);
    obj = inb_xprintf("%s/%s.o", dir, name);
    inb_isolate(name, &objects, init, init, obj);
    setup = inb_xprintf("%s/%s.setup", dir, name);
    inb_write_file(setup, line.data, line.len);
    inb_note("captured %s", name);
    free(setup);
    free(obj);
    free(init);
    inb_buf_free(&line);
    inb_strv_free(&objects);
    free(name);
    free(abs);
}

int
inb_capture_wrap(int argc, char **argv)
{
    const char *dir = getenv("INBUILT_CAPTURE_DIR");
    const char *cwd = getenv("INBUILT_CAPTURE_CWD");
    const char *out = NULL;
    int shared = 0, rc, i;

    if (argc < 2) {
        inb_fatal("wrap: expected the compiler or linker to run");
    }
    rc = inb_spawn_run(argv + 1, NULL);
    if (rc != 0 || dir == NULL || cwd == NULL) {
        return rc;
    }
    for (i = 2; i < argc; i++) {
        if (strcmp(argv[i], "-shared") == 0) {
            shared = 1;
        }
        else if (strcmp(argv[i], "-o") == 0 && i + 1 < argc) {
            out = argv[i + 1];
        }
    }
    if (shared && out != NULL && strlen(out) > 3 &&
        strcmp(out + strlen(out) - 3, ".so") == 0) {
        record(dir, cwd, argv + 1, out);
    }
    return 0;
}

static int
compare_strings(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Gather the NAME.setup lines of dir into its Setup file, sorted.  Returns
 * the number of modules. */
static size_t
write_manifest(const char *dir, const char *command)
{
    struct inb_strv lines = {0};
    struct inb_buf text = {0}, one = {0};
    struct dirent *d;
    DIR *dp = opendir(dir);
    char *path;
    size_t i;

    if (dp == NULL) {
        inb_fatal("cannot read %s:", dir);
    }
    while ((d = readdir(dp)) != NULL) {
        size_t n = strlen(d->d_name);

        if (n > 6 && strcmp(d->d_name + n - 6, ".setup") == 0) {
            path = inb_xprintf("%s/%s", dir, d->d_name);
            one.len = 0;
            if (inb_buf_readfile(&one, path) < 0) {
                inb_fatal("cannot read %s:", path);
            }
            inb_strv_add(&lines, one.data);
            unlink(path);
            free(path);
        }
    }
    closedir(dp);
    qsort(lines.v, lines.n, sizeof(*lines.v), compare_strings);
    inb_buf_addstr(&text, "# Extension modules captured by `inbuilt capture` "
                          "from:\n#   ");
    inb_buf_addstr(&text, command);
    inb_buf_addstr(&text, "\n# Read by `inbuilt build --bundle` as a Setup "
                          "file; paths are relative to this directory.\n");
    for (i = 0; i < lines.n; i++) {
        inb_buf_addstr(&text, lines.v[i]);
    }
    path = inb_xprintf("%s/%s", dir, INB_BUNDLE_MANIFEST);
    inb_write_file(path, text.data, text.len);
    free(path);
    inb_buf_free(&text);
    inb_buf_free(&one);
    i = lines.n;
    inb_strv_free(&lines);
    return i;
}

/* The variables a build reads its compilers and linkers from (setuptools
 * and distutils do), each set to run the real tool through `inbuilt
 * wrap`. */
static const struct {
    const char *var, *tool, *extra;
} wrappers[] = {
    {"CC", INB_CC, ""},
    {"CXX", INB_CXX, ""},
    {"LDSHARED", INB_CC, " -shared"},
    {"LDCXXSHARED", INB_CXX, " -shared"},
};

int
inb_capture_main(int argc, char **argv)
{
    const char *out = NULL;
    char *self, *tmp, *copy, *cwd, *wrapped;
    struct inb_buf command = {0};
    struct stat st;
    size_t n;
    int i, rc;

    for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
        if (strcmp(argv[i], "--out") == 0 && i + 1 < argc) {
            out = argv[++i];
        }
        else if (strcmp(argv[i], "-v") == 0 ||
                 strcmp(argv[i], "--verbose") == 0) {
            inb_verbose = 1;
        }
        else {
            inb_fatal("capture: unexpected argument %s; usage: inbuilt "
                      "capture --out DIR -- COMMAND...",
                      argv[i]);
        }
    }
    if (out == NULL || i + 1 >= argc) {
        inb_fatal("capture: usage: inbuilt capture --out DIR -- COMMAND..., "
                  "like: inbuilt capture --out ../pkg.bundle -- python3 "
                  "setup.py build_ext");
    }
    if (stat(out, &st) == 0) {
        inb_fatal("capture: %s exists; remove it or choose another --out",
                  out);
    }
    for (n = (size_t)i + 1; n < (size_t)argc; n++) {
        inb_buf_addstr(&command, n > (size_t)i + 1 ? " " : "");
        inb_buf_addstr(&command, argv[n]);
    }
    copy = absolute(out);
    tmp = inb_xprintf("%s.inbuilt-XXXXXX", copy);
    free(copy);
    if (inb_try_temp_dir(tmp) < 0) {
        inb_fatal("capture: cannot create a directory beside %s:", out);
    }
    self = self_path();
    cwd = absolute(".");
    n = strlen(cwd);
    if (n > 2 && strcmp(cwd + n - 2, "/.") == 0) {
        cwd[n - 2] = '\0';
    }
    setenv("INBUILT_CAPTURE_DIR", tmp, 1);
    setenv("INBUILT_CAPTURE_CWD", cwd, 1);
    for (n = 0; n < sizeof(wrappers) / sizeof(wrappers[0]); n++) {
        wrapped = inb_xprintf("%s wrap %s%s", self, wrappers[n].tool,
                              wrappers[n].extra);
        setenv(wrappers[n].var, wrapped, 1);
        free(wrapped);
    }
    rc = inb_spawn_run(argv + i + 1, NULL);
    if (rc != 0) {
        inb_fatal("capture: %s failed (exit status %d); nothing was written "
                  "to %s",
                  command.data, rc, out);
    }
    n = write_manifest(tmp, command.data);
    if (n == 0) {
        inb_fatal("capture: %s linked no Python extension module (a .so "
                  "under build/lib.* or the current directory); nothing was "
                  "written to %s (was it already built? remove its build "
                  "directory first)",
                  command.data, out);
    }
    if (rename(tmp, out) < 0) {
        inb_fatal("capture: cannot rename %s to %s:", tmp, out);
    }
    inb_cleanup_forget(tmp);
    fprintf(stderr, "%s: captured %zu extension module%s into %s\n", inb_argv0,
            n, n == 1 ? "" : "s", out);
    inb_buf_free(&command);
    free(cwd);
    free(self);
    free(tmp);
    return 0;
}
