/* modpath.c: a module's dotted name and its file or directory (the rule
 * is stated in modpath.h), for the builder (collect.c: the name each
 * module's bytecode is compiled with) and the runtime (vpath.c: __file__,
 * __path__, co_filename and the virtual tree's listings). */
#define _GNU_SOURCE /* memrchr */
#include "modpath.h"

#include <string.h>

#include "archive.h"

/* Write s[0..n) at out + at when it fits (dots turned into slashes when
 * dotted); returns at + n. */
static size_t
put(char *out, size_t outsize, size_t at, const char *s, size_t n, int dotted)
{
    size_t i;

    if (at + n < outsize) {
        for (i = 0; i < n; i++) {
            out[at + i] = dotted && s[i] == '.' ? '/' : s[i];
        }
    }
    return at + n;
}

size_t
inb_modpath_file(const char *name, size_t len, int kind, const char *so_name,
                 char *out, size_t outsize)
{
    const char *dot;
    size_t n;

    if (kind == INB_KIND_SHARED_EXT && so_name != NULL) {
        /* The .so's own name, in its package's directory. */
        dot = len > 0 ? memrchr(name, '.', len) : NULL;
        n = dot != NULL ? (size_t)(dot - name) : 0;
        n = put(out, outsize, 0, name, n, 1);
        if (dot != NULL) {
            n = put(out, outsize, n, "/", 1, 0);
        }
        n = put(out, outsize, n, so_name, strlen(so_name), 0);
    }
    else {
        n = put(out, outsize, 0, name, len, 1);
        if (kind == INB_KIND_PACKAGE) {
            n = put(out, outsize, n, "/__init__.py", 12, 0);
        }
        else if (kind != INB_KIND_NAMESPACE) {
            n = put(out, outsize, n, ".py", 3, 0);
        }
    }
    if (n < outsize) {
        out[n] = '\0';
    }
    return n;
}

size_t
inb_modpath_dir(const char *name, size_t len, char *out, size_t outsize)
{
    return inb_modpath_file(name, len, INB_KIND_NAMESPACE, NULL, out, outsize);
}

int
inb_modpath_name(const char *rel, size_t len, char *out, size_t outsize)
{
    size_t i;

    if (len == 0 || len > outsize || memchr(rel, '.', len) != NULL ||
        rel[0] == '/' || rel[len - 1] == '/') {
        return -1;
    }
    for (i = 0; i < len; i++) {
        if (rel[i] == '/' && rel[i + 1] == '/') {
            return -1;
        }
        out[i] = rel[i] == '/' ? '.' : rel[i];
    }
    return 0;
}

long
inb_modpath_of_source(const char *rel, size_t len, char *out, size_t outsize,
                      int *kind)
{
    static const char init[] = "/__init__";
    const size_t init_len = sizeof(init) - 1;
    size_t stem;

    if (len < 4 || memcmp(rel + len - 3, ".py", 3) != 0) {
        return -1;
    }
    stem = len - 3;
    *kind = INB_KIND_MODULE;
    if (stem > init_len &&
        memcmp(rel + stem - init_len, init, init_len) == 0) {
        stem -= init_len;
        *kind = INB_KIND_PACKAGE;
    }
    if (inb_modpath_name(rel, stem, out, outsize) < 0) {
        return -1;
    }
    return (long)stem;
}
