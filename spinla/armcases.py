"""Valid harness requests (spinla_c/arm/harness.h) for every kernel family, built from a few
shape and data knobs: what tests/test_arm_qemu.py compares between the host and qemu, and what
bench/arm.py and tools/calibrate_cycles.py count cycles of.

Each builder returns (kernel, scalars, arrays).  `full` draws operands over the whole int16
range (with its extremes over-represented: they are where saturation and int32 overflow live),
otherwise small values; `mode` is SPL_ROUND_NEAREST (0) or SPL_ROUND_STOCHASTIC (1).  Output
arrays are pre-filled with noise, so a kernel that writes outside its tile, or forgets to
write inside it, differs between builds or from the reference.
"""
from __future__ import annotations

import numpy as np

from .kernels import eltwise as _eltwise
from .kernels import lut as _lut
from .kernels import reduce as _reduce

Q15_MIN, Q15_MAX = -32768, 32767


def data(rng, shape, full: bool, small: int = 64) -> np.ndarray:
    if not full:
        return rng.integers(-small, small + 1, shape).astype(np.int16)
    x = rng.integers(Q15_MIN, Q15_MAX + 1, shape)
    ext = rng.random(shape) < 0.1
    x[ext] = rng.choice([Q15_MIN, Q15_MAX, Q15_MIN + 1, -1, 0, 1], size=int(ext.sum()))
    return x.astype(np.int16)


def noise(rng, shape, dtype=np.int16) -> np.ndarray:
    info = np.iinfo(dtype)
    return rng.integers(max(info.min, -(1 << 40)), min(info.max, 1 << 40), shape,
                        dtype=np.int64).astype(dtype)


def _rq(rng, mode, lo, hi):
    return dict(shift=int(rng.integers(lo, hi + 1)), mode=mode, seed=int(rng.integers(0, 2**32)))


# --- gemm and requantisation -----------------------------------------------------------------

def gemm(rng, m, n, k, full, mode, pad=(0, 0, 0), shift=None, small=64):
    lda, ldb, ldc = k + pad[0], k + pad[1], n + pad[2]
    a, bt = data(rng, (m, lda), full, small), data(rng, (n, ldb), full, small)
    rq = _rq(rng, mode, 8, 34) if shift is None else dict(shift=shift, mode=mode, seed=7)
    sc = dict(lda=lda, ldb=ldb, ldc=ldc, m=m, n=n, k=k, row0=int(rng.integers(0, 1000)),
              col0=int(rng.integers(0, 1000)), ncols_total=n + int(rng.integers(0, 1000)), **rq)
    return "GEMM", sc, dict(a=a, bt=bt, c=noise(rng, (m, ldc)))


def safe_chunk(rng, m, n, k, full, mode):
    _, sc, arr = gemm(rng, m, n, k, full, mode)
    return "SAFE_CHUNK", {s: sc[s] for s in ("lda", "ldb", "m", "n", "k")}, dict(
        a=arr["a"], bt=arr["bt"])


def requant(rng, n, full, mode, shift=None):
    rq = _rq(rng, mode, -3, 20) if shift is None else dict(shift=shift, mode=mode, seed=9)
    return "REQUANT", dict(n=n, index0=int(rng.integers(0, 2**31)), **rq), dict(
        src=data(rng, n, full), dst=noise(rng, n))


def requant_block(rng, n, full, mode, shift=None):
    bits = 46 if full else 20
    acc = rng.integers(-(1 << bits), 1 << bits, n, dtype=np.int64)
    rq = _rq(rng, mode, -2, 40) if shift is None else dict(shift=shift, mode=mode, seed=9)
    return "REQUANT_BLOCK", dict(n=n, index0=int(rng.integers(0, 2**31)), **rq), dict(
        acc=acc, y=noise(rng, n))


def rand(rng, n, full, mode):
    return "RAND", dict(seed=int(rng.integers(0, 2**32)), n=n), dict(
        index=rng.integers(0, 2**32, n, dtype=np.uint64).astype(np.uint32),
        out=np.zeros(n, np.uint32))


