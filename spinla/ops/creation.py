"""Arrays made on the host and placed in SDRAM: asarray, zeros, ones, full, *_like, eye."""
from __future__ import annotations

__all__ = ["asarray", "zeros", "ones", "full", "zeros_like", "ones_like", "full_like", "eye"]

import numpy as np

from ..array import Array
from ..fixed import Format, frac_for, parse_format, quantize
from ._core import asarray  # noqa: F401  (re-exported)


def _const(shape, value, fmt) -> Array:
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(int(s) for s in shape)
    f = parse_format(fmt) if fmt is not None else Format(frac_for(abs(float(value))))
    q, sat = quantize(np.asarray([value], float), f)
    if sat:
        from .. import runtime
        runtime.record("full", int(np.prod(shape)), call=False)
    from ..backends import upload
    return Array(upload(np.full(shape, q[0], dtype=np.int16), f, kind="constant"))


def zeros(shape, *, fmt=None, dtype=None, device=None) -> Array:
    return _const(shape, 0.0, fmt if fmt is not None else (dtype or Format(15)))


def ones(shape, *, fmt=None, dtype=None, device=None) -> Array:
    return _const(shape, 1.0, fmt if fmt is not None else dtype)


def full(shape, fill_value, *, fmt=None, dtype=None, device=None) -> Array:
    return _const(shape, fill_value, fmt if fmt is not None else dtype)


def zeros_like(x, *, fmt=None, dtype=None, device=None) -> Array:
    return zeros(x.shape, fmt=fmt or dtype or x.fmt)


def ones_like(x, *, fmt=None, dtype=None, device=None) -> Array:
    return ones(x.shape, fmt=fmt or dtype or x.fmt)


def full_like(x, fill_value, *, fmt=None, dtype=None, device=None) -> Array:
    return full(x.shape, fill_value, fmt=fmt or dtype or x.fmt)


def eye(n_rows, n_cols=None, /, *, k=0, fmt=None, dtype=None, device=None) -> Array:
    return asarray(np.eye(n_rows, n_cols, k=k), fmt=fmt or dtype or Format(14))
