/* memso.c: load shared objects from the archive through memory files, or a
 * node-local cache directory.
 *
 * Shared mode (the default): as memory mode, but one memory file per
 * image per node, which the user's holder process hands to every process
 * that loads the image, so that they all map the same pages (shareso.c,
 * holder.c); where that is impossible, memory mode.
 *
 * Memory mode: each image is written once into an anonymous memory file
 * (memfd_create), sealed against any change, and opened by the dynamic
 * loader through /proc/self/fd/N.  The memory files stay open for the life
 * of the process: the loader knows an object by its path, and a reused
 * descriptor number would name another image.
 *
 * Cache mode (chosen, or the fall-back where memory files cannot be
 * created or mapped executable: seccomp filters, hardened kernels; note
 * that vm.memfd_noexec only forbids execve() of memory files, not the
 * dynamic loader's mappings): each image is a file named by its digest in
 * a directory private to the user (mode 0700, owned by them, checked) on a
 * filesystem that allows executable mappings (probed): $INBUILT_CACHE_DIR
 * if set, else the first that works of $XDG_RUNTIME_DIR/inbuilt,
 * /dev/shm/inbuilt-UID and ${TMPDIR:-/tmp}/inbuilt-UID.  A file is written
 * under a temporary name and renamed, so that ranks starting together on a
 * node share one complete copy.
 *
 * In both modes libraries are dlopen'ed before what needs them, so that the
 * loader finds each DT_NEEDED soname among the objects it has already
 * loaded and searches no directory.  The record layout is described in
 * src/common/records.h and docs/FORMAT.md; its reader checks the entry's
 * checksum before the image is used.
 */
#define _GNU_SOURCE
#include "archpages.h"
#include "memso.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "shareso.h"

/* One image made loadable: keyed by its record's address in the
 * archive. */
struct loaded {
    const unsigned char *key;
    char *path; /* NULL while its needs are being loaded */
};

static struct loaded *table;
static size_t ntable, captable;
static enum inb_memso_mode mode = INB_MEMSO_SHARED;
static int exec_checked;        /* memory files proved executable */
static char diagnostic[512];    /* a fall-back to report, or "" */
static char cachedir[PATH_MAX]; /* "" until made */

void
inb_memso_set_mode(enum inb_memso_mode m)
{
    mode = m;
}

/* Drop the pages wholly inside the image of r from this process: read
 * once to make it loadable (or to check it), they are not needed again.
 * Mapped large folios make a read of one byte map up to 2 MiB of the
 * executable, so without this a process that imports numpy maps most of
 * its images while running the copies in memory files. */
static void
release_image(const inb_shobj_record *r)
{
    inb_archpages_drop(r->image, r->image_size);
}

const char *
inb_memso_take_diagnostic(void)
{
    static char taken[sizeof(diagnostic)];

    if (diagnostic[0] == '\0') {
        return NULL;
    }
    memcpy(taken, diagnostic, sizeof(taken));
    diagnostic[0] = '\0';
    return taken;
}

/* Format why a load failed into err and return -1. */
static int fail(char *err, size_t errsize, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail(char *err, size_t errsize, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(err, errsize, fmt, ap);
    va_end(ap);
    return -1;
}

/* The table slot of key, or NULL. */
static struct loaded *
find_loaded(const unsigned char *key)
{
    size_t i;

    for (i = 0; i < ntable; i++) {
        if (table[i].key == key) {
            return &table[i];
        }
    }
    return NULL;
}

/* Write size bytes of data to fd.  Returns 0, or -1 with errno set. */
static int
write_all(int fd, const unsigned char *data, size_t size)
{
    size_t done = 0;

    while (done < size) {
        ssize_t n = write(fd, data + done, size - done);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            if (n == 0) {
                errno = ENOSPC;
            }
            return -1;
        }
        done += (size_t)n;
    }
    return 0;
}

/* Check, once per process, that the memory file fd can be loaded here as
 * the dynamic loader will do it.  Returns 0, or -2 with the reason in
 * err. */
