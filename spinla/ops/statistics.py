"""Statistics (Array API names): prod, var, std, cumulative_sum, cumulative_prod.

All run on the machine's kernels:
  cumulative_sum: one matrix product with a triangular matrix of ones (the gemm kernel sums
      exactly in integers and rounds each output once); default format as sum's (headroom
      ceil(log2 n) bits), so it cannot saturate while frac_in >= ceil(log2 n).
  prod, cumulative_prod: a chain of n - 1 multiplications along the axis, each rounded in
      the output format (default x's; products beyond it saturate, counted).
  var: mean((x - mean(x))^2) * n / (n - correction): the deviation in a format one integer
      bit wider than x's, its square in a format that holds (2 max|x|)^2 (static, so the
      variance of small data keeps only that format's LSB), the mean once more; std is the
      sqrt kernel of var.
"""
from __future__ import annotations

__all__ = ["prod", "var", "std", "cumulative_sum", "cumulative_prod"]

import math

import numpy as np

from ..fixed import INT16, Format, frac_for, parse_format
from ._core import check_rounding, normalize_axis, operand
from .creation import asarray, ones
from .elementwise import multiply, sqrt, square, subtract
from .manipulation import concat, permute_dims, reshape
from .reduction import _axes, _out_shape, _sum_fmt, mean
from .linalg import matmul


def _moved(a, axes):
    """a with `axes` first, flattened to (n, rest...) plus the rest's shape."""
    rest = [d for d in range(a.ndim) if d not in axes]
    m = permute_dims(a, list(axes) + rest) if list(axes) + rest != list(range(a.ndim)) else a
    n = math.prod(a.shape[d] for d in axes)
    rshape = tuple(a.shape[d] for d in rest)
    return reshape(m, (n,) + rshape), n, rshape


def prod(x, /, *, axis=None, dtype=None, keepdims=False, fmt=None, rounding=None):
    """Product along axis by n - 1 multiply kernels in the output format (default x's;
    INT16 for bool/int)."""
    a = operand(x, "prod")
    axes = _axes("prod", axis, a.ndim)
    mode = check_rounding("prod", rounding)
    fo = fmt if fmt is not None else dtype
    fo = parse_format(fo) if fo is not None else (INT16 if a.fmt.kind != "fixed" else a.fmt)
    out_shape = _out_shape(a.shape, axes, keepdims)
    m, n, rshape = _moved(a, axes)
    if n == 0:
        return ones(out_shape, fmt=fo)
    r = m[0]
    if n == 1 or r.fmt != fo:
        from .manipulation import astype
        r = astype(r, fo, rounding=mode)
    for i in range(1, n):
        r = multiply(r, m[i], fmt=fo, rounding=mode)
    return reshape(r, out_shape)


def var(x, /, *, axis=None, correction=0.0, keepdims=False, fmt=None, rounding=None):
    """Variance (see the module docstring for the formats and roundings)."""
    a = operand(x, "var")
    axes = _axes("var", axis, a.ndim)
    n = math.prod(a.shape[d] for d in axes)
    if n - correction <= 0:
        raise ValueError(f"var: {n} values with correction {correction} leave no degrees "
                         f"of freedom (NumPy's result would be NaN or inf)")
    mode = check_rounding("var", rounding)
    f = a.fmt if a.fmt.kind == "fixed" else Format(0)
    dfmt = Format(max(0, f.frac - 1))
    d = subtract(a, mean(a, axis=axes, keepdims=True, rounding=mode), fmt=dfmt,
                 rounding=mode)
    sfmt = parse_format(fmt) if fmt is not None else Format(
        min(15, frac_for(min((2 * f.max) ** 2, 32767.0))))
    v = mean(square(d, fmt=sfmt, rounding=mode), axis=axes, keepdims=keepdims, rounding=mode)
    if correction:
        v = multiply(v, n / (n - correction), fmt=v.fmt, rounding=mode)
    return v


def std(x, /, *, axis=None, correction=0.0, keepdims=False, rounding=None):
    """sqrt(var(x)) by the sqrt kernel."""
    return sqrt(var(x, axis=axis, correction=correction, keepdims=keepdims,
                    rounding=rounding), rounding=rounding)


def _last(a, axis, op):
    if axis is None:
        if a.ndim > 1:
            raise ValueError(f"{op}: axis is required for arrays of more than one dimension")
        axis = 0
    if a.ndim == 0:
        raise ValueError(f"{op}: needs at least one dimension")
    ax = normalize_axis(axis, a.ndim, op)
    perm = [d for d in range(a.ndim) if d != ax] + [ax]
    return ax, perm


def _unmove(r, ax, perm):
    inv = list(np.argsort(perm))
    return permute_dims(r, inv) if perm != list(range(len(perm))) else r


def cumulative_sum(x, /, *, axis=None, dtype=None, include_initial=False, fmt=None,
                   rounding=None):
    """Running sum along axis: x @ U with U[i, j] = (i <= j), one gemm (exact sums, one
    rounding each).  Default format: sum's over the axis length."""
    a = operand(x, "cumulative_sum")
    ax, perm = _last(a, axis, "cumulative_sum")
    n = a.shape[ax]
    fo = fmt if fmt is not None else dtype
    fo = parse_format(fo) if fo is not None else _sum_fmt(a.fmt, n)
    t = permute_dims(a, perm) if perm != list(range(a.ndim)) else a
    if n:
        u = asarray(np.triu(np.ones((n, n), dtype=np.int64)), fmt=INT16)
        r = matmul(t, u, fmt=fo, rounding=rounding)
    else:
        from .creation import zeros
        r = zeros(t.shape, fmt=fo)
    if include_initial:
        from .creation import zeros
        r = concat([zeros(t.shape[:-1] + (1,), fmt=fo), r], axis=-1)
    return _unmove(r, ax, perm)


def cumulative_prod(x, /, *, axis=None, dtype=None, include_initial=False, fmt=None,
                    rounding=None):
    """Running product along axis: n - 1 multiply kernels in the output format (default x's;
    INT16 for bool/int)."""
    a = operand(x, "cumulative_prod")
    ax, perm = _last(a, axis, "cumulative_prod")
    fo = fmt if fmt is not None else dtype
    fo = parse_format(fo) if fo is not None else (INT16 if a.fmt.kind != "fixed" else a.fmt)
    t = permute_dims(a, perm) if perm != list(range(a.ndim)) else a
    cols = [] if not include_initial else [ones(t.shape[:-1] + (1,), fmt=fo)]
    r = None
    from .manipulation import astype
    for i in range(t.shape[-1]):
        c = t[..., i:i + 1]
        r = astype(c, fo, rounding=rounding) if r is None else multiply(r, c, fmt=fo,
                                                                         rounding=rounding)
        cols.append(r)
    res = concat(cols, axis=-1) if cols else t if t.fmt == fo else astype(t, fo)
    return _unmove(res, ax, perm)
