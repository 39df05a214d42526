/* vfs.c: the executable's virtual tree, answered to every file API.
 *
 * The executable defines these C library entry points (exported, so that
 * they come before the C library's for CPython, linked in, and for every
 * shared object loaded later: extension modules, OpenSSL, ctypes'
 * libraries):
 *   files        open open64 openat openat64 __open_2 __open64_2
 *                __openat_2 __openat64_2 creat creat64 fopen fopen64
 *                freopen freopen64
 *   metadata     stat stat64 lstat lstat64 fstatat fstatat64 statx fstat
 *                fstat64 and glibc's older __xstat __xstat64 __lxstat
 *                __lxstat64 __fxstat __fxstat64 __fxstatat __fxstatat64;
 *                access faccessat euidaccess eaccess readlink readlinkat
 *                realpath __realpath_chk canonicalize_file_name
 *   directories  opendir fdopendir readdir readdir64 rewinddir telldir
 *                seekdir dirfd closedir scandir scandir64 close
 *   writes       mkdir mkdirat rmdir unlink unlinkat rename renameat
 *                renameat2 link linkat symlink symlinkat chmod fchmodat
 *                chown lchown fchownat truncate truncate64 mknod mknodat
 *                mkfifo mkfifoat utimensat utimes setxattr lsetxattr
 *                removexattr lremovexattr: EROFS
 *   attributes   listxattr llistxattr (none) getxattr lgetxattr (ENODATA)
 *   walks        glob glob64 (the C library's, given this layer's opendir
 *                and stat: GLOB_ALTDIRFUNC), nftw nftw64 ftw ftw64 (walked
 *                here in the tree)
 *   filesystem   statvfs statvfs64 fstatvfs fstatvfs64 statfs statfs64
 *                fstatfs fstatfs64: a read-only filesystem of its own
 *   programs     execve execv execveat execvp execvpe execl execle execlp
 *                posix_spawn posix_spawnp: EACCES (files are 0444), the
 *                executable itself runs
 *   others       chdir fchdir (ENOTSUP in the tree), dlopen (from memory)
 * (glibc's own internal calls, as fopen's open or nftw's opendir, are none
 * of these: the public entry points are wrapped, not the calls behind
 * them; scandirat(3) is not wrapped.)
 *
 * A path names the tree when it starts with the root (the executable's
 * real path) followed by '/' or its end: that one comparison is all an
 * ordinary path pays.  A relative path, or one through a directory
 * descriptor, pays nothing more: it can only reach the tree through the
 * executable, where the kernel answers ENOTDIR, and only then is it
 * resolved against the working directory, and then, when it is not
 * under the root spelled so, looked at through symbolic links (stat() of
 * leading parts, longest first, until one is a file: the executable?).
 * In the tree:
 *  - a file opened for reading is a new sealed memory file holding its
 *    bytes, reopened read-only through /proc/self/fd, mode 0444, dated as
 *    the tree (below): read, pread, mmap, fstat, lseek, dup, sendfile
 *    work unchanged.  A corrupt entry is EIO;
 *  - a directory opened is an empty memory file that this layer remembers
 *    (fstat, fdopendir, openat and fstatat relative to it); opendir gives
 *    a DIR of this layer, listing what vpath.c says the directory holds;
 *  - stat: regular files 0444, directories 0555, the true size, the
 *    executable's modification time (SOURCE_DATE_EPOCH instead when the
 *    build had it), st_dev INB_VFS_DEV,
 *    st_ino from vpath.c;
 *  - misses are ENOENT (ENOTDIR through a file), writes EROFS, with no
 *    system call;
 *  - the root itself is a directory to opendir() and with a trailing
 *    slash, but stat() of it, open() without O_DIRECTORY and fopen() give
 *    the executable's file (os.path.isfile(sys.executable),
 *    platform.libc_ver reads it);
 *  - with INBUILT_OVERLAY=DIR (overlay.c), a file DIR/rel stands for the
 *    tree's rel (open and stat give DIR's file) and listings add DIR's
 *    files the archive lacks: one stat() in DIR per lookup.
 *
 * Nothing on these paths allocates but opendir, fdopendir, scandir and
 * realpath(path, NULL), which allocate in the C library too; source files
 * are inflated with memory from mmap().  The state is set once before
 * threads start, or changed with atomic operations.
 */
#define _GNU_SOURCE
#include "vfs.h"

#include <dirent.h>
#include <dlfcn.h>
#include <ftw.h>
#include <glob.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "memso.h"
#include "tree.h"
#include "vpath.h"

#define VFS_API __attribute__((visibility("default")))

/* The device of the tree's nodes: major 0 is the kernel's anonymous
 * devices, and this minor number is beyond those it hands out. */
#define INB_VFS_DEV makedev(0, 0xfffff)
/* statfs()'s f_type of the tree: "inb1", no kernel filesystem's. */
#define INB_VFS_MAGIC 0x696e6231

#if !defined(__LP64__)
#error "vfs.c assumes struct stat and struct stat64 are the same (LP64)"
#endif

/* Set once by inb_vfs_init(), before threads start: tree.c's archive and
 * root (borrowed). */
static const inb_archive *archive;
static const char *root;
static size_t rootlen;    /* 0: nothing is answered */
static time_t build_time; /* -1: the executable's, read when first asked */
static uid_t owner_uid;
static gid_t owner_gid;
/* INBUILT_OVERLAY's directory, absolute (overlay.c serves its modules):
 * its files stand in for, or beside, the tree's files.  0: no overlay. */
static char overlay[PATH_MAX];
static size_t overlaylen;

/* The C library's functions, looked up once (lazily when called before
 * inb_vfs_init, by a constructor of another object). */
#define REAL(name) ((__typeof__(&name))real_fn(&real_##name, #name))
static void *
real_fn(void **slot, const char *name)
{
    void *p = __atomic_load_n(slot, __ATOMIC_RELAXED);

    if (p == NULL) {
        p = dlsym(RTLD_NEXT, name);
        __atomic_store_n(slot, p, __ATOMIC_RELAXED);
    }
    return p;
}
#define DECLARE_REAL(name) static void *real_##name
DECLARE_REAL(open);
DECLARE_REAL(openat);
DECLARE_REAL(close);
DECLARE_REAL(fopen);
DECLARE_REAL(freopen);
DECLARE_REAL(fstat);
DECLARE_REAL(fstatat);
DECLARE_REAL(statx);
DECLARE_REAL(faccessat);
DECLARE_REAL(euidaccess);
DECLARE_REAL(readlinkat);
DECLARE_REAL(realpath);
DECLARE_REAL(opendir);
DECLARE_REAL(fdopendir);
DECLARE_REAL(readdir);
DECLARE_REAL(rewinddir);
DECLARE_REAL(telldir);
DECLARE_REAL(seekdir);
DECLARE_REAL(dirfd);
DECLARE_REAL(closedir);
DECLARE_REAL(scandir);
DECLARE_REAL(mkdirat);
DECLARE_REAL(unlinkat);
DECLARE_REAL(renameat2);
DECLARE_REAL(linkat);
DECLARE_REAL(symlinkat);
DECLARE_REAL(fchmodat);
DECLARE_REAL(fchownat);
DECLARE_REAL(truncate);
DECLARE_REAL(mknodat);
DECLARE_REAL(utimensat);
DECLARE_REAL(utimes);
DECLARE_REAL(chdir);
DECLARE_REAL(glob);
DECLARE_REAL(nftw);
DECLARE_REAL(ftw);
DECLARE_REAL(statvfs);
DECLARE_REAL(fstatvfs);
DECLARE_REAL(statfs);
DECLARE_REAL(fstatfs);
DECLARE_REAL(execve);
DECLARE_REAL(execveat);
DECLARE_REAL(execvpe);
DECLARE_REAL(posix_spawn);
DECLARE_REAL(posix_spawnp);
DECLARE_REAL(fchdir);
DECLARE_REAL(dlopen);
DECLARE_REAL(listxattr);
DECLARE_REAL(llistxattr);
DECLARE_REAL(getxattr);
DECLARE_REAL(lgetxattr);
DECLARE_REAL(setxattr);
DECLARE_REAL(lsetxattr);
DECLARE_REAL(removexattr);
DECLARE_REAL(lremovexattr);

/* A path resolved in the tree. */
struct vres {
    char rel[PATH_MAX];
    size_t len;
    int slash; /* written with a trailing slash: must be a directory */
    inb_vnode node;
    int over; /* a file of the overlay: its path is in opath */
    char opath[PATH_MAX];
};

/* Descriptors of the tree's directories: memory files standing for them.
 * A slot's fd is 0 when free, fd + 1 when used, -1 while being filled;
 * dev and ino tell the memory file from another file given the same
 * number after a dup2(). */
#define NDIRFDS 64
static struct dirfd_slot {
    int fd;
    dev_t dev;
    ino_t ino;
    char rel[1024];
    size_t len;
} dirfds[NDIRFDS];
static int ndirfds; /* slots in use: 0 leaves close() one load */

/* A DIR of the tree.  Its address is in streams[] while it is open. */
#define NSTREAMS 256
struct vstream {
    inb_vdir it;
    long pos;   /* entries given, "." and ".." included */
    int fd;     /* dirfd()'s answer, -1 until asked */
    DIR *odir;  /* the overlay's directory, read after the archive's */
    int ophase; /* 0 before it, 1 reading it, 2 done */
    struct dirent64 ent;
};
static struct vstream *streams[NSTREAMS];
static int nstreams;

static pthread_mutex_t dlopen_lock = PTHREAD_MUTEX_INITIALIZER;

/* Read INBUILT_OVERLAY (a relative directory from the working
 * directory), as overlay.c does. */
static void
overlay_init(void)
{
    const char *env = getenv("INBUILT_OVERLAY");
    size_t n = 0, elen;

    overlaylen = 0;
    if (env == NULL || env[0] == '\0') {
        return;
    }
    if (env[0] != '/') {
        if (getcwd(overlay, sizeof(overlay)) == NULL) {
            return;
        }
        n = strlen(overlay);
        overlay[n++] = '/';
    }
    elen = strlen(env);
    if (n + elen >= sizeof(overlay)) {
        return;
    }
    memcpy(overlay + n, env, elen + 1);
    n += elen;
    while (n > 1 && overlay[n - 1] == '/') {
        overlay[--n] = '\0';
    }
    overlaylen = n;
}

int
inb_vfs_init(void)
{
    const char *env = getenv("INBUILT_VFS");
    const inb_archive *a = inb_tree_archive();
    const char *path;
    char value[32];
    inb_entry e;
    size_t len;

    if (env != NULL && strcmp(env, "0") == 0) {
        return 0;
    }
    path = inb_tree_root(&len);
    if (a == NULL || len == 0) {
        return -1;
    }
    archive = a;
    root = path;
    owner_uid = getuid();
    owner_gid = getgid();
    build_time = -1;
    if (inb_archive_find(a, INB_NS_CONFIG, "build_time", 10, &e) &&
        e.size < sizeof(value)) {
        memcpy(value, e.data, e.size);
        value[e.size] = '\0';
        build_time = (time_t)strtoll(value, NULL, 10);
    }
    overlay_init();
    rootlen = len;
    return 0;
}

