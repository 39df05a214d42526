/* errors.h: the one place where the runtime's failures become Python
 * exceptions (STYLE.md): the pure-C layers (archive, records, memso)
 * return a status and a reason, and the CPython-facing files (finder,
 * resources, builtin) pass it here with the name it concerns. */
#ifndef INB_ERRORS_H
#define INB_ERRORS_H

#include <Python.h>

#include "inb.h"

/* Why an import or a read failed. */
enum inb_failure {
    INB_FAIL_NOT_FOUND,      /* no such module in the archive */
    INB_FAIL_ABSENT_EXT,     /* an extension module that is not built in;
                                detail: the recorded reason */
    INB_FAIL_CORRUPT,        /* the entry's data does not unmarshal (the
                                pending exception becomes the cause) */
    INB_FAIL_NOT_CODE,       /* the entry unmarshals to something else */
    INB_FAIL_UNSUPPORTED,    /* an entry kind this runtime cannot load */
    INB_FAIL_LOAD,           /* an extension could not be loaded; detail */
    INB_FAIL_DAMAGED,        /* inb_archive_data() refused a module's entry;
                                detail: its message */
    INB_FAIL_CORRUPT_SOURCE, /* a module's source entry; detail: why */
    INB_FAIL_CORRUPT_DATA,   /* a data entry (name: its path); detail: why */
    INB_FAIL_LOAD_FILE,      /* a shared object of the virtual tree (name:
                                its path) could not be loaded; detail */
    INB_FAIL_NOT_IN_TABLE,   /* a builtin-ext entry that does not match the
                                table of init functions */
    INB_FAIL_DAMAGED_FILE,   /* inb_archive_data() refused a file's entry:
                                OSError(EIO, detail) */
};

/* Set the exception for failure f concerning name (a str: a module name,
 * or a path of the virtual tree) and return NULL.  detail: UTF-8 text,
 * detail_len bytes (not NUL-terminated) for INB_FAIL_ABSENT_EXT and
 * INB_FAIL_LOAD, NUL-terminated otherwise; NULL where the kind takes
 * none.  An ImportError carries name as its name attribute. */
INB_HIDDEN PyObject *inb_error_raise(enum inb_failure f, PyObject *name,
                                     const char *detail, size_t detail_len);

#endif
