"""Random planar affine distortions of training digits, run on the machine.

LeCun et al. 1998 (section III.C.2, Boosted LeNet-4 and "LeNet-5 with distortions") enlarge
the training set with "random combinations of planar affine transformations: horizontal and
vertical translations, scaling, squeezing (simultaneous horizontal compression and vertical
elongation, or the reverse), and horizontal shearing".  The paper gives no ranges; the
defaults below are ASSUMPTIONS of ours, chosen so that a 20x20 MNIST digit, centred in its
28x28 field, stays inside the field (the largest default distortion grows it to ~24 pixels
and moves it 2 pixels).

How it runs: the training set stays resident in SDRAM; each epoch the host draws 6 numbers per
sample (the map's matrix and offset, 12 bytes once encoded, against 1,568 bytes of image) and
one `spinla.warp_affine` call warps the whole set on the machine (bilinear, zero outside the
image, one rounding to nearest; see spinla_c/warp_q15.c for its error bound), so the modelled
SpiNNaker time and energy of a fit include the distortion work.  Sending the parameters is a
host-to-board transfer, which spinla.cost does not model (nor the one-time placement of the
training set it is small beside).

The draw describes the map from an output pixel back to where it samples the source (the
inverse of the distortion), about the image centre:

    A = scale * [[squeeze, shear], [0, 1 / squeeze]],   t = (tx, ty)

with scale, squeeze, shear, tx, ty independent and uniform: scale in [1 - s, 1 + s], squeeze
in [1 - q, 1 + q], shear in [-h, h], tx and ty in [-d, d] pixels.  The ranges are symmetric,
so drawing the inverse map is as good as drawing the forward one.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from .. import ops as sp
from ..array import Array


@dataclass(frozen=True)
class Distortions:
    """A distribution of affine distortions; called on a placed training set it returns a
    distorted copy (one fresh draw per sample), warped on the machine."""

    translate: float = 2.0   # ASSUMPTION: pixels, each axis
    scale: float = 0.15      # ASSUMPTION: relative
    squeeze: float = 0.15    # ASSUMPTION: relative
    shear: float = 0.3       # ASSUMPTION: horizontal shift per row of vertical offset

    def __post_init__(self):
        for name in ("translate", "scale", "squeeze", "shear"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and np.isfinite(v) and v >= 0):
                raise ValueError(f"Distortions.{name} must be a finite number >= 0, got {v!r}")
        for name in ("scale", "squeeze"):
            if getattr(self, name) >= 1:
                raise ValueError(f"Distortions.{name} must be below 1 (a factor in "
                                 f"[1 - {name}, 1 + {name}]), got {getattr(self, name)}")

    def draw(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """n random maps: matrices A (n, 2, 2) and offsets t (n, 2) in pixels, float64."""
        u = rng.uniform(-1.0, 1.0, size=(n, 5))
        s = 1.0 + self.scale * u[:, 0]
        k = 1.0 + self.squeeze * u[:, 1]
        A = np.zeros((n, 2, 2))
        A[:, 0, 0] = s * k
        A[:, 0, 1] = s * self.shear * u[:, 2]
        A[:, 1, 1] = s / k
        return A, self.translate * u[:, 3:5]

    def theta(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """n random maps encoded for spinla.warp_affine: int16 (n, 6)."""
        from ..kernels.warp import encode_affine
        return encode_affine(*self.draw(n, rng))

    def __call__(self, X: Array, rng: np.random.Generator) -> Array:
        if not isinstance(X, Array) or X.ndim not in (3, 4):
            raise ValueError(f"Distortions: expected placed images (N, H, W) or (N, H, W, C), "
                             f"got {getattr(X, 'shape', type(X).__name__)}")
        return sp.warp_affine(X, self.theta(X.shape[0], rng))

    def to_dict(self) -> dict:
        return asdict(self)


def get(spec) -> Distortions | None:
    """None/False -> None; True -> the defaults; a dict -> Distortions(**dict); a Distortions
    as is."""
    if spec is None or spec is False:
        return None
    if spec is True:
        return Distortions()
    if isinstance(spec, Distortions):
        return spec
    if isinstance(spec, dict):
        return Distortions(**spec)
    raise TypeError(f"distortions: expected True, a dict of Distortions fields or a "
                    f"Distortions, got {spec!r}")


__all__ = ["Distortions", "get"]
