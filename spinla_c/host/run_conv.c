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

static spl_conv2d_t geometry(const int32_t *v)
{
    spl_conv2d_t g = {v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11],
                      v[12]};
    return g;
}

uint64_t spl_run_conv2d(const int16_t *x, const int16_t *wt, int16_t *y, const int32_t *geom,
                        int32_t ldw, const int32_t *tiles, int32_t ntiles, int16_t *scratch,
                        int32_t scratch_rows, int32_t shift, int32_t mode, uint32_t seed,
                        int32_t nthreads)
{
    uint64_t sat = 0;
    spl_conv2d_t g = geometry(geom);
    spl_requant_t rq = {shift, mode, seed};
    int64_t wc = (int64_t)g.w * g.cin;
    int64_t work = (int64_t)g.n * g.oh * g.ow * g.cout * g.kh * g.kw * g.cin;
#pragma omp parallel for schedule(dynamic, 1) reduction(+ : sat) num_threads(nthreads) \
    if (work >= PAR_MIN_WORK)
    for (int32_t t = 0; t < ntiles; t++) {
        const int32_t *tl = tiles + 5 * t;
        int32_t p0 = tl[0], p1 = tl[1], c0 = tl[2], c1 = tl[3], xrow0 = tl[4];
        q15_t *s = scratch + (int64_t)THREAD_ID() * scratch_rows * ldw;
        sat += arm_conv2d_q15(x + xrow0 * wc, xrow0, &g, wt + (int64_t)c0 * ldw, ldw,
                              y + (int64_t)p0 * g.cout + c0, g.cout, p0, p1, c0, c1, s,
                              scratch_rows, &rq);
    }
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
#pragma omp parallel for schedule(dynamic, 1) num_threads(nthreads) if (work >= PAR_MIN_WORK)
    for (int32_t t = 0; t < ntiles; t++) {
        const int32_t *tl = tiles + 6 * t;
        int32_t slot = tl[0], p0 = tl[1], p1 = tl[2], c0 = tl[3], c1 = tl[4], xrow0 = tl[5];
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
    int32_t nr = spl_flat_ranges(tiles, ntiles, nthreads, SPL_FLAT_ALIGN, ranges);
    if (nr) { /* each weight a function of its own index: one range per thread */
        tiles = ranges;
        ntiles = nr;
    }
#pragma omp parallel for schedule(static) reduction(+ : sat) num_threads(nthreads) \
    if (work >= PAR_MIN_WORK)
    for (int32_t t = 0; t < ntiles; t++)
        sat += gw_reduce_range(part, nparts, (int64_t)k * cout, tiles[2 * t], tiles[2 * t + 1],
                               cin, cout, table, dw, &rq);
    return sat;
}
