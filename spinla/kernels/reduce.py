"""reduce_q15: sum, mean, max, min, argmax, argmin over the middle axis of an (outer, n, inner)
view of a C-contiguous buffer (spinla_c/reduce_q15.c).  spinla/ops/reduction.py brings every
reduction into that form (a contiguous block of reduced axes needs no data movement; other
axis sets are permuted to the end first).

Tiling: a tile is an (outer rows x inner columns) block of the output.  The core streams the
tile's input through DTCM in double-buffered blocks (a reduction never needs all n values at
once), keeping one int64 accumulator (or int32 extreme and index) per column and its outputs;
so any n fits, and a tile's DTCM is its stream buffers plus 10 bytes per column plus its
outputs.  Tiles shrink (rows first, then columns) until every core has one, but keep at least
MIN_TILE_INPUT input elements each.
"""
from __future__ import annotations

import math

import numpy as np

from .. import abi
from ..fixed import ROUNDING_MODES, STOCHASTIC
from ..program import Call
from ..tiling import place
from . import cycle_table, dma, lib, ptr, register, threads

OPS = abi.enum("SPL_RED_")  # {"sum": SPL_RED_SUM, ...}
# mean = requant(sum * round(2^MEAN_SHIFT / n), fi + MEAN_SHIFT - fo)
MEAN_SHIFT = abi.const("SPL_MEAN_SHIFT")
MAX_COLS = 2048
MIN_TILE_INPUT = 256

def _cycles(call, machine):
    t = call.tiles.astype(np.float64)
    return cycle_table.predict("reduce", op=call.params["op"], rows=t[:, 1] - t[:, 0],
                               m=t[:, 3] - t[:, 2], n=call.params["n"],
                               stochastic=float(call.stochastic))


@register("reduce_q15", _cycles, "sum, mean, max, min, argmax, argmin along one axis")
def _run(call, ins, outs, seed):
    p = call.params
    x = np.ascontiguousarray(ins[0])
    tiles = np.ascontiguousarray(call.tiles, dtype=np.int32)
    return int(lib.spl_run_reduce(OPS[p["op"]], ptr(x), ptr(outs[0]), p["outer"], p["n"],
                                  p["inner"], p["shift"], ROUNDING_MODES[p["rounding"]], seed,
                                  ptr(tiles, "int32_t *"), len(tiles), threads(ins[0].size)))


def tile_shape(outer: int, n: int, inner: int, machine):
    """(rows, cols) of an output tile."""
    half = machine.tile_budget_bytes // 2  # the other half is the input stream buffers
    cols = min(inner, MAX_COLS, max(1, half // 12))
    want = max(1, min(machine.cores, math.ceil(outer * n * inner / MIN_TILE_INPUT)))
    ncols = math.ceil(inner / cols)
    rows_max = max(1, (half - 10 * cols) // (2 * cols))
    rows = max(1, min(rows_max, outer, math.ceil(outer / max(1, math.ceil(want / ncols)))))
    while math.ceil(outer / rows) * math.ceil(inner / cols) < want and cols > 64:
        cols = max(64, math.ceil(cols / 2))
    return rows, cols


def lower(op: str, in_buf, out_buf, *, outer: int, n: int, inner: int, shift: int,
          rounding: str, machine, label: str) -> Call:
    from ..runtime import next_seed
    rows, cols = tile_shape(outer, n, inner, machine)
    o0, i0 = np.arange(0, outer, rows), np.arange(0, inner, cols)
    oo, ii = np.meshgrid(o0, i0, indexing="ij")
    oo, ii = oo.ravel(), ii.ravel()
    tiles = np.stack([oo, np.minimum(oo + rows, outer), ii, np.minimum(ii + cols, inner)], 1)
    tiles = tiles.astype(np.int32)
    tr = (tiles[:, 1] - tiles[:, 0]).astype(np.int64)
    tc = (tiles[:, 3] - tiles[:, 2]).astype(np.int64)
    nin = tr * tc * n
    stream = np.minimum(2 * nin, machine.tile_budget_bytes // 4)
    st = rounding == STOCHASTIC and shift > 0  # otherwise nothing is rounded
    return Call(kernel="reduce_q15", op=label, inputs=(in_buf,), outputs=(out_buf,),
                params=dict(op=op, outer=outer, n=n, inner=inner, shift=shift,
                            rounding=rounding),
                tiles=tiles, cores=place(len(tiles), machine),
                macs=np.zeros(len(tiles), np.int64), elems=nin, dma_in=2 * nin,
                dma_out=2 * tr * tc, dtcm=2 * stream + 10 * tc + 2 * tr * tc,
                seed=next_seed() if st else 0, stochastic=st)


@dma.describes("reduce_q15")
def plan(call, t):
    """Per output row r of the tile: the n rows of its column slice of the (outer, n, inner)
    input; the tile's block of the (outer, inner) output.  The input streams through DTCM
    (double-buffered) next to the tile's sums and outputs."""
    o0, o1, i0, i1 = (int(v) for v in call.tiles[t])
    p = call.params
    n, inner, tc = p["n"], p["inner"], i1 - i0
    if tc == inner:
        ds = [dma.block(dma.READ, 0, 2 * o0 * n * inner, 2 * (o1 - o0) * n * inner)]
    else:
        ds = [dma.rows(dma.READ, 0, 2 * (r * n * inner + i0), n, 2 * tc, 2 * inner)
              for r in range(o0, o1)]
    ds.append(dma.rows(dma.WRITE, 0, 2 * (o0 * inner + i0), o1 - o0, 2 * tc, 2 * inner))
    return dma.TilePlan(tuple(ds), resident=int(call.dtcm[t]))
