"""requant_q15: change of format (a rounding, saturating shift), element by element."""
from __future__ import annotations

import numpy as np

from .. import tiling
from ..fixed import ROUNDING_MODES, STOCHASTIC
from ..program import Call
from . import cycle_table, dma, lib, ptr, register, threads


def _cycles(call, machine):
    return cycle_table.predict("requant", elems=call.elems, stochastic=float(call.stochastic))


@register("requant_q15", _cycles, "format change with rounding and saturation")
def _run(call, ins, outs, seed):
    tiles = np.ascontiguousarray(call.tiles, dtype=np.int32)
    p = call.params
    return int(lib.spl_run_requant(ptr(ins[0]), ptr(outs[0]), ins[0].size,
                                   ptr(tiles, "int32_t *"), len(tiles), p["shift"],
                                   ROUNDING_MODES[p["rounding"]], seed, threads(ins[0].size)))


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
