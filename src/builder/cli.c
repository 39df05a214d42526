/* cli.c: the inbuilt command line. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "archive.h"
#include "cache.h"
#include "capture.h"
#include "collect.h"
#include "deps.h"
#include "extension.h"
#include "inbuilt.h"
#include "library.h"
#include "link.h"
#include "runtime.h"
#include "setup.h"
#include "shlib.h"
#include "cpysource.h"
#include "write.h"
#include "target.h"
#include "util.h"
#include "verify.h"

static const char usage_text[] =
    "usage: inbuilt build [options] -o OUT\n"
    "       inbuilt build --library [options] -o DIR/libNAME.a\n"
    "       inbuilt capture --out DIR -- COMMAND...\n"
    "       inbuilt verify EXE...\n"
    "       inbuilt cache [--stats] [--clear]\n"
    "       inbuilt --help | --version\n"
    "\n"
    "Make OUT, one executable holding the CPython of --python (3.10 to "
    "3.13, linked\n"
    "statically) and its whole pure-Python standard library as bytecode in\n"
    "memory.  It acts\n"
    "like python3 (-c, -m, scripts, stdin, the REPL) but imports without\n"
    "touching the filesystem: no sys.path search, no stat, no open.\n"
    "\n"
    "options of build:\n"
    "  -o, --output OUT        the executable to write (replaced atomically)\n"
    "  --include NAME          add module or package NAME with all its\n"
    "                          submodules (repeatable), found on --path\n"
    "                          directories, then on the sys.path of --python\n"
    "  --path DIR              search DIR first for --include (repeatable)\n"
    "  --no-deps               do not also include what the distributions of\n"
    "                          --include'd packages require (by default "
    "their\n"
    "                          installed requirements come too, each named)\n"
    "  --python PATH           the interpreter of the environment (venv,\n"
    "                          conda) to take --include'd packages from;\n"
    "                          default " INB_DEFAULT_PYTHON "\n"
    "  --exclude PATTERN       drop modules whose dotted name, or a "
    "parent's,\n"
    "                          matches the shell PATTERN (repeatable), e.g.\n"
    "                          'email' or '*.tests'\n"
    "  --entry MODULE[:FUNC]   make OUT a tool: run MODULE as __main__, or\n"
    "                          sys.exit(MODULE.FUNC()), with sys.argv =\n"
    "                          [OUT, args...]; no python options are read\n"
    "  --allow-filesystem      let OUT also import from sys.path on disk,\n"
    "                          after its own modules (at run time, the same:\n"
    "                          INBUILT_ALLOW_FILESYSTEM=1)\n"
    "  --exclude-data PATTERN  leave out package data files whose path in "
    "the\n"
    "                          archive (pkg/sub/file.txt) matches the shell\n"
    "                          PATTERN (repeatable), e.g. '*.csv'\n"
    "  --no-source             leave module source out (tracebacks then show\n"
    "                          no source lines; inspect.getsource fails)\n"
    "  --optimize N            compile with optimization level 0, 1 (like "
    "-O)\n"
    "                          or 2 (like -OO); default 0\n"
    "  --so-mode MODE          how extension modules and their libraries are\n"
    "                          loaded: shared (sealed memory files, one per\n"
    "                          node, no filesystem; the default), memory\n"
    "                          (the same, one per process) or cache (a\n"
    "                          per-user node-local directory, one copy per\n"
    "                          node); INBUILT_SO_MODE overrides it at run "
    "time\n"
    "  --extension NAME=FILES  build C/C++ extension module NAME (dotted) "
    "in:\n"
    "                          FILES, comma-separated, are sources (.c, .cc,\n"
    "                          .cpp, .cxx), objects (.o), libraries (.a, "
    ".so,\n"
    "                          -lNAME, -LDIR) and flags (-I, -D, -U);\n"
    "                          compiled with the target's headers and flags\n"
    "  --setup FILE            build in the extension modules of FILE, in\n"
    "                          the syntax of CPython's Modules/Setup\n"
    "                          (name sources... -lfoo -Idir; dotted names)\n"
    "  --bundle DIR            build in the extension modules captured in "
    "DIR\n"
    "                          by `inbuilt capture`\n"
    "  --cpython-source DIR    build in the standard library's extension\n"
    "                          modules that the target has only as .so files\n"
    "                          (_ctypes, _decimal, _ssl, ...), compiled from\n"
    "                          DIR, a CPython source tree of its version\n"
    "  --library               make OUT (DIR/libNAME.a) a static library for\n"
    "                          a host program with its own main() (C, C++,\n"
    "                          MPI): CPython and the modules, used through\n"
    "                          inbuilt.h; writes inbuilt.h, libNAME.pc and\n"
    "                          NAMEConfig.cmake (target inbuilt::NAME) "
    "beside\n"
    "                          it (docs/EMBEDDING.md)\n"
    "  --print-cache-stats     say what the build cache gave and what was "
    "made\n"
    "  -v, --verbose           print what is done, and how long it took\n"
    "\n"
    "build reuses bytecode, compressed source, lint results and the "
    "linked\n"
    "executable from a per-user cache ($INBUILT_BUILD_CACHE, `off` to turn "
    "it\n"
    "off; else $XDG_CACHE_HOME/inbuilt or ~/.cache/inbuilt), at most\n"
    "$INBUILT_BUILD_CACHE_MB megabytes (2048); `inbuilt cache` shows or "
    "clears it.\n"
    "\n"
    "capture runs COMMAND, a package's own build (python3 setup.py\n"
    "build_ext, pip wheel --no-build-isolation --no-deps .), with compiler\n"
    "and linker wrappers (CC, CXX, LDSHARED, LDCXXSHARED) that record each\n"
    "extension module it links: its objects, isolated, and libraries go to\n"
    "the bundle DIR, for build --bundle DIR.\n"
    "\n"
    "examples:\n"
    "  inbuilt build -o mypy\n"
    "  ./mypy -c 'import json, asyncio; print(\"ok\")'\n"
    "  inbuilt build --include mypkg --entry mypkg.cli:main -o mytool\n"
    "  inbuilt build --include mypkg \\\n"
    "      --extension mypkg._speedups=src/a.c,src/b.c,-lz -o app\n"
    "  (cd somepkg && inbuilt capture --out ../somepkg.bundle -- \\\n"
    "      python3 setup.py build_ext)\n"
    "  inbuilt build --path somepkg --include somepkg \\\n"
    "      --bundle somepkg.bundle -o app\n";

enum {
    OPT_INCLUDE = 256,
    OPT_PATH,
    OPT_PYTHON,
    OPT_EXCLUDE,
    OPT_ENTRY,
    OPT_ALLOW_FS,
    OPT_OPTIMIZE,
    OPT_SO_MODE,
    OPT_NO_DEPS,
    OPT_EXTENSION,
    OPT_SETUP,
    OPT_BUNDLE,
    OPT_CPYTHON_SOURCE,
    OPT_EXCLUDE_DATA,
    OPT_NO_SOURCE,
    OPT_CACHE_STATS,
    OPT_LIBRARY,
    OPT_HELP,
    OPT_VERSION,
};

/* The options of `inbuilt build`. */
struct options {
    const char *output;
    const char *python;
    const char *entry;
    struct inb_strv includes, paths, excludes, exclude_data;
    struct inb_exts exts; /* --extension and --setup, in order */
    int allow_filesystem;
    int no_deps;
    int no_source;
    int print_cache_stats;
    int library;
    int optimize;
    const char *so_mode;        /* "shared", "memory", "cache" or NULL */
    const char *cpython_source; /* --cpython-source DIR, or NULL */
};

