/* Fixed-point matrix multiply on one DTCM tile.
 *
 * Both operands are k-contiguous (A is m x k, Bt is n x k), which is the layout where the
 * ARM968 fetches two q15 values per LDR and feeds SMLABB/SMLATT, and where the host compiler
 * turns the inner loop into a 16-bit dot-product instruction (pmaddwd / vpdpwssd).
 *
 * Exactness: every output equals the exact integer dot product, rounded once, for every input.
 * On the ARM968 the tile is summed in int32 with SMLAxy and no bound on the data; the sticky Q
 * flag that SMLAxy sets on overflow (spl_dsp.h) is checked afterwards, and a tile that
 * overflowed is redone on the exact path (SMLALxy into 64-bit accumulators, spl_block_2x2_exact).
 * Elsewhere the kernel bounds, from the tile's own data, how many products an int32 sum can
 * take without overflow (spl_safe_chunk), sums chunks of that length in int32 and adds the
 * chunk sums in int64.  Neither has an overflow check in the hot loop.
 *
 * The host emulator builds the same file with a host SIMD path (host/gemm_avx512.inc,
 * gemm_avx2.inc or gemm_neon.inc, as spl_simd.h selects; none under SPL_PORTABLE); each computes
 * the same exact sums, so every output and the saturation count are bit-identical to the
 * portable path. */
#include "spinla.h"
#include "spl_dsp.h"
#include "spl_round.h"
#include "spl_gemm.h"
#include "spl_simd.h"
#if defined(SPL_SIMD_AVX512)
#include "host/abs_stats_avx512.inc"
#endif

/* Bounds on the largest |x| and the largest row sum of |x| over a rows x cols block (upper
 * bounds: all the overflow proof below needs).  Pairs path (aligned rows): one LDR per two
 * values; each half's |x| is taken as its ones' complement x ^ (x >> 15) (|x| - 1 for x < 0,
 * fixed by adding one per value at the end) with the half kept in the top 16 bits, so the
 * junk the XOR leaves below it never reaches the sum (>> 16) and the maximum is bounded by
 * the OR of the halves (>= their maximum, < twice it): 8 ALU instructions and a load per pair
 * on the ARM968 against about 13 cycles per value for LDRSH, compare, negate and select. */
