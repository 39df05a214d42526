/* data.c: what the archive carries besides code: each module's source
 * (namespace source, zlib-compressed), the data files of the packages
 * (namespace data), and the runtime's Python half, _inbuilt_support. */
#include "data.h"

#include <dirent.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "archive.h"
#include "cache.h"
#include "compile.h"
#include "records.h"
#include "shlib.h"

/* The text of src/runtime/loader.py, generated into the build directory
 * by the Makefile. */
extern const char inb_loader_py[];
extern const size_t inb_loader_py_len;

/* One data file found: its name in the archive and its path on disk. */
struct found {
    char *rel;
    char *path;
    size_t order;
};

/* The data files found so far. */
struct datawalk {
    const struct inb_collect *c;
    const struct inb_strv *excludes; /* --exclude-data patterns */
    struct found *v;
    size_t n, cap;
};

static void
add_entry(inb_archive_writer *w, int ns, const char *name, const void *data,
          size_t size)
{
    if (inb_archive_writer_add(w, ns, INB_KIND_BLOB, 0, name, strlen(name),
                               data, size) < 0) {
        inb_fatal("out of memory adding %s:%s to the archive",
                  inb_archive_ns_name(ns), name);
    }
}

/* A malloc'd source entry (a source record, src/common/records.h) for
 * the file at path, or for text[0..len) when path is NULL, from the build
 * cache when it has one for the same bytes (the file is then not read
 * when its fingerprint is known); *size is the entry's size.  Exits on
 * failure.  zlib's default level: the stdlib's 10.7 MB of sources take
 * 0.22 s and 2.71 MB at it, 0.84 s and 2.69 MB at its best. */
static unsigned char *
source_entry(const char *path, const char *text, size_t len, size_t *size)
{
    struct inb_cache_key k;
    struct inb_buf hit = {0}, src = {0};
    uLongf zlen;
    unsigned char *z;
    int found;

    inb_cache_key_start(&k, "source");
    inb_cache_key_str(&k, zlibVersion());
    if (path != NULL) {
        found = inb_cache_get_file(&k, path, &hit, &src);
        if (found < 0) {
            inb_fatal("cannot read %s:", path);
        }
        text = src.data ? src.data : "";
        len = src.len;
    }
    else {
        inb_cache_key_digest(&k, text, len);
        found = inb_cache_get(&k, &hit);
    }
    if (found) {
        *size = hit.len;
        return (unsigned char *)hit.data;
    }
    if (len > UINT32_MAX) {
        inb_fatal("source larger than 4 GB");
    }
    zlen = compressBound((uLong)len);
    z = inb_xmalloc(INB_SOURCE_HEADER_SIZE + zlen);
    inb_record_source_header(z, (uint32_t)len);
    if (compress2(z + INB_SOURCE_HEADER_SIZE, &zlen, (const Bytef *)text,
                  (uLong)len, Z_DEFAULT_COMPRESSION) != Z_OK) {
        inb_fatal("zlib cannot compress source");
    }
    *size = INB_SOURCE_HEADER_SIZE + zlen;
    inb_cache_put(&k, z, *size);
    inb_buf_free(&src);
    return z;
}

size_t
inb_data_add_sources(inb_archive_writer *w, const struct inb_collect *c)
{
    unsigned char *z;
    size_t i, size, total = 0;

    for (i = 0; i < c->n; i++) {
        const struct inb_module *m = &c->mods[i];

        if (m->kind != INB_KIND_MODULE && m->kind != INB_KIND_PACKAGE) {
            continue;
        }
        z = source_entry(m->path, NULL, 0, &size);
        add_entry(w, INB_NS_SOURCE, m->name, z, size);
        free(z);
        total += size;
    }
    return total;
}

void
inb_data_add_support(inb_archive_writer *w, int optimize, int with_source)
{
    struct inb_buf code = {0};
    unsigned char *z;
    size_t size;

    if (inb_compile_cached(inb_loader_py, inb_loader_py_len,
                           "src/runtime/loader.py", INB_SUPPORT_MODULE ".py",
                           optimize, &code) < 0) {
        inb_fatal("cannot compile the runtime's support module");
    }
    if (inb_archive_writer_add(w, INB_NS_MODULE, INB_KIND_MODULE, 0,
                               INB_SUPPORT_MODULE, strlen(INB_SUPPORT_MODULE),
                               code.data, code.len) < 0) {
        inb_fatal("out of memory");
    }
    inb_buf_free(&code);
    if (with_source) {
        z = source_entry(NULL, inb_loader_py, inb_loader_py_len, &size);
        add_entry(w, INB_NS_SOURCE, INB_SUPPORT_MODULE, z, size);
        free(z);
    }
}

static int
compare_found(const void *a, const void *b)
{
    const struct found *x = a, *y = b;
    int d = strcmp(x->rel, y->rel);

    if (d != 0) {
        return d;
    }
    return x->order < y->order ? -1 : x->order > y->order;
}

/* Whether file f of a package directory is code, not data: Python source
 * and bytecode, and shared objects (extension modules and the libraries
 * they bring, which shlib.c embeds as needed). */
static int
is_code_file(const char *f)
{
    return inb_ends_with(f, ".py") || inb_ends_with(f, ".pyc") ||
           inb_ends_with(f, ".pyo") || inb_ends_with(f, ".so") ||
           strstr(f, ".so.") != NULL;
}

int
inb_data_excluded(const struct inb_strv *excludes, const char *rel)
{
    size_t i;

    for (i = 0; i < excludes->n; i++) {
        if (fnmatch(excludes->v[i], rel, 0) == 0) {
            inb_note("data %s left out (--exclude-data %s)", rel,
                     excludes->v[i]);
            return 1;
        }
    }
    return 0;
}