static int
check_exec(int fd, char *err, size_t errsize)
{
    char procpath[64];
    void *p;

    if (exec_checked) {
        return 0;
    }
    /* What the dynamic loader will do: map it executable. */
    p = mmap(NULL, 1, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
        fail(err, errsize, "memory files cannot be executed here (mmap: %s)",
             strerror(errno));
        return -2;
    }
    munmap(p, 1);
    /* The loader opens it by path: /proc must be mounted. */
    snprintf(procpath, sizeof(procpath), "/proc/self/fd/%d", fd);
    if (access(procpath, R_OK) < 0) {
        fail(err, errsize,
             "memory files cannot be opened by the dynamic loader "
             "here (%s: %s)",
             procpath, strerror(errno));
        return -2;
    }
    exec_checked = 1;
    return 0;
}

/* inb_archive_data_copy()'s sink: write the chunk to the descriptor at
 * ctx. */
static int
write_sink(void *ctx, const unsigned char *chunk, size_t n)
{
    return write_all(*(const int *)ctx, chunk, n);
}

/* Write the image of record r of entry e of a to fd, checking the entry's
 * checksum on the way (the image is read from memory once).  Returns 0;
 * -1 with the damage in err; or -2 when writing failed (errno). */
static int
copy_image(const inb_archive *a, const inb_entry *e, const inb_shobj_record *r,
           int fd, char *err, size_t errsize)
{
    return inb_archive_data_copy(a, e, (size_t)(r->image - e->data),
                                 write_sink, &fd, err, errsize);
}

/* Write the image of r (entry e of a) into a new sealed memory file.
 * Returns the descriptor; -1 with the reason in err; or -2 when memory
 * files cannot be executed here (the reason is in err too). */
static int
memfd_of(const inb_archive *a, const inb_entry *e, const inb_shobj_record *r,
         char *err, size_t errsize)
{
    int rc;
    int fd = memfd_create(r->filename, MFD_CLOEXEC | MFD_ALLOW_SEALING);

    if (fd < 0) {
        fail(err, errsize, "memfd_create: %s", strerror(errno));
        return errno == ENOSYS || errno == EPERM || errno == EINVAL ? -2 : -1;
    }
    rc = copy_image(a, e, r, fd, err, errsize);
    if (rc < 0) {
        if (rc == -2) {
            fail(err, errsize, "writing %s to memory: %s", r->filename,
                 strerror(errno));
        }
        close(fd);
        return -1;
    }
    if (fcntl(fd, F_ADD_SEALS,
              F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0) {
        fail(err, errsize, "sealing %s: %s", r->filename, strerror(errno));
        close(fd);
        return -1;
    }
    if (check_exec(fd, err, errsize) < 0) {
        close(fd);
        return -2;
    }
    return fd;
}

/* The memory file of r in shared mode: the node's, from the holder, or
 * one made here (and offered to the holder when it asks).  Returns as
 * memfd_of(). */
static int
shared_memfd_of(const inb_archive *a, const inb_entry *e,
                const inb_shobj_record *r, char *err, size_t errsize)
{
    int fd, rc = inb_shareso_get(r, &fd);

    if (rc == 1) {
        if (check_exec(fd, err, errsize) < 0) {
            close(fd);
            return -2;
        }
        return fd;
    }
    fd = memfd_of(a, e, r, err, errsize);
    if (rc == 0) {
        inb_shareso_offer(r, fd);
    }
    return fd;
}

/* Append "DIR: WHY" to the list in buf, after "; " unless it is the
 * first. */
static void
add_reason(char *buf, size_t bufsize, const char *dir, const char *why)
{
    size_t used = strlen(buf);

    if (used + 1 < bufsize &&
        snprintf(buf + used, bufsize - used, "%s%s: %s", used == 0 ? "" : "; ",
                 dir, why) >= (int)(bufsize - used)) {
        /* Cut short: the list still names the first directories. */
    }
}

/* Make dir if missing and check it can hold code for this process: a
 * directory private to this user, on a filesystem that allows executable
 * mappings (not mounted noexec).  Returns 0, or -1 with the reason (a
 * static string, or errno's text) in *why. */
static int
usable_dir(const char *dir, const char **why)
{
    char probe[PATH_MAX];
    struct stat st;
    void *p;
    int fd;

    if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
        *why = strerror(errno);
        return -1;
    }
    /* Another user's directory, or a link to one, would let them supply
     * code this process runs. */
    if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != getuid() ||
        (st.st_mode & 077) != 0) {
        *why = "not a directory private to this user (mode 0700, owned by "
               "them)";
        return -1;
    }
    /* What the dynamic loader will do with a file here. */
    if (snprintf(probe, sizeof(probe), "%s/.probe.%ld", dir, (long)getpid()) >=
        (int)sizeof(probe)) {
        *why = "path too long";
        return -1;
    }
    fd =
        open(probe, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0700);
    if (fd < 0) {
        *why = strerror(errno);
        return -1;
    }
    unlink(probe);
    if (ftruncate(fd, 1) < 0) {
        *why = strerror(errno);
        close(fd);
        return -1;
    }
    p = mmap(NULL, 1, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
    close(fd);
    if (p == MAP_FAILED) {
        *why = errno == EPERM || errno == EACCES
                   ? "its filesystem does not allow executable mappings "
                     "(mounted noexec?)"
                   : strerror(errno);
        return -1;
    }
    munmap(p, 1);
    return 0;
}

