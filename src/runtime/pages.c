/* pages.c: fewer page faults.
 *
 * A process that starts CPython and imports a package touches a few
 * megabytes of memory, and the kernel hands it out a 4 KiB page per fault.
 * Faults are not cheap: on the virtual machines that clouds and many
 * clusters run, one that needs a new page costs about 10 microseconds,
 * and `import json, decimal, email.mime.text, asyncio` takes about 3,400
 * of them, a third of its time.  So, before the interpreter starts:
 *
 *  1. The executable's writable data (CPython's static types, interned
 *     strings and runtime state: 1.1 MiB, nearly all written during
 *     start-up) is copied on write in one call (MADV_POPULATE_WRITE, Linux
 *     5.14) instead of a fault per page.
 *
 *  2. CPython's small-object allocator (pymalloc) gets its arenas (1 MiB
 *     each, and the frames' data stack chunks) from chunks of address space
 *     reserved 2 MiB aligned and marked MADV_HUGEPAGE, so that where the
 *     kernel has transparent huge pages (enabled "always" or "madvise") the
 *     first touch maps 2 MiB at once.  A freed arena gives its memory back
 *     (MADV_DONTNEED) and its range is reused by the next of its size.
 *     When no chunk can be reserved, arenas come from CPython's own
 *     allocator; freeing tells the two apart by address.
 *
 *  3. The C library's heap, where CPython's larger objects live (dict
 *     tables, lists, bytes over 512 bytes), is grown by one chunk now and
 *     that chunk marked the same way (not with INBUILT_HUGEPAGES=arenas).
 *
 * Huge pages cost memory: a heap grows in 2 MiB steps instead of 4 KiB
 * ones, so each holds on average 1 MiB it does not use.  Against that,
 * `import numpy` on the virtual machines above takes 1,200 page faults
 * instead of 4,600 and two thirds of the time without (a fault of a new
 * page costs 12 to 17 us there).  Step 2 saves 2,000 of the faults for
 * about 0.5 MB per process, step 3 the other 1,400 for about 1 MB
 * (docs/BENCHMARKS.md has the figures; INBUILT_HUGEPAGES=arenas is step 2
 * alone).  Where the kernel has no transparent huge pages the hints do
 * nothing.  INBUILT_HUGEPAGES=0 turns 2 and 3 off for one run.
 *
 * Nothing here is needed for correctness: every step that fails leaves
 * the process as CPython would have it.
 */
#include <Python.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "pages.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23 /* Linux 5.14; older kernels say EINVAL */
#endif

#define SMALL_PAGE ((uintptr_t)4096)
#define HUGE_PAGE ((size_t)2 << 20)
#define CHUNK_SIZE ((size_t)32 << 20)
#define MAX_CHUNKS 128 /* 4 GiB of arenas; beyond that, CPython's own */
#define MAX_FREE 256   /* freed ranges remembered for reuse */

/* The bounds of the executable's initialized writable data, from the C
 * library's start files and the linker; weak, so a link without them only
 * skips step 1. */
extern char __data_start[] __attribute__((weak));
extern char _edata[] __attribute__((weak));

/* Step 2's state.  Reserved chunks [chunks[i], chunks[i] + CHUNK_SIZE);
 * the last one handed out from next up to end; freed ranges of
 * free_size[i] bytes at free_addr[i].  The lock is taken for a few
 * instructions per arena: pymalloc calls with the GIL held, but since 3.12
 * interpreters may each have their own GIL. */
static struct {
    pthread_mutex_t lock;
    PyObjectArenaAllocator fallback;
    char *chunks[MAX_CHUNKS];
    size_t nchunks;
    char *next, *end;
    void *free_addr[MAX_FREE];
    size_t free_size[MAX_FREE];
    size_t nfree;
} arenas = {.lock = PTHREAD_MUTEX_INITIALIZER};

static char *
align_up(char *p, size_t to)
{
    return (char *)(((uintptr_t)p + to - 1) & ~(uintptr_t)(to - 1));
}

/* Step 1: copy the writable data now, in one call. */
static void
data_populate(void)
{
    uintptr_t from = (uintptr_t)__data_start, to = (uintptr_t)_edata;

    if (from == 0 || to <= from) {
        return;
    }
    from &= ~(SMALL_PAGE - 1);
    to = (uintptr_t)align_up(_edata, SMALL_PAGE);
    (void)madvise((void *)from, to - from, MADV_POPULATE_WRITE);
}

/* Reserve one chunk, 2 MiB aligned, and mark it for huge pages.  Returns
 * 0, or -1 when there is no room for its address range or its record. */
static int
chunk_reserve(void)
{
    size_t span = CHUNK_SIZE + HUGE_PAGE;
    char *p, *base;

    if (arenas.nchunks == MAX_CHUNKS) {
        return -1;
    }
    p = mmap(NULL, span, PROT_READ | PROT_WRITE,
             MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) {
        return -1;
    }
    base = align_up(p, HUGE_PAGE);
    if (base > p) {
        munmap(p, (size_t)(base - p));
    }
    munmap(base + CHUNK_SIZE, (size_t)(p + span - (base + CHUNK_SIZE)));
    /* Without transparent huge pages this fails and changes nothing. */
    (void)madvise(base, CHUNK_SIZE, MADV_HUGEPAGE);
    arenas.chunks[arenas.nchunks++] = base;
    arenas.next = base;
    arenas.end = base + CHUNK_SIZE;
    return 0;
}

