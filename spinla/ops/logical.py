"""Logical ops and value tests (Array API names): logical_and/or/xor/not, all, any, isnan,
isinf, isfinite, real, imag, conj.

The logical ops run on the machine's comparison and max/min kernels (x != 0 gives 0/1, and
then and = min, or = max, xor = not_equal).  Fixed point has no NaN and no infinity
(asarray refuses them), so isnan and isinf are all False and isfinite all True: that is the
truth about every value a spinla array can hold, not a stub.  spinla's numbers are real, so
real and conj return x and imag returns zeros in x's format.
"""
from __future__ import annotations

__all__ = ["logical_and", "logical_or", "logical_xor", "logical_not", "all", "any", "isnan",
           "isinf", "isfinite", "real", "imag", "conj"]

import math

from ..fixed import BOOL
from ._core import operand
from .creation import full, zeros
from .elementwise import equal, maximum, minimum, not_equal
from .reduction import _axes, _out_shape
from .reduction import max as _max
from .reduction import min as _min


def _truth(x, op):
    a = operand(x, op)
    return a if a.fmt.kind == "bool" else not_equal(a, 0)


def logical_and(x1, x2, /):
    return minimum(_truth(x1, "logical_and"), _truth(x2, "logical_and"))


def logical_or(x1, x2, /):
    return maximum(_truth(x1, "logical_or"), _truth(x2, "logical_or"))


def logical_xor(x1, x2, /):
    return not_equal(_truth(x1, "logical_xor"), _truth(x2, "logical_xor"))


def logical_not(x, /):
    return equal(operand(x, "logical_not"), 0)


def _all_any(op, x, axis, keepdims):
    a = operand(x, op)
    axes = _axes(op, axis, a.ndim)
    if math.prod(a.shape[d] for d in axes) == 0:  # the empty and is True, the empty or False
        return full(_out_shape(a.shape, axes, keepdims), op == "all", fmt=BOOL)
    red = _min if op == "all" else _max
    return red(_truth(a, op), axis=axes, keepdims=keepdims)


def all(x, /, *, axis=None, keepdims=False):
    """True where every element along axis is nonzero (a min reduction of x != 0)."""
    return _all_any("all", x, axis, keepdims)


def any(x, /, *, axis=None, keepdims=False):
    """True where some element along axis is nonzero (a max reduction of x != 0)."""
    return _all_any("any", x, axis, keepdims)


def isnan(x, /):
    """All False: no fixed-point value is NaN."""
    return zeros(operand(x, "isnan").shape, fmt=BOOL)


def isinf(x, /):
    """All False: no fixed-point value is infinite."""
    return zeros(operand(x, "isinf").shape, fmt=BOOL)


def isfinite(x, /):
    """All True: every fixed-point value is finite."""
    return full(operand(x, "isfinite").shape, True, fmt=BOOL)


def real(x, /):
    return operand(x, "real")


def conj(x, /):
    return operand(x, "conj")


def imag(x, /):
    a = operand(x, "imag")
    return zeros(a.shape, fmt=a.fmt)
