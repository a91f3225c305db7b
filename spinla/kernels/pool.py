"""pool_q15 family: 2-D average and max pooling (NHWC, valid windows) and their gradients.

Forward tiles are ranges of global output rows (n * oh + oy) with the input rows they read;
gradient tiles are ranges of global input rows (n * h + iy) with the output-gradient rows of
every window touching them, so overlapping windows are gathered per core and never need a
cross-core reduction.  Tile fields: (r0, r1, row0), row0 = the first global row of the input
the tile's DMA fetches.
"""
from __future__ import annotations

import math

import numpy as np

from .. import abi, tiling
from ..fixed import ROUNDING_MODES, STOCHASTIC
from ..program import Call
from . import SEED, In, Out, Scratch, Step, cycle_table, dma, i32, register_bound, threads



# The spl_pool2d_t fields in the header's order (params["geom"] is a tuple of them).
GEOM_FIELDS = abi.struct("spl_pool2d_t").names


def geometry(**fields):
    """The spl_pool2d_t fields (by name), as a tuple in the struct's order."""
    if set(fields) != set(GEOM_FIELDS):
        raise TypeError(f"pool2d geometry needs exactly {GEOM_FIELDS}, got {sorted(fields)}")
    return tuple(int(fields[f]) for f in GEOM_FIELDS)


def _g(geom):
    return dict(zip(GEOM_FIELDS, geom))


