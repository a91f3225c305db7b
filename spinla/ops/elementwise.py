"""Element-wise ops (Array API names): arithmetic with NumPy broadcasting, comparisons, where,
clip, and the unary functions exp, log, tanh, sigmoid, sqrt.

Every result is computed by a C kernel exactly in 32/64-bit integers from the quantised
inputs (operands of different formats are first aligned exactly by shifting the coarser one)
and rounded ONCE to the output format: |error| <= 1/2 output LSB with nearest rounding, < 1 LSB
stochastic, plus, for the table functions, the interpolation error listed below.  Results
beyond the output format saturate, counted in spinla.stats() with a SaturationWarning.

Default output formats (every op takes fmt= to override, and rounding= where it rounds):
  add, subtract, multiply, divide, square, pow, maximum, minimum, where, clip, axpby: the
      finest format that holds every value the operands' formats can produce, no finer than
      the exact result (the rule, with examples, is in spinla/fixed.py: + and - gain one
      integer bit, * adds integer bits, division by a scalar keeps enough fractional bits).
      Integer arrays contribute the range of their data; with only integer/boolean operands
      the result is INT16 (divide excepted: true division gives fixed point), maximum,
      minimum and where of booleans stay BOOL.
  negative, abs: the input's format (only its most negative value saturates, counted).
  less, less_equal, greater, greater_equal, equal, not_equal: BOOL (0/1); no fmt=.
  exp:     the finest format holding exp(x.fmt.max), but at least frac 8 (q7.8): for inputs
           from wide formats the result keeps 8 fractional bits and values above exp's range
           (x > 4.85 for q7.8) saturate, counted.
  log:     q4.11: |ln x| <= 15 ln 2 = 10.4 for every positive q15 value, so nothing saturates.
  tanh, sigmoid: q1.14.  Not q0.15: the rounded result reaches exactly +-1 (|x| > 5.5 for tanh,
           x > 10.4 for sigmoid), which q0.15 cannot hold, so every such input would be
           counted as a saturation.
  sqrt:    frac (frac_in + 15) // 2, the finest format that holds sqrt(x.fmt.max).

Only Python int, float and bool are "weak" scalars (NEP 50): `x * 0.5`, `x + 1` take the
scalar's own value (not a format's range) into the output range; the scalar becomes a constant
buffer in the finest format that holds it (inside spinla.jit it is part of the traced Program).
NumPy scalars are arrays of their dtype (np.float64(100) is a q7.8 array).  Comparisons and
clip with a scalar (Python or NumPy) do not quantise it at all: the bound is turned into the
integer test that is exactly equivalent on x's grid (x < c  <=>  x_int < ceil(c 2^f)), and
clip's bounds are rounded once into the output format.

Error bounds of the table functions (E = output LSB, nearest rounding, against float64 of the
function of the quantised input; spinla_c/lut_q15.c, asserted in tests/test_functions.py over
every int16 input and every pair of input and output formats): exp <= 0.53 E (relative
interpolation error 9.2e-7 of the value), log <= 0.56 E (0.5 E + 1.9e-6), sigmoid <= 0.6 E
(0.5 E + 2.9e-6), tanh <= 0.69 E (0.5 E + 5.9e-6; 0.6 E at the default q1.14), sqrt <= 0.5 E
(exact rounding).  Stochastic rounding: < 1 E plus the same interpolation terms.  The input's own
quantisation (1/2 its LSB) adds |f'(x)| times that: exp(x)/2, 1/(2x), at most 1/8 (sigmoid)
and 1/2 (tanh) input LSBs, 1/(4 sqrt x).
Outside the domain (log of x <= 0, sqrt of x < 0) the result is the format's minimum, counted
as a saturation.  divide by zero gives the format's max (x > 0), min (x < 0) or 0 (0/0), each
counted as a saturation.  negative and abs of the most negative value saturate (counted).
"""
from __future__ import annotations

__all__ = ["add", "subtract", "multiply", "divide", "maximum", "minimum", "negative",
           "positive", "abs", "square", "sqrt", "exp", "log", "tanh", "sigmoid", "clip",
           "where", "less", "less_equal", "greater", "greater_equal", "equal", "not_equal",
           "pow", "axpby"]

