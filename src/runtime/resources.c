/* resources.c: module source, package data and distribution metadata from
 * the archive, for Python.
 *
 * The C side is small: primitives over three namespaces of the archive
 * (source, data, meta; docs/FORMAT.md) added to the built-in module
 * _inbuilt, the loader's get_source(), and a call into _inbuilt_support,
 * the Python module the builder compiles from src/runtime/loader.py into
 * every archive, which builds the virtual tree, the importlib.resources
 * reader, get_data() and the importlib.metadata distributions on these
 * primitives.  Nothing here touches the disk.
 *
 * A source entry's data is a source record (src/common/records.h: the
 * length of the source, then the source as one zlib stream); data and
 * meta entries hold the file's bytes as they are.  Every entry is checked
 * (inb_archive_data()) before its bytes are used: a damaged one is an
 * ImportError for source, an OSError (EIO) for a file.
 */
#define PY_SSIZE_T_CLEAN
#include "resources.h"

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <zlib.h>

#include "records.h"

#include "errors.h"
#include "finder.h"
#include "memso.h"
#include "realpath.h"
#include "vpath.h"

static const inb_archive *archive; /* borrowed: lives as long as the process */
static PyObject *root;             /* borrowed: the finder keeps it */
static PyObject *support;          /* _inbuilt_support, once imported */

/* Map a namespace's name to its number; -1 with ValueError. */
static int
ns_of(const char *ns)
{
    static const struct {
        const char *name;
        int ns;
    } table[] = {
        {"source", INB_NS_SOURCE},
        {"data", INB_NS_DATA},
        {"meta", INB_NS_META},
        {"module", INB_NS_MODULE},
    };
    size_t i;

    for (i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        if (strcmp(ns, table[i].name) == 0) {
            return table[i].ns;
        }
    }
    PyErr_Format(PyExc_ValueError, "unknown archive namespace %s", ns);
    return -1;
}

/* inb_error_raise() for failure f of the entry named name[0..len) (a
 * module's or a file's), with the reason detail; returns NULL. */
static PyObject *
entry_error(enum inb_failure f, const char *name, size_t len,
            const char *detail)
{
    PyObject *n = PyUnicode_DecodeUTF8(name, (Py_ssize_t)len, "replace");

    if (n != NULL) {
        inb_error_raise(f, n, detail, strlen(detail));
        Py_DECREF(n);
    }
    return NULL;
}

/* New reference: the uncompressed bytes of source entry e of module
 * name[0..len), or NULL with ImportError saying why it is corrupt. */
static PyObject *
inflate_source(const inb_entry *e, const char *name, size_t len)
{
    PyObject *out;
    inb_source_record r;
    uLongf outlen;
    char err[512];
    int z;

    if (inb_record_source_read(archive, e, &r, err, sizeof(err)) < 0) {
        return entry_error(INB_FAIL_CORRUPT_SOURCE, name, len, err);
    }
    out = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)r.size);
    if (out == NULL) {
        return NULL;
    }
    outlen = r.size;
    z = uncompress((Bytef *)PyBytes_AS_STRING(out), &outlen, r.zlib,
                   (uLong)r.zlib_size);
    if (z != Z_OK || outlen != r.size) {
        Py_DECREF(out);
        return entry_error(INB_FAIL_CORRUPT_SOURCE, name, len,
                           z != Z_OK ? zError(z)
                                     : "shorter than its length field");
    }
    return out;
}

/* New reference: the bytes of entry (ns, name[0..len)), inflated for a
 * source entry; None when absent; NULL with an exception set. */
static PyObject *
entry_bytes(int ns, const char *name, size_t len)
{
    inb_entry e;
    char err[512];

    if (!inb_archive_find(archive, ns, name, len, &e)) {
        Py_RETURN_NONE;
    }
    if (ns == INB_NS_SOURCE) {
        return inflate_source(&e, name, len);
    }
    if (inb_archive_data(archive, &e, err, sizeof(err)) < 0) {
        return entry_error(INB_FAIL_DAMAGED_FILE, name, len, err);
    }
    if (e.kind == INB_KIND_SHARED_DATA) {
        /* A package's shared library: the file is the record's image. */
        inb_shobj_record r;

        if (inb_record_shobj_read(archive, &e, &r, err, sizeof(err)) < 0) {
            return entry_error(INB_FAIL_CORRUPT_DATA, name, len, err);
        }
        return PyBytes_FromStringAndSize((const char *)r.image,
                                         (Py_ssize_t)r.image_size);
    }
    return PyBytes_FromStringAndSize((const char *)e.data, (Py_ssize_t)e.size);
}

