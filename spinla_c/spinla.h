/*
 * spinla.h - the one public header of the spinla kernels.
 *
 * Every function declared here is what one SpiNNaker core runs on one tile that sits in its
 * DTCM.  The sources are freestanding C99: no libc, no malloc, no float or double, so the same
 * files build for the host emulator (through cffi) and for the ARM968E-S
 * (arm-none-eabi-gcc -mcpu=arm968e-s -ffreestanding -nostdlib).
 *
 * Numbers are q15_t: 16-bit two's complement with a per-array count of fractional bits that
 * the caller (spinla/fixed.py) tracks; kernels only see the shifts that follow from those counts.
 * Arithmetic is exact in 32/64-bit integers until one final requantisation per output, whose
 * rounding (nearest or stochastic) and saturation are described by spl_requant_t.  Every kernel
 * that can saturate returns the number of saturated outputs so that nothing saturates silently.
 */
#ifndef SPINLA_H
#define SPINLA_H

#include <stdint.h>

typedef int16_t q15_t;
typedef int32_t q31_t;
typedef int64_t q63_t;

#define SPL_Q15_MIN (-32768)
#define SPL_Q15_MAX 32767

/* Rounding of the final right shift.  NEAREST rounds to nearest, exact halves to the even
 * neighbour (spl_round.h): error <= 2^-(f+1), and ties go up and down equally often, so sums
 * of rounded values carry no +1/2 LSB bias per tie.  STOCHASTIC adds a uniform random integer in [0, 2^shift) before the floor,
 * so it rounds up with probability equal to the discarded fraction: unbiased, error < 2^-f. */
enum { SPL_ROUND_NEAREST = 0, SPL_ROUND_STOCHASTIC = 1 };

/* How an exact accumulator becomes a q15 output: out = sat16(round(acc * 2^-shift)).
 * shift may be negative (a left shift, saturating).  The random bits of stochastic rounding are
 * a pure function of (seed, global flat index of the output element), so any tiling, any core
 * count, the host and the ARM all produce the same bits. */
typedef struct {
    int32_t shift;
    int32_t mode;
    uint32_t seed;
} spl_requant_t;

/* The host emulator's runners (spinla_c/host/) run a call with less work than this (MACs or
 * element visits) on one thread: waking a second costs more than it saves.  Python's
 * spinla.kernels.threads() follows the same threshold. */
#define SPL_HOST_PARALLEL_MIN_WORK (1 << 16)

/* --- random bits (rng_q15.c) ----------------------------------------------------------- */
uint32_t spl_rand_u32(uint32_t seed, uint32_t index);
uint32_t spl_seed_mix(uint32_t a, uint32_t b);

/* --- requantisation (requant_q15.c) ----------------------------------------------------- */
q15_t spl_requant_q63(q63_t acc, const spl_requant_t *rq, uint32_t index, uint32_t *sat);
uint32_t spl_requant_block_q63(const q63_t *acc, q15_t *y, int32_t n, const spl_requant_t *rq,
                               uint32_t index0);
uint32_t arm_requant_q15(const q15_t *src, q15_t *dst, int32_t n, const spl_requant_t *rq,
                         uint32_t index0);

/* --- matrix multiply (gemm_q15.c) -------------------------------------------------------- */
/* C[m x n] = requant(A[m x k] * Bt[n x k]^T): both operands k-contiguous, so each 32-bit load
 * fetches a pair of q15 values for the ARM968's single-cycle SMLAxy.  Exact: products are summed
 * in int32 over chunks short enough that no int32 overflow is possible (bounded from the tile's
 * own magnitudes, spl_safe_chunk) and the chunks in int64.  index0/ncols_total place the tile in the full output
 * for the stochastic-rounding bits.  Returns the count of saturated outputs. */
uint32_t arm_gemm_q15(const q15_t *a, int32_t lda, const q15_t *bt, int32_t ldb, q15_t *c,
                      int32_t ldc, int32_t m, int32_t n, int32_t k, const spl_requant_t *rq,
                      uint32_t row0, uint32_t col0, uint32_t ncols_total);
