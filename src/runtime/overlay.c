/* overlay.c: INBUILT_OVERLAY=DIR, a directory laid out like the
 * executable's virtual tree (DIR/pkg/mod.py, DIR/pkg/__init__.py,
 * DIR/pkg/data/x.txt) whose modules and data files take precedence over
 * the embedded ones, so that a fix can be tried on many processes without
 * rebuilding.  Off unless the variable names a directory.
 *
 * Lookups cost at most one directory listing per package directory: the
 * first question about directory DIR/a/b reads it once (opendir, readdir)
 * and keeps its names and types; a directory whose parent's listing lacks
 * it is never opened.  Nothing outside DIR is touched.  A module found
 * there gets a spec from _inbuilt_support.overlay_spec(), whose loader
 * compiles the file (no bytecode cache is read or written), so __file__,
 * co_filename and tracebacks name the overlay's file; packages of the
 * overlay keep the executable's virtual directory on their __path__, so
 * submodules and data files the overlay lacks still come from the
 * archive.  An extension module (DIR/a/b.cpython-311-...so, any of
 * _imp.extension_suffixes(), taken before b.py as CPython's path finder
 * does) is loaded from its file by CPython's extension loader; a
 * directory without __init__ is a namespace package (PEP 420) whose
 * __path__ is the overlay's directory, then the archive's namespace
 * package of that name if there is one, unless the archive has a module
 * or regular package of that name.
 *
 * The state below is set on first use and lives until the process ends.
 */
#include "overlay.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "resources.h"
#include "support.h"

enum overlay_state { UNREAD, OFF, ON };

static enum overlay_state overlay_state = UNREAD;
static PyObject *dir;          /* str: the overlay directory, absolute */
static PyObject *listings;     /* dict: relative directory ("" or "a/b") ->
                                  dict {name: d_type} or None when absent */
static PyObject *ext_suffixes; /* list: _imp.extension_suffixes() */

/* Read INBUILT_OVERLAY and, when it names a directory, say so once on
 * sys.stderr.  Returns 0, or -1 with an exception set. */
static int
overlay_init(void)
{
    const char *env = getenv("INBUILT_OVERLAY");
    PyObject *base, *imp;
    char cwd[PATH_MAX];
    size_t n;

    overlay_state = OFF;
    if (env == NULL || *env == '\0') {
        return 0;
    }
    if (env[0] == '/') {
        dir = PyUnicode_DecodeFSDefault(env);
    }
    else if (getcwd(cwd, sizeof(cwd)) != NULL) {
        base = PyUnicode_DecodeFSDefault(cwd);
        if (base == NULL) {
            return -1;
        }
        dir = PyUnicode_FromFormat("%U/%s", base, env);
        Py_DECREF(base);
    }
    else {
        PyErr_SetFromErrno(PyExc_OSError);
        return -1;
    }
    listings = PyDict_New();
    imp = PyImport_ImportModule("_imp");
    ext_suffixes = imp != NULL
                       ? PyObject_CallMethod(imp, "extension_suffixes", NULL)
                       : NULL;
    Py_XDECREF(imp);
    if (ext_suffixes != NULL && !PyList_Check(ext_suffixes)) {
        PyErr_SetString(PyExc_TypeError,
                        "_imp.extension_suffixes() is not a list");
        Py_CLEAR(ext_suffixes);
    }
    if (dir == NULL || listings == NULL || ext_suffixes == NULL) {
        return -1;
    }
    n = (size_t)PyUnicode_GetLength(dir);
    while (n > 1 && PyUnicode_ReadChar(dir, (Py_ssize_t)n - 1) == '/') {
        n--;
    }
    Py_SETREF(dir, PyUnicode_Substring(dir, 0, (Py_ssize_t)n));
    if (dir == NULL) {
        return -1;
    }
    overlay_state = ON;
    PySys_FormatStderr("inbuilt: INBUILT_OVERLAY=%U: its modules and data "
                       "files take precedence over the embedded ones\n",
                       dir);
    return 0;
}

