"""Tensor contractions (Array API names): tensordot and vecdot, lowered to matmul (the gemm
kernel: exact integer sums, one rounding per output; default format as matmul's)."""
from __future__ import annotations

__all__ = ["tensordot", "vecdot"]

import math
import operator

from ..fixed import INT16
from ._core import broadcast_shapes, normalize_axis, operand
from .linalg import matmul
from .manipulation import broadcast_to, permute_dims, reshape


def _int_fmt(a, b, fmt):
    """Integer (and bool) operands give an INT16 result, as sum does; fixed ones matmul's."""
    if fmt is None and a.fmt.kind != "fixed" and b.fmt.kind != "fixed":
        return INT16
    return fmt


def tensordot(x1, x2, /, *, axes=2, fmt=None, rounding=None):
    """Sum of products over x1's `axes[0]` and x2's `axes[1]` (or the last/first n)."""
    a, b = operand(x1, "tensordot"), operand(x2, "tensordot")
    if isinstance(axes, (tuple, list)):
        ax1 = [normalize_axis(operator.index(i), a.ndim, "tensordot") for i in axes[0]]
        ax2 = [normalize_axis(operator.index(i), b.ndim, "tensordot") for i in axes[1]]
    else:
        n = operator.index(axes)
        if n < 0 or n > min(a.ndim, b.ndim):
            raise ValueError(f"tensordot: axes={n} is out of range for shapes {a.shape} and "
                             f"{b.shape}")
        ax1, ax2 = list(range(a.ndim - n, a.ndim)), list(range(n))
    if len(ax1) != len(ax2) or any(a.shape[i] != b.shape[j] for i, j in zip(ax1, ax2)):
        raise ValueError(f"tensordot: shape mismatch for sum over axes {ax1} of {a.shape} "
                         f"and {ax2} of {b.shape}")
    f1 = [d for d in range(a.ndim) if d not in ax1]
    f2 = [d for d in range(b.ndim) if d not in ax2]
    k = math.prod(a.shape[i] for i in ax1)
    am = reshape(permute_dims(a, f1 + ax1), (math.prod(a.shape[d] for d in f1), k))
    bm = reshape(permute_dims(b, ax2 + f2), (k, math.prod(b.shape[d] for d in f2)))
    r = matmul(am, bm, fmt=_int_fmt(a, b, fmt), rounding=rounding)
    return reshape(r, tuple(a.shape[d] for d in f1) + tuple(b.shape[d] for d in f2))


def vecdot(x1, x2, /, *, axis=-1, fmt=None, rounding=None):
    """Dot products along axis (broadcasting the rest) as one batched matmul."""
    a, b = operand(x1, "vecdot"), operand(x2, "vecdot")
    nd = max(a.ndim, b.ndim)
    shape = broadcast_shapes("vecdot", a.shape, b.shape)
    ax = normalize_axis(operator.index(axis), nd, "vecdot")
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError("vecdot: needs at least one dimension")
    na, nb = (1,) * (nd - a.ndim) + a.shape, (1,) * (nd - b.ndim) + b.shape
    if na[ax] != nb[ax]:
        raise ValueError(f"vecdot: x1 and x2 must have the same size along axis {axis}, got "
                         f"shapes {a.shape} and {b.shape}")
    fmt = _int_fmt(a, b, fmt)
    a, b = broadcast_to(a, shape), broadcast_to(b, shape)
    perm = [d for d in range(nd) if d != ax] + [ax]
    a, b = permute_dims(a, perm), permute_dims(b, perm)
    n = shape[ax]
    lead = a.shape[:-1]
    r = matmul(reshape(a, lead + (1, n)), reshape(b, lead + (n, 1)), fmt=fmt,
               rounding=rounding)
    return reshape(r, lead)
