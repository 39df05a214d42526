/* hooks.c: sys.excepthook, sys.unraisablehook and the services given to
 * stdlib modules once they are executed (hooks.h).  The printing itself is
 * _inbuilt_support's (loader.py), through the traceback module, hence
 * linecache, hence the archive; CPython's own printer is the fall-back.
 */
#include "hooks.h"

#include "realpath.h"
#include "support.h"

/* excepthook(type, value, traceback): new reference to None.  Prints the
 * exception with the traceback module, which reads source lines through
 * linecache (hence from the archive), keeping the innermost frames under
 * sys.tracebacklimit as CPython does (print_exception); with CPython's own
 * printer a KeyboardInterrupt, or when that module cannot be used, or from
 * 3.13, whose printer uses the traceback module itself.  Then, for a module
 * the executable lacks, how to build it in (missing_module_hint). */
static PyObject *
hooks_excepthook(PyObject *self, PyObject *args)
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
    res = inb_support_call("print_exception", args);
#endif
    if (res == NULL) {
        PyErr_Clear();
        PyErr_Display(type, value, tb);
    }
    Py_XDECREF(res);
    res = inb_support_call("missing_module_hint", value);
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
hooks_unraisablehook(PyObject *self, PyObject *unraisable)
{
    PyObject *res, *hook;

    (void)self;
    res = inb_support_call("unraisablehook", unraisable);
    if (res == NULL) {
        PyErr_Clear();
        hook = PySys_GetObject("__unraisablehook__"); /* borrowed */
        res = hook != NULL ? PyObject_CallOneArg(hook, unraisable) : NULL;
        PyErr_Clear();
    }
    Py_XDECREF(res);
    Py_RETURN_NONE;
}

static PyMethodDef hooks_methods[] = {
    {"unraisablehook", hooks_unraisablehook, METH_O,
     "unraisablehook(unraisable): print through the traceback module."},
    {"excepthook", hooks_excepthook, METH_VARARGS,
     "excepthook(type, value, tb): print through the traceback module."},
    {NULL, NULL, 0, NULL},
};

int
inb_hooks_add_to_module(PyObject *module)
{
    return PyModule_AddFunctions(module, hooks_methods);
}

int
inb_hooks_after_exec(PyObject *name, PyObject *module)
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
    res = inb_support_call(func, module);
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
inb_hooks_configure(void)
{
    PyObject *mod = PyImport_ImportModule("_inbuilt");
    int rc = 0;

    if (mod == NULL) {
        return -1;
    }
    /* sys.__excepthook__ too: code.InteractiveConsole and others print
     * themselves (without their own frames) only when sys.excepthook is
     * sys.__excepthook__, and programs restore the one from the other. */
    rc = set_hook(mod, "excepthook", "excepthook");
    if (rc == 0) {
        rc = set_hook(mod, "__excepthook__", "excepthook");
    }
    if (rc == 0) {
        rc = set_hook(mod, "unraisablehook", "unraisablehook");
    }
    Py_DECREF(mod);
    return rc;
}
