/* checksum.c: XXH3 from libxxhash-dev's header, inlined (XXH_INLINE_ALL)
 * so that no executable links libxxhash.
 *
 * The header picks its vector code at compile time, and an executable is
 * compiled for any x86-64 (SSE2): 2 GB/s here.  Long inputs (a shared
 * object's image, a module's code) go through the header's AVX2 code
 * (XXH_DISPATCH_AVX2, compiled for that target only) when the CPU has it:
 * 7.7 GB/s here.  Both give the same hash, as XXH3 defines it. */
#include "checksum.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define XXH_DISPATCH_AVX2 1
#define XXH_TARGET_AVX2 __attribute__((__target__("avx2")))
#define HAVE_AVX2_PATH 1
#endif
#define XXH_INLINE_ALL
#include <xxhash.h>

#ifdef HAVE_AVX2_PATH
/* XXH3_64bits_withSeed() of an input longer than XXH3_MIDSIZE_MAX, with
 * AVX2. */
__attribute__((__target__("avx2"))) static uint64_t
hash_long_avx2(const void *data, size_t size, uint64_t seed)
{
    return XXH3_hashLong_64b_withSeed_internal(
        data, size, seed, XXH3_accumulate_512_avx2, XXH3_scrambleAcc_avx2,
        XXH3_initCustomSecret_avx2);
}
#endif

uint64_t
inb_checksum(const void *data, size_t size, uint64_t seed)
{
#ifdef HAVE_AVX2_PATH
    if (size > XXH3_MIDSIZE_MAX && __builtin_cpu_supports("avx2")) {
        return hash_long_avx2(data, size, seed);
    }
#endif
    return XXH3_64bits_withSeed(data, size, seed);
}

#ifdef HAVE_AVX2_PATH
/* XXH3_64bits_update() with AVX2. */
__attribute__((__target__("avx2"))) static void
update_avx2(XXH3_state_t *st, const unsigned char *p, size_t n)
{
    XXH3_update(st, p, n, XXH3_accumulate_512_avx2, XXH3_scrambleAcc_avx2);
}
#endif

/* Bytes hashed, then passed on, at a time: well inside the L2 cache. */
#define COPY_CHUNK (128 * 1024)

int
inb_checksum32_copy(const void *data, size_t size, uint32_t sum32,
                    int (*sink)(void *ctx, const unsigned char *chunk,
                                size_t n),
                    void *ctx)
{
    const unsigned char *p = data;
    XXH3_state_t st;
    size_t n;
#ifdef HAVE_AVX2_PATH
    int avx2 = __builtin_cpu_supports("avx2");
#endif

    XXH3_64bits_reset(&st);
    while (size > 0) {
        n = size < COPY_CHUNK ? size : COPY_CHUNK;
#ifdef HAVE_AVX2_PATH
        if (avx2) {
            update_avx2(&st, p, n);
        }
        else
#endif
        {
            XXH3_64bits_update(&st, p, n);
        }
        if (sink(ctx, p, n) < 0) {
            return -1;
        }
        p += n;
        size -= n;
    }
    return (uint32_t)XXH3_64bits_digest(&st) == sum32 ? 0 : 1;
}

uint32_t
inb_checksum32(const void *data, size_t size)
{
    return (uint32_t)inb_checksum(data, size, 0);
}
