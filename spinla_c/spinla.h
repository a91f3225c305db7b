/*
 * spinla.h - the one public header of the spinla kernels.
 *
 * Every function declared here is what one SpiNNaker core runs on one tile that sits in its
 * DTCM.  The sources are freestanding C99: no libc, no malloc, no float or double, so the same
 * files build for the host emulator (through cffi) and for the ARM968E-S
 * (arm-none-eabi-gcc -mcpu=arm968e-s -ffreestanding -nostdlib).
 *
 * Numbers are q15_t: 16-bit two's complement with a per-array count of fractional bits that
 * the caller (spinla/fixed.py) tracks; kernels only see the shifts that follow from those counts.
 * Arithmetic is exact in 32/64-bit integers until one final requantisation per output, whose
 * rounding (nearest or stochastic) and saturation are described by spl_requant_t.  Every kernel
 * that can saturate returns the number of saturated outputs so that nothing saturates silently.
 */
#ifndef SPINLA_H
#define SPINLA_H

#include <stdint.h>

typedef int16_t q15_t;
typedef int32_t q31_t;
typedef int64_t q63_t;

#define SPL_Q15_MIN (-32768)
#define SPL_Q15_MAX 32767

/* Rounding of the final right shift.  NEAREST rounds half towards +infinity (add half, floor):
 * error <= 2^-(f+1).  STOCHASTIC adds a uniform random integer in [0, 2^shift) before the floor,
 * so it rounds up with probability equal to the discarded fraction: unbiased, error < 2^-f. */
enum { SPL_ROUND_NEAREST = 0, SPL_ROUND_STOCHASTIC = 1 };

/* How an exact accumulator becomes a q15 output: out = sat16(round(acc * 2^-shift)).
 * shift may be negative (a left shift, saturating).  The random bits of stochastic rounding are
 * a pure function of (seed, global flat index of the output element), so any tiling, any core
 * count, the host and the ARM all produce the same bits. */
typedef struct {
    int32_t shift;
    int32_t mode;
    uint32_t seed;
} spl_requant_t;

/* --- random bits (rng_q15.c) ----------------------------------------------------------- */
uint32_t spl_rand_u32(uint32_t seed, uint32_t index);
uint32_t spl_seed_mix(uint32_t a, uint32_t b);

/* --- requantisation (requant_q15.c) ----------------------------------------------------- */
q15_t spl_requant_q63(q63_t acc, const spl_requant_t *rq, uint32_t index, uint32_t *sat);
uint32_t arm_requant_q15(const q15_t *src, q15_t *dst, int32_t n, const spl_requant_t *rq,
                         uint32_t index0);

/* --- matrix multiply (gemm_q15.c) -------------------------------------------------------- */
/* C[m x n] = requant(A[m x k] * Bt[n x k]^T): both operands k-contiguous, so each 32-bit load
 * fetches a pair of q15 values for the ARM968's single-cycle SMLAxy.  Exact: products are summed
 * in int32 over chunks short enough that no int32 overflow is possible (bounded from the tile's
 * own magnitudes, spl_safe_chunk) and the chunks in int64.  index0/ncols_total place the tile in the full output
 * for the stochastic-rounding bits.  Returns the count of saturated outputs. */
uint32_t arm_gemm_q15(const q15_t *a, int32_t lda, const q15_t *bt, int32_t ldb, q15_t *c,
                      int32_t ldc, int32_t m, int32_t n, int32_t k, const spl_requant_t *rq,
                      uint32_t row0, uint32_t col0, uint32_t ncols_total);
int32_t spl_max_abs_q15(const q15_t *x, int32_t rows, int32_t cols, int32_t ld);
int32_t spl_safe_chunk(const q15_t *a, int32_t lda, const q15_t *bt, int32_t ldb, int32_t m,
                       int32_t n, int32_t k);

/* --- strided copy: transpose, permute, flip, slice, pad, concatenate (copy_q15.c) -------- */
/* Copies a box of up to SPL_MAX_DIMS dimensions between two strided views (element strides,
 * negative ones flip).  On SpiNNaker this is DMA work; it never rounds or saturates. */
#define SPL_MAX_DIMS 6
void arm_copy_q15(const q15_t *src, const int32_t *src_strides, q15_t *dst,
                  const int32_t *dst_strides, const int32_t *shape, int32_t ndim);
void arm_fill_q15(q15_t *dst, int32_t n, q15_t value);
void arm_gather_rows_q15(const q15_t *src, int32_t row_len, const int32_t *rows, int32_t n,
                         q15_t *dst);

/* --- element-wise, unary functions, reductions, softmax ------------------------------------
 * (eltwise_q15.c, lut_q15.c, reduce_q15.c, softmax_q15.c) */
/* @@eltwise@@ */

/* --- convolution and pooling (conv2d_q15.c, pool_q15.c) --------------------------------- */
/* @@conv@@ */

/* --- optimiser updates (optim_q15.c) ----------------------------------------------------- */
/* @@optim@@ */

#endif
