/* archpages.c: the archive's pages in this process, dropped once read.
 *
 * The archive is read in place from the executable's read-only data.  A
 * module's bytecode is read once, to unmarshal it (finder.c), and a shared
 * object's image once, to copy or check it (memso.c); after that the pages
 * are not needed, yet they stay mapped, and large folios of the page cache
 * map up to 2 MiB at a time: a process that imported numpy kept about 9 MB
 * of the archive mapped, shared with the node's other processes but counted
 * in each one's proportional size.  Dropping them (MADV_DONTNEED of a
 * read-only private file mapping) leaves them in the page cache for the
 * next process, as stock python's .pyc files stay cached once read, and a
 * later read maps them again with their content unchanged.  Pure C: memso.c
 * links it without Python in its unit test.
 */
#include "archpages.h"

#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

static int file_backed;

void
inb_archpages_set_file_backed(int on)
{
    file_backed = on;
}

void
inb_archpages_drop(const void *p, size_t size)
{
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE); /* 4 to 64 KiB */
    uintptr_t start = ((uintptr_t)p + page - 1) & ~(page - 1);
    uintptr_t end = ((uintptr_t)p + size) & ~(page - 1);

    if (file_backed && end > start) {
        (void)madvise((void *)start, (size_t)(end - start), MADV_DONTNEED);
    }
}
