/* Emulator runner of the image warp: a tile is a range of whole samples (a sample's source
 * pixels depend on its theta, so it is never split), and tiles are independent, so they are
 * spread over host threads; Python passes nthreads = 1 for small calls. */
#include "../spinla.h"
#include "image.h"

void spl_run_warp_affine(const int16_t *x, const int16_t *theta, int16_t *y, int32_t h,
                         int32_t w, int32_t c, const int32_t *tiles, int32_t ntiles,
                         int32_t nthreads)
{
    int64_t img = (int64_t)h * w * c;
    /* dynamic: samples warped mostly outside the image cost less than the others */
#pragma omp parallel for schedule(dynamic, 1) num_threads(nthreads)
    for (int32_t t = 0; t < ntiles; t++) {
        int32_t n0 = tiles[2 * t], n1 = tiles[2 * t + 1];
        spl_warp_affine_q15(x + n0 * img, theta + 6 * (int64_t)n0, y + n0 * img, n1 - n0, h, w,
                            c);
    }
}
