/* isolate.c: one relocatable object per extension module, exporting only
 * its renamed init function.
 *
 * `ld -r -d` links the extension's objects into one object (the -d gives
 * common symbols of -fcommon objects their space, so that they become
 * ordinary definitions), then `objcopy --redefine-sym INIT=NEW -G NEW` makes
 * every other global symbol local, whatever its visibility, and dissolves
 * COMDAT groups, so that each extension keeps its own copy of inline C++
 * code rather than the linker picking one by name.  References
 * between the extension's own files were resolved by ld -r and keep
 * pointing at the now local definitions; undefined symbols (the C API,
 * libc, libraries) stay global and are resolved by the final link.
 */
#include "isolate.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "spawn.h"

#if defined(__x86_64__)
#define HOST_MACHINE EM_X86_64
#elif defined(__aarch64__)
#define HOST_MACHINE EM_AARCH64
#elif defined(__powerpc64__)
#define HOST_MACHINE EM_PPC64
#elif defined(__s390x__)
#define HOST_MACHINE EM_S390
#elif defined(__riscv)
#define HOST_MACHINE EM_RISCV
#else
#error "unknown machine: add its EM_ constant"
#endif

/* A readable name of ELF machine m. */
static const char *
machine_name(int m)
{
    switch (m) {
    case EM_X86_64:
        return "x86-64";
    case EM_386:
        return "i386";
    case EM_AARCH64:
        return "aarch64";
    case EM_ARM:
        return "arm";
    case EM_PPC64:
        return "ppc64";
    case EM_S390:
        return "s390x";
    case EM_RISCV:
        return "riscv";
    default:
        return "an unknown machine";
    }
}

/* An open ELF file. */
struct elffile {
    int fd;
    Elf *elf;
};

/* Open path as an ELF relocatable object for this machine.  Exits with an
 * error naming what and path otherwise. */
static void
elf_open_object(struct elffile *f, const char *what, const char *path)
{
    GElf_Ehdr eh;

    if (elf_version(EV_CURRENT) == EV_NONE) {
        inb_fatal("libelf is unusable: %s", elf_errmsg(-1));
    }
    f->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (f->fd < 0) {
        inb_fatal("extension %s: cannot open %s:", what, path);
    }
    f->elf = elf_begin(f->fd, ELF_C_READ, NULL);
    if (f->elf == NULL || elf_kind(f->elf) != ELF_K_ELF ||
        gelf_getehdr(f->elf, &eh) == NULL) {
        inb_fatal("extension %s: %s is not an ELF object file", what, path);
    }
    if (eh.e_machine != HOST_MACHINE ||
        gelf_getclass(f->elf) !=
            (sizeof(void *) == 8 ? ELFCLASS64 : ELFCLASS32)) {
        inb_fatal("extension %s: %s is an object for %s, not for this "
                  "machine (%s); rebuild it with this machine's compiler",
                  what, path, machine_name(eh.e_machine),
                  machine_name(HOST_MACHINE));
    }
    if (eh.e_type != ET_REL) {
        inb_fatal("extension %s: %s is not a relocatable object (.o) but "
                  "a linked %s; give its objects or sources instead",
                  what, path,
                  eh.e_type == ET_DYN ? "shared object" : "executable");
    }
}

static void
elf_close(struct elffile *f)
{
    elf_end(f->elf);
    close(f->fd);
}

/* Call fn(ctx, sym, name) for each global or weak symbol of the object at
 * path, defined or not.  what names the object in messages. */
static void
each_global(const char *what, const char *path,
            void (*fn)(void *, const GElf_Sym *, const char *), void *ctx)
{
    struct elffile f;
    Elf_Scn *scn = NULL;

    elf_open_object(&f, what, path);
    while ((scn = elf_nextscn(f.elf, scn)) != NULL) {
        GElf_Shdr sh;
        Elf_Data *data;
        size_t i, n;

        if (gelf_getshdr(scn, &sh) == NULL || sh.sh_type != SHT_SYMTAB ||
            sh.sh_entsize == 0 || (data = elf_getdata(scn, NULL)) == NULL) {
            continue;
        }
        n = sh.sh_size / sh.sh_entsize;
        for (i = 0; i < n; i++) {
            GElf_Sym sym;
            const char *s;

            if (gelf_getsym(data, (int)i, &sym) != NULL &&
                GELF_ST_BIND(sym.st_info) != STB_LOCAL &&
                (s = elf_strptr(f.elf, sh.sh_link, sym.st_name)) != NULL) {
                fn(ctx, &sym, s);
            }
        }
    }
    elf_close(&f);
}

