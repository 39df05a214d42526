/* support.c: the one door from C into _inbuilt_support (support.h), which
 * is imported on first use only, so that a program that never reads a
 * resource or metadata never loads it. */
#include "support.h"

static PyObject *support; /* _inbuilt_support, once imported */

PyObject *
inb_import_attr(const char *modname, const char *attr)
{
    PyObject *mod = PyImport_ImportModule(modname), *res;

    if (mod == NULL) {
        return NULL;
    }
    res = PyObject_GetAttrString(mod, attr);
    Py_DECREF(mod);
    return res;
}

PyObject *
inb_support_call(const char *func, PyObject *arg)
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
