/* extload.c: extension modules from the archive (extload.h).
 *
 * A shared one (kind shared-ext): memso.c makes its image loadable (a
 * memory file opened as /proc/self/fd/N, or a file of the cache
 * directory), and CPython's own extension loader, _imp.create_dynamic,
 * given a spec whose origin is that path, dlopens it and runs single- or
 * multi-phase init with the package context of the dotted name; the
 * module's __file__ is then set back to the virtual origin.  The dynamic
 * loader's message names only /proc/self/fd/N, so a failure is raised
 * again naming the module.  exec_module's part, for these and for the
 * built-in ones (kind builtin-ext, created by builtin.c), is
 * _imp.exec_dynamic.
 */
#include "extload.h"

#include <limits.h>

#include "errors.h"
#include "memso.h"
#include "support.h"
#include "tree.h"

static PyObject *module_spec;    /* _frozen_importlib.ModuleSpec */
static PyObject *create_dynamic; /* _imp.create_dynamic */
static PyObject *exec_dynamic;   /* _imp.exec_dynamic */

/* Fetch, once, the functions of CPython's extension loader.  Returns 0,
 * or -1 with an exception set. */
static int
imp_functions(void)
{
    if (exec_dynamic != NULL) {
        return 0;
    }
    if (module_spec == NULL) {
        module_spec = inb_import_attr("_frozen_importlib", "ModuleSpec");
    }
    if (create_dynamic == NULL) {
        create_dynamic = inb_import_attr("_imp", "create_dynamic");
    }
    if (module_spec == NULL || create_dynamic == NULL) {
        return -1;
    }
    exec_dynamic = inb_import_attr("_imp", "exec_dynamic");
    return exec_dynamic != NULL ? 0 : -1;
}

/* Replace the pending ImportError of loading extension name with one that
 * names the module and keeps the loader's message, caused by the first. */
static void
reraise_load_error(PyObject *name)
{
    PyObject *type, *value, *tb, *text = NULL;
    PyObject *ntype, *nvalue, *ntb;
    const char *msg;
    Py_ssize_t len = 0;

    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    text = value != NULL ? PyObject_Str(value) : NULL;
    msg = text != NULL ? PyUnicode_AsUTF8AndSize(text, &len) : NULL;
    if (msg == NULL) {
        PyErr_Clear();
        msg = "unknown error";
        len = (Py_ssize_t)strlen(msg);
    }
    inb_error_raise(INB_FAIL_LOAD, name, msg, (size_t)len);
    PyErr_Fetch(&ntype, &nvalue, &ntb);
    PyErr_NormalizeException(&ntype, &nvalue, &ntb);
    if (nvalue != NULL && value != NULL) {
        PyException_SetCause(nvalue, value); /* steals value */
        value = NULL;
    }
    PyErr_Restore(ntype, nvalue, ntb);
    Py_XDECREF(text);
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_XDECREF(tb);
}

int
inb_extload_prepare(const inb_entry *e, char *path, size_t pathsize, char *err,
                    size_t errsize)
{
    int rc =
        inb_memso_prepare(inb_tree_archive(), e, path, pathsize, err, errsize);
    const char *diagnostic = inb_memso_take_diagnostic();

    if (diagnostic != NULL) {
        PySys_FormatStderr("inbuilt: %s\n", diagnostic);
    }
    return rc;
}

PyObject *
inb_extload_create(PyObject *loader, PyObject *spec, PyObject *name,
                   const inb_entry *e)
{
    PyObject *path = NULL, *args = NULL, *kwargs = NULL, *fdspec = NULL;
    PyObject *module = NULL, *origin = NULL;
    char fdpath[PATH_MAX + 64], err[512];
    int rc = inb_extload_prepare(e, fdpath, sizeof(fdpath), err, sizeof(err));

    if (rc < 0) {
        return inb_error_raise(INB_FAIL_LOAD, name, err, strlen(err));
    }
    path = PyUnicode_FromString(fdpath);
    args = PyTuple_Pack(2, name, loader);
    if (path == NULL || args == NULL || imp_functions() < 0) {
        goto done;
    }
    kwargs = Py_BuildValue("{sO}", "origin", path);
    if (kwargs == NULL) {
        goto done;
    }
    fdspec = PyObject_Call(module_spec, args, kwargs);
    if (fdspec == NULL) {
        goto done;
    }
    module = PyObject_CallOneArg(create_dynamic, fdspec);
    if (module == NULL) {
        /* The dynamic loader's message names only /proc/self/fd/N. */
        if (PyErr_ExceptionMatches(PyExc_ImportError)) {
            reraise_load_error(name);
        }
        goto done;
    }
    /* A single-phase module got __file__ from the memory file's path. */
    if (PyModule_Check(module) &&
        PyDict_GetItemString(PyModule_GetDict(module), "__file__") != NULL) {
        origin = PyObject_GetAttrString(spec, "origin");
        if (origin == NULL ||
            PyObject_SetAttrString(module, "__file__", origin) < 0) {
            Py_CLEAR(module);
        }
    }
done:
    Py_XDECREF(origin);
    Py_XDECREF(fdspec);
    Py_XDECREF(kwargs);
    Py_XDECREF(args);
    Py_XDECREF(path);
    return module;
}

int
inb_extload_exec(PyObject *module)
{
    PyObject *res;

    if (imp_functions() < 0) {
        return -1;
    }
    res = PyObject_CallOneArg(exec_dynamic, module);
    if (res == NULL) {
        return -1;
    }
    Py_DECREF(res);
    return 0;
}
