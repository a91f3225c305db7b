/* 2-D convolution (NHWC input, packed weights) as GEMM over im2col rows built in DTCM.
 *
 * A tile is a range of output pixels (rows of the im2col matrix, flattened (n, oy, ox)) times a
 * range of output channels.  The core holds the tile's slice of the packed weights Wt
 * (cout x ldw, k-contiguous, k = (ky, kx, ci)) and the input rows its pixels read; it builds a
 * few im2col rows at a time in a scratch buffer and hands them to arm_gemm_q15, so convolution
 * inherits the GEMM's exactness (int32 chunks proven safe, int64 between chunks, one rounding
 * per output) and its hot loop.  In NHWC the kw * cin values of one kernel row are contiguous
 * in the input, so an im2col row is kh block copies, not kh * kw * cin gathers.
 *
 * The backward pass is built from the same pieces (spinla/ops/nn.py): the input gradient is
 * this forward kernel on the (dilated) output gradient with the flipped, channel-swapped weights
 * that arm_conv2d_pack_q15 produces; the weight gradient is arm_conv2d_grad_weight_q15 (exact
 * int64 partial sums per pixel range) followed by arm_conv2d_grad_weight_reduce_q15 (the sum
 * over partials and the one rounding). */
#include "spinla.h"

/* Where output pixel p sits, advanced by one pixel at a time so that only the first pixel of
 * a tile costs divisions (the ARM968 divides in software). */
typedef struct {
    int32_t n, oy, ox;
} pix_t;

static pix_t pix_of(const spl_conv2d_t *g, int32_t p)
{
    pix_t q;
    int32_t per = g->oh * g->ow;
    q.n = p / per;
    p -= q.n * per;
    q.oy = p / g->ow;
    q.ox = p - q.oy * g->ow;
    return q;
}

static void pix_next(const spl_conv2d_t *g, pix_t *q)
{
    if (++q->ox == g->ow) {
        q->ox = 0;
        if (++q->oy == g->oh) {
            q->oy = 0;
            q->n++;
        }
    }
}

/* One im2col row (k = (ky, kx, ci)) of pixel q, written with element stride ds.  x holds input
 * rows from global row xrow0 = n * h + iy on; padding positions read as zero.  Callers pass a
 * local copy of the geometry and a literal ds, so the inlined copies run from registers and, for
 * ds = 1, as straight block copies. */
static inline void im2col_row(const q15_t *restrict x, int32_t xrow0, const spl_conv2d_t *g,
                              pix_t q, q15_t *restrict dst, int32_t ds)
{
    int32_t cin = g->cin, kwc = g->kw * cin;
    int64_t wc = (int64_t)g->w * cin;
    int32_t iy0 = q.oy * g->sy - g->pt, ix0 = q.ox * g->sx - g->pl;
    int32_t inside = ix0 >= 0 && ix0 + g->kw <= g->w;
    for (int32_t ky = 0; ky < g->kh; ky++, dst += (int64_t)kwc * ds) {
        int32_t iy = iy0 + ky;
        if (iy < 0 || iy >= g->h) {
            for (int32_t i = 0; i < kwc; i++)
                dst[(int64_t)i * ds] = 0;
            continue;
        }
        const q15_t *row = x + ((int64_t)q.n * g->h + iy - xrow0) * wc;
        if (inside) {
            const q15_t *s = row + (int64_t)ix0 * cin;
            for (int32_t i = 0; i < kwc; i++)
                dst[(int64_t)i * ds] = s[i];
            continue;
        }
        for (int32_t kx = 0; kx < g->kw; kx++) {
            int32_t ix = ix0 + kx;
            q15_t *d = dst + (int64_t)kx * cin * ds;
            if (ix < 0 || ix >= g->w) {
                for (int32_t c = 0; c < cin; c++)
                    d[(int64_t)c * ds] = 0;
            } else {
                const q15_t *s = row + (int64_t)ix * cin;
                for (int32_t c = 0; c < cin; c++)
                    d[(int64_t)c * ds] = s[c];
            }
        }
    }
}

uint32_t arm_conv2d_q15(const q15_t *x, int32_t xrow0, const spl_conv2d_t *gp, const q15_t *wt,
                        int32_t ldw, q15_t *y, int32_t ldy, int32_t p0, int32_t p1, int32_t c0,
                        int32_t c1, q15_t *scratch, int32_t scratch_rows,
                        const spl_requant_t *rq)
{
    uint32_t sat = 0;
    const spl_conv2d_t gl = *gp, *g = &gl;
    int32_t k = g->kh * g->kw * g->cin;
    if (p1 <= p0 || c1 <= c0)
        return 0;
    /* Columns k..ldw-1 pad rows to the packed weights' stride: zero once, never written. */
    if (ldw > k)
        for (int32_t r = 0; r < scratch_rows; r++)
            for (int32_t i = k; i < ldw; i++)
                scratch[(int64_t)r * ldw + i] = 0;
    pix_t q = pix_of(g, p0);
    for (int32_t p = p0; p < p1; p += scratch_rows) {
        int32_t rows = p1 - p < scratch_rows ? p1 - p : scratch_rows;
        for (int32_t r = 0; r < rows; r++) {
            im2col_row(x, xrow0, g, q, scratch + (int64_t)r * ldw, 1);
            pix_next(g, &q);
        }
        sat += arm_gemm_q15(scratch, ldw, wt, ldw, y + (int64_t)(p - p0) * ldy, ldy, rows,
                            c1 - c0, ldw, rq, (uint32_t)p, (uint32_t)c0, (uint32_t)g->cout);
    }
    return sat;
}