def seed_mix(rng, n, full, mode):
    u = lambda: rng.integers(0, 2**32, n, dtype=np.uint64).astype(np.uint32)
    return "SEED_MIX", dict(n=n), dict(a=u(), b=u(), out=np.zeros(n, np.uint32))


# --- copies ----------------------------------------------------------------------------------

def copy(rng, shape, full, mode):
    """A box copy from a transposed and flipped view into a strided, padded destination."""
    shape = list(shape)
    nd = len(shape)
    perm = rng.permutation(nd)
    src_shape = [shape[p] for p in perm]
    src = data(rng, int(np.prod(src_shape)), full)
    cstr = np.cumprod([1] + src_shape[::-1])[:-1][::-1]          # C strides of src_shape
    sstr = np.empty(nd, np.int64)
    sstr[perm] = cstr
    flip = rng.random(nd) < 0.4
    off = int(sum((shape[d] - 1) * sstr[d] for d in range(nd) if flip[d]))
    sstr[flip] *= -1
    dshape = [s + int(rng.integers(0, 3)) for s in shape]
    dstr = np.cumprod([1] + dshape[::-1])[:-1][::-1]
    dst = noise(rng, int(np.prod(dshape)))
    return "COPY", dict(ndim=nd, src_off=off, dst_off=0), dict(
        src=src, src_strides=sstr.astype(np.int32), dst=dst,
        dst_strides=np.asarray(dstr, np.int32), shape=np.asarray(shape, np.int32))


def fill(rng, n, full, mode):
    return "FILL", dict(n=n, value=int(data(rng, 1, full)[0])), dict(dst=noise(rng, n + 3))


def gather(rng, n, full, mode, row_len=7, nsrc=11):
    return "GATHER", dict(row_len=row_len, n=n), dict(
        src=data(rng, nsrc * row_len, full), rows=rng.integers(0, nsrc, n).astype(np.int32),
        dst=noise(rng, n * row_len))


# --- element-wise, LUT, reductions, softmax ---------------------------------------------------

# Op, function and reduction codes: the kernels' own tables (checked against spinla.h's enums
# by tests/test_op_codes.py), not a copy.
EW_OPS = list(_eltwise.OPS)
EW_NIN = {"where": 3, "negative": 1, "abs": 1, "square": 1, "clip": 1}
_CMP = tuple(_eltwise.COMPARISONS)


def _ew_params(rng, op, full, mode):
    p = dict(op=_eltwise.OPS[op], shift_a=int(rng.integers(0, 8)), shift_b=int(rng.integers(0, 8)),
             shift_c=int(rng.integers(0, 8)), k0=0, k1=0, v0=0, v1=0)
    if op == "divide":
        p.update(shift_a=int(rng.integers(16, 32)), shift=16, mode=mode, seed=3)
        return p
    if op == "clip":
        lo, hi = sorted(int(v) for v in rng.integers(-40000, 40000, 2))
        p.update(k0=lo, k1=hi, v0=int(rng.integers(-70000, 70000)),
                 v1=int(rng.integers(-70000, 70000)))
    if op == "axpby":
        p.update(k0=int(rng.integers(-32768, 32768)), k1=int(rng.integers(-32768, 32768)))
    if op in _CMP and rng.random() < 0.3:
        p.update(k0=int(rng.integers(-40000, 40000)))
    hi = 22 if op in ("multiply", "square", "axpby") else 8
    p.update(_rq(rng, mode, -1, hi))
    return p


def eltwise_run(rng, op, n, full, mode, strides=(1, 1, 1)):
    p = _ew_params(rng, op, full, mode)
    nin = EW_NIN.get(op, 2)
    const_b = op in _CMP and p["k0"] != 0
    arrs, sc = {}, dict(p)
    for i, name in enumerate("abc"):
        s = strides[i]
        used = i < nin and not (name == "b" and const_b)
        arrs[name] = data(rng, max(1, (n - 1) * s + 1), full) if used else None
        sc["s" + name] = s if used else 0
    if op == "divide" and arrs["b"] is not None:
        arrs["b"][rng.random(arrs["b"].size) < 0.05] = 0
    arrs["y"] = noise(rng, n)
    sc.update(n=n, index0=int(rng.integers(0, 2**31)))
    return "ELTWISE_RUN", sc, arrs


