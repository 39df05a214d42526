/* vpath.c: which file or directory of the executable's virtual tree an
 * archive entry is (the scheme is described in vpath.h), for the file
 * layer (vfs.c) and the resources (resources.c).
 *
 * Inode numbers: the root is 1; a file, a package's or namespace
 * package's directory is its entry's index position in the archive plus 2
 * (a package's directory is its module entry, its __init__.py its source
 * entry); a directory that only holds data or metadata files is
 * (depth << 32) | the index position of the first entry under it, depth
 * (>= 1) being its number of components, so no two collide (an archive
 * has fewer than 2^32 entries).
 */
#define _GNU_SOURCE
#include "vpath.h"

#include <string.h>
#include <sys/mman.h>
#include <zlib.h>

#include "modpath.h"
#include "records.h"

#define NAME_MAX_LEN 1024 /* longest relative path or dotted name */

/* The index position of entry (ns, name[0..len)) with *e filled, or
 * UINT32_MAX when absent. */
static uint32_t
find_index(const inb_archive *a, int ns, const char *name, size_t len,
           inb_entry *e)
{
    uint32_t i = inb_archive_lower_bound(a, ns, name, len);

    if (i >= a->count) {
        return UINT32_MAX;
    }
    inb_archive_entry(a, i, e);
    if (e->ns != ns || e->name_len != len || memcmp(e->name, name, len)) {
        return UINT32_MAX;
    }
    return i;
}

/* The index position of the first entry of ns whose name starts with
 * prefix[0..len), or UINT32_MAX. */
static uint32_t
find_prefix(const inb_archive *a, int ns, const char *prefix, size_t len)
{
    uint32_t i = inb_archive_lower_bound(a, ns, prefix, len);
    inb_entry e;

    if (i >= a->count) {
        return UINT32_MAX;
    }
    inb_archive_entry(a, i, &e);
    if (e.ns != ns || e.name_len < len || memcmp(e.name, prefix, len)) {
        return UINT32_MAX;
    }
    return i;
}

/* Write the dotted name rel[0..len) stands for into out (NAME_MAX_LEN
 * bytes).  Returns 0, or -1 when it cannot name a module. */
static int
dotted_of(const char *rel, size_t len, char *out)
{
    return inb_modpath_name(rel, len, out, NAME_MAX_LEN - 1);
}

static void
set_file(inb_vnode *n, int form, const unsigned char *data, size_t size,
         uint64_t length, uint32_t index)
{
    n->type = INB_VNODE_FILE;
    n->form = form;
    n->data = data;
    n->data_size = size;
    n->size = length;
    n->index = index;
    n->ino = (uint64_t)index + 2;
}

static void
set_dir(inb_vnode *n, uint64_t ino)
{
    memset(n, 0, sizeof(*n));
    n->type = INB_VNODE_DIR;
    n->ino = ino;
}

/* A file whose bytes are the image of shared-object record e (corrupt
 * when it is damaged). */
static void
set_image(const inb_archive *a, inb_vnode *n, const inb_entry *e,
          uint32_t index)
{
    inb_shobj_record r;
    char err[256];

    if (inb_record_shobj_read(a, e, &r, err, sizeof(err)) < 0) {
        set_file(n, INB_VFORM_CORRUPT, NULL, 0, 0, index);
        return;
    }
    set_file(n, INB_VFORM_RAW, r.image, r.image_size, r.image_size, index);
}

/* Whether rel[0..len) is the source of a module the archive keeps; fills
 * *n.  "a/b.py" is module a.b, "a/__init__.py" package a. */
static int
lookup_source(const inb_archive *a, const char *rel, size_t len, inb_vnode *n)
{
    char dotted[NAME_MAX_LEN], err[256];
    int want;
    long stem = inb_modpath_of_source(rel, len, dotted, sizeof(dotted), &want);
    inb_source_record r;
    inb_entry e;
    uint32_t i;

    if (stem < 0 ||
        find_index(a, INB_NS_MODULE, dotted, (size_t)stem, &e) == UINT32_MAX ||
        e.kind != want) {
        return 0;
    }
    i = find_index(a, INB_NS_SOURCE, dotted, (size_t)stem, &e);
    if (i == UINT32_MAX) {
        return 0;
    }
    if (inb_record_source_read(a, &e, &r, err, sizeof(err)) < 0) {
        set_file(n, INB_VFORM_CORRUPT, NULL, 0, 0, i);
        return 1;
    }
    set_file(n, INB_VFORM_ZLIB, r.zlib, r.zlib_size, r.size, i);
    return 1;
}

