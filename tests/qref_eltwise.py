"""NumPy integer reference of the element-wise, LUT, reduction and softmax kernels, written
from the rules documented in spinla/ops/elementwise.py, spinla/ops/reduction.py and the C
file headers (not from the C code paths themselves).  The tables come from the generator
tools/gen_tables.py, so the reference and the kernels use the same integers; a test checks the
committed header against the generator."""
from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import numpy as np

from qref import requant

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("gen_tables", ROOT / "tools" / "gen_tables.py")
gen_tables = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gen_tables)

EXP2 = np.asarray(gen_tables.exp2_table(), dtype=np.int64)
LN = np.asarray(gen_tables.ln_table(), dtype=np.int64)
SIG = np.asarray(gen_tables.sigmoid_table(), dtype=np.int64)
LOG2E = gen_tables.constants()["SPL_LOG2E_Q30"]
LN2 = gen_tables.constants()["SPL_LN2_Q30"]
ONE = 1 << 30
QMIN, QMAX = -32768, 32767


def requant_var(acc, shift, mode="nearest", seed=0, index=None):
    """requant with a per-element shift (grouped by value)."""
    acc = np.asarray(acc, dtype=np.int64)
    shift = np.broadcast_to(np.asarray(shift, dtype=np.int64), acc.shape)
    if index is None:
        index = np.arange(acc.size, dtype=np.int64).reshape(acc.shape)
    out = np.empty(acc.shape, np.int16)
    sat = 0
    for s in np.unique(shift):
        m = shift == s
        o, k = requant(acc[m], int(s), mode, seed, index[m])
        out[m] = o
        sat += k
    return out, sat


# --- element-wise ----------------------------------------------------------------------------

def binary(op, a, b, fa, fb, fo, mode="nearest", seed=0):
    """(int16 result, saturations) of a broadcast binary op on int16 storage."""
    a, b = np.broadcast_arrays(np.asarray(a, np.int64), np.asarray(b, np.int64))
    idx = np.arange(a.size).reshape(a.shape)
    c = max(fa, fb)
    A, B = a << (c - fa), b << (c - fb)
    if op in ("less", "less_equal", "greater", "greater_equal", "equal", "not_equal"):
        f = {"less": np.less, "less_equal": np.less_equal, "greater": np.greater,
             "greater_equal": np.greater_equal, "equal": np.equal, "not_equal": np.not_equal}
        return f[op](A, B).astype(np.int16), 0
    if op == "multiply":
        return requant(a * b, fa + fb - fo, mode, seed, idx)
    if op == "divide":
        return divide(a, b, fa, fb, fo, mode, seed)
    acc = {"add": A + B, "subtract": A - B, "maximum": np.maximum(A, B),
           "minimum": np.minimum(A, B)}[op]
    return requant(acc, c - fo, mode, seed, idx)


def divide(a, b, fa, fb, fo, mode="nearest", seed=0):
    """Division written out element by element (independent of `binary`'s vector form)."""
    a, b = np.broadcast_arrays(np.asarray(a, np.int64), np.asarray(b, np.int64))
    out = np.empty(a.shape, np.int16)
    sat = 0
    L = fo + fb - fa + 16
    for i, (x, y) in enumerate(zip(a.ravel().tolist(), b.ravel().tolist())):
        if y == 0:
            out.flat[i] = QMAX if x > 0 else QMIN if x < 0 else 0
            sat += 1
            continue
        q = (x << L) // y  # Python floors
        if mode == "nearest" and (x << L) % y:
            q |= 1  # sticky bit: an inexact quotient never reads as an exact half
        o, k = requant(np.asarray([q]), 16, mode, seed, np.asarray([i]))
        out.flat[i] = o[0]
        sat += k
    return out, sat


def where(cond, a, b, fa, fb, fo, mode="nearest", seed=0):
    cond, a, b = np.broadcast_arrays(np.asarray(cond, np.int64), np.asarray(a, np.int64),
                                     np.asarray(b, np.int64))
    c = max(fa, fb)
    acc = np.where(cond != 0, a << (c - fa), b << (c - fb))
    return requant(acc, c - fo, mode, seed, np.arange(acc.size).reshape(acc.shape))


