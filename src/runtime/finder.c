/* finder.c: the meta-path finder and loader that serve modules from the
 * archive embedded in the executable, and the built-in module _inbuilt.
 *
 * One type, _inbuilt.Importer, plays three parts:
 *  - the finder first on sys.meta_path: find_spec() looks the full dotted
 *    name up in the archive (binary search, no filesystem) and returns a
 *    ModuleSpec whose loader is itself and whose loader_state is the
 *    entry's index position, so that create_module() and exec_module()
 *    read the entry again without a search;
 *  - the loader: exec_module() unmarshals the code object straight from the
 *    archive's read-only data and runs it in the module's namespace;
 *    get_code(), is_package(), get_source() and get_filename() serve runpy
 *    (-m) and other InspectLoader users; get_source() is resources.c's;
 *    get_data(), get_resource_reader() and, as a meta-path finder,
 *    find_distributions() are _inbuilt_support's (loader.py, through
 *    support.c).  Extension modules are created and executed by
 *    extload.c;
 *  - a sentinel last on sys.meta_path (strict mode only), which turns an
 *    import of an extension module that the build left out (CPython's test
 *    helpers) into a ModuleNotFoundError that says so;
 *  - a path entry finder for the executable's virtual directories, with
 *    iter_modules() for pkgutil.
 *
 * Modules get a virtual location under the executable, as if it were a
 * directory (like a zip archive): module a.b of /opt/app has __file__
 * /opt/app/a/b.py, package a has __path__ ['/opt/app/a'] (vpath.c and
 * modpath.c say which; tree.c holds the archive and the root).  Nothing
 * exists there on disk; in strict mode no path-based finder is left to
 * look, and otherwise the path hook below claims those directories first.
 *
 * The top of the runtime: it calls down into the files named above and
 * none of them calls back.  The interpreter is single: the state below is
 * set once by inb_finder_install() and lives until the process ends.
 */
#include "finder.h"

#include "archpages.h"
#include "pages.h"
#include "builtin.h"
#include "errors.h"
#include "extload.h"
#include "hooks.h"
#include "modpath.h"
#include "overlay.h"
#include "resources.h"
#include "support.h"
#include "tree.h"
#include "vpath.h"

#include <marshal.h>

typedef struct {
    PyObject_HEAD
    int sentinel;      /* 1: only explains absent extensions */
    PyObject *package; /* str: the package whose virtual directory this
                          path entry finder stands for ("" for the root),
                          or NULL for the meta-path finder */
} Importer;

static PyTypeObject Importer_Type;
static void Importer_dealloc(Importer *self);
/* New reference: an Importer standing for package (a str, "" for the
 * root; NULL for the meta-path finder and sentinel). */
static PyObject *importer_new(int is_sentinel, PyObject *package);
/* New reference: attribute attr of module modname. */

static PyObject *module_spec;      /* _frozen_importlib.ModuleSpec */
static PyObject *fix_co_filename;  /* _imp._fix_co_filename */
static PyObject *finder;           /* the Importer first on sys.meta_path */
static PyObject *sentinel;         /* the Importer last on sys.meta_path */
static PyObject *builtins_str;     /* "__builtins__" */
static PyObject *slash_dot_str;    /* "/." */
static PyObject *double_slash_str; /* "//" */
static PyObject *normpath;         /* posixpath.normpath, once needed */
static PyObject *builtin_str;      /* "built-in" */
static PyObject *spec_str;         /* "__spec__" */
static PyObject *name_str;         /* "name" */
static PyObject *loader_state_str; /* "loader_state" */

/* 1 when the filesystem is allowed: a package's __path__ has its directory
 * on disk too (_inbuilt_support.add_disk_location). */
static int disk_locations;

/* Look module name (str) up in the archive (inb_vpath_find_module(): the
 * one rule from a name to its entry, "a.b.__init__" included).  Returns 1
 * and fills *e (and *index when not NULL) when found, 0 when not (a name
 * that is not UTF-8 too), -1 with an exception set when name is not a
 * str. */
static int
lookup(PyObject *name, inb_entry *e, uint32_t *index)
{
    Py_ssize_t len;
    const char *s;

    if (!PyUnicode_Check(name)) {
        PyErr_Format(PyExc_TypeError, "module name must be str, not %.100s",
                     Py_TYPE(name)->tp_name);
        return -1;
    }
    s = PyUnicode_AsUTF8AndSize(name, &len);
    if (s == NULL) {
        /* Lone surrogates (an undecodable file name, surrogateescape'd)
         * name no module of the archive, whose names are UTF-8. */
        if (PyErr_ExceptionMatches(PyExc_UnicodeEncodeError)) {
            PyErr_Clear();
            return 0;
        }
        return -1;
    }
    return inb_vpath_find_module(inb_tree_archive(), s, (size_t)len, e, index);
}

/* The entry of module name as spec carries it: find_spec() put its index
 * position in spec.loader_state, so that the loader does not search again;
 * a spec without it (made by another hand) or whose index names another
 * entry gets a lookup.  Returns 1 and fills *e, 0 when the archive has no
 * such module, -1 with an exception set. */
static int
spec_entry(PyObject *spec, PyObject *name, inb_entry *e)
{
    PyObject *state;
    const char *s;
    Py_ssize_t len;
    size_t index;
    int found = 0;

    state = PyObject_GetAttr(spec, loader_state_str);
    if (state == NULL) {
        PyErr_Clear();
    }
    else if (PyLong_CheckExact(state) && PyUnicode_Check(name)) {
        index = PyLong_AsSize_t(state);
        s = PyUnicode_AsUTF8AndSize(name, &len);
        if (index == (size_t)-1 || s == NULL) {
            PyErr_Clear();
        }
        else if (index < UINT32_MAX) {
            found = inb_vpath_module_at(inb_tree_archive(), (uint32_t)index, s,
                                        (size_t)len, e);
        }
    }
    Py_XDECREF(state);
    return found ? 1 : lookup(name, e, NULL);
}

static int
is_package_kind(int kind)
{
    return kind == INB_KIND_PACKAGE || kind == INB_KIND_NAMESPACE;
}

