/* Emulator runners for the optimiser kernels: tiles are flat [e0, e1) ranges of the weight
 * tensor.  Each stored output gets its own stream of stochastic-rounding bits, derived from the
 * call's seed, so w, m and r are rounded independently. */
#include "../spinla.h"
#include "spl_host.h"
#include "optim.h"
#include "spl_threads.inc"

uint64_t spl_run_sgd(const int16_t *w, const int16_t *g, const int16_t *v, const int16_t *lr,
                     int16_t *w_out, int16_t *v_out, const int32_t *tiles, int32_t ntiles,
                     int32_t mu, int32_t w_shift, int32_t p_shift, int32_t v_shift,
                     int32_t v_round, int32_t mode, uint32_t seed, int32_t nthreads)
{
    uint64_t sat = 0;
    spl_sgd_t p = {mu, w_shift, p_shift, v_shift, v_round, mode, seed, spl_seed_mix(seed, 1u)};
    int32_t ranges[2 * SPL_FLAT_MAX_RANGES];
    spl_flat_tiles(&tiles, &ntiles, nthreads, SPL_FLAT_ALIGN, ranges);  /* element-wise */
#pragma omp parallel for schedule(static) reduction(+ : sat) num_threads(nthreads)
    for (int32_t t = 0; t < ntiles; t++) {
        int32_t e0 = tiles[2 * t], e1 = tiles[2 * t + 1];
        sat += arm_sgd_q15(w + e0, g + e0, mu ? v + e0 : 0, lr[0], w_out + e0,
                           mu ? v_out + e0 : 0, e1 - e0, &p, (uint32_t)e0);
    }
    return sat;
}

uint64_t spl_run_adam(const int16_t *w, const int16_t *g, const int16_t *m, const int16_t *r,
                      const int16_t *lr, int16_t *w_out, int16_t *m_out, int16_t *r_out,
                      const int32_t *tiles, int32_t ntiles, int32_t beta1, int32_t beta2,
                      int64_t eps, int32_t ratio_max, int32_t w_shift, int32_t g_shift,
                      int32_t mode,
                      uint32_t seed, int32_t nthreads)
{
    uint64_t sat = 0;
    spl_adam_t p = {beta1, beta2, eps, ratio_max, w_shift, g_shift, mode, seed,
                    spl_seed_mix(seed, 1u), spl_seed_mix(seed, 2u)};
    int32_t ranges[2 * SPL_FLAT_MAX_RANGES];
    spl_flat_tiles(&tiles, &ntiles, nthreads, SPL_FLAT_ALIGN, ranges);  /* element-wise */
#pragma omp parallel for schedule(static) reduction(+ : sat) num_threads(nthreads)
    for (int32_t t = 0; t < ntiles; t++) {
        int32_t e0 = tiles[2 * t], e1 = tiles[2 * t + 1];
        sat += arm_adam_q15(w + e0, g + e0, m + e0, r + e0, lr[0], w_out + e0, m_out + e0,
                            r_out + e0, e1 - e0, &p, (uint32_t)e0);
    }
    return sat;
}