def eltwise(rng, op, shape, full, mode, bcast=(False, False, False), shift=None):
    """arm_eltwise_q15 over a box, operands broadcast along chosen leading axes, one tile
    (e0, n) inside the box."""
    p = _ew_params(rng, op, full, mode)
    if shift is not None and op != "divide":
        p["shift"] = shift
    nin = EW_NIN.get(op, 2)
    shape = list(shape)
    total = int(np.prod(shape))
    cstr = np.cumprod([1] + shape[::-1])[:-1][::-1]
    arrs, sc = {}, dict(p)
    for i, name in enumerate("abc"):
        if i >= nin:
            arrs[name], arrs["s" + name] = None, None
            continue
        st = cstr.copy()
        if bcast[i]:
            st[0] = 0   # broadcast along the first axis
            size = int(np.prod(shape[1:])) if len(shape) > 1 else 1
        else:
            size = total
        arrs[name] = data(rng, size, full)
        arrs["s" + name] = np.asarray(st, np.int32)
    e0 = int(rng.integers(0, total))
    n = int(rng.integers(1, total - e0 + 1))
    arrs["y"] = noise(rng, n)
    arrs["shape"] = np.asarray(shape, np.int32)
    sc.update(ndim=len(shape), e0=e0, n=n)
    return "ELTWISE", sc, arrs


LUT_FNS = list(_lut.FUNCTIONS)


def lut(rng, fn, n, full, mode, frac_in=None, frac_out=None):
    fi = int(rng.integers(0, 16)) if frac_in is None else frac_in
    fo = int(rng.integers(0, 16)) if frac_out is None else frac_out
    return "LUT", dict(fn=_lut.FUNCTIONS[fn], n=n, frac_in=fi, frac_out=fo, mode=mode,
                       seed=int(rng.integers(0, 2**32)), index0=int(rng.integers(0, 2**31))), dict(
        x=data(rng, n, full, 4096), y=noise(rng, n))


RED_OPS = list(_reduce.OPS)


def reduce(rng, op, rows, n, m, full, mode, shift=None):
    ld_n, ld_row, ld_y = m, n * m, m + int(rng.integers(0, 2))
    rq = _rq(rng, mode, -1, 6) if shift is None else dict(shift=shift, mode=mode, seed=11)
    if op == "mean":
        rq["shift"] += _reduce.MEAN_SHIFT
    return "REDUCE", dict(op=_reduce.OPS[op], rows=rows, ld_row=ld_row, n=n, ld_n=ld_n, m=m,
                          ld_y=ld_y, index0=int(rng.integers(0, 2**31)), **rq), dict(
        x=data(rng, rows * n * m, full), y=noise(rng, rows * ld_y))


def reduce_part(rng, rows, n, m, full, inner=None):
    """The partial pass of a split sum (arm_reduce_q15 with rq NULL): int64 sums into part.
    inner: the row length of the (rows, n, inner) input whose first m columns the tile sums
    (default m)."""
    inner = m if inner is None else inner
    ld_n, ld_row, ld_p = inner, n * inner, m + int(rng.integers(0, 2))
    return "REDUCE_PART", dict(rows=rows, ld_row=ld_row, n=n, ld_n=ld_n, m=m, ld_p=ld_p), dict(
        x=data(rng, rows * n * inner, full), part=noise(rng, rows * ld_p, np.int64))


def softmax(rng, rows, n, full, mode, log=False, frac_in=None, frac_out=None):
    fi = int(rng.integers(0, 16)) if frac_in is None else frac_in
    fo = int(rng.integers(8, 16)) if frac_out is None else frac_out
    return ("LOGSUMEXP" if log else "SOFTMAX"), dict(
        rows=rows, n=n, frac_in=fi, frac_out=fo,
        mode=mode, seed=int(rng.integers(0, 2**32)), index0=int(rng.integers(0, 2**31))), dict(
        x=data(rng, rows * n, full, 4096), y=noise(rng, rows if log else rows * n))


# --- convolution ------------------------------------------------------------------------------