int32_t spl_max_abs_q15(const q15_t *x, int32_t rows, int32_t cols, int32_t ld);
int32_t spl_safe_chunk(const q15_t *a, int32_t lda, const q15_t *bt, int32_t ldb, int32_t m,
                       int32_t n, int32_t k);

/* --- strided copy: transpose, permute, flip, slice, pad, concatenate (copy_q15.c) -------- */
/* Copies a box of up to SPL_MAX_DIMS dimensions between two strided views (element strides,
 * negative ones flip).  On SpiNNaker this is DMA work; it never rounds or saturates. */
#define SPL_MAX_DIMS 6
void arm_copy_q15(const q15_t *src, const int32_t *src_strides, q15_t *dst,
                  const int32_t *dst_strides, const int32_t *shape, int32_t ndim);
void arm_fill_q15(q15_t *dst, int32_t n, q15_t value);
void arm_gather_rows_q15(const q15_t *src, int32_t row_len, const int32_t *rows, int32_t n,
                         q15_t *dst);

/* --- element-wise, unary functions, reductions, softmax ------------------------------------
 * (eltwise_q15.c, lut_q15.c, reduce_q15.c, softmax_q15.c) */
/* Element-wise (eltwise_q15.c).  The ops; spinla/kernels/eltwise.py reads their numbers from
 * here (spinla/abi.py).  Operands are aligned to a common frac by left shifts
 * (shift_a/b/c), combined exactly and requantised once by rq (see eltwise_q15.c for DIV, CLIP
 * and AXPBY, which use k0/k1/v0/v1). */
enum {
    SPL_EW_ADD = 0, SPL_EW_SUB, SPL_EW_MUL, SPL_EW_DIV, SPL_EW_MAX, SPL_EW_MIN,
    SPL_EW_LT, SPL_EW_LE, SPL_EW_GT, SPL_EW_GE, SPL_EW_EQ, SPL_EW_NE,
    SPL_EW_WHERE, SPL_EW_NEG, SPL_EW_ABS, SPL_EW_SQUARE, SPL_EW_CLIP, SPL_EW_AXPBY
};
typedef struct {
    int32_t op;
    int32_t shift_a, shift_b, shift_c;
    int32_t k0, k1;     /* comparison constant / clip thresholds / axpby alpha, beta */
    int64_t v0, v1;     /* clip results below k0 / above k1, in output LSBs */
    spl_requant_t rq;
} spl_eltwise_t;
uint32_t arm_eltwise_run_q15(const spl_eltwise_t *p, const q15_t *a, int32_t sa,
                             const q15_t *b, int32_t sb, const q15_t *c, int32_t sc, q15_t *y,
                             int32_t n, uint32_t index0);
uint32_t arm_eltwise_q15(const spl_eltwise_t *p, const q15_t *a, const int32_t *sa,
                         const q15_t *b, const int32_t *sb, const q15_t *c, const int32_t *sc,
                         q15_t *y, const int32_t *shape, int32_t ndim, uint32_t e0, int32_t n);

/* Unary functions by table + linear interpolation (lut_q15.c; tables in tables_q15.h).
 * y = f(x * 2^-frac_in) in frac_out, one rounding (mode, seed) at the end.  Error bounds are
 * in lut_q15.c.  log and sqrt of inputs outside their domain give -32768, counted. */
enum { SPL_FN_EXP = 0, SPL_FN_LOG, SPL_FN_TANH, SPL_FN_SIGMOID, SPL_FN_SQRT };
uint32_t arm_lut_q15(int32_t fn, const q15_t *x, q15_t *y, int32_t n, int32_t frac_in,
                     int32_t frac_out, int32_t mode, uint32_t seed, uint32_t index0);
uint32_t arm_exp_q15(const q15_t *x, q15_t *y, int32_t n, int32_t frac_in, int32_t frac_out,
                     int32_t mode, uint32_t seed, uint32_t index0);
uint32_t arm_log_q15(const q15_t *x, q15_t *y, int32_t n, int32_t frac_in, int32_t frac_out,
                     int32_t mode, uint32_t seed, uint32_t index0);