static int
fail(int err)
{
    errno = err;
    return -1;
}

/* Whether path starts with the root, then '/' or its end: the one test
 * every absolute path pays. */
static inline int
under_root(const char *path)
{
    size_t i;

    if (rootlen == 0 || path == NULL) {
        return 0;
    }
    /* Byte by byte: ordinary paths differ within a few bytes, where
     * strncmp() would pay its set-up.  The root has no NUL, so the loop
     * stops at path's end. */
    for (i = 0; i < rootlen; i++) {
        if (path[i] != root[i]) {
            return 0;
        }
    }
    return path[rootlen] == '\0' || path[rootlen] == '/';
}

/* Whether (dirfd, path) cannot name the tree unless the C library then
 * says ENOTDIR: an absolute path outside the root, or a relative one
 * that is not relative to a directory of the tree.  The fast path of
 * every wrapper. */
static inline int
plain(int dirfd, const char *path)
{
    if (path == NULL || rootlen == 0) {
        return 1;
    }
    if (path[0] == '/') {
        return !under_root(path);
    }
    return dirfd == AT_FDCWD ||
           __atomic_load_n(&ndirfds, __ATOMIC_RELAXED) == 0;
}

/* Whether the overlay has a file (not a directory) at r's place, which
 * then stands for the tree's (r->over set, a missing node becoming a
 * file): one stat() in the overlay, when there is one. */
static void
overlay_find(struct vres *r)
{
    struct stat st;

    r->over = 0;
    if (overlaylen == 0 || r->len == 0 || r->node.type == INB_VNODE_DIR ||
        overlaylen + 1 + r->len >= sizeof(r->opath)) {
        return;
    }
    memcpy(r->opath, overlay, overlaylen);
    r->opath[overlaylen] = '/';
    memcpy(r->opath + overlaylen + 1, r->rel, r->len + 1);
    if (REAL(fstatat)(AT_FDCWD, r->opath, &st, 0) == 0 &&
        !S_ISDIR(st.st_mode)) {
        r->over = 1;
        if (r->node.type == INB_VNODE_NONE) {
            memset(&r->node, 0, sizeof(r->node));
            r->node.type = INB_VNODE_FILE;
        }
        r->node.size = (uint64_t)st.st_size;
    }
}

/* Resolve rel[0..len) (relative to the root, not yet normalized) into *r.
 * Returns 1, or 0 when ".." leaves the tree (the caller passes the path
 * on), or -1 with errno ENAMETOOLONG. */
static int
resolve_rel(const char *rel, size_t len, struct vres *r)
{
    long n = inb_vpath_normalize(rel, len, r->rel, sizeof(r->rel));

    if (n == -1) {
        errno = ENAMETOOLONG;
        return -1;
    }
    if (n == -2) {
        return 0;
    }
    r->len = (size_t)n;
    r->slash = len > 0 && rel[len - 1] == '/';
    inb_vpath_lookup(archive, r->rel, r->len, &r->node);
    overlay_find(r);
    return 1;
}

/* The slot of directory descriptor fd, or NULL. */
static struct dirfd_slot *
dirfd_find(int fd)
{
    int i;

    if (__atomic_load_n(&ndirfds, __ATOMIC_ACQUIRE) == 0 || fd < 0) {
        return NULL;
    }
    for (i = 0; i < NDIRFDS; i++) {
        if (__atomic_load_n(&dirfds[i].fd, __ATOMIC_ACQUIRE) == fd + 1) {
            return &dirfds[i];
        }
    }
    return NULL;
}

/* The tree's directory that fd stands for, copied into rel (1024 bytes);
 * its length, or -1 when fd is no such descriptor. */
static long
dirfd_rel(int fd, char *rel)
{
    struct dirfd_slot *s = dirfd_find(fd);
    struct stat st;
    size_t len;

    if (s == NULL) {
        return -1;
    }
    len = s->len;
    memcpy(rel, s->rel, len + 1);
    /* The number may have been reused by a dup2() over it. */
    if (REAL(fstat)(fd, &st) < 0 || st.st_dev != s->dev ||
        st.st_ino != s->ino) {
        return -1;
    }
    return (long)len;
}

/* Classify (dirfd, path) for a call: 1 with *r filled when it names the
 * tree, 0 when the C library should answer it (*pathp is then rewritten
 * to a path in r->rel when ".." leads out of the tree), -1 with errno
 * set. */
static int
classify(int dirfd, const char **pathp, struct vres *r)
{
    const char *path = *pathp, *rel;
    char joined[PATH_MAX];
    size_t len;
    long blen, n;
    int rc;

    if (path == NULL) {
        return 0;
    }
    if (path[0] == '/') {
        if (!under_root(path)) {
            return 0;
        }
        rel = path + rootlen;
        len = strlen(rel);
    }
    else {
        if (dirfd == AT_FDCWD || (blen = dirfd_rel(dirfd, joined)) < 0) {
            return 0;
        }
        /* Relative to a directory of the tree. */
        len = strlen(path);
        if ((size_t)blen + 1 + len >= sizeof(joined)) {
            return fail(ENAMETOOLONG);
        }
        joined[blen] = '/';
        memcpy(joined + blen + 1, path, len + 1);
        rel = joined;
        len += (size_t)blen + 1;
    }
    rc = resolve_rel(rel, len, r);
    if (rc != 0) {
        return rc;
    }
    /* ".." out of the tree: the rest is real, from the root's parent. */
    if (rootlen + 1 + len >= sizeof(joined)) {
        return fail(ENAMETOOLONG);
    }
    memmove(joined + rootlen + 1, rel, len + 1);
    memcpy(joined, root, rootlen);
    joined[rootlen] = '/';
    r->rel[0] = '/';
    n = inb_vpath_normalize(joined, rootlen + 1 + len, r->rel + 1,
                            sizeof(r->rel) - 1);
    if (n < 0) {
        return fail(ENAMETOOLONG);
    }
    *pathp = r->rel;
    return 0;
}

/* The executable's device and inode, read once (one stat() of
 * /proc/self/exe, the first time a path through a symbolic link may lead
 * to it).  Returns 0, or -1. */
static int
exe_identity(dev_t *dev, ino_t *ino)
{
    static dev_t exe_dev;
    static ino_t exe_ino;
    static int known; /* 0 unread, 1 read, -1 failed */
    struct stat st;
    int k = __atomic_load_n(&known, __ATOMIC_ACQUIRE);

    if (k == 0) {
        k = -1;
        if (REAL(fstatat)(AT_FDCWD, "/proc/self/exe", &st, 0) == 0) {
            exe_dev = st.st_dev;
            exe_ino = st.st_ino;
            k = 1;
        }
        __atomic_store_n(&known, k, __ATOMIC_RELEASE);
    }
    *dev = exe_dev;
    *ino = exe_ino;
    return k == 1 ? 0 : -1;
}

/* After ENOTDIR for absolute path[0..len): whether a leading part of it
 * is, through symbolic links, the executable itself ("/bin/app/json/x.py"
 * with /bin/app a link to it); then the rest is resolved into *r and 1
 * returned.  Asks stat() of leading parts, longest first, in this error
 * path only. */
static int
through_link(char *path, size_t len, struct vres *r)
{
    struct stat st;
    dev_t dev;
    ino_t ino;
    size_t i;
    int rc;

    /* The kernel's own link to the executable: nothing to ask. */
    if (len > 14 && memcmp(path, "/proc/self/exe/", 15) == 0) {
        return resolve_rel(path + 14, len - 14, r) == 1;
    }
    if (exe_identity(&dev, &ino) < 0) {
        return 0;
    }
    /* From the longest leading part down: ENOTDIR until the part that is
     * the file, usually a few components from the end. */
    for (i = len; i > 1; i--) {
        if (path[i - 1] != '/' || (i - 1 > 0 && path[i - 2] == '/')) {
            continue;
        }
        path[i - 1] = '\0';
        rc = REAL(fstatat)(AT_FDCWD, path, &st, 0);
        path[i - 1] = '/';
        if (rc < 0 && errno == ENOTDIR) {
            continue;
        }
        if (rc < 0 || S_ISDIR(st.st_mode)) {
            return 0;
        }
        return st.st_dev == dev && st.st_ino == ino &&
               resolve_rel(path + i - 1, len - i + 1, r) == 1;
    }
    return 0;
}

/* After the C library answered ENOTDIR: whether the path, taken from the
 * working directory when relative and normalized, names the tree ("app/x"
 * from the executable's directory, "/a//b/app/x"); then *r is filled and
 * 1 returned.  errno is kept otherwise. */
static int
retry_relative(int dirfd, const char *path, struct vres *r)
{
    char joined[PATH_MAX], norm[PATH_MAX];
    size_t clen = 0, plen;
    long n;
    int saved = errno;

    if (rootlen == 0 || path == NULL || saved != ENOTDIR ||
        (path[0] != '/' && dirfd != AT_FDCWD)) {
        return 0;
    }
    if (path[0] != '/') {
        if (getcwd(joined, sizeof(joined)) == NULL) {
            errno = saved;
            return 0;
        }
        clen = strlen(joined);
        joined[clen++] = '/';
    }
    plen = strlen(path);
    if (clen + plen >= sizeof(joined)) {
        errno = saved;
        return 0;
    }
    memcpy(joined + clen, path, plen + 1);
    norm[0] = '/';
    n = inb_vpath_normalize(joined, clen + plen, norm + 1, sizeof(norm) - 1);
    if (n < 0 || !under_root(norm) ||
        resolve_rel(norm + rootlen, (size_t)n + 1 - rootlen, r) != 1) {
        if (!through_link(joined, clen + plen, r)) {
            errno = saved;
            return 0;
        }
    }
    r->slash = path[plen - 1] == '/';
    return 1;
}

/* The errno of a miss at r: ENOTDIR when a component on the way is a
 * file, ENOENT otherwise.  Returns -1. */
static int
miss(const struct vres *r)
{
    inb_vnode n;
    size_t i;

    errno = ENOENT;
    for (i = 0; i < r->len; i++) {
        if (r->rel[i] != '/') {
            continue;
        }
        inb_vpath_lookup(archive, r->rel, i, &n);
        if (n.type == INB_VNODE_FILE) {
            errno = ENOTDIR;
            break;
        }
        if (n.type == INB_VNODE_NONE) {
            break;
        }
    }
    return -1;
}

/* Check that r exists (as a directory when written with a trailing
 * slash).  Returns 0, or -1 with errno. */
static int
need_node(const struct vres *r)
{
    if (r->node.type == INB_VNODE_NONE) {
        return miss(r);
    }
    if (r->slash && r->node.type != INB_VNODE_DIR) {
        errno = ENOTDIR;
        return -1;
    }
    return 0;
}