/* New reference: DIR, or DIR/rel when rel (a str) is not empty. */
static PyObject *
full_path(PyObject *rel)
{
    if (PyUnicode_GetLength(rel) == 0) {
        return Py_NewRef(dir);
    }
    return PyUnicode_FromFormat("%U/%U", dir, rel);
}

/* Read directory DIR/rel into a new dict {name: d_type}; None (new
 * reference) when it cannot be opened. */
static PyObject *
read_dir(PyObject *rel)
{
    PyObject *path = NULL, *bytes = NULL, *names = NULL, *name = NULL;
    PyObject *type = NULL;
    struct dirent *d;
    DIR *dp;

    path = full_path(rel);
    if (path == NULL || !PyUnicode_FSConverter(path, &bytes)) {
        goto error;
    }
    dp = opendir(PyBytes_AS_STRING(bytes));
    if (dp == NULL) {
        Py_DECREF(bytes);
        Py_DECREF(path);
        Py_RETURN_NONE;
    }
    names = PyDict_New();
    while (names != NULL && (d = readdir(dp)) != NULL) {
        if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0) {
            continue;
        }
        name = PyUnicode_DecodeFSDefault(d->d_name);
        type = PyLong_FromLong(d->d_type);
        if (name == NULL || type == NULL ||
            PyDict_SetItem(names, name, type) < 0) {
            Py_CLEAR(names);
        }
        Py_CLEAR(name);
        Py_CLEAR(type);
    }
    closedir(dp);
    Py_DECREF(bytes);
    Py_DECREF(path);
    return names;
error:
    Py_XDECREF(bytes);
    Py_XDECREF(path);
    return NULL;
}

/* Whether listing (a dict from read_dir, or None) has name (a str) as a
 * directory (want_dir) or as a file.  A type the filesystem does not give
 * (DT_UNKNOWN) or a symbolic link may be either.  Returns 1, 0, or -1 with
 * an exception set. */
static int
listing_has(PyObject *listing, PyObject *name, int want_dir)
{
    PyObject *type;
    long t;

    if (listing == Py_None) {
        return 0;
    }
    type = PyDict_GetItemWithError(listing, name); /* borrowed */
    if (type == NULL) {
        return PyErr_Occurred() ? -1 : 0;
    }
    t = PyLong_AsLong(type);
    if (t == DT_UNKNOWN || t == DT_LNK) {
        return 1;
    }
    return want_dir ? t == DT_DIR : t == DT_REG;
}

/* Borrowed: the listing of directory rel (a str: "" for DIR, "a/b"), read
 * on first use, or None when DIR/rel is no directory.  NULL with an
 * exception set on error. */
static int split_rel(PyObject *rel, PyObject **parent, PyObject **base);

static PyObject *
listing_of(PyObject *rel)
{
    PyObject *found, *parent = NULL, *base = NULL, *listing = NULL;
    int has;

    found = PyDict_GetItemWithError(listings, rel); /* borrowed */
    if (found != NULL || PyErr_Occurred()) {
        return found;
    }
    if (PyUnicode_GetLength(rel) > 0) {
        /* Only a directory its parent's listing shows is opened. */
        if (split_rel(rel, &parent, &base) < 0) {
            return NULL;
        }
        found = listing_of(parent);
        has = found != NULL ? listing_has(found, base, 1) : -1;
        if (has < 0) {
            goto done;
        }
        if (has == 0) {
            listing = Py_NewRef(Py_None);
        }
    }
    if (listing == NULL) {
        listing = read_dir(rel);
    }
    if (listing == NULL || PyDict_SetItem(listings, rel, listing) < 0) {
        goto done;
    }
    found = listing; /* the dict keeps it */
done:
    if (PyErr_Occurred()) {
        found = NULL;
    }
    Py_XDECREF(listing);
    Py_XDECREF(base);
    Py_XDECREF(parent);
    return found;
}

/* Whether the overlay is on, reading the variable on first use.  Returns
 * 1, 0, or -1 with an exception set. */
static int
overlay_on(void)
{
    if (overlay_state == UNREAD && overlay_init() < 0) {
        return -1;
    }
    return overlay_state == ON;
}

