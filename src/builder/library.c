/* library.c: `inbuilt build --library -o DIR/libNAME.a`.
 *
 * The library holds one relocatable object, made in three steps:
 *
 *   ld -r -d -u API... archive.o [built-in extensions] libinbuilt-rt.a
 *       --whole-archive libpython3.X.a --no-whole-archive libz.a libexpat.a
 *   objcopy --remove-section=.group --wildcard -G 'Py*' -G '_Py*' -G API...
 *   ar rcs libNAME.a
 *
 * ld -r resolves every reference between the runtime, CPython, the
 * archive object and the static zlib and expat, so that after objcopy has
 * made every other global symbol local (whatever its visibility; COMDAT
 * groups dissolved, as isolate.c does for extensions) a host that defines
 * its own crc32, inflate, main_loop or inb_archive_find still links, and
 * each side keeps its own.  The whole of libpython goes in, since extension
 * modules loaded later may use any of the C API; main.o of the runtime is
 * left out (the host has its main).  What stays global: the CPython C API
 * and the functions of include/inbuilt.h, and what the object needs from
 * the C library and the libraries of libpython that are the C library's.
 *
 * Beside it go what a host's build needs (docs/EMBEDDING.md): inbuilt.h;
 * libNAME.pc and NAMEConfig.cmake, both relative to their own directory,
 * so the directory can be moved; and libNAME.syms, the dynamic list that
 * makes the host export the C API for the extension modules the runtime
 * loads.  libpython3.X.a is not position-independent, so the host links
 * with -no-pie, which both files say.
 */
#include "library.h"

#include <ctype.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "inbuilt.h"
#include "isolate.h"
#include "runtime.h"
#include "seal.h"
#include "spawn.h"

/* include/inbuilt.h, carried as text (the Makefile's py_to_c rule). */
extern const char inb_header_h[];
extern const size_t inb_header_h_len;

/* The macro that marks each function of the public API in inbuilt.h. */
#define API_MARK "INBUILT_API "

/* libpython's libraries that are part of the C library: linked by the
 * host, never copied in. */
static const char *const libc_parts[] = {"c",    "m",  "dl",     "pthread",
                                         "util", "rt", "resolv", NULL};

/* Run a tool and exit with its command line when it fails. */
static void
run(char **argv, const char *why)
{
    int rc = inb_spawn_run(argv, NULL);

    if (rc != 0) {
        inb_spawn_print("failed command: ", argv);
        inb_fatal("%s failed (exit status %d); nothing was written", why, rc);
    }
}

/* Free a NULL-terminated argv vector of argc words and reset it. */
static void
argv_reset(char ***argv, size_t *argc)
{
    size_t i;

    for (i = 0; i < *argc; i++) {
        free((*argv)[i]);
    }
    free(*argv);
    *argv = NULL;
    *argc = 0;
}

/* Split words of a tool named by environment variable env, or dflt. */
static void
tool(const char *env, const char *dflt, char ***argv, size_t *argc)
{
    const char *v = getenv(env);

    inb_split_words(v && *v ? v : dflt, argv, argc);
}

/* The path of static library file (libz.a) in one of dirs or where the
 * compiler finds it (malloc'd), or NULL. */
static char *
find_archive(const char *file, const struct inb_strv *dirs)
{
    struct inb_buf out = {0};
    char **argv = NULL, *opt, *found = NULL;
    size_t argc = 0, i;

    for (i = 0; i < dirs->n; i++) {
        found = inb_xprintf("%s/%s", dirs->v[i], file);
        if (access(found, R_OK) == 0) {
            return found;
        }
        free(found);
    }
    inb_link_cc(&argv, &argc);
    opt = inb_xprintf("-print-file-name=%s", file);
    inb_argv_add(&argv, &argc, opt);
    found = NULL;
    if (inb_spawn_run(argv, &out) == 0 && out.len > 0) {
        inb_buf_add(&out, "", 1);
        out.data[strcspn(out.data, "\n")] = '\0';
        /* Not found: the compiler echoes the bare name. */
        if (strchr(out.data, '/') != NULL && access(out.data, R_OK) == 0) {
            found = inb_xstrdup(out.data);
        }
    }
    inb_buf_free(&out);
    argv_reset(&argv, &argc);
    free(opt);
    return found;
}

