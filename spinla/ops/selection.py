"""Indexing (Array API names): take on any axis, take_along_axis, and the Array's [] with
NumPy's rules: integers (anything with __index__), slices, Ellipsis, None, boolean scalars,
boolean masks and integer arrays.

Basic keys (integers, slices, Ellipsis, None) are strided views or copies
(manipulation.getitem).  Every other key is resolved by NumPy itself on the host, on an
array of element positions (np.arange(size).reshape(shape)[key]): which elements, in which
order and shape, is therefore exactly NumPy's answer, and no value goes through the host:
the machine gathers those elements (the take/gather kernel).  A boolean mask that is a
spinla Array needs its concrete values, so it cannot be traced inside spinla.jit.
This module's take (any axis) is built on manipulation.take_rows (axis 0).
"""
from __future__ import annotations

__all__ = ["take", "take_along_axis"]

import operator

import numpy as np

from ..array import Array
from ._core import normalize_axis, operand
from .manipulation import getitem as _basic
from .manipulation import permute_dims, reshape
from .manipulation import take_rows as _take0


def _host_index(k, what="index"):
    """A key part as host data: Arrays of bool/int16 become NumPy arrays."""
    if isinstance(k, Array):
        if k.fmt.kind == "fixed":
            raise IndexError(f"arrays used as indices must be of integer or boolean type, "
                             f"got {k.fmt}")
        return k.to_numpy()
    if isinstance(k, (list, np.ndarray)):
        a = np.asarray(k)
        if a.dtype.kind not in "biu" and a.size:
            raise IndexError(f"arrays used as indices must be of integer or boolean type, "
                             f"got {a.dtype}")
        return a.astype(np.int64) if a.dtype.kind != "b" else a
    return k


def _gather_flat(x: Array, flat: np.ndarray, op: str) -> Array:
    flat = np.asarray(flat, dtype=np.int64)
    src = reshape(x, (x.size,))
    if flat.size == 0:
        from .creation import zeros
        return zeros(flat.shape, fmt=x.fmt)
    return reshape(_take0(src, flat.reshape(-1)), flat.shape)


def index(x: Array, key) -> Array:
    """x[key] with NumPy's semantics (module docstring)."""
    parts = key if isinstance(key, tuple) else (key,)
    advanced = any(isinstance(k, (Array, list, np.ndarray, bool, np.bool_)) for k in parts)
    if not advanced:
        norm = []
        for k in parts:
            if k is None or k is Ellipsis or isinstance(k, slice):
                norm.append(k)
                continue
            try:
                norm.append(operator.index(k))
            except TypeError:
                raise IndexError(f"only integers, slices (`:`), ellipsis (`...`), None and "
                                 f"integer or boolean arrays are valid indices, got "
                                 f"{type(k).__name__} {k!r}") from None
        return _basic(x, tuple(norm))
    hkey = tuple(_host_index(k) for k in parts)
    pos = np.arange(x.size, dtype=np.int64).reshape(x.shape)
    try:
        flat = pos[hkey]
    except IndexError as e:
        raise IndexError(f"indexing an array of shape {x.shape}: {e}") from None
    return _gather_flat(x, np.asarray(flat), "getitem")


def _positions(x: Array, key) -> np.ndarray:
    parts = key if isinstance(key, tuple) else (key,)
    hkey = tuple(_host_index(k) if isinstance(k, (Array, list, np.ndarray, bool, np.bool_))
                 else k if k is None or k is Ellipsis or isinstance(k, slice)
                 else operator.index(k) for k in parts)
    pos = np.arange(x.size, dtype=np.int64).reshape(x.shape)
    try:
        return np.asarray(pos[hkey])
    except IndexError as e:
        raise IndexError(f"indexing an array of shape {x.shape}: {e}") from None


def assign(x: Array, key, value) -> None:
    """x[key] = value: the host writes the selected elements of x's SDRAM buffer, like
    asarray placing data (value quantised once into x's format; saturation counted).
    Arrays that share x's buffer (reshapes, contiguous slices: NumPy's views) see the
    write, as in NumPy.  Not traceable: inside spinla.jit it raises."""
    if x.buffer.data is None:
        raise RuntimeError("x[key] = value: writes concrete data; it cannot be traced inside "
                           "spinla.jit")
    flat = _positions(x, key)
    from ._core import asarray
    v = asarray(value, fmt=x.fmt, op="setitem") if not isinstance(value, Array) or \
        value.fmt != x.fmt else value
    if v.buffer.data is None:
        raise RuntimeError("x[key] = value: the value is a traced placeholder")
    try:
        vals = np.broadcast_to(v.buffer.data, flat.shape)
    except ValueError:
        raise ValueError(f"x[key] = value: could not broadcast a value of shape {v.shape} "
                         f"into the selection of shape {flat.shape}") from None
    data = x.buffer.data
    if not data.flags.writeable:
        raise ValueError("x[key] = value: this Array's buffer is read-only")
    np.put(data, flat.reshape(-1), vals.reshape(-1))  # in place, whatever the strides


def take(x, indices, /, *, axis=None):
    """Elements (axis None: of the flattened x) or slices along `axis` selected by integer
    indices (host data or an int16 Array), gathered on the machine."""
    a = operand(x, "take")
    if axis is None:
        if a.ndim > 1:
            raise ValueError("take: axis is required for arrays of more than one dimension")
        return _take0(a, indices, axis=None)
    ax = normalize_axis(operator.index(axis), a.ndim, "take")
    if ax == 0:
        return _take0(a, indices, axis=0)
    perm = [ax] + [d for d in range(a.ndim) if d != ax]
    r = _take0(permute_dims(a, perm), indices, axis=0)
    return permute_dims(r, list(np.argsort(perm)))


def take_along_axis(x, indices, /, *, axis=-1):
    """x's elements at `indices` along axis (NumPy's take_along_axis), gathered on the
    machine; the positions are computed on the host from the index data."""
    a = operand(x, "take_along_axis")
    idx = _host_index(indices)
    idx = np.asarray(idx)
    if idx.dtype.kind not in "iu":
        raise IndexError("take_along_axis: indices must be integers")
    ax = normalize_axis(operator.index(axis), a.ndim, "take_along_axis")
    n = a.shape[ax]
    if idx.size and (idx.min() < -n or idx.max() >= n):
        raise IndexError(f"take_along_axis: index out of range for axis {ax} with size {n}")
    pos = np.arange(a.size, dtype=np.int64).reshape(a.shape)
    return _gather_flat(a, np.take_along_axis(pos, idx, axis=ax), "take_along_axis")
