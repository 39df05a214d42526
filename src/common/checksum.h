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

#endif
