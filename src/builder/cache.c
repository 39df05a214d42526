/* cache.c: the builder's cache of work that depends only on its inputs.
 *
 * Where: $INBUILT_BUILD_CACHE if set (`off` turns the cache off), else
 * $XDG_CACHE_HOME/inbuilt, else ~/.cache/inbuilt; entries live in
 * v1/KIND/HEX, HEX being the key: SHA-256 over the kind, this inbuilt
 * program's own bytes (so another build of inbuilt never reuses an
 * entry) and the parts the caller adds, each length-prefixed.
 *
 * An entry file, all integers little-endian:
 *
 *     0   u8[8]  "INBCACHE"
 *     8   u32    format version, 1
 *     12  u32    0
 *     16  u8[32] the key the entry was stored under
 *     48  u64    n, the value's size
 *     56  u8[n]  the value
 *     56+n u8[32] SHA-256 of the bytes before it
 *
 * A reader checks all of it (size, magic, version, key, checksum) and
 * removes an entry that fails, which is then rebuilt: a damaged or
 * foreign entry is never used.  A writer writes a temporary file in the
 * same directory and renames it into place, so a concurrent reader sees a
 * whole entry or none.  The cache is bounded: after a build that stored
 * entries, the oldest are removed while it holds more than
 * $INBUILT_BUILD_CACHE_MB megabytes (default 2048).
 */
#include "cache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fingerprint.h"
#include "le.h"

#define MAGIC "INBCACHE"
#define FORMAT_VERSION 1
#define HEADER_SIZE 56
#define SUM_SIZE 32
#define DEFAULT_LIMIT_MB 2048
/* Seconds of coarseness allowed for file times (inb_cache_identity). */
#define CLOCK_SLACK 2

/* What one kind of entry did in this build. */
struct kind_stats {
    const char *kind;
    size_t reused, made, rejected, stored;
    size_t bytes_reused;
};

static struct kind_stats stats[16];
static size_t nstats;
static int dir_state;   /* 0: not decided, 1: on, -1: off */
static char *cache_dir; /* .../v1 */
static unsigned char self_digest[32];

static struct kind_stats *
stats_of(const char *kind)
{
    size_t i;

    for (i = 0; i < nstats; i++) {
        if (strcmp(stats[i].kind, kind) == 0) {
            return &stats[i];
        }
    }
    if (nstats == sizeof(stats) / sizeof(stats[0])) {
        inb_fatal("internal error: too many cache kinds");
    }
    stats[nstats].kind = inb_xstrdup(kind);
    return &stats[nstats++];
}

/* The cache's top directory (malloc'd), or NULL when it is off. */
static char *
top_dir(void)
{
    const char *env = getenv("INBUILT_BUILD_CACHE");
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");

    if (env != NULL && *env != '\0') {
        return strcmp(env, "off") == 0 ? NULL : inb_xstrdup(env);
    }
    if (xdg != NULL && xdg[0] == '/') {
        return inb_xprintf("%s/inbuilt", xdg);
    }
    if (home != NULL && home[0] == '/') {
        return inb_xprintf("%s/.cache/inbuilt", home);
    }
    return NULL;
}

/* SHA-256 of data[0..n) into out. */
static void
sha256(const void *data, size_t n, unsigned char out[32])
{
    unsigned int len = 32;

    if (EVP_Digest(data, n, out, &len, EVP_sha256(), NULL) != 1) {
        inb_fatal("SHA-256 failed");
    }
}

/* Decide once whether the cache is on, and hash this program. */
static int
cache_on(void)
{
    struct inb_buf self = {0};
    char *top;

    if (dir_state != 0) {
        return dir_state > 0;
    }
    dir_state = -1;
    top = top_dir();
    if (top == NULL) {
        return 0;
    }
    cache_dir = inb_xprintf("%s/v%d", top, FORMAT_VERSION);
    free(top);
    if (inb_make_dirs(cache_dir) < 0) {
        inb_note("no build cache: cannot create %s: %s", cache_dir,
                 strerror(errno));
        return 0;
    }
    if (inb_buf_readfile(&self, "/proc/self/exe") < 0) {
        inb_note("no build cache: cannot read /proc/self/exe: %s",
                 strerror(errno));
        return 0;
    }
    sha256(self.data, self.len, self_digest);
    inb_buf_free(&self);
    dir_state = 1;
    return 1;
}

