/* Emulator runner for strided copies and format changes: tiles split the outermost dimension
 * (copy) or the flat range (requant). */
#include "../spinla.h"
#include "../spl_simd.h"
#include "spl_host.h"
#include "spl_threads.inc"

#if defined(SPL_SIMD_AVX512) || defined(SPL_SIMD_AVX2)
#define COPY_TRANSPOSE_SIMD 1 /* (256-bit unpacks only: AVX2 has them all) */
#include <immintrin.h>
/* dst[i * ld + j] = src[j * ls + i] for i < n0, j < n1: a 2-D transpose (permute_dims of a
 * matrix, the weight and activation transposes of every dense layer's step).  The kernel's
 * copy2d moves it one q15 at a time in 16 x 16 blocks; here 8 source rows of 16 values are
 * transposed in registers (three rounds of unpacks within 128-bit lanes: lane 0 gives
 * destination rows i0..i0+7, lane 1 rows i0+8..i0+15), the edges one value at a time.  A
 * copy moves bits, so any order of moves gives the same destination. */
static void transpose_q15(const q15_t *src, int32_t ls, q15_t *dst, int32_t ld, int32_t n0,
                          int32_t n1)
{
    int32_t i0 = 0;
    for (; i0 + 16 <= n0; i0 += 16) {
        int32_t j0 = 0;
        for (; j0 + 8 <= n1; j0 += 8) {
            __m256i a[8], b[8], c[8], d[8];
            for (int32_t r = 0; r < 8; r++)
                a[r] = _mm256_loadu_si256((const __m256i *)(src + (int64_t)(j0 + r) * ls + i0));
            for (int32_t r = 0; r < 8; r += 2) {
                b[r] = _mm256_unpacklo_epi16(a[r], a[r + 1]);
                b[r + 1] = _mm256_unpackhi_epi16(a[r], a[r + 1]);
            }
            for (int32_t r = 0; r < 8; r += 4) {
                c[r] = _mm256_unpacklo_epi32(b[r], b[r + 2]);
                c[r + 1] = _mm256_unpackhi_epi32(b[r], b[r + 2]);
                c[r + 2] = _mm256_unpacklo_epi32(b[r + 1], b[r + 3]);
                c[r + 3] = _mm256_unpackhi_epi32(b[r + 1], b[r + 3]);
            }
            for (int32_t r = 0; r < 4; r++) {
                d[2 * r] = _mm256_unpacklo_epi64(c[r], c[r + 4]);
                d[2 * r + 1] = _mm256_unpackhi_epi64(c[r], c[r + 4]);
            }
            for (int32_t r = 0; r < 8; r++) {
                q15_t *t = dst + (int64_t)(i0 + r) * ld + j0;
                _mm_storeu_si128((__m128i *)t, _mm256_castsi256_si128(d[r]));
                _mm_storeu_si128((__m128i *)(t + (int64_t)8 * ld),
                                 _mm256_extracti128_si256(d[r], 1));
            }
        }
        for (int32_t i = i0; i < i0 + 16; i++)
            for (int32_t j = j0; j < n1; j++)
                dst[(int64_t)i * ld + j] = src[(int64_t)j * ls + i];
    }
    for (int32_t j = 0; j < n1; j++)
        for (int32_t i = i0; i < n0; i++)
            dst[(int64_t)i * ld + j] = src[(int64_t)j * ls + i];
}
#endif

/* The box with its inner dimensions (all but the first, which the tiles cut) of size 1
 * dropped and those contiguous on both sides merged: an image of (h, w, 1) padded to a wider
 * row was copied one value per copy2d row (LeNet-5's input pad: 1 ms a batch); merged, the
 * copy moves whole rows.  The same (source, destination) pairs of elements; returns ndim. */
