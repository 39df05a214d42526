/* realpath.c: os.path.realpath() of a path under the executable, without
 * a system call.
 *
 * posixpath.realpath() asks lstat() of every directory on the way, the
 * executable's ancestors included: an executable on a shared filesystem
 * paid one lookup there per ancestor each time a program resolved a
 * module's __file__, and sysconfig does so on import for sys.executable.
 * The layer (vfs.c) answers the tree's own nodes from memory, and none of
 * them is a symbolic link; the root is the path the kernel gave for
 * /proc/self/exe, which holds no symbolic link.  So for a path under the
 * root whose ".." stay in the tree, what posixpath.realpath() computes is
 * known without asking: the root and the rest normalized
 * (inb_vfs_canonical()).  Right after posixpath is executed,
 * posixpath.realpath becomes a function that returns that, and calls the
 * original for every other path, for strict=True and for any other
 * argument, so that every result is the one python3 gives.  (What it does
 * not see: the executable's directories renamed while the process runs.)
 */
#include "realpath.h"

#include <limits.h>

#include "vfs.h"

/* The fast path of realpath(filename): a new reference to the canonical
 * path of the same type, or NULL without an exception when the original
 * must answer. */
static PyObject *
canonical(PyObject *filename)
{
    PyObject *path = NULL, *bytes = NULL, *res = NULL;
    char out[PATH_MAX];
    long n;

    path = PyOS_FSPath(filename);
    if (path == NULL) {
        goto done;
    }
    if (PyUnicode_Check(path)) {
        bytes = PyUnicode_EncodeFSDefault(path);
    }
    else if (PyBytes_Check(path)) {
        bytes = Py_NewRef(path);
    }
    if (bytes == NULL) {
        goto done;
    }
    n = inb_vfs_canonical(PyBytes_AS_STRING(bytes),
                          (size_t)PyBytes_GET_SIZE(bytes), out, sizeof(out));
    if (n < 0) {
        goto done;
    }
    res = PyUnicode_Check(path)
              ? PyUnicode_DecodeFSDefaultAndSize(out, (Py_ssize_t)n)
              : PyBytes_FromStringAndSize(out, (Py_ssize_t)n);
done:
    /* Any error here is the original's to raise. */
    PyErr_Clear();
    Py_XDECREF(bytes);
    Py_XDECREF(path);
    return res;
}

/* realpath(filename, *, strict=False), bound to posixpath's original
 * (borrowed from the function object, which owns it): new reference. */
static PyObject *
realpath_call(PyObject *original, PyObject *const *args, Py_ssize_t nargs,
              PyObject *kwnames)
{
    Py_ssize_t nkw = kwnames == NULL ? 0 : PyTuple_GET_SIZE(kwnames);
    PyObject *res;

    if (nargs == 1 &&
        (nkw == 0 || (nkw == 1 &&
                      PyUnicode_CompareWithASCIIString(
                          PyTuple_GET_ITEM(kwnames, 0), "strict") == 0 &&
                      args[1] == Py_False))) {
        res = canonical(args[0]);
        if (res != NULL) {
            return res;
        }
    }
    return PyObject_Vectorcall(original, args, (size_t)nargs, kwnames);
}

static PyMethodDef realpath_def = {
    "realpath",
    (PyCFunction)(void (*)(void))realpath_call,
    METH_FASTCALL | METH_KEYWORDS,
    "realpath($module, filename, *, strict=False)\n--\n\n"
    "Return the canonical path of the specified filename, eliminating any\n"
    "symbolic links encountered in the path.",
};

int
inb_realpath_install(PyObject *posixpath)
{
    PyObject *original = NULL, *modname = NULL, *func = NULL;
    int rc = -1;

    original = PyObject_GetAttrString(posixpath, "realpath");
    modname = PyUnicode_FromString("posixpath");
    if (original == NULL || modname == NULL) {
        goto error;
    }
    func = PyCFunction_NewEx(&realpath_def, original, modname);
    if (func == NULL) {
        goto error;
    }
    rc = PyObject_SetAttrString(posixpath, "realpath", func);
error:
    Py_XDECREF(func);
    Py_XDECREF(modname);
    Py_XDECREF(original);
    return rc;
}
