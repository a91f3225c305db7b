/* 2-D pooling over NHWC data (valid windows) and its gradients.
 *
 * Forward tiles are ranges of global output rows r = n * oh + oy; gradient tiles are ranges of
 * global input rows r = n * h + iy, so every core writes only its own rows and windows that
 * overlap (stride < window) need no cross-core reduction: a core gathers every window that
 * touches its rows.
 *
 * Average: the window sum is exact (int32), then multiplied by mult ~ 2^shift / (kh * kw) and
 * rounded once by spl_requant_q63.  For a power-of-two window mult = 1 and the division is an
 * exact shift.  Otherwise the caller picks mult in (2^30, 2^31) (spinla/kernels/pool.py), so
 * |mult / 2^shift - 1 / (kh * kw)| <= 2^-31 / (kh * kw) and the output is within one rounding
 * plus 2^-16 LSB of the exact mean.  Max: values are copied, never rounded; the argmax is the
 * window offset ky * kw + kx of the first maximum in row-major window order. */
#include "spinla.h"
#include "spl_round.h"

/* acc[0..n) * mult rounded and saturated into y, through spl_requant_block_q63 in blocks so
 * that the host vectorises the rounding (the same result as spl_requant_q63 per element). */
#define POOL_BLOCK 64
static uint32_t requant_scaled(const q31_t *acc, int64_t n, int32_t mult, const spl_requant_t *rq,
                               uint32_t idx0, q15_t *y)
{
    q63_t t[POOL_BLOCK];
    uint32_t sat = 0;
#if defined(__arm__) || defined(SPL_PORTABLE)
    /* Power-of-two windows (mult = 1, LeNet's 2 x 2): the int32 window sums are rounded
     * directly by spl_rq32, no int64 copy (the host keeps the vectorised block path below). */
    spl_rq32_t r32;
    if (mult == 1 && spl_rq32_init(&r32, rq)) {
        for (int64_t i = 0; i < n; i++)
            y[i] = spl_rq32(&r32, acc[i], idx0 + (uint32_t)i, &sat);
        return sat;
    }
#endif
    for (int64_t i0 = 0; i0 < n; i0 += POOL_BLOCK) {
        int32_t len = n - i0 < POOL_BLOCK ? (int32_t)(n - i0) : POOL_BLOCK;
        for (int32_t i = 0; i < len; i++)
            t[i] = (q63_t)acc[i0 + i] * mult;
        sat += spl_requant_block_q63(t, y + i0, len, rq, idx0 + (uint32_t)i0);
    }
    return sat;
}

uint32_t arm_avg_pool2d_q15(const q15_t *x, int32_t xrow0, const spl_pool2d_t *g, q15_t *y,
                            int32_t r0, int32_t r1, int32_t mult, const spl_requant_t *rq,
                            q31_t *acc)
{
    uint32_t sat = 0;
    int32_t c = g->c, owc = g->ow * c;
    int64_t wc = (int64_t)g->w * c;
    for (int32_t r = r0; r < r1; r++) {
        int32_t n = r / g->oh, oy = r - n * g->oh; /* one division per row */
        for (int32_t i = 0; i < owc; i++)
            acc[i] = 0;
        for (int32_t ky = 0; ky < g->kh; ky++) {
            const q15_t *xr = x + ((int64_t)n * g->h + oy * g->sy + ky - xrow0) * wc;
            for (int32_t ox = 0; ox < g->ow; ox++) {
                const q15_t *s = xr + (int64_t)ox * g->sx * c;
                q31_t *a = acc + (int64_t)ox * c;
                for (int32_t kx = 0; kx < g->kw; kx++, s += c)
                    for (int32_t ch = 0; ch < c; ch++)
                        a[ch] += s[ch];
            }
        }
        q15_t *yr = y + (int64_t)(r - r0) * owc;
        uint32_t idx0 = (uint32_t)r * (uint32_t)owc;
        sat += requant_scaled(acc, owc, mult, rq, idx0, yr);
    }
    return sat;
}

void arm_max_pool2d_q15(const q15_t *x, int32_t xrow0, const spl_pool2d_t *g, q15_t *y,
                        q15_t *arg, int32_t r0, int32_t r1)
{
    int32_t c = g->c, owc = g->ow * c;
    int64_t wc = (int64_t)g->w * c;
    for (int32_t r = r0; r < r1; r++) {
        int32_t n = r / g->oh, oy = r - n * g->oh; /* one division per row */
        q15_t *yr = y + (int64_t)(r - r0) * owc, *ar = arg + (int64_t)(r - r0) * owc;
        for (int32_t i = 0; i < owc; i++) {
            yr[i] = SPL_Q15_MIN;
            ar[i] = -1;
        }
        int32_t j = 0;
        for (int32_t ky = 0; ky < g->kh; ky++) {
            const q15_t *xr = x + ((int64_t)n * g->h + oy * g->sy + ky - xrow0) * wc;
            for (int32_t kx = 0; kx < g->kw; kx++, j++) {
                for (int32_t ox = 0; ox < g->ow; ox++) {
                    const q15_t *s = xr + ((int64_t)ox * g->sx + kx) * c;
                    q15_t *b = yr + (int64_t)ox * c, *a = ar + (int64_t)ox * c;
                    /* strictly greater (or the first offset): the first maximum wins */
                    for (int32_t ch = 0; ch < c; ch++) {
                        int32_t take = s[ch] > b[ch] || a[ch] < 0;
                        b[ch] = take ? s[ch] : b[ch];
                        a[ch] = take ? (q15_t)j : a[ch];
                    }
                }
            }
        }
    }
}