/* Look module name up, as a loader method must find it.  Returns 0 and
 * fills *e, or -1 with ModuleNotFoundError (TypeError for a non-str). */
static int
find_required(PyObject *name, inb_entry *e)
{
    int found = lookup(name, e, NULL);

    if (found == 0) {
        inb_error_raise(INB_FAIL_NOT_FOUND, name, NULL, 0);
    }
    return found == 1 ? 0 : -1;
}

/* New reference: the name under which module name is stored in the
 * archive, as loaded by self.  A path entry finder for package P's virtual
 * directory (and the loader of what it found) serves P's children: name
 * a.b is P.b there, as CPython's path finder loads a/b.py of whatever
 * directory a.__path__ lists (setuptools' distutils is setuptools._distutils
 * by its __path__).  The root's serves top-level names; the meta-path
 * finder's name is the name itself. */
static PyObject *child_name(PyObject *package, PyObject *name);

static PyObject *
archive_name(Importer *self, PyObject *name)
{
    if (self->package == NULL || !PyUnicode_Check(name)) {
        return Py_NewRef(name);
    }
    return child_name(self->package, name);
}

/* New reference: the package of dotted name (a str), "" for a top-level
 * name. */
static PyObject *
parent_of(PyObject *name)
{
    Py_ssize_t dot =
        PyUnicode_FindChar(name, '.', 0, PyUnicode_GetLength(name), -1);

    if (dot == -2) {
        return NULL;
    }
    return PyUnicode_Substring(name, 0, dot < 0 ? 0 : dot);
}

/* New reference: the child of package (a str, "" for the root) named as
 * the last part of dotted name (a str): "P.c" for "a.b.c". */
static PyObject *
child_name(PyObject *package, PyObject *name)
{
    Py_ssize_t dot, len;
    PyObject *tail, *res;

    len = PyUnicode_GetLength(name);
    dot = PyUnicode_FindChar(name, '.', 0, len, -1);
    if (dot == -2) {
        return NULL;
    }
    if (dot == -1 && PyUnicode_GetLength(package) == 0) {
        return Py_NewRef(name);
    }
    tail = PyUnicode_Substring(name, dot + 1, len);
    if (tail == NULL || PyUnicode_GetLength(package) == 0) {
        return tail;
    }
    res = PyUnicode_FromFormat("%U.%U", package, tail);
    Py_DECREF(tail);
    return res;
}

/* The package whose virtual directory path is: a new reference to its
 * dotted name ("" for the executable's path itself, the root; modpath.c's
 * rule), Py_None (new reference) when path is not a str under the
 * executable's path, Py_False (new reference) when it is but names no
 * module's directory ("a.b/c"), NULL with an exception set on error.
 * Whether that package exists is not checked. */
static PyObject *
dir_package(PyObject *path)
{
    PyObject *root = inb_tree_root_str(); /* borrowed */
    PyObject *rel, *package;
    Py_ssize_t n, rootlen, len;
    const char *s;
    char *dotted;

    if (root == NULL) {
        return NULL;
    }
    if (!PyUnicode_Check(path)) {
        Py_RETURN_NONE;
    }
    rootlen = PyUnicode_GetLength(root);
    n = PyUnicode_GetLength(path);
    /* A directory named with "..", "." or "//" (a package that extends
     * its __path__ by os.path.join(__file__'s directory, "..", ...)) is
     * named by its normal form, as the filesystem would resolve it. */
    if (n > 0 && (PyUnicode_Find(path, double_slash_str, 0, n, 1) >= 0 ||
                  PyUnicode_Find(path, slash_dot_str, 0, n, 1) >= 0 ||
                  PyUnicode_ReadChar(path, n - 1) == '/')) {
        PyObject *norm;

        if (normpath == NULL) {
            normpath = inb_import_attr("posixpath", "normpath");
            if (normpath == NULL) {
                return NULL;
            }
        }
        norm = PyObject_CallOneArg(normpath, path);
        if (norm == NULL) {
            return NULL;
        }
        package = PyUnicode_Check(norm) && PyUnicode_Compare(norm, path) != 0
                      ? dir_package(norm)
                      : NULL;
        if (package != NULL || PyErr_Occurred()) {
            Py_DECREF(norm);
            return package;
        }
        Py_DECREF(norm);
    }
    if (n < rootlen || PyUnicode_Tailmatch(path, root, 0, rootlen, -1) != 1 ||
        (n > rootlen && PyUnicode_ReadChar(path, rootlen) != '/')) {
        if (PyErr_Occurred()) {
            return NULL;
        }
        Py_RETURN_NONE;
    }
    rel = PyUnicode_Substring(path, n > rootlen ? rootlen + 1 : rootlen, n);
    s = rel != NULL ? PyUnicode_AsUTF8AndSize(rel, &len) : NULL;
    if (s == NULL || len == 0) {
        return s == NULL ? NULL : rel;
    }
    dotted = PyMem_Malloc((size_t)len);
    if (dotted == NULL) {
        Py_DECREF(rel);
        return PyErr_NoMemory();
    }
    if (inb_modpath_name(s, (size_t)len, dotted, (size_t)len) < 0) {
        package = Py_NewRef(Py_False);
    }
    else {
        package = PyUnicode_DecodeUTF8(dotted, len, NULL);
    }
    PyMem_Free(dotted);
    Py_DECREF(rel);
    return package;
}

/* New reference: the path of module name found as entry e in the virtual
 * tree (vpath.c's rule): its file, or with dir, the directory of a
 * package.  A.b.c is ROOT/a/b/c.py, ROOT/a/b/c/__init__.py (directory
 * ROOT/a/b/c), or for an extension module ROOT/a/b/ and the file name it
 * was built as; 'built-in' for a module linked in, as BuiltinImporter's
 * specs. */
