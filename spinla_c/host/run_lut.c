/* Emulator runner for the LUT functions: tiles are flat ranges [e0, e1). */
#include "../spinla.h"
#include "eltwise.h"
#include "spl_threads.inc"

uint64_t spl_run_lut(int32_t fn, const int16_t *x, int16_t *y, int32_t frac_in,
                     int32_t frac_out, int32_t mode, uint32_t seed, const int32_t *tiles,
                     int32_t ntiles, int32_t nthreads)
{
    uint64_t sat = 0;
    int32_t ranges[2 * SPL_FLAT_MAX_RANGES];
    spl_flat_tiles(&tiles, &ntiles, nthreads, SPL_FLAT_ALIGN, ranges);  /* element-wise */
#pragma omp parallel for schedule(static) reduction(+ : sat) num_threads(nthreads)
    for (int32_t t = 0; t < ntiles; t++) {
        int32_t e0 = tiles[2 * t], e1 = tiles[2 * t + 1];
        sat += arm_lut_q15(fn, x + e0, y + e0, e1 - e0, frac_in, frac_out, mode, seed,
                           (uint32_t)e0);
    }
    return sat;
}