static void
usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "%s: error: ", inb_argv0);
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n(see `%s --help`)\n", inb_argv0);
    exit(2);
}

/* Check --entry and return its module name (malloc'd). */
static char *
entry_module(const char *entry)
{
    const char *colon = strchr(entry, ':');
    size_t n = colon ? (size_t)(colon - entry) : strlen(entry);

    if (!inb_is_dotted_name(entry, n) ||
        (colon != NULL &&
         (strchr(colon + 1, '.') != NULL ||
          !inb_is_dotted_name(colon + 1, strlen(colon + 1))))) {
        usage_error("--entry %s: expected MODULE or MODULE:FUNC, like "
                    "mypkg.cli:main",
                    entry);
    }
    return inb_xstrndup(entry, n);
}

static void
parse_build(int argc, char **argv, struct options *o)
{
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'},
        {"include", required_argument, NULL, OPT_INCLUDE},
        {"path", required_argument, NULL, OPT_PATH},
        {"python", required_argument, NULL, OPT_PYTHON},
        {"exclude", required_argument, NULL, OPT_EXCLUDE},
        {"entry", required_argument, NULL, OPT_ENTRY},
        {"allow-filesystem", no_argument, NULL, OPT_ALLOW_FS},
        {"optimize", required_argument, NULL, OPT_OPTIMIZE},
        {"so-mode", required_argument, NULL, OPT_SO_MODE},
        {"no-deps", no_argument, NULL, OPT_NO_DEPS},
        {"extension", required_argument, NULL, OPT_EXTENSION},
        {"setup", required_argument, NULL, OPT_SETUP},
        {"bundle", required_argument, NULL, OPT_BUNDLE},
        {"cpython-source", required_argument, NULL, OPT_CPYTHON_SOURCE},
        {"exclude-data", required_argument, NULL, OPT_EXCLUDE_DATA},
        {"no-source", no_argument, NULL, OPT_NO_SOURCE},
        {"print-cache-stats", no_argument, NULL, OPT_CACHE_STATS},
        {"library", no_argument, NULL, OPT_LIBRARY},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;

    opterr = 0;
    while ((c = getopt_long(argc, argv, ":o:vh", longopts, NULL)) != -1) {
        switch (c) {
        case 'o':
            o->output = optarg;
            break;
        case OPT_INCLUDE:
            inb_strv_add(&o->includes, optarg);
            break;
        case OPT_PATH:
            inb_strv_add(&o->paths, optarg);
            break;
        case OPT_PYTHON:
            o->python = optarg;
            break;
        case OPT_EXCLUDE:
            inb_strv_add(&o->excludes, optarg);
            break;
        case OPT_ENTRY:
            o->entry = optarg;
            break;
        case OPT_ALLOW_FS:
            o->allow_filesystem = 1;
            break;
        case OPT_OPTIMIZE:
            if (strlen(optarg) != 1 || optarg[0] < '0' || optarg[0] > '2') {
                usage_error("--optimize %s: expected 0, 1 or 2", optarg);
            }
            o->optimize = optarg[0] - '0';
            break;
        case OPT_SO_MODE:
            if (strcmp(optarg, "shared") != 0 &&
                strcmp(optarg, "memory") != 0 &&
                strcmp(optarg, "cache") != 0) {
                usage_error("--so-mode %s: expected shared, memory or cache",
                            optarg);
            }
            o->so_mode = optarg;
            break;
        case OPT_NO_DEPS:
            o->no_deps = 1;
            break;
        case OPT_EXTENSION:
            inb_ext_option(&o->exts, optarg);
            break;
        case OPT_SETUP:
            inb_setup_read(&o->exts, optarg);
            break;
        case OPT_CPYTHON_SOURCE:
            o->cpython_source = optarg;
            break;
        case OPT_BUNDLE: {
            char *manifest = inb_xprintf("%s/" INB_BUNDLE_MANIFEST, optarg);

            inb_setup_read(&o->exts, manifest);
            free(manifest);
            break;
        }
        case OPT_EXCLUDE_DATA:
            inb_strv_add(&o->exclude_data, optarg);
            break;
        case OPT_NO_SOURCE:
            o->no_source = 1;
            break;
        case OPT_CACHE_STATS:
            o->print_cache_stats = 1;
            break;
        case OPT_LIBRARY:
            o->library = 1;
            break;
        case 'v':
            inb_verbose = 1;
            break;
        case 'h':
            fputs(usage_text, stdout);
            exit(0);
        case ':':
            usage_error("option %s needs a value", argv[optind - 1]);
            break;
        default:
            usage_error("unknown option %s", argv[optind - 1]);
        }
    }
    if (optind < argc) {
        usage_error("unexpected argument %s", argv[optind]);
    }
    if (o->output == NULL) {
        usage_error("%s", "build needs -o OUT, the executable to write");
    }
    if (o->library && o->entry != NULL) {
        usage_error("--entry %s: a library has no entry point; its host "
                    "program calls into Python (docs/EMBEDDING.md)",
                    o->entry);
    }
}

