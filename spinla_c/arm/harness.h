/*
 * harness.h - the one definition of the request/response layout of the ARM968 test harness
 * (harness.c), read by the harness itself and parsed by spinla/armharness.py.  Nothing here is
 * retyped in Python: the kernel ids, each kernel's scalar and array arguments (names, order,
 * element types) and the wire constants are all taken from this file.
 *
 * Wire format, all little-endian, every field 4-byte aligned:
 *   request : u32 HX_MAGIC, u32 kernel id, u32 nscalars, u32 narrays, u32 total request
 *             bytes (this header included), u32 0; i64 scalars[nscalars];
 *             per array: u32 element size (bytes), u32 element count, the elements, zero-padded
 *             to a multiple of 8 bytes.  An array of count 0 is passed to the kernel as NULL.
 *   response: u32 HX_MAGIC, u32 status (HX_OK or an HX_ERR_*), u64 the kernel's return value
 *             (saturation count, or 0 for kernels that return nothing), u32 bytes that follow,
 *             u32 0; then (status HX_OK only) every array of the request again, in the same
 *             format, as the kernel left it.  The kernel works on the arrays in place in the
 *             request buffer (8-byte aligned), so host and ARM run the same parsing code.
 * The harness answers requests until its stdin ends, so one qemu process can serve a whole
 * test session.
 *
 * Per kernel: HX_<ID>_S(X) lists the scalar arguments, X(name); HX_<ID>_A(X) the arrays,
 * X(name, element type).  Struct arguments (spl_requant_t, spl_conv2d_t, ...) are passed as
 * their fields' scalars, in the struct's field order.  COPY's src_off/dst_off (elements) place
 * its pointers inside their arrays, which negative (flipping) strides need.
 */
#ifndef SPINLA_ARM_HARNESS_H
#define SPINLA_ARM_HARNESS_H

enum { HX_MAGIC = 0x58484c53 };  /* "SLHX" */
enum { HX_REQ_HEADER_BYTES = 24, HX_RESP_HEADER_BYTES = 24 };
enum { HX_OK = 0, HX_ERR_MAGIC = 1, HX_ERR_KERNEL = 2, HX_ERR_ARGS = 3, HX_ERR_TYPE = 4,
       HX_ERR_MEMORY = 5, HX_ERR_SHORT = 6 };
/* Largest request the ARM harness accepts (its static buffer). */
enum { HX_MAX_REQUEST_BYTES = 24 << 20 };

/* Kernel ids: the position in this list. */
#define HX_KERNELS(X) X(GEMM) X(SAFE_CHUNK) X(REQUANT) X(REQUANT_BLOCK) X(RAND) X(SEED_MIX) \
    X(COPY) X(FILL) X(GATHER) X(ELTWISE_RUN) X(ELTWISE) X(LUT) X(REDUCE) X(SOFTMAX) X(LOGSUMEXP) \
    X(CONV2D) X(CONV2D_PACK) X(CONV2D_GW) X(CONV2D_GW_REDUCE) X(AVG_POOL) X(MAX_POOL) \
    X(AVG_POOL_GRAD) X(MAX_POOL_GRAD) X(SGD) X(ADAM) X(SQRT_U62) X(RATIO_Q16) X(WARP) \
    X(REDUCE_PART)

/* spl_requant_t fields, shared by most kernels. */
#define HX_RQ(X) X(shift) X(mode) X(seed)
/* spl_conv2d_t and spl_pool2d_t fields. */
#define HX_CONV_G(X) X(g_n) X(g_h) X(g_w) X(g_cin) X(g_oh) X(g_ow) X(g_cout) X(g_kh) X(g_kw) \
    X(g_sy) X(g_sx) X(g_pt) X(g_pl)
#define HX_POOL_G(X) X(g_n) X(g_h) X(g_w) X(g_c) X(g_oh) X(g_ow) X(g_kh) X(g_kw) X(g_sy) X(g_sx)
/* spl_eltwise_t fields (its rq last, as in the struct). */
#define HX_EW_P(X) X(op) X(shift_a) X(shift_b) X(shift_c) X(k0) X(k1) X(v0) X(v1) HX_RQ(X)

#define HX_GEMM_S(X) X(lda) X(ldb) X(ldc) X(m) X(n) X(k) HX_RQ(X) X(row0) X(col0) X(ncols_total)
#define HX_GEMM_A(X) X(a, q15_t) X(bt, q15_t) X(c, q15_t)
#define HX_SAFE_CHUNK_S(X) X(lda) X(ldb) X(m) X(n) X(k)
#define HX_SAFE_CHUNK_A(X) X(a, q15_t) X(bt, q15_t)
#define HX_REQUANT_S(X) X(n) HX_RQ(X) X(index0)
#define HX_REQUANT_A(X) X(src, q15_t) X(dst, q15_t)
#define HX_REQUANT_BLOCK_S(X) X(n) HX_RQ(X) X(index0)
#define HX_REQUANT_BLOCK_A(X) X(acc, q63_t) X(y, q15_t)
#define HX_RAND_S(X) X(seed) X(n)
#define HX_RAND_A(X) X(index, uint32_t) X(out, uint32_t)
#define HX_SEED_MIX_S(X) X(n)
#define HX_SEED_MIX_A(X) X(a, uint32_t) X(b, uint32_t) X(out, uint32_t)
#define HX_COPY_S(X) X(ndim) X(src_off) X(dst_off)
#define HX_COPY_A(X) X(src, q15_t) X(src_strides, int32_t) X(dst, q15_t) X(dst_strides, int32_t) \
    X(shape, int32_t)