/* Whether p lies in one of the reserved chunks. */
static int
chunk_owns(const void *p)
{
    for (size_t i = 0; i < arenas.nchunks; i++) {
        if ((const char *)p >= arenas.chunks[i] &&
            (const char *)p < arenas.chunks[i] + CHUNK_SIZE) {
            return 1;
        }
    }
    return 0;
}

/* The arena allocator's alloc: a freed range of this size, the next range
 * of the current chunk, or the start of a new chunk; CPython's own
 * allocator when none can be had.  CPython asks for page multiples. */
static void *
arena_alloc(void *ctx, size_t size)
{
    void *p = NULL;

    (void)ctx;
    pthread_mutex_lock(&arenas.lock);
    for (size_t i = arenas.nfree; i-- > 0;) {
        if (arenas.free_size[i] == size) {
            p = arenas.free_addr[i];
            arenas.nfree--;
            arenas.free_addr[i] = arenas.free_addr[arenas.nfree];
            arenas.free_size[i] = arenas.free_size[arenas.nfree];
            break;
        }
    }
    if (p == NULL && size % SMALL_PAGE == 0 && size <= CHUNK_SIZE &&
        ((size_t)(arenas.end - arenas.next) >= size || chunk_reserve() == 0)) {
        p = arenas.next;
        arenas.next += size;
    }
    pthread_mutex_unlock(&arenas.lock);
    if (p == NULL) {
        p = arenas.fallback.alloc(arenas.fallback.ctx, size);
    }
    return p;
}

/* The arena allocator's free: give the memory back and remember the range
 * (a range that cannot be remembered stays reserved, empty), or hand an
 * arena of CPython's own allocator back to it. */
static void
arena_free(void *ctx, void *p, size_t size)
{
    int ours;

    (void)ctx;
    pthread_mutex_lock(&arenas.lock);
    ours = chunk_owns(p);
    if (ours && arenas.nfree < MAX_FREE) {
        arenas.free_addr[arenas.nfree] = p;
        arenas.free_size[arenas.nfree] = size;
        arenas.nfree++;
    }
    pthread_mutex_unlock(&arenas.lock);
    if (ours) {
        (void)madvise(p, size, MADV_DONTNEED);
    }
    else {
        arenas.fallback.free(arenas.fallback.ctx, p, size);
    }
}

/* Step 3.  The heap grows by one chunk when asked for a block larger than
 * its free top while M_TOP_PAD is a chunk; the new part is marked for huge
 * pages before anything touches it (a 2 MiB range with one small page in
 * it stays on small pages).  Only whole 2 MiB ranges can be huge, so the
 * part of the heap's top below the first 2 MiB boundary is taken by one
 * block that is never freed nor touched past its header: it costs address
 * space, not memory.  Its size relies on glibc's block layout (a 16-byte
 * header; a block carved from the start of the top); should that differ,
 * the block is freed again and the top's start stays on small pages.
 *
 * The C library's settings become: blocks under half a chunk come from
 * the heap (its dynamic threshold would reach 32 MiB), and the heap is
 * trimmed only when a chunk's worth lies free at its top (its dynamic
 * threshold would reach 64 MiB). */
static void
brk_heap_init(void)
{
#ifdef __GLIBC__
    struct mallinfo2 mi;
    char *end, *boundary;
    void *volatile p; /* neither malloc nor free may be optimized away */
    void *filler;

    p = malloc(1); /* the heap exists */
    free(p);
    if (mallopt(M_MMAP_THRESHOLD, (int)(CHUNK_SIZE / 2)) != 1 ||
        mallopt(M_TRIM_THRESHOLD, (int)CHUNK_SIZE) != 1 ||
        mallopt(M_TOP_PAD, (int)CHUNK_SIZE) != 1) {
        return;
    }
    mi = mallinfo2();
    p = malloc(mi.keepcost + SMALL_PAGE);
    end = sbrk(0);
    boundary = align_up((char *)p, HUGE_PAGE);
    if (p != NULL && end != (char *)-1 && boundary < end) {
        (void)madvise(boundary, (size_t)(end - boundary), MADV_HUGEPAGE);
        free(p);
        if (boundary > (char *)p) {
            filler = malloc((size_t)(boundary - (char *)p) + 8);
            if (filler != p) {
                free(filler);
            }
        }
    }
    else {
        free(p);
    }
    mallopt(M_TOP_PAD, 128 * 1024); /* glibc's default */
#endif
}

void
inb_pages_init(void)
{
    static PyObjectArenaAllocator ours = {NULL, arena_alloc, arena_free};
    const char *env = getenv("INBUILT_HUGEPAGES");

    data_populate();
    if (env != NULL && strcmp(env, "0") == 0) {
        return;
    }
    if (env == NULL || strcmp(env, "arenas") != 0) {
        brk_heap_init();
    }
    PyObject_GetArenaAllocator(&arenas.fallback);
    PyObject_SetArenaAllocator(&ours);
}
