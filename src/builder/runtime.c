/* runtime.c: the runtime library for the target CPython.  The runtime
 * (src/runtime, src/common) is compiled against the target's own headers,
 * so one inbuilt serves every CPython 3.10 to 3.13: the builder carries
 * the sources as text (the Makefile embeds them, inb_runtime_files),
 * compiles them on first use for a target, and keeps the library in a
 * per-user cache named by a hash of everything that went into it: inbuilt's
 * version, the sources, the compiler command, the target's version, header
 * directories and pyconfig.h.  A build happens in a private directory
 * inside the cache and its library is renamed into place, so concurrent
 * builders never see half a file (the last rename wins; both are equal).
 *
 * Most sources never include a CPython header (the archive format, the
 * file layer, memory files): their objects are the same for every target.
 * They are compiled once per compiler command and kept in a directory
 * common-HASH beside the libraries (published by one rename, so complete
 * or absent), and a new target compiles only the rest.  inbuilt carries
 * these objects too (inb_runtime_objects: `make` runs a first stage of
 * the builder with `inbuilt runtime-objects`), used when their cache key
 * is this command's.  A library's members are the same bytes, in the
 * same order, whichever way it got them.
 *
 * The sources that include CPython's headers are compiled in two
 * translation units (unit_jobs): most of a small source's compile is
 * parsing those headers.
 *
 * The compile runs in a forked child of the builder while the build goes
 * on (collection, bytecode, archive); inb_runtime_library(), called by
 * the link, waits for it and prints what it printed. */
#include "runtime.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "inbuilt.h"
#include "spawn.h"
#include "util.h"

/* FNV-1a, 64 bits: names cache entries, not a security boundary. */
static void
hash_add(uint64_t *h, const void *data, size_t n)
{
    const unsigned char *p = data;
    size_t i;

    for (i = 0; i < n; i++) {
        *h = (*h ^ p[i]) * 0x100000001b3ULL;
    }
    /* A separator, so that ("ab", "c") and ("a", "bc") differ. */
    *h = (*h ^ 0xff) * 0x100000001b3ULL;
}

static void
hash_str(uint64_t *h, const char *s)
{
    hash_add(h, s, strlen(s));
}

/* Add every embedded file, its path and its text, to *h. */
static void
hash_sources(uint64_t *h)
{
    size_t i;

    for (i = 0; inb_runtime_files[i].path != NULL; i++) {
        hash_str(h, inb_runtime_files[i].path);
        hash_add(h, inb_runtime_files[i].text, inb_runtime_files[i].len);
    }
}

/* The cache directory (malloc'd): $XDG_CACHE_HOME/inbuilt/runtime or
 * ~/.cache/inbuilt/runtime, created; NULL when there is none to be had.
 * Beside the build cache (cache.c; $INBUILT_BUILD_CACHE does not move
 * it), not in it: the library is needed, not an optimization, and keeps
 * its name, so the linked base it goes into is reused from the build
 * cache. */
static char *
cache_dir(void)
{
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    char *dir;

    if (xdg != NULL && xdg[0] == '/') {
        dir = inb_xprintf("%s/inbuilt/runtime", xdg);
    }
    else if (home != NULL && home[0] == '/') {
        dir = inb_xprintf("%s/.cache/inbuilt/runtime", home);
    }
    else {
        return NULL;
    }
    if (inb_make_dirs(dir) < 0 || access(dir, W_OK | X_OK) < 0) {
        inb_note("cannot use the cache directory %s (%s)", dir,
                 strerror(errno));
        free(dir);
        return NULL;
    }
    return dir;
}

static int
is_c_source(const char *path)
{
    size_t n = strlen(path);

    return n > 2 && strcmp(path + n - 2, ".c") == 0;
}

/* The index of the embedded file whose name (after its last '/') is the
 * n bytes at name, or -1. */
static long
file_named(const char *name, size_t n)
{
    long i;

    for (i = 0; inb_runtime_files[i].path != NULL; i++) {
        const char *base = strrchr(inb_runtime_files[i].path, '/');

        base = base ? base + 1 : inb_runtime_files[i].path;
        if (strlen(base) == n && memcmp(base, name, n) == 0) {
            return i;
        }
    }
    return -1;
}

/* Whether embedded file i, or a header of the runtime it includes (to any
 * depth), includes a CPython header: <Python.h>, <marshal.h> or any other
 * bracketed name starting with an upper-case letter or "py".  Such a file
 * is compiled for each target; the others once per compiler. */
