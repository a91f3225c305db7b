"""NumPy integer references of spinla's convolution and pooling (spinla/ops/nn.py), written
from the definitions (sums over windows), not from the kernels' im2col/GEMM structure.
Each returns (int16 result, number saturated) like qref.requant."""
from __future__ import annotations

import numpy as np

from qref import requant


def conv_geometry(h, w, kh, kw, stride=1, padding="valid"):
    """(oh, ow, pad_top, pad_left) with Keras' rules ('same': the extra pad bottom/right)."""
    sy, sx = (stride, stride) if np.isscalar(stride) else stride
    if padding == "valid":
        return (h - kh) // sy + 1, (w - kw) // sx + 1, 0, 0
    if padding == "same":
        oh, ow = -(-h // sy), -(-w // sx)
        return (oh, ow, max((oh - 1) * sy + kh - h, 0) // 2,
                max((ow - 1) * sx + kw - w, 0) // 2)
    ph, pw = (padding, padding) if np.isscalar(padding) else padding
    return (h + 2 * ph - kh) // sy + 1, (w + 2 * pw - kw) // sx + 1, ph, pw


def _padded(x, kh, kw, oh, ow, sy, sx, pt, pl):
    """x zero-padded so that window (oy, ox) starts at row oy * sy, column ox * sx."""
    n, h, w, c = x.shape
    hp, wp = (oh - 1) * sy + kh, (ow - 1) * sx + kw
    xp = np.zeros((n, max(hp, pt + h), max(wp, pl + w), c), np.int64)
    xp[:, pt:pt + h, pl:pl + w] = x
    return xp


def im2col(x, kh, kw, stride=1, padding="valid"):
    """(N*OH*OW, kh*kw*Cin) int64 matrix of windows, k = (ky, kx, ci)."""
    n, h, w, c = x.shape
    sy, sx = (stride, stride) if np.isscalar(stride) else stride
    oh, ow, pt, pl = conv_geometry(h, w, kh, kw, stride, padding)
    xp = _padded(x, kh, kw, oh, ow, sy, sx, pt, pl)
    cols = np.empty((n, oh, ow, kh, kw, c), np.int64)
    for ky in range(kh):
        for kx in range(kw):
            cols[:, :, :, ky, kx] = xp[:, ky:ky + (oh - 1) * sy + 1:sy,
                                       kx:kx + (ow - 1) * sx + 1:sx]
    return cols.reshape(n * oh * ow, kh * kw * c), (n, oh, ow)


def conv2d_acc(x, w, stride=1, padding="valid", table=None):
    """Exact int64 accumulators of conv2d (N, OH, OW, Cout)."""
    kh, kw, cin, cout = w.shape
    w = w.astype(np.int64) * (1 if table is None else np.asarray(table, np.int64)[None, None])
    cols, (n, oh, ow) = im2col(x, kh, kw, stride, padding)
    return (cols @ w.reshape(-1, cout)).reshape(n, oh, ow, cout)


def conv2d(x, w, fx, fw, fo, stride=1, padding="valid", table=None, mode="nearest", seed=0):
    return requant(conv2d_acc(x, w, stride, padding, table), fx + fw - fo, mode, seed)


def conv2d_grad_input_acc(d, w, input_shape, stride=1, padding="valid", table=None):
    """dx[n, iy, ix, ci] = sum over windows covering (iy, ix) of delta * w, by scattering each
    output pixel's contribution into a padded input (the adjoint of im2col)."""
    n, h, wd, cin = input_shape
    kh, kw, _, cout = w.shape
    sy, sx = (stride, stride) if np.isscalar(stride) else stride
    oh, ow, pt, pl = conv_geometry(h, wd, kh, kw, stride, padding)
    w = w.astype(np.int64) * (1 if table is None else np.asarray(table, np.int64)[None, None])
    dxp = np.zeros(_padded(np.zeros((n, h, wd, cin)), kh, kw, oh, ow, sy, sx, pt, pl).shape,
                   np.int64)
    d = d.astype(np.int64)
    for ky in range(kh):
        for kx in range(kw):
            dxp[:, ky:ky + (oh - 1) * sy + 1:sy, kx:kx + (ow - 1) * sx + 1:sx] += \
                d @ w[ky, kx].T
    return dxp[:, pt:pt + h, pl:pl + wd]


def conv2d_grad_input(d, w, input_shape, fd, fw, fo, stride=1, padding="valid", table=None,
                      mode="nearest", seed=0):
    return requant(conv2d_grad_input_acc(d, w, input_shape, stride, padding, table),
                   fd + fw - fo, mode, seed)


def conv2d_grad_weight_acc(x, d, kh, kw, stride=1, padding="valid", table=None):
    cols, _ = im2col(x, kh, kw, stride, padding)
    cout = d.shape[-1]
    acc = (cols.T @ d.reshape(-1, cout).astype(np.int64)).reshape(kh, kw, x.shape[-1], cout)
    if table is not None:
        acc = acc * np.asarray(table, np.int64)[None, None]
    return acc


def conv2d_grad_weight(x, d, kh, kw, fx, fd, fo, stride=1, padding="valid", table=None,
                       mode="nearest", seed=0):
    return requant(conv2d_grad_weight_acc(x, d, kh, kw, stride, padding, table),
                   fx + fd - fo, mode, seed)


# --- pooling -----------------------------------------------------------------------------------

def pool_windows(x, kh, kw, sy, sx):
    """(N, OH, OW, C, kh*kw) windows in row-major window order (int64, or float64 for float
    input)."""
    n, h, w, c = x.shape
    oh, ow = (h - kh) // sy + 1, (w - kw) // sx + 1
    win = np.empty((n, oh, ow, c, kh * kw), np.float64 if x.dtype.kind == "f" else np.int64)
    for ky in range(kh):
        for kx in range(kw):
            win[..., ky * kw + kx] = x[:, ky:ky + (oh - 1) * sy + 1:sy,
                                       kx:kx + (ow - 1) * sx + 1:sx]
    return win


def reciprocal(window):
    """The kernels' (mult, shift) ~ 1/window, restated: exact for powers of two."""
    if window & (window - 1) == 0:
        return 1, window.bit_length() - 1
    p = int(np.ceil(np.log2(window)))
    return ((1 << (30 + p)) + window // 2) // window, 30 + p


def avg_pool2d(x, kh, kw, sy, sx, fi, fo, mode="nearest", seed=0):
    mult, s = reciprocal(kh * kw)
    acc = pool_windows(x, kh, kw, sy, sx).sum(-1) * mult
    return requant(acc, s + fi - fo, mode, seed)


def max_pool2d(x, kh, kw, sy, sx):
    win = pool_windows(x, kh, kw, sy, sx)
    return win.max(-1).astype(np.int16), win.argmax(-1).astype(np.int16)


def _scatter(d, input_shape, kh, kw, sy, sx, sel=None):
    n, h, w, c = input_shape
    oh, ow = d.shape[1:3]
    acc = np.zeros(input_shape, np.int64)
    for ky in range(kh):
        for kx in range(kw):
            v = d.astype(np.int64)
            if sel is not None:
                v = np.where(sel == ky * kw + kx, v, 0)
            acc[:, ky:ky + (oh - 1) * sy + 1:sy, kx:kx + (ow - 1) * sx + 1:sx] += v
    return acc


def avg_pool2d_grad(d, input_shape, kh, kw, sy, sx, fd, fo, mode="nearest", seed=0):
    mult, s = reciprocal(kh * kw)
    return requant(_scatter(d, input_shape, kh, kw, sy, sx) * mult, s + fd - fo, mode, seed)


def max_pool2d_grad(d, idx, input_shape, kh, kw, sy, sx):
    return requant(_scatter(d, input_shape, kh, kw, sy, sx, idx), 0)
