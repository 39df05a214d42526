/* shlib.c: embed extension modules and the shared libraries they need.
 *
 * A shared-object record (the data of an NS_MODULE entry of kind
 * INB_KIND_SHARED_EXT, of an NS_DATA entry of kind INB_KIND_SHARED_DATA,
 * or of an NS_SHLIB entry, keyed by soname) is laid out in
 * src/common/records.h: the file's own name (an extension's base name, a
 * library's soname), the image's digest (16 lowercase hex digits of its
 * 64-bit FNV-1a hash, naming its copy in a cache directory), the sonames of
 * the libraries it needs that are in the archive (DT_NEEDED order), then
 * the ELF file as it is on disk.
 *
 * The runtime (src/runtime/memso.c) loads the listed libraries, each with
 * its own needs first, then the image.  Libraries of the base system and
 * those the executable links itself are not listed: the dynamic loader has
 * them already.
 */
#include "shlib.h"

#include "records.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <glob.h>
#include <libelf.h>
#include <libgen.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "target.h"

/* What the dynamic section of a shared object says. */
struct elfinfo {
    int machine;
    struct inb_strv needed;
    char *soname;
    char *rpath;
    char *runpath;
    int has_init; /* defines the symbol asked for, if one was */
};

static struct inb_strv skip;       /* sonames never embedded */
static struct inb_strv sysdirs;    /* where the dynamic loader looks */
static struct inb_strv added;      /* sonames embedded so far, or being */
static struct inb_strv linked;     /* sonames the executable links itself */
static struct inb_strv base_paths; /* base libraries embedded objects need
                                     that the executable must link */
static char *env_libdir;           /* lib/ of the --python environment */
static int host_machine;

/* The base system: libraries assumed on every machine the executable runs
 * on, so not embedded (the executable links them instead).  This is the
 * manylinux policy's list of allowed system libraries (PEP 600; the list of
 * PEP 599 as auditwheel keeps it for manylinux_2_28 and later, which adds
 * libatomic, libanl, libmvec and libexpat) less its graphical desktop part
 * (libX11, libXext, libXrender, libICE, libSM, libGL, libglib-2.0,
 * libgobject-2.0, libgthread-2.0): compute nodes and containers often lack
 * those, so they are embedded like any other library, with what they need
 * (libglib's libpcre2).  Kept in the README's words too. */
static const char *const base_libs[] = {
    /* the C library and its parts */
    "libc.so.6", "libm.so.6", "libmvec.so.1", "libdl.so.2", "librt.so.1",
    "libpthread.so.0", "libutil.so.1", "libresolv.so.2", "libnsl.so.1",
    "libanl.so.1",
    /* the compiler's run-time libraries */
    "libgcc_s.so.1", "libstdc++.so.6", "libatomic.so.1",
    /* compression and XML */
    "libz.so.1", "libexpat.so.1", NULL};

static void
elfinfo_free(struct elfinfo *info)
{
    inb_strv_free(&info->needed);
    free(info->soname);
    free(info->rpath);
    free(info->runpath);
    memset(info, 0, sizeof(*info));
}

/* Read the ELF header and dynamic section of path into *info; when symbol
 * is not NULL, also whether the dynamic symbol table defines it.  Returns
 * 0, or -1 with a reason in err (not an ELF file, not a shared object). */
