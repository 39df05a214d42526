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
 *  4. Huge pages cost memory: a heap grows in 2 MiB steps instead of 4 KiB
 *     ones, so its last huge page is partly unused, 1 MiB on average per
 *     heap.  So, once the interpreter has started, when the outermost
 *     import returns (the burst of allocation of an import statement is
 *     over), inb_pages_settle() gives the unused part of each heap's last
 *     huge page back (for the arenas, also the pools of the newest arena
 *     that pymalloc has not set up yet), and a process holds about what
 *     it uses, as with small pages.  Not during start-up: its imports come
 *     one after the other, and each would give back what the next one
 *     uses.  MADV_DONTNEED alone on part of a huge page frees nothing: the
 *     kernel unmaps the range from the process and keeps all 2 MiB until
 *     memory runs short (a "deferred split"); so the range is first marked
 *     MADV_COLD, which splits the huge page into small ones at once (Linux
 *     5.4), and MADV_DONTNEED then frees them.  Where MADV_COLD fails
 *     nothing is given back.  When a heap grows back into such a page, it
 *     is made whole again (MADV_COLLAPSE, Linux 6.1; without it, small
 *     pages).  Its cost is where it splits a page still in use: on the
 *     virtual machine here, the first touch of each of its small pages
 *     afterwards costs about 10 us (the hypervisor's own mapping of the
 *     page is rebuilt; on bare metal, nothing), so a script that imports
 *     more after a large import takes a few milliseconds more per giving
 *     back (docs/BENCHMARKS.md).  INBUILT_HUGEPAGES=keep skips this step.
 *
 * `import numpy` on the virtual machines above takes 1,200 page faults
 * instead of 4,600 and two thirds of the time without (a fault of a new
 * page costs 12 to 17 us there).  Step 2 saves 2,000 of the faults, step 3
 * the other 1,400 (docs/BENCHMARKS.md has the figures; INBUILT_HUGEPAGES=
 * arenas is step 2 alone).  Where the kernel has no transparent huge
 * pages the hints do nothing.  INBUILT_HUGEPAGES=0 turns 2 to 4 off for
 * one run.
 *
 * Nothing here is needed for correctness: every step that fails leaves
 * the process as CPython would have it.
 */
#include <Python.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "pages.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23 /* Linux 5.14; older kernels say EINVAL */
#endif
#ifndef MADV_COLD
#define MADV_COLD 20 /* Linux 5.4 */
#endif
#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25 /* Linux 6.1 */
#endif

#define SMALL_PAGE ((uintptr_t)4096)
#define HUGE_PAGE ((size_t)2 << 20)
#define CHUNK_SIZE ((size_t)32 << 20)
#define MAX_CHUNKS 128 /* 4 GiB of arenas; beyond that, CPython's own */
#define MAX_FREE 256   /* freed ranges remembered for reuse */
/* pymalloc's arenas and pools on 64-bit builds, 3.10 to 3.13 (obmalloc.c:
 * USE_LARGE_ARENAS, USE_LARGE_POOLS), and the part of a pool's header
 * that is never all zero once pymalloc has set the pool up (its nextoffset
 * and maxnextoffset fields are never 0). */
#define PYMALLOC_ARENA ((size_t)1 << 20)
#define PYMALLOC_POOL ((size_t)16 << 10)
#define PYMALLOC_POOL_HEADER 48

/* The bounds of the executable's initialized writable data, from the C
 * library's start files and the linker; weak, so a link without them only
 * skips step 1. */
extern char __data_start[] __attribute__((weak));
extern char _edata[] __attribute__((weak));

/* Step 2's state.  Reserved chunks [chunks[i], chunks[i] + CHUNK_SIZE);
 * the last one handed out from next up to end; freed ranges of
 * free_size[i] bytes at free_addr[i].  The lock is taken once per arena
 * (a few instructions, and a madvise() or mallinfo2() while step 4 has a
 * page given back) and by step 4 itself, which also guards heap below:
 * pymalloc calls with the GIL held, but since 3.12 interpreters may each
 * have their own GIL. */
static struct {
    pthread_mutex_t lock;
    PyObjectArenaAllocator fallback;
    char *chunks[MAX_CHUNKS];
    size_t nchunks;
    char *next, *end;
    void *free_addr[MAX_FREE];
    size_t free_size[MAX_FREE];
    size_t nfree;
    char *newest; /* the arena handed out last, while it is out */
    char *given;  /* the huge page next is in, when step 4 gave back its
                     rest and no arena has been handed out of it since */
} arenas = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* Step 3's heap: its range marked for huge pages, [huge_from, huge_to);
 * the huge page its free top starts in, when step 4 gave back the rest of
 * it and the heap has not grown far into it since (arenas.lock guards
 * it), and where the free top started then. */
