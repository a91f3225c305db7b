/* uint8 data (pixels) through a 256-entry table into int16: the exact quantisation of a data
 * set that spinla/nn/data.py computes the table for (one lookup per pixel, no rounding
 * here).  A training set is tens of millions of pixels converted once per fit; NumPy's take
 * does the same lookups several times slower. */
#include "../spinla.h"
#include "convert.h"

void spl_lut_u8_to_i16(const uint8_t *src, int16_t *dst, int64_t n, const int16_t *table,
                       int32_t nthreads)
{
    int16_t t[256];
    for (int32_t i = 0; i < 256; i++)
        t[i] = table[i];
#pragma omp parallel for schedule(static) num_threads(nthreads)
    for (int64_t i = 0; i < n; i++)
        dst[i] = t[src[i]];
}
