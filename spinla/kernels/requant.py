"""requant_q15: change of format (a rounding, saturating shift), element by element."""
from __future__ import annotations

import numpy as np

from .. import tiling
from ..fixed import ROUNDING_MODES, STOCHASTIC
from ..program import Call
from . import cycle_table, lib, ptr, register, threads


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
