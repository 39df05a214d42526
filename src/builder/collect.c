/* collect.c: find modules on disk the way CPython's path finder would, for
 * the standard library and for each --include. */
#include "collect.h"

#include <dirent.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "archive.h"
#include "modpath.h"
#include "target.h"
#include "util.h"

/* Where the walk is: directories on the current path, to stop symlink
 * cycles. */
struct walk {
    struct inb_collect *c;
    int priority;
    int stdlib; /* drop the stdlib's test suites and GUI parts */
    dev_t devs[INB_MAX_DIR_DEPTH];
    ino_t inos[INB_MAX_DIR_DEPTH];
    int depth;
};

static int
is_file(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

void
inb_collect_exclude(struct inb_collect *c, const char *pattern)
{
    inb_strv_add(&c->excludes, pattern);
}

void
inb_collect_root(struct inb_collect *c, const char *dir)
{
    if (!inb_strv_has(&c->roots, dir)) {
        inb_strv_add(&c->roots, dir);
    }
}

int
inb_collect_excluded(const struct inb_collect *c, const char *name)
{
    char *prefix = inb_xstrdup(name);
    size_t i;
    int hit = 0;

    /* Try name, then each parent: a.b.c, a.b, a. */
    for (;;) {
        char *dot;

        for (i = 0; i < c->excludes.n && !hit; i++) {
            hit = fnmatch(c->excludes.v[i], prefix, 0) == 0;
        }
        dot = strrchr(prefix, '.');
        if (hit || dot == NULL) {
            break;
        }
        *dot = '\0';
    }
    free(prefix);
    return hit;
}

/* Whether the stdlib keeps name: not its tests, IDLE or Tk parts.  The Tk
 * part includes _tkinter, tkinter's extension module: its libraries need
 * X11's, which every executable would then link and need at start, on
 * compute nodes that have no X11 either. */
static int
stdlib_keeps(const char *name)
{
    static const char *const top[] = {"test",     "idlelib",    "tkinter",
                                      "_tkinter", "turtledemo", NULL};
    static const char *const leaf[] = {"test", "tests", "idle_test", NULL};
    const char *last = strrchr(name, '.');
    size_t i, toplen = strcspn(name, ".");

    for (i = 0; top[i] != NULL; i++) {
        if (strlen(top[i]) == toplen && strncmp(name, top[i], toplen) == 0) {
            return 0;
        }
    }
    /* Always frozen into libpython (a bootstrap module): left to CPython's
     * FrozenImporter, so that importlib's _setup() finds it as frozen. */
    if (strcmp(name, "zipimport") == 0) {
        return 0;
    }
    for (i = 0; last != NULL && leaf[i] != NULL; i++) {
        if (strcmp(last + 1, leaf[i]) == 0) {
            return 0;
        }
    }
    return 1;
}

static void
add(struct inb_collect *c, const char *name, int kind, const char *path,
    int priority)
{
    struct inb_module *m;
    const char *so_name = NULL;
    size_t len = strlen(name), n;
    char *rel;

    if (c->n == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 256;
        c->mods = inb_xrealloc(c->mods, c->cap * sizeof(*c->mods));
    }
    if (kind == INB_KIND_SHARED_EXT && path != NULL) {
        so_name = strrchr(path, '/') != NULL ? strrchr(path, '/') + 1 : path;
    }
    /* The module's file in the archive's tree (modpath.h: the runtime's
     * __file__ is the root and this name). */
    n = inb_modpath_file(name, len, kind, so_name, NULL, 0);
    rel = inb_xmalloc(n + 1);
    inb_modpath_file(name, len, kind, so_name, rel, n + 1);
    m = &c->mods[c->n];
    m->name = inb_xstrdup(name);
    m->kind = kind;
    m->path = path ? inb_xstrdup(path) : NULL;
    m->relname = rel;
    m->priority = priority;
    m->rank = 0;
    m->order = c->n++;
}

/* Whether dir holds a .py file, at any depth (a namespace portion). */
static int
has_python(const char *dir, int depth)
{
    DIR *d;
    struct dirent *de;
    int found = 0;

    if (depth > INB_MAX_DIR_DEPTH || (d = opendir(dir)) == NULL) {
        return 0;
    }
    while (!found && (de = readdir(d)) != NULL) {
        size_t n = strlen(de->d_name);
        char *sub;

        if (de->d_name[0] == '.' || strcmp(de->d_name, "__pycache__") == 0) {
            continue;
        }
        if (n > 3 && strcmp(de->d_name + n - 3, ".py") == 0) {
            found = 1;
            break;
        }
        sub = inb_xprintf("%s/%s", dir, de->d_name);
        found = inb_is_dir(sub) && has_python(sub, depth + 1);
        free(sub);
    }
    closedir(d);
    return found;
}

static int
compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names in dir but dot files, or NULL with *n = 0 when it cannot
 * be read. */
static char **
list_dir_quiet(const char *dir, size_t *n)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    struct inb_strv names = {0};

    *n = 0;
    if (d == NULL) {
        return NULL;
    }
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] != '.') {
            inb_strv_add(&names, de->d_name);
        }
    }
    closedir(d);
    if (names.n > 0) {
        qsort(names.v, names.n, sizeof(char *), compare_names);
    }
    *n = names.n;
    return names.v;
}

