/* embed_calls.c: the in-situ call overhead that bench/embed.py measures:
 * a host starts CPython, imports insitu (tests/fixtures/pkgs) and times
 * batches of 1,000 calls of insitu.noop(x) from C.  Prints the median and
 * the minimum of BATCHES batches, in seconds per 1,000 calls.
 *
 *   cc embed_calls.c $(pkg-config --cflags --libs libinsitu)   (inbuilt)
 *   cc -DSTOCK embed_calls.c $(python3.11-config --cflags --ldflags --embed)
 */
#include <Python.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#ifndef STOCK
#include "inbuilt.h"
#endif

#define CALLS 1000
#define BATCHES 201

static double
now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
compare(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

int
main(void)
{
    static double batch[BATCHES];
    PyObject *mod, *noop, *arg, *res;
    int b, i;

#ifdef STOCK
    Py_InitializeEx(0);
#else
    if (inb_initialize(NULL) != INB_OK) {
        fprintf(stderr, "embed_calls: %s\n", inb_last_error());
        return 1;
    }
#endif
    mod = PyImport_ImportModule("insitu");
    noop = mod ? PyObject_GetAttrString(mod, "noop") : NULL;
    arg = PyLong_FromLong(7);
    if (noop == NULL || arg == NULL) {
        PyErr_Print();
        return 1;
    }
    for (b = 0; b < BATCHES; b++) {
        double t0 = now();

        for (i = 0; i < CALLS; i++) {
            res = PyObject_CallOneArg(noop, arg);
            if (res == NULL) {
                PyErr_Print();
                return 1;
            }
            Py_DECREF(res);
        }
        batch[b] = now() - t0;
    }
    qsort(batch, BATCHES, sizeof(double), compare);
    printf("%.9f %.9f\n", batch[BATCHES / 2], batch[0]);
    Py_DECREF(arg);
    Py_DECREF(noop);
    Py_DECREF(mod);
#ifdef STOCK
    return Py_FinalizeEx() < 0;
#else
    return inb_finalize() != INB_OK;
#endif
}
