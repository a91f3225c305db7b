"""The Array API standard's inspection surface for spinla's formats.

spinla has one storage type (16-bit two's complement) and three kinds of format on it
(spinla/fixed.py): BOOL, INT16 and the sixteen fixed-point formats q15.0 .. q0.15.  The
standard's dtype names map onto them as far as they honestly can:

  bool  -> spinla.BOOL          int16 -> spinla.INT16
  "real floating" -> every fixed-point format (spinla's real numbers).  There is no float32 or
  float64: a fixed-point format is not a floating-point type, so finfo() reports what the
  format really holds (eps = smallest_normal = one LSB, no infinities, no NaN).
  No unsigned, wider-integer or complex formats exist, so those names are absent.

Promotion (result_type) follows the element-wise ops' default rule (spinla/ops/elementwise.py):
bool with bool stays bool, integers and bools give INT16, any fixed-point format gives the
coarsest fixed-point format involved (fewest fractional bits).  Where this and the standard's
table disagree, spinla's values-first rule wins (README, "Array API conformance").
"""
from __future__ import annotations

import builtins
import math
from dataclasses import dataclass

from .fixed import BOOL, INT16, QMAX, QMIN, Format, parse_format

__array_api_version__ = "2025.12"

e = math.e
pi = math.pi
inf = math.inf
nan = math.nan
newaxis = None

bool = BOOL  # noqa: A001  (the standard's name; builtins.bool is used below)
int16 = INT16

FIXED_FORMATS = tuple(Format(f) for f in range(16))
_KINDS = ("bool", "signed integer", "unsigned integer", "integral", "real floating",
          "complex floating", "numeric")


def _dtype_of(x, op):
    from .array import Array
    if isinstance(x, Array):
        return x.fmt
    if isinstance(x, Format):
        return x
    try:
        return parse_format(x)
    except TypeError:
        raise TypeError(f"{op}: expected a spinla format or Array, got {x!r}") from None


@dataclass(frozen=True)
class finfo_object:
    bits: int
    eps: float
    max: float
    min: float
    smallest_normal: float
    dtype: Format


@dataclass(frozen=True)
class iinfo_object:
    bits: int
    max: int
    min: int
    dtype: Format


def finfo(type, /) -> finfo_object:  # noqa: A002  (the standard's parameter name)
    """Machine limits of a fixed-point format: eps and smallest_normal are one LSB (2**-frac),
    the spacing everywhere; max/min the format's range."""
    f = _dtype_of(type, "finfo")
    if f.kind != "fixed":
        raise TypeError(f"finfo: {f} is not a fixed-point (real) format; use iinfo")
    return finfo_object(16, f.scale, f.max, f.min, f.scale, f)


def iinfo(type, /) -> iinfo_object:  # noqa: A002
    f = _dtype_of(type, "iinfo")
    if f.kind != "int":
        raise TypeError(f"iinfo: {f} is not an integer format (spinla's only one is int16)")
    return iinfo_object(16, QMAX, QMIN, f)


def result_type(*arrays_and_dtypes) -> Format:
    """The format the element-wise ops give these operands by default (module docstring).
    Python scalars are weak: they do not take part unless nothing else does."""
    if not arrays_and_dtypes:
        raise ValueError("result_type: at least one array or dtype is required")
    fmts = [_dtype_of(x, "result_type") for x in arrays_and_dtypes
            if not isinstance(x, (builtins.bool, int, float, complex))]
    if not fmts:
        raise ValueError("result_type: at least one array or dtype is required "
                         "(Python scalars alone have no format)")
    if all(f.kind == "bool" for f in fmts):
        return BOOL
    fixed = [f.frac for f in fmts if f.kind == "fixed"]
    return Format(builtins.min(fixed)) if fixed else INT16


def can_cast(from_, to, /) -> builtins.bool:
    """Whether promotion takes `from_` to `to` (result_type(from_, to) == to), as the
    standard defines it.  In fixed point that cast can round: q3.12 -> q7.8 promotes (the
    coarser format holds the range of both) and drops 4 fractional bits, as the element-wise
    ops do; astype then rounds once and counts any saturation."""
    f, t = _dtype_of(from_, "can_cast"), _dtype_of(to, "can_cast")
    return result_type(f, t) == t


def isdtype(dtype, kind) -> builtins.bool:
    """The standard's dtype kinds: fixed-point formats are "real floating" (spinla's reals)."""
    if not isinstance(dtype, Format):
        raise TypeError(f"isdtype: expected a spinla format, got {dtype!r}")
    if isinstance(kind, tuple):
        return builtins.any(isdtype(dtype, k) for k in kind)
    if isinstance(kind, Format):
        return dtype == kind
    if kind not in _KINDS:
        raise ValueError(f"isdtype: unknown kind {kind!r}; one of {_KINDS}")
    return {"bool": dtype.kind == "bool", "signed integer": dtype.kind == "int",
            "unsigned integer": False, "integral": dtype.kind == "int",
            "real floating": dtype.kind == "fixed", "complex floating": False,
            "numeric": dtype.kind != "bool"}[kind]


class Info:
    """What __array_namespace_info__() returns."""

    __module__ = "spinla"

    def capabilities(self):
        # Boolean masks, nonzero and unique give data-dependent shapes: computed on the host
        # from concrete data (inside spinla.jit they raise).  The copy and element-wise
        # kernels take at most 6 dimensions (SPL_MAX_DIMS, spinla_c/spinla.h); reshapes and
        # views allow more, but not every op does, so 6 is the number every op honours.
        return {"boolean indexing": True, "data-dependent shapes": True,
                "max dimensions": 6}

    def default_device(self):
        from .machine import current
        return current()

    def devices(self):
        return (self.default_device(),)

    def default_dtypes(self, *, device=None):
        # spinla picks a real format from the data (asarray docstring); q3.12 is what eye and
        # linspace fall back to, and is reported as the default real format.
        return {"real floating": Format(12), "complex floating": None, "integral": INT16,
                "indexing": INT16}

    def dtypes(self, *, device=None, kind=None):
        table = {"bool": BOOL, "int16": INT16}
        table.update({f.name: f for f in FIXED_FORMATS})
        if kind is None:
            return table
        return {n: f for n, f in table.items() if isdtype(f, kind)}


def __array_namespace_info__() -> Info:
    return Info()


__all__ = ["__array_api_version__", "__array_namespace_info__", "e", "pi", "inf", "nan",
           "newaxis", "bool", "int16", "finfo", "iinfo", "result_type", "can_cast", "isdtype"]
