/* Internal (not part of the public API): the round-half-to-even offset that every kernel adds
 * before its final arithmetic right shift.  This is its only definition (requant_q15.c
 * documents the rule; optim_q15.c, the GEMM paths and the host SIMD paths use it or mirror it
 * lane for lane).
 *
 * floor((acc + 2^(s-1) - 1 + bit_s(acc)) / 2^s) is acc / 2^s rounded to nearest, exact halves
 * to the even neighbour: the "- 1" moves a tie below the rounding point, and bit s of acc (the
 * LSB the result keeps) lifts it back when that LSB is odd.  Valid for 0 < s < 63. */
#ifndef SPL_ROUND_H
#define SPL_ROUND_H
#include <stdint.h>

static inline int64_t spl_rne_offset(int64_t acc, int32_t s)
{
    return (((int64_t)1 << (s - 1)) - 1) + ((acc >> s) & 1);
}

/* The same on an int32 accumulator (0 < s < 32); acc + offset must not overflow int32. */
static inline int32_t spl_rne_offset32(int32_t acc, int32_t s)
{
    return (int32_t)(((uint32_t)1 << (s - 1)) - 1u) + ((acc >> s) & 1);
}
#endif
