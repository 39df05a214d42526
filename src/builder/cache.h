/* cache.h: the builder's per-user cache of work that depends only on its
 * inputs' content (bytecode, compressed source, lint results, the linked
 * executable without its archive), so that a rebuild redoes only what
 * changed. */
#ifndef INB_CACHE_H
#define INB_CACHE_H

#include <stddef.h>

#include "inb.h"
#include "util.h"

/* A key being computed: SHA-256 over a kind and the parts added, each
 * length-prefixed, and over this inbuilt program's own bytes. */
struct inb_cache_key {
    const char *kind; /* a static name: "bytecode", "link", ... */
    void *ctx;        /* the digest being computed, until final */
    unsigned char digest[32];
};

/* Start key k of kind (a static string, also the cache's subdirectory). */
INB_HIDDEN void inb_cache_key_start(struct inb_cache_key *k, const char *kind);
/* Add data[0..n) to k. */
INB_HIDDEN void inb_cache_key_add(struct inb_cache_key *k, const void *data,
                                  size_t n);
/* Add the string s (NULL is distinct from "") to k. */
INB_HIDDEN void inb_cache_key_str(struct inb_cache_key *k, const char *s);
/* Add what identifies the file at path without reading it (size,
 * modification time, inode, device), or its absence, to k. */
INB_HIDDEN void inb_cache_key_stat(struct inb_cache_key *k, const char *path);
/* Add the bytes of the file at path (or its absence), not its name, to
 * k. */
INB_HIDDEN void inb_cache_key_file(struct inb_cache_key *k, const char *path);

/* Look k up (finishing it).  Returns 1 with the value appended to out, or
 * 0: no entry, the cache is off, or the entry is damaged or not k's (it
 * is then removed and counted as rejected, never used). */
INB_HIDDEN int inb_cache_get(struct inb_cache_key *k, struct inb_buf *out);
/* Store data[0..n) under k (finished by inb_cache_get) atomically: a
 * temporary file renamed into place, so that concurrent builds never read
 * part of an entry.  Failures to write are not errors: the cache is only
 * an optimization. */
INB_HIDDEN void inb_cache_put(struct inb_cache_key *k, const void *data,
                              size_t n);
/* Under -v, or always when stats is set, print per kind how many entries
 * were reused, made and rejected; then, when entries were stored, remove
 * the oldest ones while the cache is bigger than its limit. */
INB_HIDDEN void inb_cache_finish(int stats);
/* `inbuilt cache [--stats] [--clear]`. */
INB_HIDDEN int inb_cache_main(int argc, char **argv);

#endif