static int
needs_python(long i, int depth)
{
    const char *p = inb_runtime_files[i].text;
    const char *end = p + inb_runtime_files[i].len;

    if (depth > 16) {
        return 1; /* an include cycle: compile it per target, to be safe */
    }
    for (; p < end; p++) {
        const char *name, *close;
        long j;

        if (*p != '#' || (p > inb_runtime_files[i].text && p[-1] != '\n') ||
            (size_t)(end - p) < 10 || strncmp(p, "#include ", 9) != 0) {
            continue;
        }
        name = p + 10;
        close = memchr(name, p[9] == '<' ? '>' : '"', (size_t)(end - name));
        if (close == NULL || (p[9] != '<' && p[9] != '"')) {
            continue;
        }
        if (p[9] == '<' &&
            ((*name >= 'A' && *name <= 'Z') || strncmp(name, "py", 2) == 0 ||
             strncmp(name, "marshal.h>", 10) == 0)) {
            return 1;
        }
        if (p[9] == '"' &&
            (j = file_named(name, (size_t)(close - name))) >= 0 &&
            needs_python(j, depth + 1)) {
            return 1;
        }
    }
    return 0;
}

/* The name (malloc'd) of the directory common-HASH of the cache that
 * holds the objects of the sources that need no CPython header for the
 * compiler command cflags: a hash of inbuilt's version, the command
 * without t's header directories (t may be NULL: the command has none)
 * and every embedded file. */
static char *
common_key(char **cflags, size_t ncflags, const struct inb_target *t)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    char *inc = t ? inb_xprintf("-I%s", t->include) : NULL;
    char *platinc = t ? inb_xprintf("-I%s", t->platinclude) : NULL;
    size_t i;

    hash_str(&h, INBUILT_VERSION);
    for (i = 0; i < ncflags; i++) {
        /* The target's header directories are no part of these. */
        if (t == NULL ||
            (strcmp(cflags[i], inc) != 0 && strcmp(cflags[i], platinc) != 0)) {
            hash_str(&h, cflags[i]);
        }
    }
    hash_sources(&h);
    free(inc);
    free(platinc);
    return inb_xprintf("common-%016llx", (unsigned long long)h);
}

/* The objects inbuilt carries (runtime_objects.c, made by the first
 * stage of `make` with `inbuilt runtime-objects`): the index in
 * inb_runtime_objects of the object named name (vfs.o), or -1. */
static long
carried_object(const char *name)
{
    long i;

    for (i = 0; inb_runtime_objects[i].path != NULL; i++) {
        if (strcmp(inb_runtime_objects[i].path, name) == 0) {
            return i;
        }
    }
    return -1;
}

/* Publish the objects of work that need no CPython header as common (a
 * directory that does not exist yet): hard links (copies where links
 * fail) in a private directory beside it, renamed to common.  Another
 * builder's rename first is as good; any failure only costs the next
 * target a compile. */
static void
publish_common(const char *work, const char *common)
{
    char *tmp = inb_xprintf("%s.XXXXXX", common);
    size_t i;
    int ok = 1;

    if (inb_try_temp_dir(tmp) < 0) {
        free(tmp);
        return;
    }
    for (i = 0; ok && inb_runtime_files[i].path != NULL; i++) {
        const char *base = strrchr(inb_runtime_files[i].path, '/') + 1;
        char *from, *to;
        struct inb_buf obj = {0};

        if (!is_c_source(base) || needs_python((long)i, 0)) {
            continue;
        }
        from = inb_xprintf("%s/%.*s.o", work, (int)strlen(base) - 2, base);
        to = inb_xprintf("%s/%.*s.o", tmp, (int)strlen(base) - 2, base);
        if (link(from, to) < 0) {
            ok = inb_buf_readfile(&obj, from) == 0;
            if (ok) {
                inb_write_file(to, obj.data, obj.len);
            }
            inb_buf_free(&obj);
        }
        free(from);
        free(to);
    }
    /* Otherwise tmp is removed at exit. */
    if (ok && rename(tmp, common) == 0) {
        inb_cleanup_forget(tmp);
    }
    free(tmp);
}

/* A compile: source src (a file in work) into object obj (a file in
 * work); weight is the source's length, what names it in messages. */
