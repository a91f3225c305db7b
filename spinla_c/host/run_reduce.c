/* Emulator runner for reductions over the middle axis of an (outer, n, inner) array: tiles
 * are (o0, o1, i0, i1) blocks of the (outer, inner) output. */
#include "../spinla.h"
#include "eltwise.h"
#include "spl_threads.inc"
#if !defined(SPL_PORTABLE)
#include "reduce_host.inc"
#define REDUCE reduce_host
#else /* the reference build: the kernel itself */
#define REDUCE arm_reduce_q15
#endif

uint64_t spl_run_reduce(int32_t op, const int16_t *x, int16_t *y, int32_t outer, int32_t n,
                        int32_t inner, int32_t shift, int32_t mode, uint32_t seed,
                        const int32_t *tiles, int32_t ntiles, int32_t nthreads)
{
    uint64_t sat = 0;
    spl_requant_t rq = {shift, mode, seed};
    int64_t ld_row = (int64_t)n * inner;
#pragma omp parallel for schedule(dynamic, 1) reduction(+ : sat) \
    num_threads(spl_team(nthreads, (int64_t)outer * n * inner))
    for (int32_t t = 0; t < ntiles; t++) {
        const int32_t *tl = tiles + 4 * t;
        int64_t o0 = tl[0], i0 = tl[2];
        sat += REDUCE(op, x + o0 * ld_row + i0, tl[1] - tl[0], (int32_t)ld_row, n, inner,
                      tl[3] - tl[2], y + o0 * inner + i0, inner, &rq,
                      (uint32_t)(o0 * inner + i0));
    }
    return sat;
}

/* The partial pass of a split SUM: tiles (s, o0, o1, i0, i1, k0, k1) write the exact int64
 * sums over k0..k1 of the reduced axis into partial s, an (outer, inner) plane of part. */
void spl_run_reduce_part(const int16_t *x, int64_t *part, int32_t outer, int32_t n,
                         int32_t inner, const int32_t *tiles, int32_t ntiles, int32_t nthreads)
{
    int64_t ld_row = (int64_t)n * inner, plane = (int64_t)outer * inner;
#pragma omp parallel for schedule(dynamic, 1) \
    num_threads(spl_team(nthreads, (int64_t)outer * n * inner))
    for (int32_t t = 0; t < ntiles; t++) {
        const int32_t *tl = tiles + 7 * t;
        int64_t s = tl[0], o0 = tl[1], i0 = tl[3], k0 = tl[5];
        /* rq NULL: arm_reduce_q15 writes the unrounded int64 sums (spinla.h). */
        REDUCE(SPL_RED_SUM, x + o0 * ld_row + k0 * inner + i0, tl[2] - tl[1],
               (int32_t)ld_row, tl[6] - tl[5], inner, tl[4] - tl[3],
               (q15_t *)(void *)(part + s * plane + o0 * inner + i0), inner, 0, 0);
    }
}