/* Split rel (a str) at its last '/' into new references *parent ("" at
 * the top) and *base.  Returns 0, or -1 with an exception set. */
static int
split_rel(PyObject *rel, PyObject **parent, PyObject **base)
{
    Py_ssize_t n = PyUnicode_GetLength(rel);
    Py_ssize_t slash = PyUnicode_FindChar(rel, '/', 0, n, -1);

    *parent = *base = NULL;
    if (slash == -2) {
        return -1;
    }
    *parent = PyUnicode_Substring(rel, 0, slash < 0 ? 0 : slash);
    *base = PyUnicode_Substring(rel, slash + 1, n);
    if (*parent == NULL || *base == NULL) {
        Py_CLEAR(*parent);
        Py_CLEAR(*base);
        return -1;
    }
    return 0;
}

/* New reference: the name of the module file of stem (a str: "mod",
 * "__init__") in listing, as CPython's path finder takes it (an extension
 * module before source): stem + an extension suffix with *is_ext set, or
 * stem + ".py".  NULL without an exception when there is none, with one on
 * error. */
static PyObject *
module_file(PyObject *listing, PyObject *stem, int *is_ext)
{
    PyObject *file = NULL;
    Py_ssize_t i, n = PyList_GET_SIZE(ext_suffixes);
    int has;

    for (i = 0; i <= n; i++) {
        *is_ext = i < n;
        file = i < n ? PyUnicode_Concat(stem, PyList_GET_ITEM(ext_suffixes, i))
                     : PyUnicode_FromFormat("%U.py", stem);
        has = file != NULL ? listing_has(listing, file, 0) : -1;
        if (has != 0) {
            if (has < 0) {
                Py_CLEAR(file);
            }
            return file;
        }
        Py_CLEAR(file);
    }
    return NULL;
}

/* New reference: the __path__ of package name found in the overlay as
 * directory DIR/rel: that directory, then the package's virtual directory
 * when the archive has name as a package or namespace package (kind, as
 * _inbuilt.module_kind() gives it), so what the overlay lacks still comes
 * from the archive. */
static PyObject *
package_path(PyObject *rel, long kind)
{
    PyObject *list = NULL, *item = NULL, *mod = NULL, *root = NULL;

    item = full_path(rel);
    list = item != NULL ? PyList_New(0) : NULL;
    if (list == NULL || PyList_Append(list, item) < 0) {
        goto error;
    }
    Py_CLEAR(item);
    if (kind == 2 || kind == 3) {
        mod = PyImport_ImportModule("_inbuilt");
        root = mod != NULL ? PyObject_GetAttrString(mod, "root") : NULL;
        item = root != NULL ? PyUnicode_FromFormat("%U/%U", root, rel) : NULL;
        if (item == NULL || PyList_Append(list, item) < 0) {
            goto error;
        }
    }
    Py_XDECREF(item);
    Py_XDECREF(root);
    Py_XDECREF(mod);
    return list;
error:
    Py_XDECREF(item);
    Py_XDECREF(root);
    Py_XDECREF(mod);
    Py_XDECREF(list);
    return NULL;
}

/* What the archive holds as module name: _inbuilt.module_kind(name) (0
 * absent, 1 module, 2 package, 3 namespace package, 4 extension), or -1
 * with an exception set. */
static long
archive_kind(PyObject *name)
{
    PyObject *mod = PyImport_ImportModule("_inbuilt"), *kind;
    long k;

    kind = mod != NULL ? PyObject_CallMethod(mod, "module_kind", "O", name)
                       : NULL;
    k = kind != NULL ? PyLong_AsLong(kind) : -1;
    Py_XDECREF(kind);
    Py_XDECREF(mod);
    return k;
}

/* New reference: the spec of extension module name from the overlay's
 * file path, loaded from that file by CPython's own extension loader; a
 * package (__init__ of an extension) when locations (its __path__) is not
 * NULL. */
