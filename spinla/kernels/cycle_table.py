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

from .. import abi


@dataclass(frozen=True)
class Term:
    value: float
    how: str
    command: str


def _ceil_div(a, b):
    return np.ceil(np.asarray(a, np.float64) / b)


# --- the formulas: features per tile (NumPy arrays or scalars) ---------------------------------

# The portable GEMM's register blocks (gemm_q15.c): rows in 3 x 2 blocks, the last m mod 3 rows
# (4 when m mod 3 = 1; every row when k is odd) in 2 x 2 blocks; a column past an odd n, and
# every block of a tile with an odd row stride, on the exact SMLALxy path.  The shape of the
# formula, not a fitted value: change it with the kernel, then re-run the fit.  GEMM_UNROLL:
# k-pairs per pass of the 3 x 2 loop.
GEMM_UNROLL = 8
# Columns per block of reduce_q15.c's column loop (spinla.h SPL_REDUCE_COLS): the shape of
# reduce_part's formula, read from the header.
RED_COLS = abi.const("SPL_REDUCE_COLS")


def _rows3(m, k):
    """Rows in 3 x 2 blocks and rows in 2 x 2 blocks (gemm_pairs_nearest's split)."""
    m, k = np.asarray(m, np.float64), np.asarray(k, np.float64)
    r = np.mod(m, 3)
    m3 = np.where(r == 1, np.where(m >= 4, m - 4, 0), m - r)
    m3 = np.where(np.mod(k, 2) == 1, 0, m3)
    m2 = m3 + (m - m3) - np.mod(m - m3, 2)
    return m3, m2 - m3


def _gemm_features(m, n, k, ld):
    """The GEMM's paths (gemm_q15.c) for small data: with an even row stride ld (pair loads),
    rows in 3 x 2 and 2 x 2 blocks summed in int32 (overflow caught by the Q flag, no operand
    scan) with the 32-bit rounding, an odd last row or column on the exact path with
    spl_requant_q63; with an odd ld every block on the exact path (halfword loads)."""
    m, n, k = (np.asarray(v, np.float64) for v in (m, n, k))
    pairs = np.mod(np.asarray(ld, np.float64), 2) == 0
    m3, m2x2 = _rows3(m, k)
    n2 = n - np.mod(n, 2)
    mdone = m3 + m2x2
    edge_out = m * n - mdone * n2
    edge_blocks = _ceil_div(m, 2) * _ceil_div(n, 2) - (mdone * n2) / 4
    edge_blocks = np.maximum(edge_blocks, 0) * (edge_out > 0)
    blocks = _ceil_div(m, 2) * _ceil_div(n, 2)
    passes = _ceil_div(np.floor(k / 2), GEMM_UNROLL)  # of the 3 x 2 loop, per block
    return dict(per_tile=1.0, per_mac_3x2=m3 * n2 * k * pairs,
                per_mac_2x2=m2x2 * n2 * k * pairs, per_pass=m3 / 3 * n2 / 2 * passes * pairs,
                per_output=mdone * n2 * pairs, per_output_2x2=m2x2 * n2 * pairs,
                per_edge_block_k=edge_blocks * k * pairs, per_edge_block=edge_blocks * pairs,
                per_edge_output=edge_out * pairs,
                per_halves_block_k=blocks * k * ~pairs, per_halves_output=m * n * ~pairs)


def gemm(m, n, k, stochastic=0):
    """A and Bt rows are k long (lda = ldb = k, spinla/kernels/gemm.py).  stochastic: 1 for
    stochastic rounding, where every output takes the out-of-line rounding with its hash
    (gemm_q15.c rq32_out; nearest is inlined in the 3 x 2 blocks): a term of its own."""
    f = _gemm_features(m, n, k, k)
    f["per_output_stochastic"] = (np.asarray(m, np.float64) * np.asarray(n, np.float64)
                                  * np.asarray(stochastic, np.float64))
    return f