void spl_abs_stats(const q15_t *x, int32_t rows, int32_t cols, int32_t ld, uint32_t *max_abs,
                   uint64_t *max_row_sum)
{
#if defined(SPL_SIMD_AVX512)
    if (abs_stats_pairs_avx512(x, rows, cols, ld, max_abs, max_row_sum))
        return;
#endif
    uint32_t m = 0;
    uint64_t rs = 0;
    int pairs = ((uintptr_t)x & 3) == 0 && (ld & 1) == 0;
    for (int32_t i = 0; i < rows; i++) {
        const q15_t *r = x + (int64_t)i * ld;
        uint32_t s = 0, rm = 0; /* cols * 32768 < 2^32 for cols < 131072 */
        int32_t j = 0;
        if (pairs) {
            const spl_pair_t *p = (const spl_pair_t *)r, *e = p + (cols >> 1);
            uint32_t o = 0;
            while (p != e) { /* (not unrolled: on the ARM only the Q-flag fallback and the
                              * weight gradient scan, so ITCM first) */
                uint32_t w = *p++, lo = w << 16, hi = w;
                lo ^= (uint32_t)((int32_t)lo >> 31);
                hi ^= (uint32_t)((int32_t)hi >> 31);
                s += lo >> 16; s += hi >> 16; o |= lo; o |= hi;
            }
            j = cols & ~1;
            s += (uint32_t)j;               /* the ones' complement's missing 1 per value */
            rm = j ? (o >> 16) + 1u : 0u;   /* OR of the halves >= max; +1 as for the sum */
        }
        for (; j < cols; j++) {
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
    uint32_t m = 0; /* exact, unlike abs_stats' bound */
    for (int32_t i = 0; i < rows; i++)
        for (int32_t j = 0; j < cols; j++) {
            int32_t v = x[(int64_t)i * ld + j];
            uint32_t u = (uint32_t)(v < 0 ? -v : v);
            m = u > m ? u : m;
        }
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
    spl_abs_stats(a, m, k, lda, &ma, &sa);
    spl_abs_stats(bt, n, k, ldb, &mb, &sb);
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

/* --- the portable path: what the ARM968 runs ------------------------------------------------
 *
 * Two register blocks over k in pairs, both using the rows where they lie (no packing, no
 * scratch; the pair loads need 4-byte aligned rows: an aligned base, even lda and ldb).  The
 * 3 x 2 block below (gemm_pairs_int32) takes most rows; this 2 x 2 block the last rows of a
 * tile and, off the ARM, the int64 path.  Per pair of k: four 32-bit LDRs
 * (one q15 pair from each of two A rows and two Bt rows, post-incremented pointers) and eight
 * single-cycle SMLAxy (spl_dot2 = SMLABB + SMLATT): 12 instructions for 8 MACs, 1.5
 * cycles/MAC plus the loop's SUBS and taken branch (ARM9E-S timing,
 * ../shared/spinnaker-facts.md).  Live values: 4 accumulators, 4 pointers, the counter and 4
 * loaded words, 13 of the ARM's 14 free registers, so nothing spills; every loaded word is
 * first used two or more instructions after its LDR and no SMLAxy reads the result of the one
 * before it, so nothing interlocks.  On the ARM968 the loop is a few lines of inline asm
 * because GCC rotates the pointers through extra MOVs and ADDs (1.75 cycles/MAC from the same
 * C); everywhere else it is the C below, the same sums.  Unaligned tiles take the exact path
 * (spl_block_2x2_exact on the ARM, block_2x2_halves elsewhere). */
#define PAIR_STEP() { \
    uint32_t x0 = *a0++, x1 = *a1++, y0 = *b0++, y1 = *b1++; \
    s00 = spl_dot2(x0, y0, s00); s01 = spl_dot2(x0, y1, s01); \
    s10 = spl_dot2(x1, y0, s10); s11 = spl_dot2(x1, y1, s11); }

#if defined(__arm__) && !defined(__thumb__) && defined(__ARM_FEATURE_DSP) && \
    !defined(SPL_NO_ACLE)
#define PAIR_ASM \
    "ldr %[x0], [%[a0]], #4\n\t" "ldr %[x1], [%[a1]], #4\n\t" \
    "ldr %[y0], [%[b0]], #4\n\t" "ldr %[y1], [%[b1]], #4\n\t" \
    "smlabb %[s00], %[x0], %[y0], %[s00]\n\t" "smlabb %[s01], %[x0], %[y1], %[s01]\n\t" \
    "smlabb %[s10], %[x1], %[y0], %[s10]\n\t" "smlabb %[s11], %[x1], %[y1], %[s11]\n\t" \
    "smlatt %[s00], %[x0], %[y0], %[s00]\n\t" "smlatt %[s01], %[x0], %[y1], %[s01]\n\t" \
    "smlatt %[s10], %[x1], %[y0], %[s10]\n\t" "smlatt %[s11], %[x1], %[y1], %[s11]\n\t"
/* n4 >= 1 iterations of four k-pairs (four, not eight: the 2 x 2 block is not the main loop
 * any more, and ITCM is short). */
#define PAIRS4N(n4) { \
    uint32_t x0, x1, y0, y1; \
    int32_t cnt = (n4); \
    __asm__ volatile("1:\n\t" PAIR_ASM PAIR_ASM PAIR_ASM "subs %[n], %[n], #1\n\t" PAIR_ASM \
                     "bne 1b" \
                     : [a0] "+r"(a0), [a1] "+r"(a1), [b0] "+r"(b0), [b1] "+r"(b1), \
                       [n] "+r"(cnt), [s00] "+r"(s00), [s01] "+r"(s01), [s10] "+r"(s10), \
                       [s11] "+r"(s11), [x0] "=&r"(x0), [x1] "=&r"(x1), [y0] "=&r"(y0), \
                       [y1] "=&r"(y1) \
                     : : "cc", "memory"); }
#else
#define PAIRS4N(n4) \
    for (int32_t it = (n4); it > 0; it--) { \
        PAIR_STEP() PAIR_STEP() PAIR_STEP() PAIR_STEP() }
#endif

/* int32 sums s[r * 2 + c] += A row r . Bt row c over `len` k-pairs from a, bt (pointers
 * advanced); the caller guarantees the sums cannot overflow.  Used by the int64 path only
 * (large data, odd edges), out of line: the unrolled loop is 0.4-0.6 KB of ITCM a copy. */
__attribute__((noinline)) void spl_pairs_2x2(const spl_pair_t **pa0, const spl_pair_t **pa1,
                             const spl_pair_t **pb0, const spl_pair_t **pb1, int32_t len,
                             int32_t s[4])
{
    const spl_pair_t *a0 = *pa0, *a1 = *pa1, *b0 = *pb0, *b1 = *pb1;
    int32_t s00 = s[0], s01 = s[1], s10 = s[2], s11 = s[3];
    if (len >> 2)
        PAIRS4N(len >> 2)
    for (int32_t r = len & 3; r > 0; r--)
        PAIR_STEP()
    s[0] = s00; s[1] = s01; s[2] = s10; s[3] = s11;
    *pa0 = a0; *pa1 = a1; *pb0 = b0; *pb1 = b1;
}

#if defined(__arm__) && defined(__ARM_FEATURE_DSP)
/* The ARM968's exact path: SMLALBB adds one 16 x 16 product to a 64-bit accumulator (2
 * cycles; GCC emits it for this C), so the sums are exact for any data with no int32 chunks,
 * no chunk length and no operand scan: acc[r * 2 + s] = A row r . Bt row s over k, halfword
 * loads (any alignment).  Replaces block_2x2_pairs and block_2x2_halves on the ARM (the edge
 * blocks, unaligned tiles, and tiles whose int32 sums overflowed: full-range data). */
#define SPL_EXACT_SMLAL 1
/* s[0] += A row 0 . Bt row, s[1] += A row 1 . Bt row over np k-pairs (aligned pair loads):
 * per k-pair three LDRs and four SMLALxy, about 3.3 cycles/MAC unrolled by two. */
static __attribute__((noinline)) void pairs_2x1_exact(const spl_pair_t *a0, const spl_pair_t *a1,
                                                      const spl_pair_t *b, int32_t np,
                                                      q63_t s[2])
{
    q63_t s0 = s[0], s1 = s[1];
    uint32_t x0, x1, y;
#define EXACT_PAIR "ldr %[y], [%[b]], #4\n\t" "ldr %[x0], [%[a0]], #4\n\t" \
    "ldr %[x1], [%[a1]], #4\n\t" \
    "smlalbb %Q[s0], %R[s0], %[x0], %[y]\n\t" "smlalbb %Q[s1], %R[s1], %[x1], %[y]\n\t" \
    "smlaltt %Q[s0], %R[s0], %[x0], %[y]\n\t" "smlaltt %Q[s1], %R[s1], %[x1], %[y]\n\t"
    if (np & 1)
        __asm__ volatile(EXACT_PAIR
                         : [a0] "+r"(a0), [a1] "+r"(a1), [b] "+r"(b), [s0] "+r"(s0),
                           [s1] "+r"(s1), [x0] "=&r"(x0), [x1] "=&r"(x1), [y] "=&r"(y)
                         : : "memory");
    if (np >> 1) {
        int32_t n = np >> 1;
        __asm__ volatile("1:\n\t" EXACT_PAIR "subs %[n], %[n], #1\n\t" EXACT_PAIR "bne 1b"
                         : [a0] "+r"(a0), [a1] "+r"(a1), [b] "+r"(b), [s0] "+r"(s0),
                           [s1] "+r"(s1), [x0] "=&r"(x0), [x1] "=&r"(x1), [y] "=&r"(y),
                           [n] "+r"(n)
                         : : "cc", "memory");
    }
#undef EXACT_PAIR
    s[0] = s0;
    s[1] = s1;
}

__attribute__((noinline)) void spl_block_2x2_exact(const q15_t *a, int32_t lda,
                                                      const q15_t *bt, int32_t ldb, int32_t k,
                                                      q63_t acc[4])
{
    const q15_t *a1 = a + lda, *b1 = bt + ldb;
    int32_t p = 0;
    if ((((uintptr_t)a | (uintptr_t)a1 | (uintptr_t)bt | (uintptr_t)b1) & 3) == 0) {
        q63_t s[2];
        for (int32_t c = 0; c < 2; c++) {
            s[0] = s[1] = 0;
            pairs_2x1_exact((const spl_pair_t *)a, (const spl_pair_t *)a1,
                            (const spl_pair_t *)(c ? b1 : bt), k >> 1, s);
            acc[c] = s[0];
            acc[2 + c] = s[1];
        }
        p = k & ~1;
    } else {
        acc[0] = acc[1] = acc[2] = acc[3] = 0;
    }
    q63_t t00 = 0, t01 = 0, t10 = 0, t11 = 0; /* locals: acc could alias, so sums in it
                                                * would be loaded and stored every step */
    for (; p < k; p++) { /* halfwords: unaligned rows, an odd last k */
        int16_t x0 = a[p], x1 = a1[p], y0 = bt[p], y1 = b1[p];
        t00 += (int64_t)x0 * y0; t01 += (int64_t)x0 * y1;
        t10 += (int64_t)x1 * y0; t11 += (int64_t)x1 * y1;
    }
    acc[0] += t00; acc[1] += t01; acc[2] += t10; acc[3] += t11;
}
#else
/* Exact int64 sums acc[r * 2 + s] += A row r . Bt row s over k, pairs path: int32 over chunks
 * of `chunk` (even) products, int64 between chunks; an odd last k in int64. */
static void block_2x2_pairs(const q15_t *a, int32_t lda, const q15_t *bt, int32_t ldb,
                            int32_t k, int32_t chunk, q63_t acc[4])
{
    const spl_pair_t *a0 = (const spl_pair_t *)a, *a1 = (const spl_pair_t *)(a + lda);
    const spl_pair_t *b0 = (const spl_pair_t *)bt, *b1 = (const spl_pair_t *)(bt + ldb);
    int32_t np = k >> 1, cp = chunk >> 1;
    for (int32_t p0 = 0; p0 < np; p0 += cp) {
        int32_t s[4];
        s[0] = s[1] = s[2] = s[3] = 0;
        spl_pairs_2x2(&a0, &a1, &b0, &b1, np - p0 < cp ? np - p0 : cp, s);
        acc[0] += s[0]; acc[1] += s[1]; acc[2] += s[2]; acc[3] += s[3];
    }
    if (k & 1) {
        int32_t x0 = a[k - 1], x1 = a[lda + k - 1], y0 = bt[k - 1], y1 = bt[ldb + k - 1];
        acc[0] += x0 * y0; acc[1] += x0 * y1; acc[2] += x1 * y0; acc[3] += x1 * y1;
    }
}

/* The same sums one value at a time (any alignment, any chunk >= 1). */
static __attribute__((noinline)) void block_2x2_halves(const q15_t *a, int32_t lda,
                                                       const q15_t *bt, int32_t ldb, int32_t k,
                                                       int32_t chunk, q63_t acc[4])
{
    const q15_t *a0 = a, *a1 = a + lda, *b0 = bt, *b1 = bt + ldb;
    for (int32_t p0 = 0; p0 < k; p0 += chunk) {
        int32_t p1 = p0 + chunk < k ? p0 + chunk : k;
        int32_t s00 = 0, s01 = 0, s10 = 0, s11 = 0;
        for (int32_t p = p0; p < p1; p++) {
            int32_t x0 = a0[p], x1 = a1[p], y0 = b0[p], y1 = b1[p];
            s00 += x0 * y0; s01 += x0 * y1; s10 += x1 * y0; s11 += x1 * y1;
        }
        acc[0] += s00; acc[1] += s01; acc[2] += s10; acc[3] += s11;
    }
}
#endif

/* spl_rq32, one out-of-line copy (the rows the 3 x 2 blocks leave, stochastic rounding: the
 * call costs little beside the hash; ITCM). */
static __attribute__((noinline)) q15_t rq32_out(const spl_rq32_t *r32, int32_t acc,
                                                uint32_t index, uint32_t *sat)
{
    return spl_rq32(r32, acc, index, sat);
}

/* --- the 3 x 2 block: the int32 path's main loop -------------------------------------------
 *
 * Three A rows by two Bt columns, k in pairs: per k-pair five LDRs (rows i, i+1, i+2 of A and
 * columns j, j+1 of Bt, one pair each) and twelve SMLAxy, 17 single-cycle instructions for 12
 * MACs (1.42 cycles/MAC; the 2 x 2 block's 12 for 8 is 1.5).  Registers: 6 accumulators, 4
 * loaded words (two A words alternate, so each LDR is used three or more instructions later
 * and nothing interlocks) and 4 addresses: A's base with its row stride in bytes (rows i+1 and
 * i+2 are [pa, la] and [pa, la, lsl #1]; row i, loaded last, post-increments) and Bt's likewise,
 * all 14 of the ARM's free registers, so the loop count lives in memory and is decremented once
 * per eight k-pairs (ldr/subs/str in the spare slots of the last pair: 6 cycles a 96-MAC
 * iteration, about 1.48 cycles/MAC for the loop).  A k-pair count that is not a multiple of
 * eight enters the unrolled body part way (Duff's device: ADD pc with the byte offset of the
 * first pair to run), so every k takes this one loop.  Other targets run the same sums in C. */
#define P3_BYTES 68 /* one k-pair of the asm loop below: 17 instructions */
#if defined(__arm__) && !defined(__thumb__) && defined(__ARM_FEATURE_DSP) && \
    !defined(SPL_NO_ACLE)
#define P3_HEAD \
    "ldr %[xa], [%[pa], %[la]]\n\t" "ldr %[xb], [%[pa], %[la], lsl #1]\n\t" \
    "ldr %[y1], [%[pb], %[lb]]\n\t" "ldr %[y0], [%[pb]], #4\n\t" \
    "smlabb %[s11], %[xa], %[y1], %[s11]\n\t" "smlabb %[s10], %[xa], %[y0], %[s10]\n\t" \
    "smlatt %[s11], %[xa], %[y1], %[s11]\n\t" "smlatt %[s10], %[xa], %[y0], %[s10]\n\t" \
    "ldr %[xa], [%[pa]], #4\n\t" \
    "smlabb %[s21], %[xb], %[y1], %[s21]\n\t" "smlabb %[s20], %[xb], %[y0], %[s20]\n\t" \
    "smlatt %[s21], %[xb], %[y1], %[s21]\n\t" "smlatt %[s20], %[xb], %[y0], %[s20]\n\t"
#define P3_TAIL \
    "smlabb %[s01], %[xa], %[y1], %[s01]\n\t" "smlabb %[s00], %[xa], %[y0], %[s00]\n\t" \
    "smlatt %[s01], %[xa], %[y1], %[s01]\n\t" "smlatt %[s00], %[xa], %[y0], %[s00]\n\t"
#define P3 P3_HEAD P3_TAIL
/* Sums over all k-pairs: `iters` passes of the 8-pair body, the first entered at byte offset
 * `entry` (both from p3_plan). */
#define BLOCK_3X2(ar, lda, br, ldb, entry, iters) { \
    const q15_t *pa = (ar), *pb = (br); \
    uint32_t xa = (uint32_t)(entry), xb, y0, y1; \
    int32_t cnt = (iters); \
    __asm__ volatile("add pc, pc, %[xa]\n\t" "nop\n" \
                     "2:\n\t" P3 P3 P3 P3 P3 P3 P3 P3_HEAD "ldr %[xb], %[n]\n\t" P3_TAIL \
                     "subs %[xb], %[xb], #1\n\t" "str %[xb], %[n]\n\t" "bne 2b" \
                     : [pa] "+r"(pa), [pb] "+r"(pb), [xa] "+r"(xa), [xb] "=&r"(xb), \
                       [y0] "=&r"(y0), [y1] "=&r"(y1), [s00] "+r"(s00), [s01] "+r"(s01), \
                       [s10] "+r"(s10), [s11] "+r"(s11), [s20] "+r"(s20), [s21] "+r"(s21), \
                       [n] "+m"(cnt) \
                     : [la] "r"((lda) * 2), [lb] "r"((ldb) * 2) \
                     : "cc", "memory"); }
