/* alloc.h: the one allocation wrapper of the pure-C layers.  Tests replace
 * the allocator to make any allocation fail (like Lua's test allocator). */
#ifndef INB_ALLOC_H
#define INB_ALLOC_H

#include <stddef.h>

#include "inb.h"

/* An allocator: like realloc(ptr, size); size 0 frees ptr and returns NULL. */
typedef void *(*inb_allocator)(void *ptr, size_t size);

/* Reallocate ptr to size bytes; NULL on failure (ptr is then untouched). */
INB_HIDDEN void *inb_realloc(void *ptr, size_t size);
/* Allocate size bytes; NULL on failure. */
INB_HIDDEN void *inb_malloc(size_t size);
/* Free ptr (NULL is allowed). */
INB_HIDDEN void inb_free(void *ptr);
/* Replace the allocator; NULL restores the default (libc realloc/free). */
INB_HIDDEN void inb_set_allocator(inb_allocator fn);

#endif
