"""eltwise_q15: element-wise arithmetic, comparisons, where, clip and axpby with NumPy
broadcasting (spinla_c/eltwise_q15.c).

Lowering: the output is a contiguous box; each operand is described by element strides over
that box (0 along broadcast dimensions).  Adjacent dimensions that are contiguous for every
operand are merged first, so most broadcasts become 1-3 dimensional boxes whose last dimension
is a long run.  Tiles are flat ranges of the output (spinla.tiling.flat_tiles); a tile's DTCM
holds its output and the operand values of each run, double-buffered.

Each Call's params: op (name), the kernel fields (shift_a, shift_b, shift_c, k0, k1, v0, v1,
shift) and rounding; spinla/ops/elementwise.py computes them from the operands' formats.
"""
from __future__ import annotations

import numpy as np

from .. import abi, tiling
from ..fixed import ROUNDING_MODES, STOCHASTIC
from ..program import Call
from . import (NULL, SEED, In, Out, Static, Step, cycle_table, dma, i32, register_bound,
               threads)

# Op numbers: the SPL_EW_* enum of spinla_c/spinla.h, under spinla's op names.
_C_NAMES = dict(add="ADD", subtract="SUB", multiply="MUL", divide="DIV", maximum="MAX",
                minimum="MIN", less="LT", less_equal="LE", greater="GT", greater_equal="GE",
                equal="EQ", not_equal="NE", where="WHERE", negative="NEG", abs="ABS",
                square="SQUARE", clip="CLIP", axpby="AXPBY")
OPS = dict(sorted(((name, abi.const("SPL_EW_" + c)) for name, c in _C_NAMES.items()),
                  key=lambda kv: kv[1]))
COMPARISONS = frozenset(["less", "less_equal", "greater", "greater_equal", "equal",
                         "not_equal"])
MAX_DIMS = abi.const("SPL_MAX_DIMS")



def _cycles(call, machine):
    # Calibrated on contiguous operands (broadcast ones cost about the same per output).
    return cycle_table.predict("eltwise", kind=call.params["op"],
                               elems=call.elems.astype(np.float64),
                               stochastic=float(call.stochastic))


@register_bound("eltwise_q15", _cycles, "element-wise arithmetic, comparisons, where, clip")
def bind(call):
    p = call.params
    params = Static([OPS[p["op"]], p["shift_a"], p["shift_b"], p["shift_c"], p["k0"], p["k1"],
                     p["v0"], p["v1"], p["shift"], ROUNDING_MODES[p["rounding"]]], "int64_t *")
    x = [In(i) for i in range(len(call.inputs))] + [NULL] * (3 - len(call.inputs))
    st = [i32(s) for s in p["strides"]] + [NULL] * (3 - len(p["strides"]))
    return (Step("spl_run_eltwise", (params, SEED, x[0], st[0], x[1], st[1], x[2], st[2],
                                     Out(0), i32(p["shape"]), len(p["shape"]), i32(call.tiles),
                                     call.ntiles, threads(call.outputs[0].size))),)


def operand_strides(shape, out_shape):
    """Element strides of a C-contiguous array of `shape` broadcast to `out_shape`."""
    lead = len(out_shape) - len(shape)
    st, acc = [0] * len(shape), 1
    for i in range(len(shape) - 1, -1, -1):
        st[i] = acc if shape[i] != 1 else 0
        acc *= shape[i]
    return [0] * lead + st


def collapse(out_shape, strides):
    """Merge output dimensions that are contiguous for every operand; drop size-1 ones.
    Returns (shape, [strides per operand]) with at least one dimension."""
    dims = [(s, [st[i] for st in strides]) for i, s in enumerate(out_shape) if s != 1]
    if not dims:
        return (1,), [(0,) for _ in strides]
    merged = [dims[0]]
    for s, st in dims[1:]:
        ps, pst = merged[-1]
        if all(p == q * s for p, q in zip(pst, st)):
            merged[-1] = (ps * s, st)
        else:
            merged.append((s, st))
    shape = tuple(m[0] for m in merged)
    return shape, [tuple(m[1][k] for m in merged) for k in range(len(strides))]


