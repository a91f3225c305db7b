/* 2-D convolution (NHWC input, packed weights) as GEMM over im2col rows built in DTCM.
 *
 * A tile is a range of output pixels (rows of the im2col matrix, flattened (n, oy, ox)) times a
 * range of output channels.  The core holds the tile's slice of the packed weights Wt
 * (cout x ldw, k-contiguous, k = (ky, kx, ci)) and the input rows its pixels read; it builds a
 * few im2col rows at a time in a scratch buffer and hands them to arm_gemm_q15, so convolution
 * inherits the GEMM's exactness (int32 sums proven or checked safe, the exact path otherwise,
 * one rounding per output) and its hot loop.  In NHWC the kw * cin values of one kernel row are
 * contiguous in the input, so an im2col row is kh block copies, not kh * kw * cin gathers.
 *
 * The backward pass is built from the same pieces (spinla/ops/nn.py): the input gradient is
 * this forward kernel on the (dilated) output gradient with the flipped, channel-swapped weights
 * that arm_conv2d_pack_q15 produces; the weight gradient is arm_conv2d_grad_weight_q15 (exact
 * int64 partial sums per pixel range) followed by arm_conv2d_grad_weight_reduce_q15 (the sum
 * over partials and the one rounding). */
#include "spinla.h"
#include "spl_gemm.h"
#include "spl_dsp.h"

/* Where output pixel p sits, advanced by one pixel at a time so that only the first pixel of
 * a tile costs divisions (the ARM968 divides in software). */
typedef struct {
    int32_t n, oy, ox;
} pix_t;

static __attribute__((noinline)) pix_t pix_of(const spl_conv2d_t *g, int32_t p)
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

#include "spl_simd.h"
#if defined(SPL_SIMD_AVX512)
/* Host only, the native AVX-512 build: the two runs below as inlined masked 512-bit moves. */
#include "host/im2col_avx512.inc"
#else
/* n q15 values from s to d (ds = 1 im2col runs; one out-of-line copy: ITCM): 32-bit words
 * when both have the same alignment (NHWC rows with an even cin: one LDR/STR per two values),
 * else halfwords four at a time with the loads first, so no store waits on its load (the
 * ARM968's 2-cycle halfword load-use interlock). */
static __attribute__((noinline)) void copy_run(q15_t *restrict d, const q15_t *restrict s,
                                               int32_t n)
{
    int32_t i = 0;
    if (((((uintptr_t)d ^ (uintptr_t)s) & 2) == 0)) {
        if ((uintptr_t)d & 2) {
            d[0] = s[0];
            i = 1;
        }
        const uint32_t *ws = (const uint32_t *)(const void *)(s + i);
        uint32_t *wd = (uint32_t *)(void *)(d + i);
        int32_t nw = (n - i) >> 1;
        if (nw > 0) { /* (bottom-tested: one branch a word) */
            const uint32_t *we = ws + nw;
            do
                *wd++ = *ws++;
            while (ws != we);
        }
        i += 2 * nw;
    } else {
        for (; i + 4 <= n; i += 4) {
            q15_t v0 = s[i], v1 = s[i + 1], v2 = s[i + 2], v3 = s[i + 3];
            d[i] = v0; d[i + 1] = v1; d[i + 2] = v2; d[i + 3] = v3;
        }
    }
    for (; i < n; i++)
        d[i] = s[i];
}

/* n zeros at d (ds = 1 im2col runs: padding), a word at a time. */
static __attribute__((noinline)) void zero_run(q15_t *d, int32_t n)
{
    if (n > 0 && ((uintptr_t)d & 2)) {
        *d++ = 0;
        n--;
    }
    uint32_t *w = (uint32_t *)(void *)d, *e = w + (n >> 1);
    while (e - w >= 4) { /* four words a step (STM of zeroed registers) */
        w[0] = 0; w[1] = 0; w[2] = 0; w[3] = 0;
        w += 4;
    }
    while (w != e)
        *w++ = 0;
    if (n & 1)
        d[n - 1] = 0;
}
#endif

/* One im2col row (k = (ky, kx, ci)) of pixel q, written with element stride ds.  x holds input
 * rows from global row xrow0 = n * h + iy on; padding positions read as zero.  Callers pass a
 * local copy of the geometry and a literal ds, so the inlined copies run from registers and, for
 * ds = 1, as straight block copies. */
