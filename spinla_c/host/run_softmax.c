/* Emulator runner for softmax (SPL_SM_SOFTMAX) and logsumexp (SPL_SM_LOGSUMEXP) over
 * contiguous rows of length n: tiles are row ranges [r0, r1). */
#include "../spinla.h"
#include "eltwise.h"

uint64_t spl_run_softmax(int32_t op, const int16_t *x, int16_t *y, int32_t rows, int32_t n,
                         int32_t frac_in, int32_t frac_out, int32_t mode, uint32_t seed,
                         const int32_t *tiles, int32_t ntiles, int32_t nthreads)
{
    uint64_t sat = 0;
    (void)rows;
#pragma omp parallel for schedule(dynamic, 1) reduction(+ : sat) num_threads(nthreads)
    for (int32_t t = 0; t < ntiles; t++) {
        int64_t r0 = tiles[2 * t], r1 = tiles[2 * t + 1];
        if (op == SPL_SM_SOFTMAX)
            sat += arm_softmax_q15(x + r0 * n, y + r0 * n, (int32_t)(r1 - r0), n, frac_in,
                                   frac_out, mode, seed, (uint32_t)(r0 * n));
        else
            sat += arm_logsumexp_q15(x + r0 * n, y + r0, (int32_t)(r1 - r0), n,
                                     frac_in, frac_out, mode, seed, (uint32_t)r0);
    }
    return sat;
}
