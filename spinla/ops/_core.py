"""Plumbing shared by the op modules: operand conversion, output buffers, rounding default."""
from __future__ import annotations

import contextlib
import numbers

import numpy as np

from .. import runtime
from ..array import Array
from ..fixed import BOOL, INT16, NEAREST, ROUNDING_MODES, Format, frac_for, parse_format, quantize
from ..machine import current as current_machine
from ..program import Buffer

_config = {"rounding": NEAREST}


def default_rounding() -> str:
    return _config["rounding"]


@contextlib.contextmanager
def rounding(mode: str):
    """Use `mode` ('nearest' or 'stochastic') as the default rounding inside the block."""
    check_rounding("rounding", mode)
    prev = _config["rounding"]
    _config["rounding"] = mode
    try:
        yield
    finally:
        _config["rounding"] = prev


def check_rounding(op, mode):
    if mode is None:
        return default_rounding()
    if mode not in ROUNDING_MODES:
        raise ValueError(f"{op}: unknown rounding mode {mode!r}; use 'nearest' or 'stochastic'")
    return mode


def _fmt_for_values(x: np.ndarray) -> Format:
    if x.dtype == np.bool_:
        return BOOL
    if np.issubdtype(x.dtype, np.integer):
        return INT16 if x.size == 0 or (x.min() >= -32768 and x.max() <= 32767) else Format(0)
    return Format(frac_for(float(np.max(np.abs(x))) if x.size else 0.0))


def asarray(obj, fmt=None, *, rounding=None, copy=None, dtype=None, device=None,
            op="asarray") -> Array:
    """Place host data on the machine as a q15 Array.

    fmt: a Format, frac count or name ('q3.12'); default: the finest format whose range holds
    the data (integers and booleans keep frac 0).  Values beyond the format saturate, counted
    and warned about like any op.  NaN or infinity raises ValueError."""
    if dtype is not None and fmt is None:
        fmt = dtype
    if isinstance(obj, Array):
        if fmt is None or parse_format(fmt) == obj.fmt:
            return obj
        from .manipulation import astype
        return astype(obj, fmt, rounding=rounding)
    try:
        x = np.asarray(obj)
    except Exception as e:
        raise TypeError(f"{op}: cannot convert {type(obj).__name__} to an array") from e
    if x.dtype.kind not in "biuf":
        raise TypeError(f"{op}: unsupported dtype {x.dtype} (spinla takes bool, integer and "
                        f"real floating-point data)")
    if x.dtype.kind == "f" and not np.all(np.isfinite(x)):
        raise ValueError(f"{op}: input contains NaN or infinity "
                         f"({int(np.count_nonzero(~np.isfinite(x)))} of {x.size} values)")
    f = parse_format(fmt) if fmt is not None else _fmt_for_values(x)
    mode = check_rounding(op, rounding)
    if f.kind != "fixed":
        data = x.astype(np.int64)
        sat = int(np.count_nonzero((data > 32767) | (data < -32768)))
        data = np.clip(data, -32768, 32767).astype(np.int16)
    else:
        data, sat = quantize(x, f, mode, seed=runtime.next_seed() if mode != NEAREST else 0)
    runtime.record(op, sat, call=False)
    from ..backends import upload
    return Array(upload(np.asarray(data, order="C"), f,  # keeps 0-d
                        kind="asarray" if op == "asarray" else "constant"))


def operand(x, op: str, like: Array | None = None) -> Array:
    """An op's operand: Arrays pass through, Python and NumPy numbers become constants."""
    if isinstance(x, Array):
        return x
    if isinstance(x, (numbers.Number, np.ndarray, np.generic, list, tuple)):
        return asarray(x, op=op)
    raise TypeError(f"{op}: unsupported operand type {type(x).__name__}")


def new_buffer(shape, fmt: Format) -> Buffer:
    return Buffer(shape, fmt)


def run(calls, outputs) -> list:
    """Emit calls and wrap their output buffers as Arrays."""
    runtime.emit(calls, outputs)
    return [Array(b) for b in outputs]


def machine():
    return current_machine()


def normalize_axis(axis: int, ndim: int, op: str) -> int:
    if not -ndim <= axis < max(ndim, 1):
        raise np.exceptions.AxisError(f"{op}: axis {axis} is out of bounds for array of "
                                      f"dimension {ndim}")
    return axis % max(ndim, 1)


def broadcast_shapes(op: str, *shapes):
    try:
        return tuple(np.broadcast_shapes(*shapes))
    except ValueError:
        raise ValueError(f"{op}: operands could not be broadcast together with shapes "
                         f"{' '.join(str(tuple(s)) for s in shapes)}") from None