/* Whether rel[0..len) is the .so of an extension module ("a/b/_m.X.so" is
 * module a.b._m when its record has that file name).  Returns its module
 * entry's index position and fills *e, or UINT32_MAX. */
static uint32_t
find_extension(const inb_archive *a, const char *rel, size_t len, inb_entry *e)
{
    const char *base = rel, *p;
    char dotted[NAME_MAX_LEN];
    inb_shobj_record r;
    char err[256];
    size_t dir, stem;
    uint32_t i;

    for (p = rel; p < rel + len; p++) {
        if (*p == '/') {
            base = p + 1;
        }
    }
    dir = (size_t)(base - rel);
    p = memchr(base, '.', len - dir);
    if (p == NULL || p == base) {
        return UINT32_MAX;
    }
    stem = (size_t)(p - base);
    if (dotted_of(rel, dir + stem, dotted) < 0) {
        return UINT32_MAX;
    }
    i = find_index(a, INB_NS_MODULE, dotted, dir + stem, e);
    if (i == UINT32_MAX || e->kind != INB_KIND_SHARED_EXT ||
        inb_record_shobj_parse(e, &r, err, sizeof(err)) < 0 ||
        strlen(r.filename) != len - dir ||
        memcmp(r.filename, base, len - dir) != 0) {
        return UINT32_MAX;
    }
    return i;
}

int
inb_vpath_shared_object(const inb_archive *a, const char *rel, size_t len,
                        inb_entry *e)
{
    if (find_index(a, INB_NS_DATA, rel, len, e) != UINT32_MAX) {
        return e->kind == INB_KIND_SHARED_DATA;
    }
    return find_extension(a, rel, len, e) != UINT32_MAX;
}

/* The inode number of the directory holding entries of ns under
 * rel[0..len) + "/", or 0 when there is none. */
static uint64_t
prefix_dir(const inb_archive *a, int ns, const char *rel, size_t len)
{
    char prefix[NAME_MAX_LEN + 1];
    uint64_t depth = 1;
    uint32_t i;
    size_t k;

    if (len >= NAME_MAX_LEN) {
        return 0;
    }
    memcpy(prefix, rel, len);
    prefix[len] = '/';
    i = find_prefix(a, ns, prefix, len + 1);
    if (i == UINT32_MAX) {
        return 0;
    }
    for (k = 0; k < len; k++) {
        depth += rel[k] == '/';
    }
    return depth << 32 | i;
}

int
inb_vpath_lookup(const inb_archive *a, const char *rel, size_t len,
                 inb_vnode *n)
{
    char dotted[NAME_MAX_LEN];
    inb_entry e;
    uint32_t i;
    uint64_t ino;

    memset(n, 0, sizeof(*n));
    if (len == 0) {
        set_dir(n, 1);
        return n->type;
    }
    i = find_index(a, INB_NS_DATA, rel, len, &e);
    if (i != UINT32_MAX) {
        if (e.kind == INB_KIND_SHARED_DATA) {
            set_image(a, n, &e, i);
        }
        else {
            set_file(n, INB_VFORM_ENTRY, e.data, e.size, e.size, i);
        }
        return n->type;
    }
    if (lookup_source(a, rel, len, n)) {
        return n->type;
    }
    i = find_extension(a, rel, len, &e);
    if (i != UINT32_MAX) {
        set_image(a, n, &e, i);
        return n->type;
    }
    if (dotted_of(rel, len, dotted) == 0) {
        i = find_index(a, INB_NS_MODULE, dotted, len, &e);
        if (i != UINT32_MAX &&
            (e.kind == INB_KIND_PACKAGE || e.kind == INB_KIND_NAMESPACE)) {
            set_dir(n, (uint64_t)i + 2);
            return n->type;
        }
    }
    ino = prefix_dir(a, INB_NS_DATA, rel, len);
    if (ino != 0) {
        set_dir(n, ino);
        return n->type;
    }
    if (memchr(rel, '/', len) == NULL) {
        ino = prefix_dir(a, INB_NS_META, rel, len);
        if (ino != 0) {
            set_dir(n, ino);
            return n->type;
        }
    }
    i = find_index(a, INB_NS_META, rel, len, &e);
    if (i != UINT32_MAX) {
        set_file(n, INB_VFORM_ENTRY, e.data, e.size, e.size, i);
    }
    return n->type;
}

