/* resources.c: module source, package data and distribution metadata from
 * the archive, for Python.
 *
 * The primitives over three namespaces of the archive (source, data,
 * meta; docs/FORMAT.md) that the built-in module _inbuilt offers, and the
 * loader's get_source().  _inbuilt_support (src/runtime/loader.py, compiled
 * into every archive) builds the importlib.resources reader, get_data()
 * and the importlib.metadata distributions on these primitives; nothing
 * here calls it, so the calls go one way: finder.c and hooks.c down into
 * loader.py (support.c), loader.py down into these.  Nothing here touches
 * the disk.
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
#include "extload.h"
#include "modpath.h"
#include "tree.h"
#include "vpath.h"

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

    if (inb_record_source_read(inb_tree_archive(), e, &r, err, sizeof(err)) <
        0) {
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

/* New reference: the bytes of the file that entry e holds: a source
 * inflated (a corrupt one is an ImportError naming its module), the image
 * of a shared object (a package's plain library, an extension module's
 * .so), else the data as it is.  name[0..len): the file, for messages.
 * NULL with an exception set. */
static PyObject *
file_bytes(const inb_entry *e, const char *name, size_t len)
{
    const inb_archive *archive = inb_tree_archive();
    inb_shobj_record r;
    char err[512];

    if (e->ns == INB_NS_SOURCE) {
        return inflate_source(e, e->name, e->name_len);
    }
    if (inb_archive_data(archive, e, err, sizeof(err)) < 0) {
        return entry_error(INB_FAIL_DAMAGED_FILE, name, len, err);
    }
    if (e->kind == INB_KIND_SHARED_DATA || e->kind == INB_KIND_SHARED_EXT) {
        if (inb_record_shobj_read(archive, e, &r, err, sizeof(err)) < 0) {
            return entry_error(INB_FAIL_CORRUPT_DATA, name, len, err);
        }
        return PyBytes_FromStringAndSize((const char *)r.image,
                                         (Py_ssize_t)r.image_size);
    }
    return PyBytes_FromStringAndSize((const char *)e->data,
                                     (Py_ssize_t)e->size);
}

/* New reference: the bytes of entry (ns, name[0..len)) as file_bytes()
 * gives them; None when absent; NULL with an exception set. */
static PyObject *
entry_bytes(int ns, const char *name, size_t len)
{
    inb_entry e;

    if (!inb_archive_find(inb_tree_archive(), ns, name, len, &e)) {
        Py_RETURN_NONE;
    }
    return file_bytes(&e, name, len);
}

/* Parse the one argument rel (a str: a path of the virtual tree, relative
 * to the root) of function fname and normalize it into out (outsize
 * bytes) with vpath.c.  Returns its length; -1 when it names nothing of
 * the tree (".." leaves the root, or too long); -2 with an exception set. */
static long
tree_rel(PyObject *args, const char *format, char *out, size_t outsize)
{
    const char *rel;
    Py_ssize_t len;
    long n;

    if (!PyArg_ParseTuple(args, format, &rel, &len)) {
        return -2;
    }
    n = inb_vpath_normalize(rel, (size_t)len, out, outsize);
    return n < 0 ? -1 : n;
}

/* tree_kind(rel): new reference to an int, what rel is in the virtual tree
 * (vpath.c): 0 nothing, 1 a file, 2 a directory. */
static PyObject *
resources_tree_kind(PyObject *self, PyObject *args)
{
    char rel[PATH_MAX];
    long n = tree_rel(args, "s#:tree_kind", rel, sizeof(rel));
    inb_vnode node;

    (void)self;
    if (n == -2) {
        return NULL;
    }
    if (n < 0) {
        return PyLong_FromLong(INB_VNODE_NONE);
    }
    return PyLong_FromLong(
        inb_vpath_lookup(inb_tree_archive(), rel, (size_t)n, &node));
}

/* tree_read(rel): new reference to the bytes of file rel of the virtual
 * tree, None when it is no file; ImportError for a corrupt source, OSError
 * (EIO) for a damaged file. */
static PyObject *
resources_tree_read(PyObject *self, PyObject *args)
{
    const inb_archive *archive = inb_tree_archive();
    char rel[PATH_MAX];
    long n = tree_rel(args, "s#:tree_read", rel, sizeof(rel));
    inb_vnode node;
    inb_entry e;

    (void)self;
    if (n == -2) {
        return NULL;
    }
    if (n < 0 ||
        inb_vpath_lookup(archive, rel, (size_t)n, &node) != INB_VNODE_FILE) {
        Py_RETURN_NONE;
    }
    inb_archive_entry(archive, node.index, &e);
    return file_bytes(&e, rel, (size_t)n);
}

