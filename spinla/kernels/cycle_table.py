"""Every ARM968 cycle constant of the kernels' cost formulas, in one table.

A family's formula is cycles = sum over its terms of value * feature, per tile.  FEATURES below
defines each family's features (the one definition of the formula's shape: the kernels'
`_cycles` functions and the fit in spinla/armcalib.py both call it); TABLE holds each term's
value, how it was obtained, and the command that re-derives it.

The values are least-squares fits to the instruction-level model (spinla/armcycles.py: the
ARM build run under `qemu-arm -cpu arm946`, each executed instruction priced with the ARM9E-S
timing rules) over a grid of tile shapes; `python tools/calibrate_cycles.py` re-runs the fit
and rewrites TABLE (the block between the markers), and tests/test_cycle_table.py checks the
formulas on held-out shapes (not in the fit) against the instruction model, within 5 %.

What they include: the kernel call on one tile, from its first instruction to its return
(operand scans, loops, requantisation, libgcc helpers).  Not included (priced elsewhere in
spinla/cost.py from machine.py): DMA transfers and their set-up, the phase barrier.
Data-dependent kernels (gemm, conv2d, conv2d_gw: the int32 chunk bound depends on the operands'
magnitudes) are calibrated on the operand distribution named in armcalib.CALIBRATION_DATA.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Term:
    value: float
    how: str
    command: str


def _ceil_div(a, b):
    return np.ceil(np.asarray(a, np.float64) / b)


# --- the formulas: features per tile (NumPy arrays or scalars) ---------------------------------

# The portable GEMM's register block (gemm_q15.c: MR x NR outputs per block, the ragged edge
# rows and columns one dot product each).  A shape parameter of the formula, not a fitted
# value: change it with the kernel's block, then re-run the fit.
GEMM_BLOCK = (4, 4)


def _blocked(m, n):
    mr, nr = GEMM_BLOCK
    m, n = np.asarray(m, np.float64), np.asarray(n, np.float64)
    return m - np.mod(m, mr), n - np.mod(n, nr)


def gemm(m, n, k):
    mb, nb = _blocked(m, n)
    return dict(per_tile=1.0, per_mac=m * n * k, per_edge_mac=(m * n - mb * nb) * k,
                per_output=m * n, per_edge_output=m * n - mb * nb, per_a_value=m * k,
                per_b_value=n * k)


def conv2d(pix, ct, k, ldw, kh, rows):
    """pix output pixels x ct channels; k = kh*kw*cin, ldw the packed row stride (the GEMM runs
    over ldw); rows: scratch rows per GEMM call (the GEMM's m)."""
    pix = np.asarray(pix, np.float64)
    calls = _ceil_div(pix, rows)
    full, last = np.floor(pix / rows), np.mod(pix, rows)
    pb = full * _blocked(rows, 1)[0] + _blocked(last, 1)[0]
    cb = _blocked(1, ct)[1]
    return dict(per_tile=1.0, per_mac=pix * ct * ldw, per_edge_mac=(pix * ct - pb * cb) * ldw,
                per_output=pix * ct, per_edge_output=pix * ct - pb * cb, per_im2col=pix * k,
                per_kernel_row=pix * kh, per_gemm_call=calls, per_weight_scan=calls * ct * ldw,
                per_row_scan=pix * ldw)


def conv2d_gw(pix, ct, k, cols):
    """pix pixels x ct channels of a k-row weight gradient, cols pixels per chunk: the dot over
    pixels runs 4 x 4 blocks over k and ct rounded up to multiples of 4."""
    chunks = _ceil_div(pix, cols)
    k4, c4 = 4 * _ceil_div(k, 4), 4 * _ceil_div(ct, 4)
    return dict(per_tile=1.0, per_mac=pix * k4 * c4, per_block=chunks * k4 * c4 / 16,
                per_im2col=pix * k, per_delta=pix * ct, per_scan=pix * (k + ct),
                per_chunk=chunks, per_weight=k * ct)


def conv2d_gw_reduce(n, nparts):
    """Dense (every connection kept: a table's left-out weights cost less)."""
    return dict(per_tile=1.0, per_term=n * nparts, per_output=n)


def conv2d_pack(rows, k, taps, flip):
    """Dense packing (every connection kept: a table's left-out weights cost less) of rows
    packed rows of k values, taps = kh * kw kernel positions."""
    return dict(per_tile=1.0, per_row=rows, per_tap=rows * taps,
                per_value_forward=rows * k * (1 - flip), per_value_flipped=rows * k * flip)


def pool(rows, outs, win, c, kh, stochastic, scaled=0.0):
    """Forward average or max pooling: rows output rows, outs outputs, win window values, c
    channels (innermost), kh window rows; scaled as in pool_grad."""
    return dict(per_tile=1.0, per_row=rows, per_window_row=rows * kh, per_output=outs,
                per_scaled_output=outs * scaled,
                per_window_position=win / c, per_window_value=win,
                per_stochastic_output=outs * stochastic)


def pool_scattered(h, oh, kh, sy, r0, r1):
    """Window rows that hit global input rows r0..r1 (r = n * h + iy) of a pooling gradient:
    the sum over those rows of #{oy : 0 <= iy - oy * sy < kh}, exactly (per-row counts are
    periodic in h).  Times kw * ow * c it is the number of window values scattered."""
    cov = np.array([sum(1 for oy in range(oh) if 0 <= iy - oy * sy < kh) for iy in range(h)],
                   np.float64)
    pre = np.concatenate([[0.0], np.cumsum(cov)])

    def upto(r):
        r = np.asarray(r, np.int64)
        return (r // h) * pre[-1] + pre[r % h]
    return upto(r1) - upto(r0)


def pool_grad(rows, nin, hits, kw, ow, c, images, stochastic, scaled=0.0):
    """Gradients: rows input rows in `images` images (a segment each: one software division),
    nin input elements (rounded in blocks of 64, pool_q15.c's POOL_BLOCK), hits window rows
    that touch them (pool_scattered), kw * ow * c values scattered per hit.  scaled: 1 when
    the window is not a power of two (average: a reciprocal multiply and a rounding shift
    over 32 bits, the slower requantisation path)."""
    return dict(per_tile=1.0, per_row=rows, per_image=images, per_input=nin,
                per_scaled_input=nin * scaled,
                per_round_block=_ceil_div(nin, 64), per_hit_row=hits,
                per_scatter_position=hits * kw * ow, per_scattered=hits * kw * ow * c,
                per_stochastic_input=nin * stochastic)


def copy(contig, strided, runs, fill):
    """contig / strided elements (last axis contiguous on both sides, or not), runs: rows of
    the last axis, fill: elements filled with a constant."""
    return dict(per_tile=1.0, per_contiguous=contig, per_strided=strided,
                per_contiguous_run=runs * (contig > 0), per_strided_run=runs * (strided > 0),
                per_fill=fill)


def gather(rows, elems):
    return dict(per_tile=1.0, per_row=rows, per_elem=elems)


def requant(elems, stochastic):
    return dict(per_tile=1.0, per_elem=elems, per_stochastic=elems * stochastic)


def elementwise_by(kind_names, prefix, own_stochastic=()):
    """A family with one per-element cost per kind (op, function, optimiser); kinds in
    own_stochastic get their own stochastic-rounding cost."""
    def features(kind, elems, stochastic):
        f = dict(per_tile=1.0, per_stochastic=elems * stochastic * (kind not in own_stochastic))
        for k in kind_names:
            f[f"{prefix}{k}"] = elems * (k == kind)
        for k in own_stochastic:
            f[f"per_stochastic_{k}"] = elems * stochastic * (k == kind)
        return f
    return features


def reduce(op, rows, m, n, stochastic,
           ops=("sum", "mean", "max", "min", "argmax", "argmin")):
    """rows x m outputs, each over n inputs (the reduced axis in the middle)."""
    outs = rows * m
    f = dict(per_tile=1.0, per_stochastic=outs * stochastic, per_row=rows)
    for o in ops:
        f[f"per_input_{o}"] = outs * n * (o == op)
        f[f"per_output_{o}"] = outs * (o == op)
        f[f"per_row_step_{o}"] = rows * n * (o == op)
    f["per_call_mean"] = 1.0 * (op == "mean")
    return f


def softmax(op, rows, n, stochastic):
    f = dict(per_tile=1.0)
    for o in ("softmax", "logsumexp"):
        f[f"per_row_{o}"] = rows * (o == op)
        f[f"per_elem_{o}"] = rows * n * (o == op)
    f["per_stochastic_output"] = stochastic * rows * np.where(op == "softmax", n, 1)
    return f


def warp(ns, h, w, c):
    return dict(per_tile=1.0, per_sample=ns, per_row=ns * h, per_pixel=ns * h * w,
                per_elem=ns * h * w * c)


EW_OPS = ("add", "subtract", "multiply", "divide", "maximum", "minimum", "less", "less_equal",
          "greater", "greater_equal", "equal", "not_equal", "where", "negative", "abs",
          "square", "clip", "axpby")
LUT_FNS = ("exp", "log", "tanh", "sigmoid", "sqrt")
OPTIMISERS = ("sgd", "sgd_momentum", "adam")

FEATURES = {
    "gemm": gemm, "conv2d": conv2d, "conv2d_gw": conv2d_gw, "conv2d_gw_reduce": conv2d_gw_reduce,
    "conv2d_pack": conv2d_pack, "avg_pool": pool, "max_pool": pool, "avg_pool_grad": pool_grad,
    "max_pool_grad": pool_grad, "copy": copy, "gather": gather, "requant": requant,
    "eltwise": elementwise_by(EW_OPS, "per_elem_", ("clip",)), "lut": elementwise_by(LUT_FNS, "per_elem_"),
    "optim": elementwise_by(OPTIMISERS, "per_elem_"), "reduce": reduce, "softmax": softmax,
    "warp": warp,
}


def predict(family: str, **dims):
    """Cycles of tiles of `family` (NumPy arrays broadcast) by its formula and TABLE."""
    terms = TABLE[family]
    feats = FEATURES[family](**dims)
    missing = set(feats) - set(terms)
    if missing:
        raise KeyError(f"cycle_table: {family} has no value for {sorted(missing)}: re-run "
                       f"tools/calibrate_cycles.py")
    total = 0.0
    for name, f in feats.items():
        total = total + terms[name].value * np.asarray(f, np.float64)
    return total


def describe() -> str:
    lines = []
    for fam, terms in TABLE.items():
        for name, t in terms.items():
            lines.append(f"{fam:18s} {name:24s} {t.value:12.4f}  {t.how}")
    return "\n".join(lines)


# BEGIN TABLE (written by tools/calibrate_cycles.py; edit there, not here)
TABLE: dict = {
    'gemm': {
        'per_tile': Term(329.9458,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 14 tiles: max |error| 0.5%; on 4 held-out tiles 0.2%',
                    'python tools/calibrate_cycles.py'),
        'per_mac': Term(5.9823,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 14 tiles: max |error| 0.5%; on 4 held-out tiles 0.2%',
                    'python tools/calibrate_cycles.py'),
        'per_edge_mac': Term(3.3166,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 14 tiles: max |error| 0.5%; on 4 held-out tiles 0.2%',
                    'python tools/calibrate_cycles.py'),
        'per_output': Term(97.6179,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 14 tiles: max |error| 0.5%; on 4 held-out tiles 0.2%',
                    'python tools/calibrate_cycles.py'),
        'per_edge_output': Term(-11.3879,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 14 tiles: max |error| 0.5%; on 4 held-out tiles 0.2%',
                    'python tools/calibrate_cycles.py'),
        'per_a_value': Term(13.648,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 14 tiles: max |error| 0.5%; on 4 held-out tiles 0.2%',
                    'python tools/calibrate_cycles.py'),
        'per_b_value': Term(13.1875,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 14 tiles: max |error| 0.5%; on 4 held-out tiles 0.2%',
                    'python tools/calibrate_cycles.py'),
    },
    'conv2d': {
        'per_tile': Term(1486.4442,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 22 tiles: max |error| 2.5%; on 3 held-out tiles 0.5%',
                    'python tools/calibrate_cycles.py'),
        'per_mac': Term(5.9328,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 22 tiles: max |error| 2.5%; on 3 held-out tiles 0.5%',
                    'python tools/calibrate_cycles.py'),
        'per_edge_mac': Term(2.8573,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 22 tiles: max |error| 2.5%; on 3 held-out tiles 0.5%',
                    'python tools/calibrate_cycles.py'),
        'per_output': Term(102.0136,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 22 tiles: max |error| 2.5%; on 3 held-out tiles 0.5%',
                    'python tools/calibrate_cycles.py'),
        'per_edge_output': Term(7.8511,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 22 tiles: max |error| 2.5%; on 3 held-out tiles 0.5%',
                    'python tools/calibrate_cycles.py'),
        'per_im2col': Term(14.8713,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 22 tiles: max |error| 2.5%; on 3 held-out tiles 0.5%',
                    'python tools/calibrate_cycles.py'),
        'per_kernel_row': Term(61.8537,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 22 tiles: max |error| 2.5%; on 3 held-out tiles 0.5%',
                    'python tools/calibrate_cycles.py'),
        'per_gemm_call': Term(149.1327,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 22 tiles: max |error| 2.5%; on 3 held-out tiles 0.5%',
                    'python tools/calibrate_cycles.py'),
        'per_weight_scan': Term(13.4357,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 22 tiles: max |error| 2.5%; on 3 held-out tiles 0.5%',
                    'python tools/calibrate_cycles.py'),
        'per_row_scan': Term(6.6903,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 22 tiles: max |error| 2.5%; on 3 held-out tiles 0.5%',
                    'python tools/calibrate_cycles.py'),
    },
    'conv2d_gw': {
        'per_tile': Term(56.5798,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 18 tiles: max |error| 5.0%; on 2 held-out tiles 2.8%',
                    'python tools/calibrate_cycles.py'),
        'per_mac': Term(5.4048,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 18 tiles: max |error| 5.0%; on 2 held-out tiles 2.8%',
                    'python tools/calibrate_cycles.py'),
        'per_block': Term(401.5311,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 18 tiles: max |error| 5.0%; on 2 held-out tiles 2.8%',
                    'python tools/calibrate_cycles.py'),
        'per_im2col': Term(5.741,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 18 tiles: max |error| 5.0%; on 2 held-out tiles 2.8%',
                    'python tools/calibrate_cycles.py'),
        'per_delta': Term(13.7023,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 18 tiles: max |error| 5.0%; on 2 held-out tiles 2.8%',
                    'python tools/calibrate_cycles.py'),
        'per_scan': Term(19.4433,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 18 tiles: max |error| 5.0%; on 2 held-out tiles 2.8%',
                    'python tools/calibrate_cycles.py'),
        'per_chunk': Term(2071.5582,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 18 tiles: max |error| 5.0%; on 2 held-out tiles 2.8%',
                    'python tools/calibrate_cycles.py'),
        'per_weight': Term(15.7532,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 18 tiles: max |error| 5.0%; on 2 held-out tiles 2.8%',
                    'python tools/calibrate_cycles.py'),
    },
    'conv2d_gw_reduce': {
        'per_tile': Term(184.5531,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 10 tiles: max |error| 0.7%; on 2 held-out tiles 0.4%',
                    'python tools/calibrate_cycles.py'),
        'per_term': Term(10.9254,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 10 tiles: max |error| 0.7%; on 2 held-out tiles 0.4%',
                    'python tools/calibrate_cycles.py'),
        'per_output': Term(78.5894,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 10 tiles: max |error| 0.7%; on 2 held-out tiles 0.4%',
                    'python tools/calibrate_cycles.py'),
    },
    'conv2d_pack': {
        'per_tile': Term(178.8357,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 12 tiles: max |error| 1.2%; on 2 held-out tiles 1.8%',
                    'python tools/calibrate_cycles.py'),
        'per_row': Term(46.8921,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 12 tiles: max |error| 1.2%; on 2 held-out tiles 1.8%',
                    'python tools/calibrate_cycles.py'),
        'per_tap': Term(29.6594,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 12 tiles: max |error| 1.2%; on 2 held-out tiles 1.8%',
                    'python tools/calibrate_cycles.py'),
        'per_value_forward': Term(20.0576,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 12 tiles: max |error| 1.2%; on 2 held-out tiles 1.8%',
                    'python tools/calibrate_cycles.py'),
        'per_value_flipped': Term(20.1804,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 12 tiles: max |error| 1.2%; on 2 held-out tiles 1.8%',
                    'python tools/calibrate_cycles.py'),
    },
    'avg_pool': {
        'per_tile': Term(48.4674,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 20 tiles: max |error| 2.3%; on 2 held-out tiles 3.4%',
                    'python tools/calibrate_cycles.py'),
        'per_row': Term(398.1059,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 20 tiles: max |error| 2.3%; on 2 held-out tiles 3.4%',
                    'python tools/calibrate_cycles.py'),
        'per_window_row': Term(-21.4892,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 20 tiles: max |error| 2.3%; on 2 held-out tiles 3.4%',
                    'python tools/calibrate_cycles.py'),
        'per_output': Term(61.2731,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 20 tiles: max |error| 2.3%; on 2 held-out tiles 3.4%',
                    'python tools/calibrate_cycles.py'),
        'per_scaled_output': Term(8.86,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 20 tiles: max |error| 2.3%; on 2 held-out tiles 3.4%',
                    'python tools/calibrate_cycles.py'),
        'per_window_position': Term(20.2477,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 20 tiles: max |error| 2.3%; on 2 held-out tiles 3.4%',
                    'python tools/calibrate_cycles.py'),
        'per_window_value': Term(8.5012,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 20 tiles: max |error| 2.3%; on 2 held-out tiles 3.4%',
                    'python tools/calibrate_cycles.py'),
        'per_stochastic_output': Term(18.6775,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 20 tiles: max |error| 2.3%; on 2 held-out tiles 3.4%',
                    'python tools/calibrate_cycles.py'),
    },
    'max_pool': {
        'per_tile': Term(48.176,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 20 tiles: max |error| 1.9%; on 2 held-out tiles 1.0%',
                    'python tools/calibrate_cycles.py'),
        'per_row': Term(-15.1563,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 20 tiles: max |error| 1.9%; on 2 held-out tiles 1.0%',
                    'python tools/calibrate_cycles.py'),
        'per_window_row': Term(134.0408,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 20 tiles: max |error| 1.9%; on 2 held-out tiles 1.0%',
                    'python tools/calibrate_cycles.py'),
        'per_output': Term(1.3576,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 20 tiles: max |error| 1.9%; on 2 held-out tiles 1.0%',
                    'python tools/calibrate_cycles.py'),
        'per_scaled_output': Term(0.0,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 20 tiles: max |error| 1.9%; on 2 held-out tiles 1.0%',
                    'python tools/calibrate_cycles.py'),
        'per_window_position': Term(14.7555,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 20 tiles: max |error| 1.9%; on 2 held-out tiles 1.0%',
                    'python tools/calibrate_cycles.py'),
        'per_window_value': Term(16.0438,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 20 tiles: max |error| 1.9%; on 2 held-out tiles 1.0%',
                    'python tools/calibrate_cycles.py'),
        'per_stochastic_output': Term(0.0,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 20 tiles: max |error| 1.9%; on 2 held-out tiles 1.0%',
                    'python tools/calibrate_cycles.py'),
    },
    'avg_pool_grad': {
        'per_tile': Term(174.1408,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 20 tiles: max |error| 1.8%; on 2 held-out tiles 3.3%',
                    'python tools/calibrate_cycles.py'),
        'per_row': Term(412.7587,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 20 tiles: max |error| 1.8%; on 2 held-out tiles 3.3%',
                    'python tools/calibrate_cycles.py'),
        'per_image': Term(12.5489,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 20 tiles: max |error| 1.8%; on 2 held-out tiles 3.3%',
                    'python tools/calibrate_cycles.py'),
        'per_input': Term(53.2211,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 20 tiles: max |error| 1.8%; on 2 held-out tiles 3.3%',
                    'python tools/calibrate_cycles.py'),
        'per_scaled_input': Term(19.4555,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 20 tiles: max |error| 1.8%; on 2 held-out tiles 3.3%',
                    'python tools/calibrate_cycles.py'),
        'per_round_block': Term(273.7749,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 20 tiles: max |error| 1.8%; on 2 held-out tiles 3.3%',
                    'python tools/calibrate_cycles.py'),
        'per_hit_row': Term(-233.4236,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 20 tiles: max |error| 1.8%; on 2 held-out tiles 3.3%',
                    'python tools/calibrate_cycles.py'),
        'per_scatter_position': Term(36.4858,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 20 tiles: max |error| 1.8%; on 2 held-out tiles 3.3%',
                    'python tools/calibrate_cycles.py'),
        'per_scattered': Term(11.4061,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 20 tiles: max |error| 1.8%; on 2 held-out tiles 3.3%',
                    'python tools/calibrate_cycles.py'),
        'per_stochastic_input': Term(20.9325,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 20 tiles: max |error| 1.8%; on 2 held-out tiles 3.3%',
                    'python tools/calibrate_cycles.py'),
    },
    'max_pool_grad': {
        'per_tile': Term(278.6493,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 20 tiles: max |error| 1.1%; on 2 held-out tiles 0.7%',
                    'python tools/calibrate_cycles.py'),
        'per_row': Term(-61.1589,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 20 tiles: max |error| 1.1%; on 2 held-out tiles 0.7%',
                    'python tools/calibrate_cycles.py'),
        'per_image': Term(115.7897,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 20 tiles: max |error| 1.1%; on 2 held-out tiles 0.7%',
                    'python tools/calibrate_cycles.py'),
        'per_input': Term(61.1419,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 20 tiles: max |error| 1.1%; on 2 held-out tiles 0.7%',
                    'python tools/calibrate_cycles.py'),
        'per_scaled_input': Term(0.0,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 20 tiles: max |error| 1.1%; on 2 held-out tiles 0.7%',
                    'python tools/calibrate_cycles.py'),
        'per_round_block': Term(115.0408,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 20 tiles: max |error| 1.1%; on 2 held-out tiles 0.7%',
                    'python tools/calibrate_cycles.py'),
        'per_hit_row': Term(146.1293,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 20 tiles: max |error| 1.1%; on 2 held-out tiles 0.7%',
                    'python tools/calibrate_cycles.py'),
        'per_scatter_position': Term(29.1389,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 20 tiles: max |error| 1.1%; on 2 held-out tiles 0.7%',
                    'python tools/calibrate_cycles.py'),
        'per_scattered': Term(12.4985,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 20 tiles: max |error| 1.1%; on 2 held-out tiles 0.7%',
                    'python tools/calibrate_cycles.py'),
        'per_stochastic_input': Term(0.0,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 20 tiles: max |error| 1.1%; on 2 held-out tiles 0.7%',
                    'python tools/calibrate_cycles.py'),
    },
    'copy': {
        'per_tile': Term(12.3135,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 14 tiles: max |error| 24.6%; on 3 held-out tiles 4.2%',
                    'python tools/calibrate_cycles.py'),
        'per_contiguous': Term(7.6385,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 14 tiles: max |error| 24.6%; on 3 held-out tiles 4.2%',
                    'python tools/calibrate_cycles.py'),
        'per_strided': Term(7.7786,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 14 tiles: max |error| 24.6%; on 3 held-out tiles 4.2%',
                    'python tools/calibrate_cycles.py'),
        'per_contiguous_run': Term(11.7708,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 14 tiles: max |error| 24.6%; on 3 held-out tiles 4.2%',
                    'python tools/calibrate_cycles.py'),
        'per_strided_run': Term(21.6421,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 14 tiles: max |error| 24.6%; on 3 held-out tiles 4.2%',
                    'python tools/calibrate_cycles.py'),
        'per_fill': Term(4.8851,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 14 tiles: max |error| 24.6%; on 3 held-out tiles 4.2%',
                    'python tools/calibrate_cycles.py'),
    },
    'gather': {
        'per_tile': Term(19.0,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 5 tiles: max |error| 0.0%; on 2 held-out tiles 0.0%',
                    'python tools/calibrate_cycles.py'),
        'per_row': Term(13.0,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 5 tiles: max |error| 0.0%; on 2 held-out tiles 0.0%',
                    'python tools/calibrate_cycles.py'),
        'per_elem': Term(7.0,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 5 tiles: max |error| 0.0%; on 2 held-out tiles 0.0%',
                    'python tools/calibrate_cycles.py'),
    },
    'requant': {
        'per_tile': Term(27.0,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 5 tiles: max |error| 0.0%; on 2 held-out tiles 0.0%',
                    'python tools/calibrate_cycles.py'),
        'per_elem': Term(61.0,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 5 tiles: max |error| 0.0%; on 2 held-out tiles 0.0%',
                    'python tools/calibrate_cycles.py'),
        'per_stochastic': Term(21.0,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 5 tiles: max |error| 0.0%; on 2 held-out tiles 0.0%',
                    'python tools/calibrate_cycles.py'),
    },
    'eltwise': {
        'per_tile': Term(413.1406,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 54 tiles: max |error| 2.9%; on 18 held-out tiles 3.7%',
                    'python tools/calibrate_cycles.py'),
        'per_stochastic': Term(19.3114,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 54 tiles: max |error| 2.9%; on 18 held-out tiles 3.7%',
                    'python tools/calibrate_cycles.py'),
        'per_elem_add': Term(80.0522,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 54 tiles: max |error| 2.9%; on 18 held-out tiles 3.7%',
                    'python tools/calibrate_cycles.py'),
        'per_elem_subtract': Term(79.6701,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 54 tiles: max |error| 2.9%; on 18 held-out tiles 3.7%',
                    'python tools/calibrate_cycles.py'),
        'per_elem_multiply': Term(79.7337,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 54 tiles: max |error| 2.9%; on 18 held-out tiles 3.7%',
                    'python tools/calibrate_cycles.py'),
        'per_elem_divide': Term(542.7781,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 54 tiles: max |error| 2.9%; on 18 held-out tiles 3.7%',
                    'python tools/calibrate_cycles.py'),
        'per_elem_maximum': Term(80.4631,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 54 tiles: max |error| 2.9%; on 18 held-out tiles 3.7%',
                    'python tools/calibrate_cycles.py'),
        'per_elem_minimum': Term(80.1863,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 54 tiles: max |error| 2.9%; on 18 held-out tiles 3.7%',
                    'python tools/calibrate_cycles.py'),
        'per_elem_less': Term(32.7785,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 54 tiles: max |error| 2.9%; on 18 held-out tiles 3.7%',
                    'python tools/calibrate_cycles.py'),
        'per_elem_less_equal': Term(32.7319,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 54 tiles: max |error| 2.9%; on 18 held-out tiles 3.7%',
                    'python tools/calibrate_cycles.py'),
        'per_elem_greater': Term(32.6913,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 54 tiles: max |error| 2.9%; on 18 held-out tiles 3.7%',
                    'python tools/calibrate_cycles.py'),
        'per_elem_greater_equal': Term(32.6009,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 54 tiles: max |error| 2.9%; on 18 held-out tiles 3.7%',
                    'python tools/calibrate_cycles.py'),
        'per_elem_equal': Term(31.9166,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 54 tiles: max |error| 2.9%; on 18 held-out tiles 3.7%',
                    'python tools/calibrate_cycles.py'),
        'per_elem_not_equal': Term(31.8741,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 54 tiles: max |error| 2.9%; on 18 held-out tiles 3.7%',
                    'python tools/calibrate_cycles.py'),
        'per_elem_where': Term(91.5465,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 54 tiles: max |error| 2.9%; on 18 held-out tiles 3.7%',
                    'python tools/calibrate_cycles.py'),
        'per_elem_negative': Term(73.646,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 54 tiles: max |error| 2.9%; on 18 held-out tiles 3.7%',
                    'python tools/calibrate_cycles.py'),
        'per_elem_abs': Term(72.7509,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 54 tiles: max |error| 2.9%; on 18 held-out tiles 3.7%',
                    'python tools/calibrate_cycles.py'),
        'per_elem_square': Term(72.4481,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 54 tiles: max |error| 2.9%; on 18 held-out tiles 3.7%',
                    'python tools/calibrate_cycles.py'),
        'per_elem_clip': Term(80.7266,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 54 tiles: max |error| 2.9%; on 18 held-out tiles 3.7%',
                    'python tools/calibrate_cycles.py'),
        'per_elem_axpby': Term(104.5939,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 54 tiles: max |error| 2.9%; on 18 held-out tiles 3.7%',
                    'python tools/calibrate_cycles.py'),
        'per_stochastic_clip': Term(16.853,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 54 tiles: max |error| 2.9%; on 18 held-out tiles 3.7%',
                    'python tools/calibrate_cycles.py'),
    },
    'lut': {
        'per_tile': Term(-248.8539,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 20 tiles: max |error| 8.1%; on 5 held-out tiles 2.6%',
                    'python tools/calibrate_cycles.py'),
        'per_stochastic': Term(14.898,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 20 tiles: max |error| 8.1%; on 5 held-out tiles 2.6%',
                    'python tools/calibrate_cycles.py'),
        'per_elem_exp': Term(127.8406,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 20 tiles: max |error| 8.1%; on 5 held-out tiles 2.6%',
                    'python tools/calibrate_cycles.py'),
        'per_elem_log': Term(64.2462,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 20 tiles: max |error| 8.1%; on 5 held-out tiles 2.6%',
                    'python tools/calibrate_cycles.py'),
        'per_elem_tanh': Term(110.663,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 20 tiles: max |error| 8.1%; on 5 held-out tiles 2.6%',
                    'python tools/calibrate_cycles.py'),
        'per_elem_sigmoid': Term(106.169,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 20 tiles: max |error| 8.1%; on 5 held-out tiles 2.6%',
                    'python tools/calibrate_cycles.py'),
        'per_elem_sqrt': Term(336.1111,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 20 tiles: max |error| 8.1%; on 5 held-out tiles 2.6%',
                    'python tools/calibrate_cycles.py'),
    },
    'optim': {
        'per_tile': Term(116.2548,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 9 tiles: max |error| 0.3%; on 3 held-out tiles 1.0%',
                    'python tools/calibrate_cycles.py'),
        'per_stochastic': Term(-1.2973,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 9 tiles: max |error| 0.3%; on 3 held-out tiles 1.0%',
                    'python tools/calibrate_cycles.py'),
        'per_elem_sgd': Term(106.1509,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 9 tiles: max |error| 0.3%; on 3 held-out tiles 1.0%',
                    'python tools/calibrate_cycles.py'),
        'per_elem_sgd_momentum': Term(210.7067,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 9 tiles: max |error| 0.3%; on 3 held-out tiles 1.0%',
                    'python tools/calibrate_cycles.py'),
        'per_elem_adam': Term(464.1241,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 9 tiles: max |error| 0.3%; on 3 held-out tiles 1.0%',
                    'python tools/calibrate_cycles.py'),
    },
    'reduce': {
        'per_tile': Term(747.5884,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 48 tiles: max |error| 2.8%; on 6 held-out tiles 1.2%',
                    'python tools/calibrate_cycles.py'),
        'per_stochastic': Term(23.9732,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 48 tiles: max |error| 2.8%; on 6 held-out tiles 1.2%',
                    'python tools/calibrate_cycles.py'),
        'per_row': Term(99.3611,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 48 tiles: max |error| 2.8%; on 6 held-out tiles 1.2%',
                    'python tools/calibrate_cycles.py'),
        'per_input_sum': Term(8.7211,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 48 tiles: max |error| 2.8%; on 6 held-out tiles 1.2%',
                    'python tools/calibrate_cycles.py'),
        'per_output_sum': Term(80.6947,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 48 tiles: max |error| 2.8%; on 6 held-out tiles 1.2%',
                    'python tools/calibrate_cycles.py'),
        'per_row_step_sum': Term(2.1814,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 48 tiles: max |error| 2.8%; on 6 held-out tiles 1.2%',
                    'python tools/calibrate_cycles.py'),
        'per_input_mean': Term(8.6604,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 48 tiles: max |error| 2.8%; on 6 held-out tiles 1.2%',
                    'python tools/calibrate_cycles.py'),
        'per_output_mean': Term(102.5684,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 48 tiles: max |error| 2.8%; on 6 held-out tiles 1.2%',
                    'python tools/calibrate_cycles.py'),
        'per_row_step_mean': Term(2.2726,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 48 tiles: max |error| 2.8%; on 6 held-out tiles 1.2%',
                    'python tools/calibrate_cycles.py'),
        'per_input_max': Term(16.9939,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 48 tiles: max |error| 2.8%; on 6 held-out tiles 1.2%',
                    'python tools/calibrate_cycles.py'),
        'per_output_max': Term(76.5652,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 48 tiles: max |error| 2.8%; on 6 held-out tiles 1.2%',
                    'python tools/calibrate_cycles.py'),
        'per_row_step_max': Term(6.7569,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 48 tiles: max |error| 2.8%; on 6 held-out tiles 1.2%',
                    'python tools/calibrate_cycles.py'),
        'per_input_min': Term(16.9939,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 48 tiles: max |error| 2.8%; on 6 held-out tiles 1.2%',
                    'python tools/calibrate_cycles.py'),
        'per_output_min': Term(76.5652,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 48 tiles: max |error| 2.8%; on 6 held-out tiles 1.2%',
                    'python tools/calibrate_cycles.py'),
        'per_row_step_min': Term(6.7569,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 48 tiles: max |error| 2.8%; on 6 held-out tiles 1.2%',
                    'python tools/calibrate_cycles.py'),
        'per_input_argmax': Term(16.9939,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 48 tiles: max |error| 2.8%; on 6 held-out tiles 1.2%',
                    'python tools/calibrate_cycles.py'),
        'per_output_argmax': Term(76.5652,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 48 tiles: max |error| 2.8%; on 6 held-out tiles 1.2%',
                    'python tools/calibrate_cycles.py'),
        'per_row_step_argmax': Term(6.7569,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 48 tiles: max |error| 2.8%; on 6 held-out tiles 1.2%',
                    'python tools/calibrate_cycles.py'),
        'per_input_argmin': Term(16.9939,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 48 tiles: max |error| 2.8%; on 6 held-out tiles 1.2%',
                    'python tools/calibrate_cycles.py'),
        'per_output_argmin': Term(76.5652,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 48 tiles: max |error| 2.8%; on 6 held-out tiles 1.2%',
                    'python tools/calibrate_cycles.py'),
        'per_row_step_argmin': Term(6.7569,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 48 tiles: max |error| 2.8%; on 6 held-out tiles 1.2%',
                    'python tools/calibrate_cycles.py'),
        'per_call_mean': Term(32.8286,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 48 tiles: max |error| 2.8%; on 6 held-out tiles 1.2%',
                    'python tools/calibrate_cycles.py'),
    },
    'softmax': {
        'per_tile': Term(59.0319,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 14 tiles: max |error| 0.7%; on 2 held-out tiles 0.1%',
                    'python tools/calibrate_cycles.py'),
        'per_row_softmax': Term(540.7995,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 14 tiles: max |error| 0.7%; on 2 held-out tiles 0.1%',
                    'python tools/calibrate_cycles.py'),
        'per_elem_softmax': Term(225.6699,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 14 tiles: max |error| 0.7%; on 2 held-out tiles 0.1%',
                    'python tools/calibrate_cycles.py'),
        'per_row_logsumexp': Term(118.3475,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 14 tiles: max |error| 0.7%; on 2 held-out tiles 0.1%',
                    'python tools/calibrate_cycles.py'),
        'per_elem_logsumexp': Term(88.1098,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 14 tiles: max |error| 0.7%; on 2 held-out tiles 0.1%',
                    'python tools/calibrate_cycles.py'),
        'per_stochastic_output': Term(30.501,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 14 tiles: max |error| 0.7%; on 2 held-out tiles 0.1%',
                    'python tools/calibrate_cycles.py'),
    },
    'warp': {
        'per_tile': Term(254.5249,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 12 tiles: max |error| 5.0%; on 2 held-out tiles 2.9%',
                    'python tools/calibrate_cycles.py'),
        'per_sample': Term(-462.2386,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 12 tiles: max |error| 5.0%; on 2 held-out tiles 2.9%',
                    'python tools/calibrate_cycles.py'),
        'per_row': Term(21.4447,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 12 tiles: max |error| 5.0%; on 2 held-out tiles 2.9%',
                    'python tools/calibrate_cycles.py'),
        'per_pixel': Term(77.7724,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 12 tiles: max |error| 5.0%; on 2 held-out tiles 2.9%',
                    'python tools/calibrate_cycles.py'),
        'per_elem': Term(34.4417,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 12 tiles: max |error| 5.0%; on 2 held-out tiles 2.9%',
                    'python tools/calibrate_cycles.py'),
    },
}
# END TABLE
