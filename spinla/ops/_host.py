"""Ops with no SpiNNaker kernel that run on the host, exactly, on the int16 storage.

Sorting, set operations, nonzero, bitwise and integer-division ops have no C kernel yet.
They read each operand's integer storage, compute in int64 (exact: no float step), and
round once (half to even) into the output format; values beyond it saturate, counted in
spinla.stats() like any kernel's.  Each such op says "runs on the host" in its docstring.
They need concrete data, so inside spinla.jit they raise instead of tracing.
"""
from __future__ import annotations

import numpy as np

from .. import runtime
from ..array import Array
from ..fixed import QMAX, QMIN, Format
from ..program import Buffer
from ._core import operand


def ints(x, op: str) -> tuple[np.ndarray, Array]:
    """(int64 storage, Array) of an operand; raises inside spinla.jit."""
    a = operand(x, op)
    if a.buffer.data is None:
        raise RuntimeError(f"{op}: runs on the host (no SpiNNaker kernel) and needs concrete "
                           f"data; it cannot be traced inside spinla.jit")
    return a.buffer.data.astype(np.int64), a


def aligned(op: str, *xs):
    """Operands' storage on one common grid (the finest frac among them), exactly."""
    vals = [ints(x, op) for x in xs]
    c = max(a.fmt.frac for _, a in vals)
    return [v << (c - a.fmt.frac) for v, a in vals], c, [a for _, a in vals]


def shift_round(v: np.ndarray, s: int) -> np.ndarray:
    """v * 2**-s rounded half to even (s >= 0), exactly in integers; s < 0 shifts left."""
    if s <= 0:
        return v << -s
    q = v >> s
    r = v - (q << s)
    half = 1 << (s - 1)
    return q + ((r > half) | ((r == half) & (q & 1).astype(bool)))


def wrap(op: str, v: np.ndarray, fmt: Format, frac_in: int | None = None) -> Array:
    """An Array of `fmt` from int64 values at `frac_in` (default: fmt's own frac), rounded
    once and saturated (counted)."""
    v = np.asarray(v, dtype=np.int64)
    if fmt.kind == "bool":
        data = (v != 0).astype(np.int16)
        sat = 0
    else:
        if frac_in is not None:
            v = shift_round(v, frac_in - fmt.frac)
        sat = int(np.count_nonzero((v > QMAX) | (v < QMIN)))
        data = np.clip(v, QMIN, QMAX).astype(np.int16)
    runtime.record(op, sat, call=False)
    return Array(Buffer(data.shape, fmt, data=np.ascontiguousarray(data)))


def index_array(op: str, idx: np.ndarray) -> Array:
    """Host integer results (indices, counts) as an INT16 Array; too large is an error, not
    a saturation (an index that silently stops at 32767 would select wrong data)."""
    from ..fixed import INT16
    idx = np.asarray(idx, dtype=np.int64)
    if idx.size and (idx.max() > QMAX or idx.min() < QMIN):
        raise OverflowError(f"{op}: an index or count ({int(idx.max())}) exceeds int16, "
                            f"spinla's only integer format")
    return Array(Buffer(idx.shape, INT16, data=np.ascontiguousarray(idx.astype(np.int16))))