static PyObject *
module_path(PyObject *name, const inb_entry *e, int dir)
{
    char buf[512], *rel = buf, err[512];
    size_t size = sizeof(buf);
    const char *s;
    Py_ssize_t len;
    long n;
    PyObject *res;

    if (e->kind == INB_KIND_BUILTIN_EXT && !dir) {
        return Py_NewRef(builtin_str);
    }
    s = PyUnicode_AsUTF8AndSize(name, &len);
    if (s == NULL) {
        return NULL;
    }
    for (;;) {
        n = dir ? (long)inb_modpath_dir(s, (size_t)len, rel, size)
                : inb_vpath_module_file(e, s, (size_t)len, rel, size, err,
                                        sizeof(err));
        if (n < (long)size || rel != buf) {
            break;
        }
        size = (size_t)n + 1;
        rel = PyMem_Malloc(size);
        if (rel == NULL) {
            return PyErr_NoMemory();
        }
    }
    if (n < 0) {
        /* An extension's record that does not parse: say it is damaged
         * when it is. */
        inb_archive_data(inb_tree_archive(), e, err, sizeof(err));
        res = inb_error_raise(INB_FAIL_LOAD, name, err, strlen(err));
    }
    else {
        res = inb_tree_path(rel, (size_t)n);
    }
    if (rel != buf) {
        PyMem_Free(rel);
    }
    return res;
}

/* New reference: the spec of module name, found as entry e stored as key
 * (archive_name()) at index position index, loaded by self; its
 * loader_state is index. */
static PyObject *
make_spec(Importer *self, PyObject *name, PyObject *key, const inb_entry *e,
          uint32_t index)
{
    PyObject *spec = NULL, *origin = NULL, *args = NULL, *kwargs = NULL;
    PyObject *dir = NULL, *locations = NULL, *added, *state = NULL;
    int is_package = is_package_kind(e->kind);

    if (e->kind != INB_KIND_NAMESPACE) {
        origin = module_path(key, e, 0);
        if (origin == NULL) {
            goto error;
        }
    }
    state = PyLong_FromUnsignedLong(index);
    args = PyTuple_Pack(2, name, (PyObject *)self);
    if (state == NULL || args == NULL) {
        goto error;
    }
    kwargs = Py_BuildValue("{sOsOsO}", "origin", origin ? origin : Py_None,
                           "loader_state", state, "is_package",
                           is_package ? Py_True : Py_False);
    if (kwargs == NULL) {
        goto error;
    }
    spec = PyObject_Call(module_spec, args, kwargs);
    if (spec == NULL) {
        goto error;
    }
    if (is_package) {
        dir = module_path(key, e, 1);
        if (dir == NULL) {
            goto error;
        }
        locations = PyList_New(1);
        if (locations == NULL) {
            goto error;
        }
        PyList_SET_ITEM(locations, 0, dir); /* steals dir */
        dir = NULL;
        if (PyObject_SetAttrString(spec, "submodule_search_locations",
                                   locations) < 0) {
            goto error;
        }
        if (disk_locations) {
            added = inb_support_call("add_disk_location", spec);
            if (added == NULL) {
                goto error;
            }
            Py_DECREF(added);
        }
    }
    if (origin != NULL && e->kind != INB_KIND_BUILTIN_EXT &&
        PyObject_SetAttrString(spec, "has_location", Py_True) < 0) {
        goto error;
    }
    Py_XDECREF(locations);
    Py_XDECREF(kwargs);
    Py_XDECREF(args);
    Py_XDECREF(state);
    Py_XDECREF(origin);
    return spec;
error:
    Py_XDECREF(locations);
    Py_XDECREF(dir);
    Py_XDECREF(spec);
    Py_XDECREF(kwargs);
    Py_XDECREF(args);
    Py_XDECREF(state);
    Py_XDECREF(origin);
    return NULL;
}

/* New reference: the code object of module name found as entry e, with
 * co_filename set to its virtual path; None for a namespace package or an
 * extension module.  NULL with ImportError when its entry is damaged or
 * corrupt. */
static PyObject *
get_code(PyObject *name, const inb_entry *e)
{
    PyObject *code = NULL, *origin = NULL, *res = NULL;
    char err[512];

    if (inb_archive_data(inb_tree_archive(), e, err, sizeof(err)) < 0) {
        return inb_error_raise(INB_FAIL_DAMAGED, name, err, strlen(err));
    }
    switch (e->kind) {
    case INB_KIND_NAMESPACE:
    case INB_KIND_SHARED_EXT: /* no code object, like ExtensionFileLoader */
    case INB_KIND_BUILTIN_EXT:
        Py_RETURN_NONE;
    case INB_KIND_MODULE:
    case INB_KIND_PACKAGE:
        break;
    case INB_KIND_EXT_ABSENT:
        return inb_error_raise(INB_FAIL_ABSENT_EXT, name,
                               (const char *)e->data, e->size);
    default:
        return inb_error_raise(INB_FAIL_UNSUPPORTED, name, NULL, 0);
    }
    /* The archive's data is read in place: no copy before unmarshalling.
     * open() proved e->size fits in the buffer, hence in Py_ssize_t. */
    code = PyMarshal_ReadObjectFromString((const char *)e->data,
                                          (Py_ssize_t)e->size);
    if (code == NULL) {
        return inb_error_raise(INB_FAIL_CORRUPT, name, NULL, 0);
    }
    if (!PyCode_Check(code)) {
        Py_DECREF(code);
        return inb_error_raise(INB_FAIL_NOT_CODE, name, NULL, 0);
    }
    origin = module_path(name, e, 0);
    if (origin == NULL) {
        goto error;
    }
    res = PyObject_CallFunctionObjArgs(fix_co_filename, code, origin, NULL);
    if (res == NULL) {
        goto error;
    }
    Py_DECREF(res);
    Py_DECREF(origin);
    return code;
error:
    Py_XDECREF(origin);
    Py_XDECREF(code);
    return NULL;
}

/* New reference: get_code() of module key, looked up (a loader method's
 * body, for with_key()). */
static PyObject *
code_of(PyObject *key)
{
    inb_entry e;

    if (find_required(key, &e) < 0) {
        return NULL;
    }
    return get_code(key, &e);
}

