/* Softmax and logsumexp along contiguous rows.
 *
 * Per row: the max m (exact), e_j = exp(x_j - m) from the exp table in Q30 (so the row's
 * largest term is exactly 2^30 and no e_j overflows), the exact int64 sum S in [2^30, n 2^30],
 * then ONE reciprocal R = round(2^61 / S) per row (a 64-bit software division on the ARM968,
 * once per row) and p_j = requant(e_j R, 61 - frac_out).  e_j is recomputed in the last pass
 * instead of being stored, so a row needs no scratch beyond its input and output.
 * logsumexp = m + ln(S 2^-30), ln from the same table as log.
 *
 * Error (E = output LSB; tests/test_functions.py asserts it): each e_j has relative error
 * <= 9.2e-7 (the 2^r interpolation) plus 2^-30 absolute truncation; R adds relative
 * error <= n 2^-32.  So |p_j - softmax_j| <= 1/2 E + 2 (9.2e-7 + n 2^-32) + 2^-29, which at the
 * default q1.14 output (E = 2^-14) is below 0.53 E for rows up to 2^16.  logsumexp: ln's
 * interpolation (<= 1.9e-6) plus the sum's relative error (<= 9.2e-7 + n 2^-30): below
 * 1/2 E + 3e-6 + n 2^-30.  Input quantisation adds at most half its LSB times
 * sum_k |d softmax_j / d x_k| <= 1/2 (softmax) or 1 (logsumexp). */
#include "spinla.h"

#define SOFTMAX_SHIFT 61

static int32_t row_max(const q15_t *x, int32_t n)
{
    int32_t m = x[0];
    for (int32_t j = 1; j < n; j++)
        m = x[j] > m ? x[j] : m;
    return m;
}

static uint64_t row_sum_exp(const q15_t *x, int32_t n, int32_t mx, int32_t frac)
{
    uint64_t s = 0;
    for (int32_t j = 0; j < n; j++)
        s += spl_exp_neg_q30((int32_t)x[j] - mx, frac);
    return s;
}

uint32_t arm_softmax_q15(const q15_t *x, q15_t *y, int32_t rows, int32_t n, int32_t frac_in,
                         int32_t frac_out, int32_t mode, uint32_t seed, uint32_t index0)
{
    uint32_t sat = 0;
    spl_requant_t rq = {SOFTMAX_SHIFT - frac_out, mode, seed};
    if (n <= 0)
        return 0;
    for (int32_t r = 0; r < rows; r++) {
        const q15_t *xr = x + (int64_t)r * n;
        q15_t *yr = y + (int64_t)r * n;
        int32_t mx = row_max(xr, n);
        uint64_t s = row_sum_exp(xr, n, mx, frac_in);
        uint64_t recip = (((uint64_t)1 << SOFTMAX_SHIFT) + s / 2) / s;
        uint32_t ir = index0 + (uint32_t)r * (uint32_t)n;
        for (int32_t j = 0; j < n; j++) {
            uint64_t e = spl_exp_neg_q30((int32_t)xr[j] - mx, frac_in);
            yr[j] = spl_requant_q63((q63_t)(e * recip), &rq, ir + (uint32_t)j, &sat);
        }
    }
    return sat;
}

uint32_t arm_logsumexp_q15(const q15_t *x, q15_t *y, int32_t rows, int32_t n,
                           int32_t frac_in, int32_t frac_out, int32_t mode, uint32_t seed,
                           uint32_t index0)
{
    uint32_t sat = 0;
    spl_requant_t rq = {30 - frac_out, mode, seed};
    if (n <= 0)
        return 0;
    for (int32_t r = 0; r < rows; r++) {
        const q15_t *xr = x + (int64_t)r * n;
        int32_t mx = row_max(xr, n);
        uint64_t s = row_sum_exp(xr, n, mx, frac_in);
        q63_t acc = (q63_t)mx * ((q63_t)1 << (30 - frac_in)) + spl_ln_q30(s, 30);
        y[r] = spl_requant_q63(acc, &rq, index0 + (uint32_t)r, &sat);
    }
    return sat;
}
