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

from .. import tiling
from ..fixed import ROUNDING_MODES, STOCHASTIC
from ..program import Call
from . import ffi, lib, ptr, register, static_args, threads

# Op numbers: the order of the SPL_EW_* enum in spinla_c/spinla.h.
OPS = {name: i for i, name in enumerate(
    ["add", "subtract", "multiply", "divide", "maximum", "minimum",
     "less", "less_equal", "greater", "greater_equal", "equal", "not_equal",
     "where", "negative", "abs", "square", "clip", "axpby"])}
COMPARISONS = frozenset(["less", "less_equal", "greater", "greater_equal", "equal",
                         "not_equal"])
MAX_DIMS = 6  # SPL_MAX_DIMS

# ASSUMPTION (ARM968 cycle counts, to be calibrated on the ARM build).  Per output element:
# loading each operand (LDRH with post-increment, plus the alignment shift folded into a
# barrel-shifted operand) ~2 cycles per operand; the STRH of the result 1 cycle; loop
# overhead ~1 cycle.  The op itself: add/sub/neg 1, mul/square 1 (SMULBB), max/min/abs 2
# (CMP + conditional MOV), comparisons 2 (CMP + MOVcc, no rounding), where 2, clip 3 (two
# compares), axpby 4 (two SMULL + ADDS/ADC).  divide: a 64-by-32-bit software division
# (libgcc __aeabi_ldivmod, shift-subtract, ~2 cycles per quotient bit over up to 62 bits)
# ~120 cycles.  The final spl_requant_q63 call (64-bit add, shift, two compares, a call)
# ~10 cycles; stochastic rounding adds the hash, ~10 cycles.  Per tile ~150 cycles (call,
# index decomposition by ~6 divisions of ~40 cycles each is amortised per tile, DMA setup).
CYCLES_PER_OPERAND = 2.0
CYCLES_PER_ELEM = 2.0
CYCLES_OP = {"add": 1, "subtract": 1, "negative": 1, "multiply": 1, "square": 1,
             "maximum": 2, "minimum": 2, "abs": 2, "less": 2, "less_equal": 2, "greater": 2,
             "greater_equal": 2, "equal": 2, "not_equal": 2, "where": 2, "clip": 3,
             "axpby": 4, "divide": 120}
CYCLES_PER_REQUANT = 10.0
CYCLES_PER_RAND = 10.0
CYCLES_PER_TILE = 400


def _cycles(call, machine):
    p = call.params
    nin = len(call.inputs)
    per = CYCLES_PER_ELEM + CYCLES_PER_OPERAND * nin + CYCLES_OP[p["op"]]
    if p["op"] not in COMPARISONS:
        per += CYCLES_PER_REQUANT + (CYCLES_PER_RAND if call.stochastic else 0)
    return CYCLES_PER_TILE + per * call.elems.astype(np.float64)


def _i32(v):
    return np.ascontiguousarray(v, dtype=np.int32)


def _static(call):
    p = call.params
    params = np.asarray([OPS[p["op"]], p["shift_a"], p["shift_b"], p["shift_c"], p["k0"],
                         p["k1"], p["v0"], p["v1"], p["shift"], ROUNDING_MODES[p["rounding"]]],
                        dtype=np.int64)
    shape, tiles = _i32(p["shape"]), _i32(call.tiles)
    strides = [_i32(s) for s in p["strides"]]
    sptrs = [ptr(strides[i], "int32_t *") if i < len(strides) else ffi.NULL for i in range(3)]
    keep = (params, shape, tiles, strides)
    return keep, (ptr(params, "int64_t *"), sptrs, ptr(shape, "int32_t *"), len(shape),
                  ptr(tiles, "int32_t *"), len(tiles))


@register("eltwise_q15", _cycles, "element-wise arithmetic, comparisons, where, clip")
def _run(call, ins, outs, seed):
    _, (pp, sptrs, shp, nd, tp, nt) = static_args(call, lambda: _static(call))
    ptrs = [ptr(a) for a in ins] + [ffi.NULL] * (3 - len(ins))
    return int(lib.spl_run_eltwise(pp, seed, ptrs[0], sptrs[0], ptrs[1], sptrs[1], ptrs[2],
                                   sptrs[2], ptr(outs[0]), shp, nd, tp, nt,
                                   threads(outs[0].size)))


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
    tiles, cores = tiling.flat_tiles(out_buf.size, machine, bytes_per_elem=bpe)
    n = (tiles[:, 1] - tiles[:, 0]).astype(np.int64)
    # An operand smaller than the tile (broadcast) is fetched once per tile, not per output.
    dma_in = sum(2 * np.minimum(n, b.size) for b in in_bufs)
    st = rounding == STOCHASTIC and op not in COMPARISONS
    from ..runtime import next_seed
    params = dict(op=op, shape=shape, strides=strides, shift_a=int(shift_a),
                  shift_b=int(shift_b), shift_c=int(shift_c), k0=int(k0), k1=int(k1),
                  v0=int(v0), v1=int(v1), shift=int(shift), rounding=rounding)
    return Call(kernel="eltwise_q15", op=label, inputs=tuple(in_bufs), outputs=(out_buf,),
                params=params, tiles=tiles, cores=cores, macs=np.zeros(len(n), np.int64),
                elems=n, dma_in=dma_in, dma_out=2 * n, dtcm=2 * bpe * n,
                seed=next_seed() if st else 0, stochastic=st)