uint32_t arm_tanh_q15(const q15_t *x, q15_t *y, int32_t n, int32_t frac_in, int32_t frac_out,
                      int32_t mode, uint32_t seed, uint32_t index0);
uint32_t arm_sigmoid_q15(const q15_t *x, q15_t *y, int32_t n, int32_t frac_in,
                         int32_t frac_out, int32_t mode, uint32_t seed, uint32_t index0);
uint32_t arm_sqrt_q15(const q15_t *x, q15_t *y, int32_t n, int32_t frac_in, int32_t frac_out,
                      int32_t mode, uint32_t seed, uint32_t index0);
/* exp(d * 2^-frac) for d <= 0 as Q30 in [0, 2^30] (truncated), and ln(v * 2^-frac) for v > 0
 * as Q30: the building blocks softmax and logsumexp share with exp and log. */
uint32_t spl_exp_neg_q30(int32_t d, int32_t frac);
int64_t spl_ln_q30(uint64_t v, int32_t frac);

/* Reductions over the middle axis of a (rows, n, m) view (reduce_q15.c):
 * y[r*ld_y + j] = op_k x[r*ld_row + k*ld_n + j] for j < m, k < n.  The sum is exact (int64)
 * and rounded once by rq; MEAN multiplies the exact sum by round(2^SPL_MEAN_SHIFT / n)
 * (one division per call) and rounds once, so rq->shift must include SPL_MEAN_SHIFT.
 * ARGMAX/ARGMIN give the first index of the extreme value (INT16, saturating past 32767).
 * rq NULL (SUM only): the partial pass of a split sum; y then holds int64 (8-byte aligned,
 * ld_y in int64 units) and gets the exact sums, unrounded (see reduce_q15.c). */
#define SPL_MEAN_SHIFT 46
/* Output columns per block of arm_reduce_q15's column loop (reduce_q15.c; its accumulators
 * live on the stack, RED_COLS of them), which the reduce_part cycle formula counts. */
#define SPL_REDUCE_COLS 64
enum { SPL_RED_SUM = 0, SPL_RED_MEAN, SPL_RED_MAX, SPL_RED_MIN, SPL_RED_ARGMAX,
       SPL_RED_ARGMIN };
uint32_t arm_reduce_q15(int32_t op, const q15_t *x, int32_t rows, int32_t ld_row, int32_t n,
                        int32_t ld_n, int32_t m, q15_t *y, int32_t ld_y,
                        const spl_requant_t *rq, uint32_t index0);
/* Softmax and logsumexp along contiguous rows of length n (softmax_q15.c): per row the max,
 * exp(x - max) by the LUT in Q30, an exact int64 sum, one reciprocal (one division) per row.
 * SPL_SM_* select between them where one entry point serves both (the emulator's runner). */
enum { SPL_SM_SOFTMAX = 0, SPL_SM_LOGSUMEXP };
uint32_t arm_softmax_q15(const q15_t *x, q15_t *y, int32_t rows, int32_t n, int32_t frac_in,
                         int32_t frac_out, int32_t mode, uint32_t seed, uint32_t index0);
uint32_t arm_logsumexp_q15(const q15_t *x, q15_t *y, int32_t rows, int32_t n,
                           int32_t frac_in, int32_t frac_out, int32_t mode, uint32_t seed,
                           uint32_t index0);
/* @@eltwise@@ */

/* --- convolution and pooling (conv2d_q15.c, pool_q15.c) --------------------------------- */
/* Geometry of a 2-D convolution: NHWC input (n, h, w, cin), output (n, oh, ow, cout), kernel
 * kh x kw, strides (sy, sx), zero padding pt rows above and pl columns left (the bottom/right
 * padding follows from oh/ow; negative values crop). */
typedef struct {
    int32_t n, h, w, cin, oh, ow, cout, kh, kw, sy, sx, pt, pl;
} spl_conv2d_t;
/* One tile: output pixels p0..p1 (flattened (n, oy, ox)) x channels c0..c1.  x holds the input
 * from global row xrow0 = n * h + iy on (the rows the tile's DMA fetched); wt the packed weight
 * rows c0..c1 (k = kh * kw * cin contiguous, row stride ldw >= k); y the tile's output (row
 * stride ldy).  scratch: scratch_rows x ldw q15 of DTCM for im2col rows.  Exact like
 * arm_gemm_q15, which it calls; stochastic bits follow the flat index p * cout + c. */