/* list_dir_quiet(), warning when dir cannot be read. */
static char **
list_dir(const char *dir, size_t *n)
{
    char **names = list_dir_quiet(dir, n);

    if (names == NULL && !inb_is_dir(dir)) {
        inb_warn("cannot read directory %s:", dir);
    }
    return names;
}

/* Whether name is kept: not excluded, and for the stdlib not a test
 * suite. */
static int
keeps(const struct walk *w, const char *name)
{
    return !inb_collect_excluded(w->c, name) &&
           (!w->stdlib || stdlib_keeps(name));
}

/* Whether s[0..n) names a module in a directory: an identifier in a
 * package, any file name stem at the top level (inb_is_top_name). */
static int
is_module_name(const char *s, size_t n, int top)
{
    return top ? inb_is_top_name(s, n) : inb_is_identifier(s, n);
}

/* The module name of extension file f ("_json.cpython-311-x86_64-linux-gnu.so"
 * -> "_json"), malloc'd, or NULL when f is not an extension module; top:
 * whether f is in a top-level directory (is_module_name()). */
static char *
extension_stem(const char *f, int top)
{
    size_t n = strlen(f), stem = strcspn(f, ".");

    if (n < 4 || strcmp(f + n - 3, ".so") != 0 ||
        !is_module_name(f, stem, top)) {
        return NULL;
    }
    return inb_xstrndup(f, stem);
}

/* Whether the file name f of an extension module carries a suffix the
 * linked CPython imports (x.cpython-311-...so, x.abi3.so, x.so).  A file for
 * another version ranks below, so that a matching sibling wins and a lone
 * one is reported by the builder. */
static int
suffix_rank(const char *f)
{
    size_t n = strlen(f), s = strlen(inb_py->ext_suffix);

    if ((n > s && strcmp(f + n - s, inb_py->ext_suffix) == 0) ||
        (n > 8 && strcmp(f + n - 8, ".abi3.so") == 0) ||
        strchr(f, '.') == f + n - 3) {
        return 0;
    }
    return 1;
}

/* Whether stdlib extension name is a helper of CPython's test suite. */
static int
is_test_helper(const char *name)
{
    return strncmp(name, "_test", 5) == 0 ||
           strncmp(name, "_xxtest", 7) == 0 ||
           strncmp(name, "xxlimited", 9) == 0 ||
           strcmp(name, "_ctypes_test") == 0;
}

static void
record_extension(struct walk *w, const char *name, const char *path)
{
    const char *base = strrchr(path, '/');

    if (w->stdlib && is_test_helper(name)) {
        /* Left out with the test suites; an import says why. */
        add(w->c, name, INB_KIND_EXT_ABSENT, path, w->priority);
        return;
    }
    add(w->c, name, INB_KIND_SHARED_EXT, path, w->priority);
    w->c->mods[w->c->n - 1].rank = suffix_rank(base ? base + 1 : path);
}

/* Add the modules in dir, a package (or namespace portion) named prefix,
 * or the stdlib's top level when prefix is "".  A subdirectory without
 * __init__.py is a namespace package when allow_namespace and it holds
 * Python files. */