void arm_conv2d_pack_q15(const q15_t *w, int32_t kh, int32_t kw, int32_t cin, int32_t cout,
                         const q15_t *table, int32_t flip, q15_t *dst, int32_t ldd, int32_t r0,
                         int32_t r1)
{
    /* Forward: row co holds w[ky, kx, ci, co] at (ky * kw + kx) * cin + ci.
     * Flipped: row ci holds w[kh-1-ky, kw-1-kx, ci, co] at (ky * kw + kx) * cout + co, the
     * weights of the input gradient seen as a forward convolution. */
    int32_t inner = flip ? cout : cin, k = kh * kw * inner;
    for (int32_t r = r0; r < r1; r++) {
        q15_t *d = dst + (int64_t)r * ldd;
        for (int32_t ky = 0; ky < kh; ky++) {
            for (int32_t kx = 0; kx < kw; kx++) {
                int32_t sy = flip ? kh - 1 - ky : ky, sx = flip ? kw - 1 - kx : kx;
                for (int32_t j = 0; j < inner; j++) {
                    int32_t ci = flip ? r : j, co = flip ? j : r;
                    q15_t v = w[(((int64_t)sy * kw + sx) * cin + ci) * cout + co];
                    if (table && !table[(int64_t)ci * cout + co])
                        v = 0;
                    d[(ky * kw + kx) * inner + j] = v;
                }
            }
        }
        for (int32_t i = k; i < ldd; i++)
            d[i] = 0;
    }
}

/* s[i][j] = sum over r < len of a_i[r] * b_j[r] for a 4 x 4 block, in int32: the caller
 * guarantees no overflow.  Same shape as gemm_q15.c's register block, so the host compiler
 * turns it into 16-bit dot-product instructions. */
static void block_4x4_i32(const q15_t *a, const q15_t *b, int32_t ld, int32_t len,
                          int32_t s[4][4])
{
    const q15_t *a0 = a, *a1 = a + ld, *a2 = a + 2 * ld, *a3 = a + 3 * ld;
    const q15_t *b0 = b, *b1 = b + ld, *b2 = b + 2 * ld, *b3 = b + 3 * ld;
    int32_t s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
    int32_t s20 = 0, s21 = 0, s22 = 0, s23 = 0, s30 = 0, s31 = 0, s32 = 0, s33 = 0;
    for (int32_t r = 0; r < len; r++) {
        int32_t x0 = a0[r], x1 = a1[r], x2 = a2[r], x3 = a3[r];
        int32_t y0 = b0[r], y1 = b1[r], y2 = b2[r], y3 = b3[r];
        s00 += x0 * y0; s01 += x0 * y1; s02 += x0 * y2; s03 += x0 * y3;
        s10 += x1 * y0; s11 += x1 * y1; s12 += x1 * y2; s13 += x1 * y3;
        s20 += x2 * y0; s21 += x2 * y1; s22 += x2 * y2; s23 += x2 * y3;
        s30 += x3 * y0; s31 += x3 * y1; s32 += x3 * y2; s33 += x3 * y3;
    }
    s[0][0] = s00; s[0][1] = s01; s[0][2] = s02; s[0][3] = s03;
    s[1][0] = s10; s[1][1] = s11; s[1][2] = s12; s[1][3] = s13;
    s[2][0] = s20; s[2][1] = s21; s[2][2] = s22; s[2][3] = s23;
    s[3][0] = s30; s[3][1] = s31; s[3][2] = s32; s[3][3] = s33;
}

/* acc[i][j] += sum_r a[i][r] * b[j][r] (i < ma, j < nb; rows padded with zeros to multiples
 * of 4, stride ld, len <= 256 values), exact for any data.  When the tile's magnitudes allow
 * (spl_safe_chunk covers all of len) the int32 sums are taken directly.  Otherwise a is split
 * into bytes, a = 256 * hi + lo with hi in [-128, 127] and lo in [0, 255]: every product then
 * stays below 2^23, 256 of them below 2^31, so both halves sum in int32 without any
 * data-dependent chunking and combine exactly in int64: twice the MACs, never a scalar
 * fallback.  a is overwritten by lo; ahi receives hi. */
