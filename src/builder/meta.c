/* meta.c: the metadata of the distributions an executable includes (their
 * .dist-info or .egg-info directories), embedded in the meta namespace so
 * that importlib.metadata finds versions, requirements and entry points.
 * Which directories those are is deps.c's answer, the same mapping of
 * names to distributions that --include follows. */
#include "meta.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "archive.h"
#include "deps.h"

/* Add every regular file under dir as meta entry rel/FILE. */
static size_t
add_tree(inb_archive_writer *w, const char *dir, const char *rel, int depth)
{
    DIR *dp = opendir(dir);
    struct dirent *de;
    struct inb_buf b = {0};
    size_t total = 0;

    if (dp == NULL || depth > INB_MAX_DIR_DEPTH) {
        if (dp != NULL) {
            closedir(dp);
        }
        return 0;
    }
    while ((de = readdir(dp)) != NULL) {
        char *path, *name;
        struct stat st;

        if (de->d_name[0] == '.') {
            continue;
        }
        path = inb_xprintf("%s/%s", dir, de->d_name);
        name = inb_xprintf("%s/%s", rel, de->d_name);
        if (inb_is_dir(path)) {
            total += add_tree(w, path, name, depth + 1);
        }
        else if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
            b.len = 0;
            if (inb_buf_readfile(&b, path) < 0) {
                inb_fatal("cannot read %s:", path);
            }
            if (inb_archive_writer_add(w, INB_NS_META, INB_KIND_BLOB, 0, name,
                                       strlen(name), b.data, b.len) < 0) {
                inb_fatal("out of memory adding meta:%s", name);
            }
            total += b.len;
        }
        free(name);
        free(path);
    }
    closedir(dp);
    inb_buf_free(&b);
    return total;
}

size_t
inb_meta_add(inb_archive_writer *w, const struct inb_collect *c,
             const char *python)
{
    struct inb_strv wanted = {0}, dirs = {0};
    size_t i, total = 0;

    for (i = 0; i < c->included.n; i++) {
        char *top = strndup(c->included.v[i], strcspn(c->included.v[i], "."));

        if (top == NULL) {
            inb_fatal("out of memory");
        }
        if (!inb_strv_has(&wanted, top)) {
            inb_strv_add(&wanted, top);
        }
        free(top);
    }
    inb_deps_dist_dirs(python, &c->roots, &wanted, &dirs);
    for (i = 0; i < dirs.n; i++) {
        const char *base = strrchr(dirs.v[i], '/');

        base = base != NULL ? base + 1 : dirs.v[i];
        inb_note("metadata %s", dirs.v[i]);
        total += add_tree(w, dirs.v[i], base, 0);
    }
    inb_strv_free(&dirs);
    inb_strv_free(&wanted);
    return total;
}
