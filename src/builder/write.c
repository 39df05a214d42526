/* write.c: lay out the archive of an executable: every collected module
 * compiled (through the build cache) or its shared object embedded, the
 * runtime's support module, sources, data files, metadata, the built-in
 * extensions' entries and the build's configuration. */
#include "write.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "compile.h"
#include "data.h"
#include "lint.h"
#include "meta.h"
#include "shlib.h"
#include "target.h"
#include "util.h"

/* Add the shared object of m, which defines no init function of its name,
 * as the plain library it is (a package loads it with ctypes): the data
 * entry "pkg/sub/libfoo.so" (m->relname), unless an --exclude-data pattern
 * matches that name.  Returns the bytes added. */
static size_t
add_plain_library(inb_archive_writer *w, const struct inb_module *m,
                  const struct inb_strv *exclude_data)
{
    if (inb_data_excluded(exclude_data, m->relname)) {
        return 0;
    }
    inb_note("%s: not an extension module (no PyInit_%s): embedded as the "
             "shared library %s",
             m->path, strrchr(m->name, '.') + 1, m->relname);
    return inb_shlib_add_library(w, m->relname, m->path);
}

/* Compile module m with optimization level optimize into code (appended),
 * reusing the build cache's bytecode for the same source (not read when
 * its fingerprint is known), name, level and compiler.  Returns 0, or -1
 * after reporting the error. */
static int
compile_module(const struct inb_module *m, int optimize, struct inb_buf *code)
{
    struct inb_buf src = {0};
    struct inb_cache_key k;
    int rc;

    inb_compile_key(&k, m->relname, optimize);
    rc = inb_cache_get_file(&k, m->path, code, &src);
    if (rc < 0) {
        /* The server reports why it cannot be read. */
        rc = inb_compile_file(m->path, m->relname, optimize, code);
    }
    else if (rc == 0) {
        rc = inb_compile_source(src.data ? src.data : "", src.len, m->path,
                                m->relname, optimize, code);
        if (rc == 0) {
            inb_cache_put(&k, code->data, code->len);
        }
    }
    else {
        rc = 0;
    }
    inb_buf_free(&src);
    return rc;
}

/* Compile every module into the archive writer.  Returns the number of
 * files that failed to compile (each reported). */
static int
add_modules(inb_archive_writer *w, const struct inb_collect *c, int optimize,
            const struct inb_exts *exts, const struct inb_strv *exclude_data,
            size_t *bytes)
{
    struct inb_buf code = {0};
    size_t i;
    int failures = 0;

    for (i = 0; i < c->n; i++) {
        const struct inb_module *m = &c->mods[i];
        const char *data = NULL;
        size_t size = 0;
        char *reason = NULL;

        if (inb_ext_find(exts, m->name) != NULL) {
            inb_note("%s: the built-in extension replaces %s", m->name,
                     m->path ? m->path : "a namespace package");
            continue;
        }
        if (m->kind == INB_KIND_MODULE || m->kind == INB_KIND_PACKAGE) {
            code.len = 0;
            if (compile_module(m, optimize, &code) < 0) {
                failures++;
                continue;
            }
            data = code.data;
            size = code.len;
        }
        else if (m->kind == INB_KIND_SHARED_EXT) {
            /* In a package, a .so without the init function of its name is
             * a library, unless --include named it as a module. */
            if (strchr(m->name, '.') != NULL &&
                !inb_strv_has(&c->included, m->name) &&
                !inb_shlib_is_extension(m->name, m->path)) {
                *bytes += add_plain_library(w, m, exclude_data);
            }
            else {
                *bytes += inb_shlib_add_extension(w, m->name, m->path);
            }
            continue;
        }
        else if (m->kind == INB_KIND_EXT_ABSENT) {
            const char *base = strrchr(m->path, '/');

            reason = inb_xprintf("%s is a helper of CPython's test suite, "
                                 "left out with the tests",
                                 base ? base + 1 : m->path);
            data = reason;
            size = strlen(reason);
        }
        *bytes += size;
        if (inb_archive_writer_add(w, INB_NS_MODULE, m->kind, 0, m->name,
                                   strlen(m->name), data, size) < 0) {
            inb_fatal("out of memory adding %s to the archive", m->name);
        }
        free(reason);
    }
    inb_buf_free(&code);
    return failures;
}

