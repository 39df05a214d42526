/* vpath.h: the virtual tree under the executable's path, in pure C.
 *
 * The one place that says which file or directory of the tree an archive
 * entry is (docs/ARCHITECTURE.md): a path relative to the root ("a/b.py",
 * "a/data/x.csv", "" for the root) is
 *  - the source of module a.b (a/b.py) or of package a (a/__init__.py),
 *    when the build kept source;
 *  - a package data file ("data" entry), a package's plain shared library
 *    ("data" entry of kind shared-data, the file being its image);
 *  - an extension module's .so, named as it was built
 *    (a/_m.cpython-311-x86_64-linux-gnu.so for module a._m);
 *  - a distribution's metadata file (X-1.0.dist-info/METADATA);
 *  - a directory: the root, a package or namespace package, a directory
 *    holding data files, a metadata directory.
 * Nothing here allocates, locks or makes a system call: it is safe in a
 * signal handler, in fork()'s child and from any thread. */
#ifndef INB_VPATH_H
#define INB_VPATH_H

#include <stddef.h>
#include <stdint.h>

#include "archive.h"

enum inb_vnode_type {
    INB_VNODE_NONE = 0, /* nothing there */
    INB_VNODE_FILE = 1,
    INB_VNODE_DIR = 2,
};

/* How a file's bytes are held. */
enum inb_vnode_form {
    INB_VFORM_RAW = 0,     /* data[0..size) as they are (a checked record) */
    INB_VFORM_ENTRY = 3,   /* the same, an entry's whole data, whose
                              checksum is checked when it is read */
    INB_VFORM_ZLIB = 1,    /* a zlib stream inflating to size bytes */
    INB_VFORM_CORRUPT = 2, /* a record that does not parse: reads fail */
};

/* What a path of the tree is.  Pointers borrow from the archive. */
typedef struct inb_vnode {
    int type;                  /* enum inb_vnode_type */
    int form;                  /* file: enum inb_vnode_form */
    const unsigned char *data; /* file: raw bytes or zlib stream */
    size_t data_size;
    uint64_t size;  /* file: its length in bytes; directory: 0 */
    uint64_t ino;   /* stable and unique among the tree's nodes, >= 1 */
    uint32_t index; /* file: the archive entry's index position */
} inb_vnode;

/* A directory being listed; fill with inb_vpath_opendir(). */
typedef struct inb_vdir {
    char rel[1024]; /* the directory, relative to the root */
    size_t len;
    int phase;
    uint32_t i;
    char last[256]; /* the last name given (to skip repeats) */
    size_t lastlen;
} inb_vdir;

/* Fill *n with what rel[0..len) (normalized: no "", "." or ".."
 * component, no leading or trailing slash; "" for the root) is in archive
 * a.  Returns n->type. */
INB_HIDDEN int inb_vpath_lookup(const inb_archive *a, const char *rel,
                                size_t len, inb_vnode *n);

/* Write the n->size bytes of file n of archive a into out.  Returns 0, or
 * -1 when its entry is damaged (checksum, zlib stream, record). */
INB_HIDDEN int inb_vpath_read(const inb_archive *a, const inb_vnode *n,
                              unsigned char *out);

/* Start listing directory rel[0..len) (normalized).  Returns 0, or -1
 * when the path is too long. */
INB_HIDDEN int inb_vpath_opendir(inb_vdir *d, const char *rel, size_t len);

/* The next name of directory d (NUL-terminated, in name, of namesize
 * bytes) and what it is (*child), in the order the archive holds them,
 * each once.  Returns 1, or 0 at the end. */
INB_HIDDEN int inb_vpath_readdir(const inb_archive *a, inb_vdir *d, char *name,
                                 size_t namesize, inb_vnode *child);

/* Normalize path[0..len), relative to the root, into out (outsize bytes):
 * "" and "." components dropped, ".." taking the previous one off.
 * Returns the length, -1 when it does not fit (ENAMETOOLONG), -2 when
 * ".." leaves the root. */
INB_HIDDEN long inb_vpath_normalize(const char *path, size_t len, char *out,
                                    size_t outsize);

/* The entry whose shared object file rel[0..len) of the tree is: a
 * package's plain library (data, shared-data) or an extension module's
 * .so.  Returns 1 and fills *e, or 0. */
INB_HIDDEN int inb_vpath_shared_object(const inb_archive *a, const char *rel,
                                       size_t len, inb_entry *e);

/* Look module name[0..len) up in archive a (namespace module).  "a.b.__init__"
 * is package a.b's code as a plain module, as CPython's path finder gives
 * it from a/b/__init__.py: *e is the package's entry with kind
 * INB_KIND_MODULE.  Returns 1 and fills *e and *index (the entry's index
 * position; index may be NULL), or 0 when absent. */
INB_HIDDEN int inb_vpath_find_module(const inb_archive *a, const char *name,
                                     size_t len, inb_entry *e,
                                     uint32_t *index);

/* Whether the entry at index position index of a is module name[0..len)
 * as inb_vpath_find_module() finds it (the check of an index carried from
 * find_spec to the loader).  Returns 1 and fills *e, or 0. */
INB_HIDDEN int inb_vpath_module_at(const inb_archive *a, uint32_t index,
                                   const char *name, size_t len, inb_entry *e);

/* Write the file of module name[0..len) found as entry e (not built in)
 * into out, relative to the root, as inb_modpath_file() does: a/b.py,
 * a/b/__init__.py, a/b (a namespace package), or for an extension module
 * a/ and the file name its record holds.  Returns the length (outsize or
 * more: out holds nothing useful), or -1 with the reason in err when an
 * extension's record does not parse. */
INB_HIDDEN long inb_vpath_module_file(const inb_entry *e, const char *name,
                                      size_t len, char *out, size_t outsize,
                                      char *err, size_t errsize);

#endif