static int
elf_read(const char *path, const char *symbol, struct elfinfo *info, char *err,
         size_t errsize)
{
    Elf *elf = NULL;
    Elf_Scn *scn = NULL;
    GElf_Ehdr eh;
    int fd, rc = -1;

    memset(info, 0, sizeof(*info));
    if (elf_version(EV_CURRENT) == EV_NONE) {
        snprintf(err, errsize, "libelf is unusable: %s", elf_errmsg(-1));
        return -1;
    }
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errsize, "%s", strerror(errno));
        return -1;
    }
    elf = elf_begin(fd, ELF_C_READ, NULL);
    if (elf == NULL || elf_kind(elf) != ELF_K_ELF ||
        gelf_getehdr(elf, &eh) == NULL) {
        snprintf(err, errsize, "not an ELF file");
        goto done;
    }
    info->machine = eh.e_machine;
    /* ET_EXEC: only this program itself is read, for its machine. */
    if (eh.e_type != ET_DYN && !(eh.e_type == ET_EXEC && symbol == NULL &&
                                 strcmp(path, "/proc/self/exe") == 0)) {
        snprintf(err, errsize, "not a shared object");
        goto done;
    }
    while ((scn = elf_nextscn(elf, scn)) != NULL) {
        GElf_Shdr sh;
        Elf_Data *data;
        size_t i, n;

        if (gelf_getshdr(scn, &sh) == NULL || sh.sh_entsize == 0 ||
            (data = elf_getdata(scn, NULL)) == NULL) {
            continue;
        }
        n = sh.sh_size / sh.sh_entsize;
        for (i = 0; sh.sh_type == SHT_DYNAMIC && i < n; i++) {
            GElf_Dyn dyn;
            const char *s;

            if (gelf_getdyn(data, (int)i, &dyn) == NULL ||
                (dyn.d_tag != DT_NEEDED && dyn.d_tag != DT_SONAME &&
                 dyn.d_tag != DT_RPATH && dyn.d_tag != DT_RUNPATH)) {
                continue;
            }
            s = elf_strptr(elf, sh.sh_link, dyn.d_un.d_val);
            if (s == NULL) {
                continue;
            }
            if (dyn.d_tag == DT_NEEDED) {
                inb_strv_add(&info->needed, s);
            }
            else if (dyn.d_tag == DT_SONAME) {
                free(info->soname);
                info->soname = inb_xstrdup(s);
            }
            else if (dyn.d_tag == DT_RPATH) {
                free(info->rpath);
                info->rpath = inb_xstrdup(s);
            }
            else {
                free(info->runpath);
                info->runpath = inb_xstrdup(s);
            }
        }
        for (i = 0; symbol != NULL && sh.sh_type == SHT_DYNSYM && i < n; i++) {
            GElf_Sym sym;
            const char *s;

            if (gelf_getsym(data, (int)i, &sym) != NULL &&
                sym.st_shndx != SHN_UNDEF &&
                (s = elf_strptr(elf, sh.sh_link, sym.st_name)) != NULL &&
                strcmp(s, symbol) == 0) {
                info->has_init = 1;
            }
        }
    }
    rc = 0;
done:
    if (elf != NULL) {
        elf_end(elf);
    }
    close(fd);
    if (rc < 0) {
        elfinfo_free(info);
    }
    return rc;
}

/* Add the directories of the dynamic loader's configuration. */
static void
add_ldconfig_dirs(void)
{
    static const char *const dirs[] = {
        "/usr/local/lib",
        "/lib/x86_64-linux-gnu",
        "/usr/lib/x86_64-linux-gnu",
        "/lib/aarch64-linux-gnu",
        "/usr/lib/aarch64-linux-gnu",
        "/lib64",
        "/usr/lib64",
        "/lib",
        "/usr/lib",
        NULL,
    };
    glob_t g;
    size_t i;

    if (glob("/etc/ld.so.conf.d/*.conf", 0, NULL, &g) == 0) {
        for (i = 0; i < g.gl_pathc; i++) {
            FILE *f = fopen(g.gl_pathv[i], "r");
            char line[4096];

            while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
                line[strcspn(line, " \t\r\n#")] = '\0';
                if (line[0] == '/' && !inb_strv_has(&sysdirs, line)) {
                    inb_strv_add(&sysdirs, line);
                }
            }
            if (f != NULL) {
                fclose(f);
            }
        }
        globfree(&g);
    }
    for (i = 0; dirs[i] != NULL; i++) {
        if (!inb_strv_has(&sysdirs, dirs[i])) {
            inb_strv_add(&sysdirs, dirs[i]);
        }
    }
}

