"""NumPy integer reference of the optimiser kernels (spinla_c/optim_q15.c), written from the
arithmetic documented there and in spinla/kernels/optim.py.  Tests compare bit for bit."""
from __future__ import annotations

import math

import numpy as np

from qref import requant
from spinla.fixed import rand_u32

U = np.uint64

SQRT_LUT = np.array([math.isqrt((128 + j) << 53) for j in range(385)], dtype=np.uint64)
RECIP_LUT = np.array([(1 << 62) // ((256 + j) << 23) for j in range(257)], dtype=np.uint64)


def seed_mix(a: int, b: int) -> int:
    """spl_seed_mix."""
    return int(rand_u32((a ^ 0x5BD1E995) & 0xFFFFFFFF,
                        np.asarray([(b + 0x27D4EB2F) & 0xFFFFFFFF], dtype=np.uint32))[0])


def top_bit(v):
    """Index of the highest set bit of (v | 1), uint64 array."""
    x = np.asarray(v, dtype=np.uint64) | U(1)
    n = np.zeros(x.shape, dtype=np.int64)
    for s in (32, 16, 8, 4, 2, 1):
        hit = (x >> U(s)) != 0
        n += np.where(hit, s, 0)
        x = np.where(hit, x >> U(s), x)
    return n


def sqrt_u62(v):
    v = np.asarray(v, dtype=np.uint64)
    n = top_bit(v)
    k = 60 - n + (n & 1)
    x = v << k.astype(np.uint64)
    idx = (x >> U(53)).astype(np.int64) - 128
    t = (x >> U(29)) & U(0xFFFFFF)
    y0, y1 = SQRT_LUT[idx], SQRT_LUT[idx + 1]
    y = y0 + (((y1 - y0) * t) >> U(24))
    return np.where(v == 0, U(0), y >> (k >> 1).astype(np.uint64))


def ratio_q16(num, den):
    num = np.asarray(num, dtype=np.uint64)
    den = np.asarray(den, dtype=np.uint64)
    n = top_bit(den)
    x = den << (31 - n).astype(np.uint64)
    idx = (x >> U(23)).astype(np.int64) - 256
    t = x & U(0x7FFFFF)
    y0, y1 = RECIP_LUT[idx], RECIP_LUT[idx + 1]
    y = y0 - (((y0 - y1) * t) >> U(23))
    return (num * y) >> (15 + n).astype(np.uint64)


def sgd(w, g, v, L, prm, mode, seed):
    """(w', v' or None, saturations) of arm_sgd_q15 over whole tensors (flat index = element
    index)."""
    W, G = w.astype(np.int64).ravel(), g.astype(np.int64).ravel()
    idx = np.arange(W.size)
    seed_v = seed_mix(seed, 1)
    if prm["mu"] == 0:
        acc = (W << prm["w_shift"]) - ((L * G) << prm["p_shift"])
        wo, s = requant(acc, prm["w_shift"], mode, seed, idx)
        return wo.reshape(w.shape), None, s
    V = v.astype(np.int64).ravel()
    vacc = ((prm["mu"] * V) << prm["v_shift"]) - ((L * G) << prm["p_shift"])
    vo, s1 = requant(vacc, prm["v_round"], mode, seed_v, idx)
    acc = (W << prm["w_shift"]) + vo.astype(np.int64)
    wo, s2 = requant(acc, prm["w_shift"], mode, seed, idx)
    return wo.reshape(w.shape), vo.reshape(w.shape), s1 + s2


def adam(w, g, m, r, L, prm, mode, seed):
    """(w', m', r', saturations) of arm_adam_q15."""
    W, G, M, R = (a.astype(np.int64).ravel() for a in (w, g, m, r))
    idx = np.arange(W.size)
    G = G << prm["g_shift"]
    s0 = int(np.count_nonzero(np.abs(G) > 32767))
    G = np.clip(G, -32767, 32767)
    B1, B2 = prm["beta1"], prm["beta2"]
    C1, C2 = (1 << 30) - B1, (1 << 30) - B2
    macc = B1 * M + C1 * G
    mo, s1 = requant(macc, 30, mode, seed_mix(seed, 1), idx)
    vacc = (B2 * (R * R) + C2 * (G * G)).astype(np.uint64)
    rhi = sqrt_u62(vacc).astype(np.int64)
    ro, s2 = requant(rhi, 15, mode, seed_mix(seed, 2), idx)
    mhi = macc >> 15
    q = ratio_q16(np.abs(mhi).astype(np.uint64), (rhi + prm["eps"]).astype(np.uint64))
    s3 = int(np.count_nonzero(q > U(prm["ratio_max"])))
    q = np.minimum(q, U(prm["ratio_max"])).astype(np.int64)
    step = np.where(mhi < 0, -(L * q), L * q)
    acc = (W << prm["w_shift"]) - step
    wo, s4 = requant(acc, prm["w_shift"], mode, seed, idx)
    return (wo.reshape(w.shape), mo.reshape(w.shape), ro.reshape(w.shape),
            s0 + s1 + s2 + s3 + s4)
