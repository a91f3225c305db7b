"""Integer division and bitwise ops (Array API names): floor_divide, remainder (also `//`
and `%`), bitwise_and/or/xor/invert/left_shift/right_shift.

All run on the host (spinla/ops/_host.py), exactly on the int16 storage: both operands are
aligned on the finer grid and divided in int64, so floor(x1 / x2) and x1 - x2 floor(x1 / x2)
are exact before the one rounding into the output format.  Output format: INT16 for
integer/bool operands, else the coarser fixed-point format among the array operands (Python
scalars are weak), as for the other binary ops.  Division by zero has no value: floor_divide
gives the format's max (x1 > 0), min (x1 < 0) or 0, remainder gives 0; each is counted as a
saturation (there is no NaN or inf in fixed point).
Bitwise ops take bool and int16 only.  left_shift saturates where NumPy's int16 would wrap
(counted), so values stay honest.
"""
from __future__ import annotations

__all__ = ["floor_divide", "remainder", "bitwise_and", "bitwise_or", "bitwise_xor",
           "bitwise_invert", "bitwise_left_shift", "bitwise_right_shift"]

import numbers

import numpy as np

from .. import runtime
from ..array import Array
from ..fixed import BOOL, INT16, QMAX, QMIN, Format
from ._host import aligned, ints, wrap


def _weak(x) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, (np.generic, np.ndarray, Array))


def _out_fmt(xs, arrays) -> Format:
    from .._info import result_type
    strong = [a.fmt for x, a in zip(xs, arrays) if not _weak(x)] or [a.fmt for a in arrays]
    fo = result_type(*strong)
    return INT16 if fo.kind == "bool" else fo


def _divmod(op, x1, x2):
    (v1, v2), c, arrs = aligned(op, x1, x2)
    v1, v2 = np.broadcast_arrays(v1, v2)
    fo = _out_fmt((x1, x2), arrs)
    zero = v2 == 0
    safe = np.where(zero, 1, v2)
    q, r = np.floor_divide(v1, safe), np.mod(v1, safe)
    if op == "floor_divide":
        res = wrap(op, np.where(zero, 0, q), fo, frac_in=0)
        fill = np.where(v1 > 0, QMAX, np.where(v1 < 0, QMIN, 0))
    else:
        res = wrap(op, np.where(zero, 0, r), fo, frac_in=c)
        fill = np.zeros_like(v1)
    if zero.any():  # no value exists: max/min/0 as divide gives, each counted
        res.buffer.data[zero] = fill[zero]
        runtime.record(op, int(np.count_nonzero(zero)), call=False)
    return res


def floor_divide(x1, x2, /):
    """floor(x1 / x2), exact, then rounded into the output format.  Runs on the host."""
    return _divmod("floor_divide", x1, x2)


def remainder(x1, x2, /):
    """x1 - x2 floor(x1 / x2) (the sign of x2, as Python's %), exact, then rounded into the
    output format.  Runs on the host."""
    return _divmod("remainder", x1, x2)


def _bits(op, *xs):
    vals = [ints(x, op) for x in xs]
    for _, a in vals:
        if a.fmt.kind == "fixed":
            raise TypeError(f"{op}: takes bool or int16 arrays, got {a.fmt}")
    fo = BOOL if all(a.fmt.kind == "bool" for _, a in vals) else INT16
    return [v for v, _ in vals], fo


def bitwise_and(x1, x2, /):
    """Runs on the host, exact."""
    (a, b), fo = _bits("bitwise_and", x1, x2)
    return wrap("bitwise_and", a & b, fo)


def bitwise_or(x1, x2, /):
    """Runs on the host, exact."""
    (a, b), fo = _bits("bitwise_or", x1, x2)
    return wrap("bitwise_or", a | b, fo)


def bitwise_xor(x1, x2, /):
    """Runs on the host, exact."""
    (a, b), fo = _bits("bitwise_xor", x1, x2)
    return wrap("bitwise_xor", a ^ b, fo)


def bitwise_invert(x, /):
    """~x (logical not for bool).  Runs on the host, exact."""
    (a,), fo = _bits("bitwise_invert", x)
    return wrap("bitwise_invert", (a == 0) if fo == BOOL else ~a, fo)


def _shift(op, x1, x2):
    (a, b), fo = _bits(op, x1, x2)
    if np.any(b < 0):
        raise ValueError(f"{op}: negative shift count")
    b = np.minimum(b, 32)  # int16 values are 0 or -1 after 16 right shifts; left ones saturate
    r = (a << b) if op == "bitwise_left_shift" else (a >> b)
    return wrap(op, np.clip(r, QMIN - 1, QMAX + 1), INT16)


def bitwise_left_shift(x1, x2, /):
    """x1 * 2**x2, saturating (counted) where int16 would wrap.  Runs on the host."""
    return _shift("bitwise_left_shift", x1, x2)


def bitwise_right_shift(x1, x2, /):
    """Arithmetic shift (floor(x1 / 2**x2)).  Runs on the host, exact."""
    return _shift("bitwise_right_shift", x1, x2)