def unary(op, x, fi, fo, mode="nearest", seed=0):
    x = np.asarray(x, np.int64)
    if op == "negative":
        return requant(-x, fi - fo, mode, seed)
    if op == "abs":
        return requant(np.abs(x), fi - fo, mode, seed)
    if op == "square":
        return requant(x * x, 2 * fi - fo, mode, seed)
    raise ValueError(op)


def clip_scalar(x, lo, hi, fi, fo, mode="nearest", seed=0):
    """clip by Python-number bounds: exact thresholds on x's grid, bounds rounded once."""
    x = np.asarray(x, np.int64)
    if lo is not None and hi is not None and lo > hi:
        lo = hi
    k0 = -(1 << 20) if lo is None else math.ceil(math.ldexp(lo, fi))
    k1 = (1 << 20) if hi is None else math.floor(math.ldexp(hi, fi))
    idx = np.arange(x.size).reshape(x.shape)
    res, _ = requant(x, fi - fo, mode, seed, idx)
    above = x > k1
    below = (x < k0) & ~above
    keep = ~(above | below)
    sat = requant(x[keep], fi - fo, mode, seed, idx[keep])[1]
    for mask, v in ((below, lo), (above, hi)):
        if v is not None and mask.any():
            raw = round(math.ldexp(v, fo))          # ties to even, as every conversion
            res[mask] = min(max(raw, QMIN), QMAX)
            sat += int(mask.sum()) if not QMIN <= raw <= QMAX else 0
    return res, sat


def axpby(a, b, fa, fb, alpha, beta, fo, mode="nearest", seed=0):
    a, b = np.broadcast_arrays(np.asarray(a, np.int64), np.asarray(b, np.int64))
    from spinla.fixed import frac_for
    fal, fbe = frac_for(abs(alpha)), frac_for(abs(beta))
    # the coefficients rounded ties to even, as every conversion
    ka = int(np.clip(round(math.ldexp(alpha, fal)), QMIN, QMAX))
    kb = int(np.clip(round(math.ldexp(beta, fbe)), QMIN, QMAX))
    pa, pb = fa + fal, fb + fbe
    c = max(pa, pb)
    acc = ((a * ka) << (c - pa)) + ((b * kb) << (c - pb))
    return requant(acc, c - fo, mode, seed, np.arange(acc.size).reshape(acc.shape))


# --- table functions -------------------------------------------------------------------------

def _interp(table, pos, bits):
    """table[i] + floor((table[i+1] - table[i]) * t / 2^bits), pos = i * 2^bits + t."""
    i, t = pos >> bits, pos & ((1 << bits) - 1)
    lo, hi = table[i], table[i + 1]
    return lo + (((hi - lo) * t) >> bits)


def exp_parts(x, fi):
    """(mantissa Q30, exponent): exp(x 2^-fi) = mant 2^(e - 30)."""
    y = np.asarray(x, np.int64) * LOG2E
    yf = fi + 30
    e = y >> yf
    rem = y & ((1 << yf) - 1)
    return _interp(EXP2, rem >> fi, 22), e


def exp(x, fi, fo, mode="nearest", seed=0):
    mant, e = exp_parts(x, fi)
    return requant_var(mant, np.clip(30 - e - fo, -16, 62), mode, seed)


def _bit_length(v):
    v = np.asarray(v, np.uint64)
    n = np.zeros(v.shape, np.int64)
    for k in range(64):
        n += (v >> np.uint64(k)) > 0
    return n


def ln_q30(v, frac):
    """ln(v 2^-frac) in Q30 for integer v > 0 (uint64)."""
    v = np.asarray(v, np.uint64)
    p = _bit_length(v) - 1
    m = np.where(p >= 30, v >> np.clip(p - 30, 0, 63).astype(np.uint64),
                 v << np.clip(30 - p, 0, 63).astype(np.uint64)).astype(np.int64)
    return (p - frac) * LN2 + _interp(LN, m - ONE, 22)


def log(x, fi, fo, mode="nearest", seed=0):
    x = np.asarray(x, np.int64)
    ok = x > 0
    acc = ln_q30(np.where(ok, x, 1), fi)
    out, _ = requant(acc, 30 - fo, mode, seed)
    sat = requant(acc[ok], 30 - fo, mode, seed, np.flatnonzero(ok.ravel()).reshape(
        acc[ok].shape))[1]
    return np.where(ok, out, QMIN).astype(np.int16), sat + int((~ok).sum())