/* Whether submodule name's parent package, in sys.modules, was loaded by
 * another loader than this finder's (its __spec__.loader is no Importer):
 * 1 then, 0 when it was ours or cannot be told (no parent there, no
 * spec), -1 with an exception set.  Such a package's __path__ lists its
 * own directories (a package from disk, with the filesystem allowed:
 * setuptools' distutils, setuptools/_distutils), where a name the
 * archive also holds (the stdlib's distutils.core) is not to be taken. */
static int
parent_is_foreign(PyObject *name)
{
    PyObject *parent = parent_of(name), *module, *spec = NULL, *loader = NULL;
    int res = 0;

    if (parent == NULL) {
        return -1;
    }
    module = PyDict_GetItemWithError(PyImport_GetModuleDict(), parent);
    if (module == NULL) {
        res = PyErr_Occurred() ? -1 : 0;
        goto done;
    }
    spec = PyObject_GetAttr(module, spec_str);
    if (spec != NULL && spec != Py_None) {
        loader = PyObject_GetAttrString(spec, "loader");
    }
    if (PyErr_Occurred()) {
        if (!PyErr_ExceptionMatches(PyExc_AttributeError)) {
            res = -1;
            goto done;
        }
        PyErr_Clear(); /* no spec or no loader: cannot be told */
    }
    res = loader != NULL && loader != Py_None &&
          !PyObject_TypeCheck(loader, &Importer_Type);
done:
    Py_XDECREF(loader);
    Py_XDECREF(spec);
    Py_DECREF(parent);
    return res;
}

/* Look submodule name up as CPython's path finder would in path, its
 * parent's __path__ (an iterable): directory by directory, the virtual
 * directory of package P giving P's child of name's last part (name itself
 * when P is name's parent, as nearly always).  Returns 1 with *e, *index
 * and *key (new reference: the name found) filled, 0 when no directory
 * holds it,
 * -1 with an exception set.  A path that lists no directory of this
 * executable at all (its package rewrote __path__, say through realpath)
 * leaves name to be looked up as it is, unless another loader than ours
 * loaded the package (parent_is_foreign). */
static int
find_in_path(PyObject *name, PyObject *path, inb_entry *e, uint32_t *index,
             PyObject **key)
{
    PyObject *it, *entry, *package;
    int found = 0, seen = 0;

    *key = NULL;
    it = PyObject_GetIter(path);
    if (it == NULL) {
        return -1;
    }
    while (found == 0 && (entry = PyIter_Next(it)) != NULL) {
        package = dir_package(entry);
        Py_DECREF(entry);
        if (package == NULL) {
            found = -1;
            break;
        }
        if (package == Py_False) {
            seen = 1; /* under the root, but no module's directory */
        }
        else if (package != Py_None) {
            seen = 1;
            *key = child_name(package, name);
            found = *key != NULL ? lookup(*key, e, index) : -1;
            if (found != 1) {
                Py_CLEAR(*key);
            }
        }
        Py_DECREF(package);
    }
    Py_DECREF(it);
    if (found == 0 && PyErr_Occurred()) {
        found = -1;
    }
    if (found == 0 && !seen) {
        found = parent_is_foreign(name);
        if (found == 0) {
            found = lookup(name, e, index);
        }
        else if (found == 1) {
            found = 0; /* the parent's loader's directories, not ours */
        }
        if (found == 1) {
            *key = Py_NewRef(name);
        }
    }
    return found;
}

/* find_spec(fullname, path=None, target=None): new reference to a spec, or
 * None.  The meta-path finder looks a submodule up in path (find_in_path),
 * a top-level module or one asked for without a path by its name.  Also
 * serves as a path entry finder's find_spec(fullname, target), where path
 * is the target and is ignored like target, and the name is looked up
 * under the finder's package (archive_name). */
static PyObject *
Importer_find_spec(Importer *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"fullname", "path", "target", NULL};
    PyObject *name, *path = Py_None, *target = Py_None;
    PyObject *key = NULL, *loader = NULL, *spec = NULL;
    inb_entry e;
    uint32_t index = 0;
    int found;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "U|OO:find_spec", kwlist,
                                     &name, &path, &target)) {
        return NULL;
    }
    /* INBUILT_OVERLAY's modules come first (overlay.c). */
    if (!self->sentinel) {
        int in_overlay = inb_overlay_find_spec(name, &spec);

        if (in_overlay != 0) {
            return in_overlay > 0 ? spec : NULL;
        }
    }
    if (self->sentinel) {
        found = lookup(name, &e, NULL);
        if (found < 0) {
            return NULL;
        }
        if (found == 0) {
            Py_RETURN_NONE;
        }
        if (e.kind == INB_KIND_EXT_ABSENT) {
            char err[512];

            if (inb_archive_data(inb_tree_archive(), &e, err, sizeof(err)) <
                0) {
                return inb_error_raise(INB_FAIL_DAMAGED, name, err,
                                       strlen(err));
            }
            return inb_error_raise(INB_FAIL_ABSENT_EXT, name,
                                   (const char *)e.data, e.size);
        }
        Py_RETURN_NONE;
    }
    if (self->package == NULL && path != Py_None) {
        found = find_in_path(name, path, &e, &index, &key);
    }
    else {
        key = archive_name(self, name);
        found = key != NULL ? lookup(key, &e, &index) : -1;
    }
    if (found < 0) {
        goto done;
    }
    switch (found == 1 ? e.kind : -1) {
    case INB_KIND_MODULE:
    case INB_KIND_PACKAGE:
    case INB_KIND_NAMESPACE:
    case INB_KIND_SHARED_EXT:
    case INB_KIND_BUILTIN_EXT:
        /* Found in another package's directory: loaded by that
         * directory's finder, which knows the name it is stored as. */
        if (self->package == NULL && PyUnicode_Compare(key, name) != 0) {
            PyObject *package = parent_of(key);

            loader = package != NULL ? importer_new(0, package) : NULL;
            Py_XDECREF(package);
            if (loader == NULL) {
                goto done;
            }
        }
        spec = make_spec(loader ? (Importer *)loader : self, name, key, &e,
                         index);
        break;
    default:
        /* Not found; absent extensions are left to the other finders, then
         * to the sentinel; kinds of later versions are not this runtime's. */
        spec = Py_NewRef(Py_None);
    }
