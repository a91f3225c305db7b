/* Strided box copy: every data-movement op (transpose, permute, flip, slice, pad, concatenate,
 * broadcast) is one of these, which on SpiNNaker is a sequence of DMA descriptors. */
#include "spinla.h"
#include "spl_dsp.h"

/* The last two dimensions of a box.  A transposing copy (strided reads) goes in square blocks
 * so that both sides stay within a few cache lines (on the host) or DMA rows (on SpiNNaker). */
static inline void copy2d(const q15_t *src, int32_t ss0, int32_t ss1, q15_t *dst, int32_t ds0,
                   int32_t ds1, int32_t n0, int32_t n1)
{
    enum { B = 16 };
    if (ss1 == 1 && ds1 == 1 && ss0 == n1 && ds0 == n1) { /* adjacent rows: one run */
        n1 *= n0;
        n0 = 1;
    }
    if (ss1 == 1 && ds1 == 1) {
        /* Row pointers stepped, not recomputed: a 64-bit multiply per row is a libcall-sized
         * sequence on the ARM968 at -Os. */
        const q15_t *s = src;
        q15_t *t = dst;
        for (int32_t i = 0; i < n0; i++, s += ss0, t += ds0)
            for (int32_t j = 0; j < n1; j++)
                t[j] = s[j];
        return;
    }
#if defined(__arm__)
    /* DTCM has no cache lines to keep: plain rows (and less code in ITCM). */
    (void)B;
    for (int32_t i = 0; i < n0; i++, src += ss0, dst += ds0)
        for (int32_t j = 0; j < n1; j++)
            dst[(int64_t)j * ds1] = src[(int64_t)j * ss1];
    return;
#endif
    for (int32_t i0 = 0; i0 < n0; i0 += B) {
        int32_t i1 = i0 + B < n0 ? i0 + B : n0;
        for (int32_t j0 = 0; j0 < n1; j0 += B) {
            int32_t j1 = j0 + B < n1 ? j0 + B : n1;
            for (int32_t i = i0; i < i1; i++) {
                const q15_t *s = src + (int64_t)i * ss0;
                q15_t *t = dst + (int64_t)i * ds0;
                for (int32_t j = j0; j < j1; j++)
                    t[(int64_t)j * ds1] = s[(int64_t)j * ss1];
            }
        }
    }
}

SPL_HOT void arm_copy_q15(const q15_t *src, const int32_t *src_strides, q15_t *dst,
                  const int32_t *dst_strides, const int32_t *shape, int32_t ndim)
{
    int32_t idx[SPL_MAX_DIMS]; /* zeroed by a loop: at -Os GCC turns an initialiser into memset,
                                * which a freestanding kernel does not have */
    for (int32_t d = 0; d < SPL_MAX_DIMS; d++)
        idx[d] = 0;
    for (int32_t d = 0; d < ndim; d++)
        if (shape[d] <= 0)
            return;
    if (ndim == 0) {
        *dst = *src;
        return;
    }
    if (ndim == 1) {
        copy2d(src, 0, src_strides[0], dst, 0, dst_strides[0], 1, shape[0]);
        return;
    }
    int32_t a = ndim - 2, b = ndim - 1;
    for (;;) {
        copy2d(src, src_strides[a], src_strides[b], dst, dst_strides[a], dst_strides[b],
               shape[a], shape[b]);
        /* Odometer over the dimensions before the last two. */
        int32_t d = a - 1;
        while (d >= 0) {
            src += src_strides[d];
            dst += dst_strides[d];
            if (++idx[d] < shape[d])
                break;
            src -= (int64_t)src_strides[d] * shape[d];
            dst -= (int64_t)dst_strides[d] * shape[d];
            idx[d] = 0;
            d--;
        }
        if (d < 0)
            return;
    }
}

void arm_fill_q15(q15_t *dst, int32_t n, q15_t value)
{
    for (int32_t i = 0; i < n; i++)
        dst[i] = value;
}

/* Row gather (take along the leading axis): the DMA engine fetches each selected row. */
void arm_gather_rows_q15(const q15_t *src, int32_t row_len, const int32_t *rows, int32_t n,
                         q15_t *dst)
{
    for (int32_t r = 0; r < n; r++) {
        const q15_t *s = src + (int64_t)rows[r] * row_len;
        q15_t *t = dst + (int64_t)r * row_len;
        for (int32_t i = 0; i < row_len; i++)
            t[i] = s[i];
    }
}
