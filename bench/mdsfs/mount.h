/* mount.h: one mountpoint of the backing tree, i.e. one simulated client
 * node: its FUSE session, its worker threads, its inodes and counters. */
#ifndef MDSFS_MOUNT_H
#define MDSFS_MOUNT_H

#include "inode.h"
#include "server.h"
#include "stats.h"

#include <pthread.h>
#include <signal.h>
#include <stdint.h>

/* What every mount of the process shares. */
struct mount_config {
    int backing_fd;       /* O_PATH descriptor of the backing directory */
    uint64_t latency_ns;  /* server time of one metadata operation */
    uint64_t bandwidth;   /* server bytes per second for reads; 0: free */
    double timeout;       /* kernel entry/attr cache seconds; 0: none */
    int data_cache;       /* keep file data across opens, even at 0 */
    unsigned threads;     /* worker threads (requests in flight) per mount */
    const char *options;  /* extra comma-separated mount options, or NULL */
    struct server server; /* the one metadata server */
};

/* A thread serving one mount. */
struct mount_worker {
    pthread_t thread;
    int joined;
};

struct mount {
    char *path;               /* absolute mountpoint; owned */
    struct mount_config *cfg; /* shared by all mounts */
    struct fuse_session *se;
    struct inode_table inodes;
    struct stats stats;
    struct mount_worker *workers;
    unsigned nworkers;
    unsigned live;   /* workers still running */
    pthread_t owner; /* told with MOUNT_SIGNAL when the last worker exits */
};

/* The signal that interrupts a worker's read of /dev/fuse, and that tells
 * the owner thread that a mount's workers have all exited. */
#define MOUNT_SIGNAL SIGUSR2

/* Mount cfg's backing tree at the absolute directory path (m takes it).
 * Returns 0; or -1 with errno set, or with errno 0 when libfuse has printed
 * the reason. */
int mount_open(struct mount *m, struct mount_config *cfg, char *path);
/* Start m's worker threads; owner is signalled when they all exit.  The
 * caller must have MOUNT_SIGNAL blocked (workers inherit the mask and unblock
 * it) and a do-nothing handler for it installed without SA_RESTART.
 * Returns 0, or an errno value. */
int mount_start(struct mount *m, pthread_t owner);
/* Whether all of m's workers have exited (unmounted from outside). */
int mount_ended(struct mount *m);
/* Make m's workers exit and wait for them; the server must be stopped. */
void mount_stop(struct mount *m);
/* Unmount m if still mounted, and free it (not the struct itself). */
void mount_close(struct mount *m);

#endif
