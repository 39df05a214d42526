/* cache.h: the builder's per-user cache of work that depends only on its
 * inputs' content (bytecode, compressed source, lint results, the linked
 * executable without its archive), so that a rebuild redoes only what
 * changed. */
#ifndef INB_CACHE_H
#define INB_CACHE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

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
/* Add the file at path's name and the SHA-256 of its bytes (or that it
 * cannot be read) to k, through the fingerprint index (fingerprint.h): an
 * unchanged file is not read again. */
INB_HIDDEN void inb_cache_key_content(struct inb_cache_key *k,
                                      const char *path);
/* Add the SHA-256 of data[0..n) to k: what inb_cache_get_file() adds for
 * a file of those bytes. */
INB_HIDDEN void inb_cache_key_digest(struct inb_cache_key *k, const void *data,
                                     size_t n);
/* Add the bytes of the file at path (or its absence), not its name, to
 * k. */
INB_HIDDEN void inb_cache_key_file(struct inb_cache_key *k, const char *path);

/* The number of integers of a file identity. */
#define INB_IDENTITY_SIZE 9
/* The identity of the file at path (following symbolic links) into v:
 * present (1, or 0 and all zeros when it is absent), device, inode, mode,
 * size, modification and change time (seconds, nanoseconds).  A file
 * written in place changes its change time, which no program can set
 * back; a file added to or removed from a directory changes the
 * directory's. */
INB_HIDDEN void inb_cache_identity(const char *path,
                                   int64_t v[INB_IDENTITY_SIZE]);
/* Whether identity v (of a present file) is too recent, against the
 * clock's start (CLOCK_REALTIME, taken before the file was read), to
 * show a later change: file times come from a coarse clock, so a file
 * changed twice within its tick looks the same. */
INB_HIDDEN int inb_cache_identity_recent(const int64_t v[INB_IDENTITY_SIZE],
                                         time_t start);

/* Append path and its identity v to b: u32 length, the path, then
 * INB_IDENTITY_SIZE i64, little-endian. */
INB_HIDDEN void inb_cache_put_identity(struct inb_buf *b, const char *path,
                                       const int64_t v[INB_IDENTITY_SIZE]);
/* Read what inb_cache_put_identity() wrote from *p (before end), moving *p
 * past it.  Returns the path (malloc'd) with its identity in v, or NULL
 * when the bytes are cut short. */
INB_HIDDEN char *inb_cache_get_identity(const unsigned char **p,
                                        const unsigned char *end,
                                        int64_t v[INB_IDENTITY_SIZE]);

/* Look k up (finishing it).  Returns 1 with the value appended to out, or
 * 0: no entry, the cache is off, or the entry is damaged or not k's (it
 * is then removed and counted as rejected, never used). */
INB_HIDDEN int inb_cache_get(struct inb_cache_key *k, struct inb_buf *out);
/* Add the SHA-256 of the bytes of the file at path to k and look k up.
 * Returns 1 with the value appended to out (the file is not read when its
 * fingerprint is indexed); 0 when there is none, the file's bytes then
 * appended to src and k keyed by those bytes (they may have changed since
 * the fingerprint), ready for inb_cache_put() of the value made from src;
 * -1 with errno set when the file cannot be read (k is then spent). */
INB_HIDDEN int inb_cache_get_file(struct inb_cache_key *k, const char *path,
                                  struct inb_buf *out, struct inb_buf *src);
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
