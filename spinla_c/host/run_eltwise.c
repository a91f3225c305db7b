/* Emulator runner for element-wise ops: tiles are flat ranges [e0, e1) of the output box.
 * params (int64): op, shift_a, shift_b, shift_c, k0, k1, v0, v1, rq shift, rounding mode. */
#include "../spinla.h"
#include "eltwise.h"
#include "spl_threads.inc"
#if !defined(SPL_PORTABLE)
#include "eltwise_host.inc"
#endif

uint64_t spl_run_eltwise(const int64_t *params, uint32_t seed, const int16_t *a,
                         const int32_t *sa, const int16_t *b, const int32_t *sb,
                         const int16_t *c, const int32_t *sc, int16_t *y, const int32_t *shape,
                         int32_t ndim, const int32_t *tiles, int32_t ntiles, int32_t nthreads)
{
    uint64_t sat = 0;
    spl_eltwise_t p;
    p.op = (int32_t)params[0];
    p.shift_a = (int32_t)params[1];
    p.shift_b = (int32_t)params[2];
    p.shift_c = (int32_t)params[3];
    p.k0 = (int32_t)params[4];
    p.k1 = (int32_t)params[5];
    p.v0 = params[6];
    p.v1 = params[7];
    p.rq.shift = (int32_t)params[8];
    p.rq.mode = (int32_t)params[9];
    p.rq.seed = seed;
    int64_t elems = 1;
    for (int32_t d = 0; d < ndim; d++)
        elems *= shape[d];
    nthreads = spl_team(nthreads, elems);
    int32_t ranges[2 * SPL_FLAT_MAX_RANGES];
    spl_flat_tiles(&tiles, &ntiles, nthreads, SPL_FLAT_ALIGN, ranges);  /* element-wise */
#if !defined(SPL_PORTABLE)
    if (ew_host_fits(a, sa, b, sb, c, sc, shape, ndim)) { /* short rows: eltwise_host.inc */
#pragma omp parallel for schedule(static) reduction(+ : sat) num_threads(nthreads)
        for (int32_t t = 0; t < ntiles; t++)
            sat += ew_host_rows(&p, a, sa, b, sb, c, sc, y, shape, tiles[2 * t],
                                tiles[2 * t + 1] - tiles[2 * t]);
        return sat;
    }
    if (ew_host_flat(&p, sa, b, sb, c, sc, ndim)) { /* 1-D, ops in lanes: eltwise_host.inc */
#pragma omp parallel for schedule(static) reduction(+ : sat) num_threads(nthreads)
        for (int32_t t = 0; t < ntiles; t++) {
            int32_t e0 = tiles[2 * t];
            sat += ew_run(&p, a + (int64_t)e0 * sa[0], sa[0], b ? b + (int64_t)e0 * sb[0] : 0,
                          b ? sb[0] : 0, c ? c + (int64_t)e0 * sc[0] : 0, c ? sc[0] : 0,
                          y + e0, tiles[2 * t + 1] - e0, (uint32_t)e0);
        }
        return sat;
    }
#endif
#pragma omp parallel for schedule(static) reduction(+ : sat) num_threads(nthreads)
    for (int32_t t = 0; t < ntiles; t++) {
        int32_t e0 = tiles[2 * t], e1 = tiles[2 * t + 1];
        sat += arm_eltwise_q15(&p, a, sa, b, sb, c, sc, y + e0, shape, ndim, (uint32_t)e0,
                               e1 - e0);
    }
    return sat;
}