void
inb_library_prepare(struct inb_library *l, const char *path)
{
    struct inb_strv dirs = {0};
    struct inb_buf dynamic = {0};
    char *copy = inb_xstrdup(path), *base, **words = NULL;
    size_t n, nwords = 0, i, j;

    base = basename(copy);
    n = strlen(base);
    if (n <= 5 || strncmp(base, "lib", 3) != 0 ||
        strcmp(base + n - 2, ".a") != 0) {
        inb_fatal("--library -o %s: the library's file name must be "
                  "libNAME.a, like libinsitu.a",
                  path);
    }
    l->name = inb_xprintf("%.*s", (int)(n - 5), base + 3);
    for (i = 0; l->name[i]; i++) {
        if (!isalnum((unsigned char)l->name[i]) &&
            strchr("_-.", l->name[i]) == NULL) {
            inb_fatal("--library -o %s: NAME in libNAME.a may hold only "
                      "letters, digits, '_', '-' and '.' (it names the "
                      "pkg-config and CMake packages)",
                      path);
        }
    }
    free(copy);
    copy = inb_xstrdup(path);
    l->dir = inb_xstrdup(dirname(copy));
    free(copy);

    inb_split_words(inb_py->libs, &words, &nwords);
    for (i = 0; i < nwords; i++) {
        if (strncmp(words[i], "-L", 2) == 0 && words[i][2] != '\0') {
            inb_strv_add(&dirs, words[i] + 2);
        }
    }
    for (i = 0; i < nwords; i++) {
        const char *w = words[i];
        char *file, *found = NULL;
        int libc = 0;

        if (strncmp(w, "-l", 2) == 0) {
            for (j = 0; libc_parts[j] != NULL; j++) {
                libc |= strcmp(w + 2, libc_parts[j]) == 0;
            }
            if (!libc) {
                file = inb_xprintf("lib%s.a", w + 2);
                found = find_archive(file, &dirs);
                free(file);
            }
        }
        if (found != NULL) {
            inb_strv_add(&l->archives, found);
            free(found);
            continue;
        }
        if (strncmp(w, "-l", 2) == 0 && !libc) {
            inb_warn("no static lib%s.a found: the host links lib%s.so, "
                     "whose symbols a host's own of the same name would "
                     "replace",
                     w + 2, w + 2);
        }
        inb_buf_addstr(&dynamic, dynamic.len ? " " : "");
        inb_buf_addstr(&dynamic, w);
    }
    inb_buf_add(&dynamic, "", 1);
    l->dynamic = dynamic.data;
    for (i = 0; i < nwords; i++) {
        free(words[i]);
    }
    free(words);
    inb_strv_free(&dirs);
}

/* An empty table of built-in extensions (src/runtime/builtin.h). */
static const char empty_table[] =
    "struct inb_builtin {\n"
    "    const char *name;\n"
    "    void *init;\n"
    "};\n"
    "__attribute__((visibility(\"hidden\"))) const struct inb_builtin\n"
    "    inb_builtin_table[] = {{0, 0}};\n";

/* Write archive[0..size) into a new temporary directory (removed at exit)
 * with *asm_path (malloc'd), the assembler source of the library's archive
 * object: the archive .incbin'd into read-only data between the hidden
 * symbols inb_archive_blob and inb_archive_blob_end (the runtime takes its
 * size from them: no segment of its own is placed into a host's link),
 * and the seal the runtime refers to, zeros, since a host's executable is
 * not the builder's to seal.  Returns the directory (malloc'd). */
