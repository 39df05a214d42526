/* builtin.c: extension modules linked into the executable.
 *
 * The builder links each such module's objects into the executable with
 * every symbol made local but its init function, renamed to a unique name,
 * and generates the table inb_builtin_table {dotted name, init function}.
 * An archive entry of kind builtin-ext names the module; its data is the
 * index of its record in that table (u32, little-endian), so a lookup is
 * one binary search in the archive and one array access.
 *
 * Initialization follows CPython's own loader of extension modules
 * (Python/importdl.c and import.c), so that a module behaves as it would
 * loaded from a .so, whatever the version (3.10 to 3.13):
 *  - the init function runs with the package context set to the full
 *    dotted name, so that PyModule_Create() of a single-phase module in a
 *    package gives it (and its functions' __module__) the full name;
 *  - a PyModuleDef returned (multi-phase, PEP 489) is turned into a module
 *    by PyModule_FromDefAndSpec(); its exec slots run in exec_module;
 *  - a single-phase module is initialized once per process: its def is
 *    registered for PyState_FindModule(), a copy of its namespace is kept
 *    when m_size is -1 and given to a module made on a later import,
 *    otherwise the init function runs again, as CPython does.
 */
#include "builtin.h"
#include "errors.h"
#include "records.h"

#include <string.h>

/* The table the builder generates; absent (NULL) in an executable without
 * built-in extension modules. */
extern const struct inb_builtin inb_builtin_table[] __attribute__((weak));

#if PY_VERSION_HEX >= 0x030C0000
/* Python/import.c since 3.12: the package context is runtime state. */
extern const char *_PyImport_SwapPackageContext(const char *newcontext);
#endif

/* Single-phase modules initialized so far: dotted name (str) -> tuple
 * (copy of the first namespace (dict) or None when m_size >= 0, the
 * module's def as an int address). */
static PyObject *singles;

/* Make context (borrowed, or NULL) the package context of the next
 * PyModule_Create(); return the previous one. */
static const char *
swap_context(const char *context)
{
#if PY_VERSION_HEX >= 0x030C0000
    return _PyImport_SwapPackageContext(context);
#else
    const char *old = _Py_PackageContext;

    _Py_PackageContext = context;
    return old;
#endif
}

/* The table record of entry e of a named name.  Returns it, or NULL with
 * ImportError when the entry is damaged or its index is not that of name's
 * record (an archive not linked with this table). */
static const struct inb_builtin *
table_record(const inb_archive *a, PyObject *name, const char *cname,
             const inb_entry *e)
{
    static uint32_t count = UINT32_MAX; /* records, counted once */
    uint32_t index;
    char err[512];

    if (inb_archive_data(a, e, err, sizeof(err)) < 0) {
        inb_error_raise(INB_FAIL_DAMAGED, name, err, strlen(err));
        return NULL;
    }
    if (inb_builtin_table == NULL ||
        inb_record_builtin_read(a, e, &index, err, sizeof(err)) < 0) {
        goto mismatch;
    }
    if (count == UINT32_MAX) {
        for (count = 0; inb_builtin_table[count].name != NULL; count++) {
        }
    }
    if (index >= count || strcmp(inb_builtin_table[index].name, cname) != 0) {
        goto mismatch;
    }
    return &inb_builtin_table[index];
mismatch:
    inb_error_raise(INB_FAIL_NOT_IN_TABLE, name, NULL, 0);
    return NULL;
}

/* New reference: the result of running init with the package context
 * cname; NULL with an exception set, as CPython reports a failed init. */
static PyObject *
run_init(PyObject *(*init)(void), PyObject *name, const char *cname)
{
    const char *old = swap_context(cname);
    PyObject *m = init();

    swap_context(old);
    if (m == NULL) {
        if (!PyErr_Occurred()) {
            PyErr_Format(PyExc_SystemError,
                         "initialization of %U failed without raising an "
                         "exception",
                         name);
        }
        return NULL;
    }
    if (PyErr_Occurred()) {
        Py_DECREF(m);
        PyErr_Format(PyExc_SystemError,
                     "initialization of %U raised unreported exception", name);
        return NULL;
    }
    return m;
}

/* New reference: a later instance of single-phase module name, whose
 * record in singles is saved (borrowed): a module holding a copy of the
 * first namespace, or a new one from the init function, registered for
 * PyState_FindModule() as CPython's import_find_extension() does. */