/* Choose the per-user cache directory, once: $INBUILT_CACHE_DIR when set
 * (and nothing else), otherwise the first usable of
 * $XDG_RUNTIME_DIR/inbuilt, /dev/shm/inbuilt-UID and
 * ${TMPDIR:-/tmp}/inbuilt-UID.  Returns 0, or -1 with the reasons each
 * candidate was refused in err. */
static int
cache_dir(char *err, size_t errsize)
{
    const char *env = getenv("INBUILT_CACHE_DIR");
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    const char *tmp = getenv("TMPDIR");
    char cand[3][PATH_MAX], reasons[4 * PATH_MAX];
    const char *why;
    int n = 0, i;

    if (cachedir[0] != '\0') {
        return 0;
    }
    if (env != NULL && env[0] != '\0') {
        snprintf(cand[n++], PATH_MAX, "%s", env);
    }
    else {
        if (xdg != NULL && xdg[0] == '/') {
            snprintf(cand[n++], PATH_MAX, "%s/inbuilt", xdg);
        }
        snprintf(cand[n++], PATH_MAX, "/dev/shm/inbuilt-%u",
                 (unsigned)getuid());
        snprintf(cand[n++], PATH_MAX, "%s/inbuilt-%u",
                 tmp != NULL && tmp[0] == '/' ? tmp : "/tmp",
                 (unsigned)getuid());
    }
    reasons[0] = '\0';
    for (i = 0; i < n; i++) {
        if (usable_dir(cand[i], &why) == 0) {
            memcpy(cachedir, cand[i], sizeof(cachedir));
            return 0;
        }
        add_reason(reasons, sizeof(reasons), cand[i], why);
    }
    snprintf(err, errsize,
             "no usable cache directory for shared objects (%s); set "
             "INBUILT_CACHE_DIR to a private directory on node-local storage "
             "that allows executable mappings",
             reasons);
    return -1;
}

/* Put the image of r (entry e of a) in the cache directory (or find it
 * there: an earlier process checked it as it wrote it) and write its path
 * into path.  Returns 0, or -1 with the reason in err.  Not inlined: its
 * and cache_dir()'s path buffers (40 KiB) would sit in every frame of
 * load()'s recursion, 160 KiB of stack touched by a process importing
 * numpy in any mode. */