/* Add the search roots: --path, the environment's sys.path but its
 * standard library, then the standard library of the CPython linked
 * (its lib-dynload is dynload). */
static void
add_roots(struct inb_collect *c, const struct options *o,
          const struct inb_target *t, const char *dynload)
{
    size_t i;

    for (i = 0; i < o->paths.n; i++) {
        if (!inb_is_dir(o->paths.v[i])) {
            inb_fatal("--path %s: not a directory", o->paths.v[i]);
        }
        inb_collect_root(c, o->paths.v[i]);
    }
    for (i = 0; i < t->paths.n; i++) {
        if (!inb_strv_has(&t->stdlib_dirs, t->paths.v[i])) {
            inb_collect_root(c, t->paths.v[i]);
        }
    }
    inb_collect_root(c, t->stdlib_dir);
    inb_collect_root(c, dynload);
}

/* Include the top-level packages of the distributions that the
 * --include'd packages' distributions require, transitively, each named on
 * stderr; warn about requirements not installed in the environment. */
static void
add_requirements(struct inb_collect *c, const struct options *o,
                 const struct inb_target *t)
{
    struct inb_deps d;
    size_t i;

    inb_deps_resolve(t->python, &c->roots, &o->includes, &o->excludes, &d);
    for (i = 0; i < d.add.n; i++) {
        const char *name = d.add.v[i];

        if (inb_strv_has(&c->included, name) ||
            inb_collect_excluded(c, name)) {
            continue;
        }
        fprintf(stderr, "%s: also including %s: %s\n", inb_argv0, name,
                i < d.why.n ? d.why.v[i] : "required");
        inb_collect_include(c, name);
    }
    for (i = 0; i < d.missing.n; i++) {
        inb_warn("%s is not installed where --include looks; the "
                 "executable will lack it",
                 d.missing.v[i]);
    }
    inb_strv_free(&d.add);
    inb_strv_free(&d.why);
    inb_strv_free(&d.missing);
}