void
inb_shlib_init(const char *lib_flags, const char *env_prefix)
{
    char **words = NULL, err[256];
    size_t nwords = 0, i, j;
    struct inb_strv ldirs = {0};
    struct elfinfo self;

    if (elf_read("/proc/self/exe", NULL, &self, err, sizeof(err)) == 0) {
        host_machine = self.machine;
        elfinfo_free(&self);
    }
    for (i = 0; base_libs[i] != NULL; i++) {
        inb_strv_add(&skip, base_libs[i]);
    }
    add_ldconfig_dirs();
    if (env_prefix != NULL) {
        env_libdir = inb_xprintf("%s/lib", env_prefix);
    }
    /* The executable links these itself (-lz: libz.so.1, ...). */
    inb_split_words(lib_flags, &words, &nwords);
    for (i = 0; i < nwords; i++) {
        if (strncmp(words[i], "-L", 2) == 0 && words[i][2] != '\0') {
            inb_strv_add(&ldirs, words[i] + 2);
        }
    }
    for (i = 0; i < sysdirs.n; i++) {
        inb_strv_add(&ldirs, sysdirs.v[i]);
    }
    for (i = 0; i < nwords; i++) {
        if (strncmp(words[i], "-l", 2) != 0) {
            continue;
        }
        for (j = 0; j < ldirs.n; j++) {
            char *p = inb_xprintf("%s/lib%s.so", ldirs.v[j], words[i] + 2);
            struct elfinfo info;
            int found = elf_read(p, NULL, &info, err, sizeof(err)) == 0;

            free(p);
            if (found) {
                if (info.soname != NULL && !inb_strv_has(&skip, info.soname)) {
                    inb_strv_add(&skip, info.soname);
                }
                if (info.soname != NULL) {
                    inb_strv_add(&linked, info.soname);
                }
                elfinfo_free(&info);
                break;
            }
        }
    }
    for (i = 0; i < nwords; i++) {
        free(words[i]);
    }
    free(words);
    inb_strv_free(&ldirs);
}

static int
is_base(const char *soname)
{
    return inb_strv_has(&skip, soname) || strncmp(soname, "ld-linux", 8) == 0;
}

/* Look for soname in the directories of the colon-separated list dirs, with
 * $ORIGIN (and ${ORIGIN}) standing for origin.  Returns the path (malloc'd)
 * of the first readable ELF of this machine, or NULL. */
static char *
search(const char *dirs, const char *origin, const char *soname)
{
    char *copy, *dir, *save = NULL, *found = NULL;

    if (dirs == NULL) {
        return NULL;
    }
    copy = inb_xstrdup(dirs);
    for (dir = strtok_r(copy, ":", &save); dir != NULL && found == NULL;
         dir = strtok_r(NULL, ":", &save)) {
        struct elfinfo info;
        char err[256], *path;

        if (strncmp(dir, "$ORIGIN", 7) == 0) {
            path = inb_xprintf("%s%s/%s", origin, dir + 7, soname);
        }
        else if (strncmp(dir, "${ORIGIN}", 9) == 0) {
            path = inb_xprintf("%s%s/%s", origin, dir + 9, soname);
        }
        else {
            path = inb_xprintf("%s/%s", dir, soname);
        }
        if (access(path, R_OK) == 0 &&
            elf_read(path, NULL, &info, err, sizeof(err)) == 0) {
            if (host_machine == 0 || info.machine == host_machine) {
                found = path;
                path = NULL;
            }
            elfinfo_free(&info);
        }
        free(path);
    }
    free(copy);
    return found;
}

/* The path of library soname needed by the object at from (described by
 * info), searched as the dynamic loader does: DT_RPATH (when there is no
 * DT_RUNPATH), the environment's lib/, DT_RUNPATH, the system's
 * directories.  NULL when not found. */
static char *
resolve(const char *soname, const char *from, const struct elfinfo *info)
{
    char *copy = inb_xstrdup(from), *origin = inb_xstrdup(dirname(copy));
    char *found = NULL;
    size_t i;

    free(copy);
    if (info->runpath == NULL) {
        found = search(info->rpath, origin, soname);
    }
    if (found == NULL) {
        found = search(env_libdir, origin, soname);
    }
    if (found == NULL) {
        found = search(info->runpath, origin, soname);
    }
    for (i = 0; found == NULL && i < sysdirs.n; i++) {
        found = search(sysdirs.v[i], origin, soname);
    }
    free(origin);
    return found;
}

