/* Fixed-point matrix multiply on one DTCM tile.
 *
 * Both operands are k-contiguous (A is m x k, Bt is n x k), which is the layout where the
 * ARM968 fetches two q15 values per LDR and feeds SMLABB/SMLATT, and where the host compiler
 * turns the inner loop into a 16-bit dot-product instruction (pmaddwd / vpdpwssd).
 *
 * Exactness: the kernel bounds, from the tile's own data, how many products an int32 sum can
 * take without overflow (spl_safe_chunk), sums chunks of that length in int32 (the fast path on
 * both targets) and adds the chunk sums in int64, so the result equals the exact integer dot
 * product for every input, with no overflow check in the hot loop. */
#include "spinla.h"

#define MR 4
#define NR 4

/* Largest |x| and largest row sum of |x| over a rows x cols block. */
static void abs_stats(const q15_t *x, int32_t rows, int32_t cols, int32_t ld, uint32_t *max_abs,
                      uint64_t *max_row_sum)
{
    uint32_t m = 0;
    uint64_t rs = 0;
    for (int32_t i = 0; i < rows; i++) {
        const q15_t *r = x + (int64_t)i * ld;
        uint32_t s = 0, rm = 0; /* cols * 32768 < 2^32 for cols < 131072 */
        for (int32_t j = 0; j < cols; j++) {
            uint32_t v = (uint32_t)(r[j] < 0 ? -(int32_t)r[j] : r[j]);
            s += v;
            rm = v > rm ? v : rm;
        }
        m = rm > m ? rm : m;
        rs = s > rs ? s : rs;
    }
    *max_abs = m;
    *max_row_sum = rs;
}

int32_t spl_max_abs_q15(const q15_t *x, int32_t rows, int32_t cols, int32_t ld)
{
    uint32_t m;
    uint64_t rs;
    abs_stats(x, rows, cols, ld, &m, &rs);
    return (int32_t)m;
}

/* Longest run of k over which an int32 dot product of any row of A with any row of Bt
 * cannot overflow.  The whole of k is safe when sum|a_k| * max|b| (or max|a| * sum|b_k|)
 * stays below 2^31, which holds for most real data (activations are small or sparse);
 * otherwise the worst case max|a| * max|b| per product decides a power-of-two chunk (at
 * least 1: one product of two q15 values is at most 2^30).  Powers of two avoid a division,
 * which the ARM968 would do in software. */
int32_t spl_safe_chunk(const q15_t *a, int32_t lda, const q15_t *bt, int32_t ldb, int32_t m,
                       int32_t n, int32_t k)
{
    uint32_t ma, mb;
    uint64_t sa, sb;
    abs_stats(a, m, k, lda, &ma, &sa);
    abs_stats(bt, n, k, ldb, &mb, &sb);
    if (k <= 0)
        return 1;
    if (sa * mb <= 0x7FFFFFFFu || sb * ma <= 0x7FFFFFFFu)
        return k;
    uint32_t p = ma * mb; /* <= 2^30 */
    int32_t c = 1;
    while (c < k && (uint64_t)p * (uint32_t)(2 * c) <= 0x7FFFFFFFu)
        c *= 2;
    return c > k ? k : c;
}

/* MR x NR register block: the hot loop of every GEMM and convolution. */
static void block_4x4(const q15_t *a, int32_t lda, const q15_t *bt, int32_t ldb, int32_t k,
                      int32_t chunk, q63_t acc[MR][NR])
{
    const q15_t *a0 = a, *a1 = a + lda, *a2 = a + 2 * lda, *a3 = a + 3 * lda;
    const q15_t *b0 = bt, *b1 = bt + ldb, *b2 = bt + 2 * ldb, *b3 = bt + 3 * ldb;
    for (int32_t p0 = 0; p0 < k; p0 += chunk) {
        int32_t p1 = p0 + chunk < k ? p0 + chunk : k;
        int32_t s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
        int32_t s20 = 0, s21 = 0, s22 = 0, s23 = 0, s30 = 0, s31 = 0, s32 = 0, s33 = 0;
        for (int32_t p = p0; p < p1; p++) {
            int32_t x0 = a0[p], x1 = a1[p], x2 = a2[p], x3 = a3[p];
            int32_t y0 = b0[p], y1 = b1[p], y2 = b2[p], y3 = b3[p];
            s00 += x0 * y0; s01 += x0 * y1; s02 += x0 * y2; s03 += x0 * y3;
            s10 += x1 * y0; s11 += x1 * y1; s12 += x1 * y2; s13 += x1 * y3;
            s20 += x2 * y0; s21 += x2 * y1; s22 += x2 * y2; s23 += x2 * y3;
            s30 += x3 * y0; s31 += x3 * y1; s32 += x3 * y2; s33 += x3 * y3;
        }
        acc[0][0] += s00; acc[0][1] += s01; acc[0][2] += s02; acc[0][3] += s03;
        acc[1][0] += s10; acc[1][1] += s11; acc[1][2] += s12; acc[1][3] += s13;
        acc[2][0] += s20; acc[2][1] += s21; acc[2][2] += s22; acc[2][3] += s23;
        acc[3][0] += s30; acc[3][1] += s31; acc[3][2] += s32; acc[3][3] += s33;
    }
}

static q63_t dot(const q15_t *a, const q15_t *b, int32_t k, int32_t chunk)
{
    q63_t acc = 0;
    for (int32_t p0 = 0; p0 < k; p0 += chunk) {
        int32_t p1 = p0 + chunk < k ? p0 + chunk : k;
        int32_t s = 0;
        for (int32_t p = p0; p < p1; p++)
            s += (int32_t)a[p] * b[p];
        acc += s;
    }
    return acc;
}

uint32_t arm_gemm_q15(const q15_t *a, int32_t lda, const q15_t *bt, int32_t ldb, q15_t *c,
                      int32_t ldc, int32_t m, int32_t n, int32_t k, const spl_requant_t *rq,
                      uint32_t row0, uint32_t col0, uint32_t ncols_total)
{
    uint32_t sat = 0;
    int32_t chunk = spl_safe_chunk(a, lda, bt, ldb, m, n, k);
    int32_t mb = m - m % MR, nb = n - n % NR;
    for (int32_t i = 0; i < mb; i += MR) {
        for (int32_t j = 0; j < nb; j += NR) {
            q63_t acc[MR][NR];
            for (int32_t r = 0; r < MR; r++)
                for (int32_t s = 0; s < NR; s++)
                    acc[r][s] = 0;
            block_4x4(a + (int64_t)i * lda, lda, bt + (int64_t)j * ldb, ldb, k, chunk, acc);
            for (int32_t r = 0; r < MR; r++)
                for (int32_t s = 0; s < NR; s++)
                    c[(int64_t)(i + r) * ldc + j + s] = spl_requant_q63(
                        acc[r][s], rq, (row0 + i + r) * ncols_total + col0 + j + s, &sat);
        }
    }
    /* Ragged edges: the last m % MR rows and n % NR columns, one dot product each. */
    for (int32_t i = 0; i < m; i++) {
        int32_t j0 = i < mb ? nb : 0;
        for (int32_t j = j0; j < n; j++) {
            q63_t acc = dot(a + (int64_t)i * lda, bt + (int64_t)j * ldb, k, chunk);
            c[(int64_t)i * ldc + j] =
                spl_requant_q63(acc, rq, (row0 + i) * ncols_total + col0 + j, &sat);
        }
    }
    return sat;
}
