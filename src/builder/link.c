/* link.c: link the executable without its archive (the base), place the
 * archive into it and seal it.
 *
 * The archive goes into a section of its own (.inbuilt) that a linker
 * script places after .bss, in a read-only segment of its own, the last of
 * the file: when a copy of the executable is cut short, what is missing is
 * the archive (the code and the dynamic loader's data come first and are
 * whole), so the runtime can start and say so.  The base is linked with a
 * placeholder there, which place.c replaces by the archive; so the base
 * depends only on the link's command and files, and the build cache keeps
 * it: a rebuild whose code did not change does not link.  Every build,
 * clean or not, is base + place + seal, so both give the same bytes.  The
 * seal (src/common/seal.h) is an ELF note linked as zeros and filled in
 * once the archive is placed. */
#include "link.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive.h"
#include "cache.h"
#include "extension.h"
#include "place.h"
#include "runtime.h"
#include "seal.h"
#include "spawn.h"
#include "target.h"
#include "util.h"

void
inb_link_prepare(struct inb_output *o, const char *path)
{
    char *copy, *dir;
    size_t n = strlen(path);
    int fd;

    if (n == 0) {
        inb_fatal("-o needs the path of the executable to write");
    }
    if (path[n - 1] == '/' || inb_is_dir(path)) {
        inb_fatal("-o %s is a directory; give the path of the executable to "
                  "write, like %s%sapp",
                  path, path, path[n - 1] == '/' ? "" : "/");
    }
    copy = inb_xstrdup(path);
    dir = inb_xstrdup(dirname(copy));
    free(copy);
    if (!inb_is_dir(dir)) {
        inb_fatal("-o %s: directory %s does not exist", path, dir);
    }
    copy = inb_xstrdup(path);
    o->path = inb_xstrdup(path);
    o->tmp = inb_xprintf("%s/.%s.inbuilt-XXXXXX", dir, basename(copy));
    free(copy);
    fd = mkstemp(o->tmp);
    if (fd < 0) {
        inb_fatal("-o %s: cannot create a file in %s:", path, dir);
    }
    close(fd);
    inb_cleanup_add(o->tmp);
    free(dir);
}

/* The linker script fragment that puts .inbuilt in a segment of its own
 * after everything else the executable loads. */
static const char segment_script[] =
    "SECTIONS\n"
    "{\n"
    "  .inbuilt ALIGN(CONSTANT(MAXPAGESIZE)) : { KEEP(*(.inbuilt)) }\n"
    "}\n"
    "INSERT AFTER .bss;\n";

/* The assembler source of the base: the seal note, zeros, at the hidden
 * symbol inb_seal_note, and INB_PLACE_PLACEHOLDER zero bytes in section
 * .inbuilt at the hidden symbol inb_archive_blob, where place.c puts the
 * archive. */
static char *
blob_source(void)
{
    return inb_xprintf("\t.section .note.inbuilt,\"a\",@note\n"
                       "\t.balign 4\n"
                       "\t.long %d, %d, 0x%x\n"
                       "\t.asciz \"%s\"\n"
                       "\t.balign 4\n"
                       "\t.globl inb_seal_note\n"
                       "\t.hidden inb_seal_note\n"
                       "\t.type inb_seal_note, @object\n"
                       "inb_seal_note:\n"
                       "\t.zero %d\n"
                       "\t.section " INB_PLACE_SECTION ",\"a\",@progbits\n"
                       "\t.balign 64\n"
                       "\t.globl inb_archive_blob\n"
                       "\t.hidden inb_archive_blob\n"
                       "\t.type inb_archive_blob, @object\n"
                       "inb_archive_blob:\n"
                       "\t.zero %d\n"
                       "\t.section .note.GNU-stack,\"\",@progbits\n",
                       (int)sizeof(INB_SEAL_NAME), INB_SEAL_SIZE,
                       INB_SEAL_TYPE, INB_SEAL_NAME, INB_SEAL_SIZE,
                       INB_PLACE_PLACEHOLDER);
}