/* tree_list(rel): new reference to the list of the names directly inside
 * directory rel of the virtual tree, in the archive's order (vpath.c's
 * listing, the file layer's), or None when rel is no directory. */
static PyObject *
resources_tree_list(PyObject *self, PyObject *args)
{
    const inb_archive *archive = inb_tree_archive();
    PyObject *list = NULL, *item = NULL;
    char rel[PATH_MAX], name[PATH_MAX];
    long n = tree_rel(args, "s#:tree_list", rel, sizeof(rel));
    inb_vnode node;
    inb_vdir *dir = NULL;

    (void)self;
    if (n == -2) {
        return NULL;
    }
    if (n < 0 ||
        inb_vpath_lookup(archive, rel, (size_t)n, &node) != INB_VNODE_DIR) {
        Py_RETURN_NONE;
    }
    dir = PyMem_Malloc(sizeof(*dir));
    list = PyList_New(0);
    if (dir == NULL || list == NULL) {
        PyErr_NoMemory();
        goto error;
    }
    if (inb_vpath_opendir(dir, rel, (size_t)n) < 0) {
        PyErr_Format(PyExc_OSError, "path too long: %s", rel);
        goto error;
    }
    while (inb_vpath_readdir(archive, dir, name, sizeof(name), &node)) {
        item = PyUnicode_DecodeUTF8(name, (Py_ssize_t)strlen(name),
                                    "surrogateescape");
        if (item == NULL || PyList_Append(list, item) < 0) {
            goto error;
        }
        Py_CLEAR(item);
    }
    PyMem_Free(dir);
    return list;
error:
    Py_XDECREF(item);
    Py_XDECREF(list);
    PyMem_Free(dir);
    return NULL;
}

PyObject *
inb_resources_module_dir(PyObject *name)
{
    const char *s;
    Py_ssize_t len;
    PyObject *res;
    char *rel;

    s = PyUnicode_AsUTF8AndSize(name, &len);
    if (s == NULL) {
        return NULL;
    }
    rel = PyMem_Malloc((size_t)len + 1);
    if (rel == NULL) {
        return PyErr_NoMemory();
    }
    inb_modpath_dir(s, (size_t)len, rel, (size_t)len + 1);
    res = PyUnicode_DecodeUTF8(rel, len, "surrogateescape");
    PyMem_Free(rel);
    return res;
}

/* module_dir(name): new reference to the directory of package name in the
 * virtual tree, relative to the root ("a/b" for a.b: modpath.c's rule). */
static PyObject *
resources_module_dir(PyObject *self, PyObject *arg)
{
    (void)self;
    return inb_resources_module_dir(arg);
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
    if (!inb_vpath_shared_object(inb_tree_archive(), rel, (size_t)len, &e)) {
        Py_RETURN_NONE;
    }
    if (inb_extload_prepare(&e, path, sizeof(path), err, sizeof(err)) < 0) {
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

/* names(ns, prefix): new reference to the sorted list of the names in ns
 * that start with prefix. */
static PyObject *
resources_names(PyObject *self, PyObject *args)
{
    const char *prefix;
    Py_ssize_t len;
    PyObject *list = NULL, *item = NULL;
    const inb_archive *archive = inb_tree_archive();
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
    if (inb_archive_find(inb_tree_archive(), INB_NS_MODULE, name, (size_t)len,
                         &e)) {
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

static PyMethodDef resources_methods[] = {
    {"read", resources_read, METH_VARARGS,
     "read(ns, name): the bytes of an archive entry, or None."},
    {"names", resources_names, METH_VARARGS,
     "names(ns, prefix): the sorted names in ns starting with prefix."},
    {"module_kind", resources_module_kind, METH_O,
     "module_kind(name): 0 absent, 1 module, 2 package, 3 namespace, 4 "
     "other."},
    {"tree_kind", resources_tree_kind, METH_VARARGS,
     "tree_kind(rel): 0 nothing, 1 file, 2 directory of the virtual tree."},
    {"tree_read", resources_tree_read, METH_VARARGS,
     "tree_read(rel): the bytes of file rel of the virtual tree, or None."},
    {"tree_list", resources_tree_list, METH_VARARGS,
     "tree_list(rel): the names inside directory rel, or None."},
    {"module_dir", resources_module_dir, METH_O,
     "module_dir(name): the directory of package name, relative."},
    {"loadable", resources_loadable, METH_VARARGS,
     "loadable(rel): the path to dlopen the shared object rel of the "
     "virtual tree by, or None."},
    {NULL, NULL, 0, NULL},
};

int
inb_resources_add_to_module(PyObject *module)
{
    PyObject *root = inb_tree_root_str(); /* borrowed */

    if (root == NULL || PyModule_AddObjectRef(module, "root", root) < 0) {
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