done:
    Py_XDECREF(loader);
    Py_XDECREF(key);
    return spec;
}

/* create_module(spec): a new reference to the module of an extension, or
 * None for the default module creation. */
static PyObject *
Importer_create_module(Importer *self, PyObject *spec)
{
    PyObject *name = NULL, *key = NULL, *res = NULL;
    inb_entry e;
    int found;

    name = PyObject_GetAttr(spec, name_str);
    if (name == NULL) {
        return NULL;
    }
    key = archive_name(self, name);
    found = key != NULL ? spec_entry(spec, key, &e) : -1;
    if (found >= 0) {
        if (found == 1 && e.kind == INB_KIND_SHARED_EXT) {
            res = inb_extload_create((PyObject *)self, spec, name, &e);
        }
        else if (found == 1 && e.kind == INB_KIND_BUILTIN_EXT) {
            res = inb_builtin_create(inb_tree_archive(), spec, key, &e);
        }
        else {
            res = Py_NewRef(Py_None);
        }
    }
    Py_XDECREF(key);
    Py_DECREF(name);
    return res;
}

/* The spec of module (a new reference, or None) and the name it was
 * imported as (*name, a new reference): its spec's name, as importlib's
 * loaders use, else its __name__.  They differ for an extension module
 * whose definition names another module (scipy's _uarray calls itself
 * "uarray._uarray").  Returns 0, or -1 with an exception set. */
static int
spec_and_name(PyObject *module, PyObject **spec, PyObject **name)
{
    *name = NULL;
    *spec = PyObject_GetAttr(module, spec_str);
    if (*spec == NULL) {
        if (!PyErr_ExceptionMatches(PyExc_AttributeError)) {
            return -1;
        }
        PyErr_Clear();
        *spec = Py_NewRef(Py_None);
    }
    if (*spec != Py_None) {
        *name = PyObject_GetAttr(*spec, name_str);
    }
    else {
        *name = PyObject_GetAttrString(module, "__name__");
    }
    if (*name == NULL) {
        Py_CLEAR(*spec);
        return -1;
    }
    return 0;
}

/* Run module's code in its namespace.  New reference to None, or NULL
 * with an exception. */
static PyObject *
exec_module(Importer *self, PyObject *module)
{
    PyObject *spec = NULL, *name = NULL, *code = NULL, *dict = NULL;
    PyObject *res = NULL;
    inb_entry e;
    int found;

    if (spec_and_name(module, &spec, &name) < 0) {
        goto error;
    }
    /* The name the module is stored as, for this loader. */
    Py_SETREF(name, archive_name(self, name));
    if (name == NULL) {
        goto error;
    }
    found =
        spec != Py_None ? spec_entry(spec, name, &e) : lookup(name, &e, NULL);
    if (found < 0) {
        goto error;
    }
    if (found == 0) {
        inb_error_raise(INB_FAIL_NOT_FOUND, name, NULL, 0);
        goto error;
    }
    if (e.kind == INB_KIND_SHARED_EXT || e.kind == INB_KIND_BUILTIN_EXT) {
        /* Multi-phase init's exec slots, as ExtensionFileLoader does. */
        if (inb_extload_exec(module) < 0) {
            goto error;
        }
        Py_DECREF(name);
        Py_DECREF(spec);
        Py_RETURN_NONE;
    }
    code = get_code(name, &e);
    if (code == NULL) {
        goto error;
    }
    if (code != Py_None) {
        dict = PyObject_GetAttrString(module, "__dict__");
        if (dict == NULL) {
            goto error;
        }
        /* As exec() does, so that module globals hold __builtins__. */
        if (PyDict_Check(dict) &&
            PyDict_SetDefault(dict, builtins_str, PyEval_GetBuiltins()) ==
                NULL) {
            goto error;
        }
        res = PyEval_EvalCode(code, dict, dict);
        if (res == NULL) {
            goto error;
        }
        Py_DECREF(res);
        if (inb_hooks_after_exec(name, module) < 0) {
            goto error;
        }
    }
    Py_XDECREF(dict);
    Py_DECREF(code);
    Py_DECREF(name);
    Py_DECREF(spec);
    Py_RETURN_NONE;
error:
    Py_XDECREF(dict);
    Py_XDECREF(code);
    Py_XDECREF(name);
    Py_XDECREF(spec);
    return NULL;
}

/* exec_module(module): run the module's code in its namespace.  When the
 * outermost exec_module() in progress returns (an import statement's
 * modules are all executed), the archive's data pages it read are dropped
 * from this process (archpages.c): the code objects are unmarshalled, so the
 * bytecode is not needed again, as stock python frees a .pyc's bytes once
 * read.  Without this a process that imported numpy keeps about 9 MB of
 * the executable mapped (whole large folios map at once), shared with the
 * node's other processes but counted in each one's proportional size.
 * The index and names stay mapped: every lookup reads them. */
static PyObject *
Importer_exec_module(Importer *self, PyObject *module)
{
    static unsigned depth; /* exec_module() calls in progress; the GIL
                              guards it */
    PyObject *res;
    const inb_archive *archive = inb_tree_archive();
    const unsigned char *data;

    depth++;
    res = exec_module(self, module);
    if (--depth == 0) {
        data = archive->strings + archive->strings_size;
        inb_archpages_drop(data,
                           archive->size - (size_t)(data - archive->base));
        inb_pages_settle();
    }
    return res;
}

/* New reference: what fn (a loader method's body) returns for module
 * name as self loads it, i.e. for its archive_name(). */
static PyObject *
with_key(Importer *self, PyObject *name, PyObject *(*fn)(PyObject *key))
{
    PyObject *key = archive_name(self, name), *res;

    if (key == NULL) {
        return NULL;
    }
    res = fn(key);
    Py_DECREF(key);
    return res;
}

/* get_code(fullname): new reference to the code object, None for a
 * namespace package. */
