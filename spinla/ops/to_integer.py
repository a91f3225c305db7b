"""Rounding to integers and sign functions (Array API names): floor, ceil, trunc, round, sign,
signbit, copysign, nextafter.

floor, ceil, trunc, round and nextafter run on the host (spinla/ops/_host.py), exactly on
the int16 storage: dropping fractional bits of a fixed-point value is an integer shift.  The
result keeps x's format; ceil/round of values within one unit of the format's maximum may
need a value the format cannot hold and saturate, counted.  round is half to even, as the
standard asks.  Integer and boolean inputs are returned unchanged.
signbit and copysign run on the machine's comparison, where, abs and negative kernels.
"""
from __future__ import annotations

__all__ = ["floor", "ceil", "trunc", "round", "sign", "signbit", "copysign", "nextafter"]

import numpy as np

from ..fixed import INT16, Format
from ._core import operand
from ._host import aligned, ints, shift_round, wrap
from .elementwise import abs as _abs
from .elementwise import less, negative, where


def _to_integer(op, x, how):
    v, a = ints(x, op)
    if a.fmt.kind != "fixed" or a.fmt.frac == 0:
        return a
    f = a.fmt.frac
    if how == "floor":
        r = (v >> f) << f
    elif how == "ceil":
        r = -(((-v) >> f) << f)
    elif how == "trunc":
        r = np.where(v < 0, -(((-v) >> f) << f), (v >> f) << f)
    else:
        r = shift_round(v, f) << f
    return wrap(op, r, a.fmt)


def floor(x, /):
    """Largest integer <= x, in x's format.  Runs on the host, exact."""
    return _to_integer("floor", x, "floor")


def ceil(x, /):
    """Smallest integer >= x, in x's format (saturates, counted, above the format's largest
    integer).  Runs on the host, exact."""
    return _to_integer("ceil", x, "ceil")


def trunc(x, /):
    """x rounded towards zero, in x's format.  Runs on the host, exact."""
    return _to_integer("trunc", x, "trunc")


def round(x, /):
    """x rounded to the nearest integer, halves to even, in x's format.  Runs on the host,
    exact."""
    return _to_integer("round", x, "round")


def sign(x, /, *, fmt=None):
    """-1, 0 or 1.  Default format: x's, or q1.14 when x's cannot hold 1 (q0.15).  Runs on
    the host, exact."""
    v, a = ints(x, "sign")
    if a.fmt.kind == "bool":
        raise TypeError("sign: boolean arrays have no sign (the standard takes numeric dtypes)")
    fo = Format(fmt) if isinstance(fmt, int) else fmt
    if fo is None:
        fo = INT16 if a.fmt.kind == "int" else (a.fmt if a.fmt.frac < 15 else Format(14))
    return wrap("sign", np.sign(v), fo, frac_in=0)


def signbit(x, /):
    """x < 0 (fixed point has no negative zero): the machine's comparison kernel."""
    return less(operand(x, "signbit"), 0)


def copysign(x1, x2, /, *, fmt=None, rounding=None):
    """|x1| with the sign of x2 (x2 < 0 negative; no negative zero), on the machine's abs,
    negative and where kernels, in result_type(x1, x2) unless fmt=; |min| saturates,
    counted."""
    a, b = operand(x1, "copysign"), operand(x2, "copysign")
    if fmt is None:
        from .._info import result_type
        fmt = result_type(a, b)
    m = _abs(a, fmt=fmt, rounding=rounding)
    return where(less(b, 0), negative(m), m, fmt=fmt)


def nextafter(x1, x2, /):
    """The neighbour of x1 in x1's format in the direction of x2 (x2 where equal).  Runs on
    the host, exact; stepping past the format's range saturates, counted."""
    (v1, v2), c, (a, _) = aligned("nextafter", x1, x2)
    v1, v2 = np.broadcast_arrays(v1, v2)
    s = c - a.fmt.frac
    step = np.sign(v2 - v1) << s
    out = np.where(v1 == v2, v2, v1 + step)
    return wrap("nextafter", out, a.fmt, frac_in=c)
