/* tree.c: the archive and the virtual root, held once for the process
 * (tree.h).  The pure-C part is safe in a signal handler and in fork()'s
 * child; the str is for the CPython-facing files. */
#include <Python.h>

#include "tree.h"

#include <limits.h>
#include <string.h>

static const inb_archive
    *the_archive; /* borrowed: lives as long as the process */
static char root[PATH_MAX];
static size_t rootlen;
static PyObject *root_str; /* str: root, once made; never released */

int
inb_tree_set(const inb_archive *a, const char *path)
{
    size_t len = strlen(path);

    the_archive = a;
    if (len == 0 || len >= sizeof(root) || path[0] != '/') {
        return -1;
    }
    memcpy(root, path, len + 1);
    rootlen = len;
    return 0;
}

const inb_archive *
inb_tree_archive(void)
{
    return the_archive;
}

const char *
inb_tree_root(size_t *len)
{
    *len = rootlen;
    return root;
}

PyObject *
inb_tree_root_str(void)
{
    if (root_str == NULL) {
        /* UTF-8 mode (startup.c): what Py_DecodeLocale() gave
         * sys.executable, even before the codecs are ready. */
        root_str =
            PyUnicode_DecodeUTF8(root, (Py_ssize_t)rootlen, "surrogateescape");
    }
    return root_str;
}

PyObject *
inb_tree_path(const char *rel, size_t len)
{
    PyObject *top = inb_tree_root_str(), *tail, *res; /* top: borrowed */

    if (top == NULL) {
        return NULL;
    }
    if (len == 0) {
        return Py_NewRef(top);
    }
    tail = PyUnicode_DecodeUTF8(rel, (Py_ssize_t)len, "surrogateescape");
    if (tail == NULL) {
        return NULL;
    }
    res = PyUnicode_FromFormat("%U/%U", top, tail);
    Py_DECREF(tail);
    return res;
}
