/* Per-sample affine warp with bilinear sampling: the distortions (translation, scaling,
 * squeezing, shearing) that LeCun et al. 1998 applied to the training digits, run on the
 * machine each epoch so the training set never leaves SDRAM.
 *
 * theta maps each output pixel to the point of the source image it samples (the inverse map):
 *     sc = a00 (c - cx) + a01 (r - cy) + cx + tx,   sr = a10 (c - cx) + a11 (r - cy) + cy + ty
 * about the centre cx = (W - 1) / 2, cy = (H - 1) / 2, with a.. in q3.12 and t. in pixels in
 * q7.8.  Doubling the offsets (dc2 = 2c - (W - 1), dr2 = 2r - (H - 1)) makes the centre an
 * integer, so in units of 2^-13 pixel
 *     SC = a00 dc2 + a01 dr2 + 2^12 (W - 1) + 2^5 tx
 * is the source coordinate *exactly* (2^-12 / 2 = 2^-13; 2^-8 = 2^5 * 2^-13).  Stepping c by
 * one adds 2 a00, so the kernel walks it with additions.  Every value the walk takes (one step
 * past the last row and column included) has |SC| <= 2^15 (W + H + 2) + 2^12 W + 2^20, below
 * 2^31 for W, H <= SPL_WARP_MAX_SIDE = 2^14: the one precondition.
 *
 * With x0 = floor(SC / 2^13) and fx = SC mod 2^13 (so the fraction is exact too), the taps x0
 * and x0 + 1 get weights 2^13 - fx and fx, and 0 where they fall outside the image: pixels
 * outside are 0, the MNIST background.  Horizontal pairs are summed in int32
 * (|v| 2^13 <= 2^28), the vertical pair in int64 (<= 2^41, SMULL/SMLAL on the ARM968, no
 * division anywhere), so acc / 2^26 is exactly the bilinear interpolation B of the stored
 * integers at the exact point theta encodes.  One rounding: y = floor((acc + 2^25 - 1 +
 * bit26(acc)) / 2^26) by an arithmetic shift, i.e. nearest with exact halves to the even
 * neighbour (2.5 -> 2, -2.5 -> -2, 3.5 -> 4), like SPL_ROUND_NEAREST (spl_round.h).  Taking only the top 8 bits of the fraction as q8
 * weights would keep the whole sum in int32 (|sum| <= 2^31, -2^31 itself reachable) but move
 * the sampled point by up to 2^-8 pixel; 13-bit weights cost one 64-bit multiply-accumulate
 * per output and leave the final rounding as the only error.
 *
 * Error bound: |y - B| <= 1/2 LSB, nothing else (exactly rounded bilinear interpolation).
 * Against the real-valued A and t the caller meant, add the encoding of theta
 * (spinla.encode_affine rounds a.. to 2^-12 and t. to 2^-8): the sampled point moves by at most
 * 2^-13 (|c - cx| + |r - cy|) + 2^-9 pixels per axis, and the interpolation is Lipschitz
 * with, per axis, the largest difference between neighbouring pixels (the zeros around the
 * image included) as constant.
 *
 * No saturation is possible: the weights are non-negative and sum to at most 2^26, so B is a
 * convex combination of the input values and 0, inside [-32768, 32767], and rounding to the
 * nearest integer cannot leave that integer range.  The output keeps the input's format. */
#include "spinla.h"
#include "spl_round.h"

#define WARP_FRAC 13
#define WARP_ONE (1 << WARP_FRAC)

/* Tap indices and weights along one axis of length n for coordinate s (units 2^-13).  A tap
 * outside the image gets weight 0 and index 0, so it may be read but never counts. */
typedef struct {
    int32_t i0, i1, w0, w1;
} warp_taps_t;

static warp_taps_t warp_taps(int32_t s, int32_t n)
{
    warp_taps_t t;
    int32_t k = s >> WARP_FRAC;                              /* floor: arithmetic shift */
    int32_t f = (int32_t)((uint32_t)s & (WARP_ONE - 1));     /* s - k * 2^13, in [0, 2^13) */
    int32_t in0 = (uint32_t)k < (uint32_t)n, in1 = (uint32_t)(k + 1) < (uint32_t)n;
    t.i0 = in0 ? k : 0;
    t.i1 = in1 ? k + 1 : 0;
    t.w0 = in0 ? WARP_ONE - f : 0;
    t.w1 = in1 ? f : 0;
    return t;
}

void spl_warp_affine_q15(const q15_t *x, const q15_t *theta, q15_t *y, int32_t n, int32_t h,
                         int32_t w, int32_t c)
{
    int32_t wc = w * c;
    int32_t img = h * wc;
    for (int32_t s = 0; s < n; s++, x += img, theta += 6) {
        int32_t a00 = theta[0], a01 = theta[1], a10 = theta[2], a11 = theta[3];
        /* The source point of output pixel (0, 0): dc2 = -(w - 1), dr2 = -(h - 1). */
        int32_t row_x = -a00 * (w - 1) - a01 * (h - 1) + WARP_ONE / 2 * (w - 1) + 32 * theta[4];
        int32_t row_y = -a10 * (w - 1) - a11 * (h - 1) + WARP_ONE / 2 * (h - 1) + 32 * theta[5];
        for (int32_t r = 0; r < h; r++, row_x += 2 * a01, row_y += 2 * a11) {
            int32_t sx = row_x, sy = row_y;
            for (int32_t col = 0; col < w; col++, sx += 2 * a00, sy += 2 * a10, y += c) {
                warp_taps_t tx = warp_taps(sx, w), ty = warp_taps(sy, h);
                if ((tx.w0 | tx.w1) == 0 || (ty.w0 | ty.w1) == 0) {
                    for (int32_t ch = 0; ch < c; ch++)
                        y[ch] = 0;   /* the whole 2x2 neighbourhood is outside */
                    continue;
                }
                const q15_t *p00 = x + ty.i0 * wc + tx.i0 * c, *p01 = x + ty.i0 * wc + tx.i1 * c;
                const q15_t *p10 = x + ty.i1 * wc + tx.i0 * c, *p11 = x + ty.i1 * wc + tx.i1 * c;
                for (int32_t ch = 0; ch < c; ch++) {
                    int32_t top = p00[ch] * tx.w0 + p01[ch] * tx.w1;
                    int32_t bot = p10[ch] * tx.w0 + p11[ch] * tx.w1;
                    int64_t acc = (int64_t)top * ty.w0 + (int64_t)bot * ty.w1;
                    y[ch] = (q15_t)((acc + spl_rne_offset(acc, 2 * WARP_FRAC)) >> (2 * WARP_FRAC));
                }
            }
        }
    }
}
