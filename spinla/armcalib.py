"""Fit the kernels' cycle formulas (spinla/kernels/cycle_table.py) to the instruction-level
model (spinla/armcycles.py) and write the fitted table.

For each family: a grid of tiles (FIT) and a disjoint set of held-out tiles (HELDOUT), each a
harness request from spinla/armcases.py; the features of a request come from its own scalars
(`dims`), through the family's formula in cycle_table.FEATURES.  The fit minimises the
relative error (rows weighted by 1 / counted cycles); held-out errors are reported next to
each value and checked by tests/test_cycle_table.py.

Run by `python tools/calibrate_cycles.py`.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from . import armcases as cases
from . import armcycles
from .kernels import cycle_table as ct

COMMAND = "python tools/calibrate_cycles.py"
CALIBRATION_DATA = ("operands uniform in [-4096, 4096] (13 of 16 bits used: ASSUMPTION for "
                    "activations, weights and gradients in dynamic fixed point with 3 bits of "
                    "headroom); GEMM and convolution cost depends on magnitudes through the "
                    "int32 chunk bound (bench/arm.py reports small and full-range data)")
TYPICAL = 4096


@dataclass
class Point:
    """One tile: how to build its request, and the formula's dimensions from the request."""
    family: str
    build: Callable
    dims: Callable  # (scalars, arrays) -> dict of the family's feature arguments


def _rng(i):
    return np.random.default_rng(1000 + i)


# --- families: (fit points, held-out points) ---------------------------------------------------

def _gemm_dims(sc, a):
    return dict(m=sc["m"], n=sc["n"], k=sc["k"], stochastic=sc["mode"])


def _gemm(shapes, mode=0):
    return [Point("gemm", lambda i, s=s: cases.gemm(_rng(i), *s, False, mode, shift=14,
                                                     small=TYPICAL), _gemm_dims) for s in shapes]


def _conv_dims(sc, a):
    from .kernels import conv
    k = sc["g_kh"] * sc["g_kw"] * sc["g_cin"]
    g = {n: sc["g_" + n] for n in conv.GEOM_FIELDS}
    n6, n4, parts = conv.direct_blocks(g, sc["p0"], sc["p1"], sc["c1"] - sc["c0"], sc["ldw"],
                                       sc["scratch_rows"], sc["mode"], sc["shift"])
    return dict(pix=sc["p1"] - sc["p0"], ct=sc["c1"] - sc["c0"], k=k, ldw=sc["ldw"],
                kh=sc["g_kh"], rows=sc["scratch_rows"], n6=n6, n4=n4, parts=parts,
                stochastic=sc["mode"])