static void
walk_dir(struct walk *w, const char *dir, const char *prefix,
         int allow_namespace)
{
    struct stat st;
    size_t n, i;
    char **names;

    if (stat(dir, &st) < 0) {
        return;
    }
    for (i = 0; i < (size_t)w->depth; i++) {
        if (w->devs[i] == st.st_dev && w->inos[i] == st.st_ino) {
            return; /* a symlink back to an ancestor */
        }
    }
    if (w->depth == INB_MAX_DIR_DEPTH) {
        inb_warn("%s: directories nested too deeply, not walked", dir);
        return;
    }
    w->devs[w->depth] = st.st_dev;
    w->inos[w->depth] = st.st_ino;
    w->depth++;
    names = list_dir(dir, &n);
    for (i = 0; i < n; i++) {
        const char *f = names[i];
        size_t len = strlen(f);
        char *path = inb_xprintf("%s/%s", dir, f), *name = NULL, *stem;

        if (len > 3 && strcmp(f + len - 3, ".py") == 0 &&
            is_module_name(f, len - 3, *prefix == '\0') &&
            strcmp(f, "__init__.py") != 0) {
            name = inb_xprintf("%s%s%.*s", prefix, *prefix ? "." : "",
                               (int)(len - 3), f);
            if (keeps(w, name) && is_file(path)) {
                add(w->c, name, INB_KIND_MODULE, path, w->priority);
            }
        }
        else if ((stem = extension_stem(f, *prefix == '\0')) != NULL) {
            name = inb_xprintf("%s%s%s", prefix, *prefix ? "." : "", stem);
            free(stem);
            if (keeps(w, name) && is_file(path)) {
                record_extension(w, name, path);
            }
        }
        else if (inb_is_identifier(f, len) && strcmp(f, "__pycache__") != 0 &&
                 inb_is_dir(path)) {
            char *init = inb_xprintf("%s/__init__.py", path);

            name = inb_xprintf("%s%s%s", prefix, *prefix ? "." : "", f);
            if (keeps(w, name)) {
                if (is_file(init)) {
                    add(w->c, name, INB_KIND_PACKAGE, init, w->priority);
                    walk_dir(w, path, name, 1);
                }
                else if (allow_namespace && has_python(path, 0)) {
                    add(w->c, name, INB_KIND_NAMESPACE, NULL, w->priority);
                    walk_dir(w, path, name, 1);
                }
            }
            free(init);
        }
        free(name);
        free(path);
        free(names[i]);
    }
    free(names);
    w->depth--;
}

void
inb_collect_stdlib(struct inb_collect *c, const char *dir, const char *dynload)
{
    struct walk w = {.c = c, .priority = 1, .stdlib = 1};

    if (!inb_is_dir(dir)) {
        inb_fatal("the standard library directory %s is missing; install "
                  "the Python %s development package (scripts/install-deps)",
                  dir, inb_py->version);
    }
    walk_dir(&w, dir, "", 0);
    if (dynload != NULL && inb_is_dir(dynload)) {
        size_t n, i;
        char **names = list_dir(dynload, &n);

        for (i = 0; i < n; i++) {
            char *stem = extension_stem(names[i], 1);

            if (stem != NULL && keeps(&w, stem)) {
                char *path = inb_xprintf("%s/%s", dynload, names[i]);

                record_extension(&w, stem, path);
                free(path);
            }
            free(stem);
            free(names[i]);
        }
        free(names);
    }
}

/* Find extension file dir/comp.*.so; malloc'd path or NULL.  With several
 * (comp.cpython-310-...so beside comp.cpython-311-...so), one with this
 * CPython's suffixes, else the first by name, which the builder reports.
 * top: whether dir is a top-level directory (a search root). */
static char *
find_extension(const char *dir, const char *comp, int top)
{
    size_t n, i, clen = strlen(comp);
    char **names = list_dir_quiet(dir, &n), *found = NULL;
    int found_rank = 2;

    for (i = 0; i < n; i++) {
        char *stem =
            strncmp(names[i], comp, clen) == 0 && names[i][clen] == '.'
                ? extension_stem(names[i], top)
                : NULL;

        if (stem != NULL && suffix_rank(names[i]) < found_rank) {
            free(found);
            found = inb_xprintf("%s/%s", dir, names[i]);
            found_rank = suffix_rank(names[i]);
        }
        free(stem);
        free(names[i]);
    }
    free(names);
    return found;
}

/* Print the search roots for an error message. */
static char *
roots_text(const struct inb_collect *c)
{
    struct inb_buf b = {0};
    size_t i;

    for (i = 0; i < c->roots.n; i++) {
        inb_buf_addstr(&b, "\n  ");
        inb_buf_addstr(&b, c->roots.v[i]);
    }
    if (c->roots.n == 0) {
        inb_buf_addstr(&b, " (none)");
    }
    return b.data;
}