/* loadable(rel): new reference to the path the dynamic loader can open the
 * shared object at rel of the virtual tree by ("/proc/self/fd/N", or a file
 * of the cache directory), loading the libraries it needs first; None when
 * rel is no shared object of the archive; ImportError when loading fails. */
static PyObject *
resources_loadable(PyObject *self, PyObject *args)
{
    const char *rel;
    Py_ssize_t len;
    inb_entry e;
    char path[PATH_MAX + 64], err[512];

    (void)self;
    if (!PyArg_ParseTuple(args, "s#:loadable", &rel, &len)) {
        return NULL;
    }
    if (!inb_vpath_shared_object(archive, rel, (size_t)len, &e)) {
        Py_RETURN_NONE;
    }
    if (inb_finder_prepare_shared(&e, path, sizeof(path), err, sizeof(err)) <
        0) {
        return entry_error(INB_FAIL_LOAD_FILE, rel, (size_t)len, err);
    }
    return PyUnicode_FromString(path);
}

/* Parse (ns, name) arguments with format: *name and *len get the name. Returns
 * the namespace, or -1 with an exception set. */
static int
parse_key(PyObject *args, const char *format, const char **name,
          Py_ssize_t *len)
{
    const char *nsname;

    if (!PyArg_ParseTuple(args, format, &nsname, name, len)) {
        return -1;
    }
    return ns_of(nsname);
}

/* read(ns, name): new reference to the bytes of the entry, None when
 * absent. */
static PyObject *
resources_read(PyObject *self, PyObject *args)
{
    const char *name;
    Py_ssize_t len;
    int ns = parse_key(args, "ss#:read", &name, &len);

    (void)self;
    if (ns < 0) {
        return NULL;
    }
    return entry_bytes(ns, name, (size_t)len);
}

/* has(ns, name): new reference to a bool, whether the entry exists. */
static PyObject *
resources_has(PyObject *self, PyObject *args)
{
    const char *name;
    Py_ssize_t len;
    int ns = parse_key(args, "ss#:has", &name, &len);

    (void)self;
    if (ns < 0) {
        return NULL;
    }
    return PyBool_FromLong(
        inb_archive_find(archive, ns, name, (size_t)len, NULL));
}

/* names(ns, prefix): new reference to the sorted list of the names in ns
 * that start with prefix. */
static PyObject *
resources_names(PyObject *self, PyObject *args)
{
    const char *prefix;
    Py_ssize_t len;
    PyObject *list = NULL, *item = NULL;
    uint32_t i;
    inb_entry e;
    int ns = parse_key(args, "ss#:names", &prefix, &len);

    (void)self;
    if (ns < 0) {
        return NULL;
    }
    list = PyList_New(0);
    if (list == NULL) {
        return NULL;
    }
    for (i = inb_archive_lower_bound(archive, ns, prefix, (size_t)len);
         i < archive->count; i++) {
        inb_archive_entry(archive, i, &e);
        if (e.ns != ns || e.name_len < (size_t)len ||
            memcmp(e.name, prefix, (size_t)len) != 0) {
            break;
        }
        item = PyUnicode_DecodeUTF8(e.name, (Py_ssize_t)e.name_len,
                                    "surrogateescape");
        if (item == NULL || PyList_Append(list, item) < 0) {
            goto error;
        }
        Py_CLEAR(item);
    }
    return list;
error:
    Py_XDECREF(item);
    Py_DECREF(list);
    return NULL;
}

/* module_kind(name): new reference to an int: 0 not in the archive, 1
 * module, 2 package, 3 namespace package, 4 anything else (an extension
 * module). */
