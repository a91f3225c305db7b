/* Element-wise kernels: arithmetic, comparisons, where, clip and a fused axpby on q15.
 *
 * Operands may have different formats.  The coarser operand is shifted left to the finer
 * frac (exact: a q15 value shifted by at most 15 bits fits int32), the op is done exactly in
 * int32/int64, and the exact result is requantised ONCE to the output format with
 * spl_requant_q63 (rounding + counted saturation, stochastic bits seeded by the output
 * element's global flat index).  So every arithmetic result is the correctly rounded value of
 * the op on the quantised inputs: |error| <= 1/2 output LSB (nearest), < 1 LSB (stochastic).
 *
 * Broadcasting: the caller describes the output as a contiguous box of up to SPL_MAX_DIMS
 * dimensions and each operand by element strides over that box (0 where the operand is
 * broadcast).  arm_eltwise_q15 walks one tile (a flat range of the box) as runs along the
 * last dimension; arm_eltwise_run_q15 is the DTCM-level kernel of one run, where each operand
 * advances by 0 or 1 element (or any stride) per output.  On SpiNNaker a run is what one DMA
 * brings in; the host compiler vectorises the contiguous cases.
 *
 * Per run the work is done in blocks of SPL_EW_BLOCK outputs: gather (with the alignment
 * shift) into int32, compute into int64, then requantise.  The two first loops are simple
 * counted loops over contiguous arrays, which gcc -O3 vectorises on the host.
 *
 * Special cases, all documented in spinla/ops/elementwise.py:
 *  - divide: exact floor(a * 2^L / b) with a 64-bit numerator, L chosen by the caller so that
 *    16 extra quotient bits remain, then requant by 16.  For nearest, a nonzero remainder
 *    sets the quotient's lowest bit (a sticky bit): q | 1 lies on the same side of every
 *    rounding point as the true quotient z and is never exactly a half, so the half-to-even
 *    requant of q | 1 is exactly the half-to-even rounding of z (ties only when z is exact);
 *    stochastic rounding of floor(z) is biased by less than 2^-16 LSB.  Software division on the ARM968
 *    (libgcc's __aeabi_ldivmod): the slowest op here.  Division by zero gives the format's max
 *    for a > 0, its min for a < 0 and 0 for 0/0, and each one is COUNTED as a saturation.
 *  - comparisons give 0/1 (BOOL, no rounding); b may be a constant k0 (b == NULL) that the
 *    caller chose so that the integer comparison is exactly the real one.
 *  - clip: x < k0 -> v0, x > k1 -> v1 (the bounds already in output LSBs, passed through
 *    spl_requant_q63 with shift 0 so an out-of-range bound saturates, counted), else x
 *    requantised.
 *  - negative/abs of -32768 in the same format saturate to 32767 (counted).
 */
#include "spinla.h"

#define SPL_EW_BLOCK 64

/* Loads n operand values (stride s, 0 = broadcast) as int32 aligned by a left shift;
 * multiplying instead of shifting keeps negative values well defined in C99.  The contiguous
 * case shifts an unsigned copy instead (the same bits, defined in C99 too, and converted
 * back as GCC defines it): the ARM968's MUL takes two cycles, a shift one. */
static void gather(const q15_t *x, int32_t s, int32_t sh, int32_t *t, int32_t n)
{
    int32_t m = (int32_t)1 << sh;
    if (s == 1) {
        int32_t i = 0;
        for (; i + 2 <= n; i += 2) { /* two loads first: no halfword load-use interlock */
            int32_t v0 = x[i], v1 = x[i + 1];
            t[i] = (int32_t)((uint32_t)v0 << sh);
            t[i + 1] = (int32_t)((uint32_t)v1 << sh);
        }
        for (; i < n; i++)
            t[i] = (int32_t)x[i] * m;
    } else if (s == 0) {
        int32_t v = (int32_t)x[0] * m;
        for (int32_t i = 0; i < n; i++)
            t[i] = v;
    } else {
        for (int32_t i = 0; i < n; i++)
            t[i] = (int32_t)x[(int64_t)i * s] * m;
    }
}

static int64_t floor_div(int64_t num, int64_t den)
{
    int64_t q = num / den;
    if (num % den != 0 && ((num < 0) != (den < 0)))
        q -= 1;
    return q;
}