static int32_t merge_inner_dims(const int32_t *shape, const int32_t *ss, const int32_t *ds,
                                int32_t ndim, int32_t *sh, int32_t *s, int32_t *d)
{
    int32_t k = 0;
    for (int32_t i = 0; i < ndim; i++) {
        if (i > 0 && shape[i] == 1)
            continue;
        if (k > 1 && s[k - 1] == ss[i] * shape[i] && d[k - 1] == ds[i] * shape[i]) {
            sh[k - 1] *= shape[i];   /* dimension k-1 steps over whole runs of dimension i */
            s[k - 1] = ss[i];
            d[k - 1] = ds[i];
            continue;
        }
        sh[k] = shape[i];
        s[k] = ss[i];
        d[k] = ds[i];
        k++;
    }
    return k;
}

void spl_run_copy(const int16_t *src, const int32_t *src_strides, int16_t *dst,
                  const int32_t *dst_strides, const int32_t *shape, int32_t ndim,
                  const int32_t *tiles, int32_t ntiles, int32_t nthreads)
{
    int32_t mshape[SPL_MAX_DIMS], mss[SPL_MAX_DIMS], mds[SPL_MAX_DIMS];
    ndim = merge_inner_dims(shape, src_strides, dst_strides, ndim, mshape, mss, mds);
    shape = mshape;
    src_strides = mss;
    dst_strides = mds;
    int64_t elems = 1;
    for (int32_t d = 0; d < ndim; d++)
        elems *= shape[d];
    nthreads = spl_team(nthreads, elems);
    /* A copy moves each value on its own: the tiles (ranges of the outermost dimension) may be
     * re-cut into one range per thread (spl_threads.inc), in whole 16-row transpose blocks. */
    int32_t ranges[2 * SPL_FLAT_MAX_RANGES];
    spl_flat_tiles(&tiles, &ntiles, nthreads, 16, ranges);
#pragma omp parallel for schedule(static) num_threads(nthreads)
    for (int32_t t = 0; t < ntiles; t++) {
        int32_t d0 = tiles[2 * t], d1 = tiles[2 * t + 1];
        int32_t sh[SPL_MAX_DIMS];
        for (int32_t d = 0; d < ndim; d++)
            sh[d] = shape[d];
        sh[0] = d1 - d0;
#if defined(COPY_TRANSPOSE_SIMD)
        if (ndim == 2 && src_strides[0] == 1 && dst_strides[1] == 1 && src_strides[1] != 1) {
            transpose_q15(src + d0, src_strides[1], dst + (int64_t)d0 * dst_strides[0],
                          dst_strides[0], d1 - d0, shape[1]);
            continue;
        }
#endif
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
    nthreads = spl_team(nthreads, n);
    int32_t ranges[2 * SPL_FLAT_MAX_RANGES];
    spl_flat_tiles(&tiles, &ntiles, nthreads, SPL_FLAT_ALIGN, ranges);  /* element-wise */
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

/* A row gather whose row numbers are a buffer of the Program (known only at run time, e.g. a
 * training batch drawn from a data set resident in SDRAM).  The host checks each number
 * against the source's nsrc rows, which the board kernel does not: a number out of range
 * gathers a row of zeros instead of reading outside the buffer, and is counted in the
 * returned total (reported as the call's saturations, never silent). */
uint64_t spl_run_gather_indexed(const int16_t *src, int32_t nsrc, int32_t row_len,
                                const int32_t *rows, int16_t *dst, const int32_t *tiles,
                                int32_t ntiles, int32_t nthreads)
{
    uint64_t bad = 0;
#pragma omp parallel for schedule(static) reduction(+ : bad) num_threads(nthreads)
    for (int32_t t = 0; t < ntiles; t++) {
        int32_t r0 = tiles[2 * t], r1 = tiles[2 * t + 1];
        for (int32_t r = r0; r < r1; r++) {
            int16_t *out = dst + (int64_t)r * row_len;
            if (rows[r] < 0 || rows[r] >= nsrc) {
                arm_fill_q15(out, row_len, 0);
                bad++;
            } else {
                arm_gather_rows_q15(src, row_len, rows + r, 1, out);
            }
        }
    }
    return bad;
}