static char *
blob_source(const unsigned char *archive, size_t size, char **asm_path)
{
    const char *p;
    struct inb_buf quoted = {0};
    char *work, *bin, *src;

    work = inb_new_temp_dir("inbuilt");
    bin = inb_xprintf("%s/archive.bin", work);
    inb_write_file(bin, archive, size);
    for (p = bin; *p; p++) {
        inb_buf_addstr(&quoted, *p == '"' || *p == '\\' ? "\\" : "");
        inb_buf_add(&quoted, p, 1);
    }
    inb_buf_add(&quoted, "", 1);
    src = inb_xprintf("\t.section .rodata.inbuilt,\"a\",@progbits\n"
                      "\t.balign 64\n"
                      "\t.globl inb_archive_blob\n"
                      "\t.hidden inb_archive_blob\n"
                      "\t.type inb_archive_blob, @object\n"
                      "inb_archive_blob:\n"
                      "\t.incbin \"%s\"\n"
                      "\t.globl inb_archive_blob_end\n"
                      "\t.hidden inb_archive_blob_end\n"
                      "inb_archive_blob_end:\n"
                      "\t.balign 8\n"
                      "\t.globl inb_seal_note\n"
                      "\t.hidden inb_seal_note\n"
                      "inb_seal_note:\n"
                      "\t.zero %d\n"
                      "\t.section .note.GNU-stack,\"\",@progbits\n",
                      quoted.data, INB_SEAL_SIZE);
    *asm_path = inb_xprintf("%s/archive.S", work);
    inb_write_file(*asm_path, src, strlen(src));
    free(src);
    free(bin);
    inb_buf_free(&quoted);
    return work;
}

/* The names of the functions of the public API: the identifier before the
 * '(' that follows each API_MARK of inbuilt.h. */
static void
api_names(struct inb_strv *names)
{
    const char *p = inb_header_h, *end = inb_header_h + inb_header_h_len;

    while ((p = strstr(p, API_MARK)) != NULL && p < end) {
        const char *paren = strchr(p, '('), *q;

        /* Skip the #define of the mark itself. */
        if (p >= inb_header_h + 8 && strncmp(p - 8, "#define ", 8) == 0) {
            p += strlen(API_MARK);
            continue;
        }
        if (paren == NULL) {
            break;
        }
        q = paren;
        while (q > p && (isalnum((unsigned char)q[-1]) || q[-1] == '_')) {
            q--;
        }
        if (q < paren) {
            char *name = inb_xprintf("%.*s", (int)(paren - q), q);

            inb_strv_add(names, name);
            free(name);
        }
        p = paren;
    }
    if (names->n == 0) {
        inb_fatal("inbuilt.h as built in names no API function");
    }
}

/* Compile each C source among objects into an object of the same name
 * with .o added, in place. */
static void
compile_sources(struct inb_strv *objects)
{
    char **argv = NULL, *obj;
    size_t argc = 0, i, n;

    for (i = 0; i < objects->n; i++) {
        n = strlen(objects->v[i]);
        if (n < 2 || strcmp(objects->v[i] + n - 2, ".c") != 0) {
            continue;
        }
        obj = inb_xprintf("%s.o", objects->v[i]);
        inb_link_cc(&argv, &argc);
        inb_argv_add(&argv, &argc, "-c");
        inb_argv_add(&argv, &argc, "-o");
        inb_argv_add(&argv, &argc, obj);
        inb_argv_add(&argv, &argc, objects->v[i]);
        run(argv, "compiling the built-in extensions' table");
        argv_reset(&argv, &argc);
        free(objects->v[i]);
        objects->v[i] = obj;
    }
}

/* Write to path the symbols to keep global in the object combined, one a
 * line: those of the C API (Py*, _Py*) that it defines with default
 * visibility (CPython's internal ones are hidden), and api's, each of which
 * it must define. */
