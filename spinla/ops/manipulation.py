"""Shape and data-movement ops (Array API names): reshape, permute_dims, flip, indexing, pad,
concat, stack, broadcast_to, squeeze, and astype (a change of format)."""
from __future__ import annotations

__all__ = ["reshape", "permute_dims", "transpose", "matrix_transpose", "flip", "getitem", "pad",
           "concat", "concatenate", "stack", "squeeze", "broadcast_to", "astype"]

import math
import numbers

import numpy as np

from ..array import Array
from ..fixed import INT16, Format, frac_for_range, parse_format, result_format
from ..kernels import copy as kcopy
from ..kernels import requant as krequant
from ._core import (check_rounding, index_int, machine, new_buffer, normalize_axis,
                    normalize_shape, operand, run, run_lowered)


def reshape(x, shape, *, copy=None) -> Array:
    x = operand(x, "reshape")
    shape = (tuple(index_int(s, "reshape", "shape entries") for s in shape)
             if isinstance(shape, (tuple, list)) else (index_int(shape, "reshape", "shape"),))
    if shape.count(-1) > 1:
        raise ValueError("reshape: can only specify one unknown dimension")
    if -1 in shape:
        rest = math.prod(s for s in shape if s != -1)
        if rest == 0 or x.size % rest:
            raise ValueError(f"reshape: cannot reshape array of size {x.size} into shape "
                             f"{shape}")
        shape = tuple(x.size // rest if s == -1 else s for s in shape)
    if math.prod(shape) != x.size or any(s < 0 for s in shape):
        raise ValueError(f"reshape: cannot reshape array of size {x.size} into shape {shape}")
    if shape == x.shape:
        return x
    out = new_buffer(shape, x.fmt)
    return run([kcopy.lower_view(x.buffer, out, op="reshape")], [out])[0]


def _strided(x: Array, shape, offset, strides, op: str) -> Array:
    out = new_buffer(shape, x.fmt)
    if math.prod(shape) == 0:
        out.data = np.zeros(shape, np.int16)
        return Array(out)
    return run_lowered(("strided", op, int(offset), tuple(strides)), [x.buffer], [out],
                       lambda: kcopy.lower([x.buffer], out, [kcopy.piece(
                           0, shape, src_offset=offset, src_strides=strides)], machine=machine(),
                           op=op))[0]


def permute_dims(x, axes) -> Array:
    x = operand(x, "permute_dims")
    axes = tuple(normalize_axis(a, x.ndim, "permute_dims") for a in axes)
    if sorted(axes) != list(range(x.ndim)):
        raise ValueError(f"permute_dims: axes {axes} are not a permutation of "
                         f"{tuple(range(x.ndim))}")
    if axes == tuple(range(x.ndim)):
        return x
    if x.ndim == 2 and x.buffer.origin is not None and x.buffer.origin[0] == "T":
        return Array(x.buffer.origin[1])
    st = kcopy.contiguous_strides(x.shape)
    res = _strided(x, tuple(x.shape[a] for a in axes), 0, tuple(st[a] for a in axes),
                   "permute_dims")
    if x.ndim == 2:
        res.buffer.origin = ("T", x.buffer)
    return res


transpose = permute_dims


def matrix_transpose(x) -> Array:
    x = operand(x, "matrix_transpose")
    if x.ndim < 2:
        raise ValueError("matrix_transpose: needs at least 2 dimensions")
    axes = list(range(x.ndim))
    axes[-2], axes[-1] = axes[-1], axes[-2]
    return permute_dims(x, axes)


def flip(x, axis=None) -> Array:
    x = operand(x, "flip")
    axes = range(x.ndim) if axis is None else (
        [axis] if isinstance(axis, int) else list(axis))
    axes = {normalize_axis(a, x.ndim, "flip") for a in axes}
    st = list(kcopy.contiguous_strides(x.shape))
    off = 0
    for a in axes:
        off += (x.shape[a] - 1) * st[a]
        st[a] = -st[a]
    return _strided(x, x.shape, off, st, "flip")


def getitem(x: Array, key) -> Array:
    """Basic indexing: integers, slices (any step), Ellipsis and None."""
    if not isinstance(key, tuple):
        key = (key,)
    if len(key) == 1 and type(key[0]) is slice and key[0].step in (None, 1) and x.ndim:
        # A leading-axis run of rows (a batch of a training set): a view, no data moves.
        n = x.shape[0]
        start, stop, _ = key[0].indices(n)
        rows = max(0, stop - start)
        if rows == n:
            return x
        shape = (rows,) + tuple(x.shape[1:])
        out = new_buffer(shape, x.fmt)
        off = start * math.prod(x.shape[1:]) if rows else 0
        return run([kcopy.lower_view(x.buffer, out, op="getitem", offset=off)], [out])[0]
    if any(isinstance(k, (Array, np.ndarray, list)) for k in key):
        raise TypeError("indexing: only integers, slices, Ellipsis and None are supported "
                        "(basic indexing); use spinla.where or take for data-dependent "
                        "selection")
    n_real = sum(1 for k in key if k is not None and k is not Ellipsis)
    if n_real > x.ndim:
        raise IndexError(f"too many indices for array: array is {x.ndim}-dimensional, but "
                         f"{n_real} were indexed")
    if sum(1 for k in key if k is Ellipsis) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    if Ellipsis in key:
        i = key.index(Ellipsis)
        key = key[:i] + (slice(None),) * (x.ndim - n_real) + key[i + 1:]
    key = key + (slice(None),) * (x.ndim - sum(1 for k in key if k is not None))
    st = kcopy.contiguous_strides(x.shape)
    shape, strides, off, d = [], [], 0, 0
    for k in key:
        if k is None:
            shape.append(1)
            strides.append(0)
            continue
        n = x.shape[d]
        if isinstance(k, slice):
            start, stop, step = k.indices(n)
            ln = len(range(start, stop, step))
            shape.append(ln)
            strides.append(st[d] * step)
            off += start * st[d] if ln else 0
        else:
            try:
                i = int(k.__index__())
            except (AttributeError, TypeError):
                raise TypeError(f"indexing: unsupported index {k!r}") from None
            if not -n <= i < n:
                raise IndexError(f"index {i} is out of bounds for axis {d} with size {n}")
            off += (i % n) * st[d]
        d += 1
    shape = tuple(shape)
    if shape == x.shape and off == 0 and list(strides) == list(st):
        return x
    if list(strides) == list(kcopy.contiguous_strides(shape)) or math.prod(shape) == 0:
        # A contiguous run of the buffer (e.g. a batch of rows): no data moves.
        out = new_buffer(shape, x.fmt)
        return run([kcopy.lower_view(x.buffer, out, op="getitem", offset=off)], [out])[0]
    return _strided(x, shape, off, strides, "getitem")


def take_rows(x, indices, /, *, axis=None) -> Array:
    """Rows of x selected by host-side integer indices (NumPy's take); axis 0 or None (flat).

    The indices are host data (a NumPy integer array or a concrete int16 Array), sent to the
    machine with the call: this is how a training set resident in SDRAM is shuffled."""
    x = operand(x, "take")
    if axis is None:
        x, axis = reshape(x, (x.size,)), 0
    if normalize_axis(axis, x.ndim, "take") != 0:
        raise ValueError("take: only axis=0 (or None) is supported; permute_dims first")
    if isinstance(indices, Array):
        if indices.fmt.kind == "fixed":
            raise TypeError("take: indices must be integers")
        indices = indices.to_numpy()
    idx = np.asarray(indices)
    if idx.dtype.kind not in "iu" or idx.ndim != 1:
        raise TypeError(f"take: indices must be a 1-d integer array, got dtype {idx.dtype} "
                        f"and {idx.ndim} dimensions")
    n = x.shape[0]
    if idx.size and (idx.min() < -n or idx.max() >= n):
        raise IndexError(f"take: index out of range for axis 0 with size {n}")
    idx = np.where(idx < 0, idx + n, idx)
    out = new_buffer((len(idx),) + x.shape[1:], x.fmt)
    if out.size == 0:
        out.data = np.zeros(out.shape, np.int16)
        return Array(out)
    return run([kcopy.lower_gather(x.buffer, out, idx, machine=machine())], [out])[0]


def _fmt_holding(x: Array, value, op) -> Array:
    """x in a format that also holds the Python number `value` (the fill is an operand:
    spinla.fixed's range rule), converted on the machine if its own does not."""
    if x.fmt.kind != "fixed" or not isinstance(value, numbers.Real) or isinstance(
            value, Array):
        return x
    v = float(value)
    if not math.isfinite(v):
        return x                      # refused or counted by fill_value
    lo, hi = x.fmt.min, x.fmt.max
    if lo <= v <= hi:
        return x
    f = Format(min(x.fmt.frac, frac_for_range(min(lo, v), max(hi, v))))
    return astype(x, f)


def pad(x, pad_width, mode="constant", constant_values=0) -> Array:
    """Zero (or constant) padding; pad_width as in NumPy: int, (before, after) or per axis.
    A constant beyond x's format widens the result's format to hold it (spinla.fixed); a
    constant rounded or saturated in it is counted under 'pad' (spinla.stats())."""
    x = operand(x, "pad")
    if mode != "constant":
        raise ValueError(f"pad: only mode='constant' is supported, got {mode!r}")
    pwa = np.asarray(pad_width)
    if pwa.dtype.kind not in "iu":
        raise TypeError(f"pad: pad_width must be integers, got {pwa.dtype}")
    try:
        pw = np.broadcast_to(pwa.astype(np.int64), (x.ndim, 2))
    except ValueError:
        raise ValueError(f"pad: pad_width of shape {pwa.shape} does not fit a {x.ndim}-d "
                         f"array") from None
    if np.any(pw < 0):
        raise ValueError("pad: pad widths must be non-negative")
    shape = tuple(int(s + a + b) for s, (a, b) in zip(x.shape, pw))
    x = _fmt_holding(x, constant_values, "pad")
    from .creation import fill_value
    n_fill = math.prod(shape) - x.size
    fill, _ = fill_value(constant_values, x.fmt, "pad", count=n_fill)
    out = new_buffer(shape, x.fmt)
    dst = kcopy.contiguous_strides(shape)
    pc = kcopy.piece(0, x.shape, dst_offset=sum(int(a) * s for (a, _), s in zip(pw, dst)),
                     dst_strides=dst)
    pieces = [pc] if x.size else []
    return run([kcopy.lower([x.buffer], out, pieces, machine=machine(), op="pad",
                            fill=fill)], [out])[0]


def _common_fmt(arrays, op):
    """The format holding every input's range (spinla.fixed): integer arrays mixed with
    fixed-point ones promote to fixed point with their data's range; bool with int gives
    INT16."""
    fmts = [a.fmt for a in arrays]
    if len(set(fmts)) == 1:
        return arrays, fmts[0]
    if all(f.kind != "fixed" for f in fmts):
        tgt = INT16
    else:
        from .elementwise import _range
        rs = [_range(a, False) for a in arrays]
        tgt = result_format(min(r[0] for r in rs), max(r[1] for r in rs),
                            max(r[2] for r in rs))
    return [a if a.fmt == tgt else astype(a, tgt) for a in arrays], tgt


def concat(arrays, /, *, axis=0) -> Array:
    arrays = [operand(a, "concat") for a in arrays]
    if not arrays:
        raise ValueError("concat: need at least one array")
    if axis is None:
        arrays, axis = [reshape(a, (-1,)) for a in arrays], 0
    nd = arrays[0].ndim
    if nd == 0:
        raise ValueError("concat: zero-dimensional arrays cannot be concatenated")
    axis = normalize_axis(axis, nd, "concat")
    for a in arrays:
        if a.ndim != nd or any(s != t for i, (s, t) in enumerate(zip(a.shape, arrays[0].shape))
                               if i != axis):
            raise ValueError(f"concat: all the input array dimensions except for the "
                             f"concatenation axis must match exactly, got shapes "
                             f"{[x.shape for x in arrays]}")
    arrays, fmt = _common_fmt(arrays, "concat")
    shape = list(arrays[0].shape)
    shape[axis] = sum(a.shape[axis] for a in arrays)
    out = new_buffer(tuple(shape), fmt)
    dst = kcopy.contiguous_strides(shape)
    pieces, pos = [], 0
    for i, a in enumerate(arrays):
        if a.size:
            pieces.append(kcopy.piece(i, a.shape, dst_offset=pos * dst[axis], dst_strides=dst))
        pos += a.shape[axis]
    return run([kcopy.lower([a.buffer for a in arrays], out, pieces, machine=machine(),
                            op="concat")], [out])[0]


concatenate = concat


def stack(arrays, /, *, axis=0) -> Array:
    arrays = [operand(a, "stack") for a in arrays]
    if not arrays:
        raise ValueError("stack: need at least one array")
    if any(a.shape != arrays[0].shape for a in arrays):
        raise ValueError(f"stack: all input arrays must have the same shape, got "
                         f"{[a.shape for a in arrays]}")
    axis = normalize_axis(axis, arrays[0].ndim + 1, "stack")
    return concat([_insert_axis(a, axis) for a in arrays], axis=axis)


def _insert_axis(x, axis) -> Array:
    """x with a new axis of length 1 at `axis` (stack's building block; the public
    expand_dims, which takes a tuple of axes, is in shaping.py)."""
    x = operand(x, "stack")
    axis = normalize_axis(axis, x.ndim + 1, "stack")
    return reshape(x, x.shape[:axis] + (1,) + x.shape[axis:])


def squeeze(x, /, axis=None) -> Array:
    x = operand(x, "squeeze")
    if axis is None:
        return reshape(x, tuple(s for s in x.shape if s != 1))
    axes = {normalize_axis(a, x.ndim, "squeeze") for a in
            ((axis,) if isinstance(axis, int) else axis)}
    for a in axes:
        if x.shape[a] != 1:
            raise ValueError(f"squeeze: cannot select an axis to squeeze out which has size "
                             f"not equal to one (axis {a}, size {x.shape[a]})")
    return reshape(x, tuple(s for i, s in enumerate(x.shape) if i not in axes))


def broadcast_to(x, /, shape) -> Array:
    x = operand(x, "broadcast_to")
    shape = normalize_shape(shape, "broadcast_to")
    try:
        np.broadcast_shapes(x.shape, shape)
    except ValueError:
        raise ValueError(f"broadcast_to: cannot broadcast shape {x.shape} to {shape}") from None
    if np.broadcast_shapes(x.shape, shape) != shape:
        raise ValueError(f"broadcast_to: cannot broadcast shape {x.shape} to {shape}")
    if shape == x.shape:
        return x
    st = kcopy.contiguous_strides(x.shape)
    lead = len(shape) - x.ndim
    strides = [0] * lead + [0 if s == 1 and t != 1 else st[i]
                            for i, (s, t) in enumerate(zip(x.shape, shape[lead:]))]
    return _strided(x, shape, 0, strides, "broadcast_to")


def astype(x, fmt, /, *, rounding=None, copy=True) -> Array:
    """Change format: a rounding (nearest or stochastic), saturating shift."""
    x = operand(x, "astype")
    f = parse_format(fmt)
    if f == x.fmt:
        return x
    mode = check_rounding("astype", rounding)
    out = new_buffer(x.shape, f)
    shift = x.fmt.frac - f.frac
    return run_lowered(("requant", shift, mode), [x.buffer], [out],
                       lambda: krequant.lower(x.buffer, out, shift=shift, rounding=mode,
                                              machine=machine(), op="astype"))[0]