def reciprocal(window: int):
    """(mult, shift) with mult / 2^shift ~ 1 / window: exact for powers of two, else
    mult in (2^30, 2^31) so the relative error is below 2^-31."""
    if window & (window - 1) == 0:
        return 1, window.bit_length() - 1
    p = math.ceil(math.log2(window))
    shift = 30 + p
    mult = ((1 << shift) + window // 2) // window
    return mult, shift


def _i32(v):
    return np.ascontiguousarray(v, dtype=np.int32)


def _fwd_rows(g, r0, r1):
    """First global input row and row count of output-row ranges [r0, r1)."""
    n0, oy0 = r0 // g["oh"], r0 % g["oh"]
    last = np.maximum(r1 - 1, r0)
    n1, oy1 = last // g["oh"], last % g["oh"]
    start = n0 * g["h"] + oy0 * g["sy"]
    end = n1 * g["h"] + oy1 * g["sy"] + g["kh"]
    return start.astype(np.int64), (end - start).astype(np.int64)


def _grad_rows(g, r0, r1):
    """First global output-gradient row and row count that input-row ranges [r0, r1) gather."""
    h, oh, kh, sy = g["h"], g["oh"], g["kh"], g["sy"]
    n0, a = r0 // h, r0 % h
    last = np.maximum(r1 - 1, r0)
    n1, b = last // h, last % h
    t = a - kh + 1
    lo = np.where(t <= 0, 0, (t + sy - 1) // sy)
    hi = np.minimum(b // sy + 1, oh)
    start = n0 * oh + np.minimum(lo, oh)
    end = np.maximum(n1 * oh + hi, start)
    start = np.minimum(start, max(g["n"] * oh - 1, 0))
    return start.astype(np.int64), (end - start).astype(np.int64)


def _plan(total, need, machine, op, shapes, what):
    budget = machine.tile_budget_bytes
    per = max(1, math.ceil(total / machine.cores))
    while True:
        b = np.arange(0, total, per, dtype=np.int64)
        e = np.minimum(b + per, total)
        if need(b, e).max() <= budget:
            return b, e
        if per == 1:
            raise tiling.no_fit(op, shapes, int(need(b, e).max()), budget, what)
        per = max(1, per * 3 // 4 if per > 3 else per - 1)


# --- forward -----------------------------------------------------------------------------------

def _scaled(call, g):
    """1 for an average over a window that is not a power of two (a reciprocal multiply)."""
    win = g["kh"] * g["kw"]
    return float(call.kernel.startswith("avg") and win & (win - 1) != 0)


def _fwd_cycles(call, machine):
    g = _g(call.params["geom"])
    rows = (call.tiles[:, 1] - call.tiles[:, 0]).astype(np.float64)
    outs = rows * g["ow"] * g["c"]
    family = "avg_pool" if call.kernel == "avg_pool2d_q15" else "max_pool"
    return cycle_table.predict(family, rows=rows, outs=outs, win=outs * g["kh"] * g["kw"],
                               c=g["c"], kh=g["kh"], stochastic=float(call.stochastic),
                               scaled=_scaled(call, g))


def _consts(call):
    """The geometry, tile and tile-count arguments every pooling runner takes."""
    return i32(call.params["geom"]), i32(call.tiles), call.ntiles


def _scratch(per: int):
    """Per-thread int32 accumulators of `per` values (the sums of one tile) and the thread
    count they are sized for."""
    nth = threads()
    return Scratch(nth * max(per, 1), "int32_t *"), nth


@register_bound("avg_pool2d_q15", _fwd_cycles, "average pooling: exact sum, reciprocal multiply")
def bind_avg(call):
    p = call.params
    g = _g(p["geom"])
    per = g["ow"] * g["c"]
    scratch, nth = _scratch(per)
    return (Step("spl_run_avg_pool2d", (In(0), Out(0), *_consts(call), p["mult"], p["shift"],
                                        ROUNDING_MODES[p["rounding"]], SEED, scratch, per,
                                        nth)),)


@register_bound("max_pool2d_q15", _fwd_cycles, "max pooling: values and first-argmax offsets")
def bind_max(call):
    return (Step("spl_run_max_pool2d", (In(0), Out(0), Out(1), *_consts(call), threads())),)


def lower_forward(x_buf, out_bufs, geom, *, kind: str, machine, op: str, mult=1, shift=0,
                  rounding="nearest"):
    """kind 'avg' (out_bufs = (y,)) or 'max' (out_bufs = (y, argmax))."""
    g = _g(geom)
    rowb_in = 2 * g["w"] * g["c"]
    rowb_out = 2 * g["ow"] * g["c"] * (2 if kind == "max" else 1)
    acc = 4 * g["ow"] * g["c"] if kind == "avg" else 0

    def need(r0, r1):
        _, nrows = _fwd_rows(g, r0, r1)
        return rowb_in * nrows + rowb_out * (r1 - r0) + acc

    shapes = [x_buf.shape, out_bufs[0].shape]
    r0, r1 = _plan(g["n"] * g["oh"], need, machine, op, shapes,
                   "one output row, its window rows and sums exceed DTCM")
    row0, nrows = _fwd_rows(g, r0, r1)
    tiles = np.stack([r0, r1, row0], 1).astype(np.int32)
    nout = (r1 - r0) * g["ow"] * g["c"]
    st = kind == "avg" and rounding == STOCHASTIC
    return Call(kernel=f"{kind}_pool2d_q15", op=op, inputs=(x_buf,), outputs=tuple(out_bufs),
                params=dict(geom=tuple(geom), mult=int(mult), shift=int(shift),
                            rounding=rounding),
                tiles=tiles, cores=tiling.place(len(tiles), machine),
                macs=np.zeros(len(tiles), np.int64), elems=nout * g["kh"] * g["kw"],
                dma_in=rowb_in * nrows, dma_out=rowb_out * (r1 - r0),
                dtcm=need(r0, r1), stochastic=st)


# --- gradients ---------------------------------------------------------------------------------

def _grad_cycles(call, machine):
    g = _g(call.params["geom"])
    t = call.tiles
    rows = (t[:, 1] - t[:, 0]).astype(np.float64)
    hits = cycle_table.pool_scattered(g["h"], g["oh"], g["kh"], g["sy"], t[:, 0], t[:, 1])
    family = "avg_pool_grad" if call.kernel == "avg_pool2d_grad_q15" else "max_pool_grad"
    images = (t[:, 1] - 1) // g["h"] - t[:, 0] // g["h"] + 1
    return cycle_table.predict(family, rows=rows, nin=rows * g["w"] * g["c"], hits=hits,
                               kw=g["kw"], ow=g["ow"], c=g["c"], images=images,
                               stochastic=float(call.stochastic), scaled=_scaled(call, g))


@register_bound("avg_pool2d_grad_q15", _grad_cycles,
                "average pooling gradient: exact, one rounding")
def bind_avg_grad(call):
    p = call.params
    per = p["acc_per_tile"]
    scratch, nth = _scratch(per)
    return (Step("spl_run_avg_pool2d_grad", (In(0), Out(0), *_consts(call), p["mult"],
                                             p["shift"], ROUNDING_MODES[p["rounding"]], SEED,
                                             scratch, per, nth)),)


@register_bound("max_pool2d_grad_q15", _grad_cycles, "max pooling gradient: routed to the argmax")
def bind_max_grad(call):
    per = call.params["acc_per_tile"]
    scratch, nth = _scratch(per)
    return (Step("spl_run_max_pool2d_grad", (In(0), In(1), Out(0), *_consts(call), scratch, per,
                                             nth)),)


def lower_grad(in_bufs, dx_buf, geom, *, kind: str, machine, op: str, mult=1, shift=0,
               rounding="nearest"):
    """kind 'avg' (in_bufs = (delta,)) or 'max' (in_bufs = (delta, argmax))."""
    g = _g(geom)
    rowb_d = 2 * g["ow"] * g["c"] * len(in_bufs)
    rowb_x = (2 + 4) * g["w"] * g["c"]  # output row + int32 sums

    def need(r0, r1):
        _, nrows = _grad_rows(g, r0, r1)
        return rowb_d * nrows + rowb_x * (r1 - r0)

    shapes = [b.shape for b in in_bufs] + [dx_buf.shape]
    r0, r1 = _plan(g["n"] * g["h"], need, machine, op, shapes,
                   "one input row, its sums and the gradient rows of its windows exceed DTCM")
    row0, nrows = _grad_rows(g, r0, r1)
    tiles = np.stack([r0, r1, row0], 1).astype(np.int32)
    nin = (r1 - r0) * g["w"] * g["c"]
    st = kind == "avg" and rounding == STOCHASTIC
    return Call(kernel=f"{kind}_pool2d_grad_q15", op=op, inputs=tuple(in_bufs),
                outputs=(dx_buf,),
                params=dict(geom=tuple(geom), mult=int(mult), shift=int(shift),
                            rounding=rounding,
                            acc_per_tile=int((r1 - r0).max()) * g["w"] * g["c"]),
                tiles=tiles, cores=tiling.place(len(tiles), machine),
                macs=np.zeros(len(tiles), np.int64), elems=nin,
                dma_in=rowb_d * nrows, dma_out=2 * nin, dtcm=need(r0, r1),
                stochastic=st)


# --- DMA plans ---------------------------------------------------------------------------------

@dma.describes("avg_pool2d_q15")
@dma.describes("max_pool2d_q15")
def plan_forward(call, t):
    """Input rows from the tile record's first row; output rows (and argmax offsets); scratch:
    one output row of int32 sums (average)."""
    r0, r1, row0 = (int(v) for v in call.tiles[t])
    g = _g(call.params["geom"])
    _, nrows = _fwd_rows(g, np.int64(r0), np.int64(r1))
    rowb_in, rowb_out = 2 * g["w"] * g["c"], 2 * g["ow"] * g["c"]
    ds = [dma.block(dma.READ, 0, row0 * rowb_in, int(nrows) * rowb_in)]
    ds += [dma.block(dma.WRITE, j, r0 * rowb_out, (r1 - r0) * rowb_out)
           for j in range(len(call.outputs))]
    avg = call.kernel == "avg_pool2d_q15"
    return dma.TilePlan(tuple(ds), scratch=4 * g["ow"] * g["c"] if avg else 0)


@dma.describes("avg_pool2d_grad_q15")
@dma.describes("max_pool2d_grad_q15")
def plan_grad(call, t):
    """Output-gradient rows (and argmax rows) from the record's first row; the tile's input
    rows; scratch: their int32 sums."""
    r0, r1, drow0 = (int(v) for v in call.tiles[t])
    g = _g(call.params["geom"])
    _, nrows = _grad_rows(g, np.int64(r0), np.int64(r1))
    rowb_d, rowb_x = 2 * g["ow"] * g["c"], 2 * g["w"] * g["c"]
    ds = [dma.block(dma.READ, i, drow0 * rowb_d, int(nrows) * rowb_d)
          for i in range(len(call.inputs))]
    ds.append(dma.block(dma.WRITE, 0, r0 * rowb_x, (r1 - r0) * rowb_x))
    return dma.TilePlan(tuple(ds), scratch=4 * (r1 - r0) * g["w"] * g["c"])