static void
keep_list(const char *combined, const struct inb_strv *api, const char *path)
{
    struct inb_strv defined = {0};
    struct inb_buf b = {0};
    size_t i;

    inb_isolate_defined("the library", combined, &defined);
    for (i = 0; i < api->n; i++) {
        if (!inb_strv_has(&defined, api->v[i])) {
            inb_fatal("the runtime %s defines no %s, which inbuilt.h "
                      "declares; rebuild inbuilt",
                      inb_runtime_library(inb_py), api->v[i]);
        }
    }
    for (i = 0; i < defined.n; i++) {
        const char *s = defined.v[i];

        if (strncmp(s, "Py", 2) == 0 || strncmp(s, "_Py", 3) == 0 ||
            inb_strv_has(api, s)) {
            inb_buf_addstr(&b, s);
            inb_buf_addstr(&b, "\n");
        }
    }
    inb_buf_add(&b, "", 1);
    inb_write_file(path, b.data, strlen(b.data));
    inb_buf_free(&b);
    inb_strv_free(&defined);
}

/* Link everything into one relocatable object, out, whose only global
 * definitions are the C API's and api's. */
static void
link_object(const struct inb_library *l, const char *blob,
            const struct inb_strv *objects, const struct inb_strv *api,
            const char *work, const char *out)
{
    char **argv = NULL, *combined = inb_xprintf("%s/combined.o", work);
    char *keep, *opt;
    size_t argc = 0, i;

    tool("INBUILT_LD", "ld", &argv, &argc);
    inb_argv_add(&argv, &argc, "-r");
    inb_argv_add(&argv, &argc, "-d");
    inb_argv_add(&argv, &argc, "-o");
    inb_argv_add(&argv, &argc, combined);
    for (i = 0; i < api->n; i++) {
        inb_argv_add(&argv, &argc, "-u");
        inb_argv_add(&argv, &argc, api->v[i]);
    }
    inb_argv_add(&argv, &argc, blob);
    for (i = 0; i < objects->n; i++) {
        inb_argv_add(&argv, &argc, objects->v[i]);
    }
    inb_argv_add(&argv, &argc, inb_runtime_library(inb_py));
    inb_argv_add(&argv, &argc, "--whole-archive");
    inb_argv_add(&argv, &argc, inb_py->staticlib);
    inb_argv_add(&argv, &argc, "--no-whole-archive");
    for (i = 0; i < l->archives.n; i++) {
        inb_argv_add(&argv, &argc, l->archives.v[i]);
    }
    run(argv, "linking the library's object (ld -r)");
    argv_reset(&argv, &argc);

    keep = inb_xprintf("%s/keep.txt", work);
    keep_list(combined, api, keep);
    opt = inb_xprintf("--keep-global-symbols=%s", keep);
    tool("INBUILT_OBJCOPY", "objcopy", &argv, &argc);
    inb_argv_add(&argv, &argc, "--remove-section=.group");
    inb_argv_add(&argv, &argc, opt);
    inb_argv_add(&argv, &argc, combined);
    inb_argv_add(&argv, &argc, out);
    run(argv, "making the library's internal symbols local (objcopy)");
    argv_reset(&argv, &argc);
    unlink(combined);
    free(combined);
    free(keep);
    free(opt);
}

/* The libraries and flags a host links besides the library itself, as
 * words: built-in extensions' libraries, libpython's dynamic ones, and the
 * base libraries embedded shared objects need, loaded from the start. */
static void
host_libs(const struct inb_library *l, const struct inb_strv *ext_libs,
          const char *const *libs, size_t nlibs, struct inb_strv *words)
{
    char **split = NULL;
    size_t nsplit = 0, i;

    for (i = 0; i < ext_libs->n; i++) {
        inb_strv_add(words, ext_libs->v[i]);
    }
    inb_split_words(l->dynamic, &split, &nsplit);
    for (i = 0; i < nsplit; i++) {
        inb_strv_add(words, split[i]);
    }
    argv_reset(&split, &nsplit);
    if (nlibs > 0) {
        inb_strv_add(words, "-Wl,--push-state,--no-as-needed");
        for (i = 0; i < nlibs; i++) {
            inb_strv_add(words, libs[i]);
        }
        inb_strv_add(words, "-Wl,--pop-state");
    }
}

/* Write text to a temporary file in dir named after name; return its path
 * (malloc'd, removed at exit unless renamed). */