import builtins
import math
import numbers

import numpy as np

from ..array import Array
from ..fixed import (BOOL, INT16, QMAX, QMIN, Format, frac_for, parse_format, result_format,
                     value_range)
from ..kernels import eltwise as kew
from ..kernels import lut as klut
from ._core import (broadcast_shapes, check_rounding, machine, new_buffer,
                    operand, run, run_lowered)

_LIMIT = 1 << 20  # comparison / clip thresholds beyond every int16 value (and no overflow)


def _is_weak(x) -> bool:
    """Only Python's own bool, int and float are weak (NEP 50); NumPy scalars are arrays."""
    return type(x) in (bool, int, float)


def _range(a: Array, weak: bool, value=None):
    """(lo, hi, exact_frac) of an operand: a weak scalar's own value, an integer or boolean
    array's data (the whole int16 range while tracing), a fixed array's format."""
    if weak and value is not None:
        v = float(value)
        return v, v, a.fmt.frac
    if a.fmt.kind != "fixed":
        d = a.buffer.data
        if a.fmt.kind == "bool":
            return 0.0, 1.0, 0
        if d is not None and d.size:
            return float(d.min()), float(d.max()), 0
        return float(QMIN), float(QMAX), 0
    lo, hi = value_range(a.fmt)
    return lo, hi, a.fmt.frac


def _min_nonzero(a: Array) -> float:
    d = a.buffer.data
    if d is not None:
        nz = np.abs(d[d != 0].astype(np.int64))
        if nz.size:
            return float(nz.min()) * 2.0 ** -a.fmt.frac
    return 2.0 ** -a.fmt.frac


def _int_result(arrs) -> bool:
    """NumPy's rule: integer/boolean operands give an integer result unless a fixed-point
    array or a Python float (a fixed-point constant) takes part."""
    return all(a.fmt.kind != "fixed" for a in arrs)


_RANGE_FMTS: dict = {}


def _range_fmt(op, arrs, weak, raw) -> Format:
    """The default output format of an arithmetic op (spinla.fixed's rule).  With fixed-point
    operands only, and no array divisor, it reads no data: it is kept per (op, formats, weak
    scalars' values), since eager ops repeat."""
    fmts = [a.fmt for a in arrs]
    if op != "divide" and all([f.kind == "fixed" for f in fmts]):
        key = (op, tuple([f.frac for f in fmts]),
               tuple([(type(x), x) if w else None for x, w in zip(raw, weak)]))
        fo = _RANGE_FMTS.get(key)
        if fo is None:
            if len(_RANGE_FMTS) > 4096:
                _RANGE_FMTS.clear()
            fo = _RANGE_FMTS[key] = _range_fmt_of(op, arrs, weak, raw)
        return fo
    return _range_fmt_of(op, arrs, weak, raw)


def _range_fmt_of(op, arrs, weak, raw) -> Format:
    if op in ("maximum", "minimum", "where") and all(a.fmt.kind == "bool" for a in arrs):
        return BOOL
    if op != "divide" and _int_result(arrs):
        return INT16
    (l1, h1, p1), (l2, h2, p2) = [_range(a, w, x) for a, w, x in zip(arrs, weak, raw)]
    if op == "add":
        lo, hi, p = l1 + l2, h1 + h2, builtins.max(p1, p2)
    elif op == "subtract":
        lo, hi, p = l1 - h2, h1 - l2, builtins.max(p1, p2)
    elif op == "multiply":
        ps = (l1 * l2, l1 * h2, h1 * l2, h1 * h2)
        lo, hi, p = builtins.min(ps), builtins.max(ps), p1 + p2
    elif op == "divide":
        if weak[1] and raw[1] != 0:
            c = float(raw[1])
            lo, hi = builtins.min(l1 / c, h1 / c), builtins.max(l1 / c, h1 / c)
        else:  # |quotient| <= max|numerator| / min|divisor|, the divisor's smallest nonzero
            # magnitude taken from its data when known, else its LSB (0 / 0 saturates anyway)
            m = builtins.max(builtins.abs(l1), builtins.abs(h1)) / _min_nonzero(arrs[1])
            lo, hi = (0.0, m) if l1 >= 0 and l2 >= 0 else (-m, m)
        p = 15
    elif op == "maximum":
        lo, hi, p = builtins.max(l1, l2), builtins.max(h1, h2), builtins.max(p1, p2)
    elif op == "minimum":
        lo, hi, p = builtins.min(l1, l2), builtins.min(h1, h2), builtins.max(p1, p2)
    else:  # where
        lo, hi, p = builtins.min(l1, l2), builtins.max(h1, h2), builtins.max(p1, p2)
    return result_format(lo, hi, p)


