/* mount.c: one mountpoint of the backing tree, i.e. one simulated client
 * node.
 *
 * Each mount has its own low-level FUSE session (its own /dev/fuse
 * connection, inode table and counters) served by its own pool of worker
 * threads; all of them share the process's one struct server.  We use the
 * low-level API rather than the high-level one because one process must serve
 * many mountpoints with shared state, and because it lets each mount own a
 * plain worker loop (fuse_session_receive_buf and fuse_session_process_buf)
 * that we start and stop ourselves, instead of fuse_session_loop_mt(), which
 * wants a thread of its own per session and cancels its workers on exit.
 *
 * The number of workers bounds the requests one mount has in flight at the
 * server, like a client's RPC window (Lustre's mdc max_rpcs_in_flight is 8
 * by default); the kernel queues the rest.
 *
 * Stopping: fuse_session_exit() marks the session, and MOUNT_SIGNAL, whose
 * handler does nothing and is installed without SA_RESTART, interrupts a
 * worker blocked in read(2) on /dev/fuse.  A signal can land just before a
 * worker enters read(2), so it is repeated until the worker is joined.
 */
#define _GNU_SOURCE /* pthread_timedjoin_np */
#include "mount.h"

#include "fuseops.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A worker's stack: request handlers keep a PATH_MAX buffer or two on it. */
#define WORKER_STACK (256 * 1024)

int
mount_open(struct mount *m, struct mount_config *cfg, char *path)
{
    static const char base[] = "ro,fsname=mdsfs,subtype=mdsfs";
    char *argv[4], *opts;
    struct fuse_args args;
    size_t len;
    int err;

    memset(m, 0, sizeof(*m));
    m->path = path;
    m->cfg = cfg;
    m->stats.name = path;
    len = sizeof(base) + (cfg->options ? strlen(cfg->options) + 1 : 0);
    opts = malloc(len);
    if (opts == NULL) {
        return -1;
    }
    snprintf(opts, len, "%s%s%s", base, cfg->options ? "," : "",
             cfg->options ? cfg->options : "");
    err = inode_table_init(&m->inodes);
    if (err != 0) {
        free(opts);
        errno = err;
        return -1;
    }
    argv[0] = "mdsfs";
    argv[1] = "-o";
    argv[2] = opts;
    argv[3] = NULL;
    args = (struct fuse_args)FUSE_ARGS_INIT(3, argv);
    m->se = fuse_session_new(&args, &mdsfs_ops, sizeof(mdsfs_ops), m);
    fuse_opt_free_args(&args);
    free(opts);
    if (m->se == NULL) {
        goto error;
    }
    if (fuse_session_mount(m->se, path) != 0) {
        fuse_session_destroy(m->se);
        m->se = NULL;
        goto error;
    }
    return 0;
error:
    inode_table_fini(&m->inodes);
    errno = 0; /* libfuse has printed the reason */
    return -1;
}

static void *
worker_main(void *arg)
{
    struct mount *m = arg;
    struct fuse_buf buf;
    sigset_t set;
    int res;

    sigemptyset(&set);
    sigaddset(&set, MOUNT_SIGNAL);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    memset(&buf, 0, sizeof(buf));
    while (!fuse_session_exited(m->se)) {
        res = fuse_session_receive_buf(m->se, &buf);
        if (res == -EINTR || res == -EAGAIN) {
            continue;
        }
        if (res <= 0) {
            /* 0: unmounted (ENODEV); the session is marked exited. */
            fuse_session_exit(m->se);
            break;
        }
        fuse_session_process_buf(m->se, &buf);
    }
    free(buf.mem);
    if (__atomic_sub_fetch(&m->live, 1, __ATOMIC_ACQ_REL) == 0) {
        pthread_kill(m->owner, MOUNT_SIGNAL);
    }
    return NULL;
}

int
mount_start(struct mount *m, pthread_t owner)
{
    pthread_attr_t attr;
    unsigned i, n = m->cfg->threads;
    int err;

    m->workers = calloc(n, sizeof(*m->workers));
    if (m->workers == NULL) {
        return ENOMEM;
    }
    err = pthread_attr_init(&attr);
    if (err != 0) {
        return err;
    }
    err = pthread_attr_setstacksize(&attr, WORKER_STACK);
    m->owner = owner;
    m->live = n;
    for (i = 0; i < n && err == 0; i++) {
        err = pthread_create(&m->workers[i].thread, &attr, worker_main, m);
        if (err != 0) {
            __atomic_sub_fetch(&m->live, n - i, __ATOMIC_ACQ_REL);
            break;
        }
    }
    m->nworkers = i;
    pthread_attr_destroy(&attr);
    return err;
}

int
mount_ended(struct mount *m)
{
    return m->nworkers > 0 && __atomic_load_n(&m->live, __ATOMIC_ACQUIRE) == 0;
}

void
mount_stop(struct mount *m)
{
    struct timespec deadline;
    unsigned i, left = m->nworkers;

    if (m->se == NULL) {
        return;
    }
    fuse_session_exit(m->se);
    /* Each round signals every worker still running, then joins them with a
     * short deadline; a signal that came too early is sent again. */
    while (left > 0) {
        for (i = 0; i < m->nworkers; i++) {
            if (!m->workers[i].joined) {
                pthread_kill(m->workers[i].thread, MOUNT_SIGNAL);
            }
        }
        clock_gettime(CLOCK_REALTIME, &deadline);
        deadline.tv_nsec += 20 * 1000 * 1000;
        if (deadline.tv_nsec >= 1000000000) {
            deadline.tv_sec++;
            deadline.tv_nsec -= 1000000000;
        }
        for (i = 0; i < m->nworkers; i++) {
            if (!m->workers[i].joined &&
                pthread_timedjoin_np(m->workers[i].thread, NULL, &deadline) ==
                    0) {
                m->workers[i].joined = 1;
                left--;
            }
        }
    }
    m->nworkers = 0;
}

void
mount_close(struct mount *m)
{
    if (m->se != NULL) {
        fuse_session_unmount(m->se);
        fuse_session_destroy(m->se);
        m->se = NULL;
        inode_table_fini(&m->inodes);
    }
    free(m->workers);
    m->workers = NULL;
    free(m->path);
    m->path = NULL;
}