def lower(op: str, in_bufs, out_buf, *, machine, label: str, rounding: str = "nearest",
          shift_a=0, shift_b=0, shift_c=0, k0=0, k1=0, v0=0, v1=0, shift=0) -> Call:
    """Call computing out = op(*in_bufs) with broadcasting (in_bufs are 1-3 Buffers)."""
    out_shape = out_buf.shape
    shape, strides = collapse(out_shape, [operand_strides(b.shape, out_shape) for b in in_bufs])
    if len(shape) > MAX_DIMS:
        raise ValueError(f"{label}: this broadcast needs {len(shape)} dimensions after merging "
                         f"contiguous ones; the kernels handle at most {MAX_DIMS} "
                         f"(shapes {' '.join(str(b.shape) for b in in_bufs)})")
    nin = len(in_bufs)
    bpe = 2 * (nin + 1)
    # Tiles aligned to the output's rows (its leading axis: a batch's samples).
    row = out_buf.size // out_shape[0] if len(out_shape) > 1 and out_shape[0] else 0
    tiles, cores = tiling.flat_tiles(out_buf.size, machine, bytes_per_elem=bpe, row=row)
    n = (tiles[:, 1] - tiles[:, 0]).astype(np.int64)
    # What each tile reads of each operand (the DMA plan's _read_runs, counted).
    dma_in = sum(2 * _read_counts(shape, strides[i], b.size, out_buf.size, tiles)
                 for i, b in enumerate(in_bufs))
    st = rounding == STOCHASTIC and op not in COMPARISONS
    params = dict(op=op, shape=shape, strides=strides, shift_a=int(shift_a),
                  shift_b=int(shift_b), shift_c=int(shift_c), k0=int(k0), k1=int(k1),
                  v0=int(v0), v1=int(v1), shift=int(shift), rounding=rounding)
    return Call(kernel="eltwise_q15", op=label, inputs=tuple(in_bufs), outputs=(out_buf,),
                params=params, tiles=tiles, cores=cores, macs=np.zeros(len(n), np.int64),
                elems=n, dma_in=dma_in, dma_out=2 * n, dtcm=2 * bpe * n,
                stochastic=st)


def _read_runs(shape, strides, size, total, e0, e1):
    """[lo, hi) element ranges of one operand that outputs [e0, e1) read: the same range (an
    operand of the output's size), all of it (one no larger than the tile), or else the runs
    of consecutive elements the tile touches (a broadcast operand larger than a tile): a row
    (strides (0, 1)) from the tile's first column, wrapping to its start; a column (strides
    (1, 0)) the rows the tile covers; other broadcasts the runs of the indices it reads."""
    n = e1 - e0
    if size == total:
        return [(e0, e1)]
    if size <= n:
        return [(0, size)]
    if len(shape) == 2 and tuple(strides) == (0, 1):
        lo = e0 % shape[1]
        hi = lo + n                                  # n < size = shape[1]
        return [(lo, hi)] if hi <= size else [(lo, size), (0, hi - size)]
    if len(shape) == 2 and tuple(strides) == (1, 0):
        return [(e0 // shape[1], (e1 - 1) // shape[1] + 1)]
    idx = np.unique(_operand_indices(shape, strides, e0, e1))
    brk = np.flatnonzero(np.diff(idx) != 1) + 1
    return [(int(idx[a]), int(idx[z - 1]) + 1) for a, z in zip(np.r_[0, brk], np.r_[brk, len(idx)])]


def _read_counts(shape, strides, size, total, tiles):
    """Elements of one operand each tile reads (the lengths of _read_runs), vectorised for
    the common cases: an eager op lowers on every call."""
    e0, e1 = tiles[:, 0].astype(np.int64), tiles[:, 1].astype(np.int64)
    n = e1 - e0
    if size == total or size <= n.min() or (len(shape) == 2 and tuple(strides) == (0, 1)):
        return np.minimum(n, size)
    if len(shape) == 2 and tuple(strides) == (1, 0):
        return np.where(n >= size, size, (e1 - 1) // shape[1] - e0 // shape[1] + 1)
    return np.asarray([sum(z - a for a, z in _read_runs(shape, strides, size, total, a0, a1))
                       for a0, a1 in zip(e0.tolist(), e1.tolist())], np.int64)


@dma.describes("eltwise_q15")
def plan(call, t):
    """A tile writes its flat range of the output and reads its runs of every operand
    (_read_runs, which the lowering's dma_in counts)."""
    e0, e1 = (int(v) for v in call.tiles[t])
    p = call.params
    total = call.outputs[0].size
    ds = [dma.block(dma.READ, i, 2 * lo, 2 * (hi - lo))
          for i, b in enumerate(call.inputs)
          for lo, hi in _read_runs(p["shape"], p["strides"][i], b.size, total, e0, e1)]
    ds.append(dma.block(dma.WRITE, 0, 2 * e0, 2 * (e1 - e0)))
    return dma.TilePlan(tuple(ds))


def _operand_indices(shape, strides, e0, e1):
    """Element indices of one operand that outputs [e0, e1) of the box read."""
    idx = np.unravel_index(np.arange(e0, e1, dtype=np.int64), shape)
    return sum(i * s for i, s in zip(idx, strides))