static PyObject *
Importer_get_code(Importer *self, PyObject *name)
{
    return with_key(self, name, code_of);
}

/* New reference: bool, whether module key is a package. */
static PyObject *
is_package(PyObject *key)
{
    inb_entry e;

    if (find_required(key, &e) < 0) {
        return NULL;
    }
    return PyBool_FromLong(is_package_kind(e.kind));
}

/* is_package(fullname): bool. */
static PyObject *
Importer_is_package(Importer *self, PyObject *name)
{
    return with_key(self, name, is_package);
}

/* New reference: the source of module key, None when the build left it
 * out (--no-source) or the module has none. */
static PyObject *
get_source(PyObject *key)
{
    inb_entry e;

    if (find_required(key, &e) < 0) {
        return NULL;
    }
    return inb_resources_get_source(key);
}

/* get_source(fullname): new reference to the source, None when the build
 * left it out (--no-source) or the module has none. */
static PyObject *
Importer_get_source(Importer *self, PyObject *name)
{
    return with_key(self, name, get_source);
}

/* get_data(path): new reference to the bytes of a file of the virtual
 * tree (package data, module source), or of a file on disk outside it. */
static PyObject *
Importer_get_data(Importer *self, PyObject *path)
{
    (void)self;
    return inb_support_call("get_data", path);
}

/* get_resource_reader(fullname): new reference to the importlib.resources
 * reader of a package (or of a module's package). */
static PyObject *
resource_reader(PyObject *key)
{
    return inb_support_call("resource_reader", key);
}

static PyObject *
Importer_get_resource_reader(Importer *self, PyObject *name)
{
    return with_key(self, name, resource_reader);
}

/* find_distributions(context=None): new reference to an iterator over the
 * embedded distributions (importlib.metadata); empty but for the finder
 * first on sys.meta_path, so that each is found once. */
static PyObject *
Importer_find_distributions(Importer *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"context", NULL};
    PyObject *context = Py_None, *empty, *it;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|O:find_distributions",
                                     kwlist, &context)) {
        return NULL;
    }
    if ((PyObject *)self == finder) {
        return inb_support_call("find_distributions", context);
    }
    empty = PyTuple_New(0);
    if (empty == NULL) {
        return NULL;
    }
    it = PyObject_GetIter(empty);
    Py_DECREF(empty);
    return it;
}

/* New reference: the virtual path of module key. */
static PyObject *
get_filename(PyObject *key)
{
    inb_entry e;

    if (find_required(key, &e) < 0) {
        return NULL;
    }
    if (e.kind == INB_KIND_NAMESPACE || e.kind == INB_KIND_BUILTIN_EXT) {
        return inb_error_raise(INB_FAIL_NOT_FOUND, key, NULL, 0);
    }
    return module_path(key, &e, 0);
}

/* get_filename(fullname): new reference to the module's virtual path. */
static PyObject *
Importer_get_filename(Importer *self, PyObject *name)
{
    return with_key(self, name, get_filename);
}

/* path_hook(path): for the executable's virtual directory of a package (or
 * the executable's path itself, the root), a new path entry finder for it,
 * so that no path-based finder or zipimport opens the executable;
 * ImportError for any other path. */
static PyObject *
Importer_path_hook(Importer *self, PyObject *path)
{
    PyObject *package, *res = NULL;
    inb_entry e;
    int found;

    (void)self;
    if (!PyUnicode_Check(path)) {
        PyErr_SetString(PyExc_ImportError, "path is not a str");
        return NULL;
    }
    package = dir_package(path);
    if (package == NULL) {
        return NULL;
    }
    if (package == Py_None) {
        PyErr_SetString(PyExc_ImportError,
                        "not a directory of this executable");
        goto done;
    }
    if (package == Py_False || PyUnicode_GetLength(package) > 0) {
        found = package != Py_False ? lookup(package, &e, NULL) : 0;
        if (found < 0) {
            goto done;
        }
        if (found == 0 || !is_package_kind(e.kind)) {
            PyErr_Format(PyExc_ImportError,
                         "%R is not a package directory of this executable",
                         path);
            goto done;
        }
    }
    res = importer_new(0, package);
done:
    Py_DECREF(package);
    return res;
}

/* iter_modules(prefix=''): new reference to a list of (prefix + name,
 * ispkg) for the modules directly inside this finder's package (the
 * top-level modules for the root), as pkgutil expects of a path entry
 * finder.  Extension modules that are not built in are left out. */
static PyObject *
Importer_iter_modules(Importer *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"prefix", NULL};
    PyObject *prefix = NULL, *list = NULL, *item = NULL, *name = NULL;
    const inb_archive *archive = inb_tree_archive();
    const char *pkg = "";
    Py_ssize_t pkglen = 0;
    char *key = NULL;
    size_t keylen;
    uint32_t i;
    inb_entry e;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|U:iter_modules", kwlist,
                                     &prefix)) {
        return NULL;
    }
    if (self->package != NULL) {
        pkg = PyUnicode_AsUTF8AndSize(self->package, &pkglen);
        if (pkg == NULL) {
            return NULL;
        }
    }
    /* Children of "a.b" have keys starting with "a.b."; of the root, no
     * dot at all. */
    keylen = pkglen > 0 ? (size_t)pkglen + 1 : 0;
    key = PyMem_Malloc(keylen + 1);
    list = PyList_New(0);
    if (key == NULL || list == NULL) {
        PyErr_NoMemory();
        goto error;
    }
    memcpy(key, pkg, (size_t)pkglen);
    if (keylen > 0) {
        key[pkglen] = '.';
    }
    for (i = inb_archive_lower_bound(archive, INB_NS_MODULE, key, keylen);
         i < archive->count; i++) {
        const char *rest;
        size_t restlen;

        inb_archive_entry(archive, i, &e);
        if (e.ns != INB_NS_MODULE || e.name_len < keylen ||
            memcmp(e.name, key, keylen) != 0) {
            break;
        }
        rest = e.name + keylen;
        restlen = e.name_len - keylen;
        if (restlen == 0 || memchr(rest, '.', restlen) != NULL ||
            e.kind == INB_KIND_EXT_ABSENT) {
            continue;
        }
        name = PyUnicode_DecodeUTF8(rest, (Py_ssize_t)restlen, NULL);
        if (name == NULL) {
            goto error;
        }
        if (prefix != NULL) {
            Py_SETREF(name, PyUnicode_Concat(prefix, name));
            if (name == NULL) {
                goto error;
            }
        }
        item = PyTuple_Pack(2, name,
                            is_package_kind(e.kind) ? Py_True : Py_False);
        if (item == NULL || PyList_Append(list, item) < 0) {
            goto error;
        }
        Py_CLEAR(item);
        Py_CLEAR(name);
    }
    PyMem_Free(key);
    return list;