void
inb_collect_include(struct inb_collect *c, const char *name)
{
    struct walk w = {.c = c, .priority = 0, .stdlib = 0};
    /* Where the current component is looked for, and where the next one
     * will be: one level of name resolution. */
    struct inb_strv loc = {0}, next = {0};
    char *prefix = inb_xstrdup(""), *dup = inb_xstrdup(name);
    char *comp, *save = NULL;
    size_t i, namelen = strlen(name);
    int last;

    for (i = 0, comp = dup; i <= namelen; i++) {
        if (name[i] == '.' || name[i] == '\0') {
            if (!is_module_name(comp, (size_t)(dup + i - comp), comp == dup)) {
                inb_fatal("--include %s: not a module name (a top-level "
                          "module's file name without '.', then "
                          "identifiers: pkg.sub, 81d243bd2c585b0f4821__mypyc)",
                          name);
            }
            comp = dup + i + 1;
        }
    }
    if (inb_collect_excluded(c, name)) {
        inb_fatal("--include %s is dropped by an --exclude pattern", name);
    }
    inb_strv_add(&c->included, name);
    for (i = 0; i < c->roots.n; i++) {
        inb_strv_add(&loc, c->roots.v[i]);
    }
    for (comp = strtok_r(dup, ".", &save); comp != NULL;
         comp = strtok_r(NULL, ".", &save)) {
        char *full = inb_xprintf("%s%s%s", prefix, *prefix ? "." : "", comp);
        int done = 0;

        last = strlen(full) == namelen;
        /* PEP 420: the first regular package or module wins; directories
         * without __init__.py gather as namespace portions. */
        for (i = 0; i < loc.n && !done; i++) {
            char *dir = inb_xprintf("%s/%s", loc.v[i], comp);
            char *init = inb_xprintf("%s/__init__.py", dir);
            char *file = inb_xprintf("%s/%s.py", loc.v[i], comp);
            char *ext = NULL;

            if (inb_is_dir(dir) && is_file(init)) {
                add(c, full, INB_KIND_PACKAGE, init, 0);
                inb_strv_free(&next);
                inb_strv_add(&next, dir);
                if (last) {
                    walk_dir(&w, dir, full, 1);
                }
                done = 1;
            }
            else if ((ext = find_extension(loc.v[i], comp, *prefix == '\0')) !=
                         NULL ||
                     is_file(file)) {
                if (!last) {
                    inb_fatal("--include %s: %s is a module, not a package",
                              name, ext ? ext : file);
                }
                if (ext != NULL) {
                    record_extension(&w, full, ext);
                }
                else {
                    add(c, full, INB_KIND_MODULE, file, 0);
                }
                done = 1;
            }
            else if (inb_is_dir(dir)) {
                inb_strv_add(&next, dir);
            }
            free(ext);
            free(file);
            free(init);
            free(dir);
        }
        if (!done && next.n > 0) {
            add(c, full, INB_KIND_NAMESPACE, NULL, 0);
            for (i = 0; last && i < next.n; i++) {
                walk_dir(&w, next.v[i], full, 1);
            }
            done = 1;
        }
        if (!done) {
            char *roots = roots_text(c);

            if (strcmp(full, name) == 0) {
                inb_fatal("--include %s: no such module or package; "
                          "searched:%s",
                          name, roots);
            }
            inb_fatal("--include %s: no package %s; searched:%s", name, full,
                      roots);
        }
        inb_strv_free(&loc);
        loc = next;
        next.v = NULL;
        next.n = 0;
        free(prefix);
        prefix = full;
    }
    inb_strv_free(&loc);
    free(prefix);
    free(dup);
}

static int
compare_modules(const void *a, const void *b)
{
    const struct inb_module *x = a, *y = b;
    int d = strcmp(x->name, y->name);

    if (d != 0) {
        return d;
    }
    if (x->priority != y->priority) {
        return x->priority - y->priority;
    }
    if (x->rank != y->rank) {
        return x->rank - y->rank;
    }
    return x->order < y->order ? -1 : x->order > y->order;
}

/* Whether name is name root or inside it (root, root.*). */
static int
within(const char *name, const char *root)
{
    size_t n = strlen(root);

    return strncmp(name, root, n) == 0 && (name[n] == '\0' || name[n] == '.');
}

void
inb_collect_finish(struct inb_collect *c)
{
    size_t i, j, out = 0;

    /* An --include'd package replaces the stdlib's package of that name
     * whole, so that the two never mix. */
    for (i = 0; i < c->n; i++) {
        struct inb_module *m = &c->mods[i];
        int drop = 0;

        for (j = 0; m->priority == 1 && j < c->included.n && !drop; j++) {
            drop = within(m->name, c->included.v[j]);
        }
        if (drop) {
            free(m->name);
            free(m->path);
            free(m->relname);
            m->name = NULL;
        }
    }
    for (i = 0; i < c->n; i++) {
        if (c->mods[i].name != NULL) {
            c->mods[out++] = c->mods[i];
        }
    }
    c->n = out;
    if (c->n > 0) {
        qsort(c->mods, c->n, sizeof(*c->mods), compare_modules);
    }
    for (i = 0, out = 0; i < c->n; i++) {
        if (out > 0 && strcmp(c->mods[out - 1].name, c->mods[i].name) == 0) {
            free(c->mods[i].name);
            free(c->mods[i].path);
            free(c->mods[i].relname);
            continue;
        }
        c->mods[out++] = c->mods[i];
    }
    c->n = out;
}

static int
compare_key(const void *key, const void *elem)
{
    return strcmp(key, ((const struct inb_module *)elem)->name);
}

const struct inb_module *
inb_collect_find(const struct inb_collect *c, const char *name)
{
    if (c->n == 0) {
        return NULL;
    }
    return bsearch(name, c->mods, c->n, sizeof(*c->mods), compare_key);
}