uint32_t arm_conv2d_q15(const q15_t *x, int32_t xrow0, const spl_conv2d_t *g, const q15_t *wt,
                        int32_t ldw, q15_t *y, int32_t ldy, int32_t p0, int32_t p1, int32_t c0,
                        int32_t c1, q15_t *scratch, int32_t scratch_rows,
                        const spl_requant_t *rq);
/* On the ARM968 a tile of a single-channel input (cin = 1) with a kernel SPL_CONV2D_DIRECT_KW
 * wide and at most SPL_CONV2D_DIRECT_KH_MAX tall, stride 1, no padding, even w and ldw, whose
 * row parts all start even and are even and at least 4 long, rounded to nearest, is summed
 * straight from the input rows (conv2d_q15.c), its weights copied into the scratch, which must
 * then hold SPL_CONV2D_DIRECT_SCRATCH(nc) q15 values for nc channels; other tiles, and any such
 * tile whose int32 sums overflow or whose outputs saturate, take the im2col path. */
#define SPL_CONV2D_DIRECT_KW 5
#define SPL_CONV2D_DIRECT_KH_MAX 5
#define SPL_CONV2D_DIRECT_SCRATCH(nc) (32 * ((nc) + 1))
/* HWIO weights -> packed rows r0..r1 (row stride ldd, zero beyond k): forward (flip = 0) row co
 * = w[:, :, :, co]; flipped (flip = 1) row ci = w[::-1, ::-1, ci, :], the input gradient's
 * weights.  table (cin x cout, 0 = no connection, or NULL) zeroes left-out connections. */
void arm_conv2d_pack_q15(const q15_t *w, int32_t kh, int32_t kw, int32_t cin, int32_t cout,
                         const q15_t *table, int32_t flip, q15_t *dst, int32_t ldd, int32_t r0,
                         int32_t r1);
/* Exact partial weight gradient of pixels p0..p1, channels c0..c1 (delta: row p0 col c0, row
 * stride ldd): acc[k][c - c0] (row stride ldacc) = sum_p im2col(x)[p][k] * delta[p][c].
 * scratch: (2 * k4 + n4) x scratch_cols q15, k4 and n4 = k and c1 - c0 rounded up to multiples
 * of 4; scratch_cols <= 256 (what makes the byte-split int32 sums safe). */
void arm_conv2d_grad_weight_q15(const q15_t *x, int32_t xrow0, const spl_conv2d_t *g,
                                const q15_t *delta, int32_t ldd, int32_t p0, int32_t p1,
                                int32_t c0, int32_t c1, q63_t *acc, int32_t ldacc,
                                q15_t *scratch, int32_t scratch_cols);
/* q15 values of arm_conv2d_grad_weight_q15's scratch for k = kh * kw * cin, nc channels and
 * cols pixels per row: im2col and its high bytes (k4 rows each) and delta (n4 rows). */
#define SPL_CONV2D_GW_SCRATCH(k, nc, cols) \
    ((2 * (((k) + 3) & ~3) + (((nc) + 3) & ~3)) * (cols))
/* dw[e0..e1) of the flat (k x cout) = HWIO weight gradient = requant(sum of nparts partials,
 * pstride apart); the flat index e seeds stochastic rounding; table zeroes left-out
 * connections exactly. */
uint32_t arm_conv2d_grad_weight_reduce_q15(const q63_t *part, int32_t nparts, int64_t pstride,
                                           int32_t e0, int32_t e1, int32_t cin, int32_t cout,
                                           const q15_t *table, q15_t *dw,
                                           const spl_requant_t *rq);
/* Geometry of a 2-D pooling: NHWC input (n, h, w, c), output (n, oh, ow, c), window kh x kw,
 * strides (sy, sx), valid windows only. */
