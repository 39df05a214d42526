/* link.c: embed the archive in an object, link the executable and seal
 * it.
 *
 * The archive goes into a section of its own (.inbuilt) that a linker
 * script places after .bss, in a read-only segment of its own, the last of
 * the file: when a copy of the executable is cut short, what is missing is
 * the archive (the code and the dynamic loader's data come first and are
 * whole), so the runtime can start and say so.  The seal (src/common/seal.h)
 * is an ELF note linked as zeros and filled in once the file is linked. */
#define _GNU_SOURCE /* memmem */
#include "link.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive.h"
#include "seal.h"

#include "extension.h"
#include "spawn.h"
#include "util.h"

void
inb_link_prepare(struct inb_output *o, const char *path)
{
    struct stat st;
    char *copy, *dir;
    size_t n = strlen(path);
    int fd;

    if (n == 0) {
        inb_fatal("-o needs the path of the executable to write");
    }
    if (path[n - 1] == '/' || (stat(path, &st) == 0 && S_ISDIR(st.st_mode))) {
        inb_fatal("-o %s is a directory; give the path of the executable to "
                  "write, like %s%sapp",
                  path, path, path[n - 1] == '/' ? "" : "/");
    }
    copy = inb_xstrdup(path);
    dir = inb_xstrdup(dirname(copy));
    free(copy);
    if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
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

const char *
inb_link_runtime(void)
{
    static char found[PATH_MAX + 64];
    char self[PATH_MAX], *dir;
    const char *env = getenv("INBUILT_RUNTIME");
    const char *const rel[] = {"libinbuilt-rt.a",
                               "../lib/inbuilt/libinbuilt-rt.a"};
    ssize_t n;
    size_t i;

    if (env != NULL && *env != '\0') {
        if (access(env, R_OK) < 0) {
            inb_fatal("INBUILT_RUNTIME=%s:", env);
        }
        return env;
    }
    n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n < 0) {
        inb_fatal("cannot find this program's path in /proc/self/exe:");
    }
    self[n] = '\0';
    dir = dirname(self);
    for (i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
        snprintf(found, sizeof(found), "%s/%s", dir, rel[i]);
        if (access(found, R_OK) == 0) {
            return found;
        }
    }
    inb_fatal("the runtime library libinbuilt-rt.a is not beside %s nor in "
              "%s/../lib/inbuilt; reinstall inbuilt or set INBUILT_RUNTIME",
              dir, dir);
}

/* Write data[0..size) to path.  Exits on failure. */
static void
write_file(const char *path, const void *data, size_t size)
{
    FILE *f = fopen(path, "wb");

    if (f == NULL) {
        inb_fatal("cannot create %s:", path);
    }
    if (fwrite(data, 1, size, f) != size || fflush(f) != 0) {
        inb_fatal("cannot write %s:", path);
    }
    if (fclose(f) != 0) {
        inb_fatal("cannot write %s:", path);
    }
}

/* The linker script fragment that puts .inbuilt in a segment of its own
 * after everything else the executable loads. */
static const char segment_script[] =
    "SECTIONS\n"
    "{\n"
    "  .inbuilt ALIGN(CONSTANT(MAXPAGESIZE)) : { KEEP(*(.inbuilt)) }\n"
    "}\n"
    "INSERT AFTER .bss;\n";

/* An assembler source that places the file at path in section .inbuilt
 * between the hidden symbols the runtime reads, and the seal note, zeros,
 * at the hidden symbol inb_seal_note. */
static char *
blob_source(const char *path)
{
    struct inb_buf b = {0};
    const char *p;
    char *note = inb_xprintf("\t.section .note.inbuilt,\"a\",@note\n"
                             "\t.balign 4\n"
                             "\t.long %d, %d, 0x%x\n"
                             "\t.asciz \"%s\"\n"
                             "\t.balign 4\n"
                             "\t.globl inb_seal_note\n"
                             "\t.hidden inb_seal_note\n"
                             "\t.type inb_seal_note, @object\n"
                             "inb_seal_note:\n"
                             "\t.zero %d\n",
                             (int)sizeof(INB_SEAL_NAME), INB_SEAL_SIZE,
                             INB_SEAL_TYPE, INB_SEAL_NAME, INB_SEAL_SIZE);

    inb_buf_addstr(&b, note);
    free(note);
    inb_buf_addstr(&b, "\t.section .inbuilt,\"a\",@progbits\n"
                       "\t.balign 64\n"
                       "\t.globl inb_archive_blob\n"
                       "\t.hidden inb_archive_blob\n"
                       "\t.type inb_archive_blob, @object\n"
                       "inb_archive_blob:\n"
                       "\t.incbin \"");
    for (p = path; *p; p++) {
        if (*p == '"' || *p == '\\') {
            inb_buf_add(&b, "\\", 1);
        }
        inb_buf_add(&b, p, 1);
    }
    inb_buf_addstr(&b, "\"\n"
                       "\t.globl inb_archive_blob_end\n"
                       "\t.hidden inb_archive_blob_end\n"
                       "inb_archive_blob_end:\n"
                       "\t.section .note.GNU-stack,\"\",@progbits\n");
    return b.data;
}

