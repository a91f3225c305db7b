/* Emulator runners for convolution.  Tiles:
 *   conv2d            (p0, p1, c0, c1, xrow0)
 *   conv2d_pack       (r0, r1)
 *   grad_weight       (slot, p0, p1, c0, c1, xrow0): writes partial `slot`
 *   grad_weight_reduce (e0, e1): flat range of the HWIO weight gradient
 * xrow0 is the first global input row (n * h + iy) the tile reads: the runner hands the kernel
 * the input from there on, as the core's DMA would. */
#include "../spinla.h"
#include "spl_host.h"
#include "spl_threads.inc"
#include <stdlib.h>
#include <string.h>

static spl_conv2d_t geometry(const int32_t *v)
{
    spl_conv2d_t g = {v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11],
                      v[12]};
    return g;
}

/* One tile (or any pixel x channel range, x the whole input) on arm_conv2d_q15: the core's
 * kernel, handed the input from the first row the range reads. */
static uint32_t conv_tile(const int16_t *x, const spl_conv2d_t *g, const int16_t *wt,
                          int32_t ldw, int16_t *y, int32_t p0, int32_t p1, int32_t c0,
                          int32_t c1, int32_t xrow0, int16_t *scratch, int32_t scratch_rows,
                          const spl_requant_t *rq)
{
    return arm_conv2d_q15(x + (int64_t)xrow0 * g->w * g->cin, xrow0, g, wt + (int64_t)c0 * ldw,
                          ldw, y + (int64_t)p0 * g->cout + c0, g->cout, p0, p1, c0, c1,
                          scratch, scratch_rows, rq);
}

/* The first global input row (n * h + iy) that output pixels from p on read. */
static int32_t conv_first_row(const spl_conv2d_t *g, int32_t p)
{
    int32_t per = g->oh * g->ow, n = p / per, iy = (p - n * per) / g->ow * g->sy - g->pt;
    return n * g->h + (iy < 0 ? 0 : iy > g->h ? g->h : iy);
}

/* The SIMD builds' host-only paths (the portable build, the tests' reference, runs every tile
 * on the kernels as the board does): the direct cin = 1 forward and weight gradient, the
 * planner's grid as merged ranges, padded inputs copied once. */
#include "../spl_simd.h"
#if defined(SPL_SIMD_AVX512) || defined(SPL_SIMD_AVX2)
#define CONV_HOST_PATHS 1
#if defined(SPL_SIMD_AVX512)
#include "conv_direct_avx512.inc"
#else
#include "conv_direct_avx2.inc"
#endif
#include "conv_direct.inc"
#include "conv_gw_direct.inc"

/* Whether the tiles are the planner's grid (spinla/kernels/conv.py: pixel ranges in order,
 * each split into the same channel ranges in order) covering every output exactly once: then
 * the outputs do not depend on how they are cut, and the direct path takes whole images. */
static int conv_tiles_grid(const int32_t *tiles, int32_t ntiles, int32_t npix, int32_t cout)
{
    int32_t nct = 0;
    while (nct < ntiles && tiles[5 * nct] == tiles[0] && tiles[5 * nct + 1] == tiles[1])
        nct++;
    if (ntiles < 1 || ntiles % nct)
        return 0;
    for (int32_t t = 0; t < ntiles; t++) {
        const int32_t *tl = tiles + 5 * t, *first = tiles + 5 * (t % nct);
        const int32_t *prev = t >= nct ? tiles + 5 * (t - nct) : NULL;
        int32_t ci = t % nct;
        if (tl[2] != first[2] || tl[3] != first[3] || tl[3] <= tl[2] ||
            tl[2] != (ci ? tiles[5 * (ci - 1) + 3] : 0) || tl[0] != tiles[5 * (t - ci)] ||
            tl[1] != tiles[5 * (t - ci) + 1] || tl[1] <= tl[0] || tl[0] != (prev ? prev[1] : 0))
            return 0;
    }
    return tiles[5 * (nct - 1) + 3] == cout && tiles[5 * (ntiles - 1) + 1] == npix;
}

