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
#include "spinla.h"
#include "spl_rand.h"

static inline int64_t spl_rne_offset(int64_t acc, int32_t s)
{
    return (((int64_t)1 << (s - 1)) - 1) + ((acc >> s) & 1);
}

/* The same on an int32 accumulator (0 < s < 32); acc + offset must not overflow int32. */
static inline int32_t spl_rne_offset32(int32_t acc, int32_t s)
{
    return (int32_t)(((uint32_t)1 << (s - 1)) - 1u) + ((acc >> s) & 1);
}

/* spl_requant_q63 for an int32 accumulator and a right shift 0 < s < 32, in 32-bit arithmetic
 * only (the ARM968 has no 64-bit adder; the int64 form costs ~4x): with acc = q 2^s + r,
 * floor((acc + off) / 2^s) = q + ((r + off) >> s), and r + off < 2^(s+1) fits in uint32.  The
 * offset is the same as spl_requant_q63's (half to even: 2^(s-1) - 1 + (q & 1), since bit s of
 * acc is q's LSB; stochastic: the hash's top s bits), so the result and the saturation count
 * are identical.  Prepared once per call by spl_rq32_init, which says whether it applies. */
typedef struct {
    int32_t s, rs, stoch;
    uint32_t mask, hm1, seed;
} spl_rq32_t;

static inline int spl_rq32_init(spl_rq32_t *r, const spl_requant_t *rq)
{
    int32_t s = rq->shift;
    if (s <= 0 || s >= 32)
        return 0;
    r->s = s;
    r->rs = 32 - s;
    r->stoch = rq->mode == SPL_ROUND_STOCHASTIC;
    r->mask = ((uint32_t)1 << s) - 1u;
    r->hm1 = ((uint32_t)1 << (s - 1)) - 1u;
    r->seed = rq->seed;
    return 1;
}

/* spl_rq32's nearest case with its constants as arguments (held in registers by the hot
 * loops), stored to *dst: in range the store truncates (no sign extension); out of range (rare)
 * the saturated value, counted. */
static inline __attribute__((always_inline)) void spl_rq32_nearest(int32_t acc, int32_t sh,
                                                                   uint32_t mask, uint32_t hm1,
                                                                   q15_t *dst, uint32_t *sat)
{
    int32_t q = acc >> sh;
    q += (int32_t)((((uint32_t)acc & mask) + hm1 + ((uint32_t)q & 1u)) >> sh);
    if (__builtin_expect((uint32_t)(q + 32768) > 65535u, 0)) {
        ++*sat;
        *dst = q < 0 ? SPL_Q15_MIN : SPL_Q15_MAX;
    } else {
        *(uint16_t *)dst = (uint16_t)q; /* unsigned: GCC sign-extends before a q15_t store */
    }
}

static inline q15_t spl_rq32(const spl_rq32_t *r, int32_t acc, uint32_t index, uint32_t *sat)
{
    int32_t q = acc >> r->s;
    uint32_t off = r->stoch ? spl_rand_inline(r->seed, index) >> r->rs
                            : r->hm1 + ((uint32_t)q & 1u);
    q += (int32_t)((((uint32_t)acc & r->mask) + off) >> r->s);
    if (__builtin_expect((uint32_t)(q + 32768) > 65535u, 0)) { /* outside q15: rare, counted */
        ++*sat;
        q = q < 0 ? SPL_Q15_MIN : SPL_Q15_MAX;
    }
    return (q15_t)q;
}
#endif