/* Whether path is in one of the system's library directories. */
static int
in_system_dir(const char *path)
{
    char *copy = inb_xstrdup(path);
    int found = inb_strv_has(&sysdirs, dirname(copy));

    free(copy);
    return found;
}

/* Base library soname is needed by the object at from.  When it is the
 * system's, note that the executable must link it, so that the dynamic
 * loader has it from the start instead of searching the disk at an import,
 * and return 1.  When the environment brings its own (a conda env's newer
 * libstdc++, found in its lib/ or a run path), return 0: it is embedded like
 * any other library, since the system's could be too old.  libc and the
 * libraries libpython links are linked already. */
static int
need_base(const char *soname, const char *from, const struct elfinfo *info)
{
    char *path;

    if (inb_strv_has(&linked, soname) || strcmp(soname, "libc.so.6") == 0 ||
        strncmp(soname, "ld-linux", 8) == 0) {
        return 1;
    }
    path = resolve(soname, from, info);
    if (path == NULL) {
        inb_warn("%s needs %s, which is not on this machine: the "
                 "executable will look for it where it runs",
                 from, soname);
        inb_strv_add(&linked, soname);
        return 1;
    }
    if (!in_system_dir(path)) {
        free(path);
        return 0;
    }
    inb_strv_add(&linked, soname);
    inb_strv_add(&base_paths, path);
    free(path);
    return 1;
}

const char *const *
inb_shlib_base_libraries(size_t *n)
{
    *n = base_paths.n;
    return (const char *const *)base_paths.v;
}

/* Add the record of the object at path, named name, to w under (ns, kind,
 * key): its needed libraries (embedding each, recursively, first) and its
 * image.  what names the object in messages.  Returns the bytes added. */
static size_t
add_record(inb_archive_writer *w, int ns, int kind, const char *key,
           const char *name, const char *path, const struct elfinfo *info,
           const char *what)
{
    struct inb_buf names = {0}, image = {0}, record = {0};
    unsigned char size4[INB_SHOBJ_HEADER_SIZE];
    size_t i, bytes = 0;
    uint64_t hash = 0xcbf29ce484222325u; /* FNV-1a */
    char digest[17];

    if (inb_buf_readfile(&image, path) < 0) {
        inb_fatal("cannot read %s:", path);
    }
    for (i = 0; i < image.len; i++) {
        hash = (hash ^ (unsigned char)image.data[i]) * 0x100000001b3u;
    }
    snprintf(digest, sizeof(digest), "%016llx", (unsigned long long)hash);
    inb_buf_add(&names, name, strlen(name) + 1);
    inb_buf_add(&names, digest, sizeof(digest));
    for (i = 0; i < info->needed.n; i++) {
        const char *soname = info->needed.v[i];
        struct elfinfo dep;
        char err[256], *dep_path;

        if (is_base(soname) && need_base(soname, path, info)) {
            continue;
        }
        inb_buf_add(&names, soname, strlen(soname) + 1);
        if (inb_strv_has(&added, soname)) {
            continue;
        }
        inb_strv_add(&added, soname); /* before recursing: needs may cycle */
        dep_path = resolve(soname, path, info);
        if (dep_path == NULL) {
            inb_fatal("%s needs the library %s, which is in none of its "
                      "run paths, the environment's lib/ or the system's "
                      "library directories; install it or add its directory "
                      "to the environment",
                      what, soname);
        }
        if (elf_read(dep_path, NULL, &dep, err, sizeof(err)) < 0) {
            inb_fatal("%s (needed by %s): %s", dep_path, what, err);
        }
        inb_note("embedding %s (%s) for %s", soname, dep_path, what);
        bytes += add_record(w, INB_NS_SHLIB, INB_KIND_BLOB, soname, soname,
                            dep_path, &dep, dep_path);
        elfinfo_free(&dep);
        free(dep_path);
    }
    if (inb_record_shobj_header(size4, names.len) < 0) {
        inb_fatal("%s: too many names for a shared-object record", what);
    }
    inb_buf_add(&record, size4, sizeof(size4));
    inb_buf_add(&record, names.data, names.len);
    inb_buf_add(&record, image.data, image.len);
    if (inb_archive_writer_add(w, ns, kind, 0, key, strlen(key), record.data,
                               record.len) < 0) {
        inb_fatal("out of memory adding %s to the archive", what);
    }
    bytes += record.len;
    inb_buf_free(&record);
    inb_buf_free(&image);
    inb_buf_free(&names);
    return bytes;
}

