"""The one error the Keras bridge adds: something of a Keras model it cannot convert."""
from __future__ import annotations


class UnsupportedError(ValueError):
    """A Keras layer, activation, optimiser, loss, metric, topology or fit argument that
    keras2spinnaker does not convert.  The message names it and, where it has one, its
    config.  Raised by keras2spinnaker() (or k2s.fit for fit arguments) before anything
    runs."""


def describe(cfg: dict) -> str:
    """A layer's or object's config for an error message, without the noise every Keras
    config carries (dtype policy, trainable)."""
    return repr({k: v for k, v in cfg.items() if k not in ("dtype", "trainable")})