def _conv(specs, mode=0):
    out = []
    for geom, ldw_align, rows in specs:
        g = cases.conv_geometry(*geom)
        k = g["g_kh"] * g["g_kw"] * g["g_cin"]
        ldw = -(-k // ldw_align) * ldw_align
        out.append(Point("conv2d", lambda i, g=g, ldw=ldw, rows=rows: cases.conv2d(
            _rng(i), g, False, mode, ldw=ldw, scratch_rows=rows, shift=14, small=TYPICAL),
            _conv_dims))
    return out


def _gw_dims(sc, a):
    return dict(pix=sc["p1"] - sc["p0"], ct=sc["c1"] - sc["c0"],
                k=sc["g_kh"] * sc["g_kw"] * sc["g_cin"], cols=sc["scratch_cols"])


def _gw(specs):
    return [Point("conv2d_gw", lambda i, g=cases.conv_geometry(*geom), cols=cols:
                  cases.conv2d_gw(_rng(i), g, False, 0, scratch_cols=cols, small=TYPICAL),
                  _gw_dims) for geom, cols in specs]


def _gwr_tile(build):
    """A tile of the last two thirds of the weights (tiny random tiles are all call cost)."""
    def b(i):
        k, sc, a = build(i)
        size = sc["pstride"]
        return k, dict(sc, e0=size // 3, e1=size), a
    return b


def _gwr(specs):
    return [Point("conv2d_gw_reduce", _gwr_tile(lambda i, s=s: cases.conv2d_gw_reduce(
        _rng(i), *s, False, 0, table=False)),
                  lambda sc, a: dict(n=sc["e1"] - sc["e0"], nparts=sc["nparts"]))
            for s in specs]


def _pack(specs):
    def dims(sc, a):
        inner = sc["cout"] if sc["flip"] else sc["cin"]
        return dict(rows=sc["r1"] - sc["r0"], k=sc["kh"] * sc["kw"] * inner,
                    taps=sc["kh"] * sc["kw"], flip=sc["flip"])
    def whole(i, s):
        k, sc, a = cases.conv2d_pack(_rng(i), *s, False, 0, flip=i % 2, table=False)
        return k, dict(sc, r0=0, r1=s[3] if not sc["flip"] else s[2]), a
    return [Point("conv2d_pack", lambda i, s=s: whole(i, s), dims) for s in specs]


def _scaled(sc):
    """1 for an average over a window that is not a power of two (max pooling: 0)."""
    win = sc["g_kh"] * sc["g_kw"]
    return float("mult" in sc and win & (win - 1) != 0)


def _pool_dims(sc, a):
    rows = sc["r1"] - sc["r0"]
    outs = rows * sc["g_ow"] * sc["g_c"]
    return dict(rows=rows, outs=outs, win=outs * sc["g_kh"] * sc["g_kw"], c=sc["g_c"],
                kh=sc["g_kh"], stochastic=sc.get("mode", 0), scaled=_scaled(sc))


def _pool_grad_dims(sc, a):
    rows = sc["r1"] - sc["r0"]
    hits = ct.pool_scattered(sc["g_h"], sc["g_oh"], sc["g_kh"], sc["g_sy"], sc["r0"], sc["r1"])
    images = (sc["r1"] - 1) // sc["g_h"] - sc["r0"] // sc["g_h"] + 1
    return dict(rows=rows, nin=rows * sc["g_w"] * sc["g_c"], hits=hits, kw=sc["g_kw"],
                ow=sc["g_ow"], c=sc["g_c"], images=images, stochastic=sc.get("mode", 0),
                scaled=_scaled(sc))


def _pool(family, builder, dims, specs):
    return [Point(family, lambda i, s=s: builder(_rng(i), cases.pool_geometry(*s), False, i % 2),
                  dims) for s in specs]


def _copy_dims(sc, a):
    n = int(np.prod(a["shape"])) if sc.get("ndim") else 0
    contig = a["src_strides"][-1] == 1 and a["dst_strides"][-1] == 1
    return dict(contig=n * contig, strided=n * (not contig), runs=n / int(a["shape"][-1]), fill=0)


def _copy(specs):
    out = []
    for shape, transpose in specs:
        def build(i, shape=shape, transpose=transpose):
            rng = _rng(i)
            nd = len(shape)
            src = cases.data(rng, int(np.prod(shape)), False)
            cstr = np.cumprod([1] + list(shape[::-1]))[:-1][::-1].astype(np.int32)
            sstr = cstr.copy()
            if transpose and nd >= 2:   # read the source as the transpose of its last two axes
                tshape = list(shape[:-2]) + [shape[-1], shape[-2]]
                tstr = np.cumprod([1] + tshape[::-1])[:-1][::-1]
                sstr[-2], sstr[-1] = tstr[-1], tstr[-2]
            return "COPY", dict(ndim=nd, src_off=0, dst_off=0), dict(
                src=src, src_strides=sstr.astype(np.int32), dst=cases.noise(rng, src.size),
                dst_strides=cstr, shape=np.asarray(shape, np.int32))
        out.append(Point("copy", build, _copy_dims))
    return out


def _fill(ns):
    return [Point("copy", lambda i, n=n: cases.fill(_rng(i), n, False, 0),
                  lambda sc, a: dict(contig=0, strided=0, runs=0, fill=sc["n"])) for n in ns]


def _gather(specs):
    return [Point("gather", lambda i, s=s: cases.gather(_rng(i), s[0], False, 0, row_len=s[1]),
                  lambda sc, a: dict(rows=sc["n"], elems=sc["n"] * sc["row_len"]))
            for s in specs]


def _requant(specs):
    return [Point("requant", lambda i, s=s: cases.requant(_rng(i), s[0], False, s[1], shift=6),
                  lambda sc, a: dict(elems=sc["n"], stochastic=sc["mode"])) for s in specs]


def _ew(specs):
    def dims(sc, a):
        op = cases.EW_OPS[sc["op"]]
        return dict(kind=op, elems=sc["n"],
                    stochastic=sc["mode"] * (op not in cases._CMP))
    return [Point("eltwise", lambda i, s=s: cases.eltwise(_rng(i), s[0], (s[1],), False, s[2],
                                                          shift=4), dims) for s in specs]


def _ew_fix_n(build):
    """eltwise() picks a random tile inside its box; pin the tile to the whole box."""
    def b(i):
        k, sc, a = build(i)
        total = int(np.prod(a["shape"]))
        sc = dict(sc, e0=0, n=total)
        if cases.EW_OPS[sc["op"]] == "clip":   # a quarter of the (small) data clipped
            sc.update(k0=-48, k1=48, v0=-48, v1=48, shift_a=0)
        a = dict(a, y=cases.noise(_rng(i), total))
        return k, sc, a
    return b


def _lut(specs):
    return [Point("lut", lambda i, s=s: cases.lut(_rng(i), s[0], s[1], False, s[2], 12, 14),
                  lambda sc, a: dict(kind=cases.LUT_FNS[sc["fn"]], elems=sc["n"],
                                     stochastic=sc["mode"])) for s in specs]


def _optim(specs):
    def build(i, kind, n, mode):
        if kind == "adam":
            return cases.adam(_rng(i), n, False, mode)
        return cases.sgd(_rng(i), n, False, mode, momentum=kind == "sgd_momentum")

    def dims(sc, a):
        kind = "adam" if "beta1" in sc else ("sgd_momentum" if sc["mu"] else "sgd")
        return dict(kind=kind, elems=sc["n"], stochastic=sc["mode"])
    return [Point("optim", lambda i, s=s: build(i, *s), dims) for s in specs]


def _reduce(specs):
    return [Point("reduce", lambda i, s=s: cases.reduce(_rng(i), s[0], s[1], s[2], s[3], False,
                                                        s[4], shift=3),
                  lambda sc, a: dict(op=cases.RED_OPS[sc["op"]], rows=sc["rows"], m=sc["m"],
                                     n=sc["n"], stochastic=sc["mode"])) for s in specs]


def _reduce_part(specs):
    """(rows, n, m, inner) partial tiles of a split sum."""
    return [Point("reduce_part", lambda i, s=s: cases.reduce_part(_rng(i), s[0], s[1], s[2],
                                                                  False, inner=s[3]),
                  lambda sc, a: dict(rows=sc["rows"], m=sc["m"], n=sc["n"], ld=sc["ld_n"]))
            for s in specs]


def _softmax(specs):
    return [Point("softmax", lambda i, s=s: cases.softmax(_rng(i), s[1], s[2], False, s[3],
                                                          s[0] == "logsumexp", 11, 14),
                  lambda sc, a, s=s: dict(op=s[0], rows=sc["rows"], n=sc["n"],
                                          stochastic=sc["mode"])) for s in specs]


def _warp(specs):
    # One distortion draw for every point: how many output pixels sample outside the image
    # (cheaper) depends on theta, which the formula cannot know.
    return [Point("warp", lambda i, s=s: cases.warp(_rng(0), *s, False, 0),
                  lambda sc, a: dict(ns=sc["n"], h=sc["h"], w=sc["w"], c=sc["c"]))
            for s in specs]


def _conv_tile(geom, tile, ldw, rows, mode=0):
    names = "n h w cin oh ow cout kh kw sy sx pt pl".split()
    g = {f"g_{k}": v for k, v in zip(names, geom)}
    p0, p1, c0, c1, _ = tile
    return Point("conv2d", lambda i: cases.conv2d(_rng(i), g, False, mode, p0, p1, c0, c1, ldw,
                                                  rows, shift=14, small=TYPICAL), _conv_dims)


@functools.lru_cache(maxsize=1)
def lenet5_conv_tiles(batch: int = 32):
    """(op, geometry, first tile, ldw, scratch rows) of each conv2d call of LeNet-5's training
    step at `batch`, as spinla's planner picks them (C1, C3, then the input gradients)."""
    from . import armimage
    from .nn import models
    prog = armimage.training_step_program(models.lenet5, batch)
    return tuple((c.op, tuple(c.params["geom"]), tuple(int(v) for v in c.tiles[0]),
                  int(c.params["ldw"]), int(c.params["scratch_rows"]))
                 for c in prog.calls if c.kernel == "conv2d_q15")


def families():
    """{family: (fit points, held-out points)}."""
    ew_fit, ew_held = [], []
    for j, op in enumerate(ct.EW_OPS):
        ew_fit += [(op, 40 + 9 * j, 0), (op, 300, 1), (op, 137, j % 2)]
        ew_held += [(op, 211, (j + 1) % 2)]
    # multiply's stochastic rounding takes the int32 or the int64 path per product (how many
    # products fit int32 depends on the data): a second stochastic size for its own term
    # (likewise divide: the software 64-bit division's time depends on the operands, so a
    # second, larger nearest-mode tile averages it)
    ew_fit += [("multiply", 90, 1), ("divide", 400, 0)]
    ew = lambda specs: [Point(p.family, _ew_fix_n(p.build), p.dims) for p in _ew(specs)]
    lut_fit = [(f, n, m) for f in ct.LUT_FNS for n, m in ((30, 0), (200, 1), (90, 0), (400, 0))]
    lut_held = [(f, 150, 1) for f in ct.LUT_FNS]
    opt_fit = [(k, n, m) for k in ct.OPTIMISERS for n, m in ((20, 0), (250, 1), (100, 1))]
    opt_held = [(k, 170, 0) for k in ct.OPTIMISERS]
    red_fit = [(o, r, n, m, md) for o in cases.RED_OPS
               for r, n, m, md in ((1, 10, 4, 0), (3, 40, 8, 1), (2, 7, 30, 0), (6, 12, 1, 1),
                                   (1, 64, 2, 0), (4, 20, 16, 0), (2, 33, 6, 1), (1, 5, 50, 1))]
    red_held = [(o, 2, 25, 10, 1) for o in cases.RED_OPS]
    conv_geoms = [  # (n, h, w, cin, cout, kh, kw, sy, sx, pt, pl[, pb, pr]), ldw align, rows
        ((1, 12, 12, 1, 4, 5, 5, 1, 1, 0, 0), 16, 32),
        ((1, 10, 10, 3, 8, 3, 3, 1, 1, 1, 1, 1, 1), 1, 16),
        ((1, 8, 8, 4, 12, 3, 3, 1, 1, 0, 0), 16, 8),
        ((1, 9, 9, 2, 5, 5, 5, 1, 1, 2, 2, 2, 2), 1, 32),
        ((2, 7, 7, 6, 6, 3, 3, 2, 2, 1, 1, 1, 1), 16, 4),
        ((1, 6, 6, 8, 16, 5, 5, 1, 1, 0, 0), 16, 32),
        ((1, 16, 16, 1, 6, 5, 5, 1, 1, 0, 0), 16, 16),
        ((1, 10, 10, 4, 10, 1, 1, 1, 1, 0, 0), 1, 32),
        ((1, 12, 8, 3, 7, 3, 5, 1, 1, 0, 0), 1, 12), ((1, 11, 11, 5, 9, 5, 5, 2, 2, 0, 0), 16, 32),
        ((1, 20, 20, 1, 6, 5, 5, 1, 1, 0, 0), 16, 32), ((1, 8, 8, 6, 16, 5, 5, 1, 1, 0, 0), 16, 16),
        ((1, 9, 9, 2, 3, 3, 3, 1, 1, 0, 0), 1, 4), ((1, 14, 14, 3, 8, 5, 5, 1, 1, 0, 0), 16, 32),
        ((1, 7, 7, 12, 4, 3, 3, 1, 1, 1, 1, 1, 1), 16, 16),
        ((2, 6, 6, 2, 14, 3, 3, 1, 1, 0, 0), 1, 8),
        ((1, 10, 10, 6, 16, 5, 5, 1, 1, 0, 0), 16, 16),
        ((1, 12, 12, 2, 5, 2, 2, 2, 2, 0, 0), 1, 32),
        ((1, 13, 13, 1, 9, 5, 5, 1, 1, 2, 2, 2, 2), 16, 24),
        ((1, 8, 12, 5, 6, 3, 3, 1, 1, 0, 0), 1, 16),
        ((1, 18, 18, 1, 4, 5, 5, 1, 1, 0, 0), 16, 32), ((1, 6, 6, 16, 12, 3, 3, 1, 1, 0, 0), 16, 8),
        # LeNet-like layers (cin = 1 on a large image, cin = 6), whole images: the held-out
        # tiles below are parts of such layers in a batch
        ((1, 32, 32, 1, 6, 5, 5, 1, 1, 0, 0), 16, 32), ((1, 14, 14, 6, 16, 5, 5, 1, 1, 0, 0), 16, 16),
        ((1, 24, 24, 1, 6, 5, 5, 1, 1, 0, 0), 16, 24),
        # the direct cin = 1 path (conv2d_q15.c) with other kernel heights and row lengths
        ((1, 10, 14, 1, 5, 3, 5, 1, 1, 0, 0), 16, 32), ((1, 8, 12, 1, 3, 1, 5, 1, 1, 0, 0), 2, 32),
        ((1, 9, 16, 1, 7, 4, 5, 1, 1, 0, 0), 2, 16), ((1, 7, 10, 1, 8, 2, 5, 1, 1, 0, 0), 16, 32),
        ((2, 12, 20, 1, 3, 5, 5, 1, 1, 0, 0), 16, 32), ((1, 14, 18, 1, 2, 5, 5, 1, 1, 0, 0), 2, 8),
        # single-channel inputs the direct path leaves to im2col (odd w, 3-wide, 1 x 1, padded)
        ((1, 12, 11, 1, 4, 5, 5, 1, 1, 0, 0), 16, 32), ((1, 10, 10, 1, 6, 3, 3, 1, 1, 0, 0), 16, 16),
        ((1, 6, 6, 1, 3, 1, 1, 1, 1, 0, 0), 16, 8), ((1, 12, 12, 1, 6, 5, 5, 1, 1, 2, 2, 2, 2), 16, 32),
        ((1, 16, 15, 1, 8, 5, 5, 1, 1, 0, 0), 16, 12),
    ]
    # Held out: LeNet-5's C1 and C3 tiles as the planner picks them, and one more shape.
    conv_held = [_conv_tile(*t[1:]) for t in lenet5_conv_tiles()[:2]] + _conv(
        [((1, 9, 9, 3, 11, 3, 3, 1, 1, 1, 1, 1, 1), 16, 16)])
    gw_geoms = [((1, 8, 8, 1, 4, 5, 5, 1, 1, 0, 0), 64),
    ((1, 10, 10, 3, 8, 3, 3, 1, 1, 1, 1, 1, 1), 16),
                ((1, 6, 6, 6, 16, 5, 5, 1, 1, 0, 0), 64), ((2, 7, 7, 4, 6, 3, 3, 1, 1, 0, 0), 32),
                ((1, 12, 12, 1, 6, 5, 5, 1, 1, 0, 0), 64), ((1, 9, 9, 2, 3, 3, 3, 2, 2, 0, 0), 16),
                ((1, 8, 8, 8, 8, 1, 1, 1, 1, 0, 0), 64), ((1, 14, 14, 1, 6, 5, 5, 1, 1, 0, 0), 64),
                ((1, 10, 10, 6, 16, 5, 5, 1, 1, 0, 0), 64),
                ((1, 12, 12, 3, 4, 3, 3, 1, 1, 0, 0), 16),
                ((2, 8, 8, 2, 10, 3, 3, 1, 1, 1, 1, 1, 1), 64),
                ((1, 16, 16, 1, 4, 5, 5, 1, 1, 0, 0), 32),
                ((1, 7, 7, 10, 5, 3, 3, 1, 1, 0, 0), 64),
                ((1, 9, 9, 4, 12, 5, 5, 1, 1, 2, 2, 2, 2), 64),
                ((1, 6, 6, 3, 7, 2, 2, 1, 1, 0, 0), 16),
                ((1, 11, 11, 2, 9, 3, 3, 2, 2, 1, 1, 1, 1), 32),
                ((1, 10, 10, 5, 3, 5, 5, 1, 1, 0, 0), 64),
                ((1, 13, 13, 1, 8, 3, 3, 1, 1, 0, 0), 64),
                # padded 5x5 windows (zero-filled im2col runs are cheaper than copied ones)
                ((1, 9, 9, 3, 6, 5, 5, 1, 1, 2, 2, 2, 2), 32),
                ((1, 12, 12, 2, 8, 5, 5, 1, 1, 2, 2, 2, 2), 64)]
    gw_held = [((1, 10, 10, 2, 5, 3, 3, 1, 1, 0, 0), 64),
    ((1, 11, 11, 4, 8, 5, 5, 1, 1, 2, 2, 2, 2), 32)]
    pool_specs = [(1, 8, 8, 4, 2, 2, 2, 2), (2, 12, 12, 6, 2, 2, 2, 2), (1, 9, 9, 3, 3, 3, 2, 2),
                  (1, 10, 6, 8, 2, 2, 1, 1), (1, 7, 7, 5, 3, 3, 3, 3), (1, 16, 16, 2, 2, 2, 2, 2),
                  (1, 28, 28, 6, 2, 2, 2, 2), (2, 10, 10, 16, 2, 2, 2, 2),
                  (1, 12, 12, 1, 3, 3, 1, 1),
                  (1, 14, 14, 4, 2, 2, 2, 2), (1, 6, 9, 7, 2, 3, 2, 3), (2, 9, 9, 2, 3, 3, 3, 3),
                  (1, 11, 11, 3, 2, 2, 1, 1), (1, 8, 8, 12, 2, 2, 2, 2), (3, 6, 6, 4, 2, 2, 2, 2),
                  (2, 14, 14, 6, 2, 2, 2, 2), (1, 20, 20, 2, 2, 2, 2, 2), (4, 4, 4, 8, 2, 2, 2, 2),
                  (1, 9, 12, 10, 3, 3, 3, 3), (2, 10, 10, 1, 2, 2, 1, 1)]
    pool_held = [(1, 12, 10, 5, 2, 2, 2, 2), (2, 8, 8, 3, 3, 3, 2, 2)]
    return {
        "gemm": (_gemm([(4, 4, 16), (8, 8, 32), (16, 16, 64), (4, 16, 48), (16, 4, 80),
                        (32, 32, 32), (12, 20, 64), (8, 32, 96), (32, 8, 16), (5, 7, 37),
                        (13, 9, 50), (24, 16, 128), (64, 64, 64), (3, 12, 24), (7, 5, 21), (4, 6, 15),
                        (12, 8, 33), (9, 4, 9),
                        # odd m or n with even k: the exact path's edge blocks
                        (9, 7, 32), (6, 5, 48), (12, 11, 20), (7, 12, 64), (15, 3, 56)])
                 # stochastic rounding: the out-of-line rounding and its hash per output
                 + _gemm([(8, 8, 32), (16, 16, 64), (12, 20, 64), (32, 8, 16), (13, 9, 50),
                          (4, 16, 48), (24, 16, 128)], mode=1),
                 _gemm([(20, 24, 48), (64, 128, 64), (9, 13, 40), (32, 10, 84), (6, 10, 27)])
                 + _gemm([(64, 128, 64), (9, 7, 32)], mode=1)),
        "conv2d": (_conv(conv_geoms) + [  # parts of layers, as the planner's tiles are
            _conv_tile((2, 32, 32, 1, 28, 28, 6, 5, 5, 1, 1, 0, 0), (0, 40, 0, 6, 0), 32, 32),
            _conv_tile((2, 32, 32, 1, 28, 28, 6, 5, 5, 1, 1, 0, 0), (700, 750, 0, 6, 0), 32, 16),
            _conv_tile((2, 20, 20, 1, 16, 16, 4, 5, 5, 1, 1, 0, 0), (30, 50, 0, 4, 0), 32, 32),
            _conv_tile((2, 14, 14, 6, 10, 10, 16, 5, 5, 1, 1, 0, 0), (100, 124, 0, 16, 0), 160,
                       16),
            _conv_tile((2, 12, 12, 3, 10, 10, 8, 3, 3, 1, 1, 0, 0), (50, 90, 0, 8, 0), 32, 32),
            _conv_tile((2, 32, 32, 1, 28, 28, 6, 5, 5, 1, 1, 0, 0), (100, 136, 2, 5, 0), 32, 36),
            _conv_tile((2, 32, 32, 1, 28, 28, 6, 5, 5, 1, 1, 0, 0), (36, 72, 0, 6, 0), 32, 36),
            # small and odd tiles on the im2col path (a few pixels, a row part of 2)
            _conv_tile((2, 32, 32, 1, 28, 28, 6, 5, 5, 1, 1, 0, 0), (26, 40, 0, 6, 0), 32, 36),
            _conv_tile((2, 14, 14, 6, 10, 10, 16, 5, 5, 1, 1, 0, 0), (7, 10, 3, 9, 0), 160, 16),
            _conv_tile((1, 9, 9, 3, 9, 9, 5, 3, 3, 1, 1, 1, 1), (40, 42, 0, 5, 0), 32, 4),
            _conv_tile((1, 8, 8, 2, 8, 8, 3, 1, 1, 1, 1, 0, 0), (0, 5, 0, 3, 0), 2, 8),
            # an input gradient's tile (stride-dilated, padded: im2col mostly zero runs)
            _conv_tile((32, 10, 10, 16, 14, 14, 6, 5, 5, 1, 1, 4, 4), (200, 216, 0, 6, 0), 400,
                       16)]
            # stochastic rounding (the input gradients'), on the im2col path
            + [_conv_tile((32, 10, 10, 16, 14, 14, 6, 5, 5, 1, 1, 4, 4), (0, 16, 0, 6, 0), 400,
                          16, mode=1),
               _conv_tile((2, 14, 14, 6, 10, 10, 16, 5, 5, 1, 1, 0, 0), (40, 64, 0, 16, 0), 160,
                          16, mode=1)]
            + _conv([((1, 8, 8, 4, 12, 3, 3, 1, 1, 0, 0), 16, 8),
                     ((1, 7, 7, 12, 4, 3, 3, 1, 1, 1, 1, 1, 1), 16, 16),
                     ((1, 12, 12, 1, 4, 5, 5, 1, 1, 0, 0), 16, 32)], mode=1),
            conv_held),
        "conv2d_gw": (_gw(gw_geoms), _gw(gw_held)),
        "conv2d_gw_reduce": (_gwr([(1, 3, 3, 4, 8), (2, 5, 5, 1, 6), (4, 3, 3, 6, 16),
                                   (3, 1, 1, 8, 8), (1, 5, 5, 6, 4), (2, 3, 3, 2, 2),
                                   (6, 5, 5, 6, 16), (2, 3, 3, 8, 8), (5, 5, 5, 1, 6),
                                   (1, 3, 3, 16, 16)]),
                             _gwr([(3, 3, 3, 4, 6), (2, 5, 5, 2, 5)])),
        "conv2d_pack": (_pack([(5, 5, 1, 6), (3, 3, 4, 8), (5, 5, 6, 16), (1, 1, 8, 8),
                               (3, 3, 2, 3), (5, 5, 3, 4), (5, 5, 16, 6), (3, 3, 8, 4),
                               (5, 5, 2, 12), (3, 3, 6, 6), (1, 1, 16, 4), (5, 5, 4, 4)]),
                        _pack([(3, 3, 6, 5), (5, 5, 2, 7)])),
        "avg_pool": (_pool("avg_pool", cases.avg_pool, _pool_dims, pool_specs),
                     _pool("avg_pool", cases.avg_pool, _pool_dims, pool_held)),
        "max_pool": (_pool("max_pool", cases.max_pool, _pool_dims, pool_specs),
                     _pool("max_pool", cases.max_pool, _pool_dims, pool_held)),
        "avg_pool_grad": (_pool("avg_pool_grad", cases.avg_pool_grad, _pool_grad_dims,
                                pool_specs),
                          _pool("avg_pool_grad", cases.avg_pool_grad, _pool_grad_dims,
                                pool_held)),
        "max_pool_grad": (_pool("max_pool_grad", lambda r, g, f, m: cases.avg_pool_grad(
            r, g, f, m, max_=True), _pool_grad_dims, pool_specs),
                          _pool("max_pool_grad", lambda r, g, f, m: cases.avg_pool_grad(
                              r, g, f, m, max_=True), _pool_grad_dims, pool_held)),
        "copy": (_copy([((64,), False), ((8, 40), False), ((16, 16), True), ((4, 8, 12), False),
                        ((32, 8), True), ((300,), False), ((6, 50), True), ((40, 3), False),
                        ((10, 4, 6), True), ((3, 100), False), ((24, 5), True)])
                 + _fill([64, 500, 33]),
                 _copy([((12, 30), False), ((20, 20), True)]) + _fill([256])),
        "gather": (_gather([(4, 16), (20, 7), (8, 64), (32, 3), (12, 30)]),
                   _gather([(10, 20), (25, 12)])),
        "requant": (_requant([(16, 0), (256, 1), (100, 0), (500, 1), (64, 1)]),
                    _requant([(300, 0), (200, 1)])),
        "eltwise": (ew(ew_fit), ew(ew_held)),
        "lut": (_lut(lut_fit), _lut(lut_held)),
        "optim": (_optim(opt_fit), _optim(opt_held)),
        "reduce": (_reduce(red_fit), _reduce(red_held)),
        # Held out: LeNet-5's split sums' partial tiles at batch 64 (bias gradients of C1, C3,
        # F5, F6 and the loss's sum over the batch), as the planner picks them.
        "reduce_part": (_reduce_part([(1, 50, 6, 6), (1, 300, 6, 6), (1, 40, 16, 16),
                                      (2, 30, 16, 16), (3, 12, 40, 40), (1, 12, 64, 64),
                                      (1, 16, 84, 84), (2, 10, 130, 130), (1, 5, 200, 200),
                                      (1, 2, 64, 100), (1, 33, 20, 84), (5, 7, 10, 10),
                                      (3, 50, 2, 2), (1, 25, 3, 3), (2, 40, 1, 4),
                                      (4, 20, 1, 1), (1, 500, 1, 1), (1, 64, 1, 1)]),
                        _reduce_part([(1, 196, 6, 6), (1, 100, 16, 16), (1, 8, 64, 84),
                                      (1, 8, 20, 84), (1, 8, 56, 120), (1, 320, 1, 1)])),
        "softmax": (_softmax([(o, r, n, md) for o in ("softmax", "logsumexp")
                              for r, n, md in ((1, 10, 0), (4, 30, 1), (2, 64, 0), (8, 5, 1),
                                               (16, 10, 0), (3, 100, 1), (5, 16, 0))]),
                    _softmax([("softmax", 3, 20, 1), ("logsumexp", 3, 20, 0)])),
        "warp": (_warp([(1, 8, 8, 1), (2, 6, 10, 1), (1, 12, 12, 2), (3, 5, 5, 3), (1, 16, 4, 1),
                        (2, 10, 10, 1), (1, 28, 28, 1), (4, 7, 7, 1), (1, 20, 12, 2),
                        (2, 14, 14, 1), (1, 5, 24, 1), (3, 9, 9, 2)]),
                 _warp([(2, 9, 7, 2), (1, 14, 14, 1)])),
    }


# --- counting and fitting ----------------------------------------------------------------------

def measure(points, offset=0):
    """[(features dict, counted cycles)] of points, counted under qemu."""
    rows = []
    for i, p in enumerate(points):
        kernel, sc, arrs = p.build(offset + i)
        c = armcycles.count(kernel, sc, arrs)
        feats = ct.FEATURES[p.family](**p.dims(sc, arrs))
        feats = {k: float(np.asarray(v)) for k, v in feats.items()}
        rows.append((feats, c.cycles))
    return rows


def fit(rows):
    """Term values minimising the relative error of rows; terms no row exercises get 0."""
    names = list(rows[0][0])
    A = np.array([[f[n] for n in names] for f, _ in rows])
    y = np.array([c for _, c in rows], np.float64)
    w = 1.0 / y
    used = np.abs(A).sum(0) > 0
    coef = np.zeros(len(names))
    sol, *_ = np.linalg.lstsq(A[:, used] * w[:, None], y * w, rcond=None)
    coef[used] = sol
    return dict(zip(names, coef))


def errors(values, rows):
    return [float(sum(values[n] * f[n] for n in f) / c - 1) for f, c in rows]


def calibrate(only=None, log=print):
    """Fit every family; returns {family: (values, fit errors, held-out errors, counts)}."""
    out = {}
    for fam, (fit_pts, held_pts) in families().items():
        if only and fam not in only:
            continue
        rows = measure(fit_pts)
        held = measure(held_pts, offset=len(fit_pts))
        vals = fit(rows)
        fe, he = errors(vals, rows), errors(vals, held)
        out[fam] = (vals, fe, he, (len(rows), len(held)))
        log(f"{fam:18s} fit max |err| {max(map(abs, fe)):6.2%}   held-out max |err| "
            f"{max(map(abs, he)):6.2%}  ({len(rows)} fit, {len(held)} held-out tiles)")
    return out


def table_text(results, old: dict) -> str:
    """The TABLE block of cycle_table.py: fitted families replaced, others kept."""
    table = {fam: {n: (t.value, t.how, t.command) for n, t in terms.items()}
             for fam, terms in old.items()}
    for fam, (vals, fe, he, (nf, nh)) in results.items():
        how = (f"least-squares fit (relative error) to the instruction model (armcycles) on "
               f"{nf} tiles: max |error| {max(map(abs, fe)):.1%}; on {nh} held-out tiles "
               f"{max(map(abs, he)):.1%}")
        table[fam] = {n: (round(float(v), 4), how, COMMAND) for n, v in vals.items()}
    lines = ["TABLE: dict = {"]
    for fam, terms in table.items():
        lines.append(f"    {fam!r}: {{")
        for n, (v, h, c) in terms.items():
            lines.append(f"        {n!r}: Term({v!r},")
            parts = [h[i:i + 70] for i in range(0, len(h), 70)]
            lines += [f"                    {p!r}" for p in parts]
            lines[-1] += ","
            lines.append(f"                    {c!r}),")
        lines.append("    },")
    lines.append("}")
    return "\n".join(lines) + "\n"


def write_table(results, path: Path | None = None):
    path = path or Path(ct.__file__)
    text = path.read_text()
    start = text.index("# BEGIN TABLE")
    start = text.index("\n", start) + 1
    end = text.index("# END TABLE")
    new = text[:start] + table_text(results, ct.TABLE) + text[end:]
    path.write_text(new)
    return path
