"""More creation functions (Array API names): arange, linspace, empty, empty_like, meshgrid,
tril, triu, from_dlpack.

arange and linspace compute their points on the host in float64 (as NumPy does) and place
them like asarray: quantised once into the chosen format (default: the finest that holds the
range; integers give INT16), values beyond it saturating, counted.  empty is zeros (SDRAM is
cleared: there is no uninitialised fixed-point memory to hand out).  meshgrid is broadcast
copies and tril/triu a where kernel with a host-made mask.
"""
from __future__ import annotations

__all__ = ["arange", "linspace", "empty", "empty_like", "meshgrid", "tril", "triu",
           "from_dlpack"]

import operator

import numpy as np

from ..fixed import BOOL
from ._core import asarray, operand
from .creation import zeros, zeros_like
from .elementwise import where
from .manipulation import broadcast_to, reshape


def _shape(shape, op):
    if isinstance(shape, (tuple, list)):
        return tuple(operator.index(s) for s in shape)
    return (operator.index(shape),)


def arange(start, /, stop=None, step=1, *, dtype=None, device=None, fmt=None):
    """Evenly spaced values in [start, stop) (host-made, then placed as asarray does)."""
    if stop is None:
        start, stop = 0, start
    if step == 0:
        raise ValueError("arange: step must not be zero")
    v = np.arange(start, stop, step)
    if all(isinstance(t, int) for t in (start, stop, step)):
        v = v.astype(np.int64)
    return asarray(v, fmt=fmt if fmt is not None else dtype, op="arange")


def linspace(start, stop, /, num, *, dtype=None, device=None, endpoint=True, fmt=None):
    """num evenly spaced values from start to stop (host-made, then placed as asarray)."""
    v = np.linspace(float(start), float(stop), operator.index(num), endpoint=endpoint)
    return asarray(v, fmt=fmt if fmt is not None else dtype, op="linspace")


def empty(shape, *, dtype=None, device=None, fmt=None):
    """zeros: the machine has no uninitialised memory to hand out."""
    return zeros(_shape(shape, "empty"), fmt=fmt if fmt is not None else dtype)


def empty_like(x, /, *, dtype=None, device=None, fmt=None):
    return zeros_like(x, fmt=fmt if fmt is not None else dtype)


def meshgrid(*arrays, indexing="xy"):
    """Coordinate grids from 1-d arrays, as broadcast copies."""
    if indexing not in ("xy", "ij"):
        raise ValueError(f"meshgrid: indexing must be 'xy' or 'ij', got {indexing!r}")
    arrs = [operand(a, "meshgrid") for a in arrays]
    for a in arrs:
        if a.ndim != 1:
            raise ValueError(f"meshgrid: inputs must be 1-d, got shape {a.shape}")
    if not arrs:
        return ()
    sizes = [a.size for a in arrs]
    if indexing == "xy" and len(arrs) > 1:
        sizes[0], sizes[1] = sizes[1], sizes[0]
    out = []
    for i, a in enumerate(arrs):
        d = i
        if indexing == "xy" and len(arrs) > 1 and i < 2:
            d = 1 - i
        shp = [1] * len(arrs)
        shp[d] = a.size
        out.append(broadcast_to(reshape(a, tuple(shp)), tuple(sizes)))
    return tuple(out)


def _tri(op, x, k, lower):
    a = operand(x, op)
    if a.ndim < 2:
        raise ValueError(f"{op}: needs at least 2 dimensions, got shape {a.shape}")
    n, m = a.shape[-2:]
    mask = np.tri(n, m, k=operator.index(k), dtype=bool)
    if not lower:
        mask = ~np.tri(n, m, k=operator.index(k) - 1, dtype=bool)
    if a.size == 0:
        return a
    return where(asarray(mask, fmt=BOOL), a, 0, fmt=a.fmt)


def tril(x, /, *, k=0):
    """x with the elements above the k-th diagonal zeroed (where kernel)."""
    return _tri("tril", x, k, True)


def triu(x, /, *, k=0):
    """x with the elements below the k-th diagonal zeroed (where kernel)."""
    return _tri("triu", x, k, False)


def from_dlpack(x, /, *, device=None, copy=None):
    """Host data from any DLPack producer, placed as asarray does."""
    return asarray(np.from_dlpack(x), op="from_dlpack")
