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
 * or absent), and a new target compiles only the rest.  A library's
 * members are the same bytes, in the same order, whichever way it got
 * them. */
#include "runtime.h"

#include <errno.h>
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

/* The objects of the sources that need no CPython header, for the
 * compiler command cflags: the directory DIR/common-HASH (malloc'd) that
 * holds them, named by a hash of inbuilt's version, the command and every
 * embedded file, whether it exists yet or not. */
static char *
common_dir(const char *dir, char **cflags, size_t ncflags,
           const struct inb_target *t)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    char *inc = inb_xprintf("-I%s", t->include);
    char *platinc = inb_xprintf("-I%s", t->platinclude);
    size_t i;

    hash_str(&h, INBUILT_VERSION);
    for (i = 0; i < ncflags; i++) {
        /* The target's header directories are no part of these. */
        if (strcmp(cflags[i], inc) != 0 && strcmp(cflags[i], platinc) != 0) {
            hash_str(&h, cflags[i]);
        }
    }
    hash_sources(&h);
    free(inc);
    free(platinc);
    return inb_xprintf("%s/common-%016llx", dir, (unsigned long long)h);
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

/* Compile every source into work (the sources written there first),
 * inb_job_slots() compilers at a time, and archive the objects as lib, in
 * the order of inb_runtime_files.  The objects of sources that need no
 * CPython header are taken from directory common when it exists (NULL:
 * no such directory).  Exits with the compiler's messages on failure. */
static void
build(const char *work, const char *lib, char **cflags, size_t ncflags,
      const char *common)
{
    size_t nfiles = 0, i, next = 0, running = 0, slots = inb_job_slots();
    pid_t *pids;
    char **ar = NULL, **errs;
    size_t nar = 0;
    int status, failed = 0;
    int have_common = common != NULL && access(common, R_OK | X_OK) == 0;

    while (inb_runtime_files[nfiles].path != NULL) {
        nfiles++;
    }
    pids = calloc(nfiles, sizeof(*pids));
    errs = calloc(nfiles, sizeof(*errs));
    if (pids == NULL || errs == NULL) {
        inb_fatal("out of memory");
    }
    for (i = 0; i < nfiles; i++) {
        const char *base = strrchr(inb_runtime_files[i].path, '/');
        char *path = inb_xprintf("%s/%s", work, base ? base + 1 : "");

        inb_write_file(path, inb_runtime_files[i].text,
                       inb_runtime_files[i].len);
        free(path);
    }
    inb_argv_add(&ar, &nar, "ar");
    inb_argv_add(&ar, &nar, "rcs");
    inb_argv_add(&ar, &nar, lib);
    while (next < nfiles || running > 0) {
        pid_t pid;

        if (next < nfiles && !is_c_source(inb_runtime_files[next].path)) {
            next++;
            continue;
        }
        if (next < nfiles && have_common && !needs_python((long)next, 0)) {
            const char *base = strrchr(inb_runtime_files[next].path, '/') + 1;
            char *obj =
                inb_xprintf("%s/%.*s.o", common, (int)strlen(base) - 2, base);

            inb_argv_add(&ar, &nar, obj);
            free(obj);
            next++;
            continue;
        }
        if (next < nfiles && running < slots) {
            const char *base = strrchr(inb_runtime_files[next].path, '/') + 1;
            char **argv = NULL, *in, *obj;
            size_t argc = 0, k;

            for (k = 0; k < ncflags; k++) {
                inb_argv_add(&argv, &argc, cflags[k]);
            }
            in = inb_xprintf("%s/%s", work, base);
            obj = inb_xprintf("%s/%.*s.o", work, (int)strlen(base) - 2, base);
            errs[next] = inb_xprintf("%s.err", obj);
            inb_argv_add(&argv, &argc, "-c");
            inb_argv_add(&argv, &argc, in);
            inb_argv_add(&argv, &argc, "-o");
            inb_argv_add(&argv, &argc, obj);
            inb_argv_add(&ar, &nar, obj);
            pids[next] = inb_spawn_start(argv, errs[next]);
            for (k = 0; k < argc; k++) {
                free(argv[k]);
            }
            free(argv);
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
                     inb_runtime_files[i].path, status);
            failed = 1;
        }
    }
    if (failed) {
        inb_spawn_print("compiler command: ", cflags);
        inb_fatal("cannot build the runtime library for this Python; see "
                  "the compiler's messages above");
    }
    status = inb_spawn_run_stderr(ar, NULL);
    if (status != 0) {
        inb_spawn_print("failed command: ", ar);
        inb_fatal("archiving the runtime library failed (exit status %d)",
                  status);
    }
    if (common != NULL && !have_common) {
        publish_common(work, common);
    }
    for (i = 0; i < nar; i++) {
        free(ar[i]);
    }
    for (i = 0; i < nfiles; i++) {
        free(errs[i]);
    }
    free(ar);
    free(errs);
    free(pids);
}