def conv_geometry(n, h, w, cin, cout, kh, kw, sy, sx, pt, pl, pb=0, pr=0):
    oh = (h + pt + pb - kh) // sy + 1
    ow = (w + pl + pr - kw) // sx + 1
    return dict(g_n=n, g_h=h, g_w=w, g_cin=cin, g_oh=oh, g_ow=ow, g_cout=cout, g_kh=kh, g_kw=kw,
                g_sy=sy, g_sx=sx, g_pt=pt, g_pl=pl)


def _xrow0(g, p0, p1):
    """The first global input row the pixels p0..p1 read (as the host runner's DMA would)."""
    rows = []
    for p in range(p0, p1):
        b, rem = divmod(p, g["g_oh"] * g["g_ow"])
        oy = rem // g["g_ow"]
        for ky in range(g["g_kh"]):
            iy = oy * g["g_sy"] - g["g_pt"] + ky
            if 0 <= iy < g["g_h"]:
                rows.append(b * g["g_h"] + iy)
    return min(rows) if rows else 0


def conv2d(rng, g, full, mode, p0=0, p1=None, c0=0, c1=None, ldw=None, scratch_rows=32,
           shift=None, small=64):
    """One conv2d tile: pixels p0..p1, channels c0..c1, packed weights with row stride ldw
    (zero beyond k, as arm_conv2d_pack_q15 leaves them)."""
    k = g["g_kh"] * g["g_kw"] * g["g_cin"]
    npix = g["g_n"] * g["g_oh"] * g["g_ow"]
    p1 = npix if p1 is None else p1
    c1 = g["g_cout"] if c1 is None else c1
    ldw = k if ldw is None else ldw
    x = data(rng, (g["g_n"] * g["g_h"], g["g_w"] * g["g_cin"]), full, small)
    wt = np.zeros((c1 - c0, ldw), np.int16)
    wt[:, :k] = data(rng, (c1 - c0, k), full, small)
    xrow0 = _xrow0(g, p0, p1)
    rq = _rq(rng, mode, 8, 30) if shift is None else dict(shift=shift, mode=mode, seed=5)
    ldy = c1 - c0 + int(rng.integers(0, 2))
    return "CONV2D", dict(xrow0=xrow0, ldw=ldw, ldy=ldy, p0=p0, p1=p1, c0=c0, c1=c1,
                          scratch_rows=scratch_rows, **g, **rq), dict(
        x=x[xrow0:].copy(), wt=wt, y=noise(rng, (p1 - p0, ldy)),
        scratch=noise(rng, scratch_rows * ldw))


def conv2d_pack(rng, kh, kw, cin, cout, full, mode, flip=0, table=True):
    rows = cout if not flip else cin
    k = kh * kw * (cout if flip else cin)
    ldd = k + int(rng.integers(0, 5))
    r0 = int(rng.integers(0, rows))
    r1 = int(rng.integers(r0, rows + 1))
    tab = (rng.random(cin * cout) < 0.6).astype(np.int16) if table else None
    return "CONV2D_PACK", dict(kh=kh, kw=kw, cin=cin, cout=cout, flip=flip, ldd=ldd, r0=r0,
                               r1=r1), dict(
        w=data(rng, kh * kw * cin * cout, full), table=tab, dst=noise(rng, rows * ldd))


def conv2d_gw(rng, g, full, mode, p0=0, p1=None, c0=0, c1=None, scratch_cols=64, small=64):
    k = g["g_kh"] * g["g_kw"] * g["g_cin"]
    npix = g["g_n"] * g["g_oh"] * g["g_ow"]
    p1 = npix if p1 is None else p1
    c1 = g["g_cout"] if c1 is None else c1
    nc = c1 - c0
    x = data(rng, (g["g_n"] * g["g_h"], g["g_w"] * g["g_cin"]), full, small)
    delta = data(rng, (p1 - p0, g["g_cout"]), full, small)
    xrow0 = _xrow0(g, p0, p1)
    ldacc = nc + int(rng.integers(0, 2))
    k4, n4 = (k + 3) & ~3, (nc + 3) & ~3
    return "CONV2D_GW", dict(xrow0=xrow0, ldd=g["g_cout"], p0=p0, p1=p1, c0=c0, c1=c1,
                             ldacc=ldacc, scratch_cols=scratch_cols, **g), dict(
        x=x[xrow0:].copy(), delta=delta.reshape(-1)[c0:(p1 - p0 - 1) * g["g_cout"] + c0 + nc],
        acc=noise(rng, (k, ldacc), np.int64),
        scratch=noise(rng, (2 * k4 + n4) * scratch_cols))