static PyObject *
extension_spec(PyObject *name, PyObject *path, PyObject *locations)
{
    PyObject *ext = NULL, *loader = NULL, *kwargs = NULL, *func = NULL;
    PyObject *args = NULL, *spec = NULL;

    ext = PyImport_ImportModule("_frozen_importlib_external");
    if (ext == NULL) {
        goto done;
    }
    loader = PyObject_CallMethod(ext, "ExtensionFileLoader", "OO", name, path);
    func = PyObject_GetAttrString(ext, "spec_from_file_location");
    args = PyTuple_Pack(2, name, path);
    kwargs = Py_BuildValue("{sOsO}", "loader", loader ? loader : Py_None,
                           "submodule_search_locations",
                           locations ? locations : Py_None);
    if (loader != NULL && func != NULL && args != NULL && kwargs != NULL) {
        spec = PyObject_Call(func, args, kwargs);
    }
done:
    Py_XDECREF(args);
    Py_XDECREF(kwargs);
    Py_XDECREF(func);
    Py_XDECREF(loader);
    Py_XDECREF(ext);
    return spec;
}

/* New reference: the spec of namespace package name, whose __path__ is
 * locations (PEP 420: no loader, the import system gives it one). */
static PyObject *
namespace_spec(PyObject *name, PyObject *locations)
{
    PyObject *boot = PyImport_ImportModule("_frozen_importlib"), *spec = NULL;
    PyObject *args = NULL, *kwargs = NULL, *cls = NULL;

    cls = boot != NULL ? PyObject_GetAttrString(boot, "ModuleSpec") : NULL;
    args = PyTuple_Pack(2, name, Py_None);
    kwargs = Py_BuildValue("{sO}", "is_package", Py_True);
    if (cls != NULL && args != NULL && kwargs != NULL) {
        spec = PyObject_Call(cls, args, kwargs);
    }
    if (spec != NULL &&
        PyObject_SetAttrString(spec, "submodule_search_locations", locations) <
            0) {
        Py_CLEAR(spec);
    }
    Py_XDECREF(kwargs);
    Py_XDECREF(args);
    Py_XDECREF(cls);
    Py_XDECREF(boot);
    return spec;
}

/* New reference: the spec of module name from the overlay's file DIR/file
 * (an extension module when is_ext), a package's __init__ when
 * is_package. */
static PyObject *
file_spec(PyObject *name, PyObject *rel, PyObject *file, int is_ext,
          int is_package)
{
    PyObject *path = full_path(file), *args = NULL, *locations = NULL;
    PyObject *spec = NULL;
    long kind = 0;

    if (path == NULL) {
        return NULL;
    }
    if (!is_ext) {
        args = Py_BuildValue("(OOO)", name, path,
                             is_package ? Py_True : Py_False);
        spec = args != NULL ? inb_support_call("overlay_spec", args) : NULL;
    }
    else {
        if (is_package) {
            kind = archive_kind(name);
            locations = kind >= 0 ? package_path(rel, kind) : NULL;
        }
        if (!is_package || locations != NULL) {
            spec = extension_spec(name, path, locations);
        }
    }
    Py_XDECREF(locations);
    Py_XDECREF(args);
    Py_DECREF(path);
    return spec;
}

