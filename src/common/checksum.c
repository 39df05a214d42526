/* checksum.c: XXH3 from libxxhash-dev's header, inlined (XXH_INLINE_ALL)
 * so that no executable links libxxhash. */
#include "checksum.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

uint64_t
inb_checksum(const void *data, size_t size, uint64_t seed)
{
    return XXH3_64bits_withSeed(data, size, seed);
}

uint32_t
inb_checksum32(const void *data, size_t size)
{
    return (uint32_t)XXH3_64bits(data, size);
}