#else
#define BLOCK_3X2(ar, lda, br, ldb, entry, iters) { \
    const spl_pair_t *pa = (const spl_pair_t *)(ar), *pb = (const spl_pair_t *)(br); \
    (void)(entry); \
    for (int32_t r_ = 0, np_ = k >> 1; r_ < np_; r_++, pa++, pb++) { \
        uint32_t x0 = pa[0], x1 = pa[(lda) >> 1], x2 = pa[(lda)], y0 = pb[0], \
                 y1 = pb[(ldb) >> 1]; \
        s00 = spl_dot2(x0, y0, s00); s01 = spl_dot2(x0, y1, s01); \
        s10 = spl_dot2(x1, y0, s10); s11 = spl_dot2(x1, y1, s11); \
        s20 = spl_dot2(x2, y0, s20); s21 = spl_dot2(x2, y1, s21); } \
    (void)(iters); }
#endif

/* The even-column part of a tile whose sums fit int32 over all of k: rows in 3 x 2 blocks, the
 * last two or four rows (m mod 3 = 2 or 1; all rows for an odd k) in 2 x 2 blocks, straight
 * into c.  Round to nearest: the 32-bit half-to-even rounding inlined with its constants;
 * stochastic (index of output (i, j): ix0 + i * row_stride + j): one out-of-line spl_rq32 per
 * output (the hash costs more than the call).  *mdone gets the rows done (all of them unless
 * m = 1).  Returns the saturation count. */
