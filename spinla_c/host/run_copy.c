/* Emulator runner for strided copies and format changes: tiles split the outermost dimension
 * (copy) or the flat range (requant). */
#include "../spinla.h"
#include "spl_host.h"
#include "spl_threads.inc"

void spl_run_copy(const int16_t *src, const int32_t *src_strides, int16_t *dst,
                  const int32_t *dst_strides, const int32_t *shape, int32_t ndim,
                  const int32_t *tiles, int32_t ntiles, int32_t nthreads)
{
#pragma omp parallel for schedule(static) num_threads(nthreads)
    for (int32_t t = 0; t < ntiles; t++) {
        int32_t d0 = tiles[2 * t], d1 = tiles[2 * t + 1];
        int32_t sh[SPL_MAX_DIMS];
        for (int32_t d = 0; d < ndim; d++)
            sh[d] = shape[d];
        sh[0] = d1 - d0;
        arm_copy_q15(src + (int64_t)d0 * src_strides[0], src_strides,
                     dst + (int64_t)d0 * dst_strides[0], dst_strides, sh, ndim);
    }
}

uint64_t spl_run_requant(const int16_t *src, int16_t *dst, int32_t n, const int32_t *tiles,
                         int32_t ntiles, int32_t shift, int32_t mode, uint32_t seed,
                         int32_t nthreads)
{
    uint64_t sat = 0;
    spl_requant_t rq = {shift, mode, seed};
    (void)n;
    int32_t ranges[2 * SPL_FLAT_MAX_RANGES], nr = spl_flat_ranges(tiles, ntiles, nthreads, ranges);
    if (nr) { /* element-wise: one range per thread (spl_threads.inc) */
        tiles = ranges;
        ntiles = nr;
    }
#pragma omp parallel for schedule(static) reduction(+ : sat) num_threads(nthreads)
    for (int32_t t = 0; t < ntiles; t++) {
        int32_t e0 = tiles[2 * t], e1 = tiles[2 * t + 1];
        sat += arm_requant_q15(src + e0, dst + e0, e1 - e0, &rq, (uint32_t)e0);
    }
    return sat;
}

void spl_run_gather(const int16_t *src, int32_t row_len, const int32_t *rows, int16_t *dst,
                    const int32_t *tiles, int32_t ntiles, int32_t nthreads)
{
#pragma omp parallel for schedule(static) num_threads(nthreads)
    for (int32_t t = 0; t < ntiles; t++) {
        int32_t r0 = tiles[2 * t], r1 = tiles[2 * t + 1];
        arm_gather_rows_q15(src, row_len, rows + r0, r1 - r0, dst + (int64_t)r0 * row_len);
    }
}
