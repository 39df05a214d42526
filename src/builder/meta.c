/* meta.c: the metadata of the distributions an executable includes (their
 * .dist-info or .egg-info directories), embedded in the meta namespace so
 * that importlib.metadata finds versions, requirements and entry points. */
#include "meta.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "archive.h"

static int
ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);

    return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* Add to names the top-level module names that one line of RECORD or
 * SOURCES.txt installs ("pkg/mod.py,sha256=...,12" gives pkg, "mod.py"
 * gives mod). */
static void
record_line_name(const char *line, struct inb_strv *names)
{
    size_t n = strcspn(line, ",/\r\n");
    char *name;

    if (line[n] == '/') {
        name = strndup(line, n);
    }
    else if (n > 3 && strncmp(line + n - 3, ".py", 3) == 0) {
        name = strndup(line, n - 3);
    }
    else if (strstr(line, ".so") != NULL && strcspn(line, ".") < n) {
        name = strndup(line, strcspn(line, "."));
    }
    else {
        return;
    }
    if (name == NULL) {
        inb_fatal("out of memory");
    }
    if (name[0] != '\0' && name[0] != '.' && !ends_with(name, ".dist-info") &&
        !ends_with(name, ".egg-info") && !inb_strv_has(names, name)) {
        inb_strv_add(names, name);
    }
    free(name);
}

/* The top-level names distribution directory dir provides: top_level.txt,
 * else the first components of RECORD. */
static void
provided_names(const char *dir, struct inb_strv *names)
{
    struct inb_buf b = {0};
    char *path = inb_xprintf("%s/top_level.txt", dir), *line, *save = NULL;
    int from_record = 0;

    if (inb_buf_readfile(&b, path) < 0) {
        free(path);
        path = inb_xprintf("%s/RECORD", dir);
        from_record = 1;
        if (inb_buf_readfile(&b, path) < 0) {
            free(path);
            return;
        }
    }
    for (line = strtok_r(b.data, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        if (from_record) {
            record_line_name(line, names);
        }
        else {
            line[strcspn(line, " \t\r")] = '\0';
            if (*line != '\0' && !inb_strv_has(names, line)) {
                inb_strv_add(names, line);
            }
        }
    }
    free(path);
    inb_buf_free(&b);
}

/* Add every regular file under dir as meta entry rel/FILE. */
static size_t
add_tree(inb_archive_writer *w, const char *dir, const char *rel, int depth)
{
    DIR *dp = opendir(dir);
    struct dirent *de;
    struct inb_buf b = {0};
    size_t total = 0;

    if (dp == NULL || depth > 4) {
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
        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
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

/* The project of distribution directory name ("Foo_Bar-1.0.dist-info"):
 * its part before the first '-' (or the suffix), lowercased, runs of '-',
 * '_' and '.' made one '_', as PEP 503 compares names.  malloc'd. */
static char *
project_of(const char *name)
{
    size_t n = strcspn(name, "-"), i, o = 0;
    char *out = inb_xmalloc(n + 1);

    if (name[n] == '\0') {
        n = (size_t)(strrchr(name, '.') - name);
    }
    for (i = 0; i < n; i++) {
        char ch = name[i];

        if (ch == '-' || ch == '_' || ch == '.') {
            if (o > 0 && out[o - 1] != '_') {
                out[o++] = '_';
            }
        }
        else {
            out[o++] = (char)(ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch);
        }
    }
    out[o] = '\0';
    return out;
}

size_t
inb_meta_add(inb_archive_writer *w, const struct inb_collect *c)
{
    struct inb_strv wanted = {0}, projects = {0};
    size_t i, j, k, total = 0;

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
    /* Roots in search order: a project's first distribution is the one of
     * the copy the build took, as for its packages.  Several projects may
     * provide one name: portions of a namespace package. */
    for (i = 0; i < c->roots.n && wanted.n > 0; i++) {
        DIR *dp = opendir(c->roots.v[i]);
        struct dirent *de;
        struct inb_strv dists = {0};

        if (dp == NULL) {
            continue;
        }
        while ((de = readdir(dp)) != NULL) {
            if (ends_with(de->d_name, ".dist-info") ||
                ends_with(de->d_name, ".egg-info")) {
                inb_strv_add(&dists, de->d_name);
            }
        }
        closedir(dp);
        inb_strv_sort(&dists);
        for (j = 0; j < dists.n; j++) {
            char *dir = inb_xprintf("%s/%s", c->roots.v[i], dists.v[j]);
            char *project = project_of(dists.v[j]);
            struct inb_strv names = {0};
            int take = 0;
            struct stat st;

            if (!inb_strv_has(&projects, project) && stat(dir, &st) == 0 &&
                S_ISDIR(st.st_mode)) {
                provided_names(dir, &names);
            }
            for (k = 0; k < names.n; k++) {
                take |= inb_strv_has(&wanted, names.v[k]);
            }
            if (take) {
                inb_strv_add(&projects, project);
                inb_note("metadata %s", dir);
                total += add_tree(w, dir, dists.v[j], 0);
            }
            inb_strv_free(&names);
            free(project);
            free(dir);
        }
        inb_strv_free(&dists);
    }
    inb_strv_free(&projects);
    inb_strv_free(&wanted);
    return total;
}