static void accum_abt(q15_t *a, q15_t *ahi, int32_t ma, const q15_t *b, int32_t nb,
                      int32_t ld, int32_t len, q63_t *acc, int32_t ldacc)
{
    int32_t ma4 = (ma + 3) & ~3, nb4 = (nb + 3) & ~3, s[4][4], t[4][4];
    int split = spl_safe_chunk(a, ld, b, ld, ma, nb, len) < len;
    if (split) {
        for (int32_t i = 0; i < ma4; i++) {
            q15_t *lo = a + (int64_t)i * ld, *hi = ahi + (int64_t)i * ld;
            for (int32_t r = 0; r < len; r++) {
                int32_t v = lo[r];
                hi[r] = (q15_t)(v >> 8);
                lo[r] = (q15_t)(v & 255);
            }
        }
    }
    for (int32_t i = 0; i < ma4; i += 4) {
        for (int32_t j = 0; j < nb4; j += 4) {
            block_4x4_i32(a + (int64_t)i * ld, b + (int64_t)j * ld, ld, len, s);
            if (split)
                block_4x4_i32(ahi + (int64_t)i * ld, b + (int64_t)j * ld, ld, len, t);
            for (int32_t u = 0; u < 4 && i + u < ma; u++)
                for (int32_t v = 0; v < 4 && j + v < nb; v++)
                    acc[(int64_t)(i + u) * ldacc + j + v] +=
                        split ? (q63_t)t[u][v] * 256 + s[u][v] : (q63_t)s[u][v];
        }
    }
}

void arm_conv2d_grad_weight_q15(const q15_t *x, int32_t xrow0, const spl_conv2d_t *gp,
                                const q15_t *delta, int32_t ldd, int32_t p0, int32_t p1,
                                int32_t c0, int32_t c1, q63_t *acc, int32_t ldacc,
                                q15_t *scratch, int32_t scratch_cols)
{
    /* acc (k x (c1-c0)) = sum over pixels p0..p1 of im2col(x)[p]^T * delta[p, c0..c1].  The
     * scratch holds the pixel chunk transposed, as rows of scratch_cols (<= 256) pixels: im2col
     * (k rows, then its high bytes when split), delta ((c1-c0) rows), each padded with zero
     * rows to a multiple of 4, so the sum over pixels is a k-contiguous dot product again. */
    const spl_conv2d_t gl = *gp, *g = &gl;
    int32_t k = g->kh * g->kw * g->cin, nc = c1 - c0, R = scratch_cols;
    int32_t k4 = (k + 3) & ~3, nc4 = (nc + 3) & ~3;
    q15_t *colt = scratch, *colhi = scratch + (int64_t)k4 * R, *dt = colhi + (int64_t)k4 * R;
    for (int32_t i = 0; i < k; i++)
        for (int32_t j = 0; j < nc; j++)
            acc[(int64_t)i * ldacc + j] = 0;
    if (p1 <= p0 || nc <= 0)
        return;
    for (int64_t i = (int64_t)k * R; i < (int64_t)k4 * R; i++)
        colt[i] = 0;
    for (int64_t i = (int64_t)nc * R; i < (int64_t)nc4 * R; i++)
        dt[i] = 0;
    pix_t q = pix_of(g, p0);
    for (int32_t p = p0; p < p1; p += R) {
        int32_t rows = p1 - p < R ? p1 - p : R;
        for (int32_t r = 0; r < rows; r++) {
            im2col_row(x, xrow0, g, q, colt + r, R);
            pix_next(g, &q);
            const q15_t *d = delta + (int64_t)(p - p0 + r) * ldd;
            for (int32_t j = 0; j < nc; j++)
                dt[(int64_t)j * R + r] = d[j];
        }
        accum_abt(colt, colhi, k, dt, nc, R, rows, acc, ldacc);
    }
}

uint32_t arm_conv2d_grad_weight_reduce_q15(const q63_t *part, int32_t nparts, int64_t pstride,
                                           int32_t e0, int32_t e1, int32_t cin, int32_t cout,
                                           const q15_t *table, q15_t *dw,
                                           const spl_requant_t *rq)
{
    /* dw[e] for flat HWIO indices e = k * cout + co, k = (ky * kw + kx) * cin + ci: the exact
     * sum of the partials, rounded once; connections the table leaves out are exactly zero. */
    uint32_t sat = 0;
    if (e1 <= e0)
        return 0;
    int32_t k = e0 / cout, co = e0 - k * cout, ci = k % cin;
    for (int32_t e = e0; e < e1; e++) {
        if (table && !table[(int64_t)ci * cout + co]) {
            dw[e] = 0;
        } else {
            q63_t s = 0;
            for (int32_t t = 0; t < nparts; t++)
                s += part[t * pstride + e];
            dw[e] = spl_requant_q63(s, rq, (uint32_t)e, &sat);
        }
        if (++co == cout) {
            co = 0;
            if (++ci == cin)
                ci = 0;
        }
    }
    return sat;
}
