/* Emulator runner for gemm: tiles are (batch, m0, m1, n0, n1) rows; the batch stride of each
 * operand is its full matrix.  On an AVX-512 VNNI host, tiles of products with short k (the
 * weight gradients of small batches) or whose sums fit int32 take the outer-product path of
 * gemm_outer_avx512.inc, with Bt packed once per call; every other tile (and any tile that
 * path declines) runs the kernel, given (when no tile could take that path) the energies of
 * its rows for its overflow plan, taken once per call. */
#include <stdlib.h>
#include "../spinla.h"
#include "../spl_simd.h"
#include "spl_host.h"
#include "../spl_gemm.h"

#if defined(SPL_SIMD_AVX512)
#include "gemm_outer_avx512.inc"
#endif

/* MACs a call needs per host thread before it wakes another.  With OMP_WAIT_POLICY=PASSIVE
 * (spinla/kernels/__init__.py) every parallel region wakes sleeping threads, which on the
 * 2-core Zen 5 VM the benchmarks run on costs 50-70 us of wall time: MLP-1's small products
 * (64x10x300, 300x64x10, 64x300x10: 0.2M MACs, 4-6 us on one thread) took 60-77 us on two,
 * and two threads broke even near 10-15M MACs (6-8M on the AVX2 build, half as fast a MAC).
 * The caller's thread count (spinla.kernels.threads) is an upper bound. */
#if defined(SPL_SIMD_AVX512)
#define GEMM_PAR_MACS ((int64_t)6 << 20)
#elif defined(SPL_SIMD_AVX2)
#define GEMM_PAR_MACS ((int64_t)4 << 20)
#else
#define GEMM_PAR_MACS ((int64_t)SPL_HOST_PARALLEL_MIN_WORK) /* (not measured here) */
#endif

uint64_t spl_run_gemm(const int16_t *a, const int16_t *bt, int16_t *c, int32_t M, int32_t N,
                      int32_t K, const int32_t *tiles, int32_t ntiles, int32_t shift,
                      int32_t mode, uint32_t seed, int32_t nthreads)
{
    uint64_t sat = 0;
    spl_requant_t rq = {shift, mode, seed};
    uint32_t *ea = NULL;
    int32_t nb = 0;
    int outer = 0; /* the outer path is prepared (AVX-512) */
    int64_t macs = 0;
    for (int32_t t = 0; t < ntiles; t++) { /* batches, work */
        const int32_t *tl = tiles + 5 * t;
        nb = tl[0] + 1 > nb ? tl[0] + 1 : nb;
        macs += (int64_t)(tl[2] - tl[1]) * (tl[4] - tl[3]) * K;
    }
    int64_t team = macs / GEMM_PAR_MACS;
    nthreads = team < 1 ? 1 : team < nthreads ? (int32_t)team : nthreads;
#if defined(SPL_SIMD_AVX512)
    /* Outer path (short k, or sums that fit int32): one packed copy of every batch's Bt (at
     * most 64 batches) and the statistics of the A and Bt rows, once per call. */
    int64_t wide = 0; /* MACs in tiles wide enough for the path's 64-column blocks */
    for (int32_t t = 0; t < ntiles; t++) {
        const int32_t *tl = tiles + 5 * t;
        if (tl[4] - tl[3] >= OUTER_MIN_TILE_N)
            wide += (int64_t)(tl[2] - tl[1]) * (tl[4] - tl[3]) * K;
    }
    outer_call_t oc;
    outer = outer_prepare(&oc, a, bt, M, N, K, nb, 2 * wide >= macs);
#endif
#if defined(SPL_SIMD_AVX512) || defined(SPL_SIMD_AVX2)
    /* Otherwise the kernel's overflow plan, from every A and Bt row's energies taken here once
     * (a tile would scan its rows again: each A row once per 64 output columns). */
    int64_t ew = spl_gemm_energy_words(K);
    if (!outer && ntiles > 1 && ew > 0) {
        ea = (uint32_t *)malloc((size_t)(nb * (M + N) * ew) * sizeof(uint32_t));
        for (int32_t b = 0; ea && b < nb; b++)
            if (!spl_gemm_row_energy(a + (int64_t)b * M * K, M, K, K, ea + b * M * ew) ||
                !spl_gemm_row_energy(bt + (int64_t)b * N * K, N, K, K,
                                     ea + ((int64_t)nb * M + (int64_t)b * N) * ew)) {
                free(ea);
                ea = NULL;
            }
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
        if (outer && m1 > m0 && n1 > n0) {
            uint32_t s = 0;
            if (outer_tile(&oc, a, c, b, m0, m1, n0, n1, &r, &s)) {
                sat += s;
                continue;
            }
        }
#endif
#if defined(SPL_SIMD_AVX512) || defined(SPL_SIMD_AVX2)
        if (ea) {
            sat += spl_gemm_q15_energy(a + (b * M + m0) * K, K, bt + (b * N + n0) * K, K,
                                       c + (b * M + m0) * N + n0, N, m1 - m0, n1 - n0, K, &r,
                                       (uint32_t)m0, (uint32_t)n0, (uint32_t)N,
                                       ea + (b * M + m0) * ew,
                                       ea + ((int64_t)nb * M + b * N + n0) * ew);
            continue;
        }
#endif
        sat += arm_gemm_q15(a + (b * M + m0) * K, K, bt + (b * N + n0) * K, K,
                            c + (b * M + m0) * N + n0, N, m1 - m0, n1 - n0, K, &r,
                            (uint32_t)m0, (uint32_t)n0, (uint32_t)N);
    }
#if defined(SPL_SIMD_AVX512)
    if (outer) {
        free(oc.bp);
        free(oc.st);
    }
#endif
    free(ea);
    (void)nb; (void)ea; (void)outer;
    return sat;
}