typedef struct {
    int32_t n, h, w, c, oh, ow, kh, kw, sy, sx;
} spl_pool2d_t;
/* Forward tiles: global output rows r0..r1 (r = n * oh + oy); x holds input from global row
 * xrow0 on; y (and arg) the tile's rows.  Average: out = requant(window sum * mult) with rq's
 * shift (mult = 1 and shift = log2(kh * kw) for power-of-two windows: exact); acc: ow * c int32
 * of scratch.  Max: values and window offsets ky * kw + kx of the first maximum. */
uint32_t arm_avg_pool2d_q15(const q15_t *x, int32_t xrow0, const spl_pool2d_t *g, q15_t *y,
                            int32_t r0, int32_t r1, int32_t mult, const spl_requant_t *rq,
                            q31_t *acc);
void arm_max_pool2d_q15(const q15_t *x, int32_t xrow0, const spl_pool2d_t *g, q15_t *y,
                        q15_t *arg, int32_t r0, int32_t r1);
/* Gradient tiles: global input rows r0..r1 (r = n * h + iy); d (and arg) hold output-gradient
 * rows from global row drow0 on; dx the tile's rows; acc: (r1 - r0) * w * c int32 of scratch.
 * Every window covering a row contributes exactly; one rounding (avg) or none (max). */
uint32_t arm_avg_pool2d_grad_q15(const q15_t *d, int32_t drow0, const spl_pool2d_t *g,
                                 q15_t *dx, int32_t r0, int32_t r1, int32_t mult,
                                 const spl_requant_t *rq, q31_t *acc);
uint32_t arm_max_pool2d_grad_q15(const q15_t *d, const q15_t *arg, int32_t drow0,
                                 const spl_pool2d_t *g, q15_t *dx, int32_t r0, int32_t r1,
                                 q31_t *acc);
/* @@conv@@ */

/* --- optimiser updates (optim_q15.c) ----------------------------------------------------- */
/* Element-wise optimiser steps over a weight tensor (one tile).  lr is the one-element q0.15
 * learning-rate input L; the step uses L * 2^-(15 + lr_exp).  Shifts are chosen by
 * spinla/kernels/optim.py so that every term sits at one common scale; all are in 0..47.
 * mode is SPL_ROUND_*; each stored output has its own seed.  Return saturated outputs. */
typedef struct {
    int32_t mu;          /* momentum, Q15 (0: plain SGD, v and v_out unused) */
    int32_t w_shift;     /* w << w_shift is at the accumulator scale; also the final shift */
    int32_t p_shift;     /* (L * g) << p_shift is at the accumulator scale */
    int32_t v_shift;     /* (mu * v) << v_shift is at the velocity accumulator scale */
    int32_t v_round;     /* velocity accumulator -> velocity format */
    int32_t mode;
    uint32_t seed_w, seed_v;
} spl_sgd_t;
uint32_t arm_sgd_q15(const q15_t *w, const q15_t *g, const q15_t *v, q15_t lr, q15_t *w_out,
                     q15_t *v_out, int32_t n, const spl_sgd_t *p, uint32_t index0);

/* Adam with m and r = sqrt(v) in one state format g_shift (0..15) bits finer than the
 * gradient's (g << g_shift is clipped to +-32767, counted); beta1/beta2 in Q30; eps in units
 * of 2^-(frac_state + 15); the update ratio m/(r + eps) is Q16, clamped to ratio_max;
 * w << w_shift is at the scale of L * ratio (2^-(15 + lr_exp + 16)).  Outputs must not
 * overlap inputs. */
typedef struct {
    int32_t beta1, beta2;
    int64_t eps;
    int32_t ratio_max;
    int32_t w_shift;
    int32_t g_shift;
    int32_t mode;
    uint32_t seed_w, seed_m, seed_r;
} spl_adam_t;
uint32_t arm_adam_q15(const q15_t *w, const q15_t *g, const q15_t *m, const q15_t *r, q15_t lr,
                      q15_t *w_out, q15_t *m_out, q15_t *r_out, int32_t n, const spl_adam_t *p,
                      uint32_t index0);
/* Table square root of v < 2^62 and num * 2^16 / den (num < 2^30, 0 < den < 2^32), both with
 * relative error below 2^-18; exposed for tests. */
