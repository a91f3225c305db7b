/* Strided box copy: every data-movement op (transpose, permute, flip, slice, pad, concatenate,
 * broadcast) is one of these, which on SpiNNaker is a sequence of DMA descriptors. */
#include "spinla.h"

void arm_copy_q15(const q15_t *src, const int32_t *src_strides, q15_t *dst,
                  const int32_t *dst_strides, const int32_t *shape, int32_t ndim)
{
    int32_t idx[SPL_MAX_DIMS] = {0};
    for (int32_t d = 0; d < ndim; d++)
        if (shape[d] <= 0)
            return;
    int32_t last = ndim - 1;
    int32_t n = ndim > 0 ? shape[last] : 1;
    int32_t ss = ndim > 0 ? src_strides[last] : 0, ds = ndim > 0 ? dst_strides[last] : 0;
    for (;;) {
        const q15_t *s = src;
        q15_t *t = dst;
        if (ss == 1 && ds == 1)
            for (int32_t i = 0; i < n; i++) t[i] = s[i];
        else
            for (int32_t i = 0; i < n; i++) t[(int64_t)i * ds] = s[(int64_t)i * ss];
        /* Odometer over the outer dimensions. */
        int32_t d = last - 1;
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