/* Check the CPython tag of an extension's file name (x.cpython-311-...so)
 * against the linked CPython.  Exits on a mismatch. */
static void
check_tag(const char *name, const char *path, const char *base)
{
    const char *tag = strstr(base, ".cpython-");
    char want[16];
    size_t i, j;

    if (tag == NULL) {
        return; /* x.abi3.so or x.so: no version in the name */
    }
    tag += strlen(".cpython-");
    for (i = 0, j = 0; inb_py->version[i] != '\0' && j + 1 < sizeof(want);
         i++) {
        if (inb_py->version[i] != '.') {
            want[j++] = inb_py->version[i];
        }
    }
    want[j] = '\0';
    if (strncmp(tag, want, j) != 0 || (tag[j] != '-' && tag[j] != '.')) {
        inb_fatal("extension module %s (%s) is built for another CPython "
                  "(tag %.*s); this executable runs CPython %s: take it from "
                  "an environment of that version",
                  name, path, (int)strcspn(tag, "-."), tag, inb_py->version);
    }
}

/* Read the ELF shared object at path into *info, with whether it defines
 * symbol (may be NULL); what names it in messages ("extension module X
 * (PATH)", "shared library PATH").  Exits when it is not a shared object,
 * or is one for another machine. */
static void
read_host_object(const char *path, const char *symbol, const char *what,
                 struct elfinfo *info)
{
    char err[256];

    if (elf_read(path, symbol, info, err, sizeof(err)) < 0) {
        inb_fatal("%s: %s", what, err);
    }
    if (host_machine != 0 && info->machine != host_machine) {
        inb_fatal("%s is built for another architecture (ELF machine %d, "
                  "this one is %d)",
                  what, info->machine, host_machine);
    }
}

size_t
inb_shlib_add_extension(inb_archive_writer *w, const char *name,
                        const char *path)
{
    char *copy = inb_xstrdup(path), *base = inb_xstrdup(basename(copy));
    char *init = inb_init_name(name);
    char *what = inb_xprintf("extension module %s (%s)", name, path);
    struct elfinfo info;
    size_t bytes;

    free(copy);
    check_tag(name, path, base);
    read_host_object(path, init, what, &info);
    if (!info.has_init) {
        inb_fatal("%s does not define %s, its init function: it is not the "
                  "module its file name says",
                  what, init);
    }
    bytes = add_record(w, INB_NS_MODULE, INB_KIND_SHARED_EXT, name, base, path,
                       &info, what);
    free(what);
    elfinfo_free(&info);
    free(init);
    free(base);
    return bytes;
}

int
inb_shlib_is_extension(const char *name, const char *path)
{
    char *init = inb_init_name(name);
    char err[256];
    struct elfinfo info;
    int has_init;

    if (elf_read(path, init, &info, err, sizeof(err)) < 0) {
        inb_fatal("%s: %s", path, err);
    }
    has_init = info.has_init;
    elfinfo_free(&info);
    free(init);
    return has_init;
}

size_t
inb_shlib_add_library(inb_archive_writer *w, const char *rel, const char *path)
{
    const char *base = strrchr(rel, '/');
    char *what = inb_xprintf("shared library %s", path);
    struct elfinfo info;
    size_t bytes;

    read_host_object(path, NULL, what, &info);
    bytes = add_record(w, INB_NS_DATA, INB_KIND_SHARED_DATA, rel,
                       base != NULL ? base + 1 : rel, path, &info, what);
    free(what);
    elfinfo_free(&info);
    return bytes;
}

int
inb_shlib_is_library(const char *path)
{
    struct elfinfo info;
    char err[256];
    int ok;

    if (elf_read(path, NULL, &info, err, sizeof(err)) < 0) {
        return 0;
    }
    ok = host_machine == 0 || info.machine == host_machine;
    elfinfo_free(&info);
    return ok;
}
