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

Split sums.  A sum with few outputs and many inputs (a bias gradient: LeNet-5's sums over
batch and pixels have 6 and 16 outputs of 50,176 and 6,400 inputs) leaves most cores idle
however its outputs are tiled, so its reduced axis is also split into slices: two Calls,
  reduce_part_q15       tiles (s, o0, o1, i0, i1, k0, k1): the exact int64 sum of slice
                        k0..k1 into partial s (arm_reduce_q15 with rq NULL: stored, never
                        rounded, in the input's LSB; an int64 SDRAM buffer, 4 q15 words per value)
  conv2d_gw_reduce_q15  flat ranges of the outputs: the sum of the partials and one rounding
                        per output at its flat index (the weight gradient's combining kernel,
                        with no connection table: the same job)
which give the one-tile kernel's bits exactly, saturation counted once per output (the proof
is in spinla_c/reduce_q15.c).  The number of partials is chosen among 1, 2, 4, ... by an
estimate of the two calls' time (_split_plan): more partials share the inputs among more
cores but send more partial bytes to the combining cores.  The partials are combined in one
call, not a tree: with the few outputs of the sums that split, the partial bytes the estimate
allows are small, and a tree level (an int64-to-int64 sum) would be code that Boosted
LeNet-4's ITCM image has no room for (spinla/armimage.py).
"""
from __future__ import annotations

import functools
import math

import numpy as np

from .. import abi
from ..fixed import INT16, ROUNDING_MODES, STOCHASTIC
from ..program import Buffer, Call
from ..tiling import place
from . import SEED, In, Out, Step, cycle_table, dma, i32, register_bound, threads

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


@register_bound("reduce_q15", _cycles, "sum, mean, max, min, argmax, argmin along one axis")
def bind(call):
    p = call.params
    return (Step("spl_run_reduce", (OPS[p["op"]], In(0), Out(0), p["outer"], p["n"], p["inner"],
                                    p["shift"], ROUNDING_MODES[p["rounding"]], SEED,
                                    i32(call.tiles), call.ntiles,
                                    threads(call.inputs[0].size))),)


def _part_cycles(call, machine=None):
    """A partial tile (s, o0, o1, i0, i1, k0, k1) by its own fitted formula (cycle_table
    reduce_part: arm_reduce_q15's SUM loop storing unrounded int64 sums); the input's rows are
    `inner` apart."""
    t = call.tiles.astype(np.float64)
    return cycle_table.predict("reduce_part", rows=t[:, 2] - t[:, 1], m=t[:, 4] - t[:, 3],
                               n=t[:, 6] - t[:, 5], ld=float(call.params["inner"]))


@register_bound("reduce_part_q15", _part_cycles,
                "split sum: exact int64 partial sums over slices of the reduced axis")
def bind_part(call):
    """The partials are an int16 buffer of 4 words per int64 sum (C writes it as int64)."""
    p = call.params
    return (Step("spl_run_reduce_part", (In(0), Out(0, ctype="int64_t *"), p["outer"], p["n"],
                                         p["inner"], i32(call.tiles), call.ntiles,
                                         threads(call.inputs[0].size))),)


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
          rounding: str, machine, label: str, nparts: int | None = None) -> list:
    """The Calls of a reduction of the (outer, n, inner) view of in_buf: one reduce_q15 call,
    or for a sum worth splitting (_split_plan) its partial and combining calls.  nparts
    forces the number of partials of a sum (1: never split; tests use it)."""
    st = rounding == STOCHASTIC and shift > 0  # otherwise nothing is rounded
    rows, cols = tile_shape(outer, n, inner, machine)
    if op != "sum" or n <= 1:
        nparts = 1
    elif nparts is None:
        nparts = _split_plan(op, outer, n, inner, rows, cols, machine)
    if nparts > 1:
        return _lower_split(in_buf, out_buf, outer, n, inner, shift, rounding, machine, label,
                            nparts, st)
    tiles = _grid(outer, inner, rows, cols)
    tr = (tiles[:, 1] - tiles[:, 0]).astype(np.int64)
    tc = (tiles[:, 3] - tiles[:, 2]).astype(np.int64)
    nin = tr * tc * n
    stream = np.minimum(2 * nin, machine.tile_budget_bytes // 4)
    return [Call(kernel="reduce_q15", op=label, inputs=(in_buf,), outputs=(out_buf,),
                 params=dict(op=op, outer=outer, n=n, inner=inner, shift=shift,
                             rounding=rounding),
                 tiles=tiles, cores=place(len(tiles), machine),
                 macs=np.zeros(len(tiles), np.int64), elems=nin, dma_in=2 * nin,
                 dma_out=2 * tr * tc, dtcm=2 * stream + 10 * tc + 2 * tr * tc,
                 stochastic=st)]


def _grid(outer, inner, rows, cols):
    """(o0, o1, i0, i1) output blocks of rows x cols."""
    o0, i0 = np.arange(0, outer, rows), np.arange(0, inner, cols)
    oo, ii = np.meshgrid(o0, i0, indexing="ij")
    oo, ii = oo.ravel(), ii.ravel()
    tiles = np.stack([oo, np.minimum(oo + rows, outer), ii, np.minimum(ii + cols, inner)], 1)
    return tiles.astype(np.int32)


# --- split sums -----------------------------------------------------------------------------

# ASSUMPTION (choosing the number of partials only): the combining call receives the partials
# that live on other chips over about two of its chip's links (and a chip's partials leave
# it over about two, as conv's _gw_estimate takes them); spinla.cost prices the placed Calls
# exactly.
PARTIAL_LINKS = 2
# A split must beat one call by this fraction of its time (ASSUMPTION: the estimate's own
# error; a marginal split adds a phase and a buffer for nothing).
SPLIT_MIN_GAIN = 0.25


def _part_rows(rows, cols, machine):
    """Rows of a partial tile: its outputs are int64 (8 bytes, not 2) in the output half of
    the DTCM budget (tile_shape)."""
    half = machine.tile_budget_bytes // 2
    return max(1, min(rows, (half - 10 * cols) // (8 * cols)))


def _part_tiles(outer, n, inner, rows, cols, nparts):
    """(s, o0, o1, i0, i1, k0, k1): every output block once per slice of the reduced axis."""
    base = _grid(outer, inner, rows, cols)
    per = -(-n // nparts)
    k0 = np.arange(0, n, per, dtype=np.int64)
    s = np.arange(len(k0))
    si, bi = np.meshgrid(s, np.arange(len(base)), indexing="ij")
    si, bi = si.ravel(), bi.ravel()
    return np.concatenate([si[:, None], base[bi], k0[si, None],
                           np.minimum(k0[si] + per, n)[:, None]], 1).astype(np.int32)


def _combine_tiles(ne, machine):
    """[e0, e1) flat ranges of the ne outputs for the combining call, spread over the cores."""
    from .conv import REDUCE_DTCM_PER_ELEM
    per = max(1, min(machine.tile_budget_bytes // REDUCE_DTCM_PER_ELEM,
                     math.ceil(ne / machine.cores)))
    e = np.arange(0, ne, per, dtype=np.int64)
    return np.stack([e, np.minimum(e + per, ne)], 1).astype(np.int32)


@functools.lru_cache(maxsize=256)   # eager ops lower the same shapes again and again
def _split_plan(op, outer, n, inner, rows, cols, machine) -> int:
    """Partials of a sum, among 1, 2, 4, ... while every core still has a tile and a tile
    keeps MIN_TILE_INPUT inputs, by an estimate of the calls' cycles: the busiest core of the
    partial pass (its tiles spread over the cores) + a phase barrier + the busiest combining
    tile + the partial bytes from other chips as packets (received by the combining chip's
    cores, over PARTIAL_LINKS links).  1 (no split) unless that is SPLIT_MIN_GAIN faster."""
    from types import SimpleNamespace
    rows_p = _part_rows(rows, cols, machine)
    base = math.ceil(outer / rows_p) * math.ceil(inner / cols)
    most = min(machine.cores // base, n,
               max(1, outer * n * inner // (base * MIN_TILE_INPUT)))
    one = _cycles(SimpleNamespace(tiles=_grid(outer, inner, rows, cols),
                                  params=dict(op=op, n=n), stochastic=False), machine)
    t_one = max(float(one.max()), float(one.sum()) / machine.cores)
    ne = outer * inner
    comb = _combine_tiles(ne, machine)
    best, best_t = 1, t_one * (1 - SPLIT_MIN_GAIN)
    p = 2
    while p <= most:
        tiles = _part_tiles(outer, n, inner, rows_p, cols, p)
        cyc = _part_cycles(SimpleNamespace(tiles=tiles, params=dict(inner=inner)), machine)
        busy = max(float(cyc.max()), float(cyc.sum()) / machine.cores)
        nparts = int(tiles[:, 0].max()) + 1
        cc = cycle_table.predict("conv2d_gw_reduce", n=(comb[:, 1] - comb[:, 0]).astype(
            np.float64), nparts=nparts)
        chips = min(machine.chips, math.ceil(len(tiles) / machine.app_cores_per_chip))
        pk = 8.0 * ne * nparts * (1 - 1 / chips) / machine.packet_payload_bytes
        recv = pk * machine.receive_cycles_per_packet / machine.app_cores_per_chip
        link = pk / PARTIAL_LINKS * machine.clock_hz / machine.link_packets_per_s
        t = busy + machine.barrier_cycles + float(np.max(cc)) + max(recv, link)
        if t < best_t:
            best, best_t = nparts, t
        p *= 2
    return best


def _lower_split(in_buf, out_buf, outer, n, inner, shift, rounding, machine, label, nparts,
                 st):
    rows, cols = tile_shape(outer, n, inner, machine)
    tiles = _part_tiles(outer, n, inner, _part_rows(rows, cols, machine), cols,
                        min(nparts, n))
    nparts = int(tiles[:, 0].max()) + 1     # slices of ceil(n / nparts): maybe fewer
    ne = outer * inner
    part = Buffer((nparts, ne, 4), INT16, name="reduce_partials")
    tr = (tiles[:, 2] - tiles[:, 1]).astype(np.int64)
    tc = (tiles[:, 4] - tiles[:, 3]).astype(np.int64)
    nin = tr * tc * (tiles[:, 6] - tiles[:, 5]).astype(np.int64)
    stream = np.minimum(2 * nin, machine.tile_budget_bytes // 4)
    part_call = Call(kernel="reduce_part_q15", op=label, inputs=(in_buf,), outputs=(part,),
                     params=dict(outer=outer, n=n, inner=inner, nparts=nparts),
                     tiles=tiles, cores=place(len(tiles), machine),
                     macs=np.zeros(len(tiles), np.int64), elems=nin, dma_in=2 * nin,
                     dma_out=8 * tr * tc, dtcm=2 * stream + 10 * tc + 8 * tr * tc)
    from .conv import REDUCE_DTCM_PER_ELEM
    rt = _combine_tiles(ne, machine)
    nk = (rt[:, 1] - rt[:, 0]).astype(np.int64)
    comb = Call(kernel="conv2d_gw_reduce_q15", op=label, inputs=(part,), outputs=(out_buf,),
                params=dict(nparts=nparts, k=ne, cin=1, cout=1, shift=shift,
                            rounding=rounding),
                tiles=rt, cores=place(len(rt), machine), macs=np.zeros(len(rt), np.int64),
                elems=nk * nparts, dma_in=8 * nk * nparts, dma_out=2 * nk,
                dtcm=nk * REDUCE_DTCM_PER_ELEM, stochastic=st)
    return [part_call, comb]


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


@dma.describes("reduce_part_q15")
def plan_part(call, t):
    """Per output row r of the tile: rows k0..k1 of its column slice of the (outer, n, inner)
    input; the tile's block of partial s, an (outer, inner) plane of int64 sums."""
    s, o0, o1, i0, i1, k0, k1 = (int(v) for v in call.tiles[t])
    p = call.params
    n, inner, tc = p["n"], p["inner"], i1 - i0
    plane = p["outer"] * inner
    ds = [dma.rows(dma.READ, 0, 2 * (r * n * inner + k0 * inner + i0), k1 - k0, 2 * tc,
                   2 * inner) for r in range(o0, o1)]
    ds.append(dma.rows(dma.WRITE, 0, 8 * (s * plane + o0 * inner + i0), o1 - o0, 8 * tc,
                       8 * inner))
    return dma.TilePlan(tuple(ds), resident=int(call.dtcm[t]))
