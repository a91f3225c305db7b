"""NumPy references of spinla.warp_affine, written from its definition (spinla_c/warp_q15.c's
header), not from the kernel's loop structure: an integer one (bit-exact) and a float64 one
(real bilinear interpolation, for the error bound)."""
from __future__ import annotations

import numpy as np


def _channels(x):
    x = np.asarray(x)
    return (x, False) if x.ndim == 4 else (x[..., None], True)


def _sample(x, ys, xs):
    """x[n, ys, xs, :] with 0 outside the image; ys, xs int64 (N, H, W)."""
    n, h, w, _ = x.shape
    inside = (ys >= 0) & (ys < h) & (xs >= 0) & (xs < w)
    v = x[np.arange(n)[:, None, None], np.clip(ys, 0, h - 1), np.clip(xs, 0, w - 1)]
    return np.where(inside[..., None], v, 0)


def warp_affine(x, theta):
    """Integer reference: the source point in units of 2^-13 pixel is exact, the four bilinear
    weights are products of 13-bit fractions (sum 2^26), one rounding (half to even)."""
    x, squeeze = _channels(x)
    x = x.astype(np.int64)
    n, h, w, _ = x.shape
    t = np.asarray(theta, np.int64)
    r, c = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
    dr2, dc2 = (2 * r - (h - 1))[None], (2 * c - (w - 1))[None]
    a = [t[:, k, None, None] for k in range(6)]
    sx = a[0] * dc2 + a[1] * dr2 + 4096 * (w - 1) + 32 * a[4]
    sy = a[2] * dc2 + a[3] * dr2 + 4096 * (h - 1) + 32 * a[5]
    x0, fx = sx >> 13, sx & 8191
    y0, fy = sy >> 13, sy & 8191
    acc = np.zeros(x.shape, np.int64)
    for dy, wy in ((0, 8192 - fy), (1, fy)):
        for dx, wx in ((0, 8192 - fx), (1, fx)):
            acc += _sample(x, y0 + dy, x0 + dx) * (wy * wx)[..., None]
    y = (acc + (1 << 25) - 1 + ((acc >> 26) & 1)) >> 26
    assert y.min(initial=0) >= -32768 and y.max(initial=0) <= 32767
    y = y.astype(np.int16)
    return y[..., 0] if squeeze else y


def warp_affine_float(x, A, t):
    """float64 bilinear interpolation of x (real values) at A (c - cx, r - cy) + (cx, cy) + t,
    0 outside the image."""
    x, squeeze = _channels(np.asarray(x, np.float64))
    n, h, w, _ = x.shape
    r, c = np.meshgrid(np.arange(h, dtype=np.float64), np.arange(w, dtype=np.float64),
                       indexing="ij")
    dc, dr = c - (w - 1) / 2, r - (h - 1) / 2
    A, t = np.asarray(A, np.float64), np.asarray(t, np.float64)
    a = A[:, :, :, None, None]
    sx = a[:, 0, 0] * dc + a[:, 0, 1] * dr + (w - 1) / 2 + t[:, 0, None, None]
    sy = a[:, 1, 0] * dc + a[:, 1, 1] * dr + (h - 1) / 2 + t[:, 1, None, None]
    x0, y0 = np.floor(sx), np.floor(sy)
    fx, fy = (sx - x0)[..., None], (sy - y0)[..., None]
    x0, y0 = x0.astype(np.int64), y0.astype(np.int64)
    y = ((1 - fy) * ((1 - fx) * _sample(x, y0, x0) + fx * _sample(x, y0, x0 + 1))
         + fy * ((1 - fx) * _sample(x, y0 + 1, x0) + fx * _sample(x, y0 + 1, x0 + 1)))
    return y[..., 0] if squeeze else y


def decode_affine(theta):
    """(A (N, 2, 2), t (N, 2)) float64 of an int16 theta."""
    t = np.asarray(theta, np.float64)
    return t[:, :4].reshape(-1, 2, 2) / 4096, t[:, 4:] / 256
