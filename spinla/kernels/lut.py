"""lut_q15: exp, log, tanh, sigmoid (integer tables + linear interpolation) and sqrt (bitwise
integer root), element by element (spinla_c/lut_q15.c, tables in spinla_c/tables_q15.h).

Tiles are flat ranges.  A tile's DTCM holds its input and output (double-buffered) and, counted
conservatively, the function's table (if the ARM link map puts read-only data in ITCM, as
spinnaker_tools' does for code, the table costs no DTCM and this is pessimistic).
"""
from __future__ import annotations

import numpy as np

from .. import tiling
from ..fixed import ROUNDING_MODES, STOCHASTIC
from ..program import Call
from . import lib, ptr, register, threads

FUNCTIONS = {"exp": 0, "log": 1, "tanh": 2, "sigmoid": 3, "sqrt": 4}  # SPL_FN_* order
# Bytes of each function's Q30 table (uint32 entries): 257 for 2^r and ln, 1025 for sigmoid.
TABLE_BYTES = {"exp": 4 * 257, "log": 4 * 257, "tanh": 4 * 1025, "sigmoid": 4 * 1025,
               "sqrt": 0}

# ASSUMPTION (ARM968 cycles per element, to be calibrated): LDRH/STRH and loop ~4; then
#  exp: SMULL by log2(e), shifts to split integer/fraction (64-bit, ~6), two LDR of the table,
#       SMULL + shift for the interpolation (~6), the variable requant shift ~12: ~28;
#  log: CLZ, normalising shift, table + interpolation (~8), SMLAL of the exponent by ln 2 (~3),
#       requant ~10: ~25;
#  tanh/sigmoid: abs, shift to a table position, table + interpolation (~8), the reflection
#       (~2), requant ~10: ~22;
#  sqrt: 64-bit shift-subtract root, up to 32 iterations of ~7 instructions: ~220.
# Stochastic rounding adds the hash, ~10 cycles.  Per tile ~150 cycles (call, DMA setup).
CYCLES_PER_IO = 4.0
CYCLES_FN = {"exp": 24.0, "log": 21.0, "tanh": 18.0, "sigmoid": 16.0, "sqrt": 216.0}
CYCLES_PER_RAND = 10.0
CYCLES_PER_TILE = 150


def _cycles(call, machine):
    per = CYCLES_PER_IO + CYCLES_FN[call.params["fn"]] + (CYCLES_PER_RAND if call.stochastic
                                                          else 0)
    return CYCLES_PER_TILE + per * call.elems.astype(np.float64)


@register("lut_q15", _cycles, "exp, log, tanh, sigmoid by table + interpolation; sqrt")
def _run(call, ins, outs, seed):
    p = call.params
    x = np.ascontiguousarray(ins[0])
    tiles = np.ascontiguousarray(call.tiles, dtype=np.int32)
    return int(lib.spl_run_lut(FUNCTIONS[p["fn"]], ptr(x), ptr(outs[0]), p["frac_in"],
                               p["frac_out"], ROUNDING_MODES[p["rounding"]], seed,
                               ptr(tiles, "int32_t *"), len(tiles), threads(outs[0].size)))


def lower(fn: str, in_buf, out_buf, *, rounding: str, machine, op: str) -> Call:
    from ..runtime import next_seed
    table = TABLE_BYTES[fn]
    # The table shares the tile's DTCM: tile with a budget reduced by its size.
    m = machine.with_(dtcm_reserve_bytes=machine.dtcm_reserve_bytes + table)
    tiles, cores = tiling.flat_tiles(in_buf.size, m, bytes_per_elem=4)
    n = (tiles[:, 1] - tiles[:, 0]).astype(np.int64)
    st = rounding == STOCHASTIC
    return Call(kernel="lut_q15", op=op, inputs=(in_buf,), outputs=(out_buf,),
                params=dict(fn=fn, frac_in=in_buf.fmt.frac, frac_out=out_buf.fmt.frac,
                            rounding=rounding),
                tiles=tiles, cores=cores, macs=np.zeros(len(n), np.int64), elems=n,
                dma_in=2 * n, dma_out=2 * n, dtcm=2 * 4 * n + table,
                seed=next_seed() if st else 0, stochastic=st)