uint64_t spl_sqrt_u62(uint64_t v);
uint64_t spl_ratio_q16(uint64_t num, uint64_t den);
/* @@optim@@ */

/* --- image warp (warp_q15.c) ------------------------------------------------------------- */
/* n samples of (h, w, c) images (channels innermost), each resampled through its own affine
 * map theta[6 * s ..] = a00, a01, a10, a11 (q3.12), tx, ty (pixels, q7.8) from output pixel
 * (r, col) to the source point a (col - cx, r - cy) + (cx, cy) + t about the centre
 * ((w - 1) / 2, (h - 1) / 2): bilinear, zero outside the image, y in x's format.  Integer
 * only, exactly rounded (|error| <= 1/2 LSB of the exact interpolation at the encoded point),
 * never saturates (see warp_q15.c).  Needs h, w <= SPL_WARP_MAX_SIDE. */
#define SPL_WARP_MAX_SIDE 16384
void spl_warp_affine_q15(const q15_t *x, const q15_t *theta, q15_t *y, int32_t n, int32_t h,
                         int32_t w, int32_t c);
/* @@warp@@ */

/* --- the board program: per-core streams (spinla/streams.py writes them) ------------------ */
/* A Program placed on a machine becomes one stream per used core: a header, then for each
 * phase (one tile of one Call; Calls are separated by barriers) a phase record followed by
 * the tile record (ntile_fields int32, the kernel family's fields, see spinla/kernels/), its
 * DMA descriptors and its multicast packet records.  Everything is little-endian and laid out
 * by these structs (spinla/abi.py reads them from here; tests/test_abi.py checks the layout
 * with the host and ARM compilers).  Buffers are named by their index in the Program's buffer
 * table (Program.buffers() order); their SDRAM homes are the placement's. */
#define SPL_STREAM_MAGIC 0x534C5053  /* "SPLS" read as little-endian bytes */
#define SPL_STREAM_VERSION 3
/* Kernel ids of a phase: one per kernel of spinla_c/ (spinla/kernels/ registers them by the
 * lower-case name after the prefix, e.g. SPL_KERNEL_GEMM_Q15 is "gemm_q15").  NONE: a phase
 * that runs no kernel and only sends or receives packets (a chip's monitor core serving its
 * SDRAM to other chips). */
enum {
    SPL_KERNEL_NONE = 0, SPL_KERNEL_GEMM_Q15, SPL_KERNEL_CONV2D_Q15, SPL_KERNEL_CONV2D_PACK_Q15,
    SPL_KERNEL_CONV2D_GW_Q15, SPL_KERNEL_CONV2D_GW_REDUCE_Q15, SPL_KERNEL_AVG_POOL2D_Q15,
    SPL_KERNEL_MAX_POOL2D_Q15, SPL_KERNEL_AVG_POOL2D_GRAD_Q15, SPL_KERNEL_MAX_POOL2D_GRAD_Q15,
    SPL_KERNEL_ELTWISE_Q15, SPL_KERNEL_LUT_Q15, SPL_KERNEL_REDUCE_Q15, SPL_KERNEL_SOFTMAX_Q15,
    SPL_KERNEL_REQUANT_Q15, SPL_KERNEL_COPY_Q15, SPL_KERNEL_GATHER_ROWS_Q15,
    SPL_KERNEL_SGD_Q15, SPL_KERNEL_ADAM_Q15, SPL_KERNEL_WARP_AFFINE_Q15, SPL_KERNEL_REDUCE_PART_Q15,
    SPL_KERNEL_GATHER_ROWS_INDEXED_Q15
};
typedef struct {
    uint32_t magic;          /* SPL_STREAM_MAGIC */
    uint32_t version;        /* SPL_STREAM_VERSION */
    uint32_t chip_x, chip_y; /* the chip of this core */
    uint32_t core;           /* physical core (1.., 0 is the monitor) */
    uint32_t nphases;
    uint32_t dtcm_bytes;     /* the machine's DTCM per core, which no phase may exceed */
    uint32_t nbuffers;       /* entries of the Program's buffer table */
} spl_stream_header_t;
typedef struct {
    uint32_t call;           /* index of the Call in the Program */
    uint32_t kernel;         /* SPL_KERNEL_* */
    uint32_t tile;           /* index of the tile in its Call */
    uint32_t ntile_fields;   /* int32 tile fields that follow */
    uint32_t ndma;           /* spl_dma_t that follow the tile record */
    uint32_t nsend, nrecv;   /* spl_packet_t that follow the DMA descriptors: sends first */
    uint32_t dtcm_bytes;     /* DTCM the phase needs: its DMA slots and the kernel's scratch */
    uint32_t barrier;        /* barrier to wait on when the phase is done (the Call's index) */
    uint32_t wait_arrivals;  /* before its DMA reads: wait until its chip's arrival counter is
                              * >= this (0: reads no packet-delivered bytes), see below */
} spl_phase_t;
enum { SPL_DMA_READ = 0, SPL_DMA_WRITE = 1, SPL_DMA_READ_INDEXED = 2 };
/* One DMA transfer of a tile: `rows` rows of row_bytes, stride bytes apart from byte `offset`
 * of buffer `buffer`, to (READ) or from (WRITE) DTCM at byte `slot` of the tile's area, rows
 * packed there dtcm_stride bytes apart (>= row_bytes; the gap is zero-filled, e.g. a
 * packed weight row's alignment padding).  READ_INDEXED: row r starts at byte
 * offset + stride * index[r] of the buffer, index[] being `rows` int32 row numbers that an
 * earlier READ of the same phase put in DTCM at byte index_slot (a gather whose rows are
 * known only at run time, e.g. a training batch drawn from a data set resident in SDRAM;
 * the kernel issues one transfer per row).  index_slot is 0 for the other directions. */
