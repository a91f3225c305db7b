"""The edge between NumPy and the machine for training data: validation (before anything
runs) and one-time placement of a whole data set in SDRAM as q15 Arrays.

Images: uint8 pixels are divided by 255 here, exactly (integer nearest rounding of
u * 2^f / 255, no float64 copy of the set); any other numbers are taken as values (floats must
be finite) and quantised in chunks, saturating (counted) beyond the input format.  Labels:
integer class indices or one-hot rows both become a one-hot q1.14 target array (for the loss)
and an int16 label array (for accuracy), placed once per fit.
"""
from __future__ import annotations

import numbers

import numpy as np

from .. import runtime
from ..array import Array
from ..fixed import INT16, Format, quantize
from ..backends import upload

_CHUNK = 1 << 20  # elements quantised at a time (bounds the float64 temporary)


def check_batch_size(batch_size, what="batch_size"):
    if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral):
        raise TypeError(f"{what} must be a positive integer, got {batch_size!r}")
    if batch_size < 1:
        raise ValueError(f"{what} must be a positive integer, got {batch_size}")
    if batch_size > 32767:
        raise ValueError(f"{what} must be at most 32767 (accuracy counts are int16), got "
                         f"{batch_size}")
    return int(batch_size)


def conform_x(x, input_shape, what="x"):
    """x as a NumPy array shaped (N,) + input_shape; (N, 28, 28) and (N, 28, 28, 1) are both
    accepted for a (28, 28) or (28, 28, 1) model.  ValueError/TypeError name the problem."""
    if isinstance(x, Array):
        raise TypeError(f"{what}: pass host data (a NumPy array); fit places it on the machine")
    a = np.asarray(x)
    if a.dtype.kind not in "biuf":
        raise TypeError(f"{what}: unsupported dtype {a.dtype} (use uint8 pixels or real "
                        f"numbers)")
    want = tuple(input_shape)
    if a.ndim < 1 or a.shape[0] == 0:
        raise ValueError(f"{what}: no samples (shape {a.shape})")
    per = a.shape[1:]

    def core(s):
        s = tuple(s)
        while s and s[-1] == 1:
            s = s[:-1]
        return s
    if per != want:
        if core(per) == core(want):
            a = a.reshape((a.shape[0],) + want)
        else:
            raise ValueError(f"{what}: expected samples of shape {want} (input shape "
                             f"(N, {', '.join(map(str, want))})), got {a.shape}")
    if a.dtype.kind == "f":
        bad = ~np.isfinite(a)
        if bad.any():
            raise ValueError(f"{what} contains NaN or infinity ({int(bad.sum())} of {a.size} "
                             f"values), e.g. at sample {int(np.argwhere(bad)[0][0])}")
    return a


def place_x(a: np.ndarray, fmt: Format) -> Array:
    """Quantise a validated data set once into one SDRAM Array."""
    out = np.empty(a.shape, np.int16)
    flat_in, flat_out = a.reshape(-1), out.reshape(-1)
    sat = 0
    if a.dtype == np.uint8:
        # value u / 255 at frac f, nearest: floor(u 2^f / 255 + 1/2) = (2^(f+1) u + 255) // 510,
        # as a 256-entry table (one lookup per pixel)
        f = fmt.frac
        u = np.arange(256, dtype=np.int64)
        flat_out[:] = np.minimum((u * (2 << f) + 255) // 510, 32767).astype(np.int16)[flat_in]
        if f >= 15:  # only 1.0 (u = 255) can exceed q0.15
            sat = int(np.count_nonzero(flat_in == 255))
    else:
        for i in range(0, flat_in.size, _CHUNK):
            q, s = quantize(flat_in[i:i + _CHUNK], fmt)
            flat_out[i:i + _CHUNK] = q
            sat += s
    runtime.record("asarray", sat, call=False)
    return Array(upload(out, fmt, kind="dataset"))


def conform_y(y, n: int, classes: int, classification: bool, what="y"):
    """(targets float array (n, classes) or None for integer labels, labels int array (n,)
    with -1 where there is no class)."""
    if isinstance(y, Array):
        raise TypeError(f"{what}: pass host data (a NumPy array)")
    b = np.asarray(y)
    if b.dtype.kind not in "biuf":
        raise TypeError(f"{what}: unsupported dtype {b.dtype}")
    if b.shape[:1] != (n,):
        raise ValueError(f"{what}: expected {n} rows to match x, got shape {b.shape}")
    if b.dtype.kind == "f" and not np.all(np.isfinite(b)):
        raise ValueError(f"{what} contains NaN or infinity")
    if b.ndim == 2 and b.shape[1] == 1 and classes != 1:
        b = b[:, 0]
    if b.ndim == 1:
        if not classification and classes != 1:
            raise ValueError(f"{what}: integer labels need a classification loss; this loss "
                             f"wants targets of shape ({n}, {classes})")
        if b.dtype.kind == "f" and np.any(b != np.floor(b)):
            raise ValueError(f"{what}: class labels must be integers")
        lab = b.astype(np.int64)
        lo, hi = int(lab.min()), int(lab.max())
        if lo < 0 or hi >= classes:
            bad = lab[(lab < 0) | (lab >= classes)][0]
            raise ValueError(f"{what}: label {bad} out of range for {classes} classes "
                             f"(labels must be in 0..{classes - 1})")
        return None, lab
    if b.ndim != 2 or b.shape[1] != classes:
        raise ValueError(f"{what}: expected labels of shape ({n},) or targets of shape "
                         f"({n}, {classes}), got {b.shape}")
    t = b.astype(np.float64)
    onehot = np.all((t == 0) | (t == 1), axis=1) & (t.sum(axis=1) == 1)
    if classification and not onehot.all():
        raise ValueError(f"{what}: rows must be one-hot (row {int(np.argmin(onehot))} is not)")
    lab = np.where(onehot, np.argmax(t, axis=1), -1)
    return t, lab


def place_y(targets, labels, classes: int, fmt: Format):
    """(targets Array (n, classes) in fmt, labels Array (n,) int16)."""
    n = labels.shape[0]
    if targets is None:
        one = int(round(2 ** fmt.frac))
        data = np.zeros((n, classes), np.int16)
        data[np.arange(n), labels] = min(one, 32767)
        runtime.record("asarray", n if one > 32767 else 0, call=False)
        t = Array(upload(data, fmt, kind="dataset"))
    else:
        q, s = quantize(targets, fmt)
        runtime.record("asarray", s, call=False)
        t = Array(upload(q, fmt, kind="dataset"))
    lab = Array(upload(labels.astype(np.int16), INT16, kind="dataset"))
    return t, lab