def _operands(op, *xs):
    """(arrays, weak flags): Python scalars become constant arrays, flagged weak."""
    arrs, weak = [], []
    for x in xs:
        weak.append(_is_weak(x))
        arrs.append(operand(x, op))
    return arrs, weak


def _empty(shape, fmt) -> Array:
    out = new_buffer(shape, fmt)
    out.data = np.zeros(shape, np.int16)
    return Array(out)


def _emit(op, label, arrs, fo, mode, **fields) -> Array:
    shape = broadcast_shapes(label, *[a.shape for a in arrs])
    if math.prod(shape) == 0:
        return _empty(shape, fo)
    out = new_buffer(shape, fo)
    ins = [a.buffer for a in arrs]
    return run_lowered(("eltwise", op, label, mode, tuple(fields.items())), ins, [out],
                       lambda: kew.lower(op, ins, out, machine=machine(), label=label,
                                         rounding=mode, **fields))[0]


def _binary(op, x1, x2, fmt, rounding):
    (a, b), weak = _operands(op, x1, x2)
    shape_check = broadcast_shapes(op, a.shape, b.shape)  # noqa: F841 (validate first)
    mode = check_rounding(op, rounding)
    fo = parse_format(fmt) if fmt is not None else _range_fmt(op, (a, b), weak, (x1, x2))
    fa, fb = a.fmt.frac, b.fmt.frac
    if op == "multiply":
        f = dict(shift=fa + fb - fo.frac)
    elif op == "divide":
        # floor(a 2^L / b) keeps 16 bits below the output LSB; the requant rounds them off.
        f = dict(shift_a=fo.frac + fb - fa + 16, shift=16)
    else:
        c = builtins.max(fa, fb)
        f = dict(shift_a=c - fa, shift_b=c - fb, shift=c - fo.frac)
    return _emit(op, op, [a, b], fo, mode, **f)


def add(x1, x2, /, *, fmt=None, rounding=None) -> Array:
    """x1 + x2, exact then rounded once."""
    return _binary("add", x1, x2, fmt, rounding)


def subtract(x1, x2, /, *, fmt=None, rounding=None) -> Array:
    return _binary("subtract", x1, x2, fmt, rounding)


def multiply(x1, x2, /, *, fmt=None, rounding=None) -> Array:
    """x1 * x2: the exact 32-bit product rounded once."""
    return _binary("multiply", x1, x2, fmt, rounding)


def divide(x1, x2, /, *, fmt=None, rounding=None) -> Array:
    """x1 / x2: the true quotient rounded once (nearest exactly; stochastic biased by less
    than 2^-16 LSB).  Division by zero saturates (counted): max for x1 > 0, min for x1 < 0,
    0 for 0 / 0."""
    return _binary("divide", x1, x2, fmt, rounding)


def maximum(x1, x2, /, *, fmt=None, rounding=None) -> Array:
    return _binary("maximum", x1, x2, fmt, rounding)


def minimum(x1, x2, /, *, fmt=None, rounding=None) -> Array:
    return _binary("minimum", x1, x2, fmt, rounding)


# --- comparisons ---------------------------------------------------------------------------

_SWAP = {"less": "greater", "less_equal": "greater_equal", "greater": "less",
         "greater_equal": "less_equal", "equal": "equal", "not_equal": "not_equal"}


def _threshold(op, c: float, frac: int):
    """Integer k with (x_int op k) <=> (x_int 2^-frac op c) for every int16 x_int."""
    s = math.ldexp(c, frac)  # exact: a power-of-two scaling (or +-inf)
    if builtins.abs(s) >= _LIMIT:  # beyond every int16 value, infinities included
        return _LIMIT if s > 0 else -_LIMIT
    if op in ("less", "greater_equal"):
        return math.ceil(s)
    if op in ("less_equal", "greater"):
        return math.floor(s)
    return int(s) if s == math.floor(s) else _LIMIT  # equal / not_equal: only integers hit