static PyObject *
single_again(const struct inb_builtin *b, PyObject *name, const char *cname,
             PyObject *saved)
{
    PyObject *m = NULL, *copy = PyTuple_GET_ITEM(saved, 0);
    PyModuleDef *def = PyLong_AsVoidPtr(PyTuple_GET_ITEM(saved, 1));

    if (def == NULL) {
        return NULL;
    }
    if (copy == Py_None) {
        m = run_init(b->init, name, cname);
    }
    else {
        m = PyModule_NewObject(name);
        if (m != NULL && PyDict_Update(PyModule_GetDict(m), copy) < 0) {
            Py_CLEAR(m);
        }
    }
    if (m != NULL && PyState_AddModule(m, def) < 0) {
        Py_CLEAR(m);
    }
    return m;
}

/* Raise SystemError for module cname (UTF-8) whose init function did not
 * return a PyModuleDef when its last part is not ASCII, as CPython's
 * loader does: PEP 489 allows such names multi-phase init only.  The
 * message names the init function's suffix (punycode, '-' made '_').
 * Returns -1 with the exception set, 0 for an ASCII name. */
static int
refuse_nonascii_single(const char *cname)
{
    const char *last = strrchr(cname, '.'), *p;
    PyObject *bytes; /* the name (str), then its punycode (bytes) */
    char *suffix;
    Py_ssize_t i, n;

    last = last ? last + 1 : cname;
    for (p = last; *p != '\0' && (unsigned char)*p < 0x80; p++) {
    }
    if (*p == '\0') {
        return 0;
    }
    bytes = PyUnicode_DecodeUTF8(last, (Py_ssize_t)strlen(last), NULL);
    if (bytes != NULL) {
        Py_SETREF(bytes, PyUnicode_AsEncodedString(bytes, "punycode", NULL));
    }
    if (bytes == NULL) {
        return -1;
    }
    suffix = PyBytes_AS_STRING(bytes);
    n = PyBytes_GET_SIZE(bytes);
    for (i = 0; i < n; i++) {
        if (suffix[i] == '-') {
            suffix[i] = '_';
        }
    }
    PyErr_Format(PyExc_SystemError,
                 "initialization of %s did not return PyModuleDef", suffix);
    Py_DECREF(bytes);
    return -1;
}

PyObject *
inb_builtin_create(const inb_archive *a, PyObject *spec, PyObject *name,
                   const inb_entry *e)
{
    const struct inb_builtin *b;
    PyObject *m = NULL, *saved = NULL, *copy = NULL, *record = NULL;
    PyModuleDef *def;
    const char *cname = PyUnicode_AsUTF8(name);

    if (cname == NULL || (b = table_record(a, name, cname, e)) == NULL) {
        return NULL;
    }
    if (singles == NULL && (singles = PyDict_New()) == NULL) {
        return NULL;
    }
    saved = PyDict_GetItemWithError(singles, name); /* borrowed */
    if (saved != NULL) {
        return single_again(b, name, cname, saved);
    }
    if (PyErr_Occurred()) {
        return NULL;
    }
    m = run_init(b->init, name, cname);
    if (m == NULL) {
        return NULL;
    }
    if (PyObject_TypeCheck(m, &PyModuleDef_Type)) {
        /* PyModuleDef_Init() returns the static def without a new
         * reference, and CPython's loaders release none. */
        def = (PyModuleDef *)m;
        return PyModule_FromDefAndSpec(def, spec);
    }
    if (refuse_nonascii_single(cname) < 0) {
        goto error;
    }
    def = PyModule_GetDef(m);
    if (def == NULL) {
        if (!PyErr_Occurred()) {
            PyErr_Format(PyExc_SystemError,
                         "initialization of %U did not return an extension "
                         "module",
                         name);
        }
        goto error;
    }
    def->m_base.m_init = b->init;
    if (def->m_size == -1) {
        copy = PyDict_Copy(PyModule_GetDict(m));
        if (copy == NULL) {
            goto error;
        }
    }
    record =
        Py_BuildValue("(ON)", copy ? copy : Py_None, PyLong_FromVoidPtr(def));
    if (record == NULL || PyDict_SetItem(singles, name, record) < 0 ||
        PyState_AddModule(m, def) < 0) {
        goto error;
    }
    Py_DECREF(record);
    Py_XDECREF(copy);
    return m;
error:
    Py_XDECREF(record);
    Py_XDECREF(copy);
    Py_XDECREF(m);
    return NULL;
}
