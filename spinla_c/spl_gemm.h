/* Internal (not part of the public API): the GEMM entry that callers with their own overflow
 * proof use (conv2d_q15.c proves the bound once per tile from the input rows and the weight
 * slice instead of once per arm_gemm_q15 call on every im2col block), and the magnitude scan
 * that proof is made of.  gemm_q15.c documents both. */
#ifndef SPL_GEMM_H
#define SPL_GEMM_H
#include "spinla.h"
#include "spl_dsp.h"

/* Upper bounds on max |x| and on the largest row sum of |x| over a rows x cols block. */
void spl_abs_stats(const q15_t *x, int32_t rows, int32_t cols, int32_t ld, uint32_t *max_abs,
                   uint64_t *max_row_sum);
/* arm_gemm_q15 with the int32 chunk length given: chunk > 0 is a length the caller has proved
 * safe (no int32 sum of `chunk` products of the operands can overflow); 0 lets the kernel
 * decide (on the ARM968 the Q-flag check, spl_dsp.h; elsewhere spl_safe_chunk). */
uint32_t spl_gemm_q15_chunk(const q15_t *a, int32_t lda, const q15_t *bt, int32_t ldb, q15_t *c,
                            int32_t ldc, int32_t m, int32_t n, int32_t k,
                            const spl_requant_t *rq, uint32_t row0, uint32_t col0,
                            uint32_t ncols_total, int32_t chunk);
/* The 2 x 2 register block's int32 sums (gemm_q15.c): s[r * 2 + c] += A row r . Bt row c over
 * len k-pairs from *pa0, *pa1 (A rows) and *pb0, *pb1 (Bt rows), pointers advanced; SMLAxy on
 * the ARM968, so an overflow sets the Q flag (spl_dsp.h). */
void spl_pairs_2x2(const spl_pair_t **pa0, const spl_pair_t **pa1, const spl_pair_t **pb0,
                   const spl_pair_t **pb1, int32_t len, int32_t s[4]);
#include "spl_simd.h"
#if defined(SPL_SIMD_AVX512) || defined(SPL_SIMD_AVX2)
/* Host only (host/gemm_avx512.inc, host/gemm_avx2.inc): the energies the SIMD path's overflow
 * plan reads from a tile's rows, taken once per call by the emulator's runner instead:
 * spl_gemm_energy_words(k) uint32 a row (0: k outside the path), spl_gemm_row_energy writes
 * them for `rows` rows of k values (stride ld) into e (0 when k is outside the path), and
 * spl_gemm_q15_energy is arm_gemm_q15 for a tile given its A and Bt rows' energies (ea, eb),
 * so that its plan needs no scan of them. */
int32_t spl_gemm_energy_words(int32_t k);
int spl_gemm_row_energy(const q15_t *x, int32_t rows, int32_t ld, int32_t k, uint32_t *e);
uint32_t spl_gemm_q15_energy(const q15_t *a, int32_t lda, const q15_t *bt, int32_t ldb,
                             q15_t *c, int32_t ldc, int32_t m, int32_t n, int32_t k,
                             const spl_requant_t *rq, uint32_t row0, uint32_t col0,
                             uint32_t ncols_total, const uint32_t *ea, const uint32_t *eb);
#endif
#if defined(__arm__) && defined(__ARM_FEATURE_DSP)
/* Exact int64 sums acc[r * 2 + c] = A row r . Bt row c over k (SMLALxy; any data, any
 * alignment): the ARM968's exact path. */
void spl_block_2x2_exact(const q15_t *a, int32_t lda, const q15_t *bt, int32_t ldb, int32_t k,
                         q63_t acc[4]);
#endif
#endif