/* spl_run_conv2d on the direct path (conv_direct.inc): the planner's grid as work items of
 * whole chunks of output rows, all channels (any other tile list tile by tile); an item whose
 * int32 bound fails runs on arm_conv2d_q15 instead. */
static uint64_t conv_run_direct(const int16_t *x, const spl_conv2d_t *g, const int16_t *wt,
                                int32_t ldw, int16_t *y, const int32_t *tiles, int32_t ntiles,
                                int16_t *scratch, int32_t scratch_rows, const spl_requant_t *rq,
                                int32_t nthreads, int64_t work)
{
    uint64_t sat = 0;
    int32_t npix = g->n * g->oh * g->ow, rows = cd_chunk_rows(g);
    int32_t per = g->oh * g->ow, chunks = (g->oh + rows - 1) / rows;
    int grid = conv_tiles_grid(tiles, ntiles, npix, g->cout);
    int32_t items = grid ? g->n * chunks : ntiles;
#pragma omp parallel for schedule(dynamic, 1) reduction(+ : sat) num_threads(nthreads) \
    if (work >= PAR_MIN_WORK)
    for (int32_t t = 0; t < items; t++) {
        int32_t p0, p1, c0 = 0, c1 = g->cout;
        if (grid) {
            int32_t n = t / chunks, r0 = (t - n * chunks) * rows;
            p0 = n * per + r0 * g->ow;
            p1 = r0 + rows < g->oh ? p0 + rows * g->ow : (n + 1) * per;
        } else {
            p0 = tiles[5 * t], p1 = tiles[5 * t + 1], c0 = tiles[5 * t + 2];
            c1 = tiles[5 * t + 3];
        }
        if (!cd_range(x, g, wt, ldw, y, p0, p1, c0, c1, rq, &sat))
            sat += conv_tile(x, g, wt, ldw, y, p0, p1, c0, c1, conv_first_row(g, p0),
                             scratch + (int64_t)THREAD_ID() * scratch_rows * ldw, scratch_rows,
                             rq);
    }
    return sat;
}

/* The planner's grid (conv_tiles_grid) of a convolution on the im2col path as a few ranges of
 * pixels per host thread, all channels, with CONV_MERGE_ROWS im2col rows per GEMM call (big:
 * nthreads blocks of CONV_MERGE_ROWS x ldw): arm_conv2d_q15's per-call work (the overflow
 * proof's scan of the input rows and of the weight slice, conv_chunk) then runs a few times
 * per call instead of once per 36-pixel tile (LeNet-5's C3: as many values scanned as MACs
 * done), and each GEMM plans its exactness over four times the rows.  The bits do not depend
 * on the cut: every output is its exact sum rounded at its own index p * cout + c. */
#define CONV_MERGE_ROWS 144
#define CONV_MERGE_PER_THREAD 4 /* ranges per thread (dynamic schedule) */
static uint64_t conv_run_merged(const int16_t *x, const spl_conv2d_t *g, const int16_t *wt,
                                int32_t ldw, int16_t *y, int16_t *big, const spl_requant_t *rq,
                                int32_t nthreads, int64_t work)
{
    uint64_t sat = 0;
    int32_t npix = g->n * g->oh * g->ow, items = nthreads * CONV_MERGE_PER_THREAD;
    int32_t per = (npix + items - 1) / items;
    per = (per + CONV_MERGE_ROWS - 1) / CONV_MERGE_ROWS * CONV_MERGE_ROWS;
    items = (npix + per - 1) / per;
#pragma omp parallel for schedule(dynamic, 1) reduction(+ : sat) num_threads(nthreads) \
    if (work >= PAR_MIN_WORK)
    for (int32_t t = 0; t < items; t++) {
        int32_t p0 = t * per, p1 = npix - p0 < per ? npix : p0 + per;
        sat += conv_tile(x, g, wt, ldw, y, p0, p1, 0, g->cout, conv_first_row(g, p0),
                         big + (int64_t)THREAD_ID() * CONV_MERGE_ROWS * ldw, CONV_MERGE_ROWS,
                         rq);
    }
    return sat;
}