void
inb_cache_key_start(struct inb_cache_key *k, const char *kind)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();

    if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
        inb_fatal("out of memory");
    }
    k->kind = kind;
    k->ctx = ctx;
    inb_cache_key_str(k, kind);
}

void
inb_cache_key_add(struct inb_cache_key *k, const void *data, size_t n)
{
    unsigned char len[8];
    int i;

    for (i = 0; i < 8; i++) {
        len[i] = (unsigned char)((uint64_t)n >> (8 * i));
    }
    if (EVP_DigestUpdate(k->ctx, len, sizeof(len)) != 1 ||
        EVP_DigestUpdate(k->ctx, data, n) != 1) {
        inb_fatal("SHA-256 failed");
    }
}

void
inb_cache_key_str(struct inb_cache_key *k, const char *s)
{
    inb_cache_key_add(k, s ? "s" : "n", 1);
    if (s != NULL) {
        inb_cache_key_add(k, s, strlen(s));
    }
}

void
inb_cache_identity(const char *path, int64_t v[INB_IDENTITY_SIZE])
{
    struct stat st;

    memset(v, 0, INB_IDENTITY_SIZE * sizeof(v[0]));
    if (stat(path, &st) == 0) {
        v[0] = 1;
        v[1] = (int64_t)st.st_dev;
        v[2] = (int64_t)st.st_ino;
        v[3] = (int64_t)st.st_mode;
        v[4] = (int64_t)st.st_size;
        v[5] = (int64_t)st.st_mtim.tv_sec;
        v[6] = (int64_t)st.st_mtim.tv_nsec;
        v[7] = (int64_t)st.st_ctim.tv_sec;
        v[8] = (int64_t)st.st_ctim.tv_nsec;
    }
}

int
inb_cache_identity_recent(const int64_t v[INB_IDENTITY_SIZE], time_t start)
{
    return v[0] && (v[5] >= (int64_t)start - CLOCK_SLACK ||
                    v[7] >= (int64_t)start - CLOCK_SLACK);
}

void
inb_cache_put_identity(struct inb_buf *b, const char *path,
                       const int64_t v[INB_IDENTITY_SIZE])
{
    unsigned char c[8];
    size_t n = strlen(path);
    int i;

    inb_put32(c, (uint32_t)n);
    inb_buf_add(b, c, 4);
    inb_buf_add(b, path, n);
    for (i = 0; i < INB_IDENTITY_SIZE; i++) {
        inb_put64(c, (uint64_t)v[i]);
        inb_buf_add(b, c, 8);
    }
}

char *
inb_cache_get_identity(const unsigned char **p, const unsigned char *end,
                       int64_t v[INB_IDENTITY_SIZE])
{
    uint64_t len;
    char *path;
    int i;

    if (end - *p < 4 || (len = inb_get32(*p)) > (uint64_t)(end - *p - 4) ||
        (uint64_t)(end - *p - 4) - len < INB_IDENTITY_SIZE * 8) {
        return NULL;
    }
    path = inb_xstrndup((const char *)*p + 4, len);
    *p += 4 + len;
    for (i = 0; i < INB_IDENTITY_SIZE; i++) {
        v[i] = (int64_t)inb_get64(*p + 8 * i);
    }
    *p += INB_IDENTITY_SIZE * 8;
    return path;
}

void
inb_cache_key_content(struct inb_cache_key *k, const char *path)
{
    unsigned char sum[32];
    int was_read;

    inb_cache_key_str(k, path);
    if (inb_fingerprint(path, sum, NULL, &was_read) < 0) {
        inb_cache_key_add(k, "unreadable", 10);
        return;
    }
    inb_cache_key_add(k, sum, sizeof(sum));
}

int
inb_cache_get_file(struct inb_cache_key *k, const char *path,
                   struct inb_buf *out, struct inb_buf *src)
{
    EVP_MD_CTX *spare = EVP_MD_CTX_new();
    unsigned char sum[32];
    int was_read;