#define HX_FILL_S(X) X(n) X(value)
#define HX_FILL_A(X) X(dst, q15_t)
#define HX_GATHER_S(X) X(row_len) X(n)
#define HX_GATHER_A(X) X(src, q15_t) X(rows, int32_t) X(dst, q15_t)
#define HX_ELTWISE_RUN_S(X) HX_EW_P(X) X(sa) X(sb) X(sc) X(n) X(index0)
#define HX_ELTWISE_RUN_A(X) X(a, q15_t) X(b, q15_t) X(c, q15_t) X(y, q15_t)
#define HX_ELTWISE_S(X) HX_EW_P(X) X(ndim) X(e0) X(n)
#define HX_ELTWISE_A(X) X(a, q15_t) X(sa, int32_t) X(b, q15_t) X(sb, int32_t) X(c, q15_t) \
    X(sc, int32_t) X(y, q15_t) X(shape, int32_t)
#define HX_LUT_S(X) X(fn) X(n) X(frac_in) X(frac_out) X(mode) X(seed) X(index0)
#define HX_LUT_A(X) X(x, q15_t) X(y, q15_t)
#define HX_REDUCE_S(X) X(op) X(rows) X(ld_row) X(n) X(ld_n) X(m) X(ld_y) HX_RQ(X) X(index0)
#define HX_REDUCE_A(X) X(x, q15_t) X(y, q15_t)
/* arm_reduce_q15's partial pass of a split SUM (rq NULL): int64 sums into part. */
#define HX_REDUCE_PART_S(X) X(rows) X(ld_row) X(n) X(ld_n) X(m) X(ld_p)
#define HX_REDUCE_PART_A(X) X(x, q15_t) X(part, q63_t)
#define HX_SOFTMAX_S(X) X(rows) X(n) X(frac_in) X(frac_out) X(mode) X(seed) X(index0)
#define HX_SOFTMAX_A(X) X(x, q15_t) X(y, q15_t)
#define HX_LOGSUMEXP_S(X) X(rows) X(n) X(frac_in) X(frac_out) X(mode) X(seed) X(index0)
#define HX_LOGSUMEXP_A(X) X(x, q15_t) X(y, q15_t)
#define HX_CONV2D_S(X) X(xrow0) HX_CONV_G(X) X(ldw) X(ldy) X(p0) X(p1) X(c0) X(c1) \
    X(scratch_rows) HX_RQ(X)
#define HX_CONV2D_A(X) X(x, q15_t) X(wt, q15_t) X(y, q15_t) X(scratch, q15_t)
#define HX_CONV2D_PACK_S(X) X(kh) X(kw) X(cin) X(cout) X(flip) X(ldd) X(r0) X(r1)
#define HX_CONV2D_PACK_A(X) X(w, q15_t) X(table, q15_t) X(dst, q15_t)
#define HX_CONV2D_GW_S(X) X(xrow0) HX_CONV_G(X) X(ldd) X(p0) X(p1) X(c0) X(c1) X(ldacc) \
    X(scratch_cols)
#define HX_CONV2D_GW_A(X) X(x, q15_t) X(delta, q15_t) X(acc, q63_t) X(scratch, q15_t)
#define HX_CONV2D_GW_REDUCE_S(X) X(nparts) X(pstride) X(e0) X(e1) X(cin) X(cout) HX_RQ(X)
#define HX_CONV2D_GW_REDUCE_A(X) X(part, q63_t) X(table, q15_t) X(dw, q15_t)
#define HX_AVG_POOL_S(X) X(xrow0) HX_POOL_G(X) X(r0) X(r1) X(mult) HX_RQ(X)
#define HX_AVG_POOL_A(X) X(x, q15_t) X(y, q15_t) X(acc, q31_t)
#define HX_MAX_POOL_S(X) X(xrow0) HX_POOL_G(X) X(r0) X(r1)
#define HX_MAX_POOL_A(X) X(x, q15_t) X(y, q15_t) X(arg, q15_t)
#define HX_AVG_POOL_GRAD_S(X) X(drow0) HX_POOL_G(X) X(r0) X(r1) X(mult) HX_RQ(X)
#define HX_AVG_POOL_GRAD_A(X) X(d, q15_t) X(dx, q15_t) X(acc, q31_t)
#define HX_MAX_POOL_GRAD_S(X) X(drow0) HX_POOL_G(X) X(r0) X(r1)
#define HX_MAX_POOL_GRAD_A(X) X(d, q15_t) X(arg, q15_t) X(dx, q15_t) X(acc, q31_t)
#define HX_SGD_S(X) X(lr) X(n) X(mu) X(w_shift) X(p_shift) X(v_shift) X(v_round) X(mode) \
    X(seed_w) X(seed_v) X(index0)
#define HX_SGD_A(X) X(w, q15_t) X(g, q15_t) X(v, q15_t) X(w_out, q15_t) X(v_out, q15_t)
#define HX_ADAM_S(X) X(lr) X(n) X(beta1) X(beta2) X(eps) X(ratio_max) X(w_shift) X(g_shift) \
    X(mode) X(seed_w) X(seed_m) X(seed_r) X(index0)
#define HX_ADAM_A(X) X(w, q15_t) X(g, q15_t) X(m, q15_t) X(r, q15_t) X(w_out, q15_t) \
    X(m_out, q15_t) X(r_out, q15_t)
#define HX_SQRT_U62_S(X) X(n)
#define HX_SQRT_U62_A(X) X(v, uint64_t) X(out, uint64_t)
#define HX_RATIO_Q16_S(X) X(n)
#define HX_RATIO_Q16_A(X) X(num, uint64_t) X(den, uint64_t) X(out, uint64_t)
#define HX_WARP_S(X) X(n) X(h) X(w) X(c)
#define HX_WARP_A(X) X(x, q15_t) X(theta, q15_t) X(y, q15_t)

#endif