static PyObject *
resources_module_kind(PyObject *self, PyObject *arg)
{
    const char *name;
    Py_ssize_t len;
    inb_entry e;
    long kind = 0;

    (void)self;
    name = PyUnicode_AsUTF8AndSize(arg, &len);
    if (name == NULL) {
        return NULL;
    }
    if (inb_archive_find(archive, INB_NS_MODULE, name, (size_t)len, &e)) {
        switch (e.kind) {
        case INB_KIND_MODULE:
            kind = 1;
            break;
        case INB_KIND_PACKAGE:
            kind = 2;
            break;
        case INB_KIND_NAMESPACE:
            kind = 3;
            break;
        default:
            kind = 4;
        }
    }
    return PyLong_FromLong(kind);
}

/* excepthook(type, value, traceback): new reference to None.  Prints the
 * exception with the traceback module, which reads source lines through
 * linecache (hence from the archive), keeping the innermost frames under
 * sys.tracebacklimit as CPython does (print_exception); with CPython's own
 * printer a KeyboardInterrupt, or when that module cannot be used, or from
 * 3.13, whose printer uses the traceback module itself.  Then, for a module
 * the executable lacks, how to build it in (missing_module_hint). */
static PyObject *
resources_excepthook(PyObject *self, PyObject *args)
{
    PyObject *type, *value, *tb, *res = NULL;

    (void)self;
    if (!PyArg_UnpackTuple(args, "excepthook", 3, 3, &type, &value, &tb)) {
        return NULL;
    }
    /* Running Python code (exec, eval) clears CPython's record of an
     * unhandled KeyboardInterrupt, which makes the process end by SIGINT:
     * that one is printed by CPython alone. */
    if (PyType_Check(type) &&
        PyType_IsSubtype((PyTypeObject *)type,
                         (PyTypeObject *)PyExc_KeyboardInterrupt)) {
        PyErr_Display(type, value, tb);
        Py_RETURN_NONE;
    }
#if PY_VERSION_HEX < 0x030D0000
    res = inb_resources_call("print_exception", args);
#endif
    if (res == NULL) {
        PyErr_Clear();
        PyErr_Display(type, value, tb);
    }
    Py_XDECREF(res);
    res = inb_resources_call("missing_module_hint", value);
    if (res == NULL) {
        PyErr_Clear();
    }
    Py_XDECREF(res);
    Py_RETURN_NONE;
}

/* unraisablehook(unraisable): new reference to None.  CPython's default
 * hook prints the traceback of an exception it cannot raise (one in
 * __del__, say) with C code that opens source files itself:
 * _inbuilt_support prints the same text through the traceback module
 * (hence linecache, hence the archive).  When that fails, at the end of
 * finalization for instance, CPython's own hook (sys.__unraisablehook__)
 * prints it. */
static PyObject *
resources_unraisablehook(PyObject *self, PyObject *unraisable)
{
    PyObject *res, *hook;

    (void)self;
    res = inb_resources_call("unraisablehook", unraisable);
    if (res == NULL) {
        PyErr_Clear();
        hook = PySys_GetObject("__unraisablehook__"); /* borrowed */
        res = hook != NULL ? PyObject_CallOneArg(hook, unraisable) : NULL;
        PyErr_Clear();
    }
    Py_XDECREF(res);
    Py_RETURN_NONE;
}

static PyMethodDef resources_methods[] = {
    {"read", resources_read, METH_VARARGS,
     "read(ns, name): the bytes of an archive entry, or None."},
    {"has", resources_has, METH_VARARGS,
     "has(ns, name): whether the archive has the entry."},
    {"names", resources_names, METH_VARARGS,
     "names(ns, prefix): the sorted names in ns starting with prefix."},
    {"module_kind", resources_module_kind, METH_O,
     "module_kind(name): 0 absent, 1 module, 2 package, 3 namespace, 4 "
     "other."},
    {"loadable", resources_loadable, METH_VARARGS,
     "loadable(rel): the path to dlopen the shared object rel of the "
     "virtual tree by, or None."},
    {"unraisablehook", resources_unraisablehook, METH_O,
     "unraisablehook(unraisable): print through the traceback module."},
    {"excepthook", resources_excepthook, METH_VARARGS,
     "excepthook(type, value, tb): print through the traceback module."},
    {NULL, NULL, 0, NULL},
};