struct job {
    char *src, *obj, *what;
    size_t weight;
};

/* Order compile jobs longest source first, so that no long compile starts
 * last while the other slots are idle. */
static int
by_weight(const void *a, const void *b)
{
    const struct job *x = a, *y = b;

    if (x->weight != y->weight) {
        return x->weight < y->weight ? 1 : -1;
    }
    return strcmp(x->obj, y->obj);
}

/* A job compiling embedded file i (in work) into its NAME.o. */
static struct job
file_job(size_t i)
{
    const char *base = strrchr(inb_runtime_files[i].path, '/') + 1;
    struct job j;

    j.src = inb_xprintf("%s", base);
    j.obj = inb_xprintf("%.*s.o", (int)strlen(base) - 2, base);
    j.what = inb_xprintf("%s", inb_runtime_files[i].path);
    j.weight = inb_runtime_files[i].len;
    return j;
}

static void
jobs_free(struct job *jobs, size_t njobs)
{
    size_t i;

    for (i = 0; i < njobs; i++) {
        free(jobs[i].src);
        free(jobs[i].obj);
        free(jobs[i].what);
    }
    free(jobs);
}

/* Run the compile jobs[0..njobs) in work, inb_job_slots() compilers at a
 * time, longest source first.  Exits with the compiler's messages when
 * one fails. */
static void
compile_jobs(const char *work, char **cflags, size_t ncflags, struct job *jobs,
             size_t njobs)
{
    size_t i, next = 0, running = 0, slots = inb_job_slots();
    pid_t *pids = calloc(njobs + 1, sizeof(*pids));
    char **errs = calloc(njobs + 1, sizeof(*errs));
    int status, failed = 0;

    if (pids == NULL || errs == NULL) {
        inb_fatal("out of memory");
    }
    qsort(jobs, njobs, sizeof(*jobs), by_weight);
    while (next < njobs || running > 0) {
        pid_t pid;

        if (next < njobs && running < slots) {
            char **argv = NULL, *in, *obj;
            size_t argc = 0, k;

            for (k = 0; k < ncflags; k++) {
                inb_argv_add(&argv, &argc, cflags[k]);
            }
            in = inb_xprintf("%s/%s", work, jobs[next].src);
            obj = inb_xprintf("%s/%s", work, jobs[next].obj);
            errs[next] = inb_xprintf("%s.err", obj);
            inb_argv_add(&argv, &argc, "-c");
            inb_argv_add(&argv, &argc, in);
            inb_argv_add(&argv, &argc, "-o");
            inb_argv_add(&argv, &argc, obj);
            pids[next] = inb_spawn_start(argv, errs[next]);
            inb_argv_free(argv, argc);
            free(in);
            free(obj);
            next++;
            running++;
            continue;
        }
        pid = inb_spawn_wait_any(&status);
        for (i = 0; i < next; i++) {
            struct inb_buf msg = {0};

            if (pids[i] != pid) {
                continue;
            }
            pids[i] = 0;
            running--;
            if (status == 0) {
                continue;
            }
            if (inb_buf_readfile(&msg, errs[i]) == 0) {
                fputs(msg.data, stderr);
            }
            inb_buf_free(&msg);
            inb_warn("compiling the runtime's %s failed (exit status %d)",
                     jobs[i].what, status);
            failed = 1;
        }
    }
    if (failed) {
        inb_spawn_print("compiler command: ", cflags);
        inb_fatal("cannot build the runtime library for this Python; see "
                  "the compiler's messages above");
    }
    for (i = 0; i < njobs; i++) {
        free(errs[i]);
    }
    free(errs);
    free(pids);
}

/* The sources that include CPython's headers are compiled as RT_UNITS
 * translation units, each a generated file that includes some of them:
 * each source parsing CPython's headers again costs about 0.15 s, most of
 * a small source's compile (14 sources: 4.1 s of CPU one by one, 2.0 s in
 * two units).  Two, not one per CPU: the library is the same on every
 * machine, and two units already take half the time of one.  The static
 * names of those sources are therefore distinct across them, and a macro
 * a source defines before its includes is defined first in every unit. */
#define RT_UNITS 2

/* How a library is made from the sources, in its cache key: to be changed
 * with the way (the units, what they define first). */
#define RT_LAYOUT "2 units, PY_SSIZE_T_CLEAN first"