/* Output rows oy of image n whose windows cover input rows [a, b). */
static void covering(const spl_pool2d_t *g, int32_t a, int32_t b, int32_t *lo, int32_t *hi)
{
    int32_t t = a - g->kh + 1;
    *lo = t <= 0 ? 0 : (t + g->sy - 1) / g->sy;
    *hi = (b - 1) / g->sy + 1;
    if (*hi > g->oh)
        *hi = g->oh;
}

/* Gradient tile: accumulates into acc ((r1 - r0) x w x c int32) every window that touches
 * input rows r0..r1: every window value (avg), or only the argmax position when arg is given
 * (max). */
static void scatter_windows(const q15_t *d, int32_t drow0, const q15_t *arg,
                            const spl_pool2d_t *g, int32_t r0, int32_t r1, q31_t *acc)
{
    int32_t c = g->c, owc = g->ow * c;
    int64_t wc = (int64_t)g->w * c;
    for (int64_t i = 0; i < (int64_t)(r1 - r0) * wc; i++)
        acc[i] = 0;
    for (int32_t r = r0; r < r1;) {
        int32_t n = r / g->h, a = r - n * g->h;
        int32_t b = g->h < a + (r1 - r) ? g->h : a + (r1 - r);
        int32_t oy0, oy1;
        covering(g, a, b, &oy0, &oy1);
        for (int32_t oy = oy0; oy < oy1; oy++) {
            int64_t drow = (int64_t)n * g->oh + oy - drow0;
            const q15_t *dr = d + drow * owc, *ar = arg ? arg + drow * owc : 0;
            int32_t j = 0;
            for (int32_t ky = 0; ky < g->kh; ky++) {
                int32_t iy = oy * g->sy + ky;
                if (iy < a || iy >= b) {
                    j += g->kw;
                    continue;
                }
                q31_t *accr = acc + ((int64_t)n * g->h + iy - r0) * wc;
                for (int32_t kx = 0; kx < g->kw; kx++, j++) {
                    for (int32_t ox = 0; ox < g->ow; ox++) {
                        q31_t *t = accr + ((int64_t)ox * g->sx + kx) * c;
                        const q15_t *s = dr + (int64_t)ox * c;
                        if (ar) {
                            const q15_t *m = ar + (int64_t)ox * c;
                            for (int32_t ch = 0; ch < c; ch++)
                                t[ch] += m[ch] == j ? s[ch] : 0;
                        } else {
                            for (int32_t ch = 0; ch < c; ch++)
                                t[ch] += s[ch];
                        }
                    }
                }
            }
        }
        r += b - a;
    }
}

uint32_t arm_avg_pool2d_grad_q15(const q15_t *d, int32_t drow0, const spl_pool2d_t *g,
                                 q15_t *dx, int32_t r0, int32_t r1, int32_t mult,
                                 const spl_requant_t *rq, q31_t *acc)
{
    uint32_t sat = 0;
    scatter_windows(d, drow0, 0, g, r0, r1, acc);
    int64_t n = (int64_t)(r1 - r0) * g->w * g->c;
    uint32_t idx0 = (uint32_t)r0 * (uint32_t)(g->w * g->c);
    sat += requant_scaled(acc, n, mult, rq, idx0, dx);
    return sat;
}

uint32_t arm_max_pool2d_grad_q15(const q15_t *d, const q15_t *arg, int32_t drow0,
                                 const spl_pool2d_t *g, q15_t *dx, int32_t r0, int32_t r1,
                                 q31_t *acc)
{
    /* Overlapping windows can route several deltas to one input: summed exactly, then
     * saturated (counted); no rounding since dx keeps delta's format. */
    uint32_t sat = 0;
    spl_requant_t rq = {0, SPL_ROUND_NEAREST, 0};
    scatter_windows(d, drow0, arg, g, r0, r1, acc);
    int64_t n = (int64_t)(r1 - r0) * g->w * g->c;
    sat += requant_scaled(acc, n, 1, &rq, 0, dx);
    return sat;
}