def conv2d_gw_reduce(rng, nparts, kh, kw, cin, cout, full, mode, table=True):
    size = kh * kw * cin * cout
    e0 = int(rng.integers(0, size))
    e1 = int(rng.integers(e0, size + 1))
    bits = 40 if full else 16
    part = rng.integers(-(1 << bits), 1 << bits, nparts * size, dtype=np.int64)
    tab = (rng.random(cin * cout) < 0.6).astype(np.int16) if table else None
    return "CONV2D_GW_REDUCE", dict(nparts=nparts, pstride=size, e0=e0, e1=e1, cin=cin,
                                    cout=cout, **_rq(rng, mode, 0, 30)), dict(
        part=part, table=tab, dw=noise(rng, size))


# --- pooling ----------------------------------------------------------------------------------

def pool_geometry(n, h, w, c, kh, kw, sy, sx):
    return dict(g_n=n, g_h=h, g_w=w, g_c=c, g_oh=(h - kh) // sy + 1, g_ow=(w - kw) // sx + 1,
                g_kh=kh, g_kw=kw, g_sy=sy, g_sx=sx)


def _reciprocal(window):
    from .kernels.pool import reciprocal
    return reciprocal(window)


def _out_rows_input(g, r0, r1):
    """(first input row, input rows) output rows r0..r1 read."""
    rows = [b * g["g_h"] + oy * g["g_sy"] + ky for r in range(r0, r1)
            for b, oy in [divmod(r, g["g_oh"])] for ky in range(g["g_kh"])]
    return min(rows), max(rows) + 1


def avg_pool(rng, g, full, mode):
    nout = g["g_n"] * g["g_oh"]
    r0 = int(rng.integers(0, nout))
    r1 = int(rng.integers(r0 + 1, nout + 1))
    lo, hi = _out_rows_input(g, r0, r1)
    wc = g["g_w"] * g["g_c"]
    mult, shift = _reciprocal(g["g_kh"] * g["g_kw"])
    x = data(rng, (g["g_n"] * g["g_h"], wc), full)
    return "AVG_POOL", dict(xrow0=lo, r0=r0, r1=r1, mult=mult, shift=shift, mode=mode,
                            seed=int(rng.integers(0, 2**32)), **g), dict(
        x=x[lo:hi].copy(), y=noise(rng, (r1 - r0) * g["g_ow"] * g["g_c"]),
        acc=noise(rng, g["g_ow"] * g["g_c"], np.int32))


def max_pool(rng, g, full, mode):
    kernel, sc, arr = avg_pool(rng, g, full, mode)
    for s in ("mult", "shift", "mode", "seed"):
        del sc[s]
    return "MAX_POOL", sc, dict(x=arr["x"], y=arr["y"], arg=noise(rng, arr["y"].size))


def _grad_rows(g, r0, r1):
    """Output rows whose windows touch input rows r0..r1 (global), as (first, end)."""
    outs = [b * g["g_oh"] + oy for b in range(g["g_n"]) for oy in range(g["g_oh"])
            if any(r0 <= b * g["g_h"] + oy * g["g_sy"] + ky < r1 for ky in range(g["g_kh"]))]
    return (min(outs), max(outs) + 1) if outs else (0, 0)