/* Block of n outputs from gathered operands: exact op into acc (or directly into y for the
 * comparisons, which do not round). */
static uint32_t block(const spl_eltwise_t *p, const int32_t *ta, const int32_t *tb,
                      const int32_t *tc, q15_t *y, int32_t n, uint32_t index0)
{
    q63_t acc[SPL_EW_BLOCK];
    uint32_t sat = 0;
    switch (p->op) {
    case SPL_EW_ADD:
        for (int32_t i = 0; i < n; i++) acc[i] = (q63_t)ta[i] + tb[i];
        break;
    case SPL_EW_SUB:
        for (int32_t i = 0; i < n; i++) acc[i] = (q63_t)ta[i] - tb[i];
        break;
    case SPL_EW_MUL:
        for (int32_t i = 0; i < n; i++) acc[i] = (q63_t)ta[i] * tb[i];
        break;
    case SPL_EW_MAX:
        for (int32_t i = 0; i < n; i++) acc[i] = ta[i] > tb[i] ? ta[i] : tb[i];
        break;
    case SPL_EW_MIN:
        for (int32_t i = 0; i < n; i++) acc[i] = ta[i] < tb[i] ? ta[i] : tb[i];
        break;
    case SPL_EW_LT:
        for (int32_t i = 0; i < n; i++) y[i] = (q15_t)(ta[i] < tb[i]);
        return 0;
    case SPL_EW_LE:
        for (int32_t i = 0; i < n; i++) y[i] = (q15_t)(ta[i] <= tb[i]);
        return 0;
    case SPL_EW_GT:
        for (int32_t i = 0; i < n; i++) y[i] = (q15_t)(ta[i] > tb[i]);
        return 0;
    case SPL_EW_GE:
        for (int32_t i = 0; i < n; i++) y[i] = (q15_t)(ta[i] >= tb[i]);
        return 0;
    case SPL_EW_EQ:
        for (int32_t i = 0; i < n; i++) y[i] = (q15_t)(ta[i] == tb[i]);
        return 0;
    case SPL_EW_NE:
        for (int32_t i = 0; i < n; i++) y[i] = (q15_t)(ta[i] != tb[i]);
        return 0;
    case SPL_EW_WHERE:
        for (int32_t i = 0; i < n; i++) acc[i] = ta[i] != 0 ? tb[i] : tc[i];
        break;
    case SPL_EW_NEG:
        for (int32_t i = 0; i < n; i++) acc[i] = -(q63_t)ta[i];
        break;
    case SPL_EW_ABS:
        for (int32_t i = 0; i < n; i++) acc[i] = ta[i] < 0 ? -(q63_t)ta[i] : ta[i];
        break;
    case SPL_EW_SQUARE:
        for (int32_t i = 0; i < n; i++) acc[i] = (q63_t)ta[i] * ta[i];
        break;
    case SPL_EW_AXPBY: {
        q63_t ma = (q63_t)1 << p->shift_a, mb = (q63_t)1 << p->shift_b;
        for (int32_t i = 0; i < n; i++)
            acc[i] = (q63_t)ta[i] * p->k0 * ma + (q63_t)tb[i] * p->k1 * mb;
        break;
    }
    case SPL_EW_CLIP: {
        spl_requant_t exact = {0, SPL_ROUND_NEAREST, 0};
        for (int32_t i = 0; i < n; i++) {
            if (ta[i] > p->k1)
                y[i] = spl_requant_q63(p->v1, &exact, 0, &sat);
            else if (ta[i] < p->k0)
                y[i] = spl_requant_q63(p->v0, &exact, 0, &sat);
            else
                y[i] = spl_requant_q63(ta[i], &p->rq, index0 + (uint32_t)i, &sat);
        }
        return sat;
    }
    case SPL_EW_DIV: {
        q63_t m = (q63_t)1 << p->shift_a;
        for (int32_t i = 0; i < n; i++) {
            if (tb[i] == 0) {
                y[i] = ta[i] > 0 ? SPL_Q15_MAX : ta[i] < 0 ? SPL_Q15_MIN : 0;
                sat++;
            } else {
                q63_t num = (q63_t)ta[i] * m, q = floor_div(num, tb[i]);
                if (p->rq.mode == SPL_ROUND_NEAREST && q * tb[i] != num)
                    q |= 1; /* sticky: inexact quotients are never taken for ties */
                y[i] = spl_requant_q63(q, &p->rq, index0 + (uint32_t)i, &sat);
            }
        }
        return sat;
    }
    default:
        return 0;
    }
    return spl_requant_block_q63(acc, y, n, &p->rq, index0);
}

