/* The one place where exact integers become q15 outputs: rounding and counted saturation. */
#include "spinla.h"
#include "spl_rand.h"
#include "spl_round.h"
#include "spl_dsp.h"

static inline q15_t saturate(q63_t v, uint32_t *sat)
{
    if (v > SPL_Q15_MAX) { ++*sat; return SPL_Q15_MAX; }
    if (v < SPL_Q15_MIN) { ++*sat; return SPL_Q15_MIN; }
    return (q15_t)v;
}

/* Right shifts of negative values are arithmetic (floor) in GCC for both targets; the
 * rounding offset is added before the shift so that the floor becomes the chosen rounding.
 * Nearest is round half to even: the offset is 2^(s-1) - 1 plus bit s of acc (the LSB the
 * result keeps), so a fraction below one half floors, above one half rounds up, and exactly
 * one half goes to the even neighbour.  No direction is preferred, so sums of many rounded
 * values are not biased (round-half-up would add +1/2 LSB for every exact half). */
q15_t spl_requant_q63(q63_t acc, const spl_requant_t *rq, uint32_t index, uint32_t *sat)
{
    int32_t s = rq->shift;
    if (s > 0) {
        q63_t offset;
        if (rq->mode == SPL_ROUND_STOCHASTIC)
            offset = (q63_t)(spl_rand_inline(rq->seed, index) >> (32 - (s > 32 ? 32 : s)));
        else
            offset = spl_rne_offset(acc, s);
        if (s > 32 && rq->mode == SPL_ROUND_STOCHASTIC)
            offset <<= (s - 32);
        return saturate((acc + offset) >> s, sat);
    }
    if (s < 0) {
        /* Clamp before shifting left so the shift itself cannot overflow int64. */
        if (acc > ((q63_t)1 << 16)) acc = (q63_t)1 << 40;
        if (acc < -((q63_t)1 << 16)) acc = -((q63_t)1 << 16);
        return saturate(acc * ((q63_t)1 << -s), sat);
    }
    return saturate(acc, sat);
}

/* Changes the format of a q15 vector (a shift with rounding and saturation).  A right shift
 * of 1..31 (the usual case) runs in 32-bit arithmetic (spl_rq32): a q15 value is an int32
 * accumulator, and the ARM968 does the int64 form in ~4x the cycles. */
SPL_HOT uint32_t arm_requant_q15(const q15_t *src, q15_t *dst, int32_t n, const spl_requant_t *rq,
                         uint32_t index0)
{
    uint32_t sat = 0;
    spl_rq32_t r;
    if (spl_rq32_init(&r, rq)) {
        if (r.stoch) {
            for (int32_t i = 0; i < n; i++)
                dst[i] = spl_rq32(&r, src[i], index0 + (uint32_t)i, &sat);
            return sat;
        }
        /* nearest: |src| < 2^15, so src >> s with s >= 1 never leaves q15 (no saturation),
         * and src + 2^(s-1) cannot overflow int32: the plain form (v + spl_rne_offset32) >> s,
         * two register-specified shifts an output */
        const int32_t s = r.s, hm1 = (int32_t)r.hm1;
        int32_t i = 0;
        for (; i + 4 <= n; i += 4) { /* loads first: no halfword load-use interlock; four
                                      * a step so the loop's branch is 3 cycles per 4 */
            int32_t v0 = src[i], v1 = src[i + 1], v2 = src[i + 2], v3 = src[i + 3];
            int32_t q0 = (v0 + hm1 + ((v0 >> s) & 1)) >> s;
            int32_t q1 = (v1 + hm1 + ((v1 >> s) & 1)) >> s;
            int32_t q2 = (v2 + hm1 + ((v2 >> s) & 1)) >> s;
            int32_t q3 = (v3 + hm1 + ((v3 >> s) & 1)) >> s;
            dst[i] = (q15_t)q0;
            dst[i + 1] = (q15_t)q1;
            dst[i + 2] = (q15_t)q2;
            dst[i + 3] = (q15_t)q3;
        }
        for (; i < n; i++)
            dst[i] = spl_rq32(&r, src[i], index0 + (uint32_t)i, &sat);
        return sat;
    }
    for (int32_t i = 0; i < n; i++)
        dst[i] = spl_requant_q63(src[i], rq, index0 + (uint32_t)i, &sat);
    return sat;
}

