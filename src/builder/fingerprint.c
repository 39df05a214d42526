/* fingerprint.c: an index of file fingerprints, one build cache entry
 * (kind "files") read at the first question and stored again at the end
 * of a build that changed it.
 *
 * The value, all integers little-endian:
 *
 *     u32 count, then per file: u32 length, the path, INB_IDENTITY_SIZE x
 *     i64 identity, u8[32] SHA-256 of its bytes
 *
 * A fingerprint is used only while the file has the identity it was
 * hashed with (device, inode, mode, size, modification and change time:
 * writing a file changes its change time, which no program can set back).
 * A file whose times are too recent to show a later change, or that
 * changed while it was read, is hashed but not indexed.  Concurrent
 * builds each store their whole index; the last one stays, and a missing
 * fingerprint only costs a read.  The index keeps at most MAX_FILES files,
 * dropping those this build did not ask about first.
 */
#include "fingerprint.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cache.h"
#include "le.h"

#define MAX_FILES 200000

struct fp {
    char *path;
    int64_t id[INB_IDENTITY_SIZE];
    unsigned char sum[32];
    int used; /* asked about in this build */
};

static struct {
    int loaded, dirty;
    struct fp *v;
    size_t n, cap;
    size_t *slots; /* open addressing: index + 1 into v, 0 empty */
    size_t nslots;
} idx;

static size_t
hash_path(const char *s)
{
    size_t h = 0xcbf29ce484222325u;

    for (; *s; s++) {
        h = (h ^ (unsigned char)*s) * 0x100000001b3u;
    }
    return h;
}

/* The slot of path: holding its entry, or the empty one it would take. */
static size_t *
slot_of(const char *path)
{
    size_t i = hash_path(path) & (idx.nslots - 1);

    while (idx.slots[i] != 0 && strcmp(idx.v[idx.slots[i] - 1].path, path)) {
        i = (i + 1) & (idx.nslots - 1);
    }
    return &idx.slots[i];
}

/* Make room for one more entry in the table. */
static void
grow(void)
{
    size_t i;

    if (idx.n == idx.cap) {
        idx.cap = idx.cap ? 2 * idx.cap : 1024;
        idx.v = inb_xrealloc(idx.v, idx.cap * sizeof(*idx.v));
    }
    if (2 * (idx.n + 1) <= idx.nslots) {
        return;
    }
    free(idx.slots);
    idx.nslots = idx.nslots ? 2 * idx.nslots : 4096;
    idx.slots = inb_xmalloc(idx.nslots * sizeof(*idx.slots));
    memset(idx.slots, 0, idx.nslots * sizeof(*idx.slots));
    for (i = 0; i < idx.n; i++) {
        *slot_of(idx.v[i].path) = i + 1;
    }
}

/* Set path's entry (added when new). */
static struct fp *
set(const char *path, const int64_t id[INB_IDENTITY_SIZE],
    const unsigned char sum[32])
{
    size_t *slot;
    struct fp *e;

    grow();
    slot = slot_of(path);
    if (*slot == 0) {
        idx.v[idx.n].path = inb_xstrdup(path);
        *slot = ++idx.n;
    }
    e = &idx.v[*slot - 1];
    memcpy(e->id, id, sizeof(e->id));
    memcpy(e->sum, sum, sizeof(e->sum));
    return e;
}

static void
index_key(struct inb_cache_key *k)
{
    inb_cache_key_start(k, "files");
    inb_cache_key_str(k, "index");
}

/* Read the index from the build cache (once); an entry that does not
 * parse is dropped from there on. */
static void
load(void)
{
    struct inb_cache_key k;
    struct inb_buf b = {0};
    const unsigned char *p, *end;
    uint64_t count, i;
    int64_t id[INB_IDENTITY_SIZE];

    idx.loaded = 1;
    index_key(&k);
    if (!inb_cache_get(&k, &b)) {
        return;
    }
    p = (const unsigned char *)b.data;
    end = p + b.len;
    count = end - p >= 4 ? inb_get32(p) : 0;
    p += end - p >= 4 ? 4 : 0;
    for (i = 0; i < count; i++) {
        char *path = inb_cache_get_identity(&p, end, id);

        if (path == NULL || end - p < 32) {
            inb_note("the build cache's file index is damaged; rebuilt");
            free(path);
            idx.dirty = 1;
            break;
        }
        set(path, id, p)->used = 0;
        p += 32;
        free(path);
    }
    inb_buf_free(&b);
}

int
inb_fingerprint(const char *path, unsigned char sum[32],
                struct inb_buf *content, int *was_read)
{
    int64_t before[INB_IDENTITY_SIZE], after[INB_IDENTITY_SIZE];
    struct inb_buf b = {0};
    unsigned int len = 32;
    time_t start = time(NULL);
    size_t *slot;

    *was_read = 0;
    if (!idx.loaded) {
        load();
    }
    inb_cache_identity(path, before);
    if (!before[0]) {
        errno = ENOENT;
        return -1;
    }
    grow();
    slot = slot_of(path);
    if (*slot != 0 &&
        memcmp(idx.v[*slot - 1].id, before, sizeof(before)) == 0) {
        idx.v[*slot - 1].used = 1;
        memcpy(sum, idx.v[*slot - 1].sum, 32);
        return 0;
    }
    if (inb_buf_readfile(&b, path) < 0) {
        return -1;
    }
    if (EVP_Digest(b.data ? b.data : "", b.len, sum, &len, EVP_sha256(),
                   NULL) != 1) {
        inb_fatal("SHA-256 failed");
    }
    inb_cache_identity(path, after);
    if (memcmp(before, after, sizeof(before)) == 0 &&
        !inb_cache_identity_recent(after, start)) {
        set(path, after, sum)->used = 1;
        idx.dirty = 1;
    }
    if (content != NULL) {
        inb_buf_add(content, b.data ? b.data : "", b.len);
        *was_read = 1;
    }
    inb_buf_free(&b);
    return 0;
}

void
inb_fingerprint_save(void)
{
    struct inb_cache_key k;
    struct inb_buf b = {0};
    size_t i, keep = 0;
    unsigned char c[4];
    int pass;

    if (!idx.dirty) {
        return;
    }
    /* Files this build asked about first, then the others while they
     * fit. */
    for (pass = 1; pass >= 0; pass--) {
        for (i = 0; i < idx.n; i++) {
            keep += idx.v[i].used == pass && keep < MAX_FILES;
        }
    }
    inb_put32(c, (uint32_t)keep);
    inb_buf_add(&b, c, 4);
    keep = 0;
    for (pass = 1; pass >= 0; pass--) {
        for (i = 0; i < idx.n && keep < MAX_FILES; i++) {
            const struct fp *e = &idx.v[i];

            if (e->used != pass) {
                continue;
            }
            keep++;
            inb_cache_put_identity(&b, e->path, e->id);
            inb_buf_add(&b, e->sum, 32);
        }
    }
    index_key(&k);
    inb_cache_put(&k, b.data, b.len);
    inb_buf_free(&b);
    idx.dirty = 0;
}