/* Add to k what the link's command line argv[0..argc) depends on: each
 * word, and for a word naming a file, that file's bytes (through the
 * digest kept under its identity: libpython, the C library and the
 * runtime library are hashed once while they are unchanged). */
static void
key_link(struct inb_cache_key *k, char **argv, size_t argc, const char *work)
{
    size_t i, wl = strlen(work);
    struct stat st;

    for (i = 0; i < argc; i++) {
        const char *a = argv[i];

        if (strncmp(a, work, wl) == 0 && a[wl] == '/') {
            inb_cache_key_str(k, a + wl);
            inb_cache_key_file(k, a);
        }
        else if (strncmp(a, "-Wl,-T,", 7) == 0) {
            inb_cache_key_str(k, "-Wl,-T,");
        }
        else if (stat(a, &st) == 0 && S_ISREG(st.st_mode)) {
            inb_cache_key_content(k, a);
        }
        else {
            inb_cache_key_str(k, a);
        }
    }
}

/* Link argv into base (in work), report a failure as inb_link_run says,
 * and append the executable's bytes to out. */
static void
link_base(struct inb_output *o, char **argv, const char *base,
          const struct inb_exts *exts, struct inb_buf *out)
{
    struct inb_buf messages = {0};
    int rc = inb_spawn_run_stderr(argv, &messages);

    if (rc != 0) {
        /* An undefined symbol of an extension is its author's to fix:
         * say which; anything else, show the linker's own words. */
        if (inb_ext_explain_link(exts, messages.len ? messages.data : "") ==
            0) {
            fputs(messages.len ? messages.data : "", stderr);
            inb_spawn_print("failed command: ", argv);
        }
        inb_fatal("linking %s failed (exit status %d); nothing was written",
                  o->path, rc);
    }
    fputs(messages.len ? messages.data : "", stderr);
    inb_buf_free(&messages);
    if (inb_buf_readfile(out, base) < 0) {
        inb_fatal("cannot read %s:", base);
    }
}

/* Write the executable p with archive[0..size) to path, then fill in its
 * seal (reading only the loaded segments before the archive).  Exits on
 * failure. */
static void
write_placed(const char *path, const struct inb_placed *p,
             const unsigned char *archive, size_t size)
{
    static const char zeros[64];
    size_t total = p->head.len + size + p->pad + p->tail.len;
    unsigned char *file;
    char err[256];
    int fd = open(path, O_RDWR | O_TRUNC | O_CLOEXEC);

    if (fd < 0) {
        inb_fatal("cannot write %s:", path);
    }
    if (inb_write_all(fd, p->head.data, p->head.len) < 0 ||
        inb_write_all(fd, archive, size) < 0 ||
        inb_write_all(fd, zeros, p->pad) < 0 ||
        inb_write_all(fd, p->tail.data, p->tail.len) < 0) {
        inb_fatal("cannot write %s:", path);
    }
    file = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (file == MAP_FAILED) {
        inb_fatal("cannot map %s to seal it:", path);
    }
    if (inb_seal_write(file, total, p->archive_offset, size, err,
                       sizeof(err)) < 0) {
        inb_fatal("cannot seal %s: %s", path, err);
    }
    if (munmap(file, total) < 0 || close(fd) < 0) {
        inb_fatal("cannot write %s:", path);
    }
}

void
inb_link_cc(char ***argv, size_t *argc)
{
    const char *cc = getenv("INBUILT_CC");

    inb_split_words(cc && *cc ? cc : INB_CC, argv, argc);
}