/* What a call that would change r gets: ENOENT or ENOTDIR when the
 * parent is missing, EROFS otherwise. */
static int
read_only(const struct vres *r)
{
    struct vres parent = *r;
    inb_vnode n;

    if (r->node.type != INB_VNODE_NONE || r->len == 0) {
        return fail(EROFS);
    }
    while (parent.len > 0 && parent.rel[parent.len - 1] != '/') {
        parent.len--;
    }
    if (parent.len > 0) {
        parent.len--;
    }
    inb_vpath_lookup(archive, parent.rel, parent.len, &n);
    if (n.type == INB_VNODE_DIR) {
        return fail(EROFS);
    }
    if (n.type == INB_VNODE_FILE) {
        return fail(ENOTDIR);
    }
    parent.node = n;
    return miss(&parent);
}

/* The modification time of the tree's files: SOURCE_DATE_EPOCH of the
 * build, else the executable's own (one stat() of /proc/self/exe, the
 * first time a node of the tree is asked about). */
static time_t
tree_time(void)
{
    time_t t = __atomic_load_n(&build_time, __ATOMIC_RELAXED);
    struct stat st;

    if (t == -1) {
        t = REAL(fstatat)(AT_FDCWD, "/proc/self/exe", &st, 0) == 0
                ? st.st_mtim.tv_sec
                : 0;
        __atomic_store_n(&build_time, t, __ATOMIC_RELAXED);
    }
    return t;
}

/* Fill *st for node n. */
static void
fill_stat(const inb_vnode *n, struct stat *st)
{
    memset(st, 0, sizeof(*st));
    st->st_dev = INB_VFS_DEV;
    st->st_ino = (ino_t)n->ino;
    st->st_mode = n->type == INB_VNODE_DIR ? S_IFDIR | 0555 : S_IFREG | 0444;
    st->st_nlink = n->type == INB_VNODE_DIR ? 2 : 1;
    st->st_uid = owner_uid;
    st->st_gid = owner_gid;
    st->st_size = (off_t)n->size;
    st->st_blksize = 4096;
    st->st_blocks = (blkcnt_t)((n->size + 511) / 512);
    st->st_atim.tv_sec = st->st_mtim.tv_sec = st->st_ctim.tv_sec = tree_time();
}

/* A memory file named after rel, with size bytes written by fill (or
 * none), made mode, dated and sealed.  Returns the descriptor, or -1. */
static int
memory_file(const char *rel, const inb_vnode *n, mode_t mode, int cloexec)
{
    const char *base = strrchr(rel, '/');
    struct timespec times[2] = {{tree_time(), 0}, {tree_time(), 0}};
    char name[64];
    void *p;
    int fd, err;

    if (n != NULL && n->form == INB_VFORM_CORRUPT) {
        errno = EIO; /* a damaged record */
        return -1;
    }
    snprintf(name, sizeof(name), "inbuilt:%s", base ? base + 1 : rel);
    fd = memfd_create(name, MFD_ALLOW_SEALING | (cloexec ? MFD_CLOEXEC : 0));
    if (fd < 0 && (errno == ENOSYS || errno == EPERM || errno == EACCES)) {
        /* Memory files denied (a seccomp policy): an unnamed file of the
         * node's shared memory, which cannot be sealed. */
        fd = REAL(open)("/dev/shm",
                        O_TMPFILE | O_RDWR | (cloexec ? O_CLOEXEC : 0), 0600);
    }
    if (fd < 0) {
        return -1;
    }
    if (n != NULL && n->size > 0) {
        if (ftruncate(fd, (off_t)n->size) < 0) {
            goto error;
        }
        p = mmap(NULL, n->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (p == MAP_FAILED) {
            goto error;
        }
        err = inb_vpath_read(archive, n, p);
        munmap(p, n->size);
        if (err < 0) {
            errno = EIO;
            goto error;
        }
    }
    if (fchmod(fd, mode) < 0 || futimens(fd, times) < 0 ||
        (fcntl(fd, F_ADD_SEALS,
               F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0 &&
         errno != EINVAL && errno != EPERM)) {
        goto error;
    }
    return fd;
error:
    err = errno;
    REAL(close)(fd);
    errno = err;
    return -1;
}

/* A descriptor for directory r: a memory file remembered in dirfds[]. */
static int
dir_descriptor(const struct vres *r, int cloexec)
{
    struct stat st;
    int fd, i, free;

    if (r->len >= sizeof(dirfds[0].rel)) {
        return fail(ENAMETOOLONG);
    }
    fd = memory_file(r->len ? r->rel : "root", NULL, 0555, cloexec);
    if (fd < 0) {
        return -1;
    }
    if (REAL(fstat)(fd, &st) < 0) {
        goto full;
    }
    for (i = 0; i < NDIRFDS; i++) {
        free = 0;
        if (__atomic_compare_exchange_n(&dirfds[i].fd, &free, -1, 0,
                                        __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
            memcpy(dirfds[i].rel, r->rel, r->len);
            dirfds[i].rel[r->len] = '\0';
            dirfds[i].len = r->len;
            dirfds[i].dev = st.st_dev;
            dirfds[i].ino = st.st_ino;
            __atomic_add_fetch(&ndirfds, 1, __ATOMIC_ACQ_REL);
            __atomic_store_n(&dirfds[i].fd, fd + 1, __ATOMIC_RELEASE);
            return fd;
        }
    }
full:
    REAL(close)(fd);
    return fail(EMFILE);
}

/* open() of node r with flags. */
static int
vopen(const struct vres *r, int flags)
{
    char proc[64];
    int fd, rfd, acc = flags & O_ACCMODE;
    int cloexec = (flags & O_CLOEXEC) != 0;

    if (r->node.type == INB_VNODE_NONE) {
        return flags & O_CREAT ? read_only(r) : miss(r);
    }
    if ((flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL)) {
        return fail(EEXIST);
    }
    if (r->node.type == INB_VNODE_DIR) {
        if (acc != O_RDONLY || (flags & O_TRUNC)) {
            return fail(EISDIR);
        }
        return dir_descriptor(r, cloexec);
    }
    if (r->slash || (flags & O_DIRECTORY)) {
        return fail(ENOTDIR);
    }
    if (acc != O_RDONLY || (flags & O_TRUNC)) {
        return fail(EROFS);
    }
    if (r->over) {
        return REAL(openat)(AT_FDCWD, r->opath, flags & ~O_CREAT, 0);
    }
    fd = memory_file(r->rel, &r->node, 0444, 1);
    if (fd < 0) {
        return -1;
    }
    /* A description of its own, read-only, as open() gives. */
    snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
    rfd = REAL(open)(proc, O_RDONLY | (flags & (O_CLOEXEC | O_NONBLOCK)));
    if (rfd < 0) {
        if (!cloexec) {
            fcntl(fd, F_SETFD, 0);
        }
        return fd;
    }
    REAL(close)(fd);
    return rfd;
}

/* The mode argument of open() and openat(), read when flags need it. */
#define OPEN_MODE(flags, last)               \
    mode_t mode = 0;                         \
    if ((flags) & (O_CREAT | __O_TMPFILE)) { \
        va_list va;                          \
        va_start(va, last);                  \
        mode = (mode_t)va_arg(va, int);      \
        va_end(va);                          \
    }

/* Whether open() of the root itself goes to the executable's file. */
static int
opens_executable(const struct vres *r, int flags)
{
    return r->len == 0 && !r->slash && !(flags & O_DIRECTORY);
}

static int slow_openat(int dirfd, const char *path, int flags, mode_t mode);

static inline int
do_openat(int dirfd, const char *path, int flags, mode_t mode)
{
    int fd;

    if (plain(dirfd, path)) {
        fd = REAL(openat)(dirfd, path, flags, mode);
        if (fd >= 0 || errno != ENOTDIR || rootlen == 0) {
            return fd;
        }
    }
    return slow_openat(dirfd, path, flags, mode);
}

/* open() of a path that may name the tree. */
__attribute__((noinline)) static int
slow_openat(int dirfd, const char *path, int flags, mode_t mode)
{
    struct vres r;
    int rc = classify(dirfd, &path, &r), fd;

    if (rc < 0) {
        return -1;
    }
    if (rc == 0 || opens_executable(&r, flags)) {
        fd = REAL(openat)(dirfd, path, flags, mode);
        if (fd >= 0 || !retry_relative(dirfd, path, &r)) {
            return fd;
        }
    }
    return vopen(&r, flags);
}

VFS_API int
open(const char *path, int flags, ...)
{
    OPEN_MODE(flags, flags);
    return do_openat(AT_FDCWD, path, flags, mode);
}

VFS_API int
open64(const char *path, int flags, ...)
{
    OPEN_MODE(flags, flags);
    return do_openat(AT_FDCWD, path, flags, mode);
}

VFS_API int
openat(int dirfd, const char *path, int flags, ...)
{
    OPEN_MODE(flags, flags);
    return do_openat(dirfd, path, flags, mode);
}

VFS_API int
openat64(int dirfd, const char *path, int flags, ...)
{
    OPEN_MODE(flags, flags);
    return do_openat(dirfd, path, flags, mode);
}

/* The fortified forms (_FORTIFY_SOURCE), called without a mode. */
int __open_2(const char *path, int flags);
int __open64_2(const char *path, int flags);
int __openat_2(int dirfd, const char *path, int flags);
int __openat64_2(int dirfd, const char *path, int flags);

VFS_API int
__open_2(const char *path, int flags)
{
    return do_openat(AT_FDCWD, path, flags, 0);
}

VFS_API int
__open64_2(const char *path, int flags)
{
    return do_openat(AT_FDCWD, path, flags, 0);
}

VFS_API int
__openat_2(int dirfd, const char *path, int flags)
{
    return do_openat(dirfd, path, flags, 0);
}

VFS_API int
__openat64_2(int dirfd, const char *path, int flags)
{
    return do_openat(dirfd, path, flags, 0);
}

VFS_API int
creat(const char *path, mode_t mode)
{
    return do_openat(AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, mode);
}

VFS_API int
creat64(const char *path, mode_t mode)
{
    return do_openat(AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, mode);
}

VFS_API int
close(int fd)
{
    struct dirfd_slot *s = dirfd_find(fd);
    int used = fd + 1;

    if (s != NULL &&
        __atomic_compare_exchange_n(&s->fd, &used, 0, 0, __ATOMIC_ACQ_REL,
                                    __ATOMIC_RELAXED)) {
        __atomic_sub_fetch(&ndirfds, 1, __ATOMIC_ACQ_REL);
    }
    return REAL(close)(fd);
}

/* open() flags for an fopen() mode; -1 for a mode that writes. */
static int
fopen_flags(const char *mode)
{
    int flags = O_RDONLY;

    if (mode[0] != 'r') {
        return -1;
    }
    for (mode++; *mode != '\0' && *mode != ','; mode++) {
        if (*mode == '+') {
            return -1;
        }
        if (*mode == 'e') {
            flags |= O_CLOEXEC;
        }
    }
    return flags;
}

/* The descriptor fopen(mode) of node r gets (-1 with errno). */
static int
vfopen(const struct vres *r, const char *mode)
{
    int flags = fopen_flags(mode);

    if (flags < 0) {
        return r->node.type == INB_VNODE_DIR ? fail(EISDIR)
                                             : vopen(r, O_WRONLY);
    }
    return vopen(r, flags);
}

static FILE *slow_fopen(const char *path, const char *mode);

static inline FILE *
do_fopen(const char *path, const char *mode)
{
    FILE *f;

    if (plain(AT_FDCWD, path)) {
        f = REAL(fopen)(path, mode);
        if (f != NULL || errno != ENOTDIR || rootlen == 0) {
            return f;
        }
    }
    return slow_fopen(path, mode);
}

/* fopen() of a path that may name the tree. */
__attribute__((noinline)) static FILE *
slow_fopen(const char *path, const char *mode)
{
    struct vres r;
    FILE *f;
    const char *orig = path;
    int fd, err, rc = classify(AT_FDCWD, &path, &r);

    if (rc < 0) {
        return NULL;
    }
    if (rc == 0 || opens_executable(&r, 0)) {
        f = REAL(fopen)(path, mode);
        if (f != NULL || !retry_relative(AT_FDCWD, orig, &r)) {
            return f;
        }
    }
    fd = vfopen(&r, mode);
    if (fd < 0) {
        return NULL;
    }
    f = fdopen(fd, mode);
    if (f == NULL) {
        err = errno;
        REAL(close)(fd);
        errno = err;
    }
    return f;
}

VFS_API FILE *
fopen(const char *path, const char *mode)
{
    return do_fopen(path, mode);
}

VFS_API FILE *
fopen64(const char *path, const char *mode)
{
    return do_fopen(path, mode);
}

static FILE *
do_freopen(const char *path, const char *mode, FILE *stream)
{
    char proc[64];
    FILE *f;
    int fd, err;

    struct vres r;
    const char *p = path;

    struct stat st;
    int rc = path == NULL ? 0 : classify(AT_FDCWD, &p, &r);

    /* freopen() closes the stream when it fails: ENOTDIR is asked first
     * (through the executable, or a symbolic link to it). */
    if (rc == 0 && path != NULL &&
        (REAL(fstatat)(AT_FDCWD, p, &st, 0) == 0 || errno != ENOTDIR ||
         !retry_relative(AT_FDCWD, p, &r))) {
        return REAL(freopen)(p, mode, stream);
    }
    if (rc < 0 || opens_executable(&r, 0)) {
        return REAL(freopen)(p, mode, stream);
    }
    fd = vfopen(&r, mode);
    if (fd < 0) {
        err = errno;
        fclose(stream); /* as freopen() does when it fails */
        errno = err;
        return NULL;
    }
    snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
    f = REAL(freopen)(proc, mode, stream);
    err = errno;
    REAL(close)(fd);
    errno = err;
    return f;
}

VFS_API FILE *
freopen(const char *path, const char *mode, FILE *stream)
{
    return do_freopen(path, mode, stream);
}

VFS_API FILE *
freopen64(const char *path, const char *mode, FILE *stream)
{
    return do_freopen(path, mode, stream);
}

/* Metadata */

/* fstatat() with the tree: flags AT_EMPTY_PATH with "" takes dirfd
 * itself. */
static int slow_fstatat(int dirfd, const char *path, struct stat *st,
                        int flags);

static inline int
do_fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
    int rc;

    if (plain(dirfd, path)) {
        rc = REAL(fstatat)(dirfd, path, st, flags);
        if (rc == 0 || errno != ENOTDIR || rootlen == 0) {
            return rc;
        }
    }
    return slow_fstatat(dirfd, path, st, flags);
}

/* fstatat() of a path that may name the tree. */
__attribute__((noinline)) static int
slow_fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
    struct vres r;
    char rel[1024];
    long len;
    int rc;

    if (path != NULL && path[0] == '\0' && (flags & AT_EMPTY_PATH)) {
        len = dirfd_rel(dirfd, rel);
        if (len < 0) {
            return REAL(fstatat)(dirfd, path, st, flags);
        }
        inb_vpath_lookup(archive, rel, (size_t)len, &r.node);
        fill_stat(&r.node, st);
        return 0;
    }
    rc = classify(dirfd, &path, &r);
    if (rc < 0) {
        return -1;
    }
    /* The root itself, without a trailing slash, is the executable's file
     * here as for open() (os.path.isfile(sys.executable), shutil.which);
     * with a slash, and for opendir() and listings, it is the tree's top. */
    if (rc == 0 || opens_executable(&r, 0)) {
        rc = REAL(fstatat)(dirfd, path, st, flags);
        if (rc == 0 || !retry_relative(dirfd, path, &r)) {
            return rc;
        }
    }
    if (need_node(&r) < 0) {
        return -1;
    }
    if (r.over) {
        return REAL(fstatat)(AT_FDCWD, r.opath, st, 0);
    }
    fill_stat(&r.node, st);
    return 0;
}

VFS_API int
stat(const char *path, struct stat *st)
{
    return do_fstatat(AT_FDCWD, path, st, 0);
}

VFS_API int
stat64(const char *path, struct stat64 *st)
{
    return do_fstatat(AT_FDCWD, path, (struct stat *)st, 0);
}

VFS_API int
lstat(const char *path, struct stat *st)
{
    return do_fstatat(AT_FDCWD, path, st, AT_SYMLINK_NOFOLLOW);
}

VFS_API int
lstat64(const char *path, struct stat64 *st)
{
    return do_fstatat(AT_FDCWD, path, (struct stat *)st, AT_SYMLINK_NOFOLLOW);
}

VFS_API int
fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
    return do_fstatat(dirfd, path, st, flags);
}

