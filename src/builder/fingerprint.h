/* fingerprint.h: the SHA-256 of a file's bytes, kept in the build cache
 * under the file's identity, so that a rebuild reads no unchanged source
 * file, library or shared object just to key the cache. */
#ifndef INB_FINGERPRINT_H
#define INB_FINGERPRINT_H

#include "inb.h"
#include "util.h"

/* Set sum to the SHA-256 of the bytes of the file at path: from the index
 * while the file's identity (cache.h: inb_cache_identity) is the one it was
 * hashed with, else by reading the file, whose bytes are then appended to
 * content when content is not NULL, *was_read set to 1 (else 0).  Returns
 * 0, or -1 with errno set when the file cannot be read. */
INB_HIDDEN int inb_fingerprint(const char *path, unsigned char sum[32],
                               struct inb_buf *content, int *was_read);
/* Store the index in the build cache when this build changed it. */
INB_HIDDEN void inb_fingerprint_save(void);

#endif
