"""NumPy integer reference of spinla's fixed-point arithmetic, written independently of the
C kernels from the rules in spinla/fixed.py and spinla_c/spinla.h.  Tests compare the
emulator with these functions bit for bit."""
from __future__ import annotations

import numpy as np

from spinla.fixed import rand_u32

QMIN, QMAX = -32768, 32767


def requant(acc, shift: int, mode: str = "nearest", seed: int = 0, index=None):
    """sat16(round(acc * 2^-shift)) with the kernels' rounding (nearest: exact halves to the
    even neighbour; stochastic: hashed offset, floor); returns (int16, n_saturated).

    acc: integer array (exact accumulators, int64); index: the global flat index of each
    element (defaults to its position), which seeds stochastic rounding."""
    acc = np.asarray(acc, dtype=np.int64)
    if index is None:
        index = np.arange(acc.size, dtype=np.int64).reshape(acc.shape)
    if shift > 0:
        if mode == "stochastic":
            r = rand_u32(seed, np.asarray(index, dtype=np.int64).astype(np.uint32))
            s = min(shift, 32)
            off = (r.astype(np.int64) >> (32 - s)) << (shift - s)
        else:  # round half to even: 2^(shift-1) - 1 plus the kept LSB (bit `shift` of acc)
            off = (np.int64(1) << (shift - 1)) - 1 + ((acc >> shift) & 1)
        v = (acc + off) >> shift
    elif shift < 0:
        v = np.clip(acc, -(1 << 16), 1 << 16) * (np.int64(1) << -shift)
    else:
        v = acc
    sat = int(np.count_nonzero((v > QMAX) | (v < QMIN)))
    return np.clip(v, QMIN, QMAX).astype(np.int16), sat


def matmul(a, b, fa, fb, fo, mode="nearest", seed=0):
    """Reference of spinla.matmul on int16 storage a (m, k), b (k, n)."""
    acc = a.astype(np.int64) @ b.astype(np.int64)
    m, n = acc.shape
    idx = (np.arange(m)[:, None] * n + np.arange(n)[None, :]).astype(np.uint32)
    return requant(acc, fa + fb - fo, mode, seed, idx)