VFS_API int
fstatat64(int dirfd, const char *path, struct stat64 *st, int flags)
{
    return do_fstatat(dirfd, path, (struct stat *)st, flags);
}

static int
do_fstat(int fd, struct stat *st)
{
    char rel[1024];
    long len = dirfd_rel(fd, rel);
    inb_vnode n;

    if (len < 0) {
        return REAL(fstat)(fd, st);
    }
    inb_vpath_lookup(archive, rel, (size_t)len, &n);
    fill_stat(&n, st);
    return 0;
}

VFS_API int
fstat(int fd, struct stat *st)
{
    return do_fstat(fd, st);
}

VFS_API int
fstat64(int fd, struct stat64 *st)
{
    return do_fstat(fd, (struct stat *)st);
}

/* glibc before 2.33 had programs call these (objects built then still
 * do); ver is _STAT_VER, whose struct is struct stat on LP64. */
int __xstat(int ver, const char *path, struct stat *st);
int __xstat64(int ver, const char *path, struct stat64 *st);
int __lxstat(int ver, const char *path, struct stat *st);
int __lxstat64(int ver, const char *path, struct stat64 *st);
int __fxstat(int ver, int fd, struct stat *st);
int __fxstat64(int ver, int fd, struct stat64 *st);
int __fxstatat(int ver, int dirfd, const char *path, struct stat *st,
               int flags);
int __fxstatat64(int ver, int dirfd, const char *path, struct stat64 *st,
                 int flags);

VFS_API int
__xstat(int ver, const char *path, struct stat *st)
{
    (void)ver;
    return do_fstatat(AT_FDCWD, path, st, 0);
}

VFS_API int
__xstat64(int ver, const char *path, struct stat64 *st)
{
    (void)ver;
    return do_fstatat(AT_FDCWD, path, (struct stat *)st, 0);
}

VFS_API int
__lxstat(int ver, const char *path, struct stat *st)
{
    (void)ver;
    return do_fstatat(AT_FDCWD, path, st, AT_SYMLINK_NOFOLLOW);
}

VFS_API int
__lxstat64(int ver, const char *path, struct stat64 *st)
{
    (void)ver;
    return do_fstatat(AT_FDCWD, path, (struct stat *)st, AT_SYMLINK_NOFOLLOW);
}

VFS_API int
__fxstat(int ver, int fd, struct stat *st)
{
    (void)ver;
    return do_fstat(fd, st);
}

VFS_API int
__fxstat64(int ver, int fd, struct stat64 *st)
{
    (void)ver;
    return do_fstat(fd, (struct stat *)st);
}

VFS_API int
__fxstatat(int ver, int dirfd, const char *path, struct stat *st, int flags)
{
    (void)ver;
    return do_fstatat(dirfd, path, st, flags);
}

VFS_API int
__fxstatat64(int ver, int dirfd, const char *path, struct stat64 *st,
             int flags)
{
    (void)ver;
    return do_fstatat(dirfd, path, (struct stat *)st, flags);
}

/* Whether path is NULL, for parameters the headers declare non-null but
 * callers may still pass NULL (utimensat, futimens' way). */
static int
null_path(const char *path)
{
    return path == NULL;
}

VFS_API int
statx(int dirfd, const char *path, int flags, unsigned int mask,
      struct statx *sx)
{
    struct stat st;
    int rc;

    if (!null_path(path) && path[0] == '\0' && (flags & AT_EMPTY_PATH)) {
        if (dirfd_find(dirfd) == NULL) {
            return REAL(statx)(dirfd, path, flags, mask, sx);
        }
    }
    else if (!(!null_path(path) &&
               (under_root(path) || (path[0] != '/' && dirfd_find(dirfd))))) {
        rc = REAL(statx)(dirfd, path, flags, mask, sx);
        if (rc == 0 || null_path(path) || errno != ENOTDIR) {
            return rc;
        }
    }
    if (do_fstatat(dirfd, path, &st,
                   flags & (AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW)) < 0) {
        return -1;
    }
    memset(sx, 0, sizeof(*sx));
    sx->stx_mask = STATX_BASIC_STATS;
    sx->stx_blksize = (uint32_t)st.st_blksize;
    sx->stx_nlink = (uint32_t)st.st_nlink;
    sx->stx_uid = st.st_uid;
    sx->stx_gid = st.st_gid;
    sx->stx_mode = (uint16_t)st.st_mode;
    sx->stx_ino = st.st_ino;
    sx->stx_size = (uint64_t)st.st_size;
    sx->stx_blocks = (uint64_t)st.st_blocks;
    sx->stx_atime.tv_sec = sx->stx_mtime.tv_sec = sx->stx_ctime.tv_sec =
        st.st_mtime;
    sx->stx_dev_major = major(st.st_dev);
    sx->stx_dev_minor = minor(st.st_dev);
    return 0;
}

/* access() in the tree: W_OK is EROFS, X_OK of a file EACCES. */
static int slow_faccessat(int dirfd, const char *path, int mode, int flags,
                          int (*real)(int, const char *, int, int));