static SPL_HOT uint32_t gemm_pairs_int32(const q15_t *a, int32_t lda, const q15_t *bt,
                                         int32_t ldb, q15_t *c, int32_t ldc, int32_t m,
                                         int32_t n2, int32_t k, const spl_rq32_t *r32,
                                         uint32_t ix0, uint32_t row_stride, int32_t *mdone)
{
    uint32_t sat = 0;
    int32_t np = k >> 1, iters = (np + 7) >> 3, entry = ((-np) & 7) * P3_BYTES;
    int32_t m3 = m % 3 == 1 ? (m >= 4 ? m - 4 : 0) : m - m % 3, i = 0;
    if (k & 1) /* an odd k (rare: conv pads k to even) all in 2 x 2 blocks, which have its tail */
        m3 = 0;
    for (; np > 0 && i < m3; i += 3) {
#ifdef SPL_HAVE_QFLAG
        if (spl_q_set()) /* an int32 sum overflowed: the caller redoes the tile, stop here */
            break;
#endif
        const q15_t *ar = a + (int64_t)i * lda;
        q15_t *c0 = c + (int64_t)i * ldc, *ce = c0 + n2;
        const q15_t *br = bt;
        /* one output pointer (GCC keeps three row pointers in memory around the asm) */
        for (q15_t *cj = c0; cj != ce; cj += 2, br += 2 * ldb) {
            int32_t s00 = 0, s01 = 0, s10 = 0, s11 = 0, s20 = 0, s21 = 0;
            BLOCK_3X2(ar, lda, br, ldb, entry, iters)
            if (r32->stoch) {
                uint32_t ix = ix0 + (uint32_t)i * row_stride + (uint32_t)(cj - c0);
                cj[0] = rq32_out(r32, s00, ix, &sat);
                cj[1] = rq32_out(r32, s01, ix + 1u, &sat);
                cj[ldc] = rq32_out(r32, s10, ix + row_stride, &sat);
                cj[ldc + 1] = rq32_out(r32, s11, ix + row_stride + 1u, &sat);
                cj[2 * ldc] = rq32_out(r32, s20, ix + 2u * row_stride, &sat);
                cj[2 * ldc + 1] = rq32_out(r32, s21, ix + 2u * row_stride + 1u, &sat);
                continue;
            }
            /* read after the asm (its memory clobber): held in registers for the six
             * outputs, not reloaded from the stack for each */
            const int32_t sh = r32->s;
            const uint32_t mask = r32->mask, hm1 = r32->hm1;
            spl_rq32_nearest(s00, sh, mask, hm1, cj, &sat);
            spl_rq32_nearest(s01, sh, mask, hm1, cj + 1, &sat);
            spl_rq32_nearest(s10, sh, mask, hm1, cj + ldc, &sat);
            spl_rq32_nearest(s11, sh, mask, hm1, cj + ldc + 1, &sat);
            spl_rq32_nearest(s20, sh, mask, hm1, cj + 2 * ldc, &sat);
            spl_rq32_nearest(s21, sh, mask, hm1, cj + 2 * ldc + 1, &sat);
        }
    }
    if (np == 0)
        i = 0;
    for (; i + 1 < m; i += 2) { /* the rest: 2 x 2 blocks (out-of-line sums, few rows) */
        const q15_t *ar = a + (int64_t)i * lda;
        q15_t *c0 = c + (int64_t)i * ldc, *c1 = c0 + ldc;
        for (int32_t j = 0; j < n2; j += 2) {
            const q15_t *br = bt + (int64_t)j * ldb;
            const spl_pair_t *a0 = (const spl_pair_t *)ar, *a1 = (const spl_pair_t *)(ar + lda);
            const spl_pair_t *b0 = (const spl_pair_t *)br, *b1 = (const spl_pair_t *)(br + ldb);
            int32_t s[4];
            s[0] = s[1] = s[2] = s[3] = 0;
            spl_pairs_2x2(&a0, &a1, &b0, &b1, np, s);
            if (k & 1) {
                int32_t x0 = ar[k - 1], x1 = ar[lda + k - 1], y0 = br[k - 1], y1 = br[ldb + k - 1];
                s[0] = spl_smlabb(x0, y0, s[0]); s[1] = spl_smlabb(x0, y1, s[1]);
                s[2] = spl_smlabb(x1, y0, s[2]); s[3] = spl_smlabb(x1, y1, s[3]);
            }
            for (int32_t o = 0; o < 4; o++)
                (o & 2 ? c1 : c0)[j + (o & 1)] = rq32_out(
                    r32, s[o], ix0 + (uint32_t)(i + (o >> 1)) * row_stride +
                                   (uint32_t)(j + (o & 1)), &sat);
        }
    }
    *mdone = i;
    return sat;
}

