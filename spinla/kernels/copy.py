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
from . import In, Out, Step, View, cycle_table, i32, register, register_bound, threads


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
    fill_elems = out_buf.size / max(1, len(tiles)) if fill is not None else 0
    dma_out = 2 * elems + (2 * fill_elems if fill is not None else 0)
    return Call(kernel="copy_q15", op=op, inputs=tuple(inputs), outputs=(out_buf,),
                params=dict(pieces=pieces, fill=fill), tiles=tiles,
                cores=tiling.place(len(tiles), machine), macs=np.zeros(len(tiles), np.int64),
                elems=elems, dma_in=2 * elems, dma_out=np.asarray(dma_out, np.float64) * 1,
                dtcm=np.minimum(4 * elems, machine.tile_budget_bytes))


@register("view", lambda call, machine: np.zeros(call.ntiles),
          "reshape or a contiguous slice: the same SDRAM bytes under another shape",
          bind=lambda call: View(call.params["offset"]))
def _run_view(call, ins, outs, seed):
    off = call.params["offset"]
    size = int(np.prod(call.params["shape"], dtype=np.int64))
    outs[0] = ins[0].reshape(-1)[off:off + size].reshape(call.params["shape"])
    return 0


def lower_view(in_buf, out_buf, *, op: str, offset: int = 0):
    z = np.zeros(1, np.int64)
    return Call(kernel="view", op=op, inputs=(in_buf,), outputs=(out_buf,),
                params=dict(shape=out_buf.shape, offset=int(offset)),
                tiles=np.zeros((1, 0), np.int32),
                cores=np.zeros(1, np.int32), macs=z, elems=z, dma_in=z, dma_out=z, dtcm=z)


def _gather_cycles(call, machine):
    # ASSUMPTION: a gathered row costs one DMA set-up (machine.py) on top of the core's work.
    rows = (call.tiles[:, 1] - call.tiles[:, 0]).astype(np.float64)
    return (cycle_table.predict("gather", rows=rows, elems=call.elems)
            + machine.dma_setup_cycles * rows)


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
