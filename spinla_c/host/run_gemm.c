/* Emulator runner for gemm: tiles are (batch, m0, m1, n0, n1) rows; the batch stride of each
 * operand is its full matrix.  On an AVX-512 VNNI host, tiles of products with short k (the
 * weight gradients of small batches) or whose sums fit int32 take the outer-product path of
 * gemm_outer_avx512.inc, with Bt packed once per call; every other tile (and any tile that
 * path declines) runs the kernel. */
#include <stdlib.h>
#include "../spinla.h"
#include "../spl_simd.h"
#include "spl_host.h"

#if defined(SPL_SIMD_AVX512)
#include "gemm_outer_avx512.inc"
#endif

uint64_t spl_run_gemm(const int16_t *a, const int16_t *bt, int16_t *c, int32_t M, int32_t N,
                      int32_t K, const int32_t *tiles, int32_t ntiles, int32_t shift,
                      int32_t mode, uint32_t seed, int32_t nthreads)
{
    uint64_t sat = 0;
    spl_requant_t rq = {shift, mode, seed};
    uint32_t *bp = NULL, *ast = NULL, mb[64];
    int32_t ldp = 0, nb = 0;
#if defined(SPL_SIMD_AVX512)
    /* Outer path (short k, or sums that fit int32): one packed copy of every batch's Bt (at
     * most 64 batches) and the statistics of A's rows, once per call. */
    for (int32_t t = 0; t < ntiles; t++)
        nb = tiles[5 * t] + 1 > nb ? tiles[5 * t] + 1 : nb;
    outer_prepare(a, bt, M, N, K, nb, &bp, &ast, mb, &ldp);
#endif
#pragma omp parallel for schedule(dynamic, 1) reduction(+ : sat) num_threads(nthreads)
    for (int32_t t = 0; t < ntiles; t++) {
        const int32_t *tl = tiles + 5 * t;
        int64_t b = tl[0];
        int32_t m0 = tl[1], m1 = tl[2], n0 = tl[3], n1 = tl[4];
        /* Each batch gets its own index space so stochastic bits differ between batches. */
        spl_requant_t r = rq;
        r.seed = b ? spl_seed_mix(seed, (uint32_t)b) : seed;
#if defined(SPL_SIMD_AVX512)
        if (bp && m1 > m0 && n1 > n0) {
            uint32_t s = 0;
            if (gemm_outer(a + (b * M + m0) * K, ast + 2 * (b * M + m0),
                           bp + b * ((K + 1) / 2) * ldp + n0, ldp, mb[b],
                           c + (b * M + m0) * N + n0, N, m1 - m0, n1 - n0, K, &r, (uint32_t)m0,
                           (uint32_t)n0, (uint32_t)N, &s)) {
                sat += s;
                continue;
            }
        }
#endif
        sat += arm_gemm_q15(a + (b * M + m0) * K, K, bt + (b * N + n0) * K, K,
                            c + (b * M + m0) * N + n0, N, m1 - m0, n1 - n0, K, &r,
                            (uint32_t)m0, (uint32_t)n0, (uint32_t)N);
    }
    free(bp);
    free(ast);
    (void)ldp; (void)nb; (void)mb;
    return sat;
}