def conv2d(pix, ct, k, ldw, kh, rows, n6=0, n4=0, parts=0, stochastic=0):
    """pix output pixels x ct channels; k = kh*kw*cin, ldw the packed row stride; rows: scratch
    rows per GEMM call (the GEMM's m).  The GEMM runs over k rounded up to even (kg: the pair
    loads; conv2d_q15.c), not over ldw.  No overflow scan: the GEMM's int32 sums are checked by
    the Q flag (spinla_c/spl_dsp.h).  n6, n4, parts: the 6- and 4-pixel blocks and row parts of
    a tile on the direct cin = 1 path (spinla.kernels.conv.direct_blocks; 0: the im2col path),
    which has terms of its own.  stochastic: 1 for stochastic rounding (the input gradients;
    the GEMM's out-of-line rounding per output, as in gemm())."""
    pix, k, ldw = (np.asarray(v, np.float64) for v in (pix, k, ldw))
    n6, n4, parts = (np.asarray(v, np.float64) for v in (n6, n4, parts))
    direct = (n6 + n4) > 0
    gemm = ~direct
    kg = k + (np.mod(k, 2) * (ldw > k))
    calls = _ceil_div(pix, rows)
    full, last = np.floor(pix / rows), np.mod(pix, rows)
    g_full = _gemm_features(rows, ct, kg, ldw)
    g_last = _gemm_features(last, ct, kg, ldw)
    # (no per-edge-block term: in a conv tile the edge blocks are nearly all one odd channel
    # column, so it is collinear with the edge outputs and the fit trades them off wildly)
    f = {name: (full * g_full[name] + g_last[name] * (last > 0)) * gemm for name in g_full
         if name not in ("per_tile", "per_edge_block")}
    # An im2col row is kh runs of kw * cin values (k / kh), copied in words when source and
    # destination share their alignment: with kw * cin odd they drift apart from run to run
    # and from pixel to pixel, and about half the runs are copied a halfword at a time.
    run = k / np.asarray(kh, np.float64)
    odd_run = np.mod(run, 2)
    f.update(per_tile=1.0 * gemm, per_im2col=pix * k * gemm,
             per_im2col_odd_run=pix * k * odd_run * gemm, per_pixel=pix * gemm,
             per_kernel_row=pix * kh * gemm, per_gemm_call=calls * gemm,
             per_output_stochastic=pix * ct * np.asarray(stochastic, np.float64) * gemm)
    # The direct path: a set-up and the weights' copy (ct * kh rows), then per block and
    # channel kh kernel rows of 6 or 4 pixels and the rounding of its outputs, per block and
    # row part a little bookkeeping.
    ctf = np.asarray(ct, np.float64)
    f.update(per_direct_tile=1.0 * direct, per_direct_weight_row=ctf * kh * direct,
             per_direct_row6=n6 * ctf * kh, per_direct_row4=n4 * ctf * kh,
             per_direct_channel6=n6 * ctf, per_direct_channel4=n4 * ctf,
             per_direct_block=n6 + n4, per_direct_part=parts)
    return f


def conv2d_gw(pix, ct, k, cols):
    """pix pixels x ct channels of a k-row weight gradient, cols pixels per chunk: the dot over
    pixels runs the GEMM's 2 x 2 block (conv2d_q15.c accum_abt) over k and ct rounded up to
    even, in int32 with the Q-flag check (no operand scan, no byte split)."""
    chunks = _ceil_div(pix, cols)
    k2, c2 = 2 * _ceil_div(k, 2), 2 * _ceil_div(ct, 2)
    return dict(per_tile=1.0, per_mac=pix * k2 * c2, per_block=chunks * k2 * c2 / 4,
                per_im2col=pix * k, per_pixel=pix, per_delta=pix * ct, per_chunk=chunks,
                per_weight=k * ct)


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


def reduce_part(rows, m, n, ld):
    """A split sum's partial tile (arm_reduce_q15 with rq NULL, spinla_c/reduce_q15.c): rows x m
    int64 sums over n inputs, the input's rows ld apart (the sum's inner length).  sum_cols runs
    once per row and block of RED_COLS columns, its k loop once per input row of a block; a
    single column of a contiguous input (m = ld = 1) takes its scalar loop instead.  Its int32
    chunks of 65535 input rows are not a term (each adds a few cycles per column: under 0.1 %
    of the chunk's own per-input cycles)."""
    blocks = rows * _ceil_div(m, RED_COLS)
    scalar = (np.asarray(m) == 1) & (np.asarray(ld) == 1)
    return dict(per_tile=1.0, per_row=rows, per_block=blocks,
                per_block_step=blocks * n * ~scalar, per_input=rows * m * n * ~scalar,
                per_input_scalar=rows * n * scalar, per_output=rows * m)


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
    "eltwise": elementwise_by(EW_OPS, "per_elem_", ("clip", "multiply", "divide")), "lut": elementwise_by(LUT_FNS, "per_elem_"),
    "optim": elementwise_by(OPTIMISERS, "per_elem_", OPTIMISERS), "reduce": reduce,
    "reduce_part": reduce_part, "softmax": softmax,
    "warp": warp,
}


# Set by tools/calibrate_cycles.py while it refits: a term (or family) the formulas gained
# since the last fit counts as 0 until the fit gives it a value (the calibration runs a
# training step, whose planner asks for cycles, to find LeNet-5's tiles).  Never set otherwise.
CALIBRATING = False