def avg_pool_grad(rng, g, full, mode, max_=False):
    nin = g["g_n"] * g["g_h"]
    r0 = int(rng.integers(0, nin))
    r1 = int(rng.integers(r0 + 1, nin + 1))
    d0, d1 = _grad_rows(g, r0, r1)
    owc = g["g_ow"] * g["g_c"]
    d = data(rng, (g["g_n"] * g["g_oh"], owc), full)
    acc = noise(rng, (r1 - r0) * g["g_w"] * g["g_c"], np.int32)
    dx = noise(rng, (r1 - r0) * g["g_w"] * g["g_c"])
    dd = d[d0:max(d1, d0 + 1)].copy()
    if max_:
        arg = rng.integers(0, g["g_kh"] * g["g_kw"], dd.shape).astype(np.int16)
        return "MAX_POOL_GRAD", dict(drow0=d0, r0=r0, r1=r1, **g), dict(d=dd, arg=arg, dx=dx,
                                                                          acc=acc)
    mult, shift = _reciprocal(g["g_kh"] * g["g_kw"])
    return "AVG_POOL_GRAD", dict(drow0=d0, r0=r0, r1=r1, mult=mult, shift=shift, mode=mode,
                                 seed=int(rng.integers(0, 2**32)), **g), dict(d=dd, dx=dx,
                                                                              acc=acc)


# --- optimisers, warp -------------------------------------------------------------------------

def sgd(rng, n, full, mode, momentum=True):
    mu = int(rng.integers(1, 32768)) if momentum else 0
    w_shift = int(rng.integers(15, 40))
    sc = dict(lr=int(rng.integers(1, 32768)), n=n, mu=mu, w_shift=w_shift,
              p_shift=int(rng.integers(0, w_shift - 14)), v_shift=int(rng.integers(0, 16)),
              v_round=int(rng.integers(0, 16)), mode=mode, seed_w=int(rng.integers(0, 2**32)),
              seed_v=int(rng.integers(0, 2**32)), index0=int(rng.integers(0, 2**31)))
    v = data(rng, n, full) if momentum else None
    return "SGD", sc, dict(w=data(rng, n, full), g=data(rng, n, full), v=v,
                           w_out=noise(rng, n), v_out=noise(rng, n) if momentum else None)


def adam(rng, n, full, mode):
    q30 = 1 << 30
    g = data(rng, n, full)
    r = np.abs(data(rng, n, full).astype(np.int32)).clip(0, 32767).astype(np.int16)
    sc = dict(lr=int(rng.integers(1, 32768)), n=n, beta1=int(0.9 * q30), beta2=int(0.999 * q30),
              eps=int(rng.integers(1, 1 << 20)), ratio_max=int(8.3 * 65536),
              w_shift=int(rng.integers(16, 45)), g_shift=int(rng.integers(0, 16)), mode=mode,
              seed_w=int(rng.integers(0, 2**32)), seed_m=int(rng.integers(0, 2**32)),
              seed_r=int(rng.integers(0, 2**32)), index0=int(rng.integers(0, 2**31)))
    return "ADAM", sc, dict(w=data(rng, n, full), g=g, m=data(rng, n, full), r=r,
                            w_out=noise(rng, n), m_out=noise(rng, n), r_out=noise(rng, n))


def sqrt_u62(rng, n, full, mode):
    bits = rng.integers(0, 62, n).astype(np.uint64)
    v = rng.integers(0, 1 << 62, n, dtype=np.int64).astype(np.uint64) >> bits
    return "SQRT_U62", dict(n=n), dict(v=v, out=np.zeros(n, np.uint64))


def ratio_q16(rng, n, full, mode):
    num = rng.integers(0, 1 << 30, n, dtype=np.int64).astype(np.uint64)
    den = rng.integers(1, 1 << 32, n, dtype=np.int64).astype(np.uint64) >> rng.integers(
        0, 31, n).astype(np.uint64)
    return "RATIO_Q16", dict(n=n), dict(num=num, den=np.maximum(den, 1),
                                        out=np.zeros(n, np.uint64))


def warp(rng, n, h, w, c, full, mode):
    theta = np.empty((n, 6), np.int16)
    theta[:, :4] = (np.array([4096, 0, 0, 4096]) + rng.integers(-1500, 1500, (n, 4)))
    theta[:, 4:] = rng.integers(-3 * 256, 3 * 256, (n, 2))
    if full:
        theta[:, :4] = rng.integers(-32768, 32768, (n, 4))
        theta[:, 4:] = rng.integers(-32768, 32768, (n, 2))
    return "WARP", dict(n=n, h=h, w=w, c=c), dict(x=data(rng, n * h * w * c, full), theta=theta,
                                                  y=noise(rng, n * h * w * c))
