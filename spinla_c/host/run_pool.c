/* Emulator runners for pooling.  Forward tiles (r0, r1, xrow0) over global output rows;
 * gradient tiles (r0, r1, drow0) over global input rows; xrow0/drow0 is the first global row of
 * the tile's input that its DMA fetched. */
#include "../spinla.h"
#include "spl_host.h"
#include "spl_threads.inc"
#if !defined(SPL_PORTABLE) /* the reference build runs the kernels themselves */
#include "pool_host.inc"
#endif

static spl_pool2d_t geometry(const int32_t *v)
{
    spl_pool2d_t g = {v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9]};
    return g;
}

static int64_t work(const spl_pool2d_t *g)
{
    return (int64_t)g->n * g->oh * g->ow * g->c * g->kh * g->kw;
}

/* Average pooling forward and backward share one tile loop: the same kernel signature, with
 * input and output row strides swapped (forward reads input rows, the gradient output rows). */
typedef uint32_t (*avg_kernel_t)(const q15_t *, int32_t, const spl_pool2d_t *, q15_t *,
                                 int32_t, int32_t, int32_t, const spl_requant_t *, q31_t *);

static uint64_t run_avg(avg_kernel_t kernel, const int16_t *in, int16_t *out,
                        const int32_t *geom, const int32_t *tiles, int32_t ntiles, int32_t mult,
                        int32_t shift, int32_t mode, uint32_t seed, int32_t *scratch,
                        int32_t per, int32_t nthreads, int grad)
{
    uint64_t sat = 0;
    spl_pool2d_t g = geometry(geom);
    spl_requant_t rq = {shift, mode, seed};
    int64_t wc = (int64_t)g.w * g.c, owc = (int64_t)g.ow * g.c;
    int64_t in_row = grad ? owc : wc, out_row = grad ? wc : owc;
#if !defined(SPL_PORTABLE)
    if (pool_host_fits(&g)) { /* host paths (pool_host.inc): one plan for all the tiles */
        pool_plan_t plan;
        pool_plan(&g, grad, &plan);
#pragma omp parallel for schedule(dynamic, 1) reduction(+ : sat) \
    num_threads(spl_team(nthreads, work(&g)))
        for (int32_t t = 0; t < ntiles; t++) {
            const int32_t *tl = tiles + 3 * t;
            const int16_t *i = in + tl[2] * in_row;
            int16_t *o = out + tl[0] * out_row;
            sat += grad ? avg_pool_grad_host(&plan, i, tl[2], &g, o, tl[0], tl[1], mult, &rq)
                        : avg_pool_host(&plan, i, tl[2], &g, o, tl[0], tl[1], mult, &rq);
        }
        return sat;
    }
#endif
#pragma omp parallel for schedule(dynamic, 1) reduction(+ : sat) \
    num_threads(spl_team(nthreads, work(&g)))
    for (int32_t t = 0; t < ntiles; t++) {
        const int32_t *tl = tiles + 3 * t;
        sat += kernel(in + tl[2] * in_row, tl[2], &g, out + tl[0] * out_row, tl[0], tl[1], mult,
                      &rq, scratch + (int64_t)THREAD_ID() * per);
    }
    return sat;
}

uint64_t spl_run_avg_pool2d(const int16_t *x, int16_t *y, const int32_t *geom,
                            const int32_t *tiles, int32_t ntiles, int32_t mult, int32_t shift,
                            int32_t mode, uint32_t seed, int32_t *scratch, int32_t per,
                            int32_t nthreads)
{
    return run_avg(arm_avg_pool2d_q15, x, y, geom, tiles, ntiles, mult, shift, mode, seed,
                   scratch, per, nthreads, 0);
}

void spl_run_max_pool2d(const int16_t *x, int16_t *y, int16_t *arg, const int32_t *geom,
                        const int32_t *tiles, int32_t ntiles, int32_t nthreads)
{
    spl_pool2d_t g = geometry(geom);
    int64_t wc = (int64_t)g.w * g.c, owc = (int64_t)g.ow * g.c;
#pragma omp parallel for schedule(dynamic, 1) num_threads(spl_team(nthreads, work(&g)))
    for (int32_t t = 0; t < ntiles; t++) {
        const int32_t *tl = tiles + 3 * t;
        arm_max_pool2d_q15(x + tl[2] * wc, tl[2], &g, y + tl[0] * owc, arg + tl[0] * owc,
                           tl[0], tl[1]);
    }
}

uint64_t spl_run_avg_pool2d_grad(const int16_t *d, int16_t *dx, const int32_t *geom,
                                 const int32_t *tiles, int32_t ntiles, int32_t mult,
                                 int32_t shift, int32_t mode, uint32_t seed, int32_t *scratch,
                                 int32_t per, int32_t nthreads)
{
    return run_avg(arm_avg_pool2d_grad_q15, d, dx, geom, tiles, ntiles, mult, shift, mode, seed,
                   scratch, per, nthreads, 1);
}

uint64_t spl_run_max_pool2d_grad(const int16_t *d, const int16_t *arg, int16_t *dx,
                                 const int32_t *geom, const int32_t *tiles, int32_t ntiles,
                                 int32_t *scratch, int32_t per, int32_t nthreads)
{
    uint64_t sat = 0;
    spl_pool2d_t g = geometry(geom);
    int64_t wc = (int64_t)g.w * g.c, owc = (int64_t)g.ow * g.c;
#pragma omp parallel for schedule(dynamic, 1) reduction(+ : sat) \
    num_threads(spl_team(nthreads, work(&g)))
    for (int32_t t = 0; t < ntiles; t++) {
        const int32_t *tl = tiles + 3 * t;
        sat += arm_max_pool2d_grad_q15(d + tl[2] * owc, arg + tl[2] * owc, tl[2], &g,
                                       dx + tl[0] * wc, tl[0], tl[1],
                                       scratch + (int64_t)THREAD_ID() * per);
    }
    return sat;
}