/* Windows that reach into the zero padding (the input gradient's "full" convolutions, "same"
 * layers) are im2col_row's slow case: a run of zeros, a copy and zeros again per kernel row.
 * The runner instead copies the input once into a zero-padded image of ((oh - 1) sy + kh) x
 * ((ow - 1) sx + kw) and runs the same tiles on it with no padding, where every window is
 * im2col_rows' block copy.  Same output pixels, same rounding indices p * cout + c, same
 * exact sums (the padding values were zeros either way), so the same bits and saturation
 * counts; only each tile's xrow0 is recomputed for the padded rows.  Returns the padded copy
 * (malloc'd, the caller frees it) with *gp and *tp (the tiles, malloc'd in the same block)
 * set, or NULL when no window leaves the image or the copy would be large. */
#define CONV_PAD_MAX ((int64_t)1 << 26) /* q15 values of a padded copy (128 MiB) */
static int16_t *conv_pad(const int16_t *x, const spl_conv2d_t *g, const int32_t *tiles,
                         int32_t ntiles, spl_conv2d_t *gp, int32_t **tp)
{
    int32_t hp = (g->oh - 1) * g->sy + g->kh, wp = (g->ow - 1) * g->sx + g->kw;
    if (!(g->pt > 0 || g->pl > 0 || hp - g->pt > g->h || wp - g->pl > g->w))
        return NULL;
    int64_t row = (int64_t)wp * g->cin, nx = (int64_t)g->n * hp * row;
    if (nx > CONV_PAD_MAX)
        return NULL;
    int64_t tbytes = ((int64_t)5 * ntiles * (int64_t)sizeof(int32_t) + 63) & ~(int64_t)63;
    int16_t *xp = (int16_t *)malloc((size_t)(tbytes + nx * (int64_t)sizeof(int16_t)));
    if (!xp)
        return NULL;
    int32_t *t = (int32_t *)(void *)xp;
    xp = (int16_t *)(void *)((char *)xp + tbytes);
    *gp = *g;
    gp->h = hp;
    gp->w = wp;
    gp->pt = gp->pl = 0;
    /* the columns of the image inside the padded row: [j0, j1) */
    int32_t j0 = g->pl > 0 ? g->pl : 0, j1 = g->w + g->pl < wp ? g->w + g->pl : wp;
    for (int64_t r = 0; r < (int64_t)g->n * hp; r++) {
        int32_t n = (int32_t)(r / hp), iy = (int32_t)(r - (int64_t)n * hp) - g->pt;
        int16_t *d = xp + r * row;
        if (iy < 0 || iy >= g->h || j1 <= j0) {
            memset(d, 0, (size_t)row * sizeof(int16_t));
            continue;
        }
        memset(d, 0, (size_t)j0 * g->cin * sizeof(int16_t));
        memcpy(d + (int64_t)j0 * g->cin,
               x + (((int64_t)n * g->h + iy) * g->w + (j0 - g->pl)) * g->cin,
               (size_t)(j1 - j0) * g->cin * sizeof(int16_t));
        memset(d + (int64_t)j1 * g->cin, 0, (size_t)(wp - j1) * g->cin * sizeof(int16_t));
    }
    for (int32_t i = 0; i < ntiles; i++) {
        for (int32_t j = 0; j < 4; j++)
            t[5 * i + j] = tiles[5 * i + j];
        t[5 * i + 4] = conv_first_row(gp, tiles[5 * i]);
    }
    *tp = t;
    return xp;
}
#endif

