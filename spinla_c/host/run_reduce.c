/* Emulator runner for reductions over the middle axis of an (outer, n, inner) array: tiles
 * are (o0, o1, i0, i1) blocks of the (outer, inner) output. */
#include "../spinla.h"
#include "eltwise.h"

uint64_t spl_run_reduce(int32_t op, const int16_t *x, int16_t *y, int32_t outer, int32_t n,
                        int32_t inner, int32_t shift, int32_t mode, uint32_t seed,
                        const int32_t *tiles, int32_t ntiles, int32_t nthreads)
{
    uint64_t sat = 0;
    spl_requant_t rq = {shift, mode, seed};
    int64_t ld_row = (int64_t)n * inner;
    (void)outer;
#pragma omp parallel for schedule(dynamic, 1) reduction(+ : sat) num_threads(nthreads)
    for (int32_t t = 0; t < ntiles; t++) {
        const int32_t *tl = tiles + 4 * t;
        int64_t o0 = tl[0], i0 = tl[2];
        sat += arm_reduce_q15(op, x + o0 * ld_row + i0, tl[1] - tl[0], (int32_t)ld_row, n,
                              inner, tl[3] - tl[2], y + o0 * inner + i0, inner, &rq,
                              (uint32_t)(o0 * inner + i0));
    }
    return sat;
}