/* zlib's memory comes from mmap(), not malloc(): reading a source file is
 * then safe in fork()'s child and in a signal handler. */
static voidpf
map_alloc(voidpf opaque, uInt items, uInt size)
{
    size_t total = (size_t)items * size + 16;
    unsigned char *p;

    (void)opaque;
    p = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
             -1, 0);
    if (p == MAP_FAILED) {
        return Z_NULL;
    }
    memcpy(p, &total, sizeof(total));
    return p + 16;
}

static void
map_free(voidpf opaque, voidpf address)
{
    unsigned char *p = (unsigned char *)address - 16;
    size_t total;

    (void)opaque;
    memcpy(&total, p, sizeof(total));
    munmap(p, total);
}

int
inb_vpath_read(const inb_archive *a, const inb_vnode *n, unsigned char *out)
{
    char err[256];
    inb_entry e;
    z_stream z;
    int rc;

    if (n->form == INB_VFORM_ENTRY) {
        /* The entry's checksum, on first use (memoized). */
        inb_archive_entry(a, n->index, &e);
        if (inb_archive_data(a, &e, err, sizeof(err)) < 0) {
            return -1;
        }
        memcpy(out, n->data, n->size);
        return 0;
    }
    if (n->form == INB_VFORM_RAW) {
        memcpy(out, n->data, n->size);
        return 0;
    }
    if (n->form != INB_VFORM_ZLIB || n->data_size > UINT32_MAX ||
        n->size > UINT32_MAX) {
        return -1;
    }
    memset(&z, 0, sizeof(z));
    z.zalloc = map_alloc;
    z.zfree = map_free;
    if (inflateInit(&z) != Z_OK) {
        return -1;
    }
    z.next_in = (Bytef *)n->data;
    z.avail_in = (uInt)n->data_size;
    z.next_out = out;
    z.avail_out = (uInt)n->size;
    rc = inflate(&z, Z_FINISH);
    inflateEnd(&z);
    return rc == Z_STREAM_END && z.total_out == n->size ? 0 : -1;
}

long
inb_vpath_normalize(const char *path, size_t len, char *out, size_t outsize)
{
    size_t o = 0, i = 0, start, clen;

    while (i < len) {
        while (i < len && path[i] == '/') {
            i++;
        }
        start = i;
        while (i < len && path[i] != '/') {
            i++;
        }
        clen = i - start;
        if (clen == 0 || (clen == 1 && path[start] == '.')) {
            continue;
        }
        if (clen == 2 && path[start] == '.' && path[start + 1] == '.') {
            if (o == 0) {
                return -2;
            }
            while (o > 0 && out[o - 1] != '/') {
                o--;
            }
            if (o > 0) {
                o--; /* the slash before it */
            }
            continue;
        }
        if (o + (o > 0) + clen + 1 > outsize) {
            return -1;
        }
        if (o > 0) {
            out[o++] = '/';
        }
        memcpy(out + o, path + start, clen);
        o += clen;
    }
    if (outsize > 0) {
        out[o] = '\0';
    }
    return (long)o;
}

int
inb_vpath_opendir(inb_vdir *d, const char *rel, size_t len)
{
    if (len + 2 > sizeof(d->rel)) {
        return -1;
    }
    memcpy(d->rel, rel, len);
    d->rel[len] = '\0';
    d->len = len;
    d->phase = 0;
    d->i = 0;
    d->lastlen = 0;
    return 0;
}

/* Whether data or metadata gives directory d's child name[0..len) (listed
 * in the first phases, hence not to be repeated by modules). */
