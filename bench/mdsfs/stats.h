/* stats.h: per-mount operation counters and the stats file. */
#ifndef MDSFS_STATS_H
#define MDSFS_STATS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The operations counted, in the order the stats line lists them. */
enum stats_op {
    OP_LOOKUP,
    OP_GETATTR,
    OP_ACCESS,
    OP_READLINK,
    OP_OPEN,
    OP_OPENDIR,
    OP_READDIR,
    OP_STATFS,
    OP_READ,
    OP_RELEASE,
    OP_RELEASEDIR,
    OP_FORGET,
    OP_COUNT
};

/* One mount's counters; updated by many threads with atomic adds. */
struct stats {
    const char *name; /* the mountpoint; borrowed from the mount */
    uint64_t ops[OP_COUNT];
    uint64_t enoent;  /* lookups answered ENOENT */
    uint64_t bytes;   /* file data bytes read */
    uint64_t wait_ns; /* time spent queued for a server slot */
};

/* Add n to one counter of s. */
void stats_add(uint64_t *counter, uint64_t n);
/* Print s as one line: "mount=PATH lookup=N ... bytes=N wait_us=N\n". */
void stats_print(FILE *f, const struct stats *s);
/* Write the lines of all n stats to path, through a temporary file renamed
 * over it.  Returns 0, or -1 with errno set. */
int stats_write(const char *path, struct stats *const *all, size_t n);

#endif
