/* checksum.h: the one checksum of inbuilt, for archive entries, the
 * archive's tables and the executable's loaded part: XXH3, 64 bits, from
 * libxxhash's header (compiled in, so an executable needs no library).
 * XXH3 hashes at about memory speed, so checking an entry costs about what
 * copying it does. */
#ifndef INB_CHECKSUM_H
#define INB_CHECKSUM_H

#include <stddef.h>
#include <stdint.h>

#include "inb.h"

/* The checksum of data[0..size), continuing from seed (0 to start; the
 * result of a previous call to chain ranges). */
INB_HIDDEN uint64_t inb_checksum(const void *data, size_t size, uint64_t seed);

/* The 32-bit checksum an archive entry records: the low half of
 * inb_checksum(data, size, 0). */
INB_HIDDEN uint32_t inb_checksum32(const void *data, size_t size);

/* Check data[0..size) against sum32 (an inb_checksum32()) while passing
 * it to sink(ctx, chunk, n) chunk by chunk, each right after it is hashed,
 * so that the data is read from memory once for both.  Returns 0 when it
 * matched, 1 when it did not (sink saw all of it anyway), -1 when sink
 * returned -1 (then the rest is neither hashed nor passed). */
INB_HIDDEN int inb_checksum32_copy(
    const void *data, size_t size, uint32_t sum32,
    int (*sink)(void *ctx, const unsigned char *chunk, size_t n), void *ctx);

#endif