/* Add to jobs the units compiling the embedded files pt[0..npt) (sources
 * that need CPython's headers, in work): each file goes to the unit with
 * the fewest bytes so far, longest file first; a unit lists its files in
 * the order of inb_runtime_files.  Returns the new number of jobs. */
static size_t
unit_jobs(const char *work, const size_t *pt, size_t npt, struct job *jobs,
          size_t njobs)
{
    size_t unit_of[256], weight[RT_UNITS] = {0}, order[256], u, i, k;

    if (npt > 256) {
        inb_fatal("the runtime has more than 256 sources that include "
                  "CPython's headers");
    }
    for (i = 0; i < npt; i++) {
        order[i] = i;
    }
    /* Longest first (insertion sort: a dozen files), ties by index. */
    for (i = 1; i < npt; i++) {
        for (k = i; k > 0 && inb_runtime_files[pt[order[k]]].len >
                                 inb_runtime_files[pt[order[k - 1]]].len;
             k--) {
            size_t t = order[k];

            order[k] = order[k - 1];
            order[k - 1] = t;
        }
    }
    for (i = 0; i < npt; i++) {
        size_t best = 0;

        for (u = 1; u < RT_UNITS; u++) {
            if (weight[u] < weight[best]) {
                best = u;
            }
        }
        unit_of[order[i]] = best;
        weight[best] += inb_runtime_files[pt[order[i]]].len;
    }
    for (u = 0; u < RT_UNITS; u++) {
        struct inb_buf text = {0}, what = {0};
        char *path;

        if (weight[u] == 0) {
            continue;
        }
        /* What a source defines before its first include must come
         * before the unit's first: PY_SSIZE_T_CLEAN (exit.c and
         * resources.c parse "y#" arguments) is no source's alone. */
        inb_buf_addstr(&text, "/* Generated by inbuilt (runtime.c): one "
                              "translation unit of the runtime. */\n"
                              "#define PY_SSIZE_T_CLEAN\n");
        for (i = 0; i < npt; i++) {
            const char *base;

            if (unit_of[i] != u) {
                continue;
            }
            base = strrchr(inb_runtime_files[pt[i]].path, '/') + 1;
            inb_buf_addstr(&text, "#include \"");
            inb_buf_addstr(&text, base);
            inb_buf_addstr(&text, "\"\n");
            if (what.len > 0) {
                inb_buf_addstr(&what, ", ");
            }
            inb_buf_addstr(&what, inb_runtime_files[pt[i]].path);
        }
        jobs[njobs].src = inb_xprintf("runtime-unit-%zu.c", u);
        jobs[njobs].obj = inb_xprintf("runtime-unit-%zu.o", u);
        jobs[njobs].what = inb_xprintf("%s", what.data);
        jobs[njobs].weight = weight[u];
        path = inb_xprintf("%s/%s", work, jobs[njobs].src);
        inb_write_file(path, text.data, text.len);
        free(path);
        inb_buf_free(&text);
        inb_buf_free(&what);
        njobs++;
    }
    return njobs;
}

/* Write every embedded file into work; returns the number of files. */
static size_t
write_sources(const char *work)
{
    size_t i;

    for (i = 0; inb_runtime_files[i].path != NULL; i++) {
        const char *base = strrchr(inb_runtime_files[i].path, '/');
        char *path = inb_xprintf("%s/%s", work, base ? base + 1 : "");

        inb_write_file(path, inb_runtime_files[i].text,
                       inb_runtime_files[i].len);
        free(path);
    }
    return i;
}

/* Compile every source into work (the sources written there first) and
 * archive the objects as lib, in the order of inb_runtime_files.  The
 * objects of sources that need no CPython header are taken from the
 * cache's directory common (DIR/KEY, NULL: no cache) when it exists,
 * else from those inbuilt carries when they were made for key, else
 * compiled, and then published as common.  Exits with the compiler's
 * messages on failure. */
