"""softmax_q15: softmax and logsumexp along contiguous rows (spinla_c/softmax_q15.c).

A tile is a range of rows.  The kernel makes three passes over a row (max, sum of exp, output),
so a tile keeps its rows' input and outputs in DTCM together with the exp and ln tables; a row
longer than that budget is streamed three times from SDRAM in double-buffered blocks (one row
per tile, three times the input DMA).
"""
from __future__ import annotations

import math

import numpy as np

from .. import abi
from ..fixed import ROUNDING_MODES, STOCHASTIC
from ..program import Call
from ..tiling import place
from . import SEED, In, Out, Step, cycle_table, dma, i32, register_bound, threads

OPS = abi.enum("SPL_SM_")  # {"softmax": SPL_SM_SOFTMAX, "logsumexp": SPL_SM_LOGSUMEXP}
TABLE_BYTES = 2 * 4 * 257  # the 2^r and ln tables
MIN_TILE_INPUT = 256

def _cycles(call, machine):
    # Calibrated at frac_in 11, frac_out 14 (exp's cost varies a little with the formats).
    t = call.tiles
    return cycle_table.predict("softmax", op=call.params["op"],
                               rows=(t[:, 1] - t[:, 0]).astype(np.float64), n=call.params["n"],
                               stochastic=float(call.stochastic))


@register_bound("softmax_q15", _cycles, "softmax and logsumexp along rows")
def bind(call):
    p = call.params
    return (Step("spl_run_softmax", (OPS[p["op"]], In(0), Out(0), p["rows"], p["n"],
                                     p["frac_in"], p["frac_out"],
                                     ROUNDING_MODES[p["rounding"]], SEED, i32(call.tiles),
                                     call.ntiles, threads(call.inputs[0].size))),)


def lower(op: str, in_buf, out_buf, *, rows: int, n: int, rounding: str, machine,
          label: str) -> Call:
    budget = machine.tile_budget_bytes - TABLE_BYTES
    out_per_row = 2 * n if op == "softmax" else 2
    per_row = 2 * n + out_per_row
    streamed = per_row > budget
    if streamed:
        rt = 1
    else:
        want = max(1, min(machine.cores, math.ceil(rows * n / MIN_TILE_INPUT)))
        rt = max(1, min(budget // per_row, math.ceil(rows / want)))
    r0 = np.arange(0, rows, rt)
    tiles = np.stack([r0, np.minimum(r0 + rt, rows)], 1).astype(np.int32)
    tr = (tiles[:, 1] - tiles[:, 0]).astype(np.int64)
    if streamed:
        dtcm = np.full(len(tr), machine.tile_budget_bytes, np.int64)
        dma_in = 3 * 2 * n * tr
    else:
        dtcm = per_row * tr + TABLE_BYTES
        dma_in = 2 * n * tr
    st = rounding == STOCHASTIC
    return Call(kernel="softmax_q15", op=label, inputs=(in_buf,), outputs=(out_buf,),
                params=dict(op=op, rows=rows, n=n, frac_in=in_buf.fmt.frac,
                            frac_out=out_buf.fmt.frac, rounding=rounding, streamed=streamed),
                tiles=tiles, cores=place(len(tiles), machine),
                macs=np.zeros(len(tiles), np.int64), elems=tr * n, dma_in=dma_in,
                dma_out=tr * out_per_row, dtcm=dtcm,
                stochastic=st)


@dma.describes("softmax_q15")
def plan(call, t):
    """The tile's rows in (three times over when a row is streamed: one pass each for the max,
    the sum and the output), its rows (softmax) or one value per row (logsumexp) out."""
    r0, r1 = (int(v) for v in call.tiles[t])
    p = call.params
    n, nr = p["n"], r1 - r0
    x = dma.block(dma.READ, 0, 2 * r0 * n, 2 * nr * n)
    out = (dma.block(dma.WRITE, 0, 2 * r0 * n, 2 * nr * n) if p["op"] == "softmax"
           else dma.block(dma.WRITE, 0, 2 * r0, 2 * nr))
    if p["streamed"]:
        return dma.TilePlan((x, x, x, out), resident=int(call.dtcm[t]))
    return dma.TilePlan((x, out), scratch=TABLE_BYTES)
