"""warp_q15 family: a per-sample affine warp of images with bilinear sampling, the training-set
distortions of LeCun et al. 1998 run on the machine (spinla_c/warp_q15.c has the arithmetic).

theta is int16 (N, 6) = [a00, a01, a10, a11, tx, ty]: the matrix in q3.12 (range [-8, 8)), the
translation in pixels in q7.8 (range [-128, 128)); `encode_affine` makes it from float arrays.
A tile is a range of whole samples [n0, n1): which source pixels a sample reads depends on its
theta, known only when the Program runs, so a sample is never split.  Tiles are spread over the
cores like the other streaming kernels (spinla.tiling.flat_tiles, double-buffered).
"""
from __future__ import annotations

import math

import numpy as np

from .. import abi, tiling
from ..program import Call
from . import In, Out, Step, cycle_table, dma, i32, register_bound, threads

A_FRAC = 12          # matrix entries: q3.12
T_FRAC = 8           # translations: q7.8 pixels
THETA_NAMES = ("a00", "a01", "a10", "a11", "tx", "ty")
# The kernel's int32 source coordinates need H, W <= SPL_WARP_MAX_SIDE.
MAX_SIDE = abi.const("SPL_WARP_MAX_SIDE")


def _cycles(call, machine):
    # Calibrated on mild distortions; pixels that sample outside the image cost less.
    _, h, w, c = call.params["geom"]
    ns = (call.tiles[:, 1] - call.tiles[:, 0]).astype(np.float64)
    return cycle_table.predict("warp", ns=ns, h=h, w=w, c=c)


@register_bound("warp_affine_q15", _cycles,
                "affine warp: bilinear, exactly rounded, zero outside")
def bind(call):
    _, h, w, c = call.params["geom"]
    return (Step("spl_run_warp_affine", (In(0), In(1), Out(0), h, w, c, i32(call.tiles),
                                         call.ntiles, threads(call.outputs[0].size))),)


def lower(x_buf, theta_buf, y_buf, *, machine, op: str):
    """One Call warping x_buf (N, H, W[, C]) by theta_buf (N, 6) into y_buf (x's shape)."""
    n, h, w = x_buf.shape[:3]
    c = x_buf.shape[3] if len(x_buf.shape) == 4 else 1
    img = h * w * c
    per_sample = 2 * 2 * img + 2 * 6          # image in, image out, theta
    budget = machine.tile_budget_bytes
    if per_sample > budget:
        raise tiling.no_fit(op, [x_buf.shape, theta_buf.shape], per_sample, budget,
                            "one sample's image, its output and theta exceed DTCM (a sample "
                            "is never split: the pixels it reads depend on its theta)")
    tiles, cores = tiling.flat_tiles(n, machine, per_sample, min_elems=math.ceil(256 / img))
    ns = (tiles[:, 1] - tiles[:, 0]).astype(np.int64)
    # Double-buffered where two tiles fit (flat_tiles sizes them so), else one sample alone.
    dtcm = np.where(2 * per_sample * ns <= budget, 2 * per_sample * ns, per_sample * ns)
    return Call(kernel="warp_affine_q15", op=op, inputs=(x_buf, theta_buf), outputs=(y_buf,),
                params=dict(geom=(int(n), int(h), int(w), int(c))), tiles=tiles, cores=cores,
                macs=np.zeros(len(tiles), np.int64), elems=ns * img,
                dma_in=ns * (2 * img + 12), dma_out=ns * 2 * img, dtcm=dtcm)


def encode_affine(A, t, *, op: str = "encode_affine") -> np.ndarray:
    """int16 theta (N, 6) for spinla.warp_affine from float A (N, 2, 2) and t (N, 2).

    A maps output pixel offsets from the image centre to source offsets (the inverse map:
    output (r, c) samples the source at A @ (c - cx, r - cy) + (cx, cy) + t, x first), so
    t = (2, 0) moves the content two pixels left.  Entries are rounded to nearest (halves up)
    to 2^-12 (A, range [-8, 8)) and 2^-8 pixel (t, range [-128, 128)); a value outside its
    range, or not finite, raises ValueError naming the sample: nothing saturates silently."""
    A = np.asarray(A, dtype=np.float64)
    t = np.asarray(t, dtype=np.float64)
    if A.ndim != 3 or A.shape[1:] != (2, 2):
        raise ValueError(f"{op}: A must have shape (N, 2, 2), got {A.shape}")
    if t.shape != (A.shape[0], 2):
        raise ValueError(f"{op}: t must have shape (N, 2) = {(A.shape[0], 2)} for A of shape "
                         f"{A.shape}, got {t.shape}")
    scaled = np.concatenate([np.ldexp(A.reshape(-1, 4), A_FRAC), np.ldexp(t, T_FRAC)], axis=1)
    with np.errstate(invalid="ignore"):
        r = np.floor(scaled + 0.5)
        bad = ~np.isfinite(r) | (r < -32768) | (r > 32767)
    if bad.any():
        i, j = map(int, np.argwhere(bad)[0])
        value = float(A.reshape(-1, 4)[i, j] if j < 4 else t[i, j - 4])
        what = ("matrix entries are q3.12: [-8, 8 - 2^-12]" if j < 4
                else "translations are q7.8 pixels: [-128, 128 - 2^-8]")
        raise ValueError(f"{op}: sample {i}: {THETA_NAMES[j]} = {value!r} is outside the "
                         f"representable range ({what}, after rounding to nearest); "
                         f"{int(np.count_nonzero(bad.any(axis=1)))} of {len(r)} samples are")
    return r.astype(np.int16)


@dma.describes("warp_affine_q15")
def plan(call, t):
    """The tile's samples: images and their thetas in, images out."""
    s0, s1 = (int(v) for v in call.tiles[t])
    _, h, w, c = call.params["geom"]
    img = 2 * h * w * c
    return dma.TilePlan((dma.block(dma.READ, 0, s0 * img, (s1 - s0) * img),
                         dma.block(dma.READ, 1, s0 * 12, (s1 - s0) * 12),
                         dma.block(dma.WRITE, 0, s0 * img, (s1 - s0) * img)))
