"""Arrays made on the host and placed in SDRAM: asarray, zeros, ones, full, *_like, eye."""
from __future__ import annotations

__all__ = ["asarray", "zeros", "ones", "full", "zeros_like", "ones_like", "full_like", "eye"]

import numpy as np

from ..array import Array
from .. import runtime, state
from ..fixed import Format, frac_for, parse_format, quantize
from ._core import _host_array, index_int, normalize_shape
from ._core import asarray  # noqa: F401  (re-exported)


def fill_value(value, fmt, op: str, count: int = 1):
    """(int16 code, format) of a fill value, checked like asarray's data: a non-real value is a
    TypeError, NaN/inf 'invalid' (ValueError by default), and saturation, underflow and
    rounding are counted (once per element filled) and reported under `op`."""
    if isinstance(value, Array) or np.ndim(value) != 0:
        raise TypeError(f"{op}: the fill value must be a real scalar, got "
                        f"{type(value).__name__}")
    x = _host_array(value, op).astype(np.float64).reshape(1)
    invalid = 0
    if not np.isfinite(x[0]):
        if state.geterr()["invalid"] == "raise":
            raise ValueError(f"{op}: fill value {float(x[0])!r} is NaN or infinite, which no "
                             f"fixed-point format holds")
        invalid = count
        x = np.nan_to_num(x, nan=0.0, posinf=1e300, neginf=-1e300)
    f = parse_format(fmt) if fmt is not None else Format(frac_for(abs(float(x[0]))))
    losses = {}
    q, sat = quantize(x, f, losses=losses)
    runtime.record(op, sat * count, call=False, invalid=invalid,
                   **{k: v * count for k, v in losses.items()})
    return int(q[0]), f


def _const(shape, value, fmt, op="full") -> Array:
    shape = normalize_shape(shape, op)
    code, f = fill_value(value, fmt, op, count=int(np.prod(shape)))
    from ..backends import upload
    return Array(upload(np.full(shape, code, dtype=np.int16), f, kind="constant"))


def zeros(shape, *, fmt=None, dtype=None, device=None) -> Array:
    return _const(shape, 0.0, fmt if fmt is not None else (dtype or Format(15)), "zeros")


def ones(shape, *, fmt=None, dtype=None, device=None) -> Array:
    return _const(shape, 1.0, fmt if fmt is not None else dtype, "ones")


def full(shape, fill_value, *, fmt=None, dtype=None, device=None) -> Array:
    return _const(shape, fill_value, fmt if fmt is not None else dtype)


def zeros_like(x, *, fmt=None, dtype=None, device=None) -> Array:
    return zeros(x.shape, fmt=fmt or dtype or x.fmt)


def ones_like(x, *, fmt=None, dtype=None, device=None) -> Array:
    return ones(x.shape, fmt=fmt or dtype or x.fmt)


def full_like(x, fill_value, *, fmt=None, dtype=None, device=None) -> Array:
    return full(x.shape, fill_value, fmt=fmt or dtype or x.fmt)


def eye(n_rows, n_cols=None, /, *, k=0, fmt=None, dtype=None, device=None) -> Array:
    n_rows = index_int(n_rows, "eye", "n_rows")
    n_cols = None if n_cols is None else index_int(n_cols, "eye", "n_cols")
    k = index_int(k, "eye", "k")
    return asarray(np.eye(n_rows, n_cols, k=k), fmt=fmt or dtype or Format(14))