uint32_t arm_eltwise_run_q15(const spl_eltwise_t *p, const q15_t *a, int32_t sa,
                             const q15_t *b, int32_t sb, const q15_t *c, int32_t sc, q15_t *y,
                             int32_t n, uint32_t index0)
{
    int32_t ta[SPL_EW_BLOCK], tb[SPL_EW_BLOCK], tc[SPL_EW_BLOCK];
    /* DIV and AXPBY apply their shifts after the multiply/divide, not at the gather. */
    int32_t late = p->op == SPL_EW_DIV || p->op == SPL_EW_AXPBY;
    int32_t sha = late ? 0 : p->shift_a, shb = late ? 0 : p->shift_b;
    uint32_t sat = 0;
    for (int32_t i0 = 0; i0 < n; i0 += SPL_EW_BLOCK) {
        int32_t len = n - i0 < SPL_EW_BLOCK ? n - i0 : SPL_EW_BLOCK;
        gather(a + (int64_t)i0 * sa, sa, sha, ta, len);
        if (b)
            gather(b + (int64_t)i0 * sb, sb, shb, tb, len);
        else
            for (int32_t i = 0; i < len; i++) tb[i] = p->k0;
        if (c)
            gather(c + (int64_t)i0 * sc, sc, p->shift_c, tc, len);
        sat += block(p, ta, tb, tc, y + i0, len, index0 + (uint32_t)i0);
    }
    return sat;
}

/* Short runs (e.g. a bias of C values broadcast over a (pixels, C) box): paying the per-run
 * overhead every C outputs would dominate, so blocks of SPL_EW_BLOCK outputs are gathered
 * across run boundaries instead, each operand walking its own offset through the box.  The
 * op and the requantisation are the same block() on the same flat indices, so the outputs are
 * those of the run-by-run path. */
typedef struct {
    const q15_t *x;
    const int32_t *s;
    int64_t off;
    int32_t contig; /* the operand is row-major contiguous over the whole box */
} walk_t;

static void walk_gather(walk_t *w, const int32_t *shape, int32_t ndim, const int32_t *idx0,
                        int32_t sh, int32_t *t, int32_t n)
{
    if (w->contig) {
        gather(w->x + w->off, 1, sh, t, n);
        w->off += n;
        return;
    }
    int32_t idx[SPL_MAX_DIMS], last = ndim - 1, m = (int32_t)1 << sh;
    for (int32_t d = 0; d < ndim; d++)
        idx[d] = idx0[d];
    int64_t off = w->off;
    int32_t sl = w->s[last];
    for (int32_t i = 0; i < n; i++) {
        t[i] = (int32_t)w->x[off] * m;
        off += sl;
        if (++idx[last] == shape[last]) {
            for (int32_t d = last; d > 0 && idx[d] == shape[d]; d--) {
                idx[d] = 0;
                off -= (int64_t)shape[d] * w->s[d];
                idx[d - 1]++;
                off += w->s[d - 1];
            }
        }
    }
    w->off = off;
}

static int32_t walk_contig(const int32_t *s, const int32_t *shape, int32_t ndim)
{
    int64_t want = 1;
    for (int32_t d = ndim - 1; d >= 0; d--) {
        if (shape[d] > 1 && s[d] != want)
            return 0;
        want *= shape[d];
    }
    return 1;
}

