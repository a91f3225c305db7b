"""Element-wise functions composed from the machine's table kernels (exp, log, sqrt) and
arithmetic kernels: log1p, log2, log10, expm1, logaddexp, reciprocal, hypot, sinh, cosh,
asinh, acosh, atanh.

Each is a short chain of kernel calls, so each intermediate is rounded once (nearest, or the
rounding= mode) in an intermediate format chosen to hold its range; the error is the sum of
those roundings carried through the chain (a few output LSBs), not the single rounding of a
one-kernel op.  Intermediates that leave their format saturate, counted.  logaddexp is one
logsumexp kernel call (one rounding).  There is no sine/cosine/arctangent table in
spinla_c/lut_q15.c, so sin, cos, tan, asin, acos, atan and atan2 are not offered.
"""
from __future__ import annotations

__all__ = ["log1p", "log2", "log10", "expm1", "logaddexp", "reciprocal", "hypot", "sinh",
           "cosh", "asinh", "acosh", "atanh"]

import math

from ..fixed import Format, frac_for
from ._core import operand
from .elementwise import abs as _abs
from .elementwise import add, divide, exp, less, log, multiply, negative, sqrt, square
from .elementwise import subtract, where
from .manipulation import stack
from .reduction import logsumexp


def _fmt_for(v: float, cap: int = 15) -> Format:
    return Format(min(cap, frac_for(min(abs(v), 32767.0))))


def log1p(x, /, *, rounding=None):
    """log(1 + x): 1 + x is rounded into a format that holds it, then the log table."""
    a = operand(x, "log1p")
    return log(add(a, 1, fmt=_fmt_for(a.fmt.max + 1, a.fmt.frac), rounding=rounding),
               rounding=rounding)


def log2(x, /, *, rounding=None):
    """log(x) / ln 2 (two roundings in q4.11, and the 16-bit constant 1/ln 2)."""
    return multiply(log(x, rounding=rounding), 1 / math.log(2), fmt=Format(11),
                    rounding=rounding)


def log10(x, /, *, rounding=None):
    """log(x) / ln 10 (two roundings, the second in q3.12)."""
    return multiply(log(x, rounding=rounding), 1 / math.log(10), fmt=Format(12),
                    rounding=rounding)


def expm1(x, /, *, rounding=None):
    """exp(x) - 1 in exp's output format (absolute, not relative, precision near 0)."""
    e = exp(x, rounding=rounding)
    return subtract(e, 1, fmt=e.fmt, rounding=rounding)


def logaddexp(x1, x2, /, *, rounding=None):
    """log(exp(x1) + exp(x2)) as one logsumexp kernel call over the pair (one rounding)."""
    a, b = operand(x1, "logaddexp"), operand(x2, "logaddexp")
    from .manipulation import broadcast_to
    from ._core import broadcast_shapes
    shape = broadcast_shapes("logaddexp", a.shape, b.shape)
    return logsumexp(stack([broadcast_to(a, shape), broadcast_to(b, shape)]), axis=0,
                     rounding=rounding)


def reciprocal(x, /, *, fmt=None, rounding=None):
    """1 / x by the divide kernel (x's format unless fmt=; 1/0 saturates, counted)."""
    a = operand(x, "reciprocal")
    return divide(1, a, fmt=fmt if fmt is not None else a.fmt, rounding=rounding)


def hypot(x1, x2, /, *, rounding=None):
    """sqrt(x1^2 + x2^2), the squares and their sum rounded in a format holding the sum."""
    a, b = operand(x1, "hypot"), operand(x2, "hypot")
    f = _fmt_for(a.fmt.max ** 2 + b.fmt.max ** 2, max(a.fmt.frac, b.fmt.frac))
    s = add(square(a, fmt=f, rounding=rounding), square(b, fmt=f, rounding=rounding), fmt=f,
            rounding=rounding)
    return sqrt(s, rounding=rounding)


def _exp_pair(x, rounding):
    a = operand(x, "sinh")
    return exp(a, rounding=rounding), exp(negative(a), rounding=rounding)


def sinh(x, /, *, rounding=None):
    """(exp(x) - exp(-x)) / 2 in exp's output format."""
    p, m = _exp_pair(x, rounding)
    f = Format(min(p.fmt.frac, m.fmt.frac))
    return multiply(subtract(p, m, fmt=f, rounding=rounding), 0.5, fmt=f, rounding=rounding)


def cosh(x, /, *, rounding=None):
    """(exp(x) + exp(-x)) / 2 in exp's output format."""
    p, m = _exp_pair(x, rounding)
    f = Format(min(p.fmt.frac, m.fmt.frac))
    h = Format(max(0, f.frac - 1))  # the sum needs one more integer bit before halving
    return multiply(add(p, m, fmt=h, rounding=rounding), 0.5, fmt=f, rounding=rounding)


def _root_of_square(a, c, rounding):
    """sqrt(a^2 + c) with a^2 + c held in a format that fits it."""
    f = _fmt_for(a.fmt.max ** 2 + abs(c), a.fmt.frac)
    return sqrt(add(square(a, fmt=f, rounding=rounding), c, fmt=f, rounding=rounding),
                rounding=rounding)


def asinh(x, /, *, rounding=None):
    """sign(x) log(|x| + sqrt(x^2 + 1)) (odd symmetry avoids cancellation for x < 0)."""
    a = operand(x, "asinh")
    m = _abs(a)
    r = _root_of_square(m, 1.0, rounding)
    f = _fmt_for(m.fmt.max + r.fmt.max, min(m.fmt.frac, r.fmt.frac))
    y = log(add(m, r, fmt=f, rounding=rounding), rounding=rounding)
    return where(less(a, 0), negative(y), y)


def acosh(x, /, *, rounding=None):
    """log(x + sqrt(x^2 - 1)); x < 1 has no real value and gives the format's minimum,
    counted (sqrt's domain rule)."""
    a = operand(x, "acosh")
    r = _root_of_square(a, -1.0, rounding)
    f = _fmt_for(a.fmt.max + r.fmt.max, min(a.fmt.frac, r.fmt.frac))
    return log(add(a, r, fmt=f, rounding=rounding), rounding=rounding)


def atanh(x, /, *, rounding=None):
    """(log(1 + x) - log(1 - x)) / 2; |x| >= 1 gives the log's domain minimum, counted."""
    a = operand(x, "atanh")
    f = _fmt_for(a.fmt.max + 1, a.fmt.frac)
    lp = log(add(a, 1, fmt=f, rounding=rounding), rounding=rounding)
    lm = log(subtract(1, a, fmt=f, rounding=rounding), rounding=rounding)
    return multiply(subtract(lp, lm, fmt=Format(10), rounding=rounding), 0.5, fmt=Format(11),
                    rounding=rounding)
