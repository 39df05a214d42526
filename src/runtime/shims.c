/* shims.c: built-in modules that expose what libpython already implements.
 *
 * _contextvars: contextvars.py imports Context, ContextVar, Token and
 * copy_context from it, with no pure-Python fallback, and asyncio and
 * decimal need contextvars.  The three types and PyContext_CopyCurrent()
 * are part of the C API, so the module is their names and nothing else.
 */
#include <Python.h>

#include <string.h>

#include "shims.h"

/* copy_context(): new reference to a copy of the current context. */
static PyObject *
contextvars_copy_context(PyObject *module, PyObject *unused)
{
    (void)module;
    (void)unused;
    return PyContext_CopyCurrent();
}

static int
contextvars_exec(PyObject *m)
{
    if (PyModule_AddObjectRef(m, "Context", (PyObject *)&PyContext_Type) < 0 ||
        PyModule_AddObjectRef(m, "ContextVar",
                              (PyObject *)&PyContextVar_Type) < 0 ||
        PyModule_AddObjectRef(m, "Token", (PyObject *)&PyContextToken_Type) <
            0) {
        return -1;
    }
    return 0;
}

static PyMethodDef contextvars_methods[] = {
    {"copy_context", contextvars_copy_context, METH_NOARGS,
     "Return a copy of the current Context."},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot contextvars_slots[] = {
    {Py_mod_exec, contextvars_exec},
    {0, NULL},
};

static struct PyModuleDef contextvars_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_contextvars",
    .m_doc = "Context Variables (the C API's, exposed by inbuilt)",
    .m_size = 0,
    .m_methods = contextvars_methods,
    .m_slots = contextvars_slots,
};

static PyObject *
contextvars_init(void)
{
    return PyModuleDef_Init(&contextvars_module);
}

/* Whether the inittab already has a module called name. */
static int
in_inittab(const char *name)
{
    const struct _inittab *p;

    for (p = PyImport_Inittab; p->name != NULL; p++) {
        if (strcmp(p->name, name) == 0) {
            return 1;
        }
    }
    return 0;
}

int
inb_shims_register(void)
{
    if (!in_inittab("_contextvars") &&
        PyImport_AppendInittab("_contextvars", contextvars_init) < 0) {
        return -1;
    }
    return 0;
}
