/*
 * dispatch.c - decode one harness request (layout: harness.h) in place and call the kernel it
 * names through the public API of spinla_c/spinla.h.  Freestanding C99: the ARM harness
 * (start.c, under qemu-arm) and the host comparison build (spinla/armharness.py) compile this
 * same file, so the two sides differ only in the compiler and the kernels' build.
 */
#include "spinla.h"
#include "harness.h"

typedef uint64_t u64_t;

/* Element sizes by the type names harness.h uses. */
#define HX_SIZE_q15_t 2
#define HX_SIZE_q31_t 4
#define HX_SIZE_q63_t 8
#define HX_SIZE_int32_t 4
#define HX_SIZE_uint32_t 4
#define HX_SIZE_uint64_t 8

/* Binding a kernel's arguments: block-scoped enums give each name its position, then one local
 * per name.  The scalars arrive as int64; each call site narrows them to the parameter's
 * type, as the host runners in spinla_c/host/ do. */
#define HX_S_ENUM(name) SI_##name,
#define HX_S_LOCAL(name) const int64_t name = hx_sc[SI_##name]; (void)name;
#define HX_A_ENUM(name, type) AI_##name,
#define HX_A_LOCAL(name, type) type *name = (type *)hx_ptr[AI_##name]; (void)name; \
    if (hx_ptr[AI_##name] && hx_size[AI_##name] != HX_SIZE_##type) return HX_ERR_TYPE;
#define HX_BIND(K) \
    enum { HX_##K##_S(HX_S_ENUM) NS_ }; \
    enum { HX_##K##_A(HX_A_ENUM) NA_ }; \
    if (hx_nsc != NS_ || hx_narr != NA_) return HX_ERR_ARGS; \
    HX_##K##_S(HX_S_LOCAL) HX_##K##_A(HX_A_LOCAL)

#define HX_ID(name) HX_ID_##name,
enum { HX_KERNELS(HX_ID) HX_NKERNELS };

enum { HX_MAX_ARRAYS = 16 };

static uint32_t hx_rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

#define RQ(name) spl_requant_t name = {(int32_t)shift, (int32_t)mode, (uint32_t)seed}
#define CONV_G(name) spl_conv2d_t name = {(int32_t)g_n, (int32_t)g_h, (int32_t)g_w, \
    (int32_t)g_cin, (int32_t)g_oh, (int32_t)g_ow, (int32_t)g_cout, (int32_t)g_kh, \
    (int32_t)g_kw, (int32_t)g_sy, (int32_t)g_sx, (int32_t)g_pt, (int32_t)g_pl}
#define POOL_G(name) spl_pool2d_t name = {(int32_t)g_n, (int32_t)g_h, (int32_t)g_w, \
    (int32_t)g_c, (int32_t)g_oh, (int32_t)g_ow, (int32_t)g_kh, (int32_t)g_kw, (int32_t)g_sy, \
    (int32_t)g_sx}
#define EW_P(name) spl_eltwise_t name; name.op = (int32_t)op; name.shift_a = (int32_t)shift_a; \
    name.shift_b = (int32_t)shift_b; name.shift_c = (int32_t)shift_c; name.k0 = (int32_t)k0; \
    name.k1 = (int32_t)k1; name.v0 = v0; name.v1 = v1; name.rq.shift = (int32_t)shift; \
    name.rq.mode = (int32_t)mode; name.rq.seed = (uint32_t)seed

static int32_t hx_call(uint32_t kernel, uint32_t hx_nsc, const int64_t *hx_sc, uint32_t hx_narr,
                    uint8_t *const *hx_ptr, const uint32_t *hx_size, u64_t *ret)
{
    *ret = 0;
    switch (kernel) {
    case HX_ID_GEMM: {
        HX_BIND(GEMM);
        RQ(rq);
        *ret = arm_gemm_q15(a, (int32_t)lda, bt, (int32_t)ldb, c, (int32_t)ldc, (int32_t)m,
                            (int32_t)n, (int32_t)k, &rq, (uint32_t)row0, (uint32_t)col0,
                            (uint32_t)ncols_total);
        return HX_OK;
    }
    case HX_ID_SAFE_CHUNK: {
        HX_BIND(SAFE_CHUNK);
        *ret = (u64_t)(uint32_t)spl_safe_chunk(a, (int32_t)lda, bt, (int32_t)ldb, (int32_t)m,
                                               (int32_t)n, (int32_t)k);
        return HX_OK;
    }
    case HX_ID_REQUANT: {
        HX_BIND(REQUANT);
        RQ(rq);
        *ret = arm_requant_q15(src, dst, (int32_t)n, &rq, (uint32_t)index0);
        return HX_OK;
    }
    case HX_ID_REQUANT_BLOCK: {
        HX_BIND(REQUANT_BLOCK);
        RQ(rq);
        *ret = spl_requant_block_q63(acc, y, (int32_t)n, &rq, (uint32_t)index0);
        return HX_OK;
    }
    case HX_ID_RAND: {
        HX_BIND(RAND);
        for (int64_t i = 0; i < n; i++)
            out[i] = spl_rand_u32((uint32_t)seed, index[i]);
        return HX_OK;
    }
    case HX_ID_SEED_MIX: {
        HX_BIND(SEED_MIX);
        for (int64_t i = 0; i < n; i++)
            out[i] = spl_seed_mix(a[i], b[i]);
        return HX_OK;
    }
    case HX_ID_COPY: {
        HX_BIND(COPY);
        arm_copy_q15(src + src_off, src_strides, dst + dst_off, dst_strides, shape,
                     (int32_t)ndim);
        return HX_OK;
    }
    case HX_ID_FILL: {
        HX_BIND(FILL);
        arm_fill_q15(dst, (int32_t)n, (q15_t)value);
        return HX_OK;
    }
    case HX_ID_GATHER: {
        HX_BIND(GATHER);
        arm_gather_rows_q15(src, (int32_t)row_len, rows, (int32_t)n, dst);
        return HX_OK;
    }
    case HX_ID_ELTWISE_RUN: {
        HX_BIND(ELTWISE_RUN);
        EW_P(p);
        *ret = arm_eltwise_run_q15(&p, a, (int32_t)sa, b, (int32_t)sb, c, (int32_t)sc, y,
                                   (int32_t)n, (uint32_t)index0);
        return HX_OK;
    }
    case HX_ID_ELTWISE: {
        HX_BIND(ELTWISE);
        EW_P(p);
        *ret = arm_eltwise_q15(&p, a, sa, b, sb, c, sc, y, shape, (int32_t)ndim, (uint32_t)e0,
                               (int32_t)n);
        return HX_OK;
    }
    case HX_ID_LUT: {
        HX_BIND(LUT);
        *ret = arm_lut_q15((int32_t)fn, x, y, (int32_t)n, (int32_t)frac_in, (int32_t)frac_out,
                           (int32_t)mode, (uint32_t)seed, (uint32_t)index0);
        return HX_OK;
    }
    case HX_ID_REDUCE: {
        HX_BIND(REDUCE);
        RQ(rq);
        *ret = arm_reduce_q15((int32_t)op, x, (int32_t)rows, (int32_t)ld_row, (int32_t)n,
                              (int32_t)ld_n, (int32_t)m, y, (int32_t)ld_y, &rq,
                              (uint32_t)index0);
        return HX_OK;
    }
    case HX_ID_REDUCE_PART: {
        HX_BIND(REDUCE_PART);
        *ret = arm_reduce_q15(SPL_RED_SUM, x, (int32_t)rows, (int32_t)ld_row, (int32_t)n,
                              (int32_t)ld_n, (int32_t)m, (q15_t *)(void *)part, (int32_t)ld_p,
                              0, 0);
        return HX_OK;
    }
    case HX_ID_SOFTMAX: {
        HX_BIND(SOFTMAX);
        *ret = arm_softmax_q15(x, y, (int32_t)rows, (int32_t)n, (int32_t)frac_in,
                               (int32_t)frac_out, (int32_t)mode, (uint32_t)seed,
                               (uint32_t)index0);
        return HX_OK;
    }
    case HX_ID_LOGSUMEXP: {
        HX_BIND(LOGSUMEXP);
        *ret = arm_logsumexp_q15(x, y, (int32_t)rows, (int32_t)n, (int32_t)frac_in,
                                 (int32_t)frac_out, (int32_t)mode, (uint32_t)seed,
                                 (uint32_t)index0);
        return HX_OK;
    }
    case HX_ID_CONV2D: {
        HX_BIND(CONV2D);
        CONV_G(g);
        RQ(rq);
        *ret = arm_conv2d_q15(x, (int32_t)xrow0, &g, wt, (int32_t)ldw, y, (int32_t)ldy,
                              (int32_t)p0, (int32_t)p1, (int32_t)c0, (int32_t)c1, scratch,
                              (int32_t)scratch_rows, &rq);
        return HX_OK;
    }
    case HX_ID_CONV2D_PACK: {
        HX_BIND(CONV2D_PACK);
        arm_conv2d_pack_q15(w, (int32_t)kh, (int32_t)kw, (int32_t)cin, (int32_t)cout, table,
                            (int32_t)flip, dst, (int32_t)ldd, (int32_t)r0, (int32_t)r1);
        return HX_OK;
    }
    case HX_ID_CONV2D_GW: {
        HX_BIND(CONV2D_GW);
        CONV_G(g);
        arm_conv2d_grad_weight_q15(x, (int32_t)xrow0, &g, delta, (int32_t)ldd, (int32_t)p0,
                                   (int32_t)p1, (int32_t)c0, (int32_t)c1, acc, (int32_t)ldacc,
                                   scratch, (int32_t)scratch_cols);
        return HX_OK;
    }
    case HX_ID_CONV2D_GW_REDUCE: {
        HX_BIND(CONV2D_GW_REDUCE);
        RQ(rq);
        *ret = arm_conv2d_grad_weight_reduce_q15(part, (int32_t)nparts, pstride, (int32_t)e0,
                                                 (int32_t)e1, (int32_t)cin, (int32_t)cout,
                                                 table, dw, &rq);
        return HX_OK;
    }
    case HX_ID_AVG_POOL: {
        HX_BIND(AVG_POOL);
        POOL_G(g);
        RQ(rq);
        *ret = arm_avg_pool2d_q15(x, (int32_t)xrow0, &g, y, (int32_t)r0, (int32_t)r1,
                                  (int32_t)mult, &rq, acc);
        return HX_OK;
    }
    case HX_ID_MAX_POOL: {
        HX_BIND(MAX_POOL);
        POOL_G(g);
        arm_max_pool2d_q15(x, (int32_t)xrow0, &g, y, arg, (int32_t)r0, (int32_t)r1);
        return HX_OK;
    }
    case HX_ID_AVG_POOL_GRAD: {
        HX_BIND(AVG_POOL_GRAD);
        POOL_G(g);
        RQ(rq);
        *ret = arm_avg_pool2d_grad_q15(d, (int32_t)drow0, &g, dx, (int32_t)r0, (int32_t)r1,
                                       (int32_t)mult, &rq, acc);
        return HX_OK;
    }
    case HX_ID_MAX_POOL_GRAD: {
        HX_BIND(MAX_POOL_GRAD);
        POOL_G(g);
        *ret = arm_max_pool2d_grad_q15(d, arg, (int32_t)drow0, &g, dx, (int32_t)r0,
                                       (int32_t)r1, acc);
        return HX_OK;
    }
    case HX_ID_SGD: {
        HX_BIND(SGD);
        spl_sgd_t p = {(int32_t)mu, (int32_t)w_shift, (int32_t)p_shift, (int32_t)v_shift,
                       (int32_t)v_round, (int32_t)mode, (uint32_t)seed_w, (uint32_t)seed_v};
        *ret = arm_sgd_q15(w, g, v, (q15_t)lr, w_out, v_out, (int32_t)n, &p, (uint32_t)index0);
        return HX_OK;
    }
    case HX_ID_ADAM: {
        HX_BIND(ADAM);
        spl_adam_t p = {(int32_t)beta1, (int32_t)beta2, eps, (int32_t)ratio_max,
                        (int32_t)w_shift, (int32_t)g_shift, (int32_t)mode, (uint32_t)seed_w,
                        (uint32_t)seed_m, (uint32_t)seed_r};
        *ret = arm_adam_q15(w, g, m, r, (q15_t)lr, w_out, m_out, r_out, (int32_t)n, &p,
                            (uint32_t)index0);
        return HX_OK;
    }
    case HX_ID_SQRT_U62: {
        HX_BIND(SQRT_U62);
        for (int64_t i = 0; i < n; i++)
            out[i] = spl_sqrt_u62(v[i]);
        return HX_OK;
    }
    case HX_ID_RATIO_Q16: {
        HX_BIND(RATIO_Q16);
        for (int64_t i = 0; i < n; i++)
            out[i] = spl_ratio_q16(num[i], den[i]);
        return HX_OK;
    }
    case HX_ID_WARP: {
        HX_BIND(WARP);
        spl_warp_affine_q15(x, theta, y, (int32_t)n, (int32_t)h, (int32_t)w, (int32_t)c);
        return HX_OK;
    }
    default:
        return HX_ERR_KERNEL;
    }
}

/* Runs the request in buf (len bytes, 8-byte aligned) in place: afterwards the arrays region
 * (from *arrays_off, *arrays_len bytes) holds the arrays as the kernel left them.  Returns an
 * HX_* status; *ret the kernel's return value. */
int32_t hx_serve(uint8_t *buf, uint32_t len, u64_t *ret, uint32_t *arrays_off,
                 uint32_t *arrays_len)
{
    *ret = 0;
    *arrays_off = *arrays_len = 0;
    if (len < HX_REQ_HEADER_BYTES || hx_rd32(buf) != HX_MAGIC)
        return HX_ERR_MAGIC;
    uint32_t kernel = hx_rd32(buf + 4), nsc = hx_rd32(buf + 8), narr = hx_rd32(buf + 12);
    if (hx_rd32(buf + 16) != len || nsc > 64 || narr > HX_MAX_ARRAYS)
        return HX_ERR_SHORT;
    uint32_t off = HX_REQ_HEADER_BYTES + 8 * nsc;
    if (off > len)
        return HX_ERR_SHORT;
    const int64_t *sc = (const int64_t *)(buf + HX_REQ_HEADER_BYTES);
    uint8_t *ptr[HX_MAX_ARRAYS];
    uint32_t size[HX_MAX_ARRAYS];
    *arrays_off = off;
    for (uint32_t i = 0; i < narr; i++) {
        if (off + 8 > len)
            return HX_ERR_SHORT;
        uint32_t es = hx_rd32(buf + off), count = hx_rd32(buf + off + 4);
        uint64_t bytes = (uint64_t)es * count, padded = (bytes + 7) & ~(uint64_t)7;
        off += 8;
        if (off + padded > len)
            return HX_ERR_SHORT;
        ptr[i] = count ? buf + off : (uint8_t *)0;
        size[i] = es;
        off += (uint32_t)padded;
    }
    if (off != len)
        return HX_ERR_SHORT;
    *arrays_len = len - *arrays_off;
    return hx_call(kernel, nsc, sc, narr, ptr, size, ret);
}
