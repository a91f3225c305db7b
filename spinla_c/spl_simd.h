/* Which host SIMD path the kernels compile (one definition, used by the #if hooks in
 * gemm_q15.c / conv2d_q15.c and by spl_simd_path()).  At most one of these is defined, and
 * none for the ARM968 (no such units) or under -DSPL_PORTABLE (the reference build the tests
 * compare each SIMD path with, bit for bit).  AVX-512 VNNI wins over AVX2 on a CPU with both. */
#ifndef SPL_SIMD_H
#define SPL_SIMD_H

#if !defined(SPL_PORTABLE) && defined(__AVX512VNNI__) && defined(__AVX512BW__)
#define SPL_SIMD_AVX512 1
#elif !defined(SPL_PORTABLE) && defined(__AVX2__)
#define SPL_SIMD_AVX2 1
#elif !defined(SPL_PORTABLE) && defined(__aarch64__) && defined(__ARM_NEON)
#define SPL_SIMD_NEON 1
#endif

#endif