    if (spare == NULL || EVP_MD_CTX_copy_ex(spare, k->ctx) != 1) {
        inb_fatal("out of memory");
    }
    if (inb_fingerprint(path, sum, src, &was_read) < 0) {
        EVP_MD_CTX_free(spare);
        EVP_MD_CTX_free(k->ctx);
        k->ctx = NULL;
        return -1;
    }
    inb_cache_key_add(k, sum, sizeof(sum));
    if (inb_cache_get(k, out)) {
        EVP_MD_CTX_free(spare);
        return 1;
    }
    /* The key of what is read now, which the caller makes the value of:
     * the file may have changed since it was fingerprinted. */
    if (!was_read && inb_buf_readfile(src, path) < 0) {
        EVP_MD_CTX_free(spare);
        return -1;
    }
    k->ctx = spare;
    inb_cache_key_digest(k, src->data, src->len);
    return 0;
}

void
inb_cache_key_digest(struct inb_cache_key *k, const void *data, size_t n)
{
    unsigned char sum[32];

    sha256(n > 0 ? data : "", n, sum);
    inb_cache_key_add(k, sum, sizeof(sum));
}

void
inb_cache_key_file(struct inb_cache_key *k, const char *path)
{
    struct inb_buf b = {0};

    if (inb_buf_readfile(&b, path) == 0) {
        inb_cache_key_add(k, b.data ? b.data : "", b.len);
    }
    else {
        inb_cache_key_add(k, "absent", 6);
    }
    inb_buf_free(&b);
}

/* Finish k's digest (once). */
static void
key_final(struct inb_cache_key *k)
{
    unsigned int len = 32;

    if (k->ctx == NULL) {
        return;
    }
    if (cache_on()) {
        inb_cache_key_add(k, self_digest, sizeof(self_digest));
    }
    if (EVP_DigestFinal_ex(k->ctx, k->digest, &len) != 1) {
        inb_fatal("SHA-256 failed");
    }
    EVP_MD_CTX_free(k->ctx);
    k->ctx = NULL;
}

/* The file of k's entry (malloc'd). */
static char *
entry_path(const struct inb_cache_key *k)
{
    char hex[65];
    int i;

    for (i = 0; i < 32; i++) {
        snprintf(hex + 2 * i, 3, "%02x", k->digest[i]);
    }
    return inb_xprintf("%s/%s/%s", cache_dir, k->kind, hex);
}

static uint64_t
get_u64(const unsigned char *p)
{
    uint64_t v = 0;
    int i;

    for (i = 7; i >= 0; i--) {
        v = v << 8 | p[i];
    }
    return v;
}

/* Why entry b (the whole file) cannot be used as k's, or NULL when it
 * can. */
static const char *
entry_problem(const struct inb_buf *b, const struct inb_cache_key *k)
{
    const unsigned char *p = (const unsigned char *)b->data;
    unsigned char sum[32];
    uint64_t n;

    if (b->len < HEADER_SIZE + SUM_SIZE) {
        return "truncated";
    }
    if (memcmp(p, MAGIC, 8) != 0) {
        return "bad magic";
    }
    if (p[8] != FORMAT_VERSION || p[9] || p[10] || p[11]) {
        return "another format version";
    }
    if (memcmp(p + 16, k->digest, 32) != 0) {
        return "stored under another key";
    }
    n = get_u64(p + 48);
    if (n != b->len - HEADER_SIZE - SUM_SIZE) {
        return "size does not match";
    }
    sha256(p, HEADER_SIZE + n, sum);
    if (memcmp(sum, p + HEADER_SIZE + n, SUM_SIZE) != 0) {
        return "checksum does not match";
    }
    return NULL;
}

int
inb_cache_get(struct inb_cache_key *k, struct inb_buf *out)
{
    struct kind_stats *s = stats_of(k->kind);
    struct inb_buf b = {0};
    const char *problem;
    char *path;

    key_final(k);
    if (!cache_on()) {
        s->made++;
        return 0;
    }
    path = entry_path(k);
    if (inb_buf_readfile(&b, path) < 0) {
        s->made++;
        free(path);
        return 0;
    }
    problem = entry_problem(&b, k);
    if (problem != NULL) {
        inb_note("cache entry %s: %s; rebuilt", path, problem);
        unlink(path);
        s->rejected++;
        s->made++;
        inb_buf_free(&b);
        free(path);
        return 0;
    }
    inb_buf_add(out, b.data + HEADER_SIZE, b.len - HEADER_SIZE - SUM_SIZE);
    s->reused++;
    s->bytes_reused += b.len - HEADER_SIZE - SUM_SIZE;
    inb_buf_free(&b);
    free(path);
    return 1;
}

