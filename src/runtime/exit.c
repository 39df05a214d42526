/* exit.c: a cheaper end of the interpreter, with the same visible effects.
 *
 * At exit CPython collects garbage three times over every object (before
 * and while it clears the modules): for the import set of
 * bench/measure.py that is a fifth of the process's time.  What those
 * collections can do that a program sees is run code (finalizers: __del__,
 * a C type's tp_finalize or tp_del; weakref callbacks; gc.callbacks) and
 * write data (a buffered file flushed by its finalizer).  Objects that
 * reference counting frees while the modules are cleared are freed either
 * way; only reference cycles need the collector.
 *
 * So the last atexit callback (registered before the program runs, so
 * after every one the program registers) looks at every object the
 * collector tracks.  When none has a finalizer (but the standard streams,
 * which finalization flushes by name, and closed files), no weakref has a
 * callback (but those with which the stdlib's weak containers, abc and
 * threading.local forget dead entries), and gc has no callbacks and no
 * debug flags, no collection could run code or write data: it gc.freeze()s
 * them all, and the collections at exit only see what finalization itself
 * creates.  Otherwise nothing changes.  INBUILT_FULL_EXIT=1 turns this off;
 * INBUILT_EXIT_REPORT=1 says on stderr which way an exit went, and why.
 *
 * What differs: reference cycles alive at exit are not freed, so the
 * tp_dealloc of a C object in such a cycle (one without a finalizer) does
 * not run; the process ends right after, which frees their memory and
 * closes their descriptors.
 */
#define PY_SSIZE_T_CLEAN
#include "exit.h"

#include <stdlib.h>
#include <string.h>

/* The objects of the standard streams (sys.stdin ... sys.__stderr__, their
 * buffers and raw files), borrowed; finalization flushes them itself. */
#define MAX_STREAMS 18

/* Slots of freeze_at_exit()'s cache of types whose objects are quiet. */
#define QUIET_TYPES 256

/* Fill streams with the standard stream objects; returns how many. */
static int
std_streams(PyObject **streams)
{
    static const char *const names[] = {
        "stdin", "stdout", "stderr", "__stdin__", "__stdout__", "__stderr__"};
    int n = 0;
    size_t i;

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        PyObject *s = PySys_GetObject(names[i]); /* borrowed */
        PyObject *buffer, *raw;

        if (s == NULL || s == Py_None) {
            continue;
        }
        streams[n++] = s;
        buffer = PyObject_GetAttrString(s, "buffer");
        if (buffer == NULL) {
            PyErr_Clear();
            continue;
        }
        streams[n++] = buffer; /* s keeps it alive, and it raw */
        raw = PyObject_GetAttrString(buffer, "raw");
        Py_DECREF(buffer);
        if (raw == NULL) {
            PyErr_Clear();
            continue;
        }
        streams[n++] = raw;
        Py_DECREF(raw);
    }
    return n;
}

/* Whether o is an object of the io module that finalizing cannot change:
 * one of the streams, or a closed file. */
static int
quiet_io(PyObject *o, PyObject **streams, int nstreams)
{
    PyObject *closed;
    int i, yes;

    for (i = 0; i < nstreams; i++) {
        if (o == streams[i]) {
            return 1;
        }
    }
    if (strncmp(Py_TYPE(o)->tp_name, "_io.", 4) != 0) {
        return 0;
    }
    if (strcmp(Py_TYPE(o)->tp_name, "_io.BytesIO") == 0 ||
        strcmp(Py_TYPE(o)->tp_name, "_io.StringIO") == 0) {
        return 1; /* in memory: closing writes nothing */
    }
    closed = PyObject_GetAttrString(o, "closed");
    if (closed == NULL) {
        PyErr_Clear();
        return 0;
    }
    yes = closed == Py_True;
    Py_DECREF(closed);
    return yes;
}

/* Whether calling weakref callback cb only forgets a dead entry of a
 * stdlib weak container (weakref, _weakrefset, logging's handler list, the
 * C ones of abc and threading.local). */
static int
quiet_callback(PyObject *cb)
{
    static const char *const py[][2] = {
        {"weakref", "WeakValueDictionary.__init__.<locals>.remove"},
        {"weakref", "WeakKeyDictionary.__init__.<locals>.remove"},
        {"_weakrefset", "WeakSet.__init__.<locals>._remove"},
        {"logging", "_removeHandlerRef"},
    };
    PyObject *module, *qualname;
    const char *m, *q;
    size_t i;
    int yes = 0;

    if (PyCFunction_Check(cb)) {
        const char *name = ((PyCFunctionObject *)cb)->m_ml->ml_name;

        return strcmp(name, "_destroy") == 0 ||
               strcmp(name, "_localdummy_destroyed") == 0;
    }
    if (!PyFunction_Check(cb)) {
        return 0;
    }
    module = ((PyFunctionObject *)cb)->func_module;
    qualname = ((PyFunctionObject *)cb)->func_qualname;
    if (module == NULL || qualname == NULL || !PyUnicode_Check(module) ||
        !PyUnicode_Check(qualname)) {
        return 0;
    }
    m = PyUnicode_AsUTF8(module);
    q = PyUnicode_AsUTF8(qualname);
    if (m == NULL || q == NULL) {
        PyErr_Clear();
        return 0;
    }
    for (i = 0; i < sizeof(py) / sizeof(py[0]) && !yes; i++) {
        yes = strcmp(m, py[i][0]) == 0 && strcmp(q, py[i][1]) == 0;
    }
    return yes;
}