/* Fill in the seal of the linked executable at path, whose archive is
 * archive[0..size).  Exits on failure. */
static void
seal_file(const char *path, const unsigned char *archive, size_t size)
{
    unsigned char *file, *at;
    struct stat st;
    char err[256];
    int fd = open(path, O_RDWR | O_CLOEXEC);

    if (fd < 0 || fstat(fd, &st) < 0) {
        inb_fatal("cannot open %s to seal it:", path);
    }
    file = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED,
                fd, 0);
    if (file == MAP_FAILED) {
        inb_fatal("cannot map %s to seal it:", path);
    }
    /* The header, tables checksum included, is found once: the runtime's
     * own copy of the magic is not followed by it. */
    at = memmem(file, (size_t)st.st_size, archive, INB_ARCHIVE_HEADER_SIZE);
    if (at == NULL || (size_t)(file + st.st_size - at) < size ||
        memcmp(at, archive, size) != 0) {
        inb_fatal("the linked %s does not hold the archive whole", path);
    }
    if (inb_seal_write(file, (size_t)st.st_size, (uint64_t)(at - file), size,
                       err, sizeof(err)) < 0) {
        inb_fatal("cannot seal %s: %s", path, err);
    }
    if (msync(file, (size_t)st.st_size, MS_SYNC) < 0) {
        inb_fatal("cannot write %s:", path);
    }
    munmap(file, (size_t)st.st_size);
    close(fd);
}

void
inb_link_run(struct inb_output *o, const unsigned char *archive, size_t size,
             const char *const *libs, size_t nlibs,
             const struct inb_exts *exts)
{
    struct inb_strv ext_objects = {0}, ext_libs = {0};
    struct inb_buf messages = {0};
    const char *tmpdir = getenv("TMPDIR"), *cc = getenv("INBUILT_CC");
    char *work, *bin, *asm_path, *src, *script, *script_arg;
    char **argv = NULL;
    size_t argc = 0;
    mode_t mask;
    int rc;

    work =
        inb_xprintf("%s/inbuilt-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
    if (mkdtemp(work) == NULL) {
        inb_fatal("cannot create a temporary directory %s:", work);
    }
    inb_cleanup_add(work);
    bin = inb_xprintf("%s/archive.bin", work);
    asm_path = inb_xprintf("%s/archive.S", work);
    write_file(bin, archive, size);
    src = blob_source(bin);
    write_file(asm_path, src, strlen(src));
    free(src);
    script = inb_xprintf("%s/segment.ld", work);
    write_file(script, segment_script, strlen(segment_script));
    script_arg = inb_xprintf("-Wl,-T,%s", script);

    inb_split_words(cc && *cc ? cc : INB_CC, &argv, &argc);
    inb_argv_add(&argv, &argc, "-no-pie");
    inb_argv_add(&argv, &argc, "-o");
    inb_argv_add(&argv, &argc, o->tmp);
    inb_argv_add(&argv, &argc, asm_path);
    inb_argv_add(&argv, &argc, script_arg);
    inb_ext_link_words(exts, &ext_objects, &ext_libs);
    for (size_t i = 0; i < ext_objects.n; i++) {
        inb_argv_add(&argv, &argc, ext_objects.v[i]);
    }
    inb_argv_add(&argv, &argc, inb_link_runtime());
    inb_argv_add(&argv, &argc, "-Wl,--whole-archive");
    inb_argv_add(&argv, &argc, INB_PY_STATICLIB);
    inb_argv_add(&argv, &argc, "-Wl,--no-whole-archive");
    /* Export the C API, for extension modules loaded later. */
    inb_argv_add(&argv, &argc, "-Wl,--export-dynamic");
    /* The built-in extensions' libraries, before libpython's own. */
    for (size_t i = 0; i < ext_libs.n; i++) {
        inb_argv_add(&argv, &argc, ext_libs.v[i]);
    }
    inb_split_words(INB_PY_LIBS, &argv, &argc);
    /* The runtime inflates module source with zlib (resources.c), which a
     * libpython with zlib as a shared module does not link. */
    inb_argv_add(&argv, &argc, "-lz");
    /* Loaded at start even if nothing refers to them yet. */
    inb_argv_add(&argv, &argc, "-Wl,--no-as-needed");
    for (size_t i = 0; i < nlibs; i++) {
        inb_argv_add(&argv, &argc, libs[i]);
    }
    rc = inb_spawn_run_stderr(argv, &messages);
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
    inb_strv_free(&ext_objects);
    inb_strv_free(&ext_libs);
    seal_file(o->tmp, archive, size);
    /* mkstemp made the file 0600 and the linker kept that: give it the
     * mode a new executable gets. */
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
    free(asm_path);
    free(script_arg);
    free(script);
    free(bin);
    free(work);
}
