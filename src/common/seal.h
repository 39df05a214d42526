/* seal.h: the seal of an executable built by inbuilt, and the check of a
 * whole executable against it (`inbuilt verify`, INBUILT_VERIFY=1).
 *
 * The seal is an ELF note (name "inbuilt", type INB_SEAL_TYPE) in the
 * executable's first loaded segment, found through the program headers,
 * which sit at the start of the file.  The builder links it as zeros and
 * fills it in afterwards (inb_seal_write()):
 *
 *      0  u32  version          1
 *      4  u32  reserved         0
 *      8  u64  file_size        size of the executable in bytes
 *     16  u64  loaded_checksum  inb_checksum() chained over the file bytes
 *                               of every PT_LOAD segment, in program-header
 *                               order, leaving out the archive and reading
 *                               the seal's own 40 bytes as zeros
 *     24  u64  archive_offset   file offset of the embedded archive
 *     32  u64  archive_size     its size
 *
 * The archive checks itself (docs/FORMAT.md): its tables checksum and each
 * entry's.  All integers are little-endian. */
#ifndef INB_SEAL_H
#define INB_SEAL_H

#include <stddef.h>
#include <stdint.h>

#include "inb.h"

#define INB_SEAL_NAME "inbuilt"   /* the note's name, NUL included: 8 bytes */
#define INB_SEAL_TYPE 0x31424e49u /* "INB1" */
#define INB_SEAL_SIZE 40
#define INB_SEAL_VERSION 1

/* What a seal says. */
typedef struct inb_seal {
    uint64_t file_size;
    uint64_t loaded_checksum;
    uint64_t archive_offset;
    uint64_t archive_size;
} inb_seal;

/* Read the seal desc[0..INB_SEAL_SIZE) into *s.  Returns 0, or -1 when it
 * is not a version 1 seal (all zeros: never filled in). */
INB_HIDDEN int inb_seal_read(const unsigned char *desc, inb_seal *s);

/* Fill in the seal of the linked executable file[0..size), whose archive
 * starts at archive_offset and holds archive_size bytes.  Returns 0, or -1
 * with the reason in err (no seal note, archive outside the file). */
INB_HIDDEN int inb_seal_write(unsigned char *file, size_t size,
                              uint64_t archive_offset, uint64_t archive_size,
                              char *err, size_t errsize);

/* Check the executable file[0..size) against its seal: its size, the
 * loaded segments outside the archive, the archive's tables and every
 * entry.  Calls report(ctx, line) once for each problem found (one line
 * each, at most 20 damaged entries named) and returns how many there
 * were; 0 when the executable is as it was built.  *entries (unless NULL)
 * gets the number of archive entries checked. */
INB_HIDDEN int inb_seal_verify(const unsigned char *file, size_t size,
                               void (*report)(void *ctx, const char *line),
                               void *ctx, uint32_t *entries);

#endif