static char *
write_temp(const char *dir, const char *name, const char *text, size_t n)
{
    char *tmp = inb_xprintf("%s/.%s.inbuilt-XXXXXX", dir, name);
    int fd = mkstemp(tmp);
    FILE *f;

    if (fd < 0) {
        inb_fatal("cannot create a file in %s:", dir);
    }
    inb_cleanup_add(tmp);
    f = fdopen(fd, "w");
    if (f == NULL || fwrite(text, 1, n, f) != n || fclose(f) != 0) {
        inb_fatal("cannot write %s:", tmp);
    }
    if (chmod(tmp, 0644) < 0) {
        inb_fatal("cannot chmod %s:", tmp);
    }
    return tmp;
}

/* head (malloc'd, freed), then words each preceded by sep (but the first
 * when head ends a list's opening), then tail: a new string. */
static char *
compose(char *head, int opening, const struct inb_strv *words, const char *sep,
        const char *tail)
{
    struct inb_buf b = {0};
    size_t i;

    inb_buf_addstr(&b, head);
    free(head);
    for (i = 0; i < words->n; i++) {
        inb_buf_addstr(&b, i > 0 || !opening ? sep : "");
        inb_buf_addstr(&b, words->v[i]);
    }
    inb_buf_add(&b, tail, strlen(tail) + 1);
    return b.data;
}

/* The pkg-config file, relative to its own directory (${pcfiledir}). */
static char *
pc_text(const struct inb_library *l, const struct inb_strv *words)
{
    const struct inb_target *t = inb_py;
    int two = strcmp(t->include, t->platinclude) != 0;

    return compose(
        inb_xprintf("# Written by inbuilt " INBUILT_VERSION
                    " (docs/EMBEDDING.md): CPython %s and\n"
                    "# its modules embedded, for a host program with its own "
                    "main().\n"
                    "libdir=${pcfiledir}\n"
                    "includedir=${pcfiledir}\n"
                    "\n"
                    "Name: lib%s\n"
                    "Description: CPython %s with its modules in memory "
                    "(inbuilt)\n"
                    "Version: " INBUILT_VERSION "\n"
                    "Cflags: -I${includedir} -I%s%s%s\n"
                    "Libs: ${libdir}/lib%s.a -no-pie "
                    "-Wl,--dynamic-list=${libdir}/lib%s.syms",
                    t->version, l->name, t->version, t->include,
                    two ? " -I" : "", two ? t->platinclude : "", l->name,
                    l->name),
        0, words, " ", "\n");
}

/* The CMake package: the imported target inbuilt::NAME. */
static char *
cmake_text(const struct inb_library *l, const struct inb_strv *words)
{
    const struct inb_target *t = inb_py;
    const char *n = l->name;
    char *tail = inb_xprintf("\")\nendif()\nset(%s_FOUND TRUE)\n", n);
    char *text;

    text = compose(
        inb_xprintf(
            "# Written by inbuilt " INBUILT_VERSION " (docs/EMBEDDING.md): "
            "find_package(%s) gives\n"
            "# inbuilt::%s, CPython %s and its modules embedded, for a host\n"
            "# program with its own main().\n"
            "cmake_minimum_required(VERSION 3.13)\n"
            "if(NOT TARGET inbuilt::%s)\n"
            "  add_library(inbuilt::%s STATIC IMPORTED)\n"
            "  set_target_properties(inbuilt::%s PROPERTIES\n"
            "    IMPORTED_LOCATION \"${CMAKE_CURRENT_LIST_DIR}/lib%s.a\"\n"
            "    IMPORTED_LINK_INTERFACE_LANGUAGES \"C\"\n"
            "    INTERFACE_INCLUDE_DIRECTORIES "
            "\"${CMAKE_CURRENT_LIST_DIR};%s;%s\"\n"
            "    INTERFACE_LINK_OPTIONS \"-no-pie;"
            "LINKER:--dynamic-list=${CMAKE_CURRENT_LIST_DIR}/lib%s.syms\"\n"
            "    INTERFACE_LINK_LIBRARIES \"",
            n, n, t->version, n, n, n, n, t->include, t->platinclude, n),
        1, words, ";", tail);
    free(tail);
    return text;
}

