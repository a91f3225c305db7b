"""copy_q15: every data-movement op (transpose, permute, flip, slice, pad, concatenate,
stack, broadcast) as one Call made of strided pieces copied into a fresh output buffer.

A piece copies a box of `shape` from input `src` (element offset and strides, negative to flip,
zero to broadcast) to the output (offset and strides); `fill` first sets the whole output
(padding).  Tiles split each piece along its first dimension.
"""
from __future__ import annotations

import math

import numpy as np

from .. import tiling
from ..program import Call
from . import In, Out, Step, View, cycle_table, dma, i32, register, register_bound, threads


def _cycles(call, machine):
    """Per tile: its piece's elements, contiguous or strided along the last axis, in rows of
    the last axis; a fill's share of the output (spread over the tiles)."""
    elems = np.asarray(call.elems, np.float64)
    pieces = call.params["pieces"]
    contig = np.ones(len(elems), bool)
    last = np.ones(len(elems))
    for i, pc in enumerate(pieces):
        rows = call.tiles[:, 0] == i
        contig[rows] = pc["src_strides"][-1] == 1 and pc["dst_strides"][-1] == 1
        last[rows] = max(1, pc["shape"][-1])
    fill = 0.0
    if call.params["fill"] is not None:
        fill = float(np.prod(call.outputs[0].shape)) / max(1, len(elems))
    return cycle_table.predict("copy", contig=elems * contig, strided=elems * ~contig,
                               runs=elems / last, fill=fill)


@register_bound("copy_q15", _cycles, "strided box copies (DMA work)")
def bind(call):
    """The optional fill of the whole output, then one strided copy per piece (its tiles)."""
    n = call.outputs[0].size
    fill = call.params["fill"]
    steps = [] if fill is None else [Step("arm_fill_q15", (Out(0), n, int(fill)))]
    nth = threads(n)
    for pi, pc in enumerate(call.params["pieces"]):
        tiles = call.tiles[call.tiles[:, 0] == pi][:, 1:]
        steps.append(Step("spl_run_copy", (In(pc["src"], pc["src_offset"]), i32(pc["src_strides"]),
                                           Out(0, pc["dst_offset"]), i32(pc["dst_strides"]),
                                           i32(pc["shape"]), len(pc["shape"]), i32(tiles),
                                           len(tiles), nth)))
    return tuple(steps)


def contiguous_strides(shape):
    st, acc = [], 1
    for s in reversed(shape):
        st.append(acc)
        acc *= s
    return tuple(reversed(st))


def piece(src: int, shape, src_offset=0, src_strides=None, dst_offset=0, dst_strides=None,
          src_shape=None, dst_shape=None):
    shape = tuple(shape) or (1,)
    return dict(src=src, shape=shape, src_offset=int(src_offset),
                src_strides=tuple(src_strides if src_strides is not None
                                  else contiguous_strides(src_shape or shape)) or (0,),
                dst_offset=int(dst_offset),
                dst_strides=tuple(dst_strides if dst_strides is not None
                                  else contiguous_strides(dst_shape or shape)) or (0,))


