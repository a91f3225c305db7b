"""Sorting, searching and set functions (Array API names): sort, argsort, searchsorted,
nonzero, count_nonzero, unique_values, unique_counts, unique_inverse, unique_all, isin.

All but count_nonzero run on the host (spinla/ops/_host.py): there is no sorting kernel.  They
are exact: within one format the int16 storage orders exactly as the values do, and operands
of two formats are compared on the finer grid in int64.  Indices and counts come back as
INT16 arrays; more than 32767 of them raise OverflowError (a saturated index would be a wrong
index).  Sorts are stable, as the standard asks.  count_nonzero is a sum of x != 0 on the
machine's kernels.
"""
from __future__ import annotations

__all__ = ["sort", "argsort", "searchsorted", "nonzero", "count_nonzero", "unique_values",
           "unique_counts", "unique_inverse", "unique_all", "isin"]

from collections import namedtuple

import numpy as np

from ..fixed import INT16
from ._core import normalize_axis, operand
from ._host import aligned, index_array, ints, wrap
from .elementwise import not_equal
from .reduction import sum as _sum


def _axis_order(op, x, axis, descending, stable):
    v, a = ints(x, op)
    if a.ndim == 0:
        raise ValueError(f"{op}: needs at least one dimension")
    ax = normalize_axis(axis, a.ndim, op)
    # Stable descending order keeps equal elements in their original order: sort the negated
    # values (int64 holds -(-32768)).
    idx = np.argsort(-v if descending else v, axis=ax, kind="stable")
    return v, a, ax, idx


def sort(x, /, *, axis=-1, descending=False, stable=True):
    """Values sorted along axis (stable).  Runs on the host, exact."""
    v, a, ax, idx = _axis_order("sort", x, axis, descending, stable)
    return wrap("sort", np.take_along_axis(v, idx, axis=ax), a.fmt)


def argsort(x, /, *, axis=-1, descending=False, stable=True):
    """Indices that sort x along axis (stable; ties keep their order).  Runs on the host."""
    _, _, _, idx = _axis_order("argsort", x, axis, descending, stable)
    return index_array("argsort", idx)


def searchsorted(x1, x2, /, *, side="left", sorter=None):
    """Insertion indices of x2 in the 1-d sorted x1.  Runs on the host, exact (both on the
    finer grid)."""
    if side not in ("left", "right"):
        raise ValueError(f"searchsorted: side must be 'left' or 'right', got {side!r}")
    (v1, v2), _, (a1, _) = aligned("searchsorted", x1, x2)
    if a1.ndim != 1:
        raise ValueError(f"searchsorted: x1 must be 1-d, got shape {a1.shape}")
    if sorter is not None:
        v1 = v1[ints(sorter, "searchsorted")[0]]
    return index_array("searchsorted", np.searchsorted(v1, v2, side=side))


def nonzero(x, /):
    """Indices of the nonzero elements, one INT16 array per axis.  Runs on the host."""
    v, a = ints(x, "nonzero")
    if a.ndim == 0:
        raise ValueError("nonzero: 0-d arrays are not supported (as the standard says)")
    return tuple(index_array("nonzero", i) for i in np.nonzero(v))


def count_nonzero(x, /, *, axis=None, keepdims=False):
    """Number of nonzero elements (sum of x != 0 on the machine), INT16."""
    a = operand(x, "count_nonzero")
    return _sum(not_equal(a, 0), axis=axis, keepdims=keepdims, fmt=INT16)


UniqueAllResult = namedtuple("UniqueAllResult", "values indices inverse_indices counts")
UniqueCountsResult = namedtuple("UniqueCountsResult", "values counts")
UniqueInverseResult = namedtuple("UniqueInverseResult", "values inverse_indices")


def _unique(op, x):
    v, a = ints(x, op)
    vals, first, inv, counts = np.unique(v.reshape(-1), return_index=True,
                                         return_inverse=True, return_counts=True)
    return a, wrap(op, vals, a.fmt), first, inv.reshape(a.shape), counts


def unique_values(x, /):
    """Sorted distinct values.  Runs on the host, exact."""
    return _unique("unique_values", x)[1]


def unique_counts(x, /):
    a, vals, _, _, counts = _unique("unique_counts", x)
    return UniqueCountsResult(vals, index_array("unique_counts", counts))


def unique_inverse(x, /):
    a, vals, _, inv, _ = _unique("unique_inverse", x)
    return UniqueInverseResult(vals, index_array("unique_inverse", inv))


def unique_all(x, /):
    a, vals, first, inv, counts = _unique("unique_all", x)
    return UniqueAllResult(vals, index_array("unique_all", first),
                           index_array("unique_all", inv), index_array("unique_all", counts))


def isin(x1, x2, /, *, invert=False):
    """Whether each x1 element is among x2's values (exact, on the finer grid).  Runs on the
    host."""
    (v1, v2), _, _ = aligned("isin", x1, x2)
    from ..fixed import BOOL
    return wrap("isin", np.isin(v1, v2, invert=invert), BOOL)