def _sigmoid_abs(u, fi, tanh):
    pos = np.asarray(u, np.int64) << (22 + tanh - fi)
    inside = (pos >> 16) < len(SIG) - 1
    v = _interp(SIG, np.where(inside, pos, 0), 16)
    return np.where(inside, v, SIG[-1])


def sigmoid(x, fi, fo, mode="nearest", seed=0):
    x = np.asarray(x, np.int64)
    s = _sigmoid_abs(np.abs(x), fi, 0)
    return requant(np.where(x < 0, ONE - s, s), 30 - fo, mode, seed)


def tanh(x, fi, fo, mode="nearest", seed=0):
    x = np.asarray(x, np.int64)
    t = 2 * _sigmoid_abs(np.abs(x), fi, 1) - ONE
    return requant(np.where(x < 0, -t, t), 30 - fo, mode, seed)


def sqrt(x, fi, fo, mode="nearest", seed=0):
    x = np.asarray(x, np.int64)
    ex = 2 * fo - fi
    r = (48 - ex) // 2
    def root(v):
        X = max(int(v), 0) << (ex + 2 * r)
        q = math.isqrt(X)
        return q | 1 if mode == "nearest" and q * q != X else q  # sticky bit, as for divide
    roots = np.asarray([root(v) for v in x.ravel()], dtype=np.int64).reshape(x.shape)
    ok = x >= 0
    out, _ = requant(roots, r, mode, seed)
    sat = requant(roots[ok], r, mode, seed, np.flatnonzero(ok.ravel()))[1]
    return np.where(ok, out, QMIN).astype(np.int16), sat + int((~ok).sum())


LUT = {"exp": exp, "log": log, "tanh": tanh, "sigmoid": sigmoid, "sqrt": sqrt}


# --- reductions ------------------------------------------------------------------------------

def reduce(op, x, axis, fi, fo, mode="nearest", seed=0):
    """Reduction of int16 storage x over `axis` (int or tuple), output in C order."""
    x = np.asarray(x, np.int64)
    axes = tuple(range(x.ndim)) if axis is None else (
        (axis,) if isinstance(axis, int) else tuple(axis))
    axes = tuple(a % x.ndim for a in axes)
    rest = [d for d in range(x.ndim) if d not in axes]
    xt = np.transpose(x, rest + list(axes))
    n = int(np.prod([x.shape[a] for a in axes]))
    xt = xt.reshape(-1, n)
    if op == "sum":
        out, sat = requant(xt.sum(axis=1), fi - fo, mode, seed)
    elif op == "mean":
        r = ((1 << 46) + n // 2) // n
        out, sat = requant(xt.sum(axis=1) * r, fi + 46 - fo, mode, seed)
    elif op in ("max", "min"):
        out, sat = requant(xt.max(axis=1) if op == "max" else xt.min(axis=1), fi - fo, mode,
                           seed)
    else:
        out, sat = requant(xt.argmax(axis=1) if op == "argmax" else xt.argmin(axis=1), 0)
    return out.reshape([x.shape[d] for d in rest]), sat


# --- softmax / logsumexp -----------------------------------------------------------------------

def _exp_neg(d, fi):
    mant, e = exp_parts(d, fi)
    return np.where(-e >= 32, 0, mant >> np.clip(-e, 0, 63))


def softmax(x, fi, fo, mode="nearest", seed=0):
    """Softmax of int16 storage x along its last axis."""
    x = np.asarray(x, np.int64)
    rows = x.reshape(-1, x.shape[-1])
    e = _exp_neg(rows - rows.max(axis=1, keepdims=True), fi)
    s = e.sum(axis=1, keepdims=True)
    r = ((1 << 61) + s // 2) // s
    out, sat = requant(e * r, 61 - fo, mode, seed)
    return out.reshape(x.shape), sat


def logsumexp(x, fi, fo, mode="nearest", seed=0):
    x = np.asarray(x, np.int64)
    rows = x.reshape(-1, x.shape[-1])
    m = rows.max(axis=1)
    s = _exp_neg(rows - m[:, None], fi).sum(axis=1)
    acc = (m << (30 - fi)) + ln_q30(s.astype(np.uint64), 30)
    out, sat = requant(acc, 30 - fo, mode, seed)
    return out.reshape(x.shape[:-1]), sat
