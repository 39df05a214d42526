/* fuseops.c: the FUSE operations of a mount.
 *
 * A read-only mirror of the backing directory (the session is mounted
 * "ro", so the kernel answers every write EROFS itself).  Every metadata
 * operation -- lookup (failed ones included), getattr, access, readlink,
 * open, opendir, readdir, statfs -- first holds a slot of the shared server
 * for the configured latency, then does the real work on the backing tree;
 * a read holds a slot for size/bandwidth seconds, or skips the server when
 * the bandwidth is unlimited.  release, releasedir and forget are counted
 * but free: the kernel sends them asynchronously and no caller waits on them.
 *
 * Caching is the kernel's: with a timeout of 0 (the default) entries and
 * attributes expire at once, so every path walk asks the server again, and
 * file data is dropped at each open.  With --cache the kernel keeps entries
 * (negative ones too), attributes, symlink targets, directory listings and
 * file data for the timeout, like a client holding metadata locks.
 */
#include "fuseops.h"

#include "mount.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

/* An open directory: the stream and the entry read but not yet sent. */
struct dirp {
    DIR *dp;
    off_t offset;
    struct dirent *entry;
};

static struct mount *
mount_of(fuse_req_t req)
{
    return fuse_req_userdata(req);
}

/* Count one op of kind `op` and hold a server slot for the latency. */
static void
charge(struct mount *m, enum stats_op op)
{
    stats_add(&m->stats.ops[op], 1);
    if (m->cfg->latency_ns > 0) {
        stats_add(&m->stats.wait_ns,
                  server_hold(&m->cfg->server, m->cfg->latency_ns));
    }
}

/* Hold a server slot for the time `bytes` take at the bandwidth. */
static void
charge_bytes(struct mount *m, size_t bytes)
{
    uint64_t bw = m->cfg->bandwidth;

    stats_add(&m->stats.bytes, bytes);
    if (bw > 0 && bytes > 0) {
        uint64_t ns = (uint64_t)((unsigned __int128)bytes * 1000000000u / bw);

        stats_add(&m->stats.wait_ns, server_hold(&m->cfg->server, ns));
    }
}

/* Write dir's path joined with name into buf (PATH_MAX bytes).  Returns 0,
 * or ENAMETOOLONG. */
static int
child_path(char *buf, const struct inode *dir, const char *name)
{
    int n;

    if (strcmp(dir->path, ".") == 0) {
        n = snprintf(buf, PATH_MAX, "%s", name);
    }
    else {
        n = snprintf(buf, PATH_MAX, "%s/%s", dir->path, name);
    }
    return n < 0 || n >= PATH_MAX ? ENAMETOOLONG : 0;
}

static void
op_init(void *userdata, struct fuse_conn_info *conn)
{
    struct mount *m = userdata;

    /* Plain readdir only: READDIRPLUS would fold lookups into listings. */
    conn->want &= ~(FUSE_CAP_READDIRPLUS | FUSE_CAP_READDIRPLUS_AUTO);
    /* Lookups in one directory run concurrently, as on a real client. */
    if (conn->capable & FUSE_CAP_PARALLEL_DIROPS) {
        conn->want |= FUSE_CAP_PARALLEL_DIROPS;
    }
    /* A read of an open file is data traffic, not a metadata operation:
     * with auto_inval_data the kernel would send a GETATTR before every
     * read(2) once attributes expire (always, with caching off), which a
     * client holding the file's layout lock does not.  Data stays coherent
     * per open: the page cache is dropped at each open unless cached. */
    conn->want &= ~FUSE_CAP_AUTO_INVAL_DATA;
    if (m->cfg->timeout > 0 && (conn->capable & FUSE_CAP_CACHE_SYMLINKS)) {
        conn->want |= FUSE_CAP_CACHE_SYMLINKS;
    }
}

