/* inode.h: the inodes one mount has told the kernel about, each naming its
 * file by a path relative to the backing directory. */
#ifndef MDSFS_INODE_H
#define MDSFS_INODE_H

#ifndef FUSE_USE_VERSION
#define FUSE_USE_VERSION 35 /* the API of libfuse 3.5 and later */
#endif
#include <fuse_lowlevel.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/stat.h>

/* One backing file known to the kernel; its address is its FUSE inode id. */
struct inode {
    struct inode *next; /* hash chain */
    dev_t dev;          /* identity in the backing filesystem */
    ino_t ino;
    uint64_t nlookup; /* lookups not yet forgotten by the kernel */
    char path[];      /* relative to the backing directory; "." is root */
};

/* The inodes of one mount, keyed by backing (st_dev, st_ino). */
struct inode_table {
    pthread_mutex_t lock;
    struct inode **buckets;
    size_t nbuckets, count;
    struct inode *root; /* FUSE_ROOT_ID; never forgotten */
};

/* Set up t with its root inode.  Returns 0, or an errno value. */
int inode_table_init(struct inode_table *t);
/* Free every inode of t. */
void inode_table_fini(struct inode_table *t);
/* The inode whose FUSE id is id (borrowed; valid until forgotten). */
struct inode *inode_table_get(struct inode_table *t, fuse_ino_t id);
/* The FUSE id of in. */
fuse_ino_t inode_id(struct inode_table *t, struct inode *in);
/* Count one lookup of the file st found at path: the known inode of that
 * file, or a new one.  Returns it (borrowed), or NULL when out of memory. */
struct inode *inode_table_ref(struct inode_table *t, const struct stat *st,
                              const char *path);
/* Drop n lookups of in, freeing it when none remain. */
void inode_table_forget(struct inode_table *t, struct inode *in, uint64_t n);

#endif