static inline int
do_faccessat(int dirfd, const char *path, int mode, int flags,
             int (*real)(int, const char *, int, int))
{
    int rc;

    if (plain(dirfd, path)) {
        rc = real(dirfd, path, mode, flags);
        if (rc == 0 || errno != ENOTDIR || rootlen == 0) {
            return rc;
        }
    }
    return slow_faccessat(dirfd, path, mode, flags, real);
}

/* access() of a path that may name the tree. */
__attribute__((noinline)) static int
slow_faccessat(int dirfd, const char *path, int mode, int flags,
               int (*real)(int, const char *, int, int))
{
    struct vres r;
    int rc = classify(dirfd, &path, &r);

    if (rc < 0) {
        return -1;
    }
    if (rc == 0) {
        rc = real(dirfd, path, mode, flags);
        if (rc == 0 || !retry_relative(dirfd, path, &r)) {
            return rc;
        }
    }
    if (need_node(&r) < 0) {
        return -1;
    }
    if (mode & W_OK) {
        return fail(EROFS);
    }
    if ((mode & X_OK) && r.node.type == INB_VNODE_FILE) {
        return fail(EACCES);
    }
    return 0;
}

VFS_API int
faccessat(int dirfd, const char *path, int mode, int flags)
{
    return do_faccessat(dirfd, path, mode, flags, REAL(faccessat));
}

VFS_API int
access(const char *path, int mode)
{
    return do_faccessat(AT_FDCWD, path, mode, 0, REAL(faccessat));
}

/* euidaccess() as faccessat(AT_EACCESS). */
static int
call_euidaccess(int dirfd, const char *path, int mode, int flags)
{
    (void)dirfd;
    (void)flags;
    return REAL(euidaccess)(path, mode);
}

VFS_API int
euidaccess(const char *path, int mode)
{
    return do_faccessat(AT_FDCWD, path, mode, 0, call_euidaccess);
}

VFS_API int
eaccess(const char *path, int mode)
{
    return do_faccessat(AT_FDCWD, path, mode, 0, call_euidaccess);
}

VFS_API ssize_t
readlinkat(int dirfd, const char *path, char *buf, size_t size)
{
    struct vres r;
    ssize_t n;
    int rc = classify(dirfd, &path, &r);

    if (rc < 0) {
        return -1;
    }
    if (rc == 0) {
        n = REAL(readlinkat)(dirfd, path, buf, size);
        if (n >= 0 || !retry_relative(dirfd, path, &r)) {
            return n;
        }
    }
    if (need_node(&r) < 0) {
        return -1;
    }
    return fail(EINVAL); /* no symbolic links in the tree */
}

VFS_API ssize_t
readlink(const char *path, char *buf, size_t size)
{
    return readlinkat(AT_FDCWD, path, buf, size);
}

/* realpath() in the tree: the normalized path, when it exists. */
static char *
do_realpath(const char *path, char *resolved)
{
    struct vres r;
    const char *orig = path;
    char *out;
    int rc = classify(AT_FDCWD, &path, &r);

    if (rc < 0) {
        return NULL;
    }
    if (rc == 0) {
        out = REAL(realpath)(path, resolved);
        if (out != NULL || !retry_relative(AT_FDCWD, orig, &r)) {
            return out;
        }
    }
    if (need_node(&r) < 0) {
        return NULL;
    }
    if (rootlen + 1 + r.len >= PATH_MAX) {
        errno = ENAMETOOLONG;
        return NULL;
    }
    out = resolved != NULL ? resolved : malloc(rootlen + r.len + 2);
    if (out == NULL) {
        return NULL;
    }
    memcpy(out, root, rootlen);
    if (r.len > 0) {
        out[rootlen] = '/';
        memcpy(out + rootlen + 1, r.rel, r.len);
    }
    out[rootlen + (r.len > 0) + r.len] = '\0';
    return out;
}

VFS_API char *
realpath(const char *path, char *resolved)
{
    return do_realpath(path, resolved);
}

char *__realpath_chk(const char *path, char *resolved, size_t resolvedlen);

VFS_API char *
__realpath_chk(const char *path, char *resolved, size_t resolvedlen)
{
    if (resolved != NULL && resolvedlen < PATH_MAX) {
        abort(); /* what glibc's __chk_fail() does, minus its message */
    }
    return do_realpath(path, resolved);
}

VFS_API char *
canonicalize_file_name(const char *path)
{
    return do_realpath(path, NULL);
}

long
inb_vfs_canonical(const char *path, size_t len, char *out, size_t outsize)
{
    long n;

    if (rootlen == 0 || len < rootlen || memchr(path, '\0', len) != NULL ||
        memcmp(path, root, rootlen) != 0 ||
        (len > rootlen && path[rootlen] != '/') || outsize < rootlen + 2) {
        return -1;
    }
    memcpy(out, root, rootlen);
    out[rootlen] = '/';
    n = inb_vpath_normalize(path + rootlen, len - rootlen, out + rootlen + 1,
                            outsize - rootlen - 1);
    if (n < 0) {
        return -1;
    }
    if (n == 0) {
        out[rootlen] = '\0';
        return (long)rootlen;
    }
    return (long)rootlen + 1 + n;
}

/* Directories */