def lower(inputs, out_buf, pieces, *, machine, op: str, fill=None):
    rows = []
    for pi, pc in enumerate(pieces):
        if len(pc["shape"]) > 6:
            raise ValueError(f"{op}: at most 6 dimensions are supported, got {len(pc['shape'])}")
        n0 = pc["shape"][0]
        inner = max(1, math.prod(pc["shape"][1:]))
        # Spread over the cores, at least 256 elements a tile.  A first-dimension row longer
        # than DTCM is moved in several DMA transfers, which the cost model ignores.
        per = max(-(-n0 // machine.cores), -(-256 // inner), 1)
        d0 = np.arange(0, n0, per)
        rows.extend(zip([pi] * len(d0), d0.tolist(), np.minimum(d0 + per, n0).tolist()))
    tiles = np.asarray(rows or [(0, 0, 0)], dtype=np.int32)
    per_piece = np.asarray([math.prod(pc["shape"][1:]) for pc in pieces] or [0], np.int64)
    inner = per_piece[tiles[:, 0]]
    elems = (tiles[:, 2] - tiles[:, 1]).astype(np.int64) * inner
    dma_out = 2 * elems + 2 * _fill_lengths(out_buf.size, len(tiles), pieces, fill)
    return Call(kernel="copy_q15", op=op, inputs=tuple(inputs), outputs=(out_buf,),
                params=dict(pieces=pieces, fill=fill), tiles=tiles,
                cores=tiling.place(len(tiles), machine), macs=np.zeros(len(tiles), np.int64),
                elems=elems, dma_in=2 * elems, dma_out=dma_out,
                dtcm=np.minimum(4 * elems, machine.tile_budget_bytes))


@register("view", lambda call, machine: np.zeros(call.ntiles),
          "reshape or a contiguous slice: the same SDRAM bytes under another shape",
          bind=lambda call: View(call.params["offset"]))
def _run_view(call, ins, outs, seed):
    off = call.params["offset"]
    size = math.prod(call.params["shape"])
    outs[0] = ins[0].reshape(-1)[off:off + size].reshape(call.params["shape"])
    return 0


def lower_view(in_buf, out_buf, *, op: str, offset: int = 0):
    z = np.zeros(1, np.int64)
    return Call(kernel="view", op=op, inputs=(in_buf,), outputs=(out_buf,),
                params=dict(shape=out_buf.shape, offset=int(offset)),
                tiles=np.zeros((1, 0), np.int32),
                cores=np.zeros(1, np.int32), macs=z, elems=z, dma_in=z, dma_out=z, dtcm=z)


def _gather_cycles(call, machine):
    """The core's work (cycle table) plus one DMA set-up (machine.py) for each source transfer
    of the tile's plan (plan_gather: a run of consecutive source rows is one transfer)."""
    rows = (call.tiles[:, 1] - call.tiles[:, 0]).astype(np.float64)
    return (cycle_table.predict("gather", rows=rows, elems=call.elems)
            + machine.dma_setup_cycles * _source_runs(call))


def _source_runs(call) -> np.ndarray:
    """Per tile, the runs of consecutive source rows among its row indices."""
    idx = np.asarray(call.params["rows"], np.int64)
    r0, r1 = call.tiles[:, 0].astype(np.int64), call.tiles[:, 1].astype(np.int64)
    if len(idx) == 0:
        return np.zeros(len(r0))
    # brk[i]: breaks in consecutiveness among idx[0..i]; a tile's runs are 1 + its breaks.
    brk = np.r_[0, np.cumsum(np.diff(idx) != 1)]
    top = len(idx) - 1
    first, last = np.minimum(r0, top), np.minimum(np.maximum(r1 - 1, r0), top)
    return np.where(r1 > r0, brk[last] - brk[first] + 1, 0).astype(np.float64)


@register_bound("gather_rows_q15", _gather_cycles, "take along the leading axis (row gather)")
def bind_gather(call):
    return (Step("spl_run_gather", (In(0), call.params["row_len"], i32(call.params["rows"]),
                                    Out(0), i32(call.tiles), call.ntiles,
                                    threads(call.outputs[0].size))),)


def lower_gather(in_buf, out_buf, rows: np.ndarray, *, machine, op: str = "take"):
    row_len = int(np.prod(in_buf.shape[1:], dtype=np.int64))
    rows = np.ascontiguousarray(rows, dtype=np.int32)
    per_row = max(1, 2 * row_len)
    per = max(1, min(len(rows), (machine.tile_budget_bytes // 2) // per_row,
                     -(-len(rows) // machine.cores)))
    b = np.arange(0, len(rows), per, dtype=np.int64)
    tiles = np.stack([b, np.minimum(b + per, len(rows))], 1).astype(np.int32)
    n = (tiles[:, 1] - tiles[:, 0]).astype(np.int64)
    return Call(kernel="gather_rows_q15", op=op, inputs=(in_buf,), outputs=(out_buf,),
                params=dict(rows=rows, row_len=row_len), tiles=tiles,
                cores=tiling.place(len(tiles), machine), macs=np.zeros(len(n), np.int64),
                elems=n * row_len, dma_in=2 * n * row_len + 4 * n, dma_out=2 * n * row_len,
                dtcm=np.minimum(2 * n * row_len, machine.tile_budget_bytes))


def lower_gather_indexed(in_buf, idx_buf, out_buf, *, machine, op: str = "take"):
    """Rows of in_buf (leading axis) at the row numbers in idx_buf, a Program buffer whose
    values are known only at run time: idx_buf holds len(out) int32 row numbers, each as two
    int16 elements (little-endian halves; spinla.nn.data.place_rows makes them).  This is how
    a training step draws its batch from a data set resident in SDRAM: the row numbers are
    one step's slice of the epoch's shuffled order.  On the host a number outside the
    source's rows gathers zeros and is counted as the call's saturation (spl_run_gather_indexed)."""
    row_len = int(np.prod(in_buf.shape[1:], dtype=np.int64))
    n_out = out_buf.shape[0]
    if idx_buf.size != 2 * n_out:
        raise ValueError(f"{op}: {n_out} rows need {2 * n_out} int16 elements of row numbers, "
                         f"the index buffer has {idx_buf.size}")
    per_row = max(1, 2 * row_len)
    per = max(1, min(n_out, (machine.tile_budget_bytes // 2) // per_row,
                     -(-n_out // machine.cores)))
    b = np.arange(0, n_out, per, dtype=np.int64)
    tiles = np.stack([b, np.minimum(b + per, n_out)], 1).astype(np.int32)
    n = (tiles[:, 1] - tiles[:, 0]).astype(np.int64)
    return Call(kernel="gather_rows_indexed_q15", op=op, inputs=(in_buf, idx_buf),
                outputs=(out_buf,), params=dict(row_len=row_len, nsrc=int(in_buf.shape[0])),
                tiles=tiles, cores=tiling.place(len(tiles), machine),
                macs=np.zeros(len(n), np.int64), elems=n * row_len,
                dma_in=2 * n * row_len + 4 * n, dma_out=2 * n * row_len,
                dtcm=np.minimum(2 * n * row_len + 4 * n, machine.tile_budget_bytes))


def _gather_indexed_cycles(call, machine):
    """The gather's work (the same ARM kernel, arm_gather_rows_q15) plus one DMA set-up for
    the tile's row numbers and one per row: rows known only at run time are never merged."""
    rows = (call.tiles[:, 1] - call.tiles[:, 0]).astype(np.float64)
    return (cycle_table.predict("gather", rows=rows, elems=call.elems)
            + machine.dma_setup_cycles * (rows + (rows > 0)))


@register_bound("gather_rows_indexed_q15", _gather_indexed_cycles,
                "take along the leading axis at row numbers known at run time")
def bind_gather_indexed(call):
    return (Step("spl_run_gather_indexed",
                 (In(0), call.params["nsrc"], call.params["row_len"], In(1, ctype="int32_t *"),
                  Out(0), i32(call.tiles), call.ntiles, threads(call.outputs[0].size))),)


# --- DMA plans ---------------------------------------------------------------------------------

def _padding_runs(size: int, pieces):
    """[start, stop) runs of the output that no piece writes: the padding the fill sets
    (two (n, 2) int64 columns).  Filling only these lets every tile write its share at once:
    a fill over the pieces' elements would race with the tiles writing them."""
    mask = np.ones(size, bool)
    for pc in pieces:
        idx = np.asarray(pc["dst_offset"], np.int64)
        for n, s in zip(pc["shape"], pc["dst_strides"]):
            idx = (idx[..., None] + s * np.arange(n, dtype=np.int64)).reshape(-1)
        mask[idx] = False
    edges = np.flatnonzero(np.diff(np.r_[False, mask, False].astype(np.int8)))
    return edges.reshape(-1, 2)


def _fill_share(size: int, ntiles: int, pad, t: int):
    """The padding runs of tile t's share [lo, hi) of the output (dma.split_even)."""
    lo, hi = dma.split_even(size, ntiles, t)
    s, e = np.maximum(pad[:, 0], lo), np.minimum(pad[:, 1], hi)
    keep = e > s
    return s[keep], e[keep]


def _count_below(x, pc):
    """Destination elements of piece pc below each flat index in x, or None unless its
    destination strides are positive and nested (each at least the extent of the dimensions
    inside it, as for a box of a C-contiguous output): then O(ndim) per index."""
    dims = [(int(n), int(s)) for n, s in zip(pc["shape"], pc["dst_strides"]) if int(n) != 1]
    if any(s <= 0 for _, s in dims):
        return None
    for (_, s), (n_in, s_in) in zip(dims, dims[1:]):
        if s < n_in * s_in:
            return None
    y = np.asarray(x, np.int64) - pc["dst_offset"]
    count = np.zeros(len(y), np.int64)
    live = y > 0
    inner = [int(np.prod([n for n, _ in dims[d + 1:]], dtype=np.int64)) for d in range(len(dims))]
    for d, (n, s) in enumerate(dims):
        last = d == len(dims) - 1
        full = np.minimum(-(-y // s) if last else y // s, n)
        full = np.where(live, np.maximum(full, 0), 0)
        count += full * inner[d]
        y = y - full * s
        live = live & (full < n) & (y > 0)
    if not dims:
        count = (y > 0).astype(np.int64)
    return count


def _fill_lengths(size: int, ntiles: int, pieces, fill):
    """Padding elements each tile writes: its even share of the output (dma.split_even) less
    the pieces' elements in it; none without a fill."""
    if fill is None:
        return np.zeros(ntiles, np.int64)
    b = size * np.arange(ntiles + 1, dtype=np.int64) // max(1, ntiles)
    below = b.copy()
    for pc in pieces:
        c = _count_below(b, pc)
        if c is None:   # an unusual layout: count from the padding runs themselves
            pad = _padding_runs(size, pieces)
            return np.asarray([int((e - s).sum()) for s, e in (
                _fill_share(size, ntiles, pad, t) for t in range(ntiles))], np.int64)
        below -= c
    return np.diff(below)


def _padding_of(call):
    """The Call's padding runs, computed once (a plan asks for them tile by tile)."""
    pad = call.params.get("_padding")
    if pad is None:
        pad = call.params["_padding"] = _padding_runs(call.outputs[0].size,
                                                      call.params["pieces"])
    return pad


def _piece_box(call, t):
    pi, d0, d1 = (int(v) for v in call.tiles[t])
    pc = call.params["pieces"][pi]
    shape = (d1 - d0,) + tuple(pc["shape"][1:])
    return pc, shape, d0


@dma.describes("copy_q15")
def plan(call, t):
    """The tile's part of its piece: the source box in, the destination box out (each as
    strided transfers, smallest stride innermost), after its share of the fill."""
    ds = []
    if call.params["pieces"]:
        pc, shape, d0 = _piece_box(call, t)
        ds += dma.box(dma.READ, pc["src"], pc["src_offset"] + d0 * pc["src_strides"][0],
                      shape, pc["src_strides"])
        ds += dma.box(dma.WRITE, 0, pc["dst_offset"] + d0 * pc["dst_strides"][0], shape,
                      pc["dst_strides"])
    nfill = 0
    if call.params["fill"] is not None:
        s, e = _fill_share(call.outputs[0].size, call.ntiles, _padding_of(call), t)
        fills = [dma.block(dma.WRITE, 0, 2 * a, 2 * (z - a)) for a, z in zip(s.tolist(),
                                                                              e.tolist())]
        ds, nfill = fills + ds, len(fills)
    # Rows stream through a double buffer when the box exceeds DTCM.  notes["fill"]: the
    # first so many transfers write the fill value (the tile's share of the padding).
    return dma.TilePlan(tuple(ds), resident=int(call.dtcm[t]), notes={"fill": nfill})


@dma.describes("gather_rows_q15")
def plan_gather(call, t):
    """The tile's row indices (a constant table of the Call), each gathered row, and the
    tile's contiguous rows of the output."""
    r0, r1 = (int(v) for v in call.tiles[t])
    rl = 2 * call.params["row_len"]
    idx = np.asarray(call.params["rows"][r0:r1], np.int64)
    ds = [dma.block(dma.READ, "rows", 4 * r0, 4 * (r1 - r0))]
    # Runs of consecutive source rows become one transfer.
    if len(idx):
        brk = np.flatnonzero(np.diff(idx) != 1) + 1
        for a, z in zip(np.r_[0, brk], np.r_[brk, len(idx)]):
            ds.append(dma.block(dma.READ, 0, int(idx[a]) * rl, int(z - a) * rl))
    ds.append(dma.block(dma.WRITE, 0, r0 * rl, (r1 - r0) * rl))
    return dma.TilePlan(tuple(ds), resident=int(call.dtcm[t]))


@dma.describes("gather_rows_indexed_q15")
def plan_gather_indexed(call, t):
    """The tile's row numbers (into DTCM slot 0), the rows they name (an indexed read: one
    transfer per row, addresses from those numbers), and the tile's rows of the output."""
    r0, r1 = (int(v) for v in call.tiles[t])
    rl, n = 2 * call.params["row_len"], r1 - r0
    ds = (dma.block(dma.READ, 1, 4 * r0, 4 * n),
          dma.Dma(dma.READ, 0, 0, n, rl, rl, index_slot=0),
          dma.block(dma.WRITE, 0, r0 * rl, n * rl))
    return dma.TilePlan(ds, resident=int(call.dtcm[t]))


@dma.describes("view")
def plan_view(call, t):
    """A view moves nothing: the same SDRAM bytes under another shape."""
    return dma.TilePlan(())
