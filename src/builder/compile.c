/* compile.c: the builder's embedded CPython, used only to compile and
 * marshal.  It is the same static libpython the produced executables link,
 * so the bytecode is exactly theirs. */
#include <Python.h>
#include <marshal.h>

#include "compile.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int started;

void
inb_compile_init(void)
{
    PyConfig config;
    PyStatus status;

    if (started) {
        return;
    }
    PyConfig_InitIsolatedConfig(&config);
    config.site_import = 0;
    config.install_signal_handlers = 0;
    /* Compiling a stdlib makes warnings about its own code; not ours. */
    status = PyConfig_SetString(&config, &config.program_name, L"inbuilt");
    if (!PyStatus_Exception(status)) {
        status = PyWideStringList_Append(&config.warnoptions, L"ignore");
    }
    if (!PyStatus_Exception(status)) {
        status = PyConfig_SetBytesString(&config, &config.home, INB_PY_PREFIX);
    }
    if (!PyStatus_Exception(status)) {
        status = Py_InitializeFromConfig(&config);
    }
    PyConfig_Clear(&config);
    if (PyStatus_Exception(status)) {
        inb_fatal("cannot start the embedded Python %s (home %s): %s",
                  INB_PY_VERSION, INB_PY_PREFIX,
                  status.err_msg ? status.err_msg : "unknown error");
    }
    started = 1;
}

void
inb_compile_fini(void)
{
    if (started) {
        Py_FinalizeEx();
        started = 0;
    }
}

uint32_t
inb_compile_magic(void)
{
    return (uint32_t)PyImport_GetMagicNumber();
}

uint32_t
inb_compile_version(void)
{
    return (uint32_t)PY_VERSION_HEX;
}

/* Print the pending exception as a compiler diagnostic for path and clear
 * it. */
static void
report_error(const char *path)
{
    PyObject *type, *value, *tb, *msg = NULL, *lineno = NULL, *offset = NULL;
    PyObject *text = NULL;
    const char *m = NULL;

    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    if (value != NULL &&
        PyErr_GivenExceptionMatches(value, PyExc_SyntaxError)) {
        msg = PyObject_GetAttrString(value, "msg");
        lineno = PyObject_GetAttrString(value, "lineno");
        offset = PyObject_GetAttrString(value, "offset");
    }
    PyErr_Clear();
    text = value ? PyObject_Str(value) : NULL;
    PyErr_Clear();
    if (msg != NULL && PyUnicode_Check(msg)) {
        m = PyUnicode_AsUTF8(msg);
    }
    else if (text != NULL) {
        m = PyUnicode_AsUTF8(text);
    }
    PyErr_Clear();
    fprintf(stderr, "%s:%ld:%ld: %s: %s\n", path,
            lineno && PyLong_Check(lineno) ? PyLong_AsLong(lineno) : 0L,
            offset && PyLong_Check(offset) ? PyLong_AsLong(offset) : 0L,
            type ? ((PyTypeObject *)type)->tp_name : "error",
            m ? m : "cannot compile");
    PyErr_Clear();
    Py_XDECREF(text);
    Py_XDECREF(offset);
    Py_XDECREF(lineno);
    Py_XDECREF(msg);
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_XDECREF(tb);
}

int
inb_compile_source(const char *src, size_t len, const char *path,
                   const char *relname, int optimize, struct inb_buf *out)
{
    PyCompilerFlags flags = {0, PY_MINOR_VERSION};
    PyObject *code = NULL, *filename = NULL, *data = NULL;
    char *text;
    int rc = -1;

    if (memchr(src, '\0', len) != NULL) {
        fprintf(stderr, "%s:0:0: SyntaxError: source contains NUL bytes\n",
                path);
        return -1;
    }
    text = strndup(src, len);
    if (text == NULL) {
        inb_fatal("out of memory");
    }
    filename = PyUnicode_DecodeFSDefault(relname);
    if (filename == NULL) {
        report_error(path);
        goto done;
    }
    code = Py_CompileStringObject(text, filename, Py_file_input, &flags,
                                  optimize);
    if (code == NULL) {
        report_error(path);
        goto done;
    }
    data = PyMarshal_WriteObjectToString(code, Py_MARSHAL_VERSION);
    if (data == NULL) {
        report_error(path);
        goto done;
    }
    inb_buf_add(out, PyBytes_AS_STRING(data), (size_t)PyBytes_GET_SIZE(data));
    rc = 0;
done:
    Py_XDECREF(data);
    Py_XDECREF(code);
    Py_XDECREF(filename);
    free(text);
    return rc;
}

int
inb_compile_file(const char *path, const char *relname, int optimize,
                 struct inb_buf *out)
{
    struct inb_buf src = {0};
    int rc;

    if (inb_buf_readfile(&src, path) < 0) {
        fprintf(stderr, "%s: cannot read: %s\n", path, strerror(errno));
        return -1;
    }
    rc = inb_compile_source(src.data, src.len, path, relname, optimize, out);
    inb_buf_free(&src);
    return rc;
}