static int
stream_add(struct vstream *s)
{
    int i;

    for (i = 0; i < NSTREAMS; i++) {
        struct vstream *none = NULL;

        if (__atomic_compare_exchange_n(&streams[i], &none, s, 0,
                                        __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
            __atomic_add_fetch(&nstreams, 1, __ATOMIC_ACQ_REL);
            return 0;
        }
    }
    return fail(EMFILE);
}

/* d as a stream of the tree, or NULL when it is the C library's. */
static struct vstream *
stream_of(DIR *d)
{
    int i;

    if (__atomic_load_n(&nstreams, __ATOMIC_ACQUIRE) == 0 || d == NULL) {
        return NULL;
    }
    for (i = 0; i < NSTREAMS; i++) {
        if (__atomic_load_n(&streams[i], __ATOMIC_ACQUIRE) ==
            (struct vstream *)d) {
            return (struct vstream *)d;
        }
    }
    return NULL;
}

/* A new stream over directory rel[0..len) of the tree, or NULL. */
static DIR *
stream_new(const char *rel, size_t len)
{
    struct vstream *s = calloc(1, sizeof(*s));

    if (s == NULL) {
        return NULL;
    }
    if (inb_vpath_opendir(&s->it, rel, len) < 0 || stream_add(s) < 0) {
        int err =
            inb_vpath_opendir(&s->it, rel, len) < 0 ? ENAMETOOLONG : EMFILE;
        free(s);
        errno = err;
        return NULL;
    }
    s->fd = -1;
    return (DIR *)s;
}

static DIR *slow_opendir(const char *path);

VFS_API DIR *
opendir(const char *path)
{
    DIR *d;

    if (plain(AT_FDCWD, path)) {
        d = REAL(opendir)(path);
        if (d != NULL || errno != ENOTDIR || rootlen == 0) {
            return d;
        }
    }
    return slow_opendir(path);
}

/* opendir() of a path that may name the tree. */
__attribute__((noinline)) static DIR *
slow_opendir(const char *path)
{
    struct vres r;
    DIR *d;
    const char *orig = path;
    int rc = classify(AT_FDCWD, &path, &r);

    if (rc < 0) {
        return NULL;
    }
    if (rc == 0) {
        d = REAL(opendir)(path);
        if (d != NULL || !retry_relative(AT_FDCWD, orig, &r)) {
            return d;
        }
    }
    if (r.node.type == INB_VNODE_NONE) {
        miss(&r);
        return NULL;
    }
    if (r.node.type != INB_VNODE_DIR) {
        errno = ENOTDIR;
        return NULL;
    }
    return stream_new(r.rel, r.len);
}

VFS_API DIR *
fdopendir(int fd)
{
    char rel[1024];
    long len = dirfd_rel(fd, rel);
    struct vstream *s;

    if (len < 0) {
        return REAL(fdopendir)(fd);
    }
    s = (struct vstream *)stream_new(rel, (size_t)len);
    if (s != NULL) {
        s->fd = fd; /* closedir() closes it, as for the C library's */
    }
    return (DIR *)s;
}

/* After the archive's entries of s: the overlay's files there that the
 * archive lacks (not its directories, which the tree does not have). */
static struct dirent64 *
overlay_read(struct vstream *s)
{
    char path[PATH_MAX], rel[1024];
    struct dirent64 *e;
    inb_vnode n;
    size_t len;
    int err = errno;

    if (overlaylen == 0 || s->ophase == 2) {
        return NULL;
    }
    if (s->ophase == 0) {
        s->ophase = 2;
        if (overlaylen + 1 + s->it.len >= sizeof(path)) {
            return NULL;
        }
        memcpy(path, overlay, overlaylen);
        path[overlaylen] = '/';
        memcpy(path + overlaylen + 1, s->it.rel, s->it.len + 1);
        s->odir = REAL(opendir)(path);
        errno = err; /* no overlay directory there: the end */
        if (s->odir == NULL) {
            return NULL;
        }
        s->ophase = 1;
    }
    while ((e = (struct dirent64 *)REAL(readdir)(s->odir)) != NULL) {
        len = s->it.len;
        memcpy(rel, s->it.rel, len);
        if (len > 0) {
            rel[len++] = '/';
        }
        if (e->d_type == DT_DIR || e->d_type == DT_UNKNOWN ||
            len + strlen(e->d_name) >= sizeof(rel)) {
            continue;
        }
        strcpy(rel + len, e->d_name);
        inb_vpath_lookup(archive, rel, strlen(rel), &n);
        if (n.type != INB_VNODE_NONE) {
            continue;
        }
        s->pos++;
        memcpy(&s->ent, e, sizeof(s->ent));
        s->ent.d_off = s->pos;
        return &s->ent;
    }
    REAL(closedir)(s->odir);
    s->odir = NULL;
    s->ophase = 2;
    return NULL;
}

/* The next entry of s, "." and ".." first. */
static struct dirent64 *
stream_read(struct vstream *s)
{
    inb_vnode n;
    const char *name = NULL;

    if (s->pos < 2) {
        name = s->pos == 0 ? "." : "..";
        inb_vpath_lookup(archive, s->it.rel, s->it.len, &n);
        if (s->pos == 1) {
            size_t plen = s->it.len;

            while (plen > 0 && s->it.rel[plen - 1] != '/') {
                plen--;
            }
            inb_vpath_lookup(archive, s->it.rel, plen ? plen - 1 : 0, &n);
        }
        strcpy(s->ent.d_name, name);
    }
    else if (!inb_vpath_readdir(archive, &s->it, s->ent.d_name,
                                sizeof(s->ent.d_name), &n)) {
        return overlay_read(s);
    }
    s->pos++;
    s->ent.d_ino = n.ino;
    s->ent.d_off = s->pos;
    s->ent.d_reclen = sizeof(s->ent);
    s->ent.d_type = n.type == INB_VNODE_DIR ? DT_DIR : DT_REG;
    return &s->ent;
}

VFS_API struct dirent *
readdir(DIR *d)
{
    struct vstream *s = stream_of(d);

    if (s == NULL) {
        return REAL(readdir)(d);
    }
    return (struct dirent *)stream_read(s);
}

VFS_API struct dirent64 *
readdir64(DIR *d)
{
    struct vstream *s = stream_of(d);

    if (s == NULL) {
        return (struct dirent64 *)REAL(readdir)(d);
    }
    return stream_read(s);
}

VFS_API void
rewinddir(DIR *d)
{
    struct vstream *s = stream_of(d);

    if (s == NULL) {
        REAL(rewinddir)(d);
        return;
    }
    inb_vpath_opendir(&s->it, s->it.rel, s->it.len);
    s->pos = 0;
    if (s->odir != NULL) {
        REAL(closedir)(s->odir);
        s->odir = NULL;
    }
    s->ophase = 0;
}

VFS_API long
telldir(DIR *d)
{
    struct vstream *s = stream_of(d);

    return s == NULL ? REAL(telldir)(d) : s->pos;
}

VFS_API void
seekdir(DIR *d, long pos)
{
    struct vstream *s = stream_of(d);

    if (s == NULL) {
        REAL(seekdir)(d, pos);
        return;
    }
    rewinddir(d);
    while (s->pos < pos && stream_read(s) != NULL) {
    }
}

VFS_API int
dirfd(DIR *d)
{
    struct vstream *s = stream_of(d);
    struct vres r;

    if (s == NULL) {
        return REAL(dirfd)(d);
    }
    if (s->fd < 0) {
        memcpy(r.rel, s->it.rel, s->it.len + 1);
        r.len = s->it.len;
        s->fd = dir_descriptor(&r, 1);
    }
    return s->fd;
}

VFS_API int
closedir(DIR *d)
{
    struct vstream *s = stream_of(d);
    int i;

    if (s == NULL) {
        return REAL(closedir)(d);
    }
    for (i = 0; i < NSTREAMS; i++) {
        struct vstream *want = s;

        if (__atomic_compare_exchange_n(&streams[i], &want, NULL, 0,
                                        __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
            __atomic_sub_fetch(&nstreams, 1, __ATOMIC_ACQ_REL);
            break;
        }
    }
    if (s->fd >= 0) {
        close(s->fd);
    }
    if (s->odir != NULL) {
        REAL(closedir)(s->odir);
    }
    free(s);
    return 0;
}

typedef int (*scandir_filter)(const struct dirent *);
typedef int (*scandir_compar)(const struct dirent **, const struct dirent **);

static int
do_scandir(const char *path, struct dirent ***list, scandir_filter filter,
           scandir_compar compar)
{
    struct vres r;
    struct dirent **out = NULL, **grown, *e, *copy;
    size_t n = 0, cap = 0;
    DIR *d;
    const char *orig = path;
    int rc = classify(AT_FDCWD, &path, &r);

    if (rc < 0) {
        return -1;
    }
    if (rc == 0) {
        rc = REAL(scandir)(path, list, filter, compar);
        if (rc >= 0 || !retry_relative(AT_FDCWD, orig, &r)) {
            return rc;
        }
    }
    if (r.node.type != INB_VNODE_DIR) {
        return r.node.type == INB_VNODE_NONE ? miss(&r) : fail(ENOTDIR);
    }
    d = stream_new(r.rel, r.len);
    if (d == NULL) {
        return -1;
    }
    while ((e = readdir(d)) != NULL) {
        if (filter != NULL && !filter(e)) {
            continue;
        }
        if (n == cap) {
            cap = cap ? 2 * cap : 16;
            grown = realloc(out, cap * sizeof(*out));
            if (grown == NULL) {
                goto nomem;
            }
            out = grown;
        }
        copy = malloc(sizeof(*copy));
        if (copy == NULL) {
            goto nomem;
        }
        memcpy(copy, e, sizeof(*copy));
        out[n++] = copy;
    }
    closedir(d);
    if (compar != NULL && n > 1) {
        qsort(out, n, sizeof(*out),
              (int (*)(const void *, const void *))compar);
    }
    *list = out;
    return (int)n;
nomem:
    while (n > 0) {
        free(out[--n]);
    }
    free(out);
    closedir(d);
    return fail(ENOMEM);
}

VFS_API int
scandir(const char *path, struct dirent ***list, scandir_filter filter,
        scandir_compar compar)
{
    return do_scandir(path, list, filter, compar);
}

VFS_API int
scandir64(const char *path, struct dirent64 ***list,
          int (*filter)(const struct dirent64 *),
          int (*compar)(const struct dirent64 **, const struct dirent64 **))
{
    return do_scandir(path, (struct dirent ***)list, (scandir_filter)filter,
                      (scandir_compar)compar);
}

/* Writes: EROFS in the tree (ENOENT when what they change is missing). */

/* Whether (dirfd, path) names the tree, then *rc is what the call
 * returns: EROFS, or the miss for one that needs path to exist. */
static int
write_denied(int dirfd, const char *path, int must_exist, int *rc)
{
    struct vres r;
    int c = classify(dirfd, &path, &r);

    if (c < 0) {
        *rc = -1;
        return 1;
    }
    if (c == 0) {
        return 0;
    }
    if (must_exist && r.node.type == INB_VNODE_NONE) {
        *rc = miss(&r);
    }
    else {
        *rc = read_only(&r);
    }
    return 1;
}

/* What write call rc (its result) gives: when the C library answered
 * ENOTDIR for a path that names the tree after all (relative through the
 * executable, or through a symbolic link to it), the tree's answer. */
static int
write_result(int rc, int dirfd, const char *path, int must_exist)
{
    struct vres r;

    if (rc >= 0 || errno != ENOTDIR || !retry_relative(dirfd, path, &r)) {
        return rc;
    }
    if (r.node.type != INB_VNODE_NONE && must_exist == 2) {
        return fail(EEXIST); /* mkdir */
    }
    if (must_exist == 1 && r.node.type == INB_VNODE_NONE) {
        return miss(&r);
    }
    return read_only(&r);
}

#define DENY(dirfd, path, must_exist)                             \
    do {                                                          \
        int denied_rc_;                                           \
        if (write_denied(dirfd, path, must_exist, &denied_rc_)) { \
            return denied_rc_;                                    \
        }                                                         \
    } while (0)

VFS_API int
mkdirat(int dirfd, const char *path, mode_t mode)
{
    struct vres r;
    const char *p = path;

    if (classify(dirfd, &p, &r) == 1 && r.node.type != INB_VNODE_NONE) {
        return fail(EEXIST);
    }
    DENY(dirfd, path, 0);
    return write_result(REAL(mkdirat)(dirfd, path, mode), dirfd, path, 2);
}

VFS_API int
mkdir(const char *path, mode_t mode)
{
    return mkdirat(AT_FDCWD, path, mode);
}

VFS_API int
unlinkat(int dirfd, const char *path, int flags)
{
    DENY(dirfd, path, 1);
    return write_result(REAL(unlinkat)(dirfd, path, flags), dirfd, path, 1);
}

VFS_API int
unlink(const char *path)
{
    return unlinkat(AT_FDCWD, path, 0);
}

VFS_API int
rmdir(const char *path)
{
    return unlinkat(AT_FDCWD, path, AT_REMOVEDIR);
}

VFS_API int
renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath,
          unsigned int flags)
{
    DENY(olddirfd, oldpath, 1);
    DENY(newdirfd, newpath, 0);
    return write_result(write_result(REAL(renameat2)(olddirfd, oldpath,
                                                     newdirfd, newpath, flags),
                                     olddirfd, oldpath, 1),
                        newdirfd, newpath, 0);
}

VFS_API int
renameat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath)
{
    return renameat2(olddirfd, oldpath, newdirfd, newpath, 0);
}

VFS_API int
rename(const char *oldpath, const char *newpath)
{
    return renameat2(AT_FDCWD, oldpath, AT_FDCWD, newpath, 0);
}

VFS_API int
linkat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath,
       int flags)
{
    DENY(newdirfd, newpath, 0);
    return REAL(linkat)(olddirfd, oldpath, newdirfd, newpath, flags);
}

VFS_API int
link(const char *oldpath, const char *newpath)
{
    return linkat(AT_FDCWD, oldpath, AT_FDCWD, newpath, 0);
}

VFS_API int
symlinkat(const char *target, int dirfd, const char *path)
{
    DENY(dirfd, path, 0);
    return write_result(REAL(symlinkat)(target, dirfd, path), dirfd, path, 0);
}

VFS_API int
symlink(const char *target, const char *path)
{
    return symlinkat(target, AT_FDCWD, path);
}

VFS_API int
fchmodat(int dirfd, const char *path, mode_t mode, int flags)
{
    DENY(dirfd, path, 1);
    return write_result(REAL(fchmodat)(dirfd, path, mode, flags), dirfd, path,
                        1);
}

VFS_API int
chmod(const char *path, mode_t mode)
{
    return fchmodat(AT_FDCWD, path, mode, 0);
}

VFS_API int
fchownat(int dirfd, const char *path, uid_t uid, gid_t gid, int flags)
{
    DENY(dirfd, path, 1);
    return write_result(REAL(fchownat)(dirfd, path, uid, gid, flags), dirfd,
                        path, 1);
}

VFS_API int
chown(const char *path, uid_t uid, gid_t gid)
{
    return fchownat(AT_FDCWD, path, uid, gid, 0);
}

VFS_API int
lchown(const char *path, uid_t uid, gid_t gid)
{
    return fchownat(AT_FDCWD, path, uid, gid, AT_SYMLINK_NOFOLLOW);
}

VFS_API int
truncate(const char *path, off_t length)
{
    DENY(AT_FDCWD, path, 1);
    return write_result(REAL(truncate)(path, length), AT_FDCWD, path, 1);
}

VFS_API int
truncate64(const char *path, off64_t length)
{
    return truncate(path, (off_t)length);
}

VFS_API int
mknodat(int dirfd, const char *path, mode_t mode, dev_t dev)
{
    DENY(dirfd, path, 0);
    return REAL(mknodat)(dirfd, path, mode, dev);
}

VFS_API int
mknod(const char *path, mode_t mode, dev_t dev)
{
    return mknodat(AT_FDCWD, path, mode, dev);
}

VFS_API int
mkfifoat(int dirfd, const char *path, mode_t mode)
{
    DENY(dirfd, path, 0);
    return REAL(mknodat)(dirfd, path, (mode & 07777) | S_IFIFO, 0);
}

VFS_API int
mkfifo(const char *path, mode_t mode)
{
    return mkfifoat(AT_FDCWD, path, mode);
}

VFS_API int
utimensat(int dirfd, const char *path, const struct timespec times[2],
          int flags)
{
    if (!null_path(path)) {
        DENY(dirfd, path, 1);
    }
    return REAL(utimensat)(dirfd, path, times, flags);
}

VFS_API int
utimes(const char *path, const struct timeval times[2])
{
    DENY(AT_FDCWD, path, 1);
    return REAL(utimes)(path, times);
}

