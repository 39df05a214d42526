/* memso.c: load shared objects from the archive through memory files.
 *
 * Each image is written once into an anonymous memory file (memfd_create),
 * sealed against any change, and opened by the dynamic loader through
 * /proc/self/fd/N.  Libraries are dlopen'ed before what needs them, so that
 * the loader finds each DT_NEEDED soname among the objects it has already
 * loaded and searches no directory.  The memory files stay open for the
 * life of the process: the loader knows an object by its path, and a
 * reused descriptor number would name another image.
 *
 * The record layout is described in src/builder/shlib.c and
 * docs/FORMAT.md.
 */
#define _GNU_SOURCE
#include "memso.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "alloc.h"

/* One image made loadable: keyed by its record's address in the
 * archive. */
struct loaded {
    const unsigned char *key;
    int fd;      /* -1 while its needs are being loaded */
};

static struct loaded *table;
static size_t ntable, captable;

/* Report why a record or a load failed; returns -1. */
static int
fail(char *err, size_t errsize, const char *fmt, const char *a,
     const char *b)
{
    snprintf(err, errsize, fmt, a, b);
    return -1;
}

int
inb_memso_parse(const inb_entry *e, inb_memso_record *r, char *err,
                size_t errsize)
{
    size_t names;

    if (e->size < 4) {
        return fail(err, errsize, "shared-object record truncated%s%s", "",
                    "");
    }
    names = (size_t)e->data[0] | (size_t)e->data[1] << 8 |
            (size_t)e->data[2] << 16 | (size_t)e->data[3] << 24;
    if (names == 0 || names > e->size - 4) {
        return fail(err, errsize,
                    "shared-object record: names beyond the record%s%s", "",
                    "");
    }
    if (e->data[4 + names - 1] != '\0') {
        return fail(err, errsize,
                    "shared-object record: names not terminated%s%s", "",
                    "");
    }
    r->filename = (const char *)e->data + 4;
    r->needs = r->filename + strlen(r->filename) + 1;
    r->needs_size = names - (strlen(r->filename) + 1);
    r->image = e->data + 4 + names;
    r->image_size = e->size - 4 - names;
    if (r->image_size < 4 || memcmp(r->image, "\177ELF", 4) != 0) {
        return fail(err, errsize, "shared-object record of %s: image is "
                    "not an ELF file%s", r->filename, "");
    }
    return 0;
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

/* Write image into a new sealed memory file named name.  Returns the
 * descriptor, or -1 with the reason in err. */
static int
memfd_of(const char *name, const unsigned char *image, size_t size,
         char *err, size_t errsize)
{
    int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
    size_t done = 0;

    if (fd < 0) {
        return fail(err, errsize, "memfd_create for %s: %s", name,
                    strerror(errno));
    }
    while (done < size) {
        ssize_t n = write(fd, image + done, size - done);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            fail(err, errsize, "writing %s to memory: %s", name,
                 strerror(n < 0 ? errno : ENOSPC));
            close(fd);
            return -1;
        }
        done += (size_t)n;
    }
    if (fcntl(fd, F_ADD_SEALS,
              F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0) {
        fail(err, errsize, "sealing %s: %s", name, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

/* Make the record of entry e loadable (see inb_memso_prepare); when
 * is_library, also dlopen it.  Returns the descriptor of its memory file,
 * or -1 with the reason in err. */
static int
load(const inb_archive *a, const inb_entry *e, int is_library, char *err,
     size_t errsize)
{
    inb_memso_record r;
    struct loaded *slot = find_loaded(e->data);
    const char *need;
    char path[64];
    int fd;

    if (slot != NULL) {
        return slot->fd >= 0 ? slot->fd : 0; /* loaded, or a needs cycle:
                                                 only libraries, whose
                                                 descriptor is not used */
    }
    if (inb_memso_parse(e, &r, err, errsize) < 0) {
        return -1;
    }
    if (ntable == captable) {
        size_t cap = captable ? 2 * captable : 32;
        struct loaded *t = inb_realloc(table, cap * sizeof(*t));

        if (t == NULL) {
            return fail(err, errsize, "out of memory loading %s%s",
                        r.filename, "");
        }
        table = t;
        captable = cap;
    }
    /* Marked as in progress, so that a cycle of needs ends here. */
    table[ntable].key = e->data;
    table[ntable].fd = -1;
    ntable++;
    for (need = r.needs; need < r.needs + r.needs_size;
         need += strlen(need) + 1) {
        inb_entry lib;

        if (!inb_archive_find(a, INB_NS_SHLIB, need, strlen(need), &lib)) {
            fail(err, errsize, "library %s, needed by %s, is not in the "
                 "executable",
                 need, r.filename);
            goto error;
        }
        if (load(a, &lib, 1, err, errsize) < 0) {
            goto error;
        }
    }
    fd = memfd_of(r.filename, r.image, r.image_size, err, errsize);
    if (fd < 0) {
        goto error;
    }
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    if (is_library && dlopen(path, RTLD_NOW | RTLD_LOCAL) == NULL) {
        const char *msg = dlerror();

        fail(err, errsize, "cannot load library %s: %s", r.filename,
             msg ? msg : "unknown error");
        close(fd);
        goto error;
    }
    find_loaded(e->data)->fd = fd;
    return fd;
error:
    /* Forget it, so that a later import tries again. */
    find_loaded(e->data)->key = NULL;
    return -1;
}

int
inb_memso_prepare(const inb_archive *a, const inb_entry *e, char *path,
                  size_t pathsize, char *err, size_t errsize)
{
    int fd = load(a, e, 0, err, errsize);

    if (fd < 0) {
        return -1;
    }
    snprintf(path, pathsize, "/proc/self/fd/%d", fd);
    return 0;
}