error:
    Py_XDECREF(name);
    Py_XDECREF(item);
    Py_XDECREF(list);
    PyMem_Free(key);
    return NULL;
}

/* invalidate_caches(): None; the archive never changes. */
static PyObject *
Importer_invalidate_caches(Importer *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    Py_RETURN_NONE;
}

static PyObject *
Importer_repr(Importer *self)
{
    PyObject *root = inb_tree_root_str(); /* borrowed */

    if (root == NULL) {
        return NULL;
    }
    if (self->package != NULL) {
        return PyUnicode_FromFormat("<inbuilt path finder for package %R of "
                                    "%U>",
                                    self->package, root);
    }
    return PyUnicode_FromFormat(
        "<inbuilt %s for %U>", self->sentinel ? "sentinel" : "importer", root);
}

static PyMethodDef Importer_methods[] = {
    {"find_spec", (PyCFunction)(void (*)(void))Importer_find_spec,
     METH_VARARGS | METH_KEYWORDS, NULL},
    {"create_module", (PyCFunction)Importer_create_module, METH_O, NULL},
    {"exec_module", (PyCFunction)Importer_exec_module, METH_O, NULL},
    {"get_code", (PyCFunction)Importer_get_code, METH_O, NULL},
    {"is_package", (PyCFunction)Importer_is_package, METH_O, NULL},
    {"get_source", (PyCFunction)Importer_get_source, METH_O, NULL},
    {"get_filename", (PyCFunction)Importer_get_filename, METH_O, NULL},
    {"get_data", (PyCFunction)Importer_get_data, METH_O, NULL},
    {"get_resource_reader", (PyCFunction)Importer_get_resource_reader, METH_O,
     NULL},
    {"find_distributions",
     (PyCFunction)(void (*)(void))Importer_find_distributions,
     METH_VARARGS | METH_KEYWORDS, NULL},
    {"path_hook", (PyCFunction)Importer_path_hook, METH_O, NULL},
    {"iter_modules", (PyCFunction)(void (*)(void))Importer_iter_modules,
     METH_VARARGS | METH_KEYWORDS, NULL},
    {"invalidate_caches", (PyCFunction)Importer_invalidate_caches, METH_NOARGS,
     NULL},
    {NULL, NULL, 0, NULL},
};

/* __module__ of an Importer, as instances of the classes on python3's
 * sys.meta_path have it (test_bdb keeps the finders whose __module__ starts
 * with _frozen_importlib). */
static PyObject *
Importer_get_module(Importer *self, void *closure)
{
    (void)self;
    (void)closure;
    return PyUnicode_FromString("_inbuilt");
}

