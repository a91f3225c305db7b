/* Internal (not part of the public API): the ARMv5TE DSP operations the portable kernels are
 * written in, with plain-C equivalents for every other target (the host build compiles the
 * same kernel source).
 *
 * On the ARM968E-S (ARMv5TE, __ARM_FEATURE_DSP) SMLAxy multiplies one signed halfword of each
 * operand and adds a 32-bit accumulator in ONE cycle (MLA takes two), and one 32-bit LDR fetches
 * a pair of q15 values (one cycle, a LDRSH per value costs the same plus a 2-cycle load-use
 * interlock).  GCC only emits SMLAxy reliably through arm_acle.h's intrinsics
 * (../shared/spinnaker-facts.md, "ARM968E-S timing").  ARMv5TE has no SMLAD (v6): a pair of
 * products is two SMLAxy.
 *
 * Pairs: spl_pair_t is a 32-bit word holding q15 values p[0] (bottom halfword) and p[1] (top),
 * little-endian on both targets.  The accumulating forms are exact as long as the int32 sum
 * does not overflow, which the callers prove (spl_safe_chunk); SMLAxy wraps like the C
 * fallback's two's complement sum would. */
#ifndef SPL_DSP_H
#define SPL_DSP_H
#include <stdint.h>

/* The ARM968 build is for size (-Os, Makefile ARM_FLAGS: kernel code must fit the 32 KB ITCM
 * next to the runtime, spinla/armimage.py); SPL_HOT marks the few functions where a tile's
 * cycles go, built for speed (O2) and kept out of line so that their callers stay small.
 * bench/arm.py measures the cycles of both choices.  The host build is unaffected. */
#if defined(__arm__) && !defined(__clang__)
#define SPL_HOT __attribute__((noinline, optimize("O2")))
#else
#define SPL_HOT
#endif

/* A pair of q15 values read with one aligned 32-bit load; may_alias because the same memory
 * is int16_t elsewhere. */
typedef uint32_t __attribute__((may_alias, aligned(4))) spl_pair_t;

#if defined(__ARM_FEATURE_DSP) && !defined(SPL_NO_ACLE)
#include <arm_acle.h>
/* acc + bottom(a) * bottom(b), etc. (x = a's half, y = b's half) */
#define spl_smlabb(a, b, acc) __smlabb((int32_t)(a), (int32_t)(b), (acc))
#define spl_smlabt(a, b, acc) __smlabt((int32_t)(a), (int32_t)(b), (acc))
#define spl_smlatb(a, b, acc) __smlatb((int32_t)(a), (int32_t)(b), (acc))
#define spl_smlatt(a, b, acc) __smlatt((int32_t)(a), (int32_t)(b), (acc))
#else
static inline int32_t spl_lo16(uint32_t w) { return (int16_t)(w & 0xFFFFu); }
static inline int32_t spl_hi16(uint32_t w) { return (int16_t)(w >> 16); }
/* unsigned sum: wraps like SMLAxy instead of being undefined (never reached when the chunk
 * bound holds) */
#define SPL_MLA_(x, y, acc) ((int32_t)((uint32_t)(acc) + (uint32_t)((x) * (y))))
#define spl_smlabb(a, b, acc) SPL_MLA_(spl_lo16(a), spl_lo16(b), acc)
#define spl_smlabt(a, b, acc) SPL_MLA_(spl_lo16(a), spl_hi16(b), acc)
#define spl_smlatb(a, b, acc) SPL_MLA_(spl_hi16(a), spl_lo16(b), acc)
#define spl_smlatt(a, b, acc) SPL_MLA_(spl_hi16(a), spl_hi16(b), acc)
#endif

/* The overflow check that costs nothing in the loop (ARM only).  SMLAxy sets the sticky Q
 * flag (CPSR bit 27) when its 32-bit accumulation overflows (ARM DDI 0100E, ARMv5TE "SMLA<x><y>":
 * the product of two halfwords alone never overflows).  A tile whose every partial sum is an
 * SMLAxy therefore summed exactly in int32 iff Q is still clear afterwards: the kernels clear
 * it, run the int32 path without any bound on the data, and redo the tile on the exact
 * (chunked, int64) path in the rare case that it is set, instead of scanning both operands
 * first to prove a chunk length (spl_safe_chunk, about 4.5 cycles per operand value).  The
 * check reads memory-clobbering volatile asm after the tile's results are stored, so no SMLAxy
 * that feeds them can move past it.  Other targets keep the proof. */
#if defined(__arm__) && defined(__ARM_FEATURE_DSP) && !defined(SPL_NO_ACLE)
#define SPL_HAVE_QFLAG 1
static inline void spl_q_clear(void)
{
    uint32_t t;
    __asm__ volatile("mrs %0, cpsr\n\tbic %0, %0, #0x08000000\n\tmsr cpsr_f, %0"
                     : "=&r"(t) : : "cc", "memory");
}
static inline int spl_q_set(void)
{
    uint32_t t;
    __asm__ volatile("mrs %0, cpsr" : "=r"(t) : : "memory");
    return (int)((t >> 27) & 1u);
}
#endif

/* acc + a[0] b[0] + a[1] b[1] for pair words a, b: the dot product of two pairs. */
#define spl_dot2(a, b, acc) spl_smlatt(a, b, spl_smlabb(a, b, acc))

#endif