/* A block of exact accumulators to q15: the same result as spl_requant_q63 element by element,
 * written as branch-free loops over the block for the common cases (a right shift of at most
 * 32 bits, or none) so that the host compiler vectorises them; other shifts go element by
 * element. */
#include "spl_simd.h"
#if defined(SPL_SIMD_AVX512)
#include "host/requant_avx512.inc"
#define REQUANT_BLOCK_SIMD requant_block_avx512
#elif defined(SPL_SIMD_AVX2)
#include "host/requant_avx2.inc"
#define REQUANT_BLOCK_SIMD requant_block_avx2
#endif

uint32_t spl_requant_block_q63(const q63_t *acc, q15_t *y, int32_t n, const spl_requant_t *rq,
                               uint32_t index0)
{
    uint32_t sat = 0;
#if defined(REQUANT_BLOCK_SIMD)
    { /* host SIMD builds: all of it (AVX-512) or whole groups of 8 (AVX2); the rest below */
        int32_t done = REQUANT_BLOCK_SIMD(acc, y, n, rq, index0, &sat);
        acc += done;
        y += done;
        n -= done;
        index0 += (uint32_t)done;
    }
#endif
#if defined(__arm__) || defined(SPL_PORTABLE)
    /* The ARM968 has no 64-bit adder or shifter: accumulators that fit int32 (almost all)
     * take spl_rq32, the same rounding in 32-bit arithmetic; the host keeps the branch-free
     * int64 loop below, which it vectorises.  Same results either way. */
    spl_rq32_t r;
    if (spl_rq32_init(&r, rq)) {
        if (r.stoch) {
            for (int32_t i = 0; i < n; i++) {
                q63_t v = acc[i];
                int32_t lo = (int32_t)v;
                y[i] = lo == v ? spl_rq32(&r, lo, index0 + (uint32_t)i, &sat)
                               : spl_requant_q63(v, rq, index0 + (uint32_t)i, &sat);
            }
            return sat;
        }
        const int32_t sh = r.s;
        const uint32_t mask = r.mask, hm1 = r.hm1;
        for (int32_t i = 0; i < n; i++) {
            q63_t v = acc[i];
            int32_t lo = (int32_t)v;
            if (__builtin_expect(lo != v, 0)) {
                y[i] = spl_requant_q63(v, rq, index0 + (uint32_t)i, &sat);
                continue;
            }
            int32_t q = lo >> sh; /* spl_rq32's nearest case, constants in registers */
            q += (int32_t)((((uint32_t)lo & mask) + hm1 + ((uint32_t)q & 1u)) >> sh);
            if (__builtin_expect((uint32_t)(q + 32768) > 65535u, 0)) {
                ++sat;
                q = q < 0 ? SPL_Q15_MIN : SPL_Q15_MAX;
            }
            y[i] = (q15_t)q;
        }
        return sat;
    }
    /* Other shifts are rare (no int32 rounding applies): spl_requant_q63 per element, which
     * keeps the int64 loop below out of ITCM. */
#else
    int32_t s = rq->shift;
    if (s >= 0 && s <= 32) {
        int stochastic = s > 0 && rq->mode == SPL_ROUND_STOCHASTIC;
        /* nearest: half - 1 + (bit s of acc); s == 0: no offset (half = 0, odd bit masked). */
        q63_t half = s > 0 ? ((q63_t)1 << (s - 1)) - 1 : 0, odd = s > 0 ? 1 : 0;
        int32_t sb = s > 0 ? s : 0;
        for (int32_t i = 0; i < n; i++) {
            q63_t off = stochastic
                ? (q63_t)(spl_rand_inline(rq->seed, index0 + (uint32_t)i) >> (32 - s))
                : half + ((acc[i] >> sb) & odd);
            q63_t v = (acc[i] + off) >> s;
            sat += (uint32_t)(v > SPL_Q15_MAX) + (uint32_t)(v < SPL_Q15_MIN);
            y[i] = (q15_t)(v > SPL_Q15_MAX ? SPL_Q15_MAX : v < SPL_Q15_MIN ? SPL_Q15_MIN : v);
        }
        return sat;
    }
#endif
    for (int32_t i = 0; i < n; i++)
        y[i] = spl_requant_q63(acc[i], rq, index0 + (uint32_t)i, &sat);
    return sat;
}
