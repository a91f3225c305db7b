"""Reductions (Array API names): sum, mean, max, min, argmax, argmin with axis (int, tuple or
None) and keepdims; softmax and logsumexp along an axis.

All of them run on C kernels (spinla_c/reduce_q15.c, softmax_q15.c) over a canonical
(outer, n, inner) view: a contiguous block of reduced axes is read in place; any other set of
axes is first moved to the end by permute_dims (one copy).

Default output formats (fmt= overrides; rounding= applies where a result is rounded):
  sum:    frac_in - ceil(log2(n)) (at least 0) for n reduced values: the headroom that makes
          saturation impossible whenever frac_in >= ceil(log2(n)), so the result is the exact
          sum rounded once (<= 1/2 LSB).  Below that (frac 0) a sum can saturate, counted.
          Integer and boolean inputs give INT16 (which can saturate, counted).
  mean:   the input's format (a mean cannot leave its inputs' range); boolean inputs give
          q1.14, integer inputs the finest format holding their data's range (q15.0 only when
          it spans the whole int16 range, e.g. while tracing).
          mean = requant(S * round(2^46 / n)): within
          1/2 + n 2^-32 output LSB of the exact mean of the quantised inputs.
  max, min: the input's format (exact).   argmax, argmin: INT16, first occurrence.
  softmax: q1.14, so that an exact 1.0 is representable (q0.15 would count a saturation for
          every one-hot row); error <= 0.53 output LSB for rows up to 2^16 (see
          spinla_c/softmax_q15.c).
  logsumexp: the input's frac, reduced to the finest format that holds x.fmt.max + ln(n);
          error <= 1/2 LSB + 3e-6 + n 2^-30.
Empty reductions: sum gives 0; mean, max, min, argmax and argmin raise ValueError, as NumPy
does for max (NumPy's mean of nothing is NaN, which has no fixed-point value).
"""
from __future__ import annotations

__all__ = ["sum", "mean", "max", "min", "argmax", "argmin", "softmax", "logsumexp"]

import builtins
import math

import numpy as np

from ..array import Array
from ..fixed import INT16, Format, frac_for, frac_for_range, parse_format
from ..kernels import reduce as kred
from ..kernels import softmax as ksm
from ._core import (check_rounding, machine, new_buffer, normalize_axis,
                    operand, run, run_lowered)
from .manipulation import permute_dims, reshape

_NUMPY_NAME = {"max": "maximum", "min": "minimum", "argmax": "argmax", "argmin": "argmin",
               "mean": "mean"}


def _axes(op, axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (tuple, list)):
        ax = [normalize_axis(a, ndim, op) for a in axis]
        if len(set(ax)) != len(ax):
            raise ValueError(f"{op}: duplicate value in 'axis'")
        return tuple(sorted(ax))
    return (normalize_axis(axis, ndim, op),)


def _canonical(x: Array, axes):
    """(array, outer, n, inner): the reduced axes as the middle of an (outer, n, inner) view."""
    shape = x.shape
    rest = [d for d in range(x.ndim) if d not in axes]
    if not axes or list(axes) == list(range(axes[0], axes[-1] + 1)):
        a0 = axes[0] if axes else x.ndim
        a1 = axes[-1] + 1 if axes else x.ndim
        return (x, math.prod(shape[:a0]), math.prod(shape[a0:a1]), math.prod(shape[a1:]))
    moved = permute_dims(x, rest + list(axes))
    return moved, math.prod(shape[d] for d in rest), math.prod(shape[d] for d in axes), 1


def _out_shape(shape, axes, keepdims):
    if keepdims:
        return tuple(1 if d in axes else s for d, s in enumerate(shape))
    return tuple(s for d, s in enumerate(shape) if d not in axes)


def _reduce(op, x, axis, keepdims, fmt, rounding, default_fmt):
    a = operand(x, op)
    axes = _axes(op, axis, a.ndim)
    mode = check_rounding(op, rounding)
    n = math.prod(a.shape[d] for d in axes)
    out_shape = _out_shape(a.shape, axes, keepdims)
    if n == 0 and op != "sum":
        raise ValueError(f"{op}: zero-size array to reduction operation "
                         f"{_NUMPY_NAME[op]} which has no identity")
    fo = parse_format(fmt) if fmt is not None else (
        _mean_fmt(a.fmt, n, a) if op == "mean" else default_fmt(a.fmt, n))
    out = new_buffer(out_shape, fo)
    if math.prod(out_shape) == 0 or n == 0:
        out.data = np.zeros(out_shape, np.int16)
        return Array(out)
    src, outer, n, inner = _canonical(a, axes)
    fi = a.fmt.frac
    shift = {"sum": fi - fo.frac, "mean": fi + kred.MEAN_SHIFT - fo.frac,
             "max": fi - fo.frac, "min": fi - fo.frac, "argmax": 0, "argmin": 0}[op]
    return run_lowered(("reduce", op, outer, n, inner, shift, mode), [src.buffer], [out],
                       lambda: kred.lower(op, src.buffer, out, outer=outer, n=n, inner=inner,
                                          shift=shift, rounding=mode, machine=machine(),
                                          label=op))[0]


def _sum_fmt(f: Format, n: int) -> Format:
    if f.kind != "fixed":
        return INT16
    head = math.ceil(math.log2(n)) if n > 1 else 0
    return Format(builtins.max(0, f.frac - head))