uint64_t spl_run_conv2d(const int16_t *x, const int16_t *wt, int16_t *y, const int32_t *geom,
                        int32_t ldw, const int32_t *tiles, int32_t ntiles, int16_t *scratch,
                        int32_t scratch_rows, int32_t shift, int32_t mode, uint32_t seed,
                        int32_t nthreads)
{
    uint64_t sat = 0;
    spl_conv2d_t g = geometry(geom);
    spl_requant_t rq = {shift, mode, seed};
    int64_t work = (int64_t)g.n * g.oh * g.ow * g.cout * g.kh * g.kw * g.cin;
#ifdef CONV_HOST_PATHS
    if (cd_applies(&g))
        return conv_run_direct(x, &g, wt, ldw, y, tiles, ntiles, scratch, scratch_rows, &rq,
                               nthreads, work);
    spl_conv2d_t gpad;
    int32_t *tpad = NULL;
    int16_t *xpad = conv_pad(x, &g, tiles, ntiles, &gpad, &tpad);
    if (xpad) {
        x = xpad;
        g = gpad;
        tiles = tpad;
    }
    int16_t *big = NULL;
    if (conv_tiles_grid(tiles, ntiles, g.n * g.oh * g.ow, g.cout))
        big = (int16_t *)malloc((size_t)nthreads * CONV_MERGE_ROWS * ldw * sizeof(int16_t));
    if (big) {
        sat = conv_run_merged(x, &g, wt, ldw, y, big, &rq, nthreads, work);
        free(big);
        if (xpad)
            free(tpad);
        return sat;
    }
#endif
#pragma omp parallel for schedule(dynamic, 1) reduction(+ : sat) num_threads(nthreads) \
    if (work >= PAR_MIN_WORK)
    for (int32_t t = 0; t < ntiles; t++) {
        const int32_t *tl = tiles + 5 * t;
        int32_t p0 = tl[0], p1 = tl[1], c0 = tl[2], c1 = tl[3], xrow0 = tl[4];
        sat += conv_tile(x, &g, wt, ldw, y, p0, p1, c0, c1, xrow0,
                         scratch + (int64_t)THREAD_ID() * scratch_rows * ldw, scratch_rows, &rq);
    }
#ifdef CONV_HOST_PATHS
    if (xpad)
        free(tpad); /* (the tiles head the copy's block) */
#endif
    return sat;
}

void spl_run_conv2d_pack(const int16_t *w, int32_t kh, int32_t kw, int32_t cin, int32_t cout,
                         const int16_t *table, int32_t flip, int16_t *dst, int32_t ldd,
                         const int32_t *tiles, int32_t ntiles, int32_t nthreads)
{
    /* A few thousand weights: never worth a second thread. */
    (void)nthreads;
    for (int32_t t = 0; t < ntiles; t++)
        arm_conv2d_pack_q15(w, kh, kw, cin, cout, table, flip, dst, ldd, tiles[2 * t],
                            tiles[2 * t + 1]);
}

void spl_run_conv2d_grad_weight(const int16_t *x, const int16_t *delta, int64_t *part,
                                const int32_t *geom, const int32_t *tiles, int32_t ntiles,
                                int16_t *scratch, int32_t scratch_cols, int32_t nthreads)
{
    spl_conv2d_t g = geometry(geom);
    int64_t wc = (int64_t)g.w * g.cin, k = (int64_t)g.kh * g.kw * g.cin;
    int64_t per = SPL_CONV2D_GW_SCRATCH(k, (int64_t)g.cout, (int64_t)scratch_cols);
    int64_t work = (int64_t)g.n * g.oh * g.ow * g.cout * k;
#ifdef CONV_HOST_PATHS
    int direct = gd_applies(&g);
#endif
#pragma omp parallel for schedule(dynamic, 1) num_threads(nthreads) if (work >= PAR_MIN_WORK)
    for (int32_t t = 0; t < ntiles; t++) {
        const int32_t *tl = tiles + 6 * t;
        int32_t slot = tl[0], p0 = tl[1], p1 = tl[2], c0 = tl[3], c1 = tl[4], xrow0 = tl[5];
#ifdef CONV_HOST_PATHS
        if (direct && gd_range(x, &g, delta + (int64_t)p0 * g.cout + c0, g.cout, p0, p1,
                               c1 - c0, part + slot * k * g.cout + c0, g.cout))
            continue;
#endif
        arm_conv2d_grad_weight_q15(x + xrow0 * wc, xrow0, &g,
                                   delta + (int64_t)p0 * g.cout + c0, g.cout, p0, p1, c0, c1,
                                   part + slot * k * g.cout + c0, g.cout,
                                   scratch + THREAD_ID() * per, scratch_cols);
    }
}