__attribute__((noinline)) static int
cache_file(const inb_archive *a, const inb_entry *e, const inb_shobj_record *r,
           char *path, size_t pathsize, char *err, size_t errsize)
{
    char tmp[PATH_MAX + 64];
    struct stat st;
    int fd, rc;

    if (cache_dir(err, errsize) < 0) {
        return -1;
    }
    snprintf(path, pathsize, "%s/%s-%s", cachedir, r->digest, r->filename);
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
        (size_t)st.st_size == r->image_size) {
        return 0; /* written by an earlier process */
    }
    snprintf(tmp, sizeof(tmp), "%s/.%s-%s.%ld.tmp", cachedir, r->digest,
             r->filename, (long)getpid());
    fd =
        open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0700);
    if (fd < 0) {
        return fail(err, errsize, "cannot create %s: %s", tmp,
                    strerror(errno));
    }
    rc = copy_image(a, e, r, fd, err, errsize);
    if (rc < 0 || close(fd) < 0) {
        if (rc != -1) {
            fail(err, errsize, "cannot write %s: %s", tmp, strerror(errno));
        }
        if (rc < 0) {
            close(fd);
        }
        unlink(tmp);
        return -1;
    }
    if (rename(tmp, path) < 0) {
        fail(err, errsize, "cannot rename %s into place: %s", tmp,
             strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

/* Make the record of entry e loadable (see inb_memso_prepare); when
 * is_library, also dlopen it.  Returns its path (owned by the table), or
 * NULL with the reason in err. */
static const char *
load(const inb_archive *a, const inb_entry *e, int is_library, char *err,
     size_t errsize)
{
    inb_shobj_record r;
    struct loaded *slot = find_loaded(e->data);
    const char *need;
    char path[PATH_MAX + 64];
    char *copy;
    int fd;

    if (slot != NULL) {
        /* Loaded, or a cycle of needs (only libraries, whose path is not
         * used). */
        return slot->path != NULL ? slot->path : "";
    }
    /* The image is checked as it is copied (memfd_of, cache_file); a
     * record that does not parse says it is damaged when it is. */
    if (inb_record_shobj_parse(e, &r, err, errsize) < 0) {
        inb_archive_data(a, e, err, errsize);
        return NULL;
    }
    if (ntable == captable) {
        size_t cap = captable ? 2 * captable : 32;
        struct loaded *t = inb_realloc(table, cap * sizeof(*t));

        if (t == NULL) {
            fail(err, errsize, "out of memory loading %s", r.filename);
            return NULL;
        }
        table = t;
        captable = cap;
    }
    /* Marked as in progress, so that a cycle of needs ends here. */
    table[ntable].key = e->data;
    table[ntable].path = NULL;
    ntable++;
    for (need = r.needs; need < r.needs + r.needs_size;
         need += strlen(need) + 1) {
        inb_entry lib;

        if (!inb_archive_find(a, INB_NS_SHLIB, need, strlen(need), &lib)) {
            fail(err, errsize,
                 "library %s, needed by %s, is not in the "
                 "executable",
                 need, r.filename);
            goto error;
        }
        if (load(a, &lib, 1, err, errsize) == NULL) {
            goto error;
        }
    }
    fd = mode == INB_MEMSO_SHARED   ? shared_memfd_of(a, e, &r, err, errsize)
         : mode == INB_MEMSO_MEMORY ? memfd_of(a, e, &r, err, errsize)
                                    : -2;
    if (fd == -2 && mode != INB_MEMSO_CACHE) {
        snprintf(diagnostic, sizeof(diagnostic),
                 "%s; loading shared objects from a cache directory "
                 "instead",
                 err);
        mode = INB_MEMSO_CACHE;
    }
    if (fd >= 0) {
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    }
    else if (fd == -1 ||
             cache_file(a, e, &r, path, sizeof(path), err, errsize) < 0) {
        goto error;
    }
    release_image(&r);
    if (is_library && dlopen(path, RTLD_NOW | RTLD_LOCAL) == NULL) {
        const char *msg = dlerror();

        fail(err, errsize, "cannot load library %s: %s", r.filename,
             msg ? msg : "unknown error");
        if (fd >= 0) {
            close(fd);
        }
        goto error;
    }
    copy = inb_malloc(strlen(path) + 1);
    if (copy == NULL) {
        fail(err, errsize, "out of memory loading %s", r.filename);
        if (fd >= 0) {
            close(fd); /* nothing refers to it yet */
        }
        goto error;
    }
    strcpy(copy, path);
    find_loaded(e->data)->path = copy;
    return copy;
error:
    /* Forget it, so that a later import tries again. */
    find_loaded(e->data)->key = NULL;
    return NULL;
}

int
inb_memso_prepare(const inb_archive *a, const inb_entry *e, char *path,
                  size_t pathsize, char *err, size_t errsize)
{
    const char *p = load(a, e, 0, err, errsize);

    if (p == NULL) {
        return -1;
    }
    if ((size_t)snprintf(path, pathsize, "%s", p) >= pathsize) {
        return fail(err, errsize, "path too long: %s", p);
    }
    return 0;
}
