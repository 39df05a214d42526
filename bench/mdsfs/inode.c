/* inode.c: the inodes one mount has told the kernel about.
 *
 * The low-level FUSE API names files by 64-bit inode ids that the
 * filesystem picks and the kernel holds until it sends FORGET.  Here an id
 * is the address of a struct inode (the root is FUSE_ROOT_ID), which records
 * a path relative to the backing directory: the backing tree is read-only,
 * so the path found at the first lookup stays valid and every operation is a
 * single *at() call on the backing directory, with no file descriptor held
 * per inode (a numpy import touches thousands of files on each of many
 * mounts).  The table is keyed by the backing (st_dev, st_ino) so that one
 * file reached twice keeps one id, as the kernel expects.
 */
#include "inode.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static struct inode *
inode_new(const struct stat *st, const char *path)
{
    size_t len = strlen(path);
    struct inode *in = malloc(sizeof(*in) + len + 1);

    if (in == NULL) {
        return NULL;
    }
    in->next = NULL;
    in->dev = st->st_dev;
    in->ino = st->st_ino;
    in->nlookup = 0;
    memcpy(in->path, path, len + 1);
    return in;
}

static size_t
bucket_of(const struct inode_table *t, dev_t dev, ino_t ino)
{
    uint64_t h = (uint64_t)ino * 0x9e3779b97f4a7c15u ^ (uint64_t)dev;

    return (size_t)(h ^ (h >> 29)) & (t->nbuckets - 1);
}

int
inode_table_init(struct inode_table *t)
{
    struct stat st;
    int err;

    memset(&st, 0, sizeof(st));
    t->nbuckets = 1024;
    t->count = 0;
    t->buckets = calloc(t->nbuckets, sizeof(*t->buckets));
    t->root = inode_new(&st, ".");
    if (t->buckets == NULL || t->root == NULL) {
        free(t->buckets);
        free(t->root);
        return ENOMEM;
    }
    err = pthread_mutex_init(&t->lock, NULL);
    if (err != 0) {
        free(t->buckets);
        free(t->root);
    }
    return err;
}

void
inode_table_fini(struct inode_table *t)
{
    struct inode *in, *next;
    size_t i;

    for (i = 0; i < t->nbuckets; i++) {
        for (in = t->buckets[i]; in != NULL; in = next) {
            next = in->next;
            free(in);
        }
    }
    free(t->buckets);
    free(t->root);
    pthread_mutex_destroy(&t->lock);
}

struct inode *
inode_table_get(struct inode_table *t, fuse_ino_t id)
{
    if (id == FUSE_ROOT_ID) {
        return t->root;
    }
    return (struct inode *)(uintptr_t)id;
}

fuse_ino_t
inode_id(struct inode_table *t, struct inode *in)
{
    if (in == t->root) {
        return FUSE_ROOT_ID;
    }
    return (fuse_ino_t)(uintptr_t)in;
}

/* Double the bucket array when the table is twice as full as it is wide;
 * when that allocation fails the chains just grow longer.  Called with
 * t->lock held. */
static void
grow_locked(struct inode_table *t)
{
    struct inode **old = t->buckets, *in, *next;
    size_t oldn = t->nbuckets, i, b;

    if (t->count < 2 * t->nbuckets) {
        return;
    }
    t->buckets = calloc(2 * oldn, sizeof(*t->buckets));
    if (t->buckets == NULL) {
        t->buckets = old;
        return;
    }
    t->nbuckets = 2 * oldn;
    for (i = 0; i < oldn; i++) {
        for (in = old[i]; in != NULL; in = next) {
            next = in->next;
            b = bucket_of(t, in->dev, in->ino);
            in->next = t->buckets[b];
            t->buckets[b] = in;
        }
    }
    free(old);
}

struct inode *
inode_table_ref(struct inode_table *t, const struct stat *st, const char *path)
{
    struct inode *in;
    size_t b;

    pthread_mutex_lock(&t->lock);
    b = bucket_of(t, st->st_dev, st->st_ino);
    for (in = t->buckets[b]; in != NULL; in = in->next) {
        if (in->dev == st->st_dev && in->ino == st->st_ino) {
            break;
        }
    }
    if (in == NULL) {
        in = inode_new(st, path);
        if (in == NULL) {
            pthread_mutex_unlock(&t->lock);
            return NULL;
        }
        in->next = t->buckets[b];
        t->buckets[b] = in;
        t->count++;
        grow_locked(t);
    }
    in->nlookup++;
    pthread_mutex_unlock(&t->lock);
    return in;
}

void
inode_table_forget(struct inode_table *t, struct inode *in, uint64_t n)
{
    struct inode **pp;

    if (in == t->root) {
        return;
    }
    pthread_mutex_lock(&t->lock);
    in->nlookup = n < in->nlookup ? in->nlookup - n : 0;
    if (in->nlookup == 0) {
        pp = &t->buckets[bucket_of(t, in->dev, in->ino)];
        while (*pp != in) {
            pp = &(*pp)->next;
        }
        *pp = in->next;
        t->count--;
        free(in);
    }
    pthread_mutex_unlock(&t->lock);
}