def predict(family: str, **dims):
    """Cycles of tiles of `family` (NumPy arrays broadcast) by its formula and TABLE."""
    terms = TABLE.get(family, {}) if CALIBRATING else TABLE[family]
    feats = FEATURES[family](**dims)
    missing = set(feats) - set(terms)
    if missing and not CALIBRATING:
        raise KeyError(f"cycle_table: {family} has no value for {sorted(missing)}: re-run "
                       f"tools/calibrate_cycles.py")
    total = np.zeros(np.broadcast_shapes(*(np.shape(f) for f in feats.values())))
    for name, f in feats.items():
        if name in terms:
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
        'per_tile': Term(474.8182,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 30 tiles: max |error| 7.9%; on 7 held-out tiles 2.4%',
                    'python tools/calibrate_cycles.py'),
        'per_mac_3x2': Term(1.7516,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 30 tiles: max |error| 7.9%; on 7 held-out tiles 2.4%',
                    'python tools/calibrate_cycles.py'),
        'per_mac_2x2': Term(1.5541,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 30 tiles: max |error| 7.9%; on 7 held-out tiles 2.4%',
                    'python tools/calibrate_cycles.py'),
        'per_pass': Term(-25.875,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 30 tiles: max |error| 7.9%; on 7 held-out tiles 2.4%',
                    'python tools/calibrate_cycles.py'),
        'per_output': Term(24.0987,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 30 tiles: max |error| 7.9%; on 7 held-out tiles 2.4%',
                    'python tools/calibrate_cycles.py'),
        'per_output_2x2': Term(57.9102,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 30 tiles: max |error| 7.9%; on 7 held-out tiles 2.4%',
                    'python tools/calibrate_cycles.py'),
        'per_edge_block_k': Term(12.2492,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 30 tiles: max |error| 7.9%; on 7 held-out tiles 2.4%',
                    'python tools/calibrate_cycles.py'),
        'per_edge_block': Term(-314.4506,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 30 tiles: max |error| 7.9%; on 7 held-out tiles 2.4%',
                    'python tools/calibrate_cycles.py'),
        'per_edge_output': Term(442.4431,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 30 tiles: max |error| 7.9%; on 7 held-out tiles 2.4%',
                    'python tools/calibrate_cycles.py'),
        'per_halves_block_k': Term(36.4682,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 30 tiles: max |error| 7.9%; on 7 held-out tiles 2.4%',
                    'python tools/calibrate_cycles.py'),
        'per_halves_output': Term(144.8943,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 30 tiles: max |error| 7.9%; on 7 held-out tiles 2.4%',
                    'python tools/calibrate_cycles.py'),
        'per_output_stochastic': Term(40.2558,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 30 tiles: max |error| 7.9%; on 7 held-out tiles 2.4%',
                    'python tools/calibrate_cycles.py'),
    },
    'conv2d': {
        'per_mac_3x2': Term(1.9396,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 53 tiles: max |error| 21.5%; on 3 held-out tiles 1.3%',
                    'python tools/calibrate_cycles.py'),
        'per_mac_2x2': Term(1.4617,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 53 tiles: max |error| 21.5%; on 3 held-out tiles 1.3%',
                    'python tools/calibrate_cycles.py'),
        'per_pass': Term(-58.4626,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 53 tiles: max |error| 21.5%; on 3 held-out tiles 1.3%',
                    'python tools/calibrate_cycles.py'),
        'per_output': Term(28.5048,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 53 tiles: max |error| 21.5%; on 3 held-out tiles 1.3%',
                    'python tools/calibrate_cycles.py'),
        'per_output_2x2': Term(86.5385,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 53 tiles: max |error| 21.5%; on 3 held-out tiles 1.3%',
                    'python tools/calibrate_cycles.py'),
        'per_edge_block_k': Term(16.7071,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 53 tiles: max |error| 21.5%; on 3 held-out tiles 1.3%',
                    'python tools/calibrate_cycles.py'),
        'per_edge_output': Term(288.6181,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 53 tiles: max |error| 21.5%; on 3 held-out tiles 1.3%',
                    'python tools/calibrate_cycles.py'),
        'per_halves_block_k': Term(35.1477,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 53 tiles: max |error| 21.5%; on 3 held-out tiles 1.3%',
                    'python tools/calibrate_cycles.py'),
        'per_halves_output': Term(174.3393,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 53 tiles: max |error| 21.5%; on 3 held-out tiles 1.3%',
                    'python tools/calibrate_cycles.py'),
        'per_tile': Term(455.5087,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 53 tiles: max |error| 21.5%; on 3 held-out tiles 1.3%',
                    'python tools/calibrate_cycles.py'),
        'per_im2col': Term(3.8762,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 53 tiles: max |error| 21.5%; on 3 held-out tiles 1.3%',
                    'python tools/calibrate_cycles.py'),
        'per_im2col_odd_run': Term(-1.1849,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 53 tiles: max |error| 21.5%; on 3 held-out tiles 1.3%',
                    'python tools/calibrate_cycles.py'),
        'per_pixel': Term(59.0275,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 53 tiles: max |error| 21.5%; on 3 held-out tiles 1.3%',
                    'python tools/calibrate_cycles.py'),
        'per_kernel_row': Term(86.8901,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 53 tiles: max |error| 21.5%; on 3 held-out tiles 1.3%',
                    'python tools/calibrate_cycles.py'),
        'per_gemm_call': Term(-30.9526,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 53 tiles: max |error| 21.5%; on 3 held-out tiles 1.3%',
                    'python tools/calibrate_cycles.py'),
        'per_output_stochastic': Term(33.3917,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 53 tiles: max |error| 21.5%; on 3 held-out tiles 1.3%',
                    'python tools/calibrate_cycles.py'),
        'per_direct_tile': Term(354.5754,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 53 tiles: max |error| 21.5%; on 3 held-out tiles 1.3%',
                    'python tools/calibrate_cycles.py'),
        'per_direct_weight_row': Term(13.5056,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 53 tiles: max |error| 21.5%; on 3 held-out tiles 1.3%',
                    'python tools/calibrate_cycles.py'),
        'per_direct_row6': Term(45.6919,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 53 tiles: max |error| 21.5%; on 3 held-out tiles 1.3%',
                    'python tools/calibrate_cycles.py'),
        'per_direct_row4': Term(35.927,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 53 tiles: max |error| 21.5%; on 3 held-out tiles 1.3%',
                    'python tools/calibrate_cycles.py'),
        'per_direct_channel6': Term(95.7063,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 53 tiles: max |error| 21.5%; on 3 held-out tiles 1.3%',
                    'python tools/calibrate_cycles.py'),
        'per_direct_channel4': Term(66.5689,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 53 tiles: max |error| 21.5%; on 3 held-out tiles 1.3%',
                    'python tools/calibrate_cycles.py'),
        'per_direct_block': Term(44.4381,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 53 tiles: max |error| 21.5%; on 3 held-out tiles 1.3%',
                    'python tools/calibrate_cycles.py'),
        'per_direct_part': Term(50.5379,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 53 tiles: max |error| 21.5%; on 3 held-out tiles 1.3%',
                    'python tools/calibrate_cycles.py'),
    },
    'conv2d_gw': {
        'per_tile': Term(-33.1276,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 20 tiles: max |error| 17.8%; on 2 held-out tiles 3.5%',
                    'python tools/calibrate_cycles.py'),
        'per_mac': Term(2.1549,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 20 tiles: max |error| 17.8%; on 2 held-out tiles 3.5%',
                    'python tools/calibrate_cycles.py'),
        'per_block': Term(278.9299,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 20 tiles: max |error| 17.8%; on 2 held-out tiles 3.5%',
                    'python tools/calibrate_cycles.py'),
        'per_im2col': Term(9.8587,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 20 tiles: max |error| 17.8%; on 2 held-out tiles 3.5%',
                    'python tools/calibrate_cycles.py'),
        'per_pixel': Term(535.9439,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 20 tiles: max |error| 17.8%; on 2 held-out tiles 3.5%',
                    'python tools/calibrate_cycles.py'),
        'per_delta': Term(-25.2347,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 20 tiles: max |error| 17.8%; on 2 held-out tiles 3.5%',
                    'python tools/calibrate_cycles.py'),
        'per_chunk': Term(-678.5589,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 20 tiles: max |error| 17.8%; on 2 held-out tiles 3.5%',
                    'python tools/calibrate_cycles.py'),
        'per_weight': Term(7.1909,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 20 tiles: max |error| 17.8%; on 2 held-out tiles 3.5%',
                    'python tools/calibrate_cycles.py'),
    },
    'conv2d_gw_reduce': {
        'per_tile': Term(165.3294,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 10 tiles: max |error| 0.5%; on 2 held-out tiles 0.3%',
                    'python tools/calibrate_cycles.py'),
        'per_term': Term(13.94,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 10 tiles: max |error| 0.5%; on 2 held-out tiles 0.3%',
                    'python tools/calibrate_cycles.py'),
        'per_output': Term(106.4609,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 10 tiles: max |error| 0.5%; on 2 held-out tiles 0.3%',
                    'python tools/calibrate_cycles.py'),
    },
    'conv2d_pack': {
        'per_tile': Term(235.3511,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 12 tiles: max |error| 1.1%; on 2 held-out tiles 1.6%',
                    'python tools/calibrate_cycles.py'),
        'per_row': Term(35.4289,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 12 tiles: max |error| 1.1%; on 2 held-out tiles 1.6%',
                    'python tools/calibrate_cycles.py'),
        'per_tap': Term(26.2508,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 12 tiles: max |error| 1.1%; on 2 held-out tiles 1.6%',
                    'python tools/calibrate_cycles.py'),
        'per_value_forward': Term(33.2093,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 12 tiles: max |error| 1.1%; on 2 held-out tiles 1.6%',
                    'python tools/calibrate_cycles.py'),
        'per_value_flipped': Term(33.209,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 12 tiles: max |error| 1.1%; on 2 held-out tiles 1.6%',
                    'python tools/calibrate_cycles.py'),
    },
    'avg_pool': {
        'per_tile': Term(68.6641,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 20 tiles: max |error| 2.8%; on 2 held-out tiles 1.2%',
                    'python tools/calibrate_cycles.py'),
        'per_row': Term(346.9959,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 20 tiles: max |error| 2.8%; on 2 held-out tiles 1.2%',
                    'python tools/calibrate_cycles.py'),
        'per_window_row': Term(-35.6322,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 20 tiles: max |error| 2.8%; on 2 held-out tiles 1.2%',
                    'python tools/calibrate_cycles.py'),
        'per_output': Term(49.5517,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 20 tiles: max |error| 2.8%; on 2 held-out tiles 1.2%',
                    'python tools/calibrate_cycles.py'),
        'per_scaled_output': Term(63.0287,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 20 tiles: max |error| 2.8%; on 2 held-out tiles 1.2%',
                    'python tools/calibrate_cycles.py'),
        'per_window_position': Term(36.3345,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 20 tiles: max |error| 2.8%; on 2 held-out tiles 1.2%',
                    'python tools/calibrate_cycles.py'),
        'per_window_value': Term(12.3285,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 20 tiles: max |error| 2.8%; on 2 held-out tiles 1.2%',
                    'python tools/calibrate_cycles.py'),
        'per_stochastic_output': Term(16.4748,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 20 tiles: max |error| 2.8%; on 2 held-out tiles 1.2%',
                    'python tools/calibrate_cycles.py'),
    },
    'max_pool': {
        'per_tile': Term(50.0118,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 20 tiles: max |error| 0.6%; on 2 held-out tiles 0.6%',
                    'python tools/calibrate_cycles.py'),
        'per_row': Term(17.4587,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 20 tiles: max |error| 0.6%; on 2 held-out tiles 0.6%',
                    'python tools/calibrate_cycles.py'),
        'per_window_row': Term(132.7544,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 20 tiles: max |error| 0.6%; on 2 held-out tiles 0.6%',
                    'python tools/calibrate_cycles.py'),
        'per_output': Term(7.9586,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 20 tiles: max |error| 0.6%; on 2 held-out tiles 0.6%',
                    'python tools/calibrate_cycles.py'),
        'per_scaled_output': Term(0.0,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 20 tiles: max |error| 0.6%; on 2 held-out tiles 0.6%',
                    'python tools/calibrate_cycles.py'),
        'per_window_position': Term(29.5028,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 20 tiles: max |error| 0.6%; on 2 held-out tiles 0.6%',
                    'python tools/calibrate_cycles.py'),
        'per_window_value': Term(27.9374,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 20 tiles: max |error| 0.6%; on 2 held-out tiles 0.6%',
                    'python tools/calibrate_cycles.py'),
        'per_stochastic_output': Term(0.0,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 20 tiles: max |error| 0.6%; on 2 held-out tiles 0.6%',
                    'python tools/calibrate_cycles.py'),
    },
    'avg_pool_grad': {
        'per_tile': Term(239.8643,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 20 tiles: max |error| 1.1%; on 2 held-out tiles 0.4%',
                    'python tools/calibrate_cycles.py'),
        'per_row': Term(49.6545,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 20 tiles: max |error| 1.1%; on 2 held-out tiles 0.4%',
                    'python tools/calibrate_cycles.py'),
        'per_image': Term(123.0432,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 20 tiles: max |error| 1.1%; on 2 held-out tiles 0.4%',
                    'python tools/calibrate_cycles.py'),
        'per_input': Term(48.5967,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 20 tiles: max |error| 1.1%; on 2 held-out tiles 0.4%',
                    'python tools/calibrate_cycles.py'),
        'per_scaled_input': Term(71.5757,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 20 tiles: max |error| 1.1%; on 2 held-out tiles 0.4%',
                    'python tools/calibrate_cycles.py'),
        'per_round_block': Term(93.1993,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 20 tiles: max |error| 1.1%; on 2 held-out tiles 0.4%',
                    'python tools/calibrate_cycles.py'),
        'per_hit_row': Term(80.943,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 20 tiles: max |error| 1.1%; on 2 held-out tiles 0.4%',
                    'python tools/calibrate_cycles.py'),
        'per_scatter_position': Term(35.0167,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 20 tiles: max |error| 1.1%; on 2 held-out tiles 0.4%',
                    'python tools/calibrate_cycles.py'),
        'per_scattered': Term(10.3185,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 20 tiles: max |error| 1.1%; on 2 held-out tiles 0.4%',
                    'python tools/calibrate_cycles.py'),
        'per_stochastic_input': Term(17.6075,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 20 tiles: max |error| 1.1%; on 2 held-out tiles 0.4%',
                    'python tools/calibrate_cycles.py'),
    },
    'max_pool_grad': {
        'per_tile': Term(326.9276,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 20 tiles: max |error| 1.5%; on 2 held-out tiles 0.8%',
                    'python tools/calibrate_cycles.py'),
        'per_row': Term(-76.2741,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 20 tiles: max |error| 1.5%; on 2 held-out tiles 0.8%',
                    'python tools/calibrate_cycles.py'),
        'per_image': Term(84.9951,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 20 tiles: max |error| 1.5%; on 2 held-out tiles 0.8%',
                    'python tools/calibrate_cycles.py'),
        'per_input': Term(77.0964,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 20 tiles: max |error| 1.5%; on 2 held-out tiles 0.8%',
                    'python tools/calibrate_cycles.py'),
        'per_scaled_input': Term(0.0,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 20 tiles: max |error| 1.5%; on 2 held-out tiles 0.8%',
                    'python tools/calibrate_cycles.py'),
        'per_round_block': Term(115.4325,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 20 tiles: max |error| 1.5%; on 2 held-out tiles 0.8%',
                    'python tools/calibrate_cycles.py'),
        'per_hit_row': Term(197.743,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 20 tiles: max |error| 1.5%; on 2 held-out tiles 0.8%',
                    'python tools/calibrate_cycles.py'),
        'per_scatter_position': Term(33.1361,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 20 tiles: max |error| 1.5%; on 2 held-out tiles 0.8%',
                    'python tools/calibrate_cycles.py'),
        'per_scattered': Term(16.4148,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 20 tiles: max |error| 1.5%; on 2 held-out tiles 0.8%',
                    'python tools/calibrate_cycles.py'),
        'per_stochastic_input': Term(0.0,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 20 tiles: max |error| 1.5%; on 2 held-out tiles 0.8%',
                    'python tools/calibrate_cycles.py'),
    },
    'copy': {
        'per_tile': Term(13.1156,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 14 tiles: max |error| 7.8%; on 3 held-out tiles 2.4%',
                    'python tools/calibrate_cycles.py'),
        'per_contiguous': Term(7.4906,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 14 tiles: max |error| 7.8%; on 3 held-out tiles 2.4%',
                    'python tools/calibrate_cycles.py'),
        'per_strided': Term(7.2021,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 14 tiles: max |error| 7.8%; on 3 held-out tiles 2.4%',
                    'python tools/calibrate_cycles.py'),
        'per_contiguous_run': Term(2.1738,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 14 tiles: max |error| 7.8%; on 3 held-out tiles 2.4%',
                    'python tools/calibrate_cycles.py'),
        'per_strided_run': Term(20.5752,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 14 tiles: max |error| 7.8%; on 3 held-out tiles 2.4%',
                    'python tools/calibrate_cycles.py'),
        'per_fill': Term(6.8879,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 14 tiles: max |error| 7.8%; on 3 held-out tiles 2.4%',
                    'python tools/calibrate_cycles.py'),
    },
    'gather': {
        'per_tile': Term(18.0,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 5 tiles: max |error| 0.0%; on 2 held-out tiles 0.0%',
                    'python tools/calibrate_cycles.py'),
        'per_row': Term(20.0,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 5 tiles: max |error| 0.0%; on 2 held-out tiles 0.0%',
                    'python tools/calibrate_cycles.py'),
        'per_elem': Term(11.0,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 5 tiles: max |error| 0.0%; on 2 held-out tiles 0.0%',
                    'python tools/calibrate_cycles.py'),
    },
    'requant': {
        'per_tile': Term(64.8846,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 5 tiles: max |error| 0.3%; on 2 held-out tiles 0.1%',
                    'python tools/calibrate_cycles.py'),
        'per_elem': Term(10.7534,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 5 tiles: max |error| 0.3%; on 2 held-out tiles 0.1%',
                    'python tools/calibrate_cycles.py'),
        'per_stochastic': Term(36.1124,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 5 tiles: max |error| 0.3%; on 2 held-out tiles 0.1%',
                    'python tools/calibrate_cycles.py'),
    },
    'eltwise': {
        'per_tile': Term(357.6621,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 56 tiles: max |error| 4.2%; on 18 held-out tiles 3.2%',
                    'python tools/calibrate_cycles.py'),
        'per_stochastic': Term(20.3296,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 56 tiles: max |error| 4.2%; on 18 held-out tiles 3.2%',
                    'python tools/calibrate_cycles.py'),
        'per_elem_add': Term(64.0088,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 56 tiles: max |error| 4.2%; on 18 held-out tiles 3.2%',
                    'python tools/calibrate_cycles.py'),
        'per_elem_subtract': Term(64.7724,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 56 tiles: max |error| 4.2%; on 18 held-out tiles 3.2%',
                    'python tools/calibrate_cycles.py'),
        'per_elem_multiply': Term(63.4617,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 56 tiles: max |error| 4.2%; on 18 held-out tiles 3.2%',
                    'python tools/calibrate_cycles.py'),
        'per_elem_divide': Term(553.0405,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 56 tiles: max |error| 4.2%; on 18 held-out tiles 3.2%',
                    'python tools/calibrate_cycles.py'),
        'per_elem_maximum': Term(65.4771,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 56 tiles: max |error| 4.2%; on 18 held-out tiles 3.2%',
                    'python tools/calibrate_cycles.py'),
        'per_elem_minimum': Term(65.3939,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 56 tiles: max |error| 4.2%; on 18 held-out tiles 3.2%',
                    'python tools/calibrate_cycles.py'),
        'per_elem_less': Term(29.6228,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 56 tiles: max |error| 4.2%; on 18 held-out tiles 3.2%',
                    'python tools/calibrate_cycles.py'),
        'per_elem_less_equal': Term(29.5585,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 56 tiles: max |error| 4.2%; on 18 held-out tiles 3.2%',
                    'python tools/calibrate_cycles.py'),
        'per_elem_greater': Term(29.5434,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 56 tiles: max |error| 4.2%; on 18 held-out tiles 3.2%',
                    'python tools/calibrate_cycles.py'),
        'per_elem_greater_equal': Term(29.4417,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 56 tiles: max |error| 4.2%; on 18 held-out tiles 3.2%',
                    'python tools/calibrate_cycles.py'),
        'per_elem_equal': Term(29.8394,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 56 tiles: max |error| 4.2%; on 18 held-out tiles 3.2%',
                    'python tools/calibrate_cycles.py'),
        'per_elem_not_equal': Term(28.7391,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 56 tiles: max |error| 4.2%; on 18 held-out tiles 3.2%',
                    'python tools/calibrate_cycles.py'),
        'per_elem_where': Term(74.8256,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 56 tiles: max |error| 4.2%; on 18 held-out tiles 3.2%',
                    'python tools/calibrate_cycles.py'),
        'per_elem_negative': Term(61.5505,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 56 tiles: max |error| 4.2%; on 18 held-out tiles 3.2%',
                    'python tools/calibrate_cycles.py'),
        'per_elem_abs': Term(60.3814,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 56 tiles: max |error| 4.2%; on 18 held-out tiles 3.2%',
                    'python tools/calibrate_cycles.py'),
        'per_elem_square': Term(62.002,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 56 tiles: max |error| 4.2%; on 18 held-out tiles 3.2%',
                    'python tools/calibrate_cycles.py'),
        'per_elem_clip': Term(109.3265,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 56 tiles: max |error| 4.2%; on 18 held-out tiles 3.2%',
                    'python tools/calibrate_cycles.py'),
        'per_elem_axpby': Term(106.2528,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 56 tiles: max |error| 4.2%; on 18 held-out tiles 3.2%',
                    'python tools/calibrate_cycles.py'),
        'per_stochastic_clip': Term(5.3046,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 56 tiles: max |error| 4.2%; on 18 held-out tiles 3.2%',
                    'python tools/calibrate_cycles.py'),
        'per_stochastic_multiply': Term(21.3504,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 56 tiles: max |error| 4.2%; on 18 held-out tiles 3.2%',
                    'python tools/calibrate_cycles.py'),
        'per_stochastic_divide': Term(41.44,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 56 tiles: max |error| 4.2%; on 18 held-out tiles 3.2%',
                    'python tools/calibrate_cycles.py'),
    },
    'lut': {
        'per_tile': Term(-403.5162,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 20 tiles: max |error| 8.2%; on 5 held-out tiles 2.4%',
                    'python tools/calibrate_cycles.py'),
        'per_stochastic': Term(3.1458,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 20 tiles: max |error| 8.2%; on 5 held-out tiles 2.4%',
                    'python tools/calibrate_cycles.py'),
        'per_elem_exp': Term(171.0742,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 20 tiles: max |error| 8.2%; on 5 held-out tiles 2.4%',
                    'python tools/calibrate_cycles.py'),
        'per_elem_log': Term(82.7245,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 20 tiles: max |error| 8.2%; on 5 held-out tiles 2.4%',
                    'python tools/calibrate_cycles.py'),
        'per_elem_tanh': Term(147.2769,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 20 tiles: max |error| 8.2%; on 5 held-out tiles 2.4%',
                    'python tools/calibrate_cycles.py'),
        'per_elem_sigmoid': Term(146.788,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 20 tiles: max |error| 8.2%; on 5 held-out tiles 2.4%',
                    'python tools/calibrate_cycles.py'),
        'per_elem_sqrt': Term(412.7011,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 20 tiles: max |error| 8.2%; on 5 held-out tiles 2.4%',
                    'python tools/calibrate_cycles.py'),
    },
    'optim': {
        'per_tile': Term(158.7955,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 9 tiles: max |error| 0.0%; on 3 held-out tiles 1.2%',
                    'python tools/calibrate_cycles.py'),
        'per_stochastic': Term(0.0,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 9 tiles: max |error| 0.0%; on 3 held-out tiles 1.2%',
                    'python tools/calibrate_cycles.py'),
        'per_elem_sgd': Term(117.5602,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 9 tiles: max |error| 0.0%; on 3 held-out tiles 1.2%',
                    'python tools/calibrate_cycles.py'),
        'per_elem_sgd_momentum': Term(225.3102,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 9 tiles: max |error| 0.0%; on 3 held-out tiles 1.2%',
                    'python tools/calibrate_cycles.py'),
        'per_elem_adam': Term(317.9102,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 9 tiles: max |error| 0.0%; on 3 held-out tiles 1.2%',
                    'python tools/calibrate_cycles.py'),
        'per_stochastic_sgd': Term(20.4272,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 9 tiles: max |error| 0.0%; on 3 held-out tiles 1.2%',
                    'python tools/calibrate_cycles.py'),
        'per_stochastic_sgd_momentum': Term(43.789,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 9 tiles: max |error| 0.0%; on 3 held-out tiles 1.2%',
                    'python tools/calibrate_cycles.py'),
        'per_stochastic_adam': Term(74.9793,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 9 tiles: max |error| 0.0%; on 3 held-out tiles 1.2%',
                    'python tools/calibrate_cycles.py'),
    },
    'reduce': {
        'per_tile': Term(772.9614,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 48 tiles: max |error| 5.4%; on 6 held-out tiles 1.9%',
                    'python tools/calibrate_cycles.py'),
        'per_stochastic': Term(8.9977,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 48 tiles: max |error| 5.4%; on 6 held-out tiles 1.9%',
                    'python tools/calibrate_cycles.py'),
        'per_row': Term(37.6259,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 48 tiles: max |error| 5.4%; on 6 held-out tiles 1.9%',
                    'python tools/calibrate_cycles.py'),
        'per_input_sum': Term(12.4985,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 48 tiles: max |error| 5.4%; on 6 held-out tiles 1.9%',
                    'python tools/calibrate_cycles.py'),
        'per_output_sum': Term(107.3291,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 48 tiles: max |error| 5.4%; on 6 held-out tiles 1.9%',
                    'python tools/calibrate_cycles.py'),
        'per_row_step_sum': Term(5.3432,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 48 tiles: max |error| 5.4%; on 6 held-out tiles 1.9%',
                    'python tools/calibrate_cycles.py'),
        'per_input_mean': Term(12.4822,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 48 tiles: max |error| 5.4%; on 6 held-out tiles 1.9%',
                    'python tools/calibrate_cycles.py'),
        'per_output_mean': Term(134.2382,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 48 tiles: max |error| 5.4%; on 6 held-out tiles 1.9%',
                    'python tools/calibrate_cycles.py'),
        'per_row_step_mean': Term(4.6997,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 48 tiles: max |error| 5.4%; on 6 held-out tiles 1.9%',
                    'python tools/calibrate_cycles.py'),
        'per_input_max': Term(19.6034,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 48 tiles: max |error| 5.4%; on 6 held-out tiles 1.9%',
                    'python tools/calibrate_cycles.py'),
        'per_output_max': Term(105.6798,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 48 tiles: max |error| 5.4%; on 6 held-out tiles 1.9%',
                    'python tools/calibrate_cycles.py'),
        'per_row_step_max': Term(14.017,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 48 tiles: max |error| 5.4%; on 6 held-out tiles 1.9%',
                    'python tools/calibrate_cycles.py'),
        'per_input_min': Term(19.6034,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 48 tiles: max |error| 5.4%; on 6 held-out tiles 1.9%',
                    'python tools/calibrate_cycles.py'),
        'per_output_min': Term(105.6798,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 48 tiles: max |error| 5.4%; on 6 held-out tiles 1.9%',
                    'python tools/calibrate_cycles.py'),
        'per_row_step_min': Term(14.017,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 48 tiles: max |error| 5.4%; on 6 held-out tiles 1.9%',
                    'python tools/calibrate_cycles.py'),
        'per_input_argmax': Term(19.6034,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 48 tiles: max |error| 5.4%; on 6 held-out tiles 1.9%',
                    'python tools/calibrate_cycles.py'),
        'per_output_argmax': Term(105.6798,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 48 tiles: max |error| 5.4%; on 6 held-out tiles 1.9%',
                    'python tools/calibrate_cycles.py'),
        'per_row_step_argmax': Term(14.017,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 48 tiles: max |error| 5.4%; on 6 held-out tiles 1.9%',
                    'python tools/calibrate_cycles.py'),
        'per_input_argmin': Term(19.6034,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 48 tiles: max |error| 5.4%; on 6 held-out tiles 1.9%',
                    'python tools/calibrate_cycles.py'),
        'per_output_argmin': Term(105.6798,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 48 tiles: max |error| 5.4%; on 6 held-out tiles 1.9%',
                    'python tools/calibrate_cycles.py'),
        'per_row_step_argmin': Term(14.017,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 48 tiles: max |error| 5.4%; on 6 held-out tiles 1.9%',
                    'python tools/calibrate_cycles.py'),
        'per_call_mean': Term(79.166,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 48 tiles: max |error| 5.4%; on 6 held-out tiles 1.9%',
                    'python tools/calibrate_cycles.py'),
    },
    'softmax': {
        'per_tile': Term(56.3925,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 14 tiles: max |error| 0.7%; on 2 held-out tiles 0.1%',
                    'python tools/calibrate_cycles.py'),
        'per_row_softmax': Term(532.9827,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 14 tiles: max |error| 0.7%; on 2 held-out tiles 0.1%',
                    'python tools/calibrate_cycles.py'),
        'per_elem_softmax': Term(283.7629,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 14 tiles: max |error| 0.7%; on 2 held-out tiles 0.1%',
                    'python tools/calibrate_cycles.py'),
        'per_row_logsumexp': Term(142.4458,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 14 tiles: max |error| 0.7%; on 2 held-out tiles 0.1%',
                    'python tools/calibrate_cycles.py'),
        'per_elem_logsumexp': Term(103.0474,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 14 tiles: max |error| 0.7%; on 2 held-out tiles 0.1%',
                    'python tools/calibrate_cycles.py'),
        'per_stochastic_output': Term(19.3526,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 14 tiles: max |error| 0.7%; on 2 held-out tiles 0.1%',
                    'python tools/calibrate_cycles.py'),
    },
    'warp': {
        'per_tile': Term(306.3965,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 12 tiles: max |error| 5.6%; on 2 held-out tiles 3.0%',
                    'python tools/calibrate_cycles.py'),
        'per_sample': Term(-727.2915,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 12 tiles: max |error| 5.6%; on 2 held-out tiles 3.0%',
                    'python tools/calibrate_cycles.py'),
        'per_row': Term(39.9934,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 12 tiles: max |error| 5.6%; on 2 held-out tiles 3.0%',
                    'python tools/calibrate_cycles.py'),
        'per_pixel': Term(85.6287,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 12 tiles: max |error| 5.6%; on 2 held-out tiles 3.0%',
                    'python tools/calibrate_cycles.py'),
        'per_elem': Term(55.828,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 12 tiles: max |error| 5.6%; on 2 held-out tiles 3.0%',
                    'python tools/calibrate_cycles.py'),
    },
    'reduce_part': {
        'per_tile': Term(626.0903,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 18 tiles: max |error| 2.7%; on 6 held-out tiles 1.2%',
                    'python tools/calibrate_cycles.py'),
        'per_row': Term(56.9527,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 18 tiles: max |error| 2.7%; on 6 held-out tiles 1.2%',
                    'python tools/calibrate_cycles.py'),
        'per_block': Term(108.5844,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 18 tiles: max |error| 2.7%; on 6 held-out tiles 1.2%',
                    'python tools/calibrate_cycles.py'),
        'per_block_step': Term(11.5007,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 18 tiles: max |error| 2.7%; on 6 held-out tiles 1.2%',
                    'python tools/calibrate_cycles.py'),
        'per_input': Term(11.0219,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 18 tiles: max |error| 2.7%; on 6 held-out tiles 1.2%',
                    'python tools/calibrate_cycles.py'),
        'per_input_scalar': Term(9.9236,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 18 tiles: max |error| 2.7%; on 6 held-out tiles 1.2%',
                    'python tools/calibrate_cycles.py'),
        'per_output': Term(47.1829,
                    'least-squares fit (relative error) to the instruction model (armcycles'
                    ') on 18 tiles: max |error| 2.7%; on 6 held-out tiles 1.2%',
                    'python tools/calibrate_cycles.py'),
    },
}
# END TABLE
