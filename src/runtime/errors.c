/* errors.c: the runtime's failures as Python exceptions (errors.h): one
 * message per failure kind, each naming the module or file. */
#include "errors.h"

#include <errno.h>

PyObject *
inb_error_raise(enum inb_failure failure, PyObject *name, const char *detail,
                size_t detail_len)
{
    PyObject *msg = NULL, *cause = NULL, *exc = NULL, *type, *value, *tb;
    PyObject *excclass = PyExc_ImportError;

    switch (failure) {
    case INB_FAIL_NOT_FOUND:
        excclass = PyExc_ModuleNotFoundError;
        msg = PyUnicode_FromFormat("No module named %R in this executable",
                                   name);
        break;
    case INB_FAIL_ABSENT_EXT:
        excclass = PyExc_ModuleNotFoundError;
        cause =
            PyUnicode_DecodeUTF8(detail, (Py_ssize_t)detail_len, "replace");
        if (cause == NULL) {
            goto done;
        }
        msg = PyUnicode_FromFormat("No module named %R: it is a C extension "
                                   "module that this executable does not "
                                   "build in (%U)",
                                   name, cause);
        Py_CLEAR(cause);
        break;
    case INB_FAIL_CORRUPT:
        PyErr_Fetch(&type, &value, &tb);
        PyErr_NormalizeException(&type, &value, &tb);
        cause = value;
        Py_XDECREF(type);
        Py_XDECREF(tb);
        msg = PyUnicode_FromFormat("corrupt entry for module %R in the "
                                   "embedded archive: %S",
                                   name, cause ? cause : Py_None);
        break;
    case INB_FAIL_NOT_CODE:
        msg = PyUnicode_FromFormat("corrupt entry for module %R in the "
                                   "embedded archive: not a code object",
                                   name);
        break;
    case INB_FAIL_LOAD:
        cause =
            PyUnicode_DecodeUTF8(detail, (Py_ssize_t)detail_len, "replace");
        if (cause == NULL) {
            goto done;
        }
        msg = PyUnicode_FromFormat("cannot load extension module %R "
                                   "embedded in the executable: %U",
                                   name, cause);
        Py_CLEAR(cause);
        break;
    case INB_FAIL_DAMAGED:
        msg =
            PyUnicode_FromFormat("cannot import module %R: %s", name, detail);
        break;
    case INB_FAIL_CORRUPT_SOURCE:
        msg = PyUnicode_FromFormat("corrupt source entry for module %R in "
                                   "the embedded archive: %s",
                                   name, detail);
        break;
    case INB_FAIL_CORRUPT_DATA:
        msg = PyUnicode_FromFormat("corrupt data entry %R in the embedded "
                                   "archive: %s",
                                   name, detail);
        break;
    case INB_FAIL_LOAD_FILE:
        msg = PyUnicode_FromFormat("cannot load %U, embedded in the "
                                   "executable: %s",
                                   name, detail);
        break;
    case INB_FAIL_NOT_IN_TABLE:
        msg = PyUnicode_FromFormat("built-in extension module %R is not in "
                                   "this executable's table of init "
                                   "functions (corrupt executable?)",
                                   name);
        break;
    case INB_FAIL_DAMAGED_FILE:
        /* OSError(EIO, message), as a failed read of a file. */
        exc = PyObject_CallFunction(PyExc_OSError, "is", EIO, detail);
        if (exc != NULL) {
            PyErr_SetObject(PyExc_OSError, exc);
        }
        goto done;
    case INB_FAIL_UNSUPPORTED:
        msg = PyUnicode_FromFormat("module %R is of a kind this runtime "
                                   "cannot load; rebuild with the same "
                                   "inbuilt version",
                                   name);
        break;
    }
    if (msg == NULL) {
        goto done;
    }
    exc = PyObject_CallFunctionObjArgs(excclass, msg, NULL);
    if (exc == NULL) {
        goto done;
    }
    if (PyObject_SetAttrString(exc, "name", name) < 0) {
        goto done;
    }
    if (cause != NULL) {
        PyException_SetCause(exc, cause); /* steals cause */
        cause = NULL;
    }
    PyErr_SetObject(excclass, exc);
done:
    Py_XDECREF(cause);
    Py_XDECREF(exc);
    Py_XDECREF(msg);
    return NULL;
}