void
inb_link_run(struct inb_output *o, const unsigned char *archive, size_t size,
             const char *const *libs, size_t nlibs,
             const struct inb_exts *exts)
{
    struct inb_strv ext_objects = {0}, ext_libs = {0};
    struct inb_buf exe = {0};
    struct inb_placed placed = {0};
    struct inb_cache_key k;
    char *work, *base, *asm_path, *script, *script_arg, *src, err[256];
    char **argv = NULL;
    size_t argc = 0;
    mode_t mask;

    work = inb_new_temp_dir("inbuilt");
    base = inb_xprintf("%s/base", work);
    asm_path = inb_xprintf("%s/archive.S", work);
    script = inb_xprintf("%s/archive.ld", work);
    script_arg = inb_xprintf("-Wl,-T,%s", script);
    src = blob_source();
    inb_write_file(asm_path, src, strlen(src));
    free(src);
    inb_write_file(script, segment_script, strlen(segment_script));

    inb_link_cc(&argv, &argc);
    inb_argv_add(&argv, &argc, "-no-pie");
    inb_argv_add(&argv, &argc, "-o");
    inb_argv_add(&argv, &argc, base);
    inb_argv_add(&argv, &argc, asm_path);
    inb_argv_add(&argv, &argc, script_arg);
    inb_ext_link_words(exts, &ext_objects, &ext_libs);
    for (size_t i = 0; i < ext_objects.n; i++) {
        inb_argv_add(&argv, &argc, ext_objects.v[i]);
    }
    inb_argv_add(&argv, &argc, inb_runtime_library(inb_py));
    inb_argv_add(&argv, &argc, "-Wl,--whole-archive");
    inb_argv_add(&argv, &argc, inb_py->staticlib);
    inb_argv_add(&argv, &argc, "-Wl,--no-whole-archive");
    /* Export the C API, for extension modules loaded later. */
    inb_argv_add(&argv, &argc, "-Wl,--export-dynamic");
    /* The built-in extensions' libraries, before libpython's own. */
    for (size_t i = 0; i < ext_libs.n; i++) {
        inb_argv_add(&argv, &argc, ext_libs.v[i]);
    }
    inb_split_words(inb_py->libs, &argv, &argc);
    /* The runtime inflates module source with zlib (resources.c), which a
     * libpython with zlib as a shared module does not link. */
    inb_argv_add(&argv, &argc, "-lz");
    /* Loaded at start even if nothing refers to them yet. */
    inb_argv_add(&argv, &argc, "-Wl,--no-as-needed");
    for (size_t i = 0; i < nlibs; i++) {
        inb_argv_add(&argv, &argc, libs[i]);
    }
    /* The executable without its archive depends only on the command and
     * its files: linked once, then reused from the build cache. */
    inb_cache_key_start(&k, "link");
    key_link(&k, argv, argc, work);
    if (!inb_cache_get(&k, &exe)) {
        link_base(o, argv, base, exts, &exe);
        inb_cache_put(&k, exe.data, exe.len);
    }
    else if (inb_verbose) {
        inb_spawn_print("reused from the build cache: ", argv);
    }
    if (inb_place_archive((const unsigned char *)exe.data, exe.len, size,
                          &placed, err, sizeof(err)) < 0) {
        inb_fatal("cannot place the archive into the linked %s: %s", o->path,
                  err);
    }
    write_placed(o->tmp, &placed, archive, size);
    inb_buf_free(&placed.head);
    inb_buf_free(&placed.tail);
    inb_buf_free(&exe);
    inb_strv_free(&ext_objects);
    inb_strv_free(&ext_libs);
    /* mkstemp made the file 0600: give it the mode a new executable
     * gets. */
    mask = umask(0);
    umask(mask);
    if (chmod(o->tmp, 0777 & ~mask) < 0) {
        inb_fatal("cannot chmod %s:", o->tmp);
    }
    if (rename(o->tmp, o->path) < 0) {
        inb_fatal("cannot rename %s to %s:", o->tmp, o->path);
    }
    inb_cleanup_forget(o->tmp);
    for (size_t i = 0; i < argc; i++) {
        free(argv[i]);
    }
    free(argv);
    free(script_arg);
    free(script);
    free(asm_path);
    free(base);
    free(work);
}