/* Extended attributes: the tree has none (shutil.copy2() asks). */

/* listxattr() and getxattr() in the tree: 1 with *rc set, 0 when the C
 * library answers. */
static int
no_xattrs(const char *path, ssize_t empty, ssize_t *rc)
{
    struct vres r;
    int c = classify(AT_FDCWD, &path, &r);

    if (c == 0) {
        return 0;
    }
    *rc = c < 0 || need_node(&r) < 0 ? -1 : empty;
    return 1;
}

VFS_API ssize_t
listxattr(const char *path, char *list, size_t size)
{
    ssize_t rc;

    if (!plain(AT_FDCWD, path) && no_xattrs(path, 0, &rc)) {
        return rc;
    }
    return REAL(listxattr)(path, list, size);
}

VFS_API ssize_t
llistxattr(const char *path, char *list, size_t size)
{
    ssize_t rc;

    if (!plain(AT_FDCWD, path) && no_xattrs(path, 0, &rc)) {
        return rc;
    }
    return REAL(llistxattr)(path, list, size);
}

VFS_API ssize_t
getxattr(const char *path, const char *name, void *value, size_t size)
{
    ssize_t rc;

    if (!plain(AT_FDCWD, path) && no_xattrs(path, -1, &rc)) {
        if (rc == -1 && errno != ENOENT && errno != ENOTDIR) {
            errno = ENODATA;
        }
        return rc;
    }
    return REAL(getxattr)(path, name, value, size);
}

VFS_API ssize_t
lgetxattr(const char *path, const char *name, void *value, size_t size)
{
    ssize_t rc;

    if (!plain(AT_FDCWD, path) && no_xattrs(path, -1, &rc)) {
        if (rc == -1 && errno != ENOENT && errno != ENOTDIR) {
            errno = ENODATA;
        }
        return rc;
    }
    return REAL(lgetxattr)(path, name, value, size);
}

VFS_API int
setxattr(const char *path, const char *name, const void *value, size_t size,
         int flags)
{
    DENY(AT_FDCWD, path, 1);
    return REAL(setxattr)(path, name, value, size, flags);
}

VFS_API int
lsetxattr(const char *path, const char *name, const void *value, size_t size,
          int flags)
{
    DENY(AT_FDCWD, path, 1);
    return REAL(lsetxattr)(path, name, value, size, flags);
}

VFS_API int
removexattr(const char *path, const char *name)
{
    DENY(AT_FDCWD, path, 1);
    return REAL(removexattr)(path, name);
}

VFS_API int
lremovexattr(const char *path, const char *name)
{
    DENY(AT_FDCWD, path, 1);
    return REAL(lremovexattr)(path, name);
}

/* Patterns and walks: glob(3) and nftw(3) call the C library's internal
 * opendir and stat, which no wrapper sees; these definitions replace the
 * public entry points. */

static void *
glob_opendir(const char *path)
{
    return opendir(path);
}

static struct dirent *
glob_readdir(void *d)
{
    return readdir(d);
}

static void
glob_closedir(void *d)
{
    closedir(d);
}

/* glob(): the C library's, with this layer's directory and stat functions
 * (GLOB_ALTDIRFUNC) unless the caller gave its own.  gl_flags reads as the
 * caller's flags afterwards. */
static int
do_glob(const char *pattern, int flags, int (*errfunc)(const char *, int),
        glob_t *g)
{
    int rc;

    if (rootlen == 0 || (flags & GLOB_ALTDIRFUNC) || g == NULL) {
        return REAL(glob)(pattern, flags, errfunc, g);
    }
    g->gl_opendir = glob_opendir;
    g->gl_readdir = glob_readdir;
    g->gl_closedir = glob_closedir;
    g->gl_stat = stat;
    g->gl_lstat = lstat;
    rc = REAL(glob)(pattern, flags | GLOB_ALTDIRFUNC, errfunc, g);
    g->gl_flags &= ~GLOB_ALTDIRFUNC;
    return rc;
}

VFS_API int
glob(const char *pattern, int flags, int (*errfunc)(const char *, int),
     glob_t *g)
{
    return do_glob(pattern, flags, errfunc, g);
}

VFS_API int
glob64(const char *pattern, int flags, int (*errfunc)(const char *, int),
       glob64_t *g)
{
    return do_glob(pattern, flags, errfunc, (glob_t *)g);
}

typedef int (*nftw_fn)(const char *, const struct stat *, int, struct FTW *);
typedef int (*ftw_fn)(const char *, const struct stat *, int);

/* A walk of the tree, as nftw() makes it on a directory of the disk:
 * path as the caller spelled it (trailing slashes dropped), children
 * appended with '/', each directory's entries in the archive's order. */
struct walk {
    char path[PATH_MAX];
    char rel[1024]; /* the same node, relative to the root, normalized */
    int flags;
    nftw_fn nfn; /* one of the two is set */
    ftw_fn ffn;
};

static int
walk_call(struct walk *w, const inb_vnode *n, int flag, struct FTW *ftw)
{
    struct stat st;

    fill_stat(n, &st);
    if (w->ffn != NULL) {
        return w->ffn(w->path, &st, flag == FTW_DP ? FTW_D : flag);
    }
    return w->nfn(w->path, &st, flag, ftw);
}

/* Walk directory n, at w->path[0..len) and w->rel[0..rlen).  Returns 0,
 * the callback's value that ended the walk, or -1 with errno. */
static int
walk_dir(struct walk *w, size_t len, size_t rlen, const inb_vnode *n,
         struct FTW *ftw)
{
    int actions = (w->flags & FTW_ACTIONRETVAL) != 0;
    int base = ftw->base, rc = 0;
    size_t nlen, clen, crlen;
    inb_vnode child;
    inb_vdir d;
    char name[256];

    if (!(w->flags & FTW_DEPTH)) {
        rc = walk_call(w, n, FTW_D, ftw);
        if (rc != 0) {
            return rc;
        }
    }
    if (inb_vpath_opendir(&d, w->rel, rlen) < 0) {
        return fail(ENAMETOOLONG);
    }
    ftw->level++;
    ftw->base = (int)len + 1;
    while (inb_vpath_readdir(archive, &d, name, sizeof(name), &child)) {
        nlen = strlen(name);
        clen = len + 1 + nlen;
        crlen = rlen + (rlen > 0) + nlen;
        if (clen >= sizeof(w->path) || crlen >= sizeof(w->rel)) {
            rc = fail(ENAMETOOLONG);
            break;
        }
        w->path[len] = '/';
        memcpy(w->path + len + 1, name, nlen + 1);
        if (rlen > 0) {
            w->rel[rlen] = '/';
        }
        memcpy(w->rel + crlen - nlen, name, nlen + 1);
        rc = child.type == INB_VNODE_DIR
                 ? walk_dir(w, clen, crlen, &child, ftw)
                 : walk_call(w, &child, FTW_F, ftw);
        if (actions && rc == FTW_SKIP_SUBTREE) {
            rc = 0;
        }
        if (rc != 0) {
            break;
        }
    }
    if (actions && rc == FTW_SKIP_SIBLINGS) {
        rc = 0;
    }
    w->path[len] = '\0';
    w->rel[rlen] = '\0';
    ftw->level--;
    ftw->base = base;
    if (rc == 0 && (w->flags & FTW_DEPTH)) {
        rc = walk_call(w, n, FTW_DP, ftw);
    }
    return rc;
}

/* nftw() (nfn) or ftw() (ffn) of path. */
static int
do_nftw(const char *path, nftw_fn nfn, ftw_fn ffn, int nopen, int flags)
{
    struct walk w;
    struct FTW info;
    struct stat st;
    struct vres r;
    const char *p = path;
    size_t len;
    int rc = path != NULL && path[0] != '\0' && rootlen != 0
                 ? classify(AT_FDCWD, &p, &r)
                 : 0;

    if (rc < 0) {
        return -1;
    }
    if (rc == 0) {
        rc = ffn != NULL ? REAL(ftw)(p, ffn, nopen)
                         : REAL(nftw)(p, nfn, nopen, flags);
        /* The start itself through the executable: the C library stops
         * with ENOTDIR before calling back. */
        if (rc != -1 || errno != ENOTDIR ||
            REAL(fstatat)(AT_FDCWD, path, &st, 0) == 0 ||
            !retry_relative(AT_FDCWD, path, &r)) {
            return rc;
        }
    }
    if (need_node(&r) < 0) {
        return -1;
    }
    if (flags & FTW_CHDIR) {
        return fail(EOPNOTSUPP); /* as chdir() into the tree */
    }
    len = strlen(path);
    while (len > 1 && path[len - 1] == '/') {
        len--;
    }
    if (len >= sizeof(w.path) || r.len >= sizeof(w.rel)) {
        return fail(ENAMETOOLONG);
    }
    memcpy(w.path, path, len);
    w.path[len] = '\0';
    memcpy(w.rel, r.rel, r.len);
    w.rel[r.len] = '\0';
    w.flags = ffn != NULL ? 0 : flags;
    w.nfn = nfn;
    w.ffn = ffn;
    info.level = 0;
    info.base = (int)len;
    while (info.base > 0 && w.path[info.base - 1] != '/') {
        info.base--;
    }
    rc = r.node.type == INB_VNODE_DIR
             ? walk_dir(&w, len, r.len, &r.node, &info)
             : walk_call(&w, &r.node, FTW_F, &info);
    if ((w.flags & FTW_ACTIONRETVAL) &&
        (rc == FTW_SKIP_SUBTREE || rc == FTW_SKIP_SIBLINGS)) {
        rc = 0;
    }
    return rc;
}

VFS_API int
nftw(const char *path, nftw_fn fn, int nopen, int flags)
{
    if (flags &
        ~(FTW_PHYS | FTW_MOUNT | FTW_CHDIR | FTW_DEPTH | FTW_ACTIONRETVAL)) {
        return fail(EINVAL);
    }
    return do_nftw(path, fn, NULL, nopen, flags);
}

VFS_API int
nftw64(const char *path,
       int (*fn)(const char *, const struct stat64 *, int, struct FTW *),
       int nopen, int flags)
{
    return nftw(path, (nftw_fn)fn, nopen, flags);
}

VFS_API int
ftw(const char *path, ftw_fn fn, int nopen)
{
    return do_nftw(path, NULL, fn, nopen, 0);
}

VFS_API int
ftw64(const char *path, int (*fn)(const char *, const struct stat64 *, int),
      int nopen)
{
    return do_nftw(path, NULL, (ftw_fn)fn, nopen, 0);
}

/* Filesystem statistics: the tree is a read-only filesystem of its own,
 * as many blocks as the archive, none free. */

/* The node that (fd or path) names in the tree: 1 with *r filled, 0 when
 * the C library answers, -1 with errno. */
