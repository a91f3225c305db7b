/* Internal (not part of the public API): the random-bits hash as an inline function, so that
 * requantisation loops over blocks can vectorise.  rng_q15.c documents the algorithm and
 * exports it as spl_rand_u32; this is its only definition. */
#ifndef SPL_RAND_H
#define SPL_RAND_H
#include <stdint.h>

static inline uint32_t spl_rand_inline(uint32_t seed, uint32_t index)
{
    uint32_t x = seed + index * 0x9E3779B9u;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    x ^= x >> 16;
    x *= 0x7FEB352Du;
    x ^= x >> 15;
    x *= 0x846CA68Bu;
    x ^= x >> 16;
    return x;
}
#endif
