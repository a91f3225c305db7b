"""lut_q15: exp, log, tanh, sigmoid (integer tables + linear interpolation) and sqrt (bitwise
integer root), element by element (spinla_c/lut_q15.c, tables in spinla_c/tables_q15.h).

Tiles are flat ranges.  A tile's DTCM holds its input and output (double-buffered) and, counted
conservatively, the function's table (if the ARM link map puts read-only data in ITCM, as
spinnaker_tools' does for code, the table costs no DTCM and this is pessimistic).
"""
from __future__ import annotations

import numpy as np

from .. import abi, tiling
from ..fixed import ROUNDING_MODES, STOCHASTIC
from ..program import Call
from . import SEED, In, Out, Step, cycle_table, dma, i32, register_bound, threads

FUNCTIONS = abi.enum("SPL_FN_")  # {"exp": SPL_FN_EXP, ...}
# Bytes of each function's Q30 table (uint32 entries): 257 for 2^r and ln, 1025 for sigmoid.
TABLE_BYTES = {"exp": 4 * 257, "log": 4 * 257, "tanh": 4 * 1025, "sigmoid": 4 * 1025,
               "sqrt": 0}


def _cycles(call, machine):
    # Calibrated at frac_in 12, frac_out 14 (the cost varies a little with the formats).
    return cycle_table.predict("lut", kind=call.params["fn"], elems=call.elems.astype(np.float64),
                               stochastic=float(call.stochastic))


@register_bound("lut_q15", _cycles, "exp, log, tanh, sigmoid by table + interpolation; sqrt")
def bind(call):
    p = call.params
    return (Step("spl_run_lut", (FUNCTIONS[p["fn"]], In(0), Out(0), p["frac_in"], p["frac_out"],
                                 ROUNDING_MODES[p["rounding"]], SEED, i32(call.tiles),
                                 call.ntiles, threads(call.outputs[0].size))),)


def lower(fn: str, in_buf, out_buf, *, rounding: str, machine, op: str) -> Call:
    table = TABLE_BYTES[fn]
    # The table shares the tile's DTCM: tile with a budget reduced by its size.
    m = machine.with_(dtcm_reserve_bytes=machine.dtcm_reserve_bytes + table)
    # Tiles aligned to rows of the leading axis (a batch's samples).
    shp = in_buf.shape
    row = in_buf.size // shp[0] if len(shp) > 1 and shp[0] else 0
    tiles, cores = tiling.flat_tiles(in_buf.size, m, bytes_per_elem=4, row=row)
    n = (tiles[:, 1] - tiles[:, 0]).astype(np.int64)
    st = rounding == STOCHASTIC
    return Call(kernel="lut_q15", op=op, inputs=(in_buf,), outputs=(out_buf,),
                params=dict(fn=fn, frac_in=in_buf.fmt.frac, frac_out=out_buf.fmt.frac,
                            rounding=rounding),
                tiles=tiles, cores=cores, macs=np.zeros(len(n), np.int64), elems=n,
                dma_in=2 * n, dma_out=2 * n, dtcm=2 * 4 * n + table,
                stochastic=st)


@dma.describes("lut_q15")
def plan(call, t):
    """A tile reads its flat range of the input and writes the same range of the output."""
    e0, e1 = (int(v) for v in call.tiles[t])
    flat = (dma.block(dma.READ, 0, 2 * e0, 2 * (e1 - e0)),
            dma.block(dma.WRITE, 0, 2 * e0, 2 * (e1 - e0)))
    return dma.TilePlan(flat, scratch=TABLE_BYTES[call.params["fn"]])