static PyGetSetDef Importer_getset[] = {
    {"__module__", (getter)Importer_get_module, NULL, NULL, NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject Importer_Type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "_inbuilt.Importer",
    .tp_basicsize = sizeof(Importer),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Finder and loader of the modules embedded in this executable.",
    .tp_repr = (reprfunc)Importer_repr,
    .tp_dealloc = (destructor)Importer_dealloc,
    .tp_methods = Importer_methods,
    .tp_getset = Importer_getset,
};

static struct PyModuleDef inbuilt_module = {
    PyModuleDef_HEAD_INIT,
    "_inbuilt",
    "The in-memory importer of an inbuilt executable.",
    -1,
    NULL,
    NULL,
    NULL,
    NULL,
    NULL,
};

PyObject *
inb_finder_init_module(void)
{
    PyObject *m = NULL;

    if (PyType_Ready(&Importer_Type) < 0) {
        return NULL;
    }
    m = PyModule_Create(&inbuilt_module);
    if (m == NULL) {
        return NULL;
    }
    Py_INCREF(&Importer_Type);
    if (PyModule_AddObject(m, "Importer", (PyObject *)&Importer_Type) < 0) {
        Py_DECREF(&Importer_Type);
        goto error;
    }
    if (finder != NULL && PyModule_AddObjectRef(m, "importer", finder) < 0) {
        goto error;
    }
    if (inb_resources_add_to_module(m) < 0 || inb_hooks_add_to_module(m) < 0 ||
        inb_overlay_add_to_module(m) < 0) {
        goto error;
    }
    return m;
error:
    Py_DECREF(m);
    return NULL;
}

static PyObject *
importer_new(int is_sentinel, PyObject *package)
{
    Importer *self = PyObject_New(Importer, &Importer_Type);

    if (self != NULL) {
        self->sentinel = is_sentinel;
        Py_XINCREF(package);
        self->package = package;
    }
    return (PyObject *)self;
}

static void
Importer_dealloc(Importer *self)
{
    Py_XDECREF(self->package);
    PyObject_Free(self);
}

int
inb_finder_install(void)
{
    PyObject *meta_path, *root = inb_tree_root_str(); /* borrowed */

    if (root == NULL || PyType_Ready(&Importer_Type) < 0) {
        return -1;
    }
    module_spec = inb_import_attr("_frozen_importlib", "ModuleSpec");
    if (module_spec == NULL) {
        return -1;
    }
    fix_co_filename = inb_import_attr("_imp", "_fix_co_filename");
    if (fix_co_filename == NULL) {
        return -1;
    }
    finder = importer_new(0, NULL);
    sentinel = importer_new(1, NULL);
    builtins_str = PyUnicode_InternFromString("__builtins__");
    slash_dot_str = PyUnicode_InternFromString("/.");
    double_slash_str = PyUnicode_InternFromString("//");
    builtin_str = PyUnicode_InternFromString("built-in");
    spec_str = PyUnicode_InternFromString("__spec__");
    name_str = PyUnicode_InternFromString("name");
    loader_state_str = PyUnicode_InternFromString("loader_state");
    if (finder == NULL || sentinel == NULL || builtins_str == NULL ||
        slash_dot_str == NULL || double_slash_str == NULL ||
        builtin_str == NULL || spec_str == NULL || name_str == NULL ||
        loader_state_str == NULL) {
        return -1;
    }
    meta_path = PySys_GetObject("meta_path"); /* borrowed */
    if (meta_path == NULL || !PyList_Check(meta_path)) {
        PyErr_SetString(PyExc_RuntimeError, "sys.meta_path is not a list");
        return -1;
    }
    /* First: the archive holds the whole stdlib, so one lookup answers
     * every import, frozen modules included, all with a location under the
     * executable. */
    if (PyList_Insert(meta_path, 0, finder) < 0) {
        return -1;
    }
    /* The stdlib's directory is the virtual root (getpath leaves it unset
     * when the search path is given); set before the main phase, so that
     * the frozen modules it imports (zipimport) get their file names.
     * sys._home too: sysconfig looks for a build tree there (in memory,
     * vfs.c), not beside the executable. */
    if (PySys_SetObject("frozen", Py_True) < 0 ||
        PySys_SetObject("_stdlib_dir", root) < 0 ||
        PySys_SetObject("_home", root) < 0) {
        return -1;
    }
    return 0;
}

/* Remove every item of list that is obj.  Returns 0, or -1 with an
 * exception set. */
static int
list_remove_all(PyObject *list, PyObject *obj)
{
    Py_ssize_t i = PyList_GET_SIZE(list);

    while (i-- > 0) {
        if (PyList_GET_ITEM(list, i) == obj &&
            PySequence_DelItem(list, i) < 0) {
            return -1;
        }
    }
    return 0;
}

#if PY_VERSION_HEX >= 0x030B0000
/* The frozen modules the main phase imported while sys._stdlib_dir was None
 * (_frozen_importlib_external, zipimport) get the file name FrozenImporter
 * gives them with it set (ROOT/ and their original name's path), in
 * __file__ and their spec's loader_state, as under python3: a fresh
 * importlib's _setup() checks the two agree.  Returns 0, or -1 with an
 * exception set. */
static int
name_frozen_modules(void)
{
    static const struct {
        const char *name, *rel;
    } frozen[] = {
        {"_frozen_importlib_external", "importlib/_bootstrap_external.py"},
        {"zipimport", "zipimport.py"},
    };
    PyObject *modules = PyImport_GetModuleDict(); /* borrowed */
    PyObject *mod, *spec = NULL, *state = NULL, *file = NULL, *current = NULL;
    size_t i;
    int rc = -1;

    for (i = 0; i < sizeof(frozen) / sizeof(frozen[0]); i++) {
        mod = PyDict_GetItemString(modules, frozen[i].name); /* borrowed */
        if (mod == NULL) {
            continue;
        }
        spec = PyObject_GetAttrString(mod, "__spec__");
        state = spec ? PyObject_GetAttrString(spec, "loader_state") : NULL;
        current = state ? PyObject_GetAttrString(state, "filename") : NULL;
        if (current == NULL) {
            goto done;
        }
        if (current == Py_None) {
            file = inb_tree_path(frozen[i].rel, strlen(frozen[i].rel));
            if (file == NULL ||
                PyObject_SetAttrString(state, "filename", file) < 0 ||
                PyObject_SetAttrString(mod, "__file__", file) < 0) {
                goto done;
            }
        }
        Py_CLEAR(spec);
        Py_CLEAR(state);
        Py_CLEAR(current);
        Py_CLEAR(file);
    }
    rc = 0;
done:
    Py_XDECREF(spec);
    Py_XDECREF(state);
    Py_XDECREF(current);
    Py_XDECREF(file);
    return rc;
}
#endif

int
inb_finder_configure(int strict)
{
    PyObject *path_finder = NULL, *hook = NULL;
    PyObject *root = inb_tree_root_str();                 /* borrowed */
    PyObject *meta_path = PySys_GetObject("meta_path");   /* borrowed */
    PyObject *path_hooks = PySys_GetObject("path_hooks"); /* borrowed */

    if (meta_path == NULL || !PyList_Check(meta_path) || path_hooks == NULL ||
        !PyList_Check(path_hooks)) {
        PyErr_SetString(PyExc_RuntimeError,
                        "sys.meta_path or sys.path_hooks is not a list");
        goto error;
    }
    /* Start-up read the path through /proc/self/exe; show the real one. */
    if (root == NULL || PySys_SetObject("_base_executable", root) < 0) {
        goto error;
    }
#if PY_VERSION_HEX >= 0x030B0000
    /* The main phase set sys._stdlib_dir again from the path configuration
     * (None: the search path is given): the virtual root, as before it. */
    if (PySys_SetObject("_stdlib_dir", root) < 0 ||
        name_frozen_modules() < 0) {
        goto error;
    }
#endif
    /* In both modes: pkgutil and others hand __path__ entries to the path
     * hooks, and zipimport's would open the executable. */
    hook = PyObject_GetAttrString(finder, "path_hook");
    if (hook == NULL || PyList_Insert(path_hooks, 0, hook) < 0 ||
        inb_hooks_configure() < 0) {
        goto error;
    }
    disk_locations = !strict;
    if (strict) {
        path_finder =
            inb_import_attr("_frozen_importlib_external", "PathFinder");
        if (path_finder == NULL ||
            list_remove_all(meta_path, path_finder) < 0 ||
            PyList_Append(meta_path, sentinel) < 0) {
            goto error;
        }
    }
    Py_XDECREF(hook);
    Py_XDECREF(path_finder);
    return 0;
error:
    Py_XDECREF(hook);
    Py_XDECREF(path_finder);
    return -1;
}