static void
build(const char *work, const char *lib, char **cflags, size_t ncflags,
      const char *common, const char *key)
{
    size_t nfiles, njobs = 0, nar = 0, npt = 0, i, u;
    size_t *pt;
    struct job *jobs;
    char **ar = NULL;
    int status;
    int have_common = common != NULL && access(common, R_OK | X_OK) == 0;
    int carried = !have_common && strcmp(key, inb_runtime_objects_key) == 0;

    nfiles = write_sources(work);
    jobs = calloc(nfiles + RT_UNITS + 1, sizeof(*jobs));
    pt = calloc(nfiles + 1, sizeof(*pt));
    if (jobs == NULL || pt == NULL) {
        inb_fatal("out of memory");
    }
    inb_argv_add(&ar, &nar, "ar");
    inb_argv_add(&ar, &nar, "rcs");
    inb_argv_add(&ar, &nar, lib);
    for (i = 0; i < nfiles; i++) {
        const char *base = strrchr(inb_runtime_files[i].path, '/') + 1;
        char *name, *obj;
        long k = -1;
        int shared;

        if (!is_c_source(base)) {
            continue;
        }
        shared = !needs_python((long)i, 0);
        if (!shared) {
            pt[npt++] = i; /* in a unit, below */
            continue;
        }
        name = inb_xprintf("%.*s.o", (int)strlen(base) - 2, base);
        obj =
            inb_xprintf("%s/%s", shared && have_common ? common : work, name);
        if (shared && carried) {
            k = carried_object(name);
        }
        if (k >= 0) {
            inb_write_file(obj, inb_runtime_objects[k].text,
                           inb_runtime_objects[k].len);
        }
        else if (!have_common) {
            jobs[njobs++] = file_job(i);
        }
        inb_argv_add(&ar, &nar, obj);
        free(name);
        free(obj);
    }
    u = njobs;
    njobs = unit_jobs(work, pt, npt, jobs, njobs);
    for (; u < njobs; u++) {
        char *obj = inb_xprintf("%s/%s", work, jobs[u].obj);

        inb_argv_add(&ar, &nar, obj);
        free(obj);
    }
    compile_jobs(work, cflags, ncflags, jobs, njobs);
    status = inb_spawn_run_stderr(ar, NULL);
    if (status != 0) {
        inb_spawn_print("failed command: ", ar);
        inb_fatal("archiving the runtime library failed (exit status %d)",
                  status);
    }
    if (common != NULL && !have_common) {
        publish_common(work, common);
    }
    inb_argv_free(ar, nar);
    jobs_free(jobs, njobs);
    free(pt);
}

/* The command that compiles the runtime's sources for t (NULL: no
 * target, no header directories) into *cflags: the compiler
 * ($INBUILT_CC, else the one inbuilt was built with) and the flags. */
static void
compiler_words(const struct inb_target *t, char ***cflags, size_t *ncflags)
{
    const char *cc = getenv("INBUILT_CC");
    char *inc;

    inb_split_words(cc && *cc ? cc : INB_CC, cflags, ncflags);
    inb_split_words(INB_RT_CFLAGS, cflags, ncflags);
    inb_argv_add(cflags, ncflags, "-std=gnu11");
    inb_argv_add(cflags, ncflags, "-fvisibility=hidden");
    if (t != NULL) {
        inc = inb_xprintf("-I%s", t->include);
        inb_argv_add(cflags, ncflags, inc);
        free(inc);
        inc = inb_xprintf("-I%s", t->platinclude);
        inb_argv_add(cflags, ncflags, inc);
        free(inc);
    }
}