static struct {
    char *huge_from, *huge_to;
    char *given, *given_top;
} heap;

static void heap_regrow(void);
static void regrow(char *page);

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
    if (p != NULL && size == PYMALLOC_ARENA) {
        arenas.newest = p;
    }
    if (p != NULL && arenas.given != NULL && (char *)p >= arenas.given &&
        (char *)p < arenas.given + HUGE_PAGE) {
        regrow(arenas.given);
        arenas.given = NULL;
    }
    heap_regrow();
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
    if (p == arenas.newest) {
        arenas.newest = NULL;
    }
    if (ours && arenas.nfree < MAX_FREE) {
        arenas.free_addr[arenas.nfree] = p;
        arenas.free_size[arenas.nfree] = size;
        arenas.nfree++;
    }
    pthread_mutex_unlock(&arenas.lock);
    if (ours) {
        /* Split first (see give_back), or the huge page stays whole. */
        (void)madvise(p, size, MADV_COLD);
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
        if (madvise(boundary, (size_t)(end - boundary), MADV_HUGEPAGE) == 0) {
            heap.huge_from = boundary;
            heap.huge_to = end;
        }
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

/* Step 4 for [from, to), a range of one huge page that nothing uses
 * (the caller owns it): split the page and free the range's small pages.
 * from is rounded up to a page.  Returns whether it gave anything back. */
static int
give_back(char *from, char *to)
{
    from = align_up(from, SMALL_PAGE);
    if (from < to && madvise(from, (size_t)(to - from), MADV_COLD) == 0) {
        (void)madvise(from, (size_t)(to - from), MADV_DONTNEED);
        return 1;
    }
    return 0;
}

/* Undo step 4 for the huge page at page, which a heap grows into again:
 * make it one huge page again (its content kept, the rest zero), rather
 * than take a fault per small page.  Without MADV_COLLAPSE (before Linux
 * 6.1, or no transparent huge pages), the small pages it is. */
static void
regrow(char *page)
{
    (void)madvise(page, HUGE_PAGE, MADV_COLLAPSE);
}

/* Whether the n bytes at p are all zero. */
static int
all_zero(const char *p, size_t n)
{
    while (n > 0 && p[n - 1] == 0) {
        n--;
    }
    return n == 0;
}

/* Step 4 for the arenas; arenas.lock held.  The rest of the huge page the
 * next arena would start in is not any arena's.  And pymalloc carves an
 * arena's pools one after the other, and only from its newest arena (it
 * takes a new one only when every other is carved out): the pools of the
 * newest arena from the first one it has not set up yet to the arena's
 * end are untouched, and given back too.  Untouched pools are recognized
 * by their zero header, read under the GIL, which pymalloc holds to set
 * one up: so only while the process has one interpreter (since 3.12 each
 * interpreter may have its own GIL and pymalloc state).  When the next
 * arena is handed out of the huge page, arena_alloc() makes it whole
 * again. */
static void
arenas_settle(void)
{
    char *page =
        (char *)((uintptr_t)arenas.next & ~(uintptr_t)(HUGE_PAGE - 1));
    char *pool, *end;

    if (arenas.nchunks == 0 || page == arenas.given) {
        return;
    }
    if (arenas.newest != NULL && PyGILState_Check() &&
        PyInterpreterState_Next(PyInterpreterState_Head()) == NULL) {
        end = arenas.newest + PYMALLOC_ARENA;
        for (pool = align_up(arenas.newest, PYMALLOC_POOL);
             pool + PYMALLOC_POOL <= end; pool += PYMALLOC_POOL) {
            if (all_zero(pool, PYMALLOC_POOL_HEADER)) {
                give_back(pool, end);
                break;
            }
        }
    }
    if (page != arenas.next && arenas.next < arenas.end &&
        give_back(arenas.next, page + HUGE_PAGE)) {
        arenas.given = page;
    }
}

/* Where the C library's heap's free top starts, or NULL. */
static char *
heap_top(void)
{
#ifdef __GLIBC__
    struct mallinfo2 mi = mallinfo2();
    char *end = sbrk(0);

    if (end != (char *)-1 && mi.keepcost <= (size_t)(end - heap.huge_from)) {
        return end - mi.keepcost;
    }
#endif
    return NULL;
}

/* Step 4 for the C library's heap; arenas.lock held.  Its free top starts
 * in a huge page whose rest the heap has not used yet.  That rest is taken
 * as one block from the top (so no other thread can be handed any of it
 * meanwhile), given back, and freed again: it rejoins the top.  The block
 * ends 32 bytes short of the huge page's end, where the top's new header
 * goes, so that the next huge page is not touched.  Its size relies on
 * glibc's block layout (a 16-byte header, sizes in 16-byte steps; a block
 * carved from the start of the top); a block found anywhere else (a free
 * block of that size elsewhere, another thread's allocation in between)
 * is freed at once and nothing is given back.  A free top of a chunk or
 * more is left alone: freeing the block would make glibc trim the heap,
 * huge pages and all. */
static void
heap_settle(void)
{
#ifdef __GLIBC__
    char *top, *page, *stop;
    void *p;

    if (heap.huge_from == NULL || (top = heap_top()) == NULL ||
        (size_t)((char *)sbrk(0) - top) >= CHUNK_SIZE) {
        return;
    }
    page = (char *)((uintptr_t)top & ~(uintptr_t)(HUGE_PAGE - 1));
    stop = page + HUGE_PAGE - 32;
    if (page == heap.given || page < heap.huge_from ||
        page + HUGE_PAGE > heap.huge_to ||
        stop - top < (ptrdiff_t)SMALL_PAGE * 16) {
        return;
    }
    p = malloc((size_t)(stop - top) - 8);
    if (p == (void *)(top + 16) &&
        give_back((char *)p, page + HUGE_PAGE - SMALL_PAGE)) {
        heap.given = page;
        heap.given_top = top;
    }
    free(p);
#endif
}

/* Undo step 4 for the C library's heap once its free top has moved a
 * sixteenth of a huge page into the huge page given back (an import that
 * grows the heap further will use all of it); arenas.lock held.  Called
 * whenever an arena is handed out: a growing interpreter grows both. */
static void
heap_regrow(void)
{
    char *top;

    if (heap.given == NULL || (top = heap_top()) == NULL) {
        return;
    }
    if (top < heap.given || top >= heap.given + HUGE_PAGE) {
        heap.given = NULL; /* the heap moved on, or was trimmed */
    }
    else if (top >= heap.given_top + HUGE_PAGE / 16) {
        regrow(heap.given);
        heap.given = NULL;
    }
}

static int settling; /* step 4 is wanted (not INBUILT_HUGEPAGES=keep) */
static int started;  /* and on: the interpreter has started */

void
inb_pages_started(void)
{
    __atomic_store_n(&started, 1, __ATOMIC_RELAXED);
}

void
inb_pages_settle(void)
{
    if (settling && __atomic_load_n(&started, __ATOMIC_RELAXED)) {
        pthread_mutex_lock(&arenas.lock);
        heap_settle();
        arenas_settle();
        pthread_mutex_unlock(&arenas.lock);
    }
}

static void
lock_arenas(void)
{
    pthread_mutex_lock(&arenas.lock);
}

static void
unlock_arenas(void)
{
    pthread_mutex_unlock(&arenas.lock);
}

int
inb_pages_init(char *err, size_t errsize)
{
    static PyObjectArenaAllocator ours = {NULL, arena_alloc, arena_free};
    const char *env = getenv("INBUILT_HUGEPAGES");

    if (env != NULL && env[0] != '\0' && strcmp(env, "0") != 0 &&
        strcmp(env, "arenas") != 0 && strcmp(env, "keep") != 0) {
        snprintf(err, errsize,
                 "INBUILT_HUGEPAGES=%.100s is not a choice: 0, arenas or "
                 "keep (unset: both heaps, unused parts given back)",
                 env);
        return -1;
    }
    data_populate();
    if (env != NULL && strcmp(env, "0") == 0) {
        return 0;
    }
    if (env == NULL || strcmp(env, "arenas") != 0) {
        brk_heap_init();
    }
    settling = env == NULL || strcmp(env, "keep") != 0;
    PyObject_GetArenaAllocator(&arenas.fallback);
    PyObject_SetArenaAllocator(&ours);
    /* A child of fork() must not inherit the lock held. */
    (void)pthread_atfork(lock_arenas, unlock_arenas, unlock_arenas);
    return 0;
}