static int
listed_by_files(const inb_archive *a, const inb_vdir *d, const char *name,
                size_t len)
{
    char path[NAME_MAX_LEN + 1];
    size_t plen = d->len + (d->len > 0) + len;
    inb_entry e;

    if (plen >= NAME_MAX_LEN) {
        return 0;
    }
    memcpy(path, d->rel, d->len);
    if (d->len > 0) {
        path[d->len] = '/';
    }
    memcpy(path + plen - len, name, len);
    if (find_index(a, INB_NS_DATA, path, plen, &e) != UINT32_MAX ||
        prefix_dir(a, INB_NS_DATA, path, plen) != 0) {
        return 1;
    }
    return d->len == 0 && prefix_dir(a, INB_NS_META, path, plen) != 0;
}

/* The next child name of d in the phase over namespace ns (data or meta):
 * the first components after d's prefix, each once.  Returns its length,
 * or 0 when the phase is over. */
static size_t
next_file_child(const inb_archive *a, inb_vdir *d, int ns, const char **name)
{
    size_t plen = d->len + (d->len > 0);
    inb_entry e;

    if (d->i == 0) {
        d->rel[d->len] = '/';
        d->i = inb_archive_lower_bound(a, ns, d->rel, plen);
        d->rel[d->len] = '\0';
    }
    for (; d->i < a->count; d->i++) {
        const char *rest, *slash;
        size_t restlen;

        inb_archive_entry(a, d->i, &e);
        if (e.ns != ns || e.name_len <= plen ||
            memcmp(e.name, d->rel, d->len) != 0 ||
            (d->len > 0 && e.name[d->len] != '/')) {
            break;
        }
        rest = e.name + plen;
        restlen = e.name_len - plen;
        slash = memchr(rest, '/', restlen);
        if (slash != NULL) {
            restlen = (size_t)(slash - rest);
        }
        if (restlen == 0 || restlen >= sizeof(d->last) ||
            (restlen == d->lastlen && memcmp(rest, d->last, restlen) == 0)) {
            continue;
        }
        memcpy(d->last, rest, restlen);
        d->last[restlen] = '\0';
        d->lastlen = restlen;
        d->i++;
        *name = d->last;
        return restlen;
    }
    return 0;
}

/* The next child of d that a module gives: a subpackage's directory, a
 * module's source, an extension module's .so.  Returns its length with
 * the name in d->last, or 0 at the end. */
static size_t
next_module_child(const inb_archive *a, inb_vdir *d)
{
    char dotted[NAME_MAX_LEN];
    size_t plen = d->len + (d->len > 0);
    inb_entry e, src;

    if (d->len > 0) {
        if (dotted_of(d->rel, d->len, dotted) < 0) {
            return 0;
        }
        dotted[d->len] = '.';
    }
    if (d->i == 0) {
        d->i = inb_archive_lower_bound(a, INB_NS_MODULE, dotted, plen);
    }
    for (; d->i < a->count; d->i++) {
        const char *child;
        size_t clen;
        inb_shobj_record r;
        char err[256];

        inb_archive_entry(a, d->i, &e);
        if (e.ns != INB_NS_MODULE || e.name_len <= plen ||
            memcmp(e.name, dotted, plen) != 0) {
            break;
        }
        child = e.name + plen;
        clen = e.name_len - plen;
        if (memchr(child, '.', clen) != NULL || clen + 4 >= sizeof(d->last)) {
            continue;
        }
        memcpy(d->last, child, clen);
        switch (e.kind) {
        case INB_KIND_PACKAGE:
        case INB_KIND_NAMESPACE:
            break;
        case INB_KIND_MODULE:
            if (find_index(a, INB_NS_SOURCE, e.name, e.name_len, &src) ==
                UINT32_MAX) {
                continue;
            }
            memcpy(d->last + clen, ".py", 3);
            clen += 3;
            break;
        case INB_KIND_SHARED_EXT:
            /* The name only: the image is checked when it is used. */
            if (inb_record_shobj_parse(&e, &r, err, sizeof(err)) < 0 ||
                strlen(r.filename) >= sizeof(d->last)) {
                continue;
            }
            clen = strlen(r.filename);
            memcpy(d->last, r.filename, clen);
            break;
        default:
            continue; /* built in, or left out: no file */
        }
        d->last[clen] = '\0';
        if (listed_by_files(a, d, d->last, clen)) {
            continue;
        }
        d->i++;
        return clen;
    }
    return 0;
}