int
inb_runtime_objects_main(int argc, char **argv)
{
    char **cflags = NULL, *work, *tmp, *key;
    size_t ncflags = 0, nfiles, njobs = 0, i, n = 0;
    struct job *jobs;
    FILE *f;

    if (argc != 2) {
        inb_fatal("usage: inbuilt runtime-objects OUT.c (for the Makefile)");
    }
    compiler_words(NULL, &cflags, &ncflags);
    key = common_key(cflags, ncflags, NULL);
    work = inb_new_temp_dir("inbuilt-rt-objects");
    tmp = inb_xprintf("-ffile-prefix-map=%s/=src/", work);
    inb_argv_add(&cflags, &ncflags, tmp);
    free(tmp);
    nfiles = write_sources(work);
    jobs = calloc(nfiles + 1, sizeof(*jobs));
    if (jobs == NULL) {
        inb_fatal("out of memory");
    }
    for (i = 0; i < nfiles; i++) {
        if (is_c_source(inb_runtime_files[i].path) &&
            !needs_python((long)i, 0)) {
            jobs[njobs++] = file_job(i);
        }
    }
    compile_jobs(work, cflags, ncflags, jobs, njobs);
    f = fopen(argv[1], "w");
    if (f == NULL) {
        inb_fatal("cannot write %s:", argv[1]);
    }
    fprintf(f, "/* Generated by `inbuilt runtime-objects` (runtime.c). */\n"
               "#include <stddef.h>\n#include \"runtime.h\"\n");
    for (i = 0; i < njobs; i++) {
        struct inb_buf obj = {0};
        size_t k;

        tmp = inb_xprintf("%s/%s", work, jobs[i].obj);
        if (inb_buf_readfile(&obj, tmp) < 0) {
            inb_fatal("cannot read %s:", tmp);
        }
        free(tmp);
        fprintf(f, "static const unsigned char o%zu[] = {", i);
        for (k = 0; k < obj.len; k++) {
            fprintf(f, "%s%u,", k % 24 ? "" : "\n", obj.data[k] & 0xffu);
        }
        fprintf(f, "\n};\n");
        n += obj.len;
        inb_buf_free(&obj);
    }
    fprintf(f, "const struct inb_runtime_file inb_runtime_objects[] = {\n");
    for (i = 0; i < njobs; i++) {
        fprintf(f, "    {\"%s\", (const char *)o%zu, sizeof(o%zu)},\n",
                jobs[i].obj, i, i);
    }
    fprintf(f,
            "    {NULL, NULL, 0},\n};\nconst char inb_runtime_objects_key[] "
            "= \"%s\";\n",
            key);
    if (ferror(f) || fclose(f) != 0) {
        inb_fatal("cannot write %s:", argv[1]);
    }
    inb_note("%zu objects, %zu bytes, for %s", njobs, n, key);
    inb_argv_free(cflags, ncflags);
    jobs_free(jobs, njobs);
    free(key);
    free(work);
    return 0;
}

/* The runtime library once known to be in place (malloc'd), or the
 * background build making it: the child's pid (0: none runs), the
 * library it renames into place (malloc'd), its private directory
 * (malloc'd) and the file its standard error goes to (malloc'd). */
static struct {
    char *lib;
    pid_t pid;
    char *pending, *work, *log;
    int cached;
    double started;
} rt;

/* At exit, a background build not waited for (the build failed before
 * linking) is stopped: it removes its own directory on SIGTERM. */
static void
stop_background(void)
{
    if (rt.pid > 0) {
        kill(rt.pid, SIGTERM);
        inb_spawn_wait(rt.pid);
        rt.pid = 0;
    }
}

/* In the forked child: build() into work, rename the library to found
 * (NULL: not cached), exit 0; on failure exit 1 through inb_fatal, the
 * compiler's messages on stderr (logfd).  work is removed at the child's
 * exit when cached, else left to the parent. */
static void
child_build(const char *work, const char *lib, const char *found, int logfd,
            char **cflags, size_t ncflags, const char *common, const char *key)
{
    inb_cleanup_forget(NULL);
    if (found != NULL) {
        inb_cleanup_add(work);
    }
    if (dup2(logfd, 2) < 0) {
        inb_fatal("dup2:");
    }
    close(logfd);
    build(work, lib, cflags, ncflags, common, key);
    if (found != NULL && rename(lib, found) < 0) {
        inb_fatal("cannot rename %s to %s:", lib, found);
    }
    fflush(NULL);
    exit(0);
}

