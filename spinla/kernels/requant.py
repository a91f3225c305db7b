"""requant_q15: change of format (a rounding, saturating shift), element by element."""
from __future__ import annotations

import numpy as np

from .. import tiling
from ..fixed import ROUNDING_MODES, STOCHASTIC
from ..program import Call
from . import SEED, In, Out, Step, cycle_table, dma, i32, register_bound, threads


def _cycles(call, machine):
    return cycle_table.predict("requant", elems=call.elems, stochastic=float(call.stochastic))


@register_bound("requant_q15", _cycles, "format change with rounding and saturation")
def bind(call):
    p = call.params
    n = call.inputs[0].size
    return (Step("spl_run_requant", (In(0), Out(0), n, i32(call.tiles), call.ntiles, p["shift"],
                                     ROUNDING_MODES[p["rounding"]], SEED, threads(n))),)


def lower(in_buf, out_buf, *, shift: int, rounding: str, machine, op: str):
    tiles, cores = tiling.flat_tiles(in_buf.size, machine, bytes_per_elem=4)
    n = (tiles[:, 1] - tiles[:, 0]).astype(np.int64)
    st = rounding == STOCHASTIC
    return Call(kernel="requant_q15", op=op, inputs=(in_buf,), outputs=(out_buf,),
                params=dict(shift=shift, rounding=rounding), tiles=tiles, cores=cores,
                macs=np.zeros(len(n), np.int64), elems=n, dma_in=2 * n, dma_out=2 * n,
                dtcm=4 * n, stochastic=st)


@dma.describes("requant_q15")
def plan(call, t):
    """A tile reads its flat range of the input and writes the same range of the output."""
    e0, e1 = (int(v) for v in call.tiles[t])
    flat = (dma.block(dma.READ, 0, 2 * e0, 2 * (e1 - e0)),
            dma.block(dma.WRITE, 0, 2 * e0, 2 * (e1 - e0)))
    return dma.TilePlan(flat)