const char *
inb_runtime_library(const struct inb_target *t)
{
    static char *found;
    const char *env = getenv("INBUILT_RUNTIME"), *cc = getenv("INBUILT_CC");
    uint64_t h = 0xcbf29ce484222325ULL;
    char **cflags = NULL, *dir, *work, *tmp, *conf, *common = NULL;
    size_t ncflags = 0, i;
    struct inb_buf pyconfig = {0};

    /* Asked again before linking: still there, unless the cache was
     * cleaned meanwhile. */
    if (found != NULL && access(found, R_OK) == 0) {
        return found;
    }
    free(found);
    found = NULL;
    if (env != NULL && *env != '\0') {
        if (access(env, R_OK) < 0) {
            inb_fatal("INBUILT_RUNTIME=%s:", env);
        }
        return found = inb_xstrdup(env);
    }
    inb_split_words(cc && *cc ? cc : INB_CC, &cflags, &ncflags);
    inb_split_words(INB_RT_CFLAGS, &cflags, &ncflags);
    inb_argv_add(&cflags, &ncflags, "-std=gnu11");
    inb_argv_add(&cflags, &ncflags, "-fvisibility=hidden");
    tmp = inb_xprintf("-I%s", t->include);
    inb_argv_add(&cflags, &ncflags, tmp);
    free(tmp);
    tmp = inb_xprintf("-I%s", t->platinclude);
    inb_argv_add(&cflags, &ncflags, tmp);
    free(tmp);

    hash_str(&h, INBUILT_VERSION);
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

    dir = cache_dir();
    if (dir != NULL) {
        found = inb_xprintf("%s/libinbuilt-rt-%s-%016llx.a", dir, t->version,
                            (unsigned long long)h);
        if (access(found, R_OK) == 0) {
            free(dir);
            goto done;
        }
        work = inb_xprintf("%s/.build-XXXXXX", dir);
        common = common_dir(dir, cflags, ncflags, t);
    }
    else {
        work = inb_xprintf("%s/inbuilt-rt-XXXXXX", inb_temp_root());
    }
    inb_make_temp_dir(work); /* removed at exit, with what is left in it */
    inb_note("compiling the runtime library for Python %s (%s), once%s",
             t->full_version, dir ? found : "not cached",
             common != NULL && access(common, R_OK | X_OK) == 0
                 ? "; the objects that need no Python header are cached"
                 : "");
    /* Messages and debug information name the sources, not work. */
    tmp = inb_xprintf("-ffile-prefix-map=%s/=src/", work);
    inb_argv_add(&cflags, &ncflags, tmp);
    free(tmp);
    tmp = inb_xprintf("%s/libinbuilt-rt.a", work);
    build(work, tmp, cflags, ncflags, common);
    free(work);
    free(common);
    if (dir == NULL) {
        found = tmp; /* removed with work at exit */
        goto done;
    }
    if (rename(tmp, found) < 0) {
        inb_fatal("cannot rename %s to %s:", tmp, found);
    }
    free(tmp);
    free(dir);
done:
    for (i = 0; i < ncflags; i++) {
        free(cflags[i]);
    }
    free(cflags);
    return found;
}