void
inb_cache_put(struct inb_cache_key *k, const void *data, size_t n)
{
    unsigned char header[HEADER_SIZE] = MAGIC, sum[32];
    EVP_MD_CTX *ctx;
    unsigned int len = 32;
    char *path, *dir, *tmp;
    int fd, i, ok;

    key_final(k);
    if (!cache_on()) {
        return;
    }
    header[8] = FORMAT_VERSION;
    memcpy(header + 16, k->digest, 32);
    for (i = 0; i < 8; i++) {
        header[48 + i] = (unsigned char)((uint64_t)n >> (8 * i));
    }
    ctx = EVP_MD_CTX_new();
    if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1 ||
        EVP_DigestUpdate(ctx, header, sizeof(header)) != 1 ||
        EVP_DigestUpdate(ctx, data, n) != 1 ||
        EVP_DigestFinal_ex(ctx, sum, &len) != 1) {
        inb_fatal("SHA-256 failed");
    }
    EVP_MD_CTX_free(ctx);
    path = entry_path(k);
    dir = inb_xprintf("%s/%s", cache_dir, k->kind);
    tmp = inb_xprintf("%s/.tmp-XXXXXX", dir);
    fd = mkstemp(tmp);
    if (fd < 0 && errno == ENOENT && inb_make_dirs(dir) == 0) {
        /* mkstemp consumed the template */
        free(tmp);
        tmp = inb_xprintf("%s/.tmp-XXXXXX", dir);
        fd = mkstemp(tmp);
    }
    if (fd < 0) {
        inb_note("cannot store in the build cache %s: %s", dir,
                 strerror(errno));
        goto done;
    }
    inb_cleanup_add(tmp);
    ok = inb_write_all(fd, header, sizeof(header)) == 0 &&
         inb_write_all(fd, data, n) == 0 && inb_write_all(fd, sum, 32) == 0;
    if (close(fd) != 0 || !ok || rename(tmp, path) < 0) {
        inb_note("cannot store %s in the build cache: %s", path,
                 strerror(errno));
        unlink(tmp);
    }
    else {
        stats_of(k->kind)->stored++;
    }
    inb_cleanup_forget(tmp);
done:
    free(tmp);
    free(dir);
    free(path);
}

/* One file of the cache, for trimming and --stats. */
struct entry {
    char *path;
    const char *kind;
    off_t size;
    time_t mtime;
};

/* Every entry file (and leftover temporary file) below cache_dir, into
 * *v (malloc'd array of *n).  Returns the total size. */
static off_t
list_entries(struct entry **v, size_t *n)
{
    DIR *top = opendir(cache_dir), *sub;
    struct dirent *d, *e;
    size_t cap = 0;
    off_t total = 0;

    *v = NULL;
    *n = 0;
    if (top == NULL) {
        return 0;
    }
    while ((d = readdir(top)) != NULL) {
        char *kdir;

        if (d->d_name[0] == '.') {
            continue;
        }
        kdir = inb_xprintf("%s/%s", cache_dir, d->d_name);
        sub = opendir(kdir);
        while (sub != NULL && (e = readdir(sub)) != NULL) {
            struct stat st;
            char *p;

            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
                continue;
            }
            p = inb_xprintf("%s/%s", kdir, e->d_name);
            if (stat(p, &st) < 0 || !S_ISREG(st.st_mode)) {
                free(p);
                continue;
            }
            if (*n == cap) {
                cap = cap ? 2 * cap : 256;
                *v = inb_xrealloc(*v, cap * sizeof(**v));
            }
            (*v)[*n].path = p;
            (*v)[*n].kind = stats_of(d->d_name)->kind;
            (*v)[*n].size = st.st_size;
            (*v)[*n].mtime = st.st_mtime;
            (*n)++;
            total += st.st_size;
        }
        if (sub != NULL) {
            closedir(sub);
        }
        free(kdir);
    }
    closedir(top);
    return total;
}