def _clamped_round(v: float, frac: int) -> int:
    """v 2^frac rounded half to even (as every conversion), clamped far outside int16 (still
    saturating, counted)."""
    s = math.ldexp(v, frac)
    if builtins.abs(s) >= 1 << 40:
        return (1 << 40) if s > 0 else -(1 << 40)
    return round(s)                      # Python's round: ties to even


def _is_scalar(x) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, Array)


def _compare(op, x1, x2):
    """Comparisons are exact: a scalar operand (Python or NumPy) is never quantised but turned
    into the equivalent integer threshold on the array's grid."""
    w1, w2 = _is_scalar(x1), _is_scalar(x2)
    if w1 and not w2:
        return _compare(_SWAP[op], x2, x1)
    if w2 and not w1:
        a = operand(x1, op)
        c = float(x2)
        if math.isnan(c):
            raise ValueError(f"{op}: cannot compare with NaN")
        return _emit(op, op, [a], BOOL, "nearest", k0=_threshold(op, c, a.fmt.frac))
    (a, b), _ = _operands(op, x1, x2)
    broadcast_shapes(op, a.shape, b.shape)
    c = builtins.max(a.fmt.frac, b.fmt.frac)
    return _emit(op, op, [a, b], BOOL, "nearest", shift_a=c - a.fmt.frac,
                 shift_b=c - b.fmt.frac)


def less(x1, x2, /) -> Array:
    return _compare("less", x1, x2)


def less_equal(x1, x2, /) -> Array:
    return _compare("less_equal", x1, x2)


def greater(x1, x2, /) -> Array:
    return _compare("greater", x1, x2)


def greater_equal(x1, x2, /) -> Array:
    return _compare("greater_equal", x1, x2)


def equal(x1, x2, /) -> Array:
    return _compare("equal", x1, x2)


def not_equal(x1, x2, /) -> Array:
    return _compare("not_equal", x1, x2)


# --- where, clip, unary arithmetic -----------------------------------------------------------

def where(condition, x1, x2, /, *, fmt=None, rounding=None) -> Array:
    """x1 where condition is nonzero, else x2 (broadcast together)."""
    cond = operand(condition, "where")
    (a, b), weak = _operands("where", x1, x2)
    broadcast_shapes("where", cond.shape, a.shape, b.shape)
    mode = check_rounding("where", rounding)
    fo = parse_format(fmt) if fmt is not None else _range_fmt("where", (a, b), weak, (x1, x2))
    c = builtins.max(a.fmt.frac, b.fmt.frac)
    return _emit("where", "where", [cond, a, b], fo, mode, shift_b=c - a.fmt.frac,
                 shift_c=c - b.fmt.frac, shift=c - fo.frac)


def _unary(op, x, fmt, rounding, shift_of):
    a = operand(x, op)
    mode = check_rounding(op, rounding)
    fo = parse_format(fmt) if fmt is not None else a.fmt
    return _emit(op, op, [a], fo, mode, shift=shift_of(a.fmt.frac, fo.frac))


def negative(x, /, *, fmt=None, rounding=None) -> Array:
    if isinstance(x, Array) and x.fmt.kind == "bool":
        raise TypeError("negative: the boolean negative, the `-` operator, is not supported; "
                        "use logical comparisons instead")
    return _unary("negative", x, fmt, rounding, lambda fi, fo: fi - fo)


def positive(x, /) -> Array:
    return operand(x, "positive")


def abs(x, /, *, fmt=None, rounding=None) -> Array:
    return _unary("abs", x, fmt, rounding, lambda fi, fo: fi - fo)


def square(x, /, *, fmt=None, rounding=None) -> Array:
    """x * x, rounded once (default format: the finest holding x's range squared)."""
    a = operand(x, "square")
    if fmt is None:
        if a.fmt.kind != "fixed":
            fmt = INT16
        else:
            lo, hi, p = _range(a, False)
            fmt = result_format(0.0, builtins.max(lo * lo, hi * hi), 2 * p)
    return _unary("square", a, fmt, rounding, lambda fi, fo: 2 * fi - fo)


