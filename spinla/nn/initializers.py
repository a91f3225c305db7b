"""Weight initialisers.  They run on the host with a seeded NumPy generator: initial weights are
data entering the machine, placed in SDRAM once (spinla.asarray) and then only changed by the
traced training step."""
from __future__ import annotations

import numpy as np


def _fans(shape):
    """(fan_in, fan_out) as Keras computes them: Dense (in, out); Conv2D HWIO."""
    shape = tuple(shape)
    if len(shape) < 2:
        n = shape[0] if shape else 1
        return n, n
    receptive = int(np.prod(shape[:-2]))
    return shape[-2] * receptive, shape[-1] * receptive


class Initializer:
    name = "initializer"

    def __call__(self, shape, rng: np.random.Generator, fan_in: int | None = None,
                 fan_out: int | None = None) -> np.ndarray:
        raise NotImplementedError

    def get_config(self):
        return {"name": self.name}


class Zeros(Initializer):
    name = "zeros"

    def __call__(self, shape, rng, fan_in=None, fan_out=None):
        return np.zeros(shape)


class GlorotUniform(Initializer):
    """U(-l, l), l = sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio 2010; Keras's default)."""

    name = "glorot_uniform"

    def __call__(self, shape, rng, fan_in=None, fan_out=None):
        fi, fo = _fans(shape)
        fi, fo = fan_in or fi, fan_out or fo
        lim = np.sqrt(6.0 / (fi + fo))
        return rng.uniform(-lim, lim, size=shape)


class LeCunNormal(Initializer):
    """Truncated normal with stddev sqrt(1 / fan_in) (LeCun et al. 1998, "Efficient BackProp";
    Keras's lecun_normal: draws beyond 2 stddev are redrawn, stddev corrected by 0.8796)."""

    name = "lecun_normal"

    def __call__(self, shape, rng, fan_in=None, fan_out=None):
        fi, _ = _fans(shape)
        fi = fan_in or fi
        std = np.sqrt(1.0 / fi) / 0.87962566103423978
        out = rng.normal(0.0, std, size=shape)
        bad = np.abs(out) > 2 * std
        while bad.any():
            out[bad] = rng.normal(0.0, std, size=int(bad.sum()))
            bad = np.abs(out) > 2 * std
        return out


_REGISTRY = {c.name: c for c in (Zeros, GlorotUniform, LeCunNormal)}


def get(init) -> Initializer:
    if isinstance(init, Initializer):
        return init
    if isinstance(init, str) and init.lower() in _REGISTRY:
        return _REGISTRY[init.lower()]()
    raise ValueError(f"unknown initializer {init!r}; use one of {sorted(_REGISTRY)} or an "
                     f"Initializer")


__all__ = ["Initializer", "Zeros", "GlorotUniform", "LeCunNormal", "get"]
