/* stats.c: per-mount operation counters and the stats file.
 *
 * The file has one line per mount, in the order of the command line, of
 * space-separated key=value fields; the mountpoint comes first:
 *
 *   mount=/mnt/n0 lookup=12 getattr=30 access=0 readlink=0 open=2
 *   opendir=1 readdir=2 statfs=0 read=4 release=2 releasedir=1 forget=0
 *   enoent=3 bytes=1234 wait_us=5000
 *
 * (one line in the file).  lookup counts every LOOKUP, failed ones included;
 * enoent counts those answered ENOENT.  bytes is file data read; wait_us the
 * total time requests of this mount queued for a server slot, service time
 * excluded.  Writers rename a complete temporary file over the old one, so a
 * reader never sees half a file.
 */
#include "stats.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const op_names[OP_COUNT] = {
    [OP_LOOKUP] = "lookup",
    [OP_GETATTR] = "getattr",
    [OP_ACCESS] = "access",
    [OP_READLINK] = "readlink",
    [OP_OPEN] = "open",
    [OP_OPENDIR] = "opendir",
    [OP_READDIR] = "readdir",
    [OP_STATFS] = "statfs",
    [OP_READ] = "read",
    [OP_RELEASE] = "release",
    [OP_RELEASEDIR] = "releasedir",
    [OP_FORGET] = "forget",
};

void
stats_add(uint64_t *counter, uint64_t n)
{
    __atomic_fetch_add(counter, n, __ATOMIC_RELAXED);
}

static uint64_t
load(const uint64_t *counter)
{
    return __atomic_load_n(counter, __ATOMIC_RELAXED);
}

void
stats_print(FILE *f, const struct stats *s)
{
    int i;

    fprintf(f, "mount=%s", s->name);
    for (i = 0; i < OP_COUNT; i++) {
        fprintf(f, " %s=%llu", op_names[i],
                (unsigned long long)load(&s->ops[i]));
    }
    fprintf(f, " enoent=%llu bytes=%llu wait_us=%llu\n",
            (unsigned long long)load(&s->enoent),
            (unsigned long long)load(&s->bytes),
            (unsigned long long)(load(&s->wait_ns) / 1000));
}

int
stats_write(const char *path, struct stats *const *all, size_t n)
{
    size_t len = strlen(path), i;
    char *tmp = malloc(len + 32);
    FILE *f;
    int err;

    if (tmp == NULL) {
        return -1;
    }
    snprintf(tmp, len + 32, "%s.tmp%ld", path, (long)getpid());
    f = fopen(tmp, "w");
    if (f == NULL) {
        goto error;
    }
    for (i = 0; i < n; i++) {
        stats_print(f, all[i]);
    }
    if (ferror(f)) {
        err = errno ? errno : EIO;
        fclose(f);
        errno = err;
        goto error_unlink;
    }
    if (fclose(f) != 0 || rename(tmp, path) != 0) {
        goto error_unlink;
    }
    free(tmp);
    return 0;
error_unlink:
    err = errno;
    unlink(tmp);
    errno = err;
error:
    err = errno;
    free(tmp);
    errno = err;
    return -1;
}