static int
fs_node(int fd, const char *path, struct vres *r)
{
    long len;

    if (path == NULL) {
        len = dirfd_rel(fd, r->rel);
        if (len < 0) {
            return 0;
        }
        r->len = (size_t)len;
        r->slash = 0;
        inb_vpath_lookup(archive, r->rel, r->len, &r->node);
        return 1;
    }
    if (plain(AT_FDCWD, path)) {
        return 0;
    }
    len = classify(AT_FDCWD, &path, r);
    return len == 1 ? (need_node(r) < 0 ? -1 : 1) : (int)len;
}

static void
fill_statvfs(struct statvfs *sv)
{
    memset(sv, 0, sizeof(*sv));
    sv->f_bsize = sv->f_frsize = 4096;
    sv->f_blocks = (fsblkcnt_t)((archive->size + 4095) / 4096);
    sv->f_files = archive->count;
    sv->f_fsid = INB_VFS_DEV;
    sv->f_flag = ST_RDONLY | ST_NOSUID | ST_NODEV;
    sv->f_namemax = 255;
}

static void
fill_statfs(struct statfs *sf)
{
    memset(sf, 0, sizeof(*sf));
    sf->f_type = INB_VFS_MAGIC;
    sf->f_bsize = sf->f_frsize = 4096;
    sf->f_blocks = (fsblkcnt_t)((archive->size + 4095) / 4096);
    sf->f_files = archive->count;
    memcpy(&sf->f_fsid, &(uint64_t){INB_VFS_DEV}, sizeof(sf->f_fsid));
    sf->f_flags = ST_RDONLY | ST_NOSUID | ST_NODEV;
    sf->f_namelen = 255;
}

/* One statvfs-like entry point: fd or path, the C library's call, the
 * filler. */
#define FS_STATS(fd, path, buf, real_call, filler)      \
    do {                                                \
        struct vres r_;                                 \
        int rc_ = fs_node(fd, path, &r_);               \
        if (rc_ == 0) {                                 \
            rc_ = real_call;                            \
            if (rc_ == 0 || null_path(path) ||          \
                !retry_relative(AT_FDCWD, path, &r_)) { \
                return rc_;                             \
            }                                           \
            if (need_node(&r_) < 0) {                   \
                return -1;                              \
            }                                           \
        }                                               \
        else if (rc_ < 0) {                             \
            return -1;                                  \
        }                                               \
        filler(buf);                                    \
        return 0;                                       \
    } while (0)

VFS_API int
statvfs(const char *path, struct statvfs *sv)
{
    FS_STATS(-1, path, sv, REAL(statvfs)(path, sv), fill_statvfs);
}

VFS_API int
statvfs64(const char *path, struct statvfs64 *sv)
{
    return statvfs(path, (struct statvfs *)sv);
}

VFS_API int
fstatvfs(int fd, struct statvfs *sv)
{
    FS_STATS(fd, NULL, sv, REAL(fstatvfs)(fd, sv), fill_statvfs);
}

VFS_API int
fstatvfs64(int fd, struct statvfs64 *sv)
{
    return fstatvfs(fd, (struct statvfs *)sv);
}

VFS_API int
statfs(const char *path, struct statfs *sf)
{
    FS_STATS(-1, path, sf, REAL(statfs)(path, sf), fill_statfs);
}

VFS_API int
statfs64(const char *path, struct statfs64 *sf)
{
    return statfs(path, (struct statfs *)sf);
}

VFS_API int
fstatfs(int fd, struct statfs *sf)
{
    FS_STATS(fd, NULL, sf, REAL(fstatfs)(fd, sf), fill_statfs);
}

VFS_API int
fstatfs64(int fd, struct statfs64 *sf)
{
    return fstatfs(fd, (struct statfs *)sf);
}

/* Running a program of the tree: its files are 0444, so the kernel would
 * say EACCES (ENOENT or ENOTDIR for a miss), as these do from memory; the
 * executable itself runs.  No allocation: fork()'s child calls these. */

/* Whether (dirfd, path) is in the tree and not the executable: then
 * returns the errno to fail with; 0 when the C library runs it. */
static int
exec_denied(int dirfd, const char *path)
{
    struct vres r;
    int rc;

    if (plain(dirfd, path)) {
        return 0;
    }
    rc = classify(dirfd, &path, &r);
    if (rc <= 0) {
        return rc < 0 ? errno : 0;
    }
    if (r.len == 0 && !r.slash) {
        return 0;
    }
    return need_node(&r) < 0 ? errno : EACCES;
}

/* After the kernel's ENOTDIR: what running path gives in the tree (a
 * relative path through the executable, a symbolic link to it). */
static int
exec_result(int rc, const char *path)
{
    struct vres r;

    if (rc >= 0 || errno != ENOTDIR || !retry_relative(AT_FDCWD, path, &r)) {
        return rc;
    }
    return need_node(&r) < 0 ? -1 : fail(EACCES);
}

VFS_API int
execve(const char *path, char *const argv[], char *const envp[])
{
    int err = exec_denied(AT_FDCWD, path);

    if (err != 0) {
        return fail(err);
    }
    return exec_result(REAL(execve)(path, argv, envp), path);
}

VFS_API int
execv(const char *path, char *const argv[])
{
    return execve(path, argv, environ);
}

VFS_API int
execveat(int dirfd, const char *path, char *const argv[], char *const envp[],
         int flags)
{
    int err =
        !null_path(path) && path[0] == '\0' ? 0 : exec_denied(dirfd, path);

    if (err != 0) {
        return fail(err);
    }
    return REAL(execveat)(dirfd, path, argv, envp, flags);
}

/* execvp() and execvpe() search PATH only for a name without '/'. */
VFS_API int
execvpe(const char *file, char *const argv[], char *const envp[])
{
    int err = !null_path(file) && strchr(file, '/') != NULL
                  ? exec_denied(AT_FDCWD, file)
                  : 0;

    if (err != 0) {
        return fail(err);
    }
    return exec_result(REAL(execvpe)(file, argv, envp), file);
}

VFS_API int
execvp(const char *file, char *const argv[])
{
    return execvpe(file, argv, environ);
}

/* The arguments of execl(), execle() and execlp(), on the stack. */
#define EXECL_ARGV(arg, argv, envp, with_env)            \
    va_list va_;                                         \
    size_t n_ = 1;                                       \
    va_start(va_, arg);                                  \
    while (va_arg(va_, char *) != NULL) {                \
        n_++;                                            \
    }                                                    \
    va_end(va_);                                         \
    char *argv[n_ + 1];                                  \
    char *const *envp = environ;                         \
    argv[0] = (char *)(arg);                             \
    va_start(va_, arg);                                  \
    for (size_t i_ = 1; i_ <= n_; i_++) {                \
        argv[i_] = i_ < n_ ? va_arg(va_, char *) : NULL; \
    }                                                    \
    if (with_env) {                                      \
        (void)va_arg(va_, char *);                       \
        envp = va_arg(va_, char *const *);               \
    }                                                    \
    va_end(va_);

VFS_API int
execl(const char *path, const char *arg, ...)
{
    EXECL_ARGV(arg, argv, envp, 0);
    return execve(path, argv, envp);
}

VFS_API int
execle(const char *path, const char *arg, ...)
{
    EXECL_ARGV(arg, argv, envp, 1);
    return execve(path, argv, envp);
}

VFS_API int
execlp(const char *file, const char *arg, ...)
{
    EXECL_ARGV(arg, argv, envp, 0);
    return execvpe(file, argv, envp);
}

/* exec_result() for posix_spawn(), which returns the error number. */
static int
spawn_result(int err, const char *path)
{
    int saved = errno, rc;

    if (err != ENOTDIR) {
        return err;
    }
    errno = err;
    rc = exec_result(-1, path) < 0 ? errno : 0;
    errno = saved;
    return rc;
}

VFS_API int
posix_spawn(pid_t *pid, const char *path,
            const posix_spawn_file_actions_t *actions,
            const posix_spawnattr_t *attr, char *const argv[],
            char *const envp[])
{
    int err = exec_denied(AT_FDCWD, path);

    if (err != 0) {
        return err;
    }
    return spawn_result(
        REAL(posix_spawn)(pid, path, actions, attr, argv, envp), path);
}

VFS_API int
posix_spawnp(pid_t *pid, const char *file,
             const posix_spawn_file_actions_t *actions,
             const posix_spawnattr_t *attr, char *const argv[],
             char *const envp[])
{
    int err = !null_path(file) && strchr(file, '/') != NULL
                  ? exec_denied(AT_FDCWD, file)
                  : 0;

    if (err != 0) {
        return err;
    }
    err = REAL(posix_spawnp)(pid, file, actions, attr, argv, envp);
    return !null_path(file) && strchr(file, '/') != NULL
               ? spawn_result(err, file)
               : err;
}

/* The working directory cannot be in the tree: the kernel resolves
 * relative paths from it. */
VFS_API int
chdir(const char *path)
{
    struct vres r;
    int rc = classify(AT_FDCWD, &path, &r);

    if (rc < 0) {
        return -1;
    }
    if (rc == 0) {
        rc = REAL(chdir)(path);
        if (rc == 0 || !retry_relative(AT_FDCWD, path, &r)) {
            return rc;
        }
    }
    if (need_node(&r) < 0) {
        return -1;
    }
    return fail(r.node.type == INB_VNODE_DIR ? ENOTSUP : ENOTDIR);
}

VFS_API int
fchdir(int fd)
{
    if (dirfd_find(fd) != NULL) {
        return fail(ENOTSUP);
    }
    return REAL(fchdir)(fd);
}

/* dlopen() of a shared object of the tree (an extension module's .so, a
 * package's own library) loads it from memory, through memso.c. */
VFS_API void *
dlopen(const char *path, int flags)
{
    struct vres r;
    const char *p = path;
    char loadable[PATH_MAX + 64], err[512];
    inb_entry e;
    int rc;

    void *h;
    int fd;

    if (path == NULL || path[0] != '/' || !under_root(path) ||
        classify(AT_FDCWD, &p, &r) != 1) {
        return REAL(dlopen)(path, flags);
    }
    if (r.over) {
        return REAL(dlopen)(r.opath, flags);
    }
    if (!inb_vpath_shared_object(archive, r.rel, r.len, &e)) {
        /* Another file of the tree: the dynamic loader reads its bytes
         * from a memory file (and says what it says of them). */
        if (r.node.type != INB_VNODE_FILE || r.slash ||
            (fd = vopen(&r, O_RDONLY | O_CLOEXEC)) < 0) {
            return REAL(dlopen)(path, flags);
        }
        snprintf(loadable, sizeof(loadable), "/proc/self/fd/%d", fd);
        h = REAL(dlopen)(loadable, flags);
        REAL(close)(fd);
        return h;
    }
    pthread_mutex_lock(&dlopen_lock);
    rc = inb_memso_prepare(archive, &e, loadable, sizeof(loadable), err,
                           sizeof(err));
    pthread_mutex_unlock(&dlopen_lock);
    if (rc < 0) {
        /* Let the dynamic loader say what it says of the path. */
        return REAL(dlopen)(path, flags);
    }
    return REAL(dlopen)(loadable, flags);
}