static int
older_first(const void *a, const void *b)
{
    const struct entry *x = a, *y = b;

    return (x->mtime > y->mtime) - (x->mtime < y->mtime);
}

static void
free_entries(struct entry *v, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        free(v[i].path);
    }
    free(v);
}

/* The cache's size limit in bytes. */
static off_t
limit_bytes(void)
{
    const char *env = getenv("INBUILT_BUILD_CACHE_MB");
    char *end;
    long long mb = DEFAULT_LIMIT_MB;

    if (env != NULL && *env != '\0') {
        mb = strtoll(env, &end, 10);
        if (*end != '\0' || mb < 0) {
            inb_fatal("INBUILT_BUILD_CACHE_MB=%s: expected a number of "
                      "megabytes",
                      env);
        }
    }
    return (off_t)mb * 1000 * 1000;
}

/* Remove the oldest entries while the cache is bigger than its limit. */
static void
trim(void)
{
    struct entry *v;
    size_t n, i;
    off_t total = list_entries(&v, &n), limit = limit_bytes();

    if (total > limit) {
        qsort(v, n, sizeof(*v), older_first);
        for (i = 0; i < n && total > limit; i++) {
            if (unlink(v[i].path) == 0) {
                total -= v[i].size;
            }
        }
        inb_note("build cache trimmed to %.1f MB (limit %.1f MB)",
                 (double)total / 1e6, (double)limit / 1e6);
    }
    free_entries(v, n);
}

void
inb_cache_finish(int print)
{
    size_t i, stored = 0;

    inb_fingerprint_save();
    for (i = 0; i < nstats; i++) {
        const struct kind_stats *s = &stats[i];

        stored += s->stored;
        if (print || inb_verbose) {
            fprintf(stderr,
                    "%s: cache %s: %zu reused (%.1f MB), %zu made, %zu "
                    "rejected\n",
                    inb_argv0, s->kind, s->reused,
                    (double)s->bytes_reused / 1e6, s->made, s->rejected);
        }
    }
    if ((print || inb_verbose) && dir_state < 0) {
        fprintf(stderr, "%s: the build cache is off\n", inb_argv0);
    }
    if (stored > 0) {
        trim();
    }
}

int
inb_cache_main(int argc, char **argv)
{
    int clear = 0, show = 0, i;
    struct entry *v;
    size_t n, k, j;
    off_t total;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--clear") == 0) {
            clear = 1;
        }
        else if (strcmp(argv[i], "--stats") == 0) {
            show = 1;
        }
        else {
            fprintf(stderr,
                    "%s: error: unknown option %s\nusage: inbuilt cache "
                    "[--stats] [--clear]\n",
                    inb_argv0, argv[i]);
            return 2;
        }
    }
    if (!cache_on()) {
        printf("the build cache is off (INBUILT_BUILD_CACHE=off, or no "
               "HOME)\n");
        return 0;
    }
    total = list_entries(&v, &n);
    if (clear) {
        for (k = 0; k < n; k++) {
            unlink(v[k].path);
        }
        printf("removed %zu entries (%.1f MB) from %s\n", n,
               (double)total / 1e6, cache_dir);
    }
    if (show || !clear) {
        printf("%s: %zu entries, %.1f MB (limit %.1f MB, "
               "INBUILT_BUILD_CACHE_MB)\n",
               cache_dir, clear ? 0 : n, clear ? 0.0 : (double)total / 1e6,
               (double)limit_bytes() / 1e6);
        for (j = 0; j < nstats && !clear; j++) {
            size_t count = 0;
            off_t bytes = 0;

            for (k = 0; k < n; k++) {
                if (v[k].kind == stats[j].kind) {
                    count++;
                    bytes += v[k].size;
                }
            }
            printf("  %-10s %6zu entries %10.1f MB\n", stats[j].kind, count,
                   (double)bytes / 1e6);
        }
    }
    free_entries(v, n);
    return 0;
}