/* What defines_init() looks for and finds. */
struct init_search {
    const char *init;
    struct inb_buf *others;
    int *cxx;
    int found;
};

static void
check_init(void *ctx, const GElf_Sym *sym, const char *s)
{
    struct init_search *q = ctx;

    if (sym->st_shndx == SHN_UNDEF) {
        *q->cxx |= strncmp(s, "_Z", 2) == 0 || strncmp(s, "__cxa_", 6) == 0 ||
                   strncmp(s, "__gxx_", 6) == 0;
    }
    else if (strcmp(s, q->init) == 0) {
        q->found = 1;
    }
    else if (strncmp(s, "PyInit_", 7) == 0) {
        inb_buf_addstr(q->others, q->others->len ? ", " : "");
        inb_buf_addstr(q->others, s);
    }
}

/* Whether the object at path defines global symbol init.  When not, the
 * PyInit_ functions it defines are listed in others (", "-separated).
 * *cxx is set when it refers to the C++ runtime. */
static int
defines_init(const char *what, const char *path, const char *init,
             struct inb_buf *others, int *cxx)
{
    struct init_search q = {init, others, cxx, 0};

    each_global(what, path, check_init, &q);
    return q.found;
}

static void
add_exportable(void *ctx, const GElf_Sym *sym, const char *s)
{
    if (sym->st_shndx != SHN_UNDEF &&
        GELF_ST_VISIBILITY(sym->st_other) == STV_DEFAULT) {
        inb_strv_add(ctx, s);
    }
}

void
inb_isolate_defined(const char *what, const char *path, struct inb_strv *names)
{
    each_global(what, path, add_exportable, names);
}

/* Run argv; exit with an error naming what when it fails. */
static void
run_tool(const char *what, char **argv)
{
    int rc = inb_spawn_run(argv, NULL);

    if (rc != 0) {
        inb_spawn_print("failed command: ", argv);
        inb_fatal("extension %s: %s failed (exit status %d)", what, argv[0],
                  rc);
    }
}

int
inb_isolate(const char *what, const struct inb_strv *objects, const char *init,
            const char *newname, const char *out)
{
    const char *ld = getenv("INBUILT_LD"),
               *objcopy = getenv("INBUILT_OBJCOPY");
    struct inb_buf others = {0};
    char **argv = NULL, *combined, *redefine;
    size_t argc = 0, i;
    struct elffile f;
    int cxx = 0;

    if (objects->n == 0) {
        inb_fatal("extension %s: no source or object file given", what);
    }
    for (i = 0; i < objects->n; i++) {
        size_t n = strlen(objects->v[i]);

        if (n > 2 && strcmp(objects->v[i] + n - 2, ".a") == 0) {
            continue; /* a static library: ld checks its members */
        }
        elf_open_object(&f, what, objects->v[i]);
        elf_close(&f);
    }
    combined = inb_xprintf("%s.combined.o", out);
    inb_split_words(ld && *ld ? ld : "ld", &argv, &argc);
    inb_argv_add(&argv, &argc, "-r");
    inb_argv_add(&argv, &argc, "-d");
    inb_argv_add(&argv, &argc, "-o");
    inb_argv_add(&argv, &argc, combined);
    for (i = 0; i < objects->n; i++) {
        inb_argv_add(&argv, &argc, objects->v[i]);
    }
    run_tool(what, argv);
    inb_argv_free(argv, argc);
    argv = NULL;
    argc = 0;

    if (!defines_init(what, combined, init, &others, &cxx)) {
        inb_fatal("extension %s: its objects define no init function %s%s%s; "
                  "check the module name (the part after the last dot must "
                  "be the name its PyInit_ function is made of)",
                  what, init, others.len ? " (they define " : "",
                  others.len ? inb_xprintf("%s)", others.data) : "");
    }
    inb_buf_free(&others);

    redefine = inb_xprintf("%s=%s", init, newname);
    inb_split_words(objcopy && *objcopy ? objcopy : "objcopy", &argv, &argc);
    /* Dissolve COMDAT groups (C++ inline functions and templates): the
     * final link would keep one extension's copy of a group and drop the
     * other's, whose references point at its now local symbols. */
    inb_argv_add(&argv, &argc, "--remove-section=.group");
    inb_argv_add(&argv, &argc, "--redefine-sym");
    inb_argv_add(&argv, &argc, redefine);
    inb_argv_add(&argv, &argc, "-G");
    inb_argv_add(&argv, &argc, newname);
    inb_argv_add(&argv, &argc, combined);
    inb_argv_add(&argv, &argc, out);
    run_tool(what, argv);
    inb_argv_free(argv, argc);
    unlink(combined);
    free(combined);
    free(redefine);
    return cxx;
}
