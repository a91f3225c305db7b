"""Image ops: a per-sample affine warp with bilinear sampling, so that a training set resident
in SDRAM can be distorted on the machine each epoch (the translations, scalings, squeezings and
shears LeCun et al. 1998 trained Boosted LeNet-4 on).  The integer arithmetic and its error
bound are in spinla_c/warp_q15.c; the theta encoding in spinla/kernels/warp.py."""
from __future__ import annotations

__all__ = ["warp_affine", "encode_affine"]

import numpy as np

from ..array import Array
from ..fixed import INT16
from ..kernels import warp as kwarp
from ..kernels.warp import encode_affine  # noqa: F401  (re-exported: spinla.encode_affine)
from ._core import asarray, machine, new_buffer, operand, run


def warp_affine(x, theta) -> Array:
    """Warp each image of x (N, H, W) or (N, H, W, C) by its own affine map; channels of a
    sample share its map.  theta: int16 (N, 6) = [a00, a01, a10, a11, tx, ty] (see
    encode_affine), a spinla Array of format int16 or a NumPy int16 array.

    Output pixel (r, c) is the bilinear interpolation of x at the source point
        sc = a00 (c - cx) + a01 (r - cy) + cx + tx,   sr = a10 (c - cx) + a11 (r - cy) + cy + ty
    with cx = (W - 1) / 2, cy = (H - 1) / 2, and 0 outside the image.  The result keeps x's
    format and is the exact interpolation at the encoded point rounded to nearest (|error| <= 1/2
    LSB); it never saturates.  Identity theta returns x exactly, integer translations shift it
    exactly.  One image (input and output) must fit a core's DTCM, and H, W <= 16384."""
    op = "warp_affine"
    xs = x.shape if isinstance(x, Array) else np.shape(x)
    if len(xs) not in (3, 4):
        raise ValueError(f"{op}: x must be (N, H, W) or (N, H, W, C), got shape {tuple(xs)}")
    if isinstance(theta, Array):
        if theta.fmt != INT16:
            raise TypeError(f"{op}: theta must hold raw int16 parameters (format int16, from "
                            f"spinla.encode_affine), got format {theta.fmt.name}")
    elif isinstance(theta, np.ndarray):
        if theta.dtype != np.int16:
            raise TypeError(f"{op}: theta must be int16 (from spinla.encode_affine), got a "
                            f"NumPy array of dtype {theta.dtype}")
    else:
        raise TypeError(f"{op}: theta must be a spinla Array of format int16 or a NumPy int16 "
                        f"array (from spinla.encode_affine), got {type(theta).__name__}")
    if theta.shape != (xs[0], 6):
        raise ValueError(f"{op}: theta must have shape (N, 6) = {(xs[0], 6)} for x of shape "
                         f"{tuple(xs)}, got {tuple(theta.shape)}")
    if max(xs[1], xs[2]) > kwarp.MAX_SIDE:
        raise ValueError(f"{op}: image sides must be at most {kwarp.MAX_SIDE}, got shape "
                         f"{tuple(xs)}")
    x = operand(x, op)
    if x.fmt.kind == "bool":
        raise TypeError(f"{op}: x must hold numbers, got a {x.fmt.name} array")
    if x.size == 0:
        from .creation import zeros
        return zeros(x.shape, fmt=x.fmt)
    if not isinstance(theta, Array):
        theta = asarray(theta, fmt=INT16, op=op)
    y = new_buffer(x.shape, x.fmt)
    return run([kwarp.lower(x.buffer, theta.buffer, y, machine=machine(), op=op)], [y])[0]