def _bound(v, name):
    if isinstance(v, Array) or np.ndim(v) > 0:
        return operand(v, "clip")
    c = float(v)
    if math.isnan(c):
        raise ValueError(f"clip: {name} is NaN")
    return c


def _exact_frac(v: float) -> int:
    """Fractional bits v needs to be exact (15 at most; 0 for infinities)."""
    if not math.isfinite(v):
        return 0
    for f in range(16):
        if math.ldexp(v, f) == math.floor(math.ldexp(v, f)):
            return f
    return 15


def _clip_fmt(a: Array, lo, hi, raw) -> Format:
    """Holds x's range clamped to [lo, hi] (a Python-float bound makes an integer x fixed
    point, as in NumPy)."""
    if a.fmt.kind != "fixed" and not any(type(v) is float and v != math.floor(v)
                                         for v in raw if v is not None):
        return a.fmt if a.fmt.kind == "int" or (lo is None and hi is None) else INT16
    l, h, p = _range(a, False)
    p = builtins.max([p] + [_exact_frac(v) for v in (lo, hi) if v is not None])
    clamp = (lambda v: v if lo is None else builtins.max(v, lo))
    clamp2 = (lambda v: v if hi is None else builtins.min(v, hi))
    return result_format(clamp2(clamp(l)), clamp2(clamp(h)), p)


def clip(x, /, min=None, max=None, *, fmt=None, rounding=None) -> Array:
    """min(max(x, min), max) as in NumPy (max wins where min > max).  Python-number bounds are
    exact thresholds on x's grid and are rounded once into the output format; array bounds
    go through maximum and minimum."""
    a = operand(x, "clip")
    mode = check_rounding("clip", rounding)
    lo = None if min is None else _bound(min, "min")
    hi = None if max is None else _bound(max, "max")
    if isinstance(lo, Array) or isinstance(hi, Array):
        broadcast_shapes("clip", *[t.shape for t in (a, lo, hi) if isinstance(t, Array)])
        r = a
        if lo is not None:
            r = maximum(r, lo, fmt=fmt if hi is None else None, rounding=mode)
        if hi is not None:
            r = minimum(r, hi, fmt=fmt, rounding=mode)
        return r
    if lo is not None and hi is not None and lo > hi:
        lo = hi
    fo = parse_format(fmt) if fmt is not None else _clip_fmt(a, lo, hi, (min, max))
    f = a.fmt.frac
    k0 = -_LIMIT if lo is None else _threshold("greater_equal", lo, f)
    k1 = _LIMIT if hi is None else _threshold("less_equal", hi, f)
    v0 = 0 if lo is None else _clamped_round(lo, fo.frac)
    v1 = 0 if hi is None else _clamped_round(hi, fo.frac)
    return _emit("clip", "clip", [a], fo, mode, k0=k0, k1=k1, v0=v0, v1=v1,
                 shift=f - fo.frac)


def axpby(a, b, alpha, beta, /, *, fmt=None, rounding=None) -> Array:
    """alpha * a + beta * b in one rounding (optimiser updates such as SGD momentum).

    alpha and beta are Python numbers, each quantised to a 16-bit constant in the finest
    format that holds it; the two products and their sum are exact.  Default format: the
    finest holding alpha * a + beta * b over a's and b's ranges."""
    (x, y), weak = _operands("axpby", a, b)
    broadcast_shapes("axpby", x.shape, y.shape)
    mode = check_rounding("axpby", rounding)
    fo = parse_format(fmt) if fmt is not None else None
    consts = []
    for v in (alpha, beta):
        v = float(v)
        if not math.isfinite(v):
            raise ValueError(f"axpby: coefficient {v!r} is not finite")
        fv = frac_for(builtins.abs(v))
        consts.append((builtins.max(-32768, builtins.min(32767, round(  # ties to even
            math.ldexp(v, fv)))), fv))
    (ka, fka), (kb, fkb) = consts
    pa, pb = x.fmt.frac + fka, y.fmt.frac + fkb
    if fo is None:   # holds alpha * x + beta * y over both ranges
        (l1, h1, _), (l2, h2, _) = _range(x, weak[0], a), _range(y, weak[1], b)
        ea = sorted((l1 * float(alpha), h1 * float(alpha)))
        eb = sorted((l2 * float(beta), h2 * float(beta)))
        fo = result_format(ea[0] + eb[0], ea[1] + eb[1], builtins.max(pa, pb))
    c = builtins.max(pa, pb)
    return _emit("axpby", "axpby", [x, y], fo, mode, k0=ka, k1=kb, shift_a=c - pa,
                 shift_b=c - pb, shift=c - fo.frac)