/* Add the built-in extensions to w, with a namespace package for each
 * parent that no --include brought. */
static void
add_extensions(inb_archive_writer *w, const struct inb_collect *c,
               const struct inb_exts *exts)
{
    struct inb_strv parents = {0};
    size_t i;

    inb_ext_add_entries(exts, w);
    for (i = 0; i < exts->n; i++) {
        char *parent = inb_xstrdup(exts->v[i].name), *dot;

        while ((dot = strrchr(parent, '.')) != NULL) {
            *dot = '\0';
            if (inb_collect_find(c, parent) != NULL ||
                inb_strv_has(&parents, parent)) {
                continue;
            }
            inb_strv_add(&parents, parent);
            if (inb_archive_writer_add(w, INB_NS_MODULE, INB_KIND_NAMESPACE, 0,
                                       parent, strlen(parent), NULL, 0) < 0) {
                inb_fatal("out of memory");
            }
        }
        free(parent);
    }
    inb_strv_free(&parents);
}

static void
add_config(inb_archive_writer *w, const char *key, const char *value)
{
    if (inb_archive_writer_add(w, INB_NS_CONFIG, INB_KIND_BLOB, 0, key,
                               strlen(key), value, strlen(value)) < 0) {
        inb_fatal("out of memory");
    }
}

/* Record SOURCE_DATE_EPOCH, when set, as the modification time of every
 * file of the executable's virtual tree (otherwise the runtime takes the
 * executable's own: the archive stays the same for the same inputs, as
 * the build cache needs). */
static void
add_build_time(inb_archive_writer *w)
{
    const char *epoch = getenv("SOURCE_DATE_EPOCH");
    char *end;
    long long t;

    if (epoch == NULL || *epoch == '\0') {
        return;
    }
    errno = 0;
    t = strtoll(epoch, &end, 10);
    if (errno != 0 || *end != '\0' || t < 0) {
        inb_fatal("SOURCE_DATE_EPOCH=%s is not a number of seconds", epoch);
    }
    add_config(w, "build_time", epoch);
}

void
inb_write_archive(const struct inb_archive_plan *p, unsigned char **archive,
                  size_t *size, struct inb_archive_sizes *sizes)
{
    inb_archive_writer *w;
    char err[256];
    size_t i;
    int failures;

    inb_compile_init(p->python, inb_py->magic, inb_py->hexversion);
    w = inb_archive_writer_new(inb_compile_magic(), inb_compile_version());
    if (w == NULL) {
        inb_fatal("out of memory");
    }
    inb_lint_file_reads(p->c);
    inb_step_done("lint");
    failures = add_modules(w, p->c, p->optimize, p->exts, p->exclude_data,
                           &sizes->bytes);
    if (failures > 0) {
        inb_fatal("%d file%s failed to compile; nothing was written to %s",
                  failures, failures == 1 ? "" : "s", p->output);
    }
    inb_step_done("compile and shared objects");
    for (i = 0; i < p->c->n; i++) {
        sizes->nmods += p->c->mods[i].kind != INB_KIND_EXT_ABSENT;
    }
    inb_data_add_support(w, p->optimize, p->source);
    if (p->source) {
        sizes->extra += inb_data_add_sources(w, p->c);
    }
    inb_step_done("support and sources");
    sizes->extra += inb_data_add_files(w, p->c, p->exclude_data);
    inb_step_done("sources and data");
    sizes->extra += inb_meta_add(w, p->c, p->python);
    inb_step_done("metadata");
    if (p->entry != NULL) {
        add_config(w, "entry", p->entry);
    }
    if (p->allow_filesystem) {
        add_config(w, "allow_filesystem", "1");
    }
    if (p->so_mode != NULL) {
        add_config(w, "so_mode", p->so_mode);
    }
    add_build_time(w);
    add_extensions(w, p->c, p->exts);
    sizes->nmods += p->exts->n;
    if (inb_archive_writer_finish(w, archive, size, err, sizeof(err)) < 0) {
        inb_fatal("cannot lay out the archive: %s", err);
    }
    inb_archive_writer_free(w);
    inb_compile_fini();
    inb_step_done("archive layout");
}
