/* cpysource.c: --cpython-source DIR.
 *
 * The target's interpreter (the one whose libpython is linked) runs the
 * script below, which reads DIR/Modules/Setup.stdlib.in, the recipes of
 * CPython's own build (`@MODULE__JSON_TRUE@_json _json.c`), fills in what
 * configure found on the target's machine (sysconfig's MODULE_<NAME>_*
 * variables: -lssl -lcrypto, -I../Modules/_decimal/libmpdec, ...), and
 * prints a Setup file (setup.c reads it) with absolute paths, one line per
 * module asked for, and a comment line "# skip NAME: reason" for each it
 * cannot give a recipe for.  The self-contained libraries of Debian's -dev
 * packages they need (libssl, libcrypto, libsqlite3, libffi, libbz2,
 * liblzma, libuuid, libcrypt) are taken as static archives and linked
 * into each module's isolated object, so the executable does not depend
 * on their shared objects.  A module that needs another library than
 * those and libpython's own (libnsl for nis, libtk for _tkinter) is left a
 * shared object, with that reason: the executable would load the library
 * at every start.
 * Modules are compiled as CPython compiles its static modules
 * (-DPy_BUILD_CORE_BUILTIN, the internal headers).
 */
#include "cpysource.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "setup.h"
#include "spawn.h"
#include "target.h"
#include "util.h"

/* cpysource.py, the script that reads the recipes. */
extern const char inb_cpysource_py[];

void
inb_cpysource_declare(struct inb_exts *l, const struct inb_collect *c,
                      const char *dir)
{
    struct inb_buf out = {0};
    char **argv = NULL, *path, *line, *save = NULL;
    size_t argc = 0, i, first = l->n;
    FILE *f;
    int fd, rc;

    inb_argv_add(&argv, &argc, inb_py->python);
    inb_argv_add(&argv, &argc, "-I");
    inb_argv_add(&argv, &argc, "-c");
    inb_argv_add(&argv, &argc, inb_cpysource_py);
    inb_argv_add(&argv, &argc, dir);
    for (i = 0; i < c->n; i++) {
        const struct inb_module *m = &c->mods[i];

        if (m->kind == INB_KIND_SHARED_EXT && m->path != NULL &&
            strstr(m->path, "/lib-dynload/") != NULL &&
            strchr(m->name, '.') == NULL && inb_ext_find(l, m->name) == NULL) {
            inb_argv_add(&argv, &argc, m->name);
        }
    }
    rc = inb_spawn_run(argv, &out);
    if (rc != 0) {
        inb_fatal("--cpython-source %s: cannot read its recipes (see above)",
                  dir);
    }
    path = inb_xprintf("%s/inbuilt-stdlib-XXXXXX", inb_temp_root());
    fd = mkstemp(path);
    if (fd < 0 || (f = fdopen(fd, "w")) == NULL) {
        inb_fatal("cannot create %s:", path);
    }
    inb_cleanup_add(path);
    if (fwrite(out.data, 1, out.len, f) != out.len || fclose(f) != 0) {
        inb_fatal("cannot write %s:", path);
    }
    inb_setup_read(l, path);
    unlink(path);
    inb_cleanup_forget(path);
    for (line = strtok_r(out.data, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        if (strncmp(line, "# skip ", 7) == 0) {
            inb_warn("--cpython-source: %s; it stays a shared object",
                     line + 7);
        }
    }
    for (i = first; i < l->n; i++) {
        l->v[i].optional = 1;
        l->v[i].embed_archives = 1;
        free(l->v[i].origin);
        l->v[i].origin = inb_xprintf("--cpython-source %s", dir);
    }
    inb_buf_free(&out);
    free(path);
    for (i = 0; i < argc; i++) {
        free(argv[i]);
    }
    free(argv);
}