typedef struct {
    uint32_t buffer;
    uint32_t dir;            /* SPL_DMA_* */
    uint32_t offset;
    uint32_t rows;
    uint32_t row_bytes;
    int32_t stride;
    uint32_t slot;
    uint32_t dtcm_stride;
    uint32_t index_slot;     /* SPL_DMA_READ_INDEXED: DTCM byte of the int32 row numbers */
} spl_dma_t;
/* One packet transfer: `rows` rows of row_bytes, stride bytes apart from byte `offset` of
 * `buffer` (as spl_dma_t; a contiguous range is one row), sent by core src_core of chip
 * (src_x, src_y) to chip (dst_x, dst_y) as packets with keys key .. key + npackets - 1 that
 * carry the rows back to back (each the machine's packet payload, spinla/machine.py, the last
 * one fewer: npackets = ceil(rows * row_bytes / payload)).  A record is a descriptor: one per
 * strided range, however many packets.  A multicast is one send record with dst
 * SPL_PACKET_MULTICAST: the routers deliver its keys to every chip whose stream has a recv
 * record of that key range (each naming itself as dst).
 *
 * Arrivals: only a chip's monitor core (core 0) holds recv records.  It keeps the chip's
 * arrival counter, one uint32 in System RAM (shared by the chip's cores) that starts at 0 and
 * counts, over the whole Program, the recv records of its stream in stream order: it reaches
 * k once the packets of its first k recv records are all in SDRAM (records completing out of
 * order count when those before them are in).  In each monitor phase the recvs of bytes that
 * tiles of the same Call read come first, then those of tiles' writes.  An application core
 * whose phase has wait_arrivals = k spins (or sleeps on the counter's change) until the
 * counter is >= k before its first DMA read: k counts every recv whose bytes the tile reads,
 * so no core of the chip reads packet-delivered bytes before they are in.  The monitor never
 * waits on a tile before its writes' recvs, so this cannot deadlock; a Call's barrier is
 * reached once every recv record of its phases is complete. */
#define SPL_PACKET_MULTICAST 0xFFFF
typedef struct {
    uint32_t key;
    uint32_t npackets;
    uint32_t buffer;
    uint32_t offset;
    uint32_t rows;
    uint32_t row_bytes;
    int32_t stride;
    uint16_t src_x, src_y;
    uint16_t dst_x, dst_y;
    uint32_t src_core;
} spl_packet_t;

#endif
