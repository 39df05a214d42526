/* memo.c: runs of the target interpreter kept in the build cache while
 * nothing they read has changed.
 *
 * The target query, the requirement scan and the metadata scan read the
 * environment (sys.path, site directories and .pth files, dist-info
 * directories, the modules whose imports are followed) and nothing else,
 * so their output is a function of what they read.  A run is made with
 * src/builder/memo.py before its script, which reports every file opened
 * and directory listed, and what the interpreter read before the script
 * began; the entry (kind "run", keyed by the words of the command, the
 * working directory and PATH) holds the identity of each of those paths
 * and the output:
 *
 *     u32 count, then per path: u32 length, the path, 9 x i64 identity
 *     (present, device, inode, mode, size, mtime s, mtime ns, ctime s,
 *     ctime ns: zeros when absent), then the output to the end
 *
 * all integers little-endian.  An entry is reused only when every path
 * has the same identity now.  A changed file changes its change time
 * (which no program can set back), an added or removed file its
 * directory's; a file whose times are too close to the run's start
 * (inb_cache_identity_recent) is not trusted to show a later change (file
 * times have a coarse clock), so such a run is not kept.
 */
#include "memo.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cache.h"
#include "le.h"
#include "spawn.h"

/* memo.py, the recorder. */
extern const char inb_memo_py[];

#define READ_KEY "inb-read"
#define NIDENT INB_IDENTITY_SIZE

/* Start k, the key of a run of argv. */
static void
key_run(struct inb_cache_key *k, char *const argv[])
{
    char *cwd = getcwd(NULL, 0);
    size_t i;

    inb_cache_key_start(k, "run");
    for (i = 0; argv[i] != NULL; i++) {
        inb_cache_key_str(k, argv[i]);
    }
    inb_cache_key_str(k, "--");
    inb_cache_key_str(k, cwd);
    inb_cache_key_str(k, strchr(argv[0], '/') ? NULL : getenv("PATH"));
    free(cwd);
}

int
inb_memo_find(char *const argv[], struct inb_buf *out)
{
    struct inb_cache_key k;
    struct inb_buf e = {0};
    const unsigned char *p, *end;
    uint64_t count, i;
    int64_t then[NIDENT], now[NIDENT];
    int ok = 0;

    key_run(&k, argv);
    if (!inb_cache_get(&k, &e)) {
        return 0;
    }
    p = (const unsigned char *)e.data;
    end = p + e.len;
    if (end - p < 4) {
        goto done;
    }
    count = inb_get32(p);
    p += 4;
    for (i = 0; i < count; i++) {
        char *path = inb_cache_get_identity(&p, end, then);

        if (path == NULL) {
            goto done;
        }
        inb_cache_identity(path, now);
        if (memcmp(then, now, sizeof(now)) != 0) {
            inb_note("%s changed: %s runs again", path, argv[0]);
            free(path);
            goto done;
        }
        free(path);
    }
    inb_buf_add(out, p, (size_t)(end - p));
    ok = 1;
done:
    inb_buf_free(&e);
    return ok;
}

int
inb_memo_run(char *const argv[], struct inb_buf *out)
{
    struct inb_cache_key k;
    struct inb_buf raw = {0}, entry = {0};
    struct inb_strv read = {0};
    struct timespec start;
    char **words;
    char *key, *value, *text = NULL;
    size_t n, i, pos = 0, old = out->len;
    int64_t v[NIDENT];
    unsigned char count[4];
    int rc, keep = 1;

    for (n = 0; argv[n] != NULL; n++) {
    }
    words = inb_xmalloc((n + 1) * sizeof(char *));
    for (i = 0; i <= n; i++) {
        words[i] = argv[i];
        if (i > 0 && i < n && text == NULL && strcmp(argv[i - 1], "-c") == 0) {
            text = inb_xprintf("%s%s", inb_memo_py, argv[i]);
            words[i] = text;
        }
    }
    if (text == NULL) {
        inb_fatal("internal error: a memoized run without -c");
    }
    clock_gettime(CLOCK_REALTIME, &start);
    rc = inb_spawn_run(words, &raw);
    free(text);
    free(words);
    /* The script's records pass through; memo.py's are taken out. */
    while (inb_record_next(&raw, &pos, &key, &value)) {
        if (strcmp(key, READ_KEY) == 0) {
            inb_strv_add(&read, value);
        }
        else {
            inb_buf_add(out, key, strlen(key));
            inb_buf_add(out, "=", 1);
            inb_buf_add(out, value, strlen(value) + 1);
        }
    }
    if (rc != 0) {
        goto done;
    }
    inb_put32(count, (uint32_t)read.n);
    inb_buf_add(&entry, count, 4);
    for (i = 0; i < read.n && keep; i++) {
        inb_cache_identity(read.v[i], v);
        if (inb_cache_identity_recent(v, start.tv_sec)) {
            inb_note("%s changed too shortly before %s ran: its output is "
                     "not kept",
                     read.v[i], argv[0]);
            keep = 0;
        }
        inb_cache_put_identity(&entry, read.v[i], v);
    }
    if (keep && read.n > 0) {
        inb_buf_add(&entry, out->data + old, out->len - old);
        key_run(&k, argv);
        inb_cache_put(&k, entry.data, entry.len);
    }
done:
    inb_buf_free(&raw);
    inb_buf_free(&entry);
    inb_strv_free(&read);
    return rc;
}