void
inb_resources_init(const inb_archive *a, PyObject *r)
{
    archive = a;
    root = r;
}

int
inb_resources_add_to_module(PyObject *module)
{
    if (root != NULL && PyModule_AddObjectRef(module, "root", root) < 0) {
        return -1;
    }
    return PyModule_AddFunctions(module, resources_methods);
}

PyObject *
inb_resources_get_source(PyObject *name)
{
    PyObject *bytes = NULL, *decode = NULL, *res = NULL;
    const char *s;
    Py_ssize_t len;

    s = PyUnicode_AsUTF8AndSize(name, &len);
    if (s == NULL) {
        return NULL;
    }
    bytes = entry_bytes(INB_NS_SOURCE, s, (size_t)len);
    if (bytes == NULL || bytes == Py_None) {
        return bytes;
    }
    /* As SourceLoader.get_source: PEP 263 coding cookie, universal
     * newlines. */
    decode = PyImport_ImportModule("_frozen_importlib_external");
    if (decode != NULL) {
        Py_SETREF(decode, PyObject_GetAttrString(decode, "decode_source"));
    }
    if (decode != NULL) {
        res = PyObject_CallOneArg(decode, bytes);
    }
    Py_XDECREF(decode);
    Py_DECREF(bytes);
    return res;
}

PyObject *
inb_resources_call(const char *func, PyObject *arg)
{
    PyObject *name, *res;

    if (support == NULL) {
        support = PyImport_ImportModule(INB_SUPPORT_MODULE);
        if (support == NULL) {
            return NULL;
        }
    }
    /* One argument, even a tuple (an UnraisableHookArgs is one): not
     * PyObject_CallMethod, which would spread it. */
    name = PyUnicode_FromString(func);
    if (name == NULL) {
        return NULL;
    }
    res = PyObject_CallMethodOneArg(support, name, arg);
    Py_DECREF(name);
    return res;
}

int
inb_resources_after_exec(PyObject *name, PyObject *module)
{
    const char *func;
    PyObject *res;

    if (!PyUnicode_Check(name)) {
        return 0;
    }
    if (PyUnicode_CompareWithASCIIString(name, "linecache") == 0) {
        func = "install_linecache";
    }
    else if (PyUnicode_CompareWithASCIIString(name, "ctypes") == 0) {
        func = "install_ctypes";
    }
    else if (PyUnicode_CompareWithASCIIString(name, "sysconfig") == 0) {
        func = "install_sysconfig";
    }
    else if (PyUnicode_CompareWithASCIIString(name, "posixpath") == 0) {
        return inb_realpath_install(module);
    }
#if PY_VERSION_HEX < 0x030D0000
    /* Before 3.13 the default threading.excepthook prints with CPython's
     * C printer, which reads source lines from the disk. */
    else if (PyUnicode_CompareWithASCIIString(name, "threading") == 0) {
        func = "install_thread_excepthook";
    }
#endif
    else {
        return 0;
    }
    res = inb_resources_call(func, module);
    if (res == NULL) {
        return -1;
    }
    Py_DECREF(res);
    return 0;
}

/* Set sys.name to the function attr of _inbuilt (a borrowed module).
 * Returns 0, or -1 with an exception set. */
static int
set_hook(PyObject *mod, const char *name, const char *attr)
{
    PyObject *hook = PyObject_GetAttrString(mod, attr);
    int rc = -1;

    if (hook != NULL) {
        rc = PySys_SetObject(name, hook);
        Py_DECREF(hook);
    }
    return rc;
}

int
inb_resources_configure(void)
{
    PyObject *mod = PyImport_ImportModule("_inbuilt");
    int rc = 0;

    if (mod == NULL) {
        return -1;
    }
    rc = set_hook(mod, "excepthook", "excepthook");
    if (rc == 0) {
        rc = set_hook(mod, "unraisablehook", "unraisablehook");
    }
    Py_DECREF(mod);
    return rc;
}