/* The host's form of arm_conv2d_grad_weight_reduce_q15 over [e0, e1): the same exact int64 sum
 * of the partials per weight, the same one rounding at the weight's flat index, the same zero
 * (no rounding, nothing counted) where the table leaves the connection out.  The kernel walks
 * each weight down all the partials (one int64 per partial, a partial's stride apart: what a
 * core streaming its slice does); here a block of weights is summed partial by partial,
 * contiguous int64 adds the compiler vectorises, and rounded by spl_requant_block_q63 (equal
 * to spl_requant_q63 element by element; a zeroed sum rounds to 0 without saturating). */
#define GW_REDUCE_BLOCK 512
static uint32_t gw_reduce_range(const int64_t *part, int32_t nparts, int64_t pstride,
                                int32_t e0, int32_t e1, int32_t cin, int32_t cout,
                                const int16_t *table, int16_t *dw, const spl_requant_t *rq)
{
    uint32_t sat = 0;
    int64_t s[GW_REDUCE_BLOCK];
    for (int32_t b0 = e0; b0 < e1; b0 += GW_REDUCE_BLOCK) {
        int32_t len = e1 - b0 < GW_REDUCE_BLOCK ? e1 - b0 : GW_REDUCE_BLOCK;
        for (int32_t i = 0; i < len; i++)
            s[i] = nparts > 0 ? part[b0 + i] : 0;
        for (int32_t t = 1; t < nparts; t++) {
            const int64_t *p = part + t * pstride + b0;
            for (int32_t i = 0; i < len; i++)
                s[i] += p[i];
        }
        if (table) {
            int32_t k = b0 / cout, co = b0 - k * cout, ci = k % cin;
            for (int32_t i = 0; i < len; i++) {
                if (!table[(int64_t)ci * cout + co])
                    s[i] = 0;
                if (++co == cout) {
                    co = 0;
                    if (++ci == cin)
                        ci = 0;
                }
            }
        }
        sat += spl_requant_block_q63(s, dw + b0, len, rq, (uint32_t)b0);
    }
    return sat;
}

uint64_t spl_run_conv2d_grad_weight_reduce(const int64_t *part, int32_t nparts, int32_t k,
                                           int32_t cin, int32_t cout, const int16_t *table,
                                           int16_t *dw, const int32_t *tiles, int32_t ntiles,
                                           int32_t shift, int32_t mode, uint32_t seed,
                                           int32_t nthreads)
{
    uint64_t sat = 0;
    spl_requant_t rq = {shift, mode, seed};
    int64_t work = (int64_t)nparts * k * cout;
    int32_t ranges[2 * SPL_FLAT_MAX_RANGES];
    /* each weight a function of its own index: one range per thread */
    spl_flat_tiles(&tiles, &ntiles, nthreads, SPL_FLAT_ALIGN, ranges);
#pragma omp parallel for schedule(static) reduction(+ : sat) num_threads(nthreads) \
    if (work >= PAR_MIN_WORK)
    for (int32_t t = 0; t < ntiles; t++)
        sat += gw_reduce_range(part, nparts, (int64_t)k * cout, tiles[2 * t], tiles[2 * t + 1],
                               cin, cout, table, dw, &rq);
    return sat;
}