static uint32_t eltwise_short_runs(const spl_eltwise_t *p, const q15_t *a, const int32_t *sa,
                                   const q15_t *b, const int32_t *sb, const q15_t *c,
                                   const int32_t *sc, q15_t *y, const int32_t *shape,
                                   int32_t ndim, uint32_t e0, int32_t n, int32_t *idx,
                                   int64_t oa, int64_t ob, int64_t oc)
{
    int32_t ta[SPL_EW_BLOCK], tb[SPL_EW_BLOCK], tc[SPL_EW_BLOCK];
    int32_t late = p->op == SPL_EW_DIV || p->op == SPL_EW_AXPBY;
    int32_t sha = late ? 0 : p->shift_a, shb = late ? 0 : p->shift_b;
    walk_t wa = {a, sa, oa, walk_contig(sa, shape, ndim)};
    walk_t wb = {b, sb, ob, b ? walk_contig(sb, shape, ndim) : 0};
    walk_t wc = {c, sc, oc, c ? walk_contig(sc, shape, ndim) : 0};
    uint32_t sat = 0;
    int32_t last = ndim - 1;
    for (int32_t i0 = 0; i0 < n; i0 += SPL_EW_BLOCK) {
        int32_t len = n - i0 < SPL_EW_BLOCK ? n - i0 : SPL_EW_BLOCK;
        walk_gather(&wa, shape, ndim, idx, sha, ta, len);
        if (b)
            walk_gather(&wb, shape, ndim, idx, shb, tb, len);
        else
            for (int32_t i = 0; i < len; i++) tb[i] = p->k0;
        if (c)
            walk_gather(&wc, shape, ndim, idx, p->shift_c, tc, len);
        sat += block(p, ta, tb, tc, y + i0, len, e0 + (uint32_t)i0);
        /* advance the shared multi-index by len */
        idx[last] += len;
        for (int32_t d = last; d > 0 && idx[d] >= shape[d]; d--) {
            idx[d - 1] += idx[d] / shape[d];
            idx[d] %= shape[d];
        }
    }
    return sat;
}

/* One tile: outputs e0 .. e0+n-1 (flat, row-major) of the box `shape`; y points at output e0.
 * Operand pointers are the box origins; absent operands are NULL. */
uint32_t arm_eltwise_q15(const spl_eltwise_t *p, const q15_t *a, const int32_t *sa,
                         const q15_t *b, const int32_t *sb, const q15_t *c, const int32_t *sc,
                         q15_t *y, const int32_t *shape, int32_t ndim, uint32_t e0, int32_t n)
{
    int32_t idx[SPL_MAX_DIMS];
    int64_t oa = 0, ob = 0, oc = 0;
    uint32_t sat = 0, rest = e0;
    /* Multi-index of e0: a few divisions per tile, none per element. */
    for (int32_t d = ndim - 1; d >= 0; d--) {
        idx[d] = (int32_t)(rest % (uint32_t)shape[d]);
        rest /= (uint32_t)shape[d];
        oa += (int64_t)idx[d] * sa[d];
        if (b) ob += (int64_t)idx[d] * sb[d];
        if (c) oc += (int64_t)idx[d] * sc[d];
    }
    int32_t last = ndim - 1, done = 0;
    if (ndim > 1 && shape[last] < SPL_EW_BLOCK / 2 && n > shape[last])
        return eltwise_short_runs(p, a, sa, b, sb, c, sc, y, shape, ndim, e0, n, idx, oa, ob,
                                  oc);
    while (done < n) {
        int32_t len = shape[last] - idx[last];
        if (len > n - done) len = n - done;
        sat += arm_eltwise_run_q15(p, a + oa, sa[last], b ? b + ob : 0, b ? sb[last] : 0,
                                   c ? c + oc : 0, c ? sc[last] : 0, y + done, len,
                                   e0 + (uint32_t)done);
        done += len;
        /* Advance the odometer by len along the last dimension, carrying outwards. */
        idx[last] += len;
        oa += (int64_t)len * sa[last];
        if (b) ob += (int64_t)len * sb[last];
        if (c) oc += (int64_t)len * sc[last];
        for (int32_t d = last; d > 0 && idx[d] == shape[d]; d--) {
            idx[d] = 0;
            oa -= (int64_t)shape[d] * sa[d];
            if (b) ob -= (int64_t)shape[d] * sb[d];
            if (c) oc -= (int64_t)shape[d] * sc[d];
            idx[d - 1]++;
            oa += sa[d - 1];
            if (b) ob += sb[d - 1];
            if (c) oc += sc[d - 1];
        }
    }
    return sat;
}