/* The dynamic list of the symbols a host exports. */
static const char syms_text[] =
    "/* Written by inbuilt: the symbols a host program exports so that the\n"
    " * extension modules the library loads find the CPython C API. */\n"
    "{\n"
    "    Py*;\n"
    "    _Py*;\n"
    "};\n";

void
inb_library_write(const struct inb_library *l, struct inb_output *o,
                  const unsigned char *archive, size_t size,
                  const char *const *libs, size_t nlibs,
                  const struct inb_exts *exts)
{
    struct inb_strv api = {0}, objects = {0}, ext_libs = {0}, words = {0};
    char **argv = NULL, *work, *asm_path, *blob, *object, *text;
    char *tmp[4], *final[4];
    size_t argc = 0, i;

    api_names(&api);
    work = blob_source(archive, size, &asm_path);
    blob = inb_xprintf("%s/archive.o", work);
    inb_link_cc(&argv, &argc);
    inb_argv_add(&argv, &argc, "-c");
    inb_argv_add(&argv, &argc, "-o");
    inb_argv_add(&argv, &argc, blob);
    inb_argv_add(&argv, &argc, asm_path);
    run(argv, "assembling the archive");
    argv_reset(&argv, &argc);
    inb_ext_link_words(exts, &objects, &ext_libs);
    if (exts->n == 0) {
        /* The runtime's weak reference to the table must not stay
         * undefined: a host's symbol of that name would fill it. */
        text = inb_xprintf("%s/builtin-table.c", work);
        inb_write_file(text, empty_table, strlen(empty_table));
        inb_strv_add(&objects, text);
        free(text);
    }
    compile_sources(&objects);
    object = inb_xprintf("%s/lib%s.o", work, l->name);
    link_object(l, blob, &objects, &api, work, object);

    /* mkstemp made o->tmp, which ar would take for a bad archive. */
    unlink(o->tmp);
    tool("INBUILT_AR", "ar", &argv, &argc);
    inb_argv_add(&argv, &argc, "rcs");
    inb_argv_add(&argv, &argc, o->tmp);
    inb_argv_add(&argv, &argc, object);
    run(argv, "writing the library (ar)");
    argv_reset(&argv, &argc);
    if (chmod(o->tmp, 0644) < 0) {
        inb_fatal("cannot chmod %s:", o->tmp);
    }

    host_libs(l, &ext_libs, libs, nlibs, &words);
    final[0] = inb_xprintf("%s/inbuilt.h", l->dir);
    tmp[0] = write_temp(l->dir, "inbuilt.h", inb_header_h, inb_header_h_len);
    final[1] = inb_xprintf("%s/lib%s.syms", l->dir, l->name);
    tmp[1] = write_temp(l->dir, "syms", syms_text, strlen(syms_text));
    text = pc_text(l, &words);
    final[2] = inb_xprintf("%s/lib%s.pc", l->dir, l->name);
    tmp[2] = write_temp(l->dir, "pc", text, strlen(text));
    free(text);
    text = cmake_text(l, &words);
    final[3] = inb_xprintf("%s/%sConfig.cmake", l->dir, l->name);
    tmp[3] = write_temp(l->dir, "cmake", text, strlen(text));
    free(text);
    for (i = 0; i < 4; i++) {
        if (rename(tmp[i], final[i]) < 0) {
            inb_fatal("cannot rename %s to %s:", tmp[i], final[i]);
        }
        inb_cleanup_forget(tmp[i]);
        free(tmp[i]);
        free(final[i]);
    }
    if (rename(o->tmp, o->path) < 0) {
        inb_fatal("cannot rename %s to %s:", o->tmp, o->path);
    }
    inb_cleanup_forget(o->tmp);
    inb_strv_free(&api);
    inb_strv_free(&objects);
    inb_strv_free(&ext_libs);
    inb_strv_free(&words);
    free(object);
    free(blob);
    free(asm_path);
    free(work);
}