/* Check the built-in extensions against the collected modules: one may
 * replace a module (its .so, or a .py, as an extension wins over source
 * in CPython's path finder), never a package, and its parents must be
 * packages or absent. */
static void
check_extensions(const struct inb_collect *c, const struct inb_exts *exts)
{
    size_t i;

    for (i = 0; i < exts->n; i++) {
        const struct inb_ext *e = &exts->v[i];
        const struct inb_module *m = inb_collect_find(c, e->name);
        char *parent = inb_xstrdup(e->name), *dot;

        if (m != NULL &&
            (m->kind == INB_KIND_PACKAGE || m->kind == INB_KIND_NAMESPACE)) {
            inb_fatal("extension %s (%s): %s is a package (%s); an "
                      "extension module cannot replace it",
                      e->name, e->origin, e->name,
                      m->path ? m->path : "namespace");
        }
        while ((dot = strrchr(parent, '.')) != NULL) {
            *dot = '\0';
            m = inb_collect_find(c, parent);
            if (m != NULL && m->kind != INB_KIND_PACKAGE &&
                m->kind != INB_KIND_NAMESPACE) {
                inb_fatal("extension %s (%s): its parent %s is a module "
                          "(%s), not a package",
                          e->name, e->origin, parent, m->path);
            }
        }
        free(parent);
    }
}

static int
cmd_build(int argc, char **argv)
{
    struct options o = {0};
    struct inb_target t;
    struct inb_collect c = {0};
    struct inb_output out = {0};
    struct inb_library lib = {0};
    struct inb_archive_plan plan = {0};
    struct inb_archive_sizes sizes = {0};
    unsigned char *archive = NULL;
    size_t size = 0, i, nlibs;
    const char *const *libs;
    char *entry_mod = NULL, *dynload;
    double t0 = inb_now();
    struct stat st;

    parse_build(argc, argv, &o);
    if (o.entry != NULL) {
        entry_mod = entry_module(o.entry);
    }
    inb_step_done("start");
    inb_link_prepare(&out, o.output);
    inb_target_query(&t, o.python ? o.python : INB_DEFAULT_PYTHON);
    if (o.library) {
        inb_library_prepare(&lib, o.output);
    }
    inb_step_done("target query");
    inb_runtime_start(&t); /* compiled meanwhile if needed */
    dynload = inb_xprintf("%s/lib-dynload", t.platstdlib_dir);
    add_roots(&c, &o, &t, dynload);
    for (i = 0; i < o.excludes.n; i++) {
        inb_collect_exclude(&c, o.excludes.v[i]);
    }
    inb_collect_stdlib(&c, t.stdlib_dir, dynload);
    for (i = 0; i < o.includes.n; i++) {
        inb_collect_include(&c, o.includes.v[i]);
    }
    if (!o.no_deps && o.includes.n > 0) {
        add_requirements(&c, &o, &t);
    }
    inb_step_done("collect and requirements");
    inb_collect_finish(&c);
    if (inb_collect_find(&c, "encodings") == NULL) {
        inb_fatal("the package encodings is needed for Python to start; do "
                  "not --exclude it");
    }
    if (entry_mod != NULL && inb_collect_find(&c, entry_mod) == NULL) {
        inb_fatal("--entry %s: module %s is not in the executable; add "
                  "--include %s",
                  o.entry, entry_mod, entry_mod);
    }

    if (o.cpython_source != NULL) {
        inb_cpysource_declare(&o.exts, &c, o.cpython_source);
    }
    check_extensions(&c, &o.exts);
    inb_ext_build(&o.exts); /* every extension error before compiling */
    inb_step_done("extensions");
    /* A library carries zlib and expat inside: shared objects needing
     * them get them embedded. */
    inb_shlib_init(o.library ? lib.dynamic : t.libs, t.prefix);
    plan.c = &c;
    plan.exts = &o.exts;
    plan.exclude_data = &o.exclude_data;
    plan.python = t.python;
    plan.output = o.output;
    plan.entry = o.entry;
    plan.so_mode = o.so_mode;
    plan.optimize = o.optimize;
    plan.source = !o.no_source;
    plan.allow_filesystem = o.allow_filesystem;
    inb_write_archive(&plan, &archive, &size, &sizes);
    inb_note("archive: %zu modules, %zu bytes", sizes.nmods, size);
    libs = inb_shlib_base_libraries(&nlibs);
    if (o.library) {
        inb_library_write(&lib, &out, archive, size, libs, nlibs, &o.exts);
    }
    else {
        inb_link_run(&out, archive, size, libs, nlibs, &o.exts);
    }
    inb_step_done("link");
    inb_cache_finish(o.print_cache_stats);
    inb_free(archive);
    if (stat(o.output, &st) < 0) {
        inb_fatal("cannot stat %s:", o.output);
    }
    fprintf(stderr,
            "%s: wrote %s: %zu modules (%.1f MB of bytecode, %.1f MB of "
            "source, data and metadata), %.1f MB, in %.1f s\n",
            inb_argv0, o.output, sizes.nmods, (double)sizes.bytes / 1e6,
            (double)sizes.extra / 1e6, (double)st.st_size / 1e6,
            inb_now() - t0);
    free(entry_mod);
    free(dynload);
    return 0;
}