int
inb_overlay_find_spec(PyObject *name, PyObject **spec)
{
    PyObject *rel = NULL, *parent = NULL, *base = NULL, *file = NULL;
    PyObject *listing, *init = NULL, *where = NULL, *locations = NULL;
    int on = overlay_on(), has, is_ext = 0, is_package = 0, rc = -1;
    long kind;

    *spec = NULL;
    if (on <= 0) {
        return on;
    }
    /* The overlay's own loader lives there: never looked for. */
    if (PyUnicode_CompareWithASCIIString(name, INB_SUPPORT_MODULE) == 0) {
        return 0;
    }
    rel = inb_resources_module_dir(name);
    if (rel == NULL || split_rel(rel, &parent, &base) < 0) {
        goto done;
    }
    /* As CPython's path finder: a package (DIR/a/b/ holding __init__),
     * else a module file (an extension before source), else a directory
     * is a namespace package, unless the archive has a module or regular
     * package of that name (which then wins, as a regular one does on
     * sys.path). */
    listing = listing_of(parent);
    has = listing != NULL ? listing_has(listing, base, 1) : -1;
    if (has > 0) {
        PyObject *sub = listing_of(rel);

        init = PyUnicode_FromString("__init__");
        file = sub != NULL && init != NULL ? module_file(sub, init, &is_ext)
                                           : NULL;
        if (file != NULL) {
            is_package = 1;
            where = rel;
        }
    }
    if (file == NULL && !PyErr_Occurred() && has >= 0) {
        file = module_file(listing, base, &is_ext);
        where = parent;
    }
    if (PyErr_Occurred() || has < 0) {
        goto done;
    }
    if (file != NULL) {
        Py_SETREF(file, PyUnicode_GetLength(where) > 0
                            ? PyUnicode_FromFormat("%U/%U", where, file)
                            : Py_NewRef(file));
        *spec = file != NULL ? file_spec(name, rel, file, is_ext, is_package)
                             : NULL;
        rc = *spec != NULL ? 1 : -1;
        goto done;
    }
    rc = 0;
    if (has > 0) {
        kind = archive_kind(name);
        if (kind == 0 || kind == 3) {
            locations = package_path(rel, kind);
            *spec = locations != NULL ? namespace_spec(name, locations) : NULL;
            rc = *spec != NULL ? 1 : -1;
        }
        else if (kind < 0) {
            rc = -1;
        }
    }
done:
    Py_XDECREF(locations);
    Py_XDECREF(init);
    Py_XDECREF(file);
    Py_XDECREF(base);
    Py_XDECREF(parent);
    Py_XDECREF(rel);
    return rc;
}

/* Whether rel is a clean relative path: not empty, no empty, "." or ".."
 * component, no leading or trailing '/'. */
static int
clean_rel(const char *rel, Py_ssize_t n)
{
    Py_ssize_t i, start = 0;

    if (n == 0) {
        return 0;
    }
    for (i = 0; i <= n; i++) {
        if (i == n || rel[i] == '/') {
            Py_ssize_t len = i - start;

            if (len == 0 || (len == 1 && rel[start] == '.') ||
                (len == 2 && rel[start] == '.' && rel[start + 1] == '.')) {
                return 0;
            }
            start = i + 1;
        }
    }
    return 1;
}

/* overlay_file(rel): new reference to the overlay's path of file rel of
 * the virtual tree, or None (overlay off, no such file). */
static PyObject *
overlay_file(PyObject *self, PyObject *rel)
{
    PyObject *parent = NULL, *base = NULL, *listing, *res = NULL;
    const char *s;
    Py_ssize_t n;
    int on = overlay_on(), has;

    (void)self;
    if (on <= 0) {
        return on < 0 ? NULL : Py_NewRef(Py_None);
    }
    if (!PyUnicode_Check(rel)) {
        PyErr_SetString(PyExc_TypeError, "overlay_file() takes a str");
        return NULL;
    }
    s = PyUnicode_AsUTF8AndSize(rel, &n);
    if (s == NULL) {
        return NULL;
    }
    if (!clean_rel(s, n)) {
        Py_RETURN_NONE;
    }
    if (split_rel(rel, &parent, &base) < 0) {
        return NULL;
    }
    listing = listing_of(parent);
    has = listing != NULL ? listing_has(listing, base, 0) : -1;
    if (has == 1) {
        res = full_path(rel);
    }
    else if (has == 0) {
        res = Py_NewRef(Py_None);
    }
    Py_DECREF(parent);
    Py_DECREF(base);
    return res;
}

static PyMethodDef overlay_methods[] = {
    {"overlay_file", overlay_file, METH_O,
     "overlay_file(rel): the overlay's path of file rel of the virtual "
     "tree, or None."},
    {NULL, NULL, 0, NULL},
};

int
inb_overlay_add_to_module(PyObject *module)
{
    return PyModule_AddFunctions(module, overlay_methods);
}
