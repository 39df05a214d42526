/* alloc.c: the one allocation wrapper of the pure-C layers.
 *
 * Every allocation of src/common (and of whatever else uses alloc.h) goes
 * through one function pointer with realloc() semantics, so that a test can
 * install an allocator that fails on demand and check that every failure
 * path frees what it holds (the idea of Lua's l_alloc / ltests.c).
 *
 * A request for 0 bytes is turned into a request for 1 byte: a NULL result
 * then always means "out of memory", never "nothing to allocate", and the
 * allocator only ever sees size 0 from inb_free(). */
#include <stdlib.h>

#include "alloc.h"

/* The default allocator: libc realloc(), with size 0 meaning free(). */
static void *
libc_alloc(void *ptr, size_t size)
{
    if (size == 0) {
        free(ptr);
        return NULL;
    }
    return realloc(ptr, size);
}

static inb_allocator allocator = libc_alloc;

void *
inb_realloc(void *ptr, size_t size)
{
    return allocator(ptr, size == 0 ? 1 : size);
}

void *
inb_malloc(size_t size)
{
    return allocator(NULL, size == 0 ? 1 : size);
}

void
inb_free(void *ptr)
{
    if (ptr != NULL) {
        allocator(ptr, 0);
    }
}

void
inb_set_allocator(inb_allocator fn)
{
    allocator = fn != NULL ? fn : libc_alloc;
}