def _mean_fmt(f: Format, n: int, a: Array | None = None) -> Format:
    """A mean lies within its inputs' range: a fixed input keeps its format; integers get
    the finest format holding their data's range (all int16 while tracing), so the fraction
    of the mean is kept, as NumPy's float mean keeps it."""
    if f.kind == "bool":
        return Format(14)
    if f.kind == "int":
        d = None if a is None else a.buffer.data
        lo, hi = (float(d.min()), float(d.max())) if d is not None and d.size else (
            -32768.0, 32767.0)
        return Format(frac_for_range(lo, hi))
    return f


def sum(x, /, *, axis=None, dtype=None, keepdims=False, fmt=None, rounding=None) -> Array:
    """Exact integer sum rounded once; default format keeps ceil(log2(n)) bits of headroom."""
    return _reduce("sum", x, axis, keepdims, fmt if fmt is not None else dtype, rounding,
                   _sum_fmt)


def mean(x, /, *, axis=None, dtype=None, keepdims=False, fmt=None, rounding=None) -> Array:
    """Exact sum times one integer reciprocal round(2^46 / n), rounded once."""
    return _reduce("mean", x, axis, keepdims, fmt if fmt is not None else dtype, rounding,
                   _mean_fmt)


def max(x, /, *, axis=None, keepdims=False, fmt=None, rounding=None) -> Array:
    """Exact maximum; rounding applies only when fmt= is coarser than the input's."""
    return _reduce("max", x, axis, keepdims, fmt, rounding, lambda f, n: f)


def min(x, /, *, axis=None, keepdims=False, fmt=None, rounding=None) -> Array:
    return _reduce("min", x, axis, keepdims, fmt, rounding, lambda f, n: f)


def _arg(op, x, axis, keepdims):
    a = operand(x, op)
    if axis is None:
        r = _reduce(op, reshape(a, (a.size,)), 0, False, None, None, lambda f, n: INT16)
        return reshape(r, (1,) * a.ndim) if keepdims else r
    if isinstance(axis, (tuple, list)):
        raise TypeError(f"{op}: axis must be an int or None, got a tuple")
    return _reduce(op, a, axis, keepdims, None, None, lambda f, n: INT16)


def argmax(x, /, *, axis=None, keepdims=False) -> Array:
    """Index of the first maximum (INT16), like NumPy."""
    return _arg("argmax", x, axis, keepdims)


def argmin(x, /, *, axis=None, keepdims=False) -> Array:
    return _arg("argmin", x, axis, keepdims)


# --- softmax / logsumexp -------------------------------------------------------------------

def _rows(op, a: Array, axes):
    """(array with the reduced axes last, rows, n, permutation used or None)."""
    rest = [d for d in range(a.ndim) if d not in axes]
    perm = rest + list(axes)
    src = a if perm == list(range(a.ndim)) else permute_dims(a, perm)
    n = math.prod(a.shape[d] for d in axes)
    return src, (a.size // n if n else 0), n, (None if src is a else perm)


def softmax(x, /, axis=-1, *, fmt=None, rounding=None) -> Array:
    """exp(x - max) / sum exp(x - max) along `axis`; default output q1.14."""
    a = operand(x, "softmax")
    if a.ndim == 0:
        raise ValueError("softmax: needs at least one dimension")
    ax = normalize_axis(axis, a.ndim, "softmax")
    mode = check_rounding("softmax", rounding)
    fo = parse_format(fmt) if fmt is not None else Format(14)
    if a.size == 0:
        out = new_buffer(a.shape, fo)
        out.data = np.zeros(a.shape, np.int16)
        return Array(out)
    src, rows, n, perm = _rows("softmax", a, (ax,))
    out = new_buffer(src.shape, fo)
    call = ksm.lower("softmax", src.buffer, out, rows=rows, n=n, rounding=mode,
                     machine=machine(), label="softmax")
    r = run([call], [out])[0]
    if perm is not None:
        r = permute_dims(r, list(np.argsort(perm)))
    return r


def logsumexp(x, /, axis=-1, *, keepdims=False, fmt=None, rounding=None) -> Array:
    """log(sum(exp(x))) along `axis` (int, tuple or None), as max + log(sum exp(x - max))."""
    a = operand(x, "logsumexp")
    axes = _axes("logsumexp", axis, a.ndim)
    mode = check_rounding("logsumexp", rounding)
    n = math.prod(a.shape[d] for d in axes)
    if n == 0:
        raise ValueError("logsumexp: zero-size reduction (the log of an empty sum is -inf)")
    fi = a.fmt.frac
    fo = parse_format(fmt) if fmt is not None else Format(
        builtins.min(fi, frac_for(a.fmt.max + math.log(n))))
    out_shape = _out_shape(a.shape, axes, keepdims)
    if a.size == 0:
        out = new_buffer(out_shape, fo)
        out.data = np.zeros(out_shape, np.int16)
        return Array(out)
    src, rows, n, _ = _rows("logsumexp", a, axes)
    out = new_buffer(out_shape, fo)
    call = ksm.lower("logsumexp", src.buffer, out, rows=rows, n=n, rounding=mode,
                     machine=machine(), label="logsumexp")
    return run([call], [out])[0]