/* Host SIMD paths (spl_simd.h picks at most one; none on the ARM968): own files. */
#include "spl_simd.h"
#if defined(SPL_SIMD_AVX512)
#include "host/gemm_avx512.inc"
#elif defined(SPL_SIMD_AVX2)
#include "host/gemm_avx2.inc"
#elif defined(SPL_SIMD_NEON)
#include "host/gemm_neon.inc"
#endif

uint32_t arm_gemm_q15(const q15_t *a, int32_t lda, const q15_t *bt, int32_t ldb, q15_t *c,
                      int32_t ldc, int32_t m, int32_t n, int32_t k, const spl_requant_t *rq,
                      uint32_t row0, uint32_t col0, uint32_t ncols_total)
{
    return spl_gemm_q15_chunk(a, lda, bt, ldb, c, ldc, m, n, k, rq, row0, col0, ncols_total, 0);
}

uint32_t spl_gemm_q15_chunk(const q15_t *a, int32_t lda, const q15_t *bt, int32_t ldb, q15_t *c,
                            int32_t ldc, int32_t m, int32_t n, int32_t k,
                            const spl_requant_t *rq, uint32_t row0, uint32_t col0,
                            uint32_t ncols_total, int32_t chunk)
{
    uint32_t sat = 0;
#if defined(SPL_SIMD_AVX512)
    if (gemm_simd(a, lda, bt, ldb, c, ldc, m, n, k, rq, row0, col0, ncols_total, NULL, NULL,
                  &sat))
        return sat;
#endif
#if defined(SPL_SIMD_AVX2)
    if (gemm_avx2(a, lda, bt, ldb, c, ldc, m, n, k, rq, row0, col0, ncols_total, chunk, NULL,
                  NULL, &sat))
        return sat;
#elif defined(SPL_SIMD_NEON)
    if (gemm_neon(a, lda, bt, ldb, c, ldc, m, n, k, rq, row0, col0, ncols_total, &sat))
        return sat;
#endif
    int aligned = ((uintptr_t)a & 3) == 0 && ((uintptr_t)bt & 3) == 0 && (lda & 1) == 0 &&
                  (ldb & 1) == 0;
    int qmode = 0;
#ifdef SPL_HAVE_QFLAG
    /* No proof given: sum all of k in int32 and let the Q flag say whether any partial sum
     * overflowed (spl_dsp.h); if one did, the whole tile again on the proven path below (every
     * output is rewritten, its saturation recounted). */
    if (chunk <= 0 && aligned && k >= 2) {
        spl_q_clear();
        chunk = k;
        qmode = 1;
    }
#endif
#ifdef SPL_HAVE_QFLAG
again: /* (only the Q-flag redo below jumps here) */
#endif
#ifdef SPL_EXACT_SMLAL
    if (chunk <= 0) /* (after an overflow, or unaligned) every block on the exact path */
        chunk = 1;
#else
    if (chunk <= 0)
        chunk = spl_safe_chunk(a, lda, bt, ldb, m, n, k);
#endif
    int pairs = chunk >= 2 && aligned;
    spl_rq32_t r32; /* no initialiser: GCC -Os makes it a memset call; read only once set */
    r32.stoch = 0;
    int32_t m2 = 0, n2 = 0;
    if (pairs && chunk >= k && spl_rq32_init(&r32, rq)) {
        /* The common case: aligned pairs, all of k in int32, a 32-bit rounding; the even
         * columns of (nearly) every row here, a last odd row or column below. */
        n2 = n & ~1;
        sat += gemm_pairs_int32(a, lda, bt, ldb, c, ldc, m, n2, k, &r32,
                                row0 * ncols_total + col0, ncols_total, &m2);
#ifdef SPL_HAVE_QFLAG
        if (qmode && spl_q_set()) /* overflowed: the rest would be redone anyway */
            goto redo;
#endif
    }
    /* Everything else: rows from m2 on (all columns), columns from n2 on (rows below m2), in
     * the same 2 x 2 blocks with int64 chunk sums and spl_requant_q63; a block past an odd m
     * or n repeats its last row or column (computed, not stored). */
    for (int32_t i = n2 >= n ? m2 & ~1 : 0; i < m; i += 2) { /* (rows with nothing left skipped) */
        int32_t mr = m - i < 2 ? 1 : 2;
        const q15_t *ar = a + (int64_t)i * lda;
        int32_t dla = mr == 2 ? lda : 0;
        for (int32_t j = i < m2 ? n2 : 0; j < n; j += 2) {
            int32_t nr = n - j < 2 ? 1 : 2;
            const q15_t *br = bt + (int64_t)j * ldb;
            int32_t dlb = nr == 2 ? ldb : 0;
            uint32_t ix = (row0 + i) * ncols_total + col0 + j;
            q15_t *cr = c + (int64_t)i * ldc + j;
            q63_t acc[4];
            acc[0] = acc[1] = acc[2] = acc[3] = 0; /* not an initialiser: GCC calls memset */
#ifdef SPL_EXACT_SMLAL
            spl_block_2x2_exact(ar, dla, br, dlb, k, acc);
#else
            if (pairs)
                block_2x2_pairs(ar, dla, br, dlb, k, chunk, acc);
            else
                block_2x2_halves(ar, dla, br, dlb, k, chunk, acc);
#endif
            for (int32_t r = 0; r < mr; r++)
                for (int32_t s2 = 0; s2 < nr; s2++)
                    cr[(int64_t)r * ldc + s2] = spl_requant_q63(
                        acc[2 * r + s2], rq, ix + (uint32_t)r * ncols_total + (uint32_t)s2, &sat);
        }
    }
#ifdef SPL_HAVE_QFLAG
redo:
    if (qmode && spl_q_set()) {
        qmode = 0;
        chunk = 0;
        sat = 0;
        goto again;
    }
#endif
    (void)qmode;
    return sat;
}