static void
op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
    struct mount *m = mount_of(req);
    struct inode *dir = inode_table_get(&m->inodes, parent), *in;
    struct fuse_entry_param e;
    char path[PATH_MAX];
    int err;

    charge(m, OP_LOOKUP);
    err = child_path(path, dir, name);
    if (err != 0) {
        fuse_reply_err(req, err);
        return;
    }
    memset(&e, 0, sizeof(e));
    e.attr_timeout = m->cfg->timeout;
    e.entry_timeout = m->cfg->timeout;
    if (fstatat(m->cfg->backing_fd, path, &e.attr, AT_SYMLINK_NOFOLLOW) != 0) {
        err = errno;
        if (err == ENOENT) {
            stats_add(&m->stats.enoent, 1);
        }
        if (err == ENOENT && m->cfg->timeout > 0) {
            /* ino 0: a negative entry the kernel caches for the timeout */
            fuse_reply_entry(req, &e);
        }
        else {
            fuse_reply_err(req, err);
        }
        return;
    }
    in = inode_table_ref(&m->inodes, &e.attr, path);
    if (in == NULL) {
        fuse_reply_err(req, ENOMEM);
        return;
    }
    e.ino = inode_id(&m->inodes, in);
    if (fuse_reply_entry(req, &e) != 0) {
        /* The request was interrupted: the kernel never saw the lookup. */
        inode_table_forget(&m->inodes, in, 1);
    }
}

static void
op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
    struct mount *m = mount_of(req);

    stats_add(&m->stats.ops[OP_FORGET], 1);
    inode_table_forget(&m->inodes, inode_table_get(&m->inodes, ino), nlookup);
    fuse_reply_none(req);
}

static void
op_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
    struct mount *m = mount_of(req);
    size_t i;

    stats_add(&m->stats.ops[OP_FORGET], count);
    for (i = 0; i < count; i++) {
        inode_table_forget(&m->inodes,
                           inode_table_get(&m->inodes, forgets[i].ino),
                           forgets[i].nlookup);
    }
    fuse_reply_none(req);
}

static void
op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    struct mount *m = mount_of(req);
    struct inode *in = inode_table_get(&m->inodes, ino);
    struct stat st;

    (void)fi;
    charge(m, OP_GETATTR);
    if (fstatat(m->cfg->backing_fd, in->path, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        fuse_reply_err(req, errno);
        return;
    }
    fuse_reply_attr(req, &st, m->cfg->timeout);
}

static void
op_access(fuse_req_t req, fuse_ino_t ino, int mask)
{
    struct mount *m = mount_of(req);
    struct inode *in = inode_table_get(&m->inodes, ino);

    charge(m, OP_ACCESS);
    if (mask & W_OK) {
        fuse_reply_err(req, EROFS);
        return;
    }
    if (faccessat(m->cfg->backing_fd, in->path, mask, 0) != 0) {
        fuse_reply_err(req, errno);
        return;
    }
    fuse_reply_err(req, 0);
}

static void
op_readlink(fuse_req_t req, fuse_ino_t ino)
{
    struct mount *m = mount_of(req);
    struct inode *in = inode_table_get(&m->inodes, ino);
    char buf[PATH_MAX];
    ssize_t n;

    charge(m, OP_READLINK);
    n = readlinkat(m->cfg->backing_fd, in->path, buf, sizeof(buf));
    if (n < 0) {
        fuse_reply_err(req, errno);
        return;
    }
    if ((size_t)n >= sizeof(buf)) {
        fuse_reply_err(req, ENAMETOOLONG);
        return;
    }
    buf[n] = '\0';
    fuse_reply_readlink(req, buf);
}

static void
op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    struct mount *m = mount_of(req);
    struct inode *in = inode_table_get(&m->inodes, ino);
    int fd;

    charge(m, OP_OPEN);
    if ((fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC)) {
        fuse_reply_err(req, EROFS);
        return;
    }
    fd = openat(m->cfg->backing_fd, in->path,
                O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        fuse_reply_err(req, errno);
        return;
    }
    fi->fh = (uint64_t)fd;
    /* With --data-cache (or --cache) the mount's page cache keeps the
     * file's data from one open to the next, as a parallel filesystem
     * client does while the file is unchanged; the open itself, and the
     * GETATTR the kernel sends with it, still reach the server. */
    fi->keep_cache = m->cfg->timeout > 0 || m->cfg->data_cache;
    if (fuse_reply_open(req, fi) != 0) {
        close(fd);
    }
}

static void
op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
        struct fuse_file_info *fi)
{
    struct mount *m = mount_of(req);
    char *buf = malloc(size ? size : 1);
    ssize_t n;