def pow(x1, x2, /, *, fmt=None, rounding=None) -> Array:
    """x1 ** n for a non-negative integer n, by repeated multiplication (n - 1 roundings, each
    product in the format holding its range; n = 2 is square(), one rounding)."""
    a = operand(x1, "pow")
    if isinstance(x2, Array) or not isinstance(x2, numbers.Real) or isinstance(x2, bool):
        raise TypeError(f"pow: the exponent must be a non-negative Python integer, got "
                        f"{type(x2).__name__}")
    if float(x2) != math.floor(float(x2)) or x2 < 0:
        raise ValueError(f"pow: only non-negative integer exponents are supported, got {x2!r}")
    n = int(x2)
    mode = check_rounding("pow", rounding)
    if n == 0:
        from .creation import full
        return full(a.shape, 1, fmt=fmt if fmt is not None else (
            INT16 if a.fmt.kind != "fixed" else Format(14)))
    if n == 1:
        from .manipulation import astype
        return astype(a, fmt if fmt is not None else a.fmt, rounding=mode)
    if n == 2:
        return square(a, fmt=fmt, rounding=mode)
    r = a   # each product in the format that holds its range (n - 1 roundings at most)
    for i in range(n - 1):
        r = multiply(r, a, fmt=fmt if i == n - 2 else None, rounding=mode)
    return r


# --- table functions -------------------------------------------------------------------------

def _default_lut_fmt(fn, f: Format) -> Format:
    if fn == "exp":
        return Format(builtins.max(8, frac_for(math.exp(builtins.min(f.max, 700.0)))))
    if fn == "log":
        return Format(11)
    if fn in ("tanh", "sigmoid"):
        return Format(14)
    return Format((f.frac + 15) // 2)  # sqrt


def _lut(fn, x, fmt, rounding):
    a = operand(x, fn)
    mode = check_rounding(fn, rounding)
    fo = parse_format(fmt) if fmt is not None else _default_lut_fmt(fn, a.fmt)
    if a.size == 0:
        return _empty(a.shape, fo)
    out = new_buffer(a.shape, fo)
    return run_lowered(("lut", fn, mode), [a.buffer], [out],
                       lambda: klut.lower(fn, a.buffer, out, rounding=mode, machine=machine(),
                                          op=fn))[0]


def exp(x, /, *, fmt=None, rounding=None) -> Array:
    """e^x by 2^(x log2 e) and a 257-entry table; <= 0.53 output LSB from exp of the
    quantised input (nearest rounding)."""
    return _lut("exp", x, fmt, rounding)


def log(x, /, *, fmt=None, rounding=None) -> Array:
    """Natural log; <= 0.56 output LSB.  x <= 0 gives the format's minimum, counted."""
    return _lut("log", x, fmt, rounding)


def tanh(x, /, *, fmt=None, rounding=None) -> Array:
    """tanh(x) = 2 sigmoid(2x) - 1 from the sigmoid table; <= 0.69 output LSB (0.6 at q1.14)."""
    return _lut("tanh", x, fmt, rounding)


def sigmoid(x, /, *, fmt=None, rounding=None) -> Array:
    """1 / (1 + e^-x) from a 1025-entry table on [0, 16]; <= 0.6 output LSB."""
    return _lut("sigmoid", x, fmt, rounding)


def sqrt(x, /, *, fmt=None, rounding=None) -> Array:
    """Square root by an exact integer root: nearest rounding is exact (<= 0.5 LSB).  x < 0
    gives the format's minimum, counted."""
    return _lut("sqrt", x, fmt, rounding)