static __attribute__((noinline)) void im2col_row(const q15_t *restrict x, int32_t xrow0,
                                                 const spl_conv2d_t *g, pix_t q,
                                                 q15_t *restrict dst, int32_t ds)
{
    int32_t cin = g->cin, kwc = g->kw * cin;
    int64_t wc = (int64_t)g->w * cin;
    int32_t iy0 = q.oy * g->sy - g->pt, ix0 = q.ox * g->sx - g->pl;
    int32_t inside = ix0 >= 0 && ix0 + g->kw <= g->w;
    /* (im2col_rows copies windows wholly inside the image itself: with ds = 1 this sees the
     * others, and the weight gradient's transposed rows) */
    for (int32_t ky = 0; ky < g->kh; ky++, dst += (int64_t)kwc * ds) {
        int32_t iy = iy0 + ky;
        if (iy < 0 || iy >= g->h) {
            if (ds == 1)
                zero_run(dst, kwc);
            else
                for (int32_t i = 0; i < kwc; i++)
                    dst[(int64_t)i * ds] = 0;
            continue;
        }
        const q15_t *row = x + ((int64_t)q.n * g->h + iy - xrow0) * wc;
        if (inside) {
            const q15_t *s = row + (int64_t)ix0 * cin;
            if (ds == 1)
                copy_run(dst, s, kwc);
            else
                for (int32_t i = 0; i < kwc; i++)
                    dst[(int64_t)i * ds] = s[i];
            continue;
        }
        if (ds == 1) { /* the in-image part of the row as one run, zeros either side */
            int32_t kx0 = ix0 < 0 ? -ix0 : 0, kx1 = g->w - ix0 < g->kw ? g->w - ix0 : g->kw;
            kx0 = kx0 < g->kw ? kx0 : g->kw;
            kx1 = kx1 > kx0 ? kx1 : kx0;
            zero_run(dst, kx0 * cin);
            if (kx1 > kx0)
                copy_run(dst + kx0 * cin, row + (int64_t)(ix0 + kx0) * cin, (kx1 - kx0) * cin);
            zero_run(dst + kx1 * cin, kwc - kx1 * cin);
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

/* `rows` im2col rows (stride ldw) from pixel *q on, *q advanced past them: windows inside the
 * image as kh block copies straight from the input (no per-value tests), the rest through
 * im2col_row. */
static __attribute__((noinline)) void im2col_rows(const q15_t *restrict x, int32_t xrow0,
                                                  const spl_conv2d_t *g, pix_t *q,
                                                  q15_t *restrict dst, int32_t ldw, int32_t rows)
{
    const int32_t cin = g->cin, kwc = g->kw * cin, kh = g->kh;
    const intptr_t wc = (intptr_t)g->w * cin;
    for (int32_t r = 0; r < rows; r++, dst += ldw) {
        int32_t iy0 = q->oy * g->sy - g->pt, ix0 = q->ox * g->sx - g->pl;
        if (ix0 >= 0 && ix0 + g->kw <= g->w && iy0 >= 0 && iy0 + kh <= g->h) {
            const q15_t *sp =
                x + ((intptr_t)q->n * g->h + iy0 - xrow0) * wc + (intptr_t)ix0 * cin;
            q15_t *d = dst;
            for (int32_t ky = 0; ky < kh; ky++, d += kwc, sp += wc)
                copy_run(d, sp, kwc);
        } else {
            im2col_row(x, xrow0, g, *q, dst, 1);
        }
        pix_next(g, q);
    }
}

/* (Off the ARM968, which checks the Q flag instead.)  The overflow proof for a whole tile,
 * once: every im2col value is an input value of rows xrow0..end (the rows the tile's DMA
 * fetched, as spinla/kernels/conv.py's _input_rows counts them) or a zero, so
 * |sum_k a_k w_k| <= max|x| * max_c sum_k |w_ck|.  When that is below 2^31 all of k is summed
 * in int32 and the GEMM calls skip their own scan of each im2col block and of the weights (0:
 * let each call prove its own chunk). */
#ifndef SPL_HAVE_QFLAG
static int32_t conv_chunk(const q15_t *x, int32_t xrow0, const spl_conv2d_t *g, const q15_t *wt,
                          int32_t ldw, int32_t p1, int32_t nc, int32_t kg)
{
    pix_t last = pix_of(g, p1 - 1);
    int32_t e = last.oy * g->sy - g->pt + g->kh;
    int32_t end = last.n * g->h + (e < 0 ? 0 : e > g->h ? g->h : e);
    if (end <= xrow0)
        return 0;
    uint32_t mx, mw;
    uint64_t sx, sw;
    spl_abs_stats(x, end - xrow0, g->w * g->cin, g->w * g->cin, &mx, &sx);
    spl_abs_stats(wt, nc, kg, ldw, &mw, &sw);
    if (sw * mx > 0x7FFFFFFFu) /* abs_stats' max is an OR bound (up to 2x): the exact one */
        mx = (uint32_t)spl_max_abs_q15(x, end - xrow0, g->w * g->cin, g->w * g->cin);
    return sw * mx <= 0x7FFFFFFFu ? kg : 0;
}
#endif

/* --- the direct cin = 1 path (ARM968 only) ----------------------------------------------------
 *
 * A single-channel input with a 5-wide kernel (LeNet-5's C1, the usual first layer) gains
 * little from im2col: each copied value serves only the tile's few output channels.  Instead a
 * block of 6 (or 4) adjacent output pixels of one row sums straight from the input rows, one
 * channel at a time, in 6 accumulators over the kh kernel rows: per kernel row 3 weight words
 * and 5 input words, each pixel's 5 products an SMLAxy that picks the halfwords it needs (pixel
 * 2q reads input words q..q+2 from their bottom half on, pixel 2q+1 from their top half), so
 * nothing is copied, every load is an aligned word and no MAC is padding: 30 MACs in 46
 * cycles (20 in 36 for 4 pixels: one loop, the carry flag says which).  The weights are first
 * copied to scratch as kh rows of 6 (5 and an unused halfword: word loads), each channel's
 * rows ending on a 64-byte boundary (spinla.h SPL_CONV2D_DIRECT_SCRATCH), so a channel's loop
 * ends when the weight pointer does (TST #63: all 14 registers hold data).  Each sum is then
 * rounded to nearest in registers (spl_rq32_nearest's rule: up when the remainder plus the
 * quotient's low bit passes half) and stored.  Taken only when every row part of the tile starts and ends
 * even and is at least 4 long (LeNet-5's 36-pixel tiles of 28-pixel rows always are), for
 * round-to-nearest; an int32 overflow (the Q flag) or an output out of q15 range sends the
 * whole tile to the im2col path, which redoes every output exactly and counts saturation. */
#if defined(SPL_HAVE_QFLAG) && !defined(__thumb__)
#define CONV_DIRECT 1
/* pixels 2q, 2q+1 (accumulators e, o) from input words a, b, c (X_q..X_q+2) */
#define CD_PAIR(e, o, a, b, c, mid) \
    "smlabb %[" e "], %[" a "], %[w0], %[" e "]\n\t" \
    "smlatb %[" o "], %[" a "], %[w0], %[" o "]\n\t" \
    "smlatt %[" e "], %[" a "], %[w0], %[" e "]\n\t" mid \
    "smlabt %[" o "], %[" b "], %[w0], %[" o "]\n\t" \
    "smlabb %[" e "], %[" b "], %[w1], %[" e "]\n\t" \
    "smlatb %[" o "], %[" b "], %[w1], %[" o "]\n\t" \
    "smlatt %[" e "], %[" b "], %[w1], %[" e "]\n\t" \
    "smlabt %[" o "], %[" c "], %[w1], %[" o "]\n\t" \
    "smlabb %[" e "], %[" c "], %[w2], %[" e "]\n\t" \
    "smlatb %[" o "], %[" c "], %[w2], %[" o "]\n\t"
/* sum s rounded (shift xa, mask xb, half xc), its q15 bits stored at w0 (then w0 += w1); out
 * of q15 range (q + 0x7FFF8000 or q - 0x7FFF8000 leaving int32, w2 = 0x7FFF8000) sets Q */
#define CD_ROUND(s) \
    "mov %[xp], %[" s "], asr %[xa]\n\t" "and %[" s "], %[" s "], %[xb]\n\t" \
    "tst %[xp], #1\n\t" "addne %[" s "], %[" s "], #1\n\t" "cmp %[" s "], %[xc]\n\t" \
    "addhi %[xp], %[xp], #1\n\t" "qadd %[" s "], %[xp], %[w2]\n\t" \
    "qsub %[" s "], %[xp], %[w2]\n\t" "strh %[xp], [%[w0]], %[w1]\n\t"

typedef struct {
    const q15_t *xp;  /* the block's first input value, kernel row 0 */
    int32_t np;       /* 4 or 6 */
    q15_t *yp;        /* its first pixel's output, channel 0 (advanced one per channel) */
    int32_t ys;       /* bytes from one pixel's output to the next: 2 ldy */
    int32_t rb;       /* bytes from one input row to the next */
    int32_t skip;     /* bytes from a channel's last weight row's end to its next's first */
    const q15_t *we;  /* the weight pointer after the last channel (+ skip) */
    int32_t sh, mask, half, lim; /* rounding; lim = 0x7FFF8000 (the range check) */
} cd_block_t;

/* One block, every channel (weights from wp). */
static inline __attribute__((always_inline)) void cd_block(const q15_t *wp, cd_block_t *b)
{
    int32_t s0, s1, s2, s3, s4, s5;
    uint32_t xa, xb, xc, w0, w1, w2;
    const q15_t *xp = b->xp;
    __asm__ volatile(
        "ldr %[xa], %[np]\n\t"
        "cmp %[xa], #6\n" /* C: 6 pixels (kept by everything up to the rounding's CMP, which
                            * sets it again; TST #63 and TEQ keep it) */
        "0:\n\t"
        "mov %[s0], #0\n\t" "mov %[s1], #0\n\t" "mov %[s2], #0\n\t" "mov %[s3], #0\n\t"
        "mov %[s4], #0\n\t" "mov %[s5], #0\n"
        "1:\n\t"
        "ldr %[w0], [%[wp]], #4\n\t" "ldr %[w1], [%[wp]], #4\n\t"
        "ldr %[w2], [%[wp]], #4\n\t" "ldr %[xa], [%[xp]]\n\t"
        "ldr %[xb], [%[xp], #4]\n\t" "ldr %[xc], [%[xp], #8]\n\t"
        CD_PAIR("s0", "s1", "xa", "xb", "xc", "")
        "ldr %[xa], [%[xp], #12]\n\t"
        CD_PAIR("s2", "s3", "xb", "xc", "xa", "")
        "ldrcc %[xc], %[rb]\n\t" /* 4 pixels: the row step, and pixels 4, 5 skipped */
        "bcc 2f\n\t"
        "ldr %[xb], [%[xp], #16]\n\t"
        CD_PAIR("s4", "s5", "xc", "xa", "xb", "ldr %[xc], %[rb]\n\t")
        "2:\n\t"
        "add %[xp], %[xp], %[xc]\n\t"
        "tst %[wp], #63\n\t" /* the channel's last kernel row done */
        "bne 1b\n"
        /* round and store the channel's outputs */
        "ldr %[xa], %[sh]\n\t" "ldr %[xb], %[mask]\n\t" "ldr %[xc], %[half]\n\t"
        "ldr %[w0], %[yp]\n\t" "ldr %[w1], %[ys]\n\t" "ldr %[w2], %[lim]\n\t"
        CD_ROUND("s0") CD_ROUND("s1")
        "ldr %[s0], %[np]\n" /* (s0 is free now: 6 while pixels 4, 5 are to come) */
        "8:\n\t"
        CD_ROUND("s2") CD_ROUND("s3")
        "cmp %[s0], #6\n\t" /* C again for the next channel: 6 pixels (s0 = 6 or 7) */
        "bne 7f\n\t"
        "mov %[s0], #7\n\t" "mov %[s2], %[s4]\n\t" "mov %[s3], %[s5]\n\t" /* pixels 4, 5 */
        "b 8b\n"
        "7:\n\t"
        "ldr %[w0], %[yp]\n\t" "ldr %[xp], %[x0]\n\t" "ldr %[w1], %[skip]\n\t"
        "add %[w0], %[w0], #2\n\t" "str %[w0], %[yp]\n\t" /* the next channel */
        "ldr %[w2], %[we]\n\t"
        "add %[wp], %[wp], %[w1]\n\t"
        "teq %[wp], %[w2]\n\t"
        "bne 0b"
        : [xp] "+r"(xp), [wp] "+r"(wp), [xa] "=&r"(xa), [xb] "=&r"(xb), [xc] "=&r"(xc),
          [w0] "=&r"(w0), [w1] "=&r"(w1), [w2] "=&r"(w2), [s0] "=&r"(s0), [s1] "=&r"(s1),
          [s2] "=&r"(s2), [s3] "=&r"(s3), [s4] "=&r"(s4), [s5] "=&r"(s5), [yp] "+m"(b->yp)
        : [np] "m"(b->np), [rb] "m"(b->rb), [ys] "m"(b->ys), [x0] "m"(b->xp),
          [skip] "m"(b->skip), [we] "m"(b->we), [sh] "m"(b->sh), [mask] "m"(b->mask),
          [half] "m"(b->half), [lim] "m"(b->lim)
        : "cc", "memory");
}

/* The tile on the direct path: 1, or 0 when it does not apply (see above) or has to be
 * redone.  Arguments as arm_conv2d_q15's. */
static inline __attribute__((always_inline)) int conv_direct(const q15_t *x, int32_t xrow0,
                                                 const spl_conv2d_t *g, const q15_t *wt,
                                                 int32_t ldw, q15_t *y, int32_t ldy, int32_t p0,
                                                 int32_t p1, int32_t c0, int32_t c1,
                                                 q15_t *scratch, int32_t scratch_rows,
                                                 const spl_requant_t *rq)
{
    const int32_t kh = g->kh, ow = g->ow, sh = rq->shift, nc = c1 - c0;
    /* cin = 1, a 5-wide kernel of at most 5 rows (64-byte weight blocks in the scratch),
     * stride 1, every window inside the image, aligned words (w, ldw even, x, wt aligned),
     * round to nearest with a 32-bit shift */
    if (((g->cin ^ 1) | (g->kw ^ SPL_CONV2D_DIRECT_KW) | (g->sx ^ 1) | (g->sy ^ 1) | g->pt |
         g->pl | ((g->w | ldw) & 1) | (int32_t)(((uintptr_t)x | (uintptr_t)wt) & 3) |
         (rq->mode ^ SPL_ROUND_NEAREST)) != 0 ||
        (uint32_t)(kh - 1) >= SPL_CONV2D_DIRECT_KH_MAX || (uint32_t)(sh - 1) > 30u ||
        ow + SPL_CONV2D_DIRECT_KW - 1 > g->w || g->oh + kh - 1 > g->h ||
        SPL_CONV2D_DIRECT_SCRATCH(nc) > scratch_rows * ldw)
        return 0;
    cd_block_t b;
    uint32_t *wd = (uint32_t *)(((uintptr_t)scratch + 63) & ~(uintptr_t)63);
    b.ys = 2 * ldy;
    b.rb = 2 * g->w;
    b.skip = 64 - 12 * kh;
    b.we = (const q15_t *)(const void *)((const char *)(wd + 16 * nc) + b.skip);
    b.sh = sh;
    b.half = 1 << (sh - 1);
    b.mask = 2 * b.half - 1;
    b.lim = 0x7FFF8000;
    /* weights: channel c's kernel row ky at byte 64 c + skip + 12 ky, 5 values and a spare
     * (in the packed row kernel rows start even and odd in turn: words, two rows at a time) */
    const uint32_t *s = (const uint32_t *)(const void *)wt;
    for (uint32_t *d0 = wd; d0 != wd + 16 * nc; d0 += 16, s += ldw >> 1) {
        const uint32_t *sr = s;
        uint32_t *d = (uint32_t *)(void *)((char *)d0 + b.skip);
        for (int32_t ky = kh; ky > 0; ky -= 2, sr += 5, d += 6) {
            uint32_t v2 = sr[2];
            d[0] = sr[0]; d[1] = sr[1]; d[2] = v2; /* (the spare is never read) */
            if (ky > 1) {
                uint32_t v3 = sr[3], v4 = sr[4];
                d[3] = (v2 >> 16) | (v3 << 16); d[4] = (v3 >> 16) | (v4 << 16); d[5] = v4 >> 16;
            }
        }
    }
    spl_q_clear();
    pix_t q = pix_of(g, p0);
    b.yp = y;
    for (int32_t left = p1 - p0; left > 0;) {
        int32_t len = left < ow - q.ox ? left : ow - q.ox; /* this row's part */
        if ((q.ox | len) & 1 || len < 4)
            return 0;
        left -= len;
        b.xp = x + ((q.n * g->h + q.oy - xrow0) * g->w + q.ox);
        do {
            /* 6 pixels while more than 8 are left; 8 as two 4s, not a 6 and a 4 that
             * would repeat 2 */
            int32_t np = len <= 4 || len == 8 ? 4 : 6;
            b.np = np;
            cd_block((const q15_t *)(const void *)((const char *)wd + b.skip), &b);
            if (spl_q_set()) /* int32 overflow or q15 saturation: redo, the sooner the better */
                return 0;
            b.xp += np;
            b.yp += np * ldy - nc; /* (the block advanced it one per channel) */
            len -= np;
        } while (len > 0);
        q.ox = 0; /* (the row is done, or the tile is) */
        if (++q.oy == g->oh) {
            q.oy = 0;
            q.n++;
        }
    }
    return 1;
}
#endif

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
#ifdef CONV_DIRECT
    /* (no saturation there: a saturated output sends the tile down the path below) */
    if (conv_direct(x, xrow0, g, wt, ldw, y, ldy, p0, p1, c0, c1, scratch, scratch_rows, rq))
        return 0;
#endif
    /* Columns k..kg-1 (one zero when k is odd) make the rows' last pair: zero once, never
     * written; the GEMM reads no further. */
    int32_t kg = (k & 1) && ldw > k ? k + 1 : k;
    if (kg > k)
        for (int32_t r = 0; r < scratch_rows; r++)
            scratch[(int64_t)r * ldw + k] = 0;
    /* The GEMM runs over k rounded up to even, not over ldw: the pair loads need an even
     * count and the zero padding beyond that is work for nothing (the host's K_ALIGN = 16
     * stride made LeNet-5's C1, k = 25, do 32 MACs per output). */
#ifdef SPL_HAVE_QFLAG
    int32_t chunk = 0; /* no scan: each GEMM call checks the Q flag instead (spl_dsp.h) */
#else
    int32_t chunk = conv_chunk(x, xrow0, g, wt, ldw, p1, c1 - c0, kg);
#endif
    pix_t q = pix_of(g, p0);
    for (int32_t p = p0; p < p1; p += scratch_rows) {
        int32_t rows = p1 - p < scratch_rows ? p1 - p : scratch_rows;
        im2col_rows(x, xrow0, g, &q, scratch, ldw, rows);
        sat += spl_gemm_q15_chunk(scratch, ldw, wt, ldw, y + (int64_t)(p - p0) * ldy, ldy,
                                  rows, c1 - c0, kg, rq, (uint32_t)p, (uint32_t)c0,
                                  (uint32_t)g->cout, chunk);
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
/* Host SIMD forms of block_4x4_i32 (spl_simd.h picks at most one; none on the ARM968). */
#include "spl_simd.h"
#if defined(SPL_SIMD_AVX2)
#include "host/conv_avx2.inc"
#elif defined(SPL_SIMD_NEON)
#include "host/conv_neon.inc"
#endif

#ifndef SPL_HAVE_QFLAG /* (the ARM968 uses the GEMM's 2 x 2 block: accum_abt below) */
static void block_4x4_i32(const q15_t *a, const q15_t *b, int32_t ld, int32_t len,
                          int32_t s[4][4])
{
#if defined(SPL_SIMD_AVX2) || defined(SPL_SIMD_NEON)
    block_4x4_i32_simd(a, b, ld, len, s);
    return;
#endif
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
#endif

#ifdef SPL_HAVE_QFLAG
/* acc[i][j] += sum_r a[i][r] * b[j][r] (i < ma, j < nb; rows padded with zeros to multiples
 * of 4, stride ld), exact for any data, on the ARM968: the GEMM's 2 x 2 SMLAxy block (pair
 * loads, about 1.6 cycles/MAC in its loop) in int32 with no operand scan and no byte split; a
 * block whose sums overflowed (the Q flag, spl_dsp.h) is redone on the exact SMLALxy path.
 * ahi is not used. */
static void accum_abt(q15_t *a, q15_t *ahi, int32_t ma, const q15_t *b, int32_t nb,
                      int32_t ld, int32_t len, q63_t *acc, int32_t ldacc)
{
    int pairs = (((uintptr_t)a | (uintptr_t)b) & 3) == 0 && (ld & 1) == 0;
    (void)ahi;
    for (int32_t i = 0; i < ma; i += 2) /* row i + 1 exists: zero padding when i + 1 = ma */
        for (int32_t j = 0; j < nb; j += 2) {
            const q15_t *ar = a + (int64_t)i * ld, *br = b + (int64_t)j * ld;
            q63_t e[4];
            int exact = !pairs;
            if (pairs) {
                const spl_pair_t *a0 = (const spl_pair_t *)ar;
                const spl_pair_t *a1 = (const spl_pair_t *)(ar + ld);
                const spl_pair_t *b0 = (const spl_pair_t *)br;
                const spl_pair_t *b1 = (const spl_pair_t *)(br + ld);
                int32_t s[4];
                s[0] = s[1] = s[2] = s[3] = 0;
                spl_q_clear();
                spl_pairs_2x2(&a0, &a1, &b0, &b1, len >> 1, s);
                if (len & 1) {
                    int32_t x0 = ar[len - 1], x1 = ar[ld + len - 1];
                    int32_t y0 = br[len - 1], y1 = br[ld + len - 1];
                    s[0] = spl_smlabb(x0, y0, s[0]); s[1] = spl_smlabb(x0, y1, s[1]);
                    s[2] = spl_smlabb(x1, y0, s[2]); s[3] = spl_smlabb(x1, y1, s[3]);
                }
                exact = spl_q_set();
                for (int32_t u = 0; u < 4; u++)
                    e[u] = s[u];
            }
            if (exact)
                spl_block_2x2_exact(ar, ld, br, ld, len, e);
            for (int32_t u = 0; u < 2 && i + u < ma; u++)
                for (int32_t v = 0; v < 2 && j + v < nb; v++)
                    acc[(int64_t)(i + u) * ldacc + j + v] += e[2 * u + v];
        }
}
#else
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
#endif

#if defined(__AVX512VNNI__) && defined(__AVX512BW__) && !defined(SPL_PORTABLE)
/* Host-only weight-gradient path (the emulator), in the style of gemm_q15.c's VNNI block:
 * never built for the ARM968 and bit-identical to the portable path, since both add the exact
 * integer products into the same int64 partials.
 *
 * Form: lanes run along output channels, an outer product per pixel pair.  One vpdpwssd adds
 * to int32 lane (channel j, group g) col[p][k] * d[p][j] + col[p'][k] * d[p'][j] for the
 * pixel pair (p, p') of group g, with the im2col value pair broadcast from memory; a step
 * covers W = 2G pixels, and G = 4, 2, 1 groups fill the 16 lanes for <= 4, <= 8, > 8 channels
 * (16 / G per block).  The chunk's im2col is laid out [step][k][W] and its deltas
 * [step][block][lane][pair], so both operands are plain loads and no transpose of the data
 * over pixels is needed.  8 k rows of accumulators stay in registers over a run of steps.
 *
 * Exactness: a lane's sum over a run of steps is bounded by max|col| of the chunk times the
 * sum over the run of the largest pair sum of max_j |d[p][j]| in any group; runs are cut where
 * that bound would pass 2^31 - 1 (vpdpwssd wraps modulo 2^32, harmless while the true sum
 * fits), then widened into the int64 partials.  A chunk where one step alone could overflow
 * goes to the portable path. */
#include <immintrin.h>

#define GW_BUF 49152   /* q15 of stack scratch per chunk */
#define GW_MAX_STEPS 128

typedef int32_t gw_i32a __attribute__((may_alias, aligned(2)));
typedef int64_t gw_i64a __attribute__((may_alias, aligned(2)));

static inline __attribute__((always_inline)) __m512i gw_bcast(const q15_t *p, int32_t G)
{
    if (G == 1)
        return _mm512_set1_epi32(*(const gw_i32a *)p);
    if (G == 2)
        return _mm512_set1_epi64(*(const gw_i64a *)p);
    return _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)p));
}

/* Adds the int32 lanes of v (channel-major, G groups each) to int64 acc[0..cn), or stores
 * them there when `first` (the tile's first flush: its partials are not zeroed beforehand). */
static inline __attribute__((always_inline)) void gw_flush(__m512i v, int32_t G, q63_t *acc,
                                                           int32_t cn, int first)
{
    if (G == 1) {
        __m512i lo = _mm512_cvtepi32_epi64(_mm512_castsi512_si256(v));
        __m512i hi = _mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(v, 1));
        __mmask8 m0 = (__mmask8)(cn >= 8 ? 0xFF : (1u << cn) - 1u);
        __mmask8 m1 = (__mmask8)(cn >= 16 ? 0xFF : cn <= 8 ? 0 : (1u << (cn - 8)) - 1u);
        if (!first) {
            lo = _mm512_add_epi64(lo, _mm512_maskz_loadu_epi64(m0, acc));
            hi = _mm512_add_epi64(hi, _mm512_maskz_loadu_epi64(m1, acc + 8));
        }
        _mm512_mask_storeu_epi64(acc, m0, lo);
        if (m1)
            _mm512_mask_storeu_epi64(acc + 8, m1, hi);
        return;
    }
    __m512i w = _mm512_add_epi64(_mm512_srai_epi64(_mm512_slli_epi64(v, 32), 32),
                                 _mm512_srai_epi64(v, 32));
    if (G == 4)
        w = _mm512_maskz_compress_epi64(0x55, _mm512_add_epi64(
                w, _mm512_shuffle_epi32(w, (_MM_PERM_ENUM)0x4E)));
    __mmask8 m = (__mmask8)((1u << cn) - 1u);
    if (!first)
        w = _mm512_add_epi64(w, _mm512_maskz_loadu_epi64(m, acc));
    _mm512_mask_storeu_epi64(acc, m, w);
}

#define GW_ZERO(i) __m512i a##i = _mm512_setzero_si512();
#define GW_FMA(i) a##i = _mm512_dpwssd_epi32(a##i, dv, gw_bcast(cp + (i) * W, G));
#define GW_OUT(i) gw_flush(a##i, G, acc + (int64_t)(k0 + (i)) * ldacc + cc0, cn, first);
#define GW_8(OP) OP(0) OP(1) OP(2) OP(3) OP(4) OP(5) OP(6) OP(7)

/* Steps [s0, s1) of every k and channel block into the partials (stored there when `first`:
 * every partial of the tile gets exactly one flush per run of steps). */
static inline __attribute__((always_inline)) void
gw_run(const q15_t *colq, const q15_t *dq, int32_t k, int32_t G, int32_t nblk, int32_t nc,
       int32_t s0, int32_t s1, q63_t *acc, int32_t ldacc, int first)
{
    const int32_t W = 2 * G, per = 16 / G;
    for (int32_t b = 0; b < nblk; b++) {
        int32_t cc0 = b * per, cn = nc - cc0 < per ? nc - cc0 : per;
        int32_t k0 = 0;
        for (; k0 + 8 <= k; k0 += 8) {
            GW_8(GW_ZERO)
            for (int32_t s = s0; s < s1; s++) {
                __m512i dv = _mm512_loadu_si512(dq + ((int64_t)s * nblk + b) * 32);
                const q15_t *cp = colq + ((int64_t)s * k + k0) * W;
                GW_8(GW_FMA)
            }
            GW_8(GW_OUT)
        }
        for (; k0 < k; k0++) {
            GW_ZERO(0)
            for (int32_t s = s0; s < s1; s++) {
                __m512i dv = _mm512_loadu_si512(dq + ((int64_t)s * nblk + b) * 32);
                const q15_t *cp = colq + ((int64_t)s * k + k0) * W;
                GW_FMA(0)
            }
            GW_OUT(0)
        }
    }
}

static void gw_run_g(const q15_t *colq, const q15_t *dq, int32_t k, int32_t G, int32_t nblk,
                     int32_t nc, int32_t s0, int32_t s1, q63_t *acc, int32_t ldacc, int first)
{
    if (G == 4)
        gw_run(colq, dq, k, 4, nblk, nc, s0, s1, acc, ldacc, first);
    else if (G == 2)
        gw_run(colq, dq, k, 2, nblk, nc, s0, s1, acc, ldacc, first);
    else
        gw_run(colq, dq, k, 1, nblk, nc, s0, s1, acc, ldacc, first);
}

static int32_t gw_groups(int32_t nc)
{
    return nc <= 4 ? 4 : nc <= 8 ? 2 : 1;
}

/* Pixels per chunk that buf holds (a multiple of the step, at most GW_MAX_STEPS steps), or 0
 * when not even one step fits. */
static int32_t gw_chunk_pixels(int32_t k, int32_t nc)
{
    int32_t G = gw_groups(nc), W = 2 * G, nblk = (nc + 16 / G - 1) / (16 / G);
    int64_t steps = (GW_BUF - (int64_t)W * k - k - nc - 64) / ((int64_t)k * W + 32 * nblk);
    if (steps > GW_MAX_STEPS)
        steps = GW_MAX_STEPS;
    return (int32_t)steps * W;
}

/* out[c * W + j] = rows[j][c] for c < ns (zero where c >= nl), j < W: W rows of a pixel step
 * turned column-major by 16-, 32- and 64-bit interleaves, 32 columns at a time. */
static inline __attribute__((always_inline)) void
gw_transpose(const q15_t *const *rows, int32_t nl, int32_t ns, q15_t *out, int32_t W)
{
    const __m512i i16l = _mm512_set_epi16(47, 15, 46, 14, 45, 13, 44, 12, 43, 11, 42, 10, 41, 9,
                                          40, 8, 39, 7, 38, 6, 37, 5, 36, 4, 35, 3, 34, 2, 33, 1,
                                          32, 0);
    const __m512i i16h = _mm512_add_epi16(i16l, _mm512_set1_epi16(16));
    const __m512i i32l = _mm512_set_epi32(23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
    const __m512i i32h = _mm512_add_epi32(i32l, _mm512_set1_epi32(8));
    const __m512i i64l = _mm512_set_epi64(11, 3, 10, 2, 9, 1, 8, 0);
    const __m512i i64h = _mm512_add_epi64(i64l, _mm512_set1_epi64(4));
    for (int32_t c = 0; c < ns; c += 32) {
        int32_t l = nl - c, s = ns - c;
        __mmask32 ml = l >= 32 ? ~(__mmask32)0 : l <= 0 ? 0 : (__mmask32)((1u << l) - 1u);
        __m512i r[8], t[8], o[8];
        for (int32_t j = 0; j < W; j++)
            r[j] = _mm512_maskz_loadu_epi16(ml, rows[j] + c);
        for (int32_t j = 0; j < W; j += 2) {
            t[j] = _mm512_permutex2var_epi16(r[j], i16l, r[j + 1]);
            t[j + 1] = _mm512_permutex2var_epi16(r[j], i16h, r[j + 1]);
        }
        if (W == 2) {
            o[0] = t[0];
            o[1] = t[1];
        } else {
            for (int32_t j = 0; j < W; j += 4) {
                r[j] = _mm512_permutex2var_epi32(t[j], i32l, t[j + 2]);
                r[j + 1] = _mm512_permutex2var_epi32(t[j], i32h, t[j + 2]);
                r[j + 2] = _mm512_permutex2var_epi32(t[j + 1], i32l, t[j + 3]);
                r[j + 3] = _mm512_permutex2var_epi32(t[j + 1], i32h, t[j + 3]);
            }
            if (W == 4) {
                for (int32_t j = 0; j < 4; j++)
                    o[j] = r[j];
            } else {
                for (int32_t j = 0; j < 4; j++) {
                    o[2 * j] = _mm512_permutex2var_epi64(r[j], i64l, r[j + 4]);
                    o[2 * j + 1] = _mm512_permutex2var_epi64(r[j], i64h, r[j + 4]);
                }
            }
        }
        q15_t *d = out + (int64_t)c * W;
        int32_t left = (s >= 32 ? 32 : s) * W; /* q15 to store */
        for (int32_t j = 0; j < W; j++, left -= 32, d += 32) {
            if (left >= 32)
                _mm512_storeu_si512(d, o[j]);
            else if (left > 0)
                _mm512_mask_storeu_epi16(d, (__mmask32)((1u << left) - 1u), o[j]);
        }
    }
}

/* im2col_row with ds = 1, the common all-inside case as masked block copies. */
static inline void gw_im2col_row(const q15_t *x, int32_t xrow0, const spl_conv2d_t *g, pix_t q,
                                 q15_t *dst)
{
    int32_t cin = g->cin, kwc = g->kw * cin;
    int32_t iy0 = q.oy * g->sy - g->pt, ix0 = q.ox * g->sx - g->pl;
    if (ix0 < 0 || ix0 + g->kw > g->w || iy0 < 0 || iy0 + g->kh > g->h) {
        im2col_row(x, xrow0, g, q, dst, 1);
        return;
    }
    int64_t wc = (int64_t)g->w * cin;
    const q15_t *s = x + ((int64_t)q.n * g->h + iy0 - xrow0) * wc + (int64_t)ix0 * cin;
    for (int32_t ky = 0; ky < g->kh; ky++, s += wc, dst += kwc)
        for (int32_t i = 0; i < kwc; i += 32) {
            int32_t l = kwc - i;
            __mmask32 m = l >= 32 ? ~(__mmask32)0 : (__mmask32)((1u << l) - 1u);
            _mm512_mask_storeu_epi16(dst + i, m, _mm512_maskz_loadu_epi16(m, s + i));
        }
}

static void gw_transpose_w(const q15_t *const *rows, int32_t nl, int32_t ns, q15_t *out,
                           int32_t W)
{
    if (W == 8)
        gw_transpose(rows, nl, ns, out, 8);
    else if (W == 4)
        gw_transpose(rows, nl, ns, out, 4);
    else
        gw_transpose(rows, nl, ns, out, 2);
}

/* One chunk of `rows` pixels from *qp on (advanced on success); 0 when the chunk must take the
 * portable path (nothing was added).  *fresh: acc holds nothing yet (the first flush stores;
 * cleared once it has). */
static int gw_simd_chunk(const q15_t *x, int32_t xrow0, const spl_conv2d_t *g, pix_t *qp,
                         const q15_t *delta, int32_t ldd, int32_t rows, int32_t nc, q63_t *acc,
                         int32_t ldacc, q15_t *buf, int *fresh)
{
    int32_t k = g->kh * g->kw * g->cin, G = gw_groups(nc), W = 2 * G, per = 16 / G;
    int32_t nblk = (nc + per - 1) / per, steps = (rows + W - 1) / W;
    q15_t *colq = buf, *dq = buf + (int64_t)steps * k * W, *tmp = dq + (int64_t)steps * nblk * 32;
    q15_t *zero = tmp + (int64_t)W * k; /* a zero row of max(k, nc) for padding pixels */
    uint32_t mdp[GW_MAX_STEPS * 8];
    uint64_t stepb[GW_MAX_STEPS];
    const q15_t *rp[8], *dp[8];
    int32_t nz = k > nc ? k : nc;
    for (int32_t i = 0; i < nz; i++)
        zero[i] = 0;
    pix_t q = *qp;
    for (int32_t s = 0; s < steps; s++) {
        for (int32_t jj = 0; jj < W; jj++) {
            int32_t j = s * W + jj;
            if (j < rows) {
                gw_im2col_row(x, xrow0, g, q, tmp + (int64_t)jj * k);
                pix_next(g, &q);
                rp[jj] = tmp + (int64_t)jj * k;
                const q15_t *d = delta + (int64_t)j * ldd;
                dp[jj] = d;
                uint32_t m = 0;
                for (int32_t c = 0; c < nc; c++) {
                    uint32_t v = (uint32_t)(d[c] < 0 ? -(int32_t)d[c] : d[c]);
                    m = v > m ? v : m;
                }
                mdp[j] = m;
            } else {
                rp[jj] = dp[jj] = zero;
                mdp[j] = 0;
            }
        }
        gw_transpose_w(rp, k, k, colq + (int64_t)s * k * W, W);
        for (int32_t b = 0; b < nblk; b++) {
            const q15_t *db[8];
            for (int32_t jj = 0; jj < W; jj++)
                db[jj] = dp[jj] + b * per;
            gw_transpose_w(db, nc - b * per, per, dq + ((int64_t)s * nblk + b) * 32, W);
        }
    }
    uint32_t mc = 0;
    for (int64_t i = 0; i < (int64_t)steps * k * W; i++) {
        uint32_t v = (uint32_t)(colq[i] < 0 ? -(int32_t)colq[i] : colq[i]);
        mc = v > mc ? v : mc;
    }
    for (int32_t s = 0; s < steps; s++) {
        uint32_t worst = 0;
        for (int32_t gg = 0; gg < G; gg++) {
            uint32_t t = mdp[s * W + 2 * gg] + mdp[s * W + 2 * gg + 1];
            worst = t > worst ? t : worst;
        }
        stepb[s] = (uint64_t)mc * worst;
        if (stepb[s] > 0x7FFFFFFFu)
            return 0;
    }
    for (int32_t s0 = 0; s0 < steps;) {
        uint64_t cum = 0;
        int32_t s1 = s0;
        while (s1 < steps && cum + stepb[s1] <= 0x7FFFFFFFu)
            cum += stepb[s1++];
        gw_run_g(colq, dq, k, G, nblk, nc, s0, s1, acc, ldacc, *fresh);
        *fresh = 0;
        s0 = s1;
    }
    *qp = q;
    return 1;
}
#endif

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
    pix_t q = pix_of(g, p0);
    int32_t p = p0;
    int fresh = 1; /* acc holds nothing yet: the host SIMD path stores its first flush */
#if defined(__AVX512VNNI__) && defined(__AVX512BW__) && !defined(SPL_PORTABLE)
    if (nc > 0) {
        q15_t buf[GW_BUF];
        int32_t cp = gw_chunk_pixels(k, nc);
        while (cp > 0 && p < p1) {
            int32_t rows = p1 - p < cp ? p1 - p : cp;
            if (!gw_simd_chunk(x, xrow0, g, &q, delta + (int64_t)(p - p0) * ldd, ldd, rows,
                               nc, acc, ldacc, buf, &fresh))
                break;
            p += rows;
        }
    }
#elif defined(SPL_SIMD_AVX2)
    p = gw_avx2(x, xrow0, g, &q, delta, ldd, p0, p1, nc, acc, ldacc, &fresh);
#endif
    if (fresh)
        for (int32_t i = 0; i < k; i++)
            for (int32_t j = 0; j < nc; j++)
                acc[(int64_t)i * ldacc + j] = 0;
    if (p >= p1 || nc <= 0)
        return;
    for (int64_t i = (int64_t)k * R; i < (int64_t)k4 * R; i++)
        colt[i] = 0;
    for (int64_t i = (int64_t)nc * R; i < (int64_t)nc4 * R; i++)
        dt[i] = 0;
    for (; p < p1; p += R) {
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
