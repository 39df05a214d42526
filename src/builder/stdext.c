/* stdext.c: --cpython-source DIR.
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
#include "stdext.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "setup.h"
#include "spawn.h"
#include "target.h"
#include "util.h"

static const char recipe_script[] =
    "import glob, os, re, sys, sysconfig\n"
    "src, names = sys.argv[1], sys.argv[2:]\n"
    "v = sysconfig.get_config_vars()\n"
    "mods = os.path.join(src, 'Modules')\n"
    "try:\n"
    "    with open(os.path.join(src, 'Include', 'patchlevel.h')) as f:\n"
    "        ver = re.search(r'#define PY_VERSION\\s+\"(\\d+\\.\\d+)', "
    "f.read()).group(1)\n"
    "    with open(os.path.join(mods, 'Setup.stdlib.in')) as f:\n"
    "        text = f.read().replace('\\\\\\n', ' ')\n"
    "except (OSError, AttributeError) as e:\n"
    "    sys.exit('%s is not a CPython source tree of 3.11 or later (%s)' "
    "% (src, e))\n"
    "if ver != '%d.%d' % sys.version_info[:2]:\n"
    "    sys.exit('%s is the source of CPython %s, not of the target %d.%d' "
    "% ((src, ver) + sys.version_info[:2]))\n"
    "recipes = {}\n"
    "for line in text.splitlines():\n"
    "    m = re.match(r'@MODULE_(\\w+)_TRUE@(\\w+)\\s+(.*)', "
    "line.split('#')[0].strip())\n"
    "    if m:\n"
    "        recipes[m.group(2)] = (m.group(1), m.group(3).split())\n"
    "if '_ctypes' not in recipes and os.path.exists(os.path.join(mods, "
    "'_ctypes', 'cfield.c')):\n"
    "    recipes['_ctypes'] = ('_CTYPES', ['_ctypes/%s.c' % n for n in "
    "('_ctypes', 'callbacks', 'callproc', 'stgdict', 'cfield')] + "
    "['-DHAVE_FFI_PREP_CIF_VAR=1', '-DHAVE_FFI_PREP_CLOSURE_LOC=1', "
    "'-DHAVE_FFI_CLOSURE_ALLOC=1', '-lffi', '-ldl'])\n"
    "def mpdec_objs():\n"
    "    # The bundled libmpdec's objects, as the Makefile lists them.\n"
    "    with open(os.path.join(src, 'Makefile.pre.in')) as f:\n"
    "        mk = f.read()\n"
    "    block = mk[mk.index('LIBMPDEC_OBJS='):].split('\\n\\n')[0]\n"
    "    lines = [l for l in block.splitlines() if not "
    "l.strip().startswith('#')]\n"
    "    return re.findall(r'Modules/_decimal/libmpdec/\\w+\\.o', "
    "'\\n'.join(lines))\n"
    "def path(w):\n"
    "    if w.startswith('-I../'):\n"
    "        return '-I' + os.path.join(src, w[5:])\n"
    "    if w.startswith('-I') and not w.startswith('-I/'):\n"
    "        return '-I' + os.path.join(src, w[2:])\n"
    "    if w.endswith('libmpdec.a') and not os.path.isabs(w):\n"
    "        return ' '.join(os.path.join(src, o[:-2] + '.c') for o in "
    "mpdec_objs())\n"
    "    if w.endswith('.a') and not os.path.isabs(w):\n"
    "        raise LookupError('needs %s, a library of CPython\\'s own build' "
    "% w)\n"
    "    if w.endswith('.c'):\n"
    "        return os.path.join(mods, w)\n"
    "    return w\n"
    "libdirs = [d for d in (v.get('LIBDIR'), os.path.join(v.get('LIBDIR') "
    "or '', v.get('MULTIARCH') or '')) if d]\n"
    "def static(w):\n"
    "    # A self-contained library of the -dev packages, linked into the\n"
    "    # module's object (so the executable needs no libssl.so & co.).\n"
    "    if w[2:] not in ('ssl', 'crypto', 'sqlite3', 'ffi', 'bz2', 'lzma', "
    "'uuid', 'crypt') or not w.startswith('-l'):\n"
    "        return w\n"
    "    for d in libdirs:\n"
    "        if os.path.exists(os.path.join(d, 'lib%s.a' % w[2:])):\n"
    "            return os.path.join(d, 'lib%s.a' % w[2:])\n"
    "    return w\n"
    "base = {'m', 'dl', 'pthread', 'rt', 'util', 'c'} | {w[2:] for w in "
    "' '.join(v.get(k) or '' for k in ('LIBS', 'MODLIBS', 'SYSLIBS'))"
    ".split() if w.startswith('-l')}\n"
    "internal = os.path.join(sysconfig.get_paths()['include'], 'internal')\n"
    "for name in names:\n"
    "    if name not in recipes:\n"
    "        print('# skip %s: no recipe in Modules/Setup.stdlib.in (3.11 "
    "builds it with setup.py)' % name)\n"
    "        continue\n"
    "    key, words = recipes[name]\n"
    "    state = v.get('MODULE_%s_STATE' % key) or 'yes'\n"
    "    if state not in ('yes', 'n/a'):\n"
    "        print('# skip %s: configure found it %s' % (name, state))\n"
    "        continue\n"
    "    extra = ((v.get('MODULE_%s_CFLAGS' % key) or '') + ' ' + "
    "(v.get('MODULE_%s_LDFLAGS' % key) or '')).split()\n"
    "    try:\n"
    "        words = [static(path(w)) for w in words + extra]\n"
    "    except LookupError as e:\n"
    "        print('# skip %s: %s' % (name, e))\n"
    "        continue\n"
    "    shared = [w for w in words if w.startswith('-l') and w[2:] not in "
    "base]\n"
    "    if shared:\n"
    "        print('# skip %s: needs %s, not among the libraries linked "
    "statically (the executable would load it at every start; as a shared "
    "object it is loaded only when imported)' % (name, ' '.join(shared)))\n"
    "        continue\n"
    "    print(name, ' '.join(words), '-DPy_BUILD_CORE_BUILTIN', '-I' + "
    "internal, '-I' + os.path.join(src, 'Include', 'internal'))\n";

void
inb_stdext_declare(struct inb_exts *l, const struct inb_collect *c,
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
    inb_argv_add(&argv, &argc, recipe_script);
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