int
inb_vpath_readdir(const inb_archive *a, inb_vdir *d, char *name,
                  size_t namesize, inb_vnode *child)
{
    const char *found = NULL;
    char path[NAME_MAX_LEN + 1];
    size_t len = 0;
    inb_entry e;

    for (;;) {
        switch (d->phase) {
        case 0: /* data files and the directories holding them */
            len = next_file_child(a, d, INB_NS_DATA, &found);
            break;
        case 1: /* the root's metadata directories */
            len = d->len == 0 ? next_file_child(a, d, INB_NS_META, &found) : 0;
            break;
        case 2: /* a package's own source */
            len = 0;
            if (dotted_of(d->rel, d->len, path) == 0 &&
                find_index(a, INB_NS_MODULE, path, d->len, &e) != UINT32_MAX &&
                e.kind == INB_KIND_PACKAGE &&
                find_index(a, INB_NS_SOURCE, path, d->len, &e) != UINT32_MAX) {
                memcpy(d->last, "__init__.py", 12);
                found = d->last;
                len = 11;
                d->phase++; /* once */
                d->i = 0;
                goto give;
            }
            break;
        case 3: /* subpackages, modules' source, extension modules */
            len = next_module_child(a, d);
            found = d->last;
            break;
        default:
            return 0;
        }
        if (len > 0) {
            break;
        }
        d->phase++;
        d->i = 0;
        d->lastlen = 0;
    }
give:
    if (len + 1 > namesize || d->len + 1 + len >= sizeof(path)) {
        return inb_vpath_readdir(a, d, name, namesize, child);
    }
    memcpy(name, found, len);
    name[len] = '\0';
    memcpy(path, d->rel, d->len);
    path[d->len] = '/';
    memcpy(path + d->len + 1, found, len);
    if (d->len == 0) {
        inb_vpath_lookup(a, path + 1, len, child);
    }
    else {
        inb_vpath_lookup(a, path, d->len + 1 + len, child);
    }
    return 1;
}

int
inb_vpath_find_module(const inb_archive *a, const char *name, size_t len,
                      inb_entry *e, uint32_t *index)
{
    static const char init[] = ".__init__";
    const size_t init_len = sizeof(init) - 1;
    uint32_t i = find_index(a, INB_NS_MODULE, name, len, e);

    if (i == UINT32_MAX && len > init_len &&
        memcmp(name + len - init_len, init, init_len) == 0) {
        i = find_index(a, INB_NS_MODULE, name, len - init_len, e);
        if (i == UINT32_MAX || e->kind != INB_KIND_PACKAGE) {
            return 0;
        }
        e->kind = INB_KIND_MODULE;
    }
    if (i == UINT32_MAX) {
        return 0;
    }
    if (index != NULL) {
        *index = i;
    }
    return 1;
}

int
inb_vpath_module_at(const inb_archive *a, uint32_t index, const char *name,
                    size_t len, inb_entry *e)
{
    static const char init[] = ".__init__";
    const size_t init_len = sizeof(init) - 1;

    if (index >= a->count) {
        return 0;
    }
    inb_archive_entry(a, index, e);
    if (e->ns != INB_NS_MODULE) {
        return 0;
    }
    if (e->name_len == len && memcmp(e->name, name, len) == 0) {
        return 1;
    }
    if (e->kind == INB_KIND_PACKAGE && e->name_len + init_len == len &&
        memcmp(e->name, name, e->name_len) == 0 &&
        memcmp(name + e->name_len, init, init_len) == 0) {
        e->kind = INB_KIND_MODULE;
        return 1;
    }
    return 0;
}

long
inb_vpath_module_file(const inb_entry *e, const char *name, size_t len,
                      char *out, size_t outsize, char *err, size_t errsize)
{
    inb_shobj_record r;

    if (e->kind != INB_KIND_SHARED_EXT) {
        return (long)inb_modpath_file(name, len, e->kind, NULL, out, outsize);
    }
    /* The names only: the image is checked when it is loaded. */
    if (inb_record_shobj_parse(e, &r, err, errsize) < 0) {
        return -1;
    }
    return (long)inb_modpath_file(name, len, e->kind, r.filename, out,
                                  outsize);
}
