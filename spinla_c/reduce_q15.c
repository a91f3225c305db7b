/* Reductions over the middle axis of a (rows, n, m) view: sum, mean, max, min, argmax,
 * argmin.  The caller (spinla/kernels/reduce.py) puts any reduction into this canonical form:
 * the reduced elements of one output are n values ld_n apart, and the m outputs of a row are
 * contiguous, so the inner loop runs over contiguous columns (vectorised on the host; LDM of
 * pairs on the ARM) whatever the reduced axis.
 *
 * Exactness: SUM adds in int32 chunks of at most 65535 values (65535 * 32768 < 2^31, so no
 * chunk can overflow) and the chunk sums in int64, then rounds once: error <= 1/2 LSB.
 * MEAN = requant(S * R, fi + 46 - fo) with R = round(2^46 / n), computed once per call by one
 * division: S*R/2^46 differs from S/n by at most |S| 2^-47 <= n 2^-32 input LSBs (|S| <=
 * n 2^15), so the mean is within 1/2 + n 2^-32 output LSBs of the exact mean (at fo = fi), and
 * deterministic (a pure function of S and n).  |S*R| <= 2^61 + n 2^15 fits int64.
 * MAX/MIN are exact (a requant only when the output format differs).  ARGMAX/ARGMIN return the
 * first index of the extreme value, like NumPy, as INT16 (indices past 32767 saturate,
 * counted).  n = 0 gives 0 (the caller rejects empty max/min/mean/arg reductions).
 *
 * Split SUM (rq NULL; spinla/kernels/reduce.py splits a large sum over many cores): each tile
 * sums one slice k0..k1 of the reduced axis and stores the exact int64 sum, in the input's
 * LSB and never rounded, as its partial (|partial| <= n 2^15: no overflow); one combining call
 * (arm_conv2d_grad_weight_reduce_q15 with no table) then adds the partials in int64 and rounds
 * once with spl_requant_q63(S, rq, flat output index).  Why that is bit for bit the one-tile
 * SUM: every partial and every partial sum is an exact integer (|S| <= n 2^15 < 2^63), and
 * integer addition is associative, so the combined S is the S above; the rounding applied to
 * it is the same function with the same rq and the same index (flat index o * inner + i in
 * both), so the output, its stochastic bits and its saturation (counted once per output, in
 * the combining call only, as here) are identical, saturated or not.  The partial store is a
 * branch in the output loop rather than an entry point of its own: with sum_cols out of line
 * it costs the ITCM image 36 bytes, where a wrapper function costs several times that (make
 * arm-image; Boosted LeNet-4's image had 80 bytes to spare). */
#include "spinla.h"

#define RED_COLS SPL_REDUCE_COLS
#define I32_CHUNK 65535

/* Out of line on the ARM968: inlined into arm_reduce_q15, whose output loop also stores the
 * partials of a split sum, its column loop ran out of registers and spilled its pointer
 * (about 20 % more cycles per input under spinla/armcycles.py; out of line, within 1 % of
 * before).  The host build inlines as it likes. */
#if defined(__arm__)
#define RED_OUT_OF_LINE __attribute__((noinline))
#else
#define RED_OUT_OF_LINE
#endif

/* Exact sums of len columns over n rows ld apart. */
RED_OUT_OF_LINE static void sum_cols(const q15_t *x, int32_t n, int32_t ld, int32_t len,
                                     q63_t *acc)
{
    for (int32_t j = 0; j < len; j++)
        acc[j] = 0;
    for (int32_t k0 = 0; k0 < n; k0 += I32_CHUNK) {
        int32_t k1 = n - k0 < I32_CHUNK ? n : k0 + I32_CHUNK;
        int32_t s[RED_COLS];
        for (int32_t j = 0; j < len; j++)
            s[j] = 0;
        if (len == 1 && ld == 1) {
            int32_t t = 0;
            for (int32_t k = k0; k < k1; k++)
                t += x[k];
            s[0] = t;
        } else {
            for (int32_t k = k0; k < k1; k++) {
                const q15_t *xk = x + (int64_t)k * ld;
                for (int32_t j = 0; j < len; j++)
                    s[j] += xk[j];
            }
        }
        for (int32_t j = 0; j < len; j++)
            acc[j] += s[j];
    }
}

/* Extremes of len columns (sign = +1 for max, -1 for min) with their first index. */
static void extreme_cols(const q15_t *x, int32_t n, int32_t ld, int32_t len, int32_t sign,
                         int32_t *best, int32_t *idx)
{
    for (int32_t j = 0; j < len; j++) {
        best[j] = sign * x[j];
        idx[j] = 0;
    }
    for (int32_t k = 1; k < n; k++) {
        const q15_t *xk = x + (int64_t)k * ld;
        for (int32_t j = 0; j < len; j++) {
            int32_t v = sign * xk[j];
            int32_t gt = v > best[j];
            best[j] = gt ? v : best[j];
            idx[j] = gt ? k : idx[j];
        }
    }
    for (int32_t j = 0; j < len; j++)
        best[j] *= sign;
}

uint32_t arm_reduce_q15(int32_t op, const q15_t *x, int32_t rows, int32_t ld_row, int32_t n,
                        int32_t ld_n, int32_t m, q15_t *y, int32_t ld_y,
                        const spl_requant_t *rq, uint32_t index0)
{
    uint32_t sat = 0;
    /* The one division of a MEAN call. */
    q63_t recip = n > 0 ? (q63_t)((((uint64_t)1 << SPL_MEAN_SHIFT) + (uint64_t)n / 2) /
                                  (uint64_t)n) : 0;
    for (int32_t r = 0; r < rows; r++) {
        const q15_t *xr = x + (int64_t)r * ld_row;
        q15_t *yr = y + (int64_t)r * ld_y;
        uint32_t ir = index0 + (uint32_t)r * (uint32_t)ld_y;
        for (int32_t j0 = 0; j0 < m; j0 += RED_COLS) {
            int32_t len = m - j0 < RED_COLS ? m - j0 : RED_COLS;
            q63_t out[RED_COLS];
            if (n <= 0) {
                for (int32_t j = 0; j < len; j++)
                    out[j] = 0;
            } else if (op == SPL_RED_SUM || op == SPL_RED_MEAN) {
                sum_cols(xr + j0, n, ld_n, len, out);
                if (op == SPL_RED_MEAN)
                    for (int32_t j = 0; j < len; j++)
                        out[j] *= recip;
            } else {
                int32_t best[RED_COLS], idx[RED_COLS];
                int32_t sign = (op == SPL_RED_MAX || op == SPL_RED_ARGMAX) ? 1 : -1;
                extreme_cols(xr + j0, n, ld_n, len, sign, best, idx);
                int32_t arg = op == SPL_RED_ARGMAX || op == SPL_RED_ARGMIN;
                for (int32_t j = 0; j < len; j++)
                    out[j] = arg ? idx[j] : best[j];
            }
            for (int32_t j = 0; j < len; j++) {
                if (rq)
                    yr[j0 + j] = spl_requant_q63(out[j], rq, ir + (uint32_t)(j0 + j), &sat);
                else
                    ((q63_t *)(void *)y)[(int64_t)r * ld_y + j0 + j] = out[j];
            }
        }
    }
    return sat;
}
