"""DMA descriptors: what each tile of a Call moves between SDRAM and its core's DTCM.

Every kernel family states, per tile, the transfers a core makes (`Dma` records: which operand,
byte offset, rows of row_bytes `stride` bytes apart) and the DTCM the tile needs besides them
(its scratch).  This is the one description of a tile's data movement: the per-tile byte
annotations of a Call (dma_in, dma_out) must equal these totals (tests/test_streams.py checks
every family), the per-core streams serialise them (spinla/streams.py, spl_dma_t in spinla.h)
and the emulator's checked mode runs each tile on exactly these bytes (spinla/checked.py).

A family registers `plan(call, t) -> TilePlan` with @describes("kernel_name").
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

READ, WRITE = "read", "write"


@dataclass(frozen=True)
class Dma:
    """One transfer: `rows` rows of `row_bytes` bytes, `stride` bytes apart (may be 0 or
    negative) from byte `offset` of the operand.  operand: index into call.inputs (READ) or
    call.outputs (WRITE), or the name of a constant table in call.params (READ only, e.g. a
    gather's row indices).  In DTCM the rows sit dtcm_stride bytes apart (default row_bytes;
    a larger one leaves a zero-filled gap, as for packed weight rows' alignment padding)."""

    dir: str
    operand: object
    offset: int
    rows: int
    row_bytes: int
    stride: int
    dtcm_stride: int = 0
    # >= 0: an indexed read (spinla.h SPL_DMA_READ_INDEXED): row r starts at byte
    # offset + stride * index[r] of the operand, index[] being `rows` int32 row numbers an
    # earlier read of the tile put at this DTCM byte (its slot).  Which rows it reads is
    # known only at run time, so its byte ranges are the whole operand.
    index_slot: int = -1

    @property
    def indexed(self) -> bool:
        return self.index_slot >= 0

    @property
    def nbytes(self) -> int:
        return self.rows * self.row_bytes

    @property
    def dtcm_bytes(self) -> int:
        return self.rows * max(self.row_bytes, self.dtcm_stride)

    def byte_ranges(self):
        """(starts, stops) of the rows in the operand, as int64 arrays (not for an indexed
        read, whose rows are known only at run time)."""
        if self.indexed:
            raise ValueError(f"{self}: an indexed read's rows are known only at run time")
        s = self.offset + self.stride * np.arange(self.rows, dtype=np.int64)
        return s, s + self.row_bytes


@dataclass(frozen=True)
class TilePlan:
    """A tile's transfers and the DTCM it needs beyond its transfer slots (scratch: tables,
    accumulators, im2col rows).  streamed: the slots are stream buffers the kernel cycles
    through (the tile's resident DTCM is then `resident` bytes, not the slots' sum)."""

    dmas: tuple
    scratch: int = 0
    resident: int | None = None
    notes: dict = field(default_factory=dict)

    def reads(self):
        return [d for d in self.dmas if d.dir == READ]

    def writes(self):
        return [d for d in self.dmas if d.dir == WRITE]

    @property
    def dtcm(self) -> int:
        """DTCM bytes the tile occupies: its slots (or its stream buffers) and its scratch."""
        if self.resident is not None:
            return int(self.resident)
        return int(sum(d.dtcm_bytes for d in self.dmas) + self.scratch)


PLANS: dict[str, Callable] = {}


def describes(kernel: str):
    def deco(fn):
        PLANS[kernel] = fn
        return fn
    return deco


def plan(call, t: int) -> TilePlan:
    """The DMA plan of tile t of `call`."""
    fn = PLANS.get(call.kernel)
    if fn is None:
        raise KeyError(f"{call.op}: kernel {call.kernel} states no DMA plan "
                       f"(spinla/kernels/dma.py)")
    return fn(call, int(t))


def totals(call):
    """(bytes read, bytes written) per tile from the plans, int64 arrays."""
    r = np.zeros(call.ntiles, np.int64)
    w = np.zeros(call.ntiles, np.int64)
    for t in range(call.ntiles):
        for d in plan(call, t).dmas:
            (r if d.dir == READ else w)[t] += d.nbytes
    return r, w


# --- helpers the families share --------------------------------------------------------------

def block(dir, operand, offset, nbytes) -> Dma:
    """One contiguous transfer."""
    return Dma(dir, operand, int(offset), 1, int(nbytes), int(nbytes))


def rows(dir, operand, offset, nrows, row_bytes, stride, dtcm_stride=0) -> Dma:
    """nrows rows; one block where they are contiguous in SDRAM and packed alike in DTCM."""
    nrows, row_bytes, stride, dtcm_stride = int(nrows), int(row_bytes), int(stride), \
        int(dtcm_stride)
    if (nrows == 1 or stride == row_bytes) and dtcm_stride in (0, row_bytes):
        return block(dir, operand, offset, nrows * row_bytes)
    return Dma(dir, operand, int(offset), nrows, row_bytes, stride, dtcm_stride)


def box(dir, operand, offset, shape, strides, elem=2) -> list:
    """Transfers covering a strided box of elements (element offset and strides, any sign; a
    zero stride repeats the data, read once per repeat as the kernel consumes it).  The box
    is read along its smallest stride innermost, adjacent dimensions merged where contiguous:
    a transpose is then one 2-D transfer per tile, not one per element."""
    dims = [(int(n), int(s)) for n, s in zip(shape, strides) if int(n) != 1]
    if any(n == 0 for n, _ in zip(shape, strides)):
        return []
    if not dims:
        return [block(dir, operand, elem * offset, elem)]
    # Innermost: the smallest non-zero |stride|; repeats (stride 0) outermost.
    dims.sort(key=lambda d: (d[1] == 0, abs(d[1])), reverse=True)
    off = int(offset)
    # Negative strides: start from the lowest address (the core reverses in DTCM).
    norm = []
    for n, s in dims:
        if s < 0:
            off += (n - 1) * s
            s = -s
        norm.append((n, s))
    # Merge contiguous neighbours (inner first).
    merged = [norm[-1]]
    for n, s in reversed(norm[:-1]):
        n0, s0 = merged[0]
        if s0 != 0 and s == n0 * s0:
            merged[0] = (n * n0, s0)
        else:
            merged.insert(0, (n, s))
    n_in, s_in = merged[-1]
    if s_in == 1:
        row_bytes, lead = elem * n_in, merged[:-1]
        inner_rows, inner_stride = (lead[-1] if lead else (1, 0))
        lead = lead[:-1]
    else:
        row_bytes, inner_rows, inner_stride, lead = elem, n_in, s_in, merged[:-1]
    starts = np.zeros(1, np.int64)
    for n, s in lead:
        starts = (starts[:, None] + s * np.arange(n, dtype=np.int64)[None, :]).ravel()
    return [rows(dir, operand, elem * (off + int(st)), inner_rows, row_bytes,
                 elem * inner_stride) for st in starts]


def split_even(total: int, parts: int, t: int):
    """[lo, hi) of part t when `total` is split into `parts` near-equal integer pieces."""
    return total * t // parts, total * (t + 1) // parts