/* Whether collecting o could run code or write data. */
static int
loud(PyObject *o, PyObject **streams, int nstreams)
{
    PyTypeObject *t = Py_TYPE(o);

    if (PyWeakref_Check(o)) {
        PyObject *cb = ((PyWeakReference *)o)->wr_callback;

        return cb != NULL && !quiet_callback(cb);
    }
    if (t->tp_finalize == NULL && t->tp_del == NULL) {
        return 0;
    }
    return !quiet_io(o, streams, nstreams);
}

/* Whether gc is set up as CPython starts it: no callbacks, no debug
 * flags.  -1 with an exception set on failure. */
static int
gc_plain(PyObject *gc)
{
    PyObject *callbacks = PyObject_GetAttrString(gc, "callbacks");
    PyObject *debug = NULL;
    int plain = -1;

    if (callbacks != NULL) {
        debug = PyObject_CallMethod(gc, "get_debug", NULL);
    }
    if (debug != NULL) {
        plain = PyList_Check(callbacks) && PyList_GET_SIZE(callbacks) == 0 &&
                PyLong_Check(debug) && PyLong_AsLong(debug) == 0;
    }
    Py_XDECREF(callbacks);
    Py_XDECREF(debug);
    return plain;
}

/* freeze_at_exit(): new reference to None.  The atexit callback: freezes
 * every tracked object when no collection of them could be seen (above).
 * Never raises: an error leaves the exit as CPython's. */
static PyObject *
freeze_at_exit(PyObject *self, PyObject *unused)
{
    PyObject *gc = NULL, *objects = NULL, *res = NULL, *o;
    PyObject *streams[MAX_STREAMS];
    PyTypeObject *quiet_types[QUIET_TYPES] = {NULL};
    Py_ssize_t i, n = 0;
    int nstreams, plain;
    const char *full = getenv("INBUILT_FULL_EXIT");
    const char *report = getenv("INBUILT_EXIT_REPORT");
    char why[200] = "an error";

    (void)self;
    (void)unused;
    if (full != NULL && full[0] != '\0' && strcmp(full, "0") != 0) {
        snprintf(why, sizeof(why), "INBUILT_FULL_EXIT is set");
        goto done;
    }
    gc = PyImport_ImportModule("gc");
    if (gc == NULL) {
        goto done;
    }
    plain = gc_plain(gc);
    if (plain == 0) {
        snprintf(why, sizeof(why), "gc has callbacks or debug flags");
    }
    if (plain <= 0) {
        goto done;
    }
    objects = PyObject_CallMethod(gc, "get_objects", NULL);
    if (objects == NULL || !PyList_Check(objects)) {
        goto done;
    }
    nstreams = std_streams(streams);
    n = PyList_GET_SIZE(objects);
    for (i = 0; i < n; i++) {
        PyTypeObject **slot;

        o = PyList_GET_ITEM(objects, i);
        /* Most objects are of a few types: remember those whose objects
         * are all quiet (no finalizer, not weakrefs), so that the
         * weakref check's walk of the type's bases is done once a type. */
        slot = &quiet_types[((uintptr_t)Py_TYPE(o) >> 4) % QUIET_TYPES];
        if (*slot == Py_TYPE(o)) {
            continue;
        }
        if (!PyWeakref_Check(o) && Py_TYPE(o)->tp_finalize == NULL &&
            Py_TYPE(o)->tp_del == NULL) {
            *slot = Py_TYPE(o);
            continue;
        }
        if (loud(o, streams, nstreams)) {
            snprintf(why, sizeof(why), "a %.100s %s", Py_TYPE(o)->tp_name,
                     PyWeakref_Check(o) ? "with a callback"
                                        : "with a finalizer");
            goto done;
        }
    }
    Py_CLEAR(objects); /* not frozen with the rest */
    res = PyObject_CallMethod(gc, "freeze", NULL);
done:
    PyErr_Clear();
    if (report != NULL && report[0] != '\0') {
        if (res != NULL) {
            PySys_FormatStderr("inbuilt: exit: %zd objects frozen\n", n);
        }
        else {
            PySys_FormatStderr("inbuilt: exit: full collections (%s)\n", why);
        }
        PyErr_Clear();
    }
    Py_XDECREF(res);
    Py_XDECREF(objects);
    Py_XDECREF(gc);
    Py_RETURN_NONE;
}

static PyMethodDef freeze_def = {
    "_freeze_at_exit", freeze_at_exit, METH_NOARGS,
    "Freeze every object the collector tracks when collecting them at exit "
    "could not be seen (inbuilt's src/runtime/exit.c)."};

int
inb_exit_install(void)
{
    PyObject *atexit = NULL, *func = NULL, *res = NULL;

    atexit = PyImport_ImportModule("atexit");
    if (atexit != NULL) {
        func = PyCFunction_New(&freeze_def, NULL);
    }
    if (func != NULL) {
        res = PyObject_CallMethod(atexit, "register", "O", func);
    }
    Py_XDECREF(res);
    Py_XDECREF(func);
    Py_XDECREF(atexit);
    return res != NULL ? 0 : -1;
}