/* A build moves hundreds of megabytes through fresh buffers (shared
 * objects, cache entries, the archive), faulted in 4 KiB at a time unless
 * glibc's malloc asks for transparent huge pages, which only its start-up
 * tunable turns on: run again, once, with glibc.malloc.hugetlb=1 added to
 * GLIBC_TUNABLES (the tools the build runs inherit it).  On virtual
 * machines, where a page fault costs about 10 us, this takes a no-op numpy
 * rebuild from 50,000 faults to 13,000 and halves its CPU time.  Freed
 * blocks up to 32 MB (the most glibc allows) stay in the heap for the next
 * buffer (mmap_threshold, trim_threshold) instead of going back to the
 * kernel, which would zero fresh pages for each: 4,500 faults to 1,600.
 * When the exec fails the build goes on without. */
#define MALLOC_TUNABLES                                            \
    "glibc.malloc.hugetlb=1:glibc.malloc.mmap_threshold=33554432:" \
    "glibc.malloc.trim_threshold=2147483647"

static void
reexec_with_huge_pages(char **argv)
{
    const char *tunables = getenv("GLIBC_TUNABLES");
    char *value;

    if (tunables != NULL && strstr(tunables, "glibc.malloc.hugetlb") != NULL) {
        return;
    }
    value =
        inb_xprintf("%s%s" MALLOC_TUNABLES, tunables != NULL ? tunables : "",
                    tunables != NULL && *tunables != '\0' ? ":" : "");
    if (setenv("GLIBC_TUNABLES", value, 1) == 0) {
        execv("/proc/self/exe", argv);
        if (tunables != NULL) {
            setenv("GLIBC_TUNABLES", tunables, 1);
        }
        else {
            unsetenv("GLIBC_TUNABLES");
        }
    }
    free(value);
}

int
main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage_text, stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        fputs(usage_text, stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("inbuilt %s for CPython 3.10 to 3.13 (default --python "
               "%s)\n",
               INBUILT_VERSION, INB_DEFAULT_PYTHON);
        return 0;
    }
    if (strcmp(argv[1], "build") == 0) {
        reexec_with_huge_pages(argv);
        return cmd_build(argc - 1, argv + 1);
    }
    if (strcmp(argv[1], "cache") == 0) {
        return inb_cache_main(argc - 1, argv + 1);
    }
    if (strcmp(argv[1], "capture") == 0) {
        return inb_capture_main(argc - 1, argv + 1);
    }
    if (strcmp(argv[1], "wrap") == 0) {
        return inb_capture_wrap(argc - 1, argv + 1);
    }
    if (strcmp(argv[1], "verify") == 0) {
        return inb_verify_main(argc - 1, argv + 1);
    }
    if (strcmp(argv[1], "runtime-objects") == 0) {
        return inb_runtime_objects_main(argc - 1, argv + 1);
    }
    usage_error("unknown command %s; the commands are build, cache, capture "
                "and verify",
                argv[1]);
    return 2;
}
