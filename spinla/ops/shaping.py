"""More shape and data-movement ops (Array API names): moveaxis, roll, tile, repeat, unstack,
broadcast_arrays, broadcast_shapes, diff, and expand_dims with a tuple of axes.

All are copies by the machine's copy kernel (strided views, concat, broadcast) except diff,
which subtracts shifted slices with the subtract kernel.
"""
from __future__ import annotations

__all__ = ["moveaxis", "roll", "tile", "repeat", "unstack", "broadcast_arrays",
           "broadcast_shapes", "diff", "expand_dims"]

import operator

import numpy as np

from ._core import broadcast_shapes as _bshapes
from ._core import normalize_axis, operand
from .elementwise import subtract
from .manipulation import broadcast_to, concat, permute_dims, reshape


def _axis_list(axis, ndim, op):
    axes = [axis] if not isinstance(axis, (tuple, list)) else list(axis)
    out = [normalize_axis(operator.index(a), ndim, op) for a in axes]
    if len(set(out)) != len(out):
        raise ValueError(f"{op}: repeated axis in {axis!r}")
    return out


def expand_dims(x, /, axis=0):
    """Insert size-1 axes at `axis` (an int or a tuple, positions in the result)."""
    a = operand(x, "expand_dims")
    n = a.ndim + (len(axis) if isinstance(axis, (tuple, list)) else 1)
    axes = set(_axis_list(axis, n, "expand_dims"))
    it = iter(a.shape)
    return reshape(a, tuple(1 if d in axes else next(it) for d in range(n)))


def moveaxis(x, source, destination, /):
    a = operand(x, "moveaxis")
    src = _axis_list(source, a.ndim, "moveaxis")
    dst = _axis_list(destination, a.ndim, "moveaxis")
    if len(src) != len(dst):
        raise ValueError("moveaxis: source and destination must have the same number of "
                         "elements")
    order = [d for d in range(a.ndim) if d not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return permute_dims(a, order)


def roll(x, /, shift, *, axis=None):
    """Elements shifted along axis (flattened when None), wrapping round: two slice copies
    and a concat per axis."""
    a = operand(x, "roll")
    if axis is None:
        return reshape(roll(reshape(a, (a.size,)), operator.index(shift), axis=0), a.shape)
    axes = _axis_list(axis, a.ndim, "roll")
    shifts = [shift] * len(axes) if not isinstance(shift, (tuple, list)) else list(shift)
    if len(shifts) != len(axes):
        raise ValueError("roll: shift and axis must have the same length")
    r = a
    for ax, s in zip(axes, shifts):
        n = r.shape[ax]
        if n == 0:
            continue
        s = operator.index(s) % n
        if s == 0:
            continue
        pre = (slice(None),) * ax
        r = concat([r[pre + (slice(n - s, None),)], r[pre + (slice(0, n - s),)]], axis=ax)
    return r


def tile(x, repetitions, /):
    """x repeated along each axis: one concat copy per repeated axis."""
    a = operand(x, "tile")
    reps = tuple(operator.index(r) for r in repetitions)
    if any(r < 0 for r in reps):
        raise ValueError("tile: repetitions must be non-negative")
    nd = max(a.ndim, len(reps))
    reps = (1,) * (nd - len(reps)) + reps
    r = reshape(a, (1,) * (nd - a.ndim) + a.shape)
    if 0 in reps or r.size == 0:
        from .creation import zeros
        return zeros(tuple(n * s for n, s in zip(reps, r.shape)), fmt=a.fmt)
    for ax, n in enumerate(reps):
        if n != 1:
            r = concat([r] * n, axis=ax)
    return r


def repeat(x, repeats, /, *, axis=None):
    """Each element repeated `repeats` times along axis (flattened when None); an array of
    repeats selects rows by a host-made index list (the take/gather kernel)."""
    a = operand(x, "repeat")
    if axis is None:
        a, axis = reshape(a, (a.size,)), 0
    ax = normalize_axis(operator.index(axis), a.ndim, "repeat")
    if isinstance(repeats, int) or (hasattr(repeats, "__index__") and np.ndim(repeats) == 0
                                    and not hasattr(repeats, "fmt")):
        r = operator.index(repeats)
        if r < 0:
            raise ValueError("repeat: repeats must be non-negative")
        e = reshape(a, a.shape[:ax + 1] + (1,) + a.shape[ax + 1:])
        b = broadcast_to(e, a.shape[:ax + 1] + (r,) + a.shape[ax + 1:])
        return reshape(b, a.shape[:ax] + (a.shape[ax] * r,) + a.shape[ax + 1:])
    reps = np.asarray(repeats.to_numpy() if hasattr(repeats, "to_numpy") else repeats)
    if reps.dtype.kind not in "iu" or np.any(reps < 0):
        raise ValueError("repeat: repeats must be non-negative integers")
    idx = np.repeat(np.arange(a.shape[ax]), np.broadcast_to(reps, (a.shape[ax],)))
    from .selection import take
    return take(a, idx, axis=ax)


def unstack(x, /, *, axis=0):
    a = operand(x, "unstack")
    ax = normalize_axis(operator.index(axis), a.ndim, "unstack")
    return tuple(a[(slice(None),) * ax + (i,)] for i in range(a.shape[ax]))


def broadcast_shapes(*shapes):
    return _bshapes("broadcast_shapes", *shapes)


def broadcast_arrays(*arrays):
    arrs = [operand(a, "broadcast_arrays") for a in arrays]
    shape = _bshapes("broadcast_arrays", *[a.shape for a in arrs])
    return tuple(broadcast_to(a, shape) for a in arrs)


def diff(x, /, *, axis=-1, n=1, prepend=None, append=None, fmt=None, rounding=None):
    """n-th differences along axis by the subtract kernel (default format: subtract's)."""
    a = operand(x, "diff")
    ax = normalize_axis(operator.index(axis), a.ndim, "diff")
    parts = [operand(p, "diff") for p in (prepend,) if p is not None] + [a] + \
        [operand(p, "diff") for p in (append,) if p is not None]
    r = concat(parts, axis=ax) if len(parts) > 1 else a
    pre = (slice(None),) * ax
    for _ in range(operator.index(n)):
        r = subtract(r[pre + (slice(1, None),)], r[pre + (slice(None, -1),)], fmt=fmt,
                     rounding=rounding)
    return r