    (void)ino;
    stats_add(&m->stats.ops[OP_READ], 1);
    if (buf == NULL) {
        fuse_reply_err(req, ENOMEM);
        return;
    }
    n = pread((int)fi->fh, buf, size, off);
    if (n < 0) {
        fuse_reply_err(req, errno);
        free(buf);
        return;
    }
    charge_bytes(m, (size_t)n);
    fuse_reply_buf(req, buf, (size_t)n);
    free(buf);
}

static void
op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    struct mount *m = mount_of(req);

    (void)ino;
    stats_add(&m->stats.ops[OP_RELEASE], 1);
    close((int)fi->fh);
    fuse_reply_err(req, 0);
}

static void
op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    struct mount *m = mount_of(req);
    struct inode *in = inode_table_get(&m->inodes, ino);
    struct dirp *d;
    int fd, err;

    charge(m, OP_OPENDIR);
    d = malloc(sizeof(*d));
    if (d == NULL) {
        fuse_reply_err(req, ENOMEM);
        return;
    }
    fd = openat(m->cfg->backing_fd, in->path,
                O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    d->dp = fd < 0 ? NULL : fdopendir(fd);
    if (d->dp == NULL) {
        err = errno;
        if (fd >= 0) {
            close(fd);
        }
        free(d);
        fuse_reply_err(req, err);
        return;
    }
    d->offset = 0;
    d->entry = NULL;
    fi->fh = (uint64_t)(uintptr_t)d;
    fi->keep_cache = m->cfg->timeout > 0;
    fi->cache_readdir = m->cfg->timeout > 0;
    if (fuse_reply_open(req, fi) != 0) {
        closedir(d->dp);
        free(d);
    }
}

static void
op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
           struct fuse_file_info *fi)
{
    struct mount *m = mount_of(req);
    struct dirp *d = (struct dirp *)(uintptr_t)fi->fh;
    char *buf, *p;
    size_t rem = size, n;
    int err = 0;

    (void)ino;
    charge(m, OP_READDIR);
    buf = malloc(size ? size : 1);
    if (buf == NULL) {
        fuse_reply_err(req, ENOMEM);
        return;
    }
    if (off != d->offset) {
        seekdir(d->dp, off);
        d->entry = NULL;
        d->offset = off;
    }
    p = buf;
    for (;;) {
        struct stat st;

        if (d->entry == NULL) {
            errno = 0;
            d->entry = readdir(d->dp);
            if (d->entry == NULL) {
                err = errno;
                break;
            }
        }
        memset(&st, 0, sizeof(st));
        st.st_ino = d->entry->d_ino;
        st.st_mode = (mode_t)d->entry->d_type << 12;
        n = fuse_add_direntry(req, p, rem, d->entry->d_name, &st,
                              d->entry->d_off);
        if (n > rem) {
            break;
        }
        p += n;
        rem -= n;
        d->offset = d->entry->d_off;
        d->entry = NULL;
    }
    /* An error after some entries is reported by the next call. */
    if (err != 0 && rem == size) {
        fuse_reply_err(req, err);
    }
    else {
        fuse_reply_buf(req, buf, size - rem);
    }
    free(buf);
}

static void
op_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    struct mount *m = mount_of(req);
    struct dirp *d = (struct dirp *)(uintptr_t)fi->fh;

    (void)ino;
    stats_add(&m->stats.ops[OP_RELEASEDIR], 1);
    closedir(d->dp);
    free(d);
    fuse_reply_err(req, 0);
}

static void
op_statfs(fuse_req_t req, fuse_ino_t ino)
{
    struct mount *m = mount_of(req);
    struct statvfs sv;

    (void)ino;
    charge(m, OP_STATFS);
    if (fstatvfs(m->cfg->backing_fd, &sv) != 0) {
        fuse_reply_err(req, errno);
        return;
    }
    fuse_reply_statfs(req, &sv);
}

const struct fuse_lowlevel_ops mdsfs_ops = {
    .init = op_init,
    .lookup = op_lookup,
    .forget = op_forget,
    .forget_multi = op_forget_multi,
    .getattr = op_getattr,
    .access = op_access,
    .readlink = op_readlink,
    .open = op_open,
    .read = op_read,
    .release = op_release,
    .opendir = op_opendir,
    .readdir = op_readdir,
    .releasedir = op_releasedir,
    .statfs = op_statfs,
};