static void
found_add(struct datawalk *d, const char *rel, const char *path)
{
    if (inb_data_excluded(d->excludes, rel)) {
        return;
    }
    if (d->n == d->cap) {
        d->cap = d->cap ? 2 * d->cap : 64;
        d->v = inb_xrealloc(d->v, d->cap * sizeof(*d->v));
    }
    d->v[d->n].rel = inb_xstrdup(rel);
    d->v[d->n].path = inb_xstrdup(path);
    d->v[d->n].order = d->n;
    d->n++;
}

/* Add the data files under dir, whose name in the archive is rel
 * ("pkg/sub").  dotted is the package dir stands for ("pkg.sub"), or NULL
 * for a directory of plain data inside a package, where every file is
 * data.  Subdirectories that are packages are walked when the collection
 * kept them (and only the portion it took), skipped when it dropped them. */
static void
walk(struct datawalk *d, const char *dir, const char *rel, const char *dotted,
     int depth)
{
    DIR *dp;
    struct dirent *de;
    struct inb_strv names = {0};
    size_t i;

    if (depth > INB_MAX_DIR_DEPTH || (dp = opendir(dir)) == NULL) {
        return;
    }
    while ((de = readdir(dp)) != NULL) {
        if (de->d_name[0] != '.' && strcmp(de->d_name, "__pycache__") != 0) {
            inb_strv_add(&names, de->d_name);
        }
    }
    closedir(dp);
    inb_strv_sort(&names);
    for (i = 0; i < names.n; i++) {
        const char *f = names.v[i];
        char *path = inb_xprintf("%s/%s", dir, f);
        char *subrel = inb_xprintf("%s/%s", rel, f);
        struct stat st;

        if (stat(path, &st) < 0) {
            /* a dangling link: nothing to embed */
        }
        else if (S_ISREG(st.st_mode)) {
            if (dotted == NULL ? !inb_ends_with(f, ".pyc")
                               : !is_code_file(f)) {
                found_add(d, subrel, path);
            }
        }
        else if (S_ISDIR(st.st_mode)) {
            char *sub = dotted != NULL && inb_is_identifier(f, strlen(f))
                            ? inb_xprintf("%s.%s", dotted, f)
                            : NULL;
            const struct inb_module *m =
                sub != NULL ? inb_collect_find(d->c, sub) : NULL;
            char *init = inb_xprintf("%s/__init__.py", path);

            if (m != NULL && m->kind == INB_KIND_NAMESPACE) {
                walk(d, path, subrel, sub, depth + 1);
            }
            else if (m != NULL && m->kind == INB_KIND_PACKAGE) {
                /* The package may have come from another root. */
                if (strcmp(m->path, init) == 0) {
                    walk(d, path, subrel, sub, depth + 1);
                }
            }
            else if (sub == NULL || (stat(init, &st) < 0 &&
                                     !inb_collect_excluded(d->c, sub))) {
                walk(d, path, subrel, NULL, depth + 1);
            }
            free(init);
            free(sub);
        }
        free(subrel);
        free(path);
    }
    inb_strv_free(&names);
}

size_t
inb_data_add_files(inb_archive_writer *w, const struct inb_collect *c,
                   const struct inb_strv *excludes)
{
    struct datawalk d = {.c = c, .excludes = excludes};
    struct inb_buf buf = {0};
    size_t i, j, total = 0;

    for (i = 0; i < c->n; i++) {
        const struct inb_module *m = &c->mods[i];

        if (strchr(m->name, '.') != NULL) {
            continue;
        }
        if (m->kind == INB_KIND_PACKAGE) {
            char *dir = inb_xstrdup(m->path);

            *strrchr(dir, '/') = '\0';
            walk(&d, dir, m->name, m->name, 0);
            free(dir);
        }
        else if (m->kind == INB_KIND_NAMESPACE) {
            for (j = 0; j < c->roots.n; j++) {
                char *dir = inb_xprintf("%s/%s", c->roots.v[j], m->name);

                walk(&d, dir, m->name, m->name, 0);
                free(dir);
            }
        }
    }
    if (d.n > 0) {
        qsort(d.v, d.n, sizeof(*d.v), compare_found);
    }
    /* The first portion that has a file wins, as for modules.  A shared
     * library for this machine (in a plain directory of a package:
     * pkg/lib/libfoo.so) becomes a shared-object record, so that ctypes
     * can load it from memory with what it needs. */
    for (i = 0; i < d.n; i++) {
        if (i == 0 || strcmp(d.v[i].rel, d.v[i - 1].rel) != 0) {
            const char *base = strrchr(d.v[i].rel, '/');

            base = base != NULL ? base + 1 : d.v[i].rel;
            if ((inb_ends_with(base, ".so") || strstr(base, ".so.") != NULL) &&
                inb_shlib_is_library(d.v[i].path)) {
                inb_note("data %s: a shared library, loadable from memory",
                         d.v[i].rel);
                total += inb_shlib_add_library(w, d.v[i].rel, d.v[i].path);
                continue;
            }
            buf.len = 0;
            if (inb_buf_readfile(&buf, d.v[i].path) < 0) {
                inb_fatal("cannot read data file %s:", d.v[i].path);
            }
            add_entry(w, INB_NS_DATA, d.v[i].rel, buf.data, buf.len);
            total += buf.len;
        }
    }
    for (i = 0; i < d.n; i++) {
        free(d.v[i].rel);
        free(d.v[i].path);
    }
    free(d.v);
    inb_buf_free(&buf);
    return total;
}
