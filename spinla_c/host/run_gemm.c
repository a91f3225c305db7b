/* Emulator runner for gemm: tiles are (batch, m0, m1, n0, n1) rows; the batch stride of each
 * operand is its full matrix.  On an AVX-512 VNNI host, products with short k (the weight
 * gradients of small batches) take the outer-product path of gemm_outer_avx512.inc, with Bt
 * packed once per call; every other tile (and any tile that path declines) runs the kernel. */
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
    uint32_t *bp = NULL, mb[64];
    int32_t ldp = 0, nb = 0;
#if defined(SPL_SIMD_AVX512)
    /* Outer path: short k, one packed copy of every batch's Bt (at most 64 batches). */
    for (int32_t t = 0; t < ntiles; t++)
        nb = tiles[5 * t] + 1 > nb ? tiles[5 * t] + 1 : nb;
    if (K >= 1 && K <= OUTER_MAX_K && N >= OUTER_MIN_N && nb <= 64) {
        ldp = (N + OUTER_W + 15) & ~15; /* a 64-column block from any column stays inside */
        int64_t per = (int64_t)(K + 1) / 2 * ldp;
        bp = (uint32_t *)malloc((size_t)(per * nb) * sizeof(uint32_t));
        for (int32_t b = 0; bp && b < nb; b++)
            mb[b] = outer_pack(bt + (int64_t)b * N * K, N, K, ldp, bp + b * per);
    }
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
            if (gemm_outer(a + (b * M + m0) * K, bp + b * ((K + 1) / 2) * ldp + n0, ldp, mb[b],
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
    (void)ldp; (void)nb; (void)mb;
    return sat;
}
