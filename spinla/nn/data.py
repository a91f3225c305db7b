"""The edge between NumPy and the machine for training data: validation (before anything
runs) and one-time placement of a whole data set in SDRAM as q15 Arrays.

Images: the model's input_scale multiplies them; by default uint8 pixels are divided by 255
here, exactly (integer nearest rounding of u * 2^f / 255, no float64 copy of the set), and any
other numbers are taken as values (floats must be finite) and must lie within the input
format's range, else a ValueError asks for input_scale (never silent saturation); they are
quantised in chunks.  Labels:
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


PIXEL_SCALE = 1.0 / 255.0


def input_scale_for(a: np.ndarray, input_scale, fmt: Format, what="x") -> float:
    """The factor the inputs are multiplied by before quantisation, decided before any work.

    input_scale given: that (a positive finite number).  None: uint8 data are pixels and get
    1/255 (the documented default); any other data are taken as values, and if they exceed
    the input format's range a ValueError says so and how to scale them, instead of letting
    them saturate (0..255 pixels as float would otherwise be clamped to ~2)."""
    if input_scale is not None:
        if isinstance(input_scale, bool) or not isinstance(input_scale, numbers.Real) or not (
                np.isfinite(input_scale) and input_scale > 0):
            raise ValueError(f"input_scale must be a positive finite number, got "
                             f"{input_scale!r}")
        return float(input_scale)
    if a.dtype == np.uint8:
        return PIXEL_SCALE
    lo, hi = (float(a.min()), float(a.max())) if a.size else (0.0, 0.0)
    if lo < fmt.min - fmt.scale / 2 or hi > fmt.max + fmt.scale / 2:   # beyond rounding
        hint = (" (0..255 pixels: pass input_scale=1/255, or uint8 data, which is scaled by "
                "1/255)" if lo >= 0 and hi <= 255 else "")
        raise ValueError(f"{what}: values span [{lo:g}, {hi:g}], beyond the input format "
                         f"{fmt.name} (range [{fmt.min:g}, {fmt.max:g}]); pass input_scale= "
                         f"to scale them{hint}")
    return 1.0


def _lut_u8(src: np.ndarray, dst: np.ndarray, table: np.ndarray) -> None:
    """dst[i] = table[src[i]] for uint8 src, in C on the host's threads
    (spinla_c/host/run_convert.c)."""
    from ..kernels import ffi, lib, threads
    lib.spl_lut_u8_to_i16(ffi.from_buffer("uint8_t[]", src), ffi.from_buffer("int16_t[]", dst),
                          src.size, ffi.from_buffer("int16_t[]", table), threads(src.size))


def place_x(a: np.ndarray, fmt: Format, scale: float | None = None) -> Array:
    """Quantise a validated data set once into one SDRAM Array, multiplied by `scale`
    (None: 1/255 for uint8 pixels, else 1; see input_scale_for)."""
    if scale is None:
        scale = PIXEL_SCALE if a.dtype == np.uint8 else 1.0
    out = np.empty(a.shape, np.int16)
    flat_in, flat_out = a.reshape(-1), out.reshape(-1)
    sat, losses = 0, {}
    if a.dtype == np.uint8 and scale == PIXEL_SCALE:
        # value u / 255 at frac f, nearest: floor(u 2^f / 255 + 1/2) = (2^(f+1) u + 255) // 510,
        # as a 256-entry table (one lookup per pixel, in C), written straight into the
        # output: no data-set-sized temporary (fancy indexing made one, and the page faults
        # of touching it cost more than the lookups).
        f = fmt.frac
        u = np.arange(256, dtype=np.int64)
        table = np.minimum((u * (2 << f) + 255) // 510, 32767).astype(np.int16)
        _lut_u8(np.ascontiguousarray(flat_in), flat_out, table)
        if f >= 15:  # only 1.0 (u = 255) can exceed q0.15
            sat = int(np.count_nonzero(flat_in == 255))
    elif a.dtype == np.int16 and fmt.kind == "fixed" and scale == 2.0 ** -fmt.frac:
        # q-values of this very format (e.g. patterns a boosting filter drew from a placed
        # set): exact as they are, nothing to round or saturate.
        flat_out[...] = flat_in
    else:
        for i in range(0, flat_in.size, _CHUNK):
            chunk = flat_in[i:i + _CHUNK]
            lost = {}
            q, s = quantize(chunk if scale == 1.0 else chunk * scale, fmt, losses=lost)
            flat_out[i:i + _CHUNK] = q
            sat += s
            for k, v in lost.items():
                losses[k] = losses.get(k, 0) + v
    runtime.record("asarray", sat, call=False, **losses)
    return Array(upload(out, fmt, kind="dataset"))


def place_rows(rows: np.ndarray, nsrc: int) -> Array:
    """An order of data-set rows (e.g. an epoch's shuffle) placed once on the machine, for
    training steps to gather their batches from the resident set (gather_rows): int32 row
    numbers as pairs of int16 elements (their little-endian halves), shape (len(rows), 2), so
    that a batch's numbers are a slice of leading rows.  Checked here against the set's
    nsrc rows: the board's gather does not check them."""
    r = np.asarray(rows)
    if r.ndim != 1 or r.dtype.kind not in "iu":
        raise TypeError(f"place_rows: expected a 1-d integer array, got {r.dtype} {r.shape}")
    if r.size and (int(r.min()) < 0 or int(r.max()) >= nsrc):
        raise IndexError(f"place_rows: row numbers must lie in [0, {nsrc}), got "
                         f"[{int(r.min())}, {int(r.max())}]")
    halves = np.ascontiguousarray(r, dtype="<i4").view(np.int16).reshape(len(r), 2)
    return Array(upload(halves, INT16, kind="order"))


def gather_rows(table: Array, rows: Array) -> Array:
    """table's rows (leading axis) at the numbers in `rows` (place_rows' layout, or a slice
    of its leading rows), gathered on the machine: a batch drawn from a resident data set.
    Traced inside a training step, the numbers are an input of the step's Program."""
    from ..kernels import copy as kcopy
    from ..ops._core import machine, new_buffer, run
    if rows.fmt != INT16 or rows.ndim != 2 or rows.shape[1] != 2:
        raise TypeError(f"gather_rows: row numbers must be place_rows' (n, 2) int16 pairs, "
                        f"got {rows.shape} {rows.fmt.name}")
    out = new_buffer((rows.shape[0],) + table.shape[1:], table.fmt)
    return run([kcopy.lower_gather_indexed(table.buffer, rows.buffer, out, machine=machine(),
                                           op="gather_rows")], [out])[0]


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