void
inb_runtime_start(const struct inb_target *t)
{
    static int stop_registered;
    const char *env = getenv("INBUILT_RUNTIME");
    uint64_t h = 0xcbf29ce484222325ULL;
    char **cflags = NULL, *dir, *tmp, *conf, *key, *common = NULL;
    char *found = NULL;
    size_t ncflags = 0, i;
    struct inb_buf pyconfig = {0};
    int logfd;

    if (rt.pid != 0) {
        return;
    }
    /* Asked again: still there, unless the cache was cleaned meanwhile. */
    if (rt.lib != NULL && access(rt.lib, R_OK) == 0) {
        return;
    }
    free(rt.lib);
    rt.lib = NULL;
    if (env != NULL && *env != '\0') {
        if (access(env, R_OK) < 0) {
            inb_fatal("INBUILT_RUNTIME=%s:", env);
        }
        rt.lib = inb_xstrdup(env);
        return;
    }
    compiler_words(t, &cflags, &ncflags);
    hash_str(&h, INBUILT_VERSION);
    hash_str(&h, RT_LAYOUT);
    for (i = 0; i < ncflags; i++) {
        hash_str(&h, cflags[i]);
    }
    hash_str(&h, t->full_version);
    conf = inb_xprintf("%s/pyconfig.h", t->platinclude);
    if (inb_buf_readfile(&pyconfig, conf) == 0) {
        hash_add(&h, pyconfig.data, pyconfig.len);
    }
    inb_buf_free(&pyconfig);
    free(conf);
    hash_sources(&h);

    key = common_key(cflags, ncflags, t);
    dir = cache_dir();
    if (dir != NULL) {
        found = inb_xprintf("%s/libinbuilt-rt-%s-%016llx.a", dir, t->version,
                            (unsigned long long)h);
        if (access(found, R_OK) == 0) {
            rt.lib = found;
            goto done;
        }
        rt.work = inb_xprintf("%s/.build-XXXXXX", dir);
        common = inb_xprintf("%s/%s", dir, key);
    }
    else {
        rt.work = inb_xprintf("%s/inbuilt-rt-XXXXXX", inb_temp_root());
    }
    rt.cached = dir != NULL;
    /* The parent's too: removed at its exit if the child could not. */
    inb_make_temp_dir(rt.work);
    rt.log = inb_xprintf("%s/inbuilt-rt-log-XXXXXX", inb_temp_root());
    logfd = mkstemp(rt.log);
    if (logfd < 0) {
        inb_fatal("cannot create a file %s:", rt.log);
    }
    inb_cleanup_add(rt.log);
    inb_note("compiling the runtime library for Python %s (%s), once, "
             "while the build goes on%s",
             t->full_version, dir ? found : "not cached",
             common != NULL && access(common, R_OK | X_OK) == 0
                 ? "; the objects that need no Python header are cached"
             : strcmp(key, inb_runtime_objects_key) == 0
                 ? "; inbuilt carries the objects that need no Python header"
                 : "");
    /* Messages and debug information name the sources, not work. */
    tmp = inb_xprintf("-ffile-prefix-map=%s/=src/", rt.work);
    inb_argv_add(&cflags, &ncflags, tmp);
    free(tmp);
    tmp = inb_xprintf("%s/libinbuilt-rt.a", rt.work);
    fflush(NULL);
    rt.started = inb_now();
    rt.pid = fork();
    if (rt.pid < 0) {
        inb_fatal("cannot start compiling the runtime library: fork:");
    }
    if (rt.pid == 0) {
        child_build(rt.work, tmp, found, logfd, cflags, ncflags, common, key);
    }
    close(logfd);
    inb_spawn_reserve(rt.pid);
    if (!stop_registered) {
        stop_registered = 1;
        atexit(stop_background);
    }
    if (found != NULL) {
        rt.pending = found;
        free(tmp);
    }
    else {
        rt.pending = tmp; /* removed with work at exit */
    }
    free(common);
done:
    free(dir);
    free(key);
    inb_argv_free(cflags, ncflags);
}

/* Wait for the background build: relay what it printed, and exit as it
 * did when it failed (its last line is the error); else the library is
 * rt.lib. */
static void
join(void)
{
    struct inb_buf msg = {0};
    double t0 = inb_now();
    int status = inb_spawn_wait(rt.pid);

    rt.pid = 0;
    if (inb_buf_readfile(&msg, rt.log) == 0 && msg.len > 0) {
        fwrite(msg.data, 1, msg.len, stderr);
    }
    unlink(rt.log);
    inb_cleanup_forget(rt.log);
    free(rt.log);
    rt.log = NULL;
    if (status != 0) {
        int said = msg.len > 0 && strstr(msg.data, ": error: ") != NULL;

        inb_buf_free(&msg);
        if (said) {
            exit(1); /* the atexit handler removes temporary files */
        }
        inb_fatal("compiling the runtime library failed (exit status %d)",
                  status);
    }
    inb_buf_free(&msg);
    if (rt.cached) {
        /* The child removed it; the library is in the cache. */
        inb_cleanup_forget(rt.work);
    }
    free(rt.work);
    rt.work = NULL;
    rt.lib = rt.pending;
    rt.pending = NULL;
    inb_note("runtime library: compiled in %.3f s, %.3f s of it waited for",
             inb_now() - rt.started, inb_now() - t0);
}

const char *
inb_runtime_library(const struct inb_target *t)
{
    inb_runtime_start(t);
    if (rt.pid != 0) {
        join();
    }
    return rt.lib;
}
