"""Activation functions with explicit backward passes, all in spinla ops.

forward(z, policy, fmt) -> (y, cache); backward(dy, cache, policy) -> dz in the delta format.
`fmt` is the format of z (and of unbounded outputs); bounded outputs use policy.bounded.
Derivatives are taken from the *output* where that is exact algebra (tanh: 1 - y^2), so the
backward pass needs no second table lookup.

Which to use in fixed point: ReLU is exact (a max and a mask, no table error, no rounding) and
its derivative is exactly 0 or 1, so deltas are not shrunk by a rounded factor at every layer;
its outputs are unbounded but stay well inside q4.11 on MNIST.  tanh and the scaled tanh of
LeCun et al. 1998 are bounded (q1.14 outputs, 3 more fractional bits) but cost a table lookup
(<= 0.6 LSB) forward and three rounded ops backward.  spinla.nn.models uses ReLU.
"""
from __future__ import annotations

import spinla as sp

from ..fixed import q

A_LECUN, S_LECUN = 1.7159, 2.0 / 3.0



def _coarser(a, b):
    """The coarser of two formats: nn's formats are chosen by its policy (formats.py), not by
    the range rule of spinla's ops."""
    return a.fmt if a.fmt.frac <= b.fmt.frac else b.fmt

class Activation:
    name = "linear"
    bounded = False        # output lies in a fixed interval (uses policy.bounded)
    bound = None           # |output| bound, for gradient sizing

    def out_fmt(self, policy, fmt):
        return q(policy.bounded) if self.bounded else fmt

    def forward(self, z, policy, fmt):
        return z, None

    def backward(self, dy, cache, policy):
        return dy

    def output_bound(self, policy, fmt):
        if self.bound is not None:
            return self.bound
        return fmt.max


class Linear(Activation):
    name = "linear"


class ReLU(Activation):
    name = "relu"

    def forward(self, z, policy, fmt):
        y = sp.maximum(z, 0, fmt=z.fmt)
        return y, y

    def backward(self, dy, y, policy):
        # y is nonzero exactly where z > 0: where() tests its condition for nonzero, so the
        # output itself is the mask and no comparison op is needed.
        return sp.where(y, dy, 0, fmt=q(policy.delta), rounding=policy.backward_rounding)

    def output_bound(self, policy, fmt):
        return min(policy.relu_bound, fmt.max)


class Tanh(Activation):
    name = "tanh"
    bounded = True
    bound = 1.0

    def forward(self, z, policy, fmt):
        y = sp.tanh(z, fmt=q(policy.bounded), rounding=policy.forward_rounding)
        return y, y

    def backward(self, dy, y, policy):
        # dz = dy (1 - y^2): the square and 1 - y^2 are exact in q1.14 up to one rounding.
        one_minus = sp.subtract(1, sp.square(y, fmt=y.fmt), fmt=y.fmt)
        return sp.multiply(dy, one_minus, fmt=q(policy.delta),
                           rounding=policy.backward_rounding)


class ScaledTanh(Activation):
    """LeCun et al. 1998: f(z) = 1.7159 tanh(2z/3), so that f(+-1) = +-1 and the gain at 0 is
    about 1.14."""

    name = "scaled_tanh"
    bounded = True
    bound = A_LECUN

    def forward(self, z, policy, fmt):
        t = sp.tanh(sp.multiply(z, S_LECUN), fmt=q(policy.bounded),
                    rounding=policy.forward_rounding)
        y = sp.multiply(t, A_LECUN, fmt=q(policy.bounded), rounding=policy.forward_rounding)
        return y, t

    def backward(self, dy, t, policy):
        # dz = A S dy (1 - t^2) = A S dy - A S (dy t) t, one rounding in axpby.
        c = A_LECUN * S_LECUN
        dt = sp.multiply(dy, t, fmt=_coarser(dy, t), rounding=policy.backward_rounding)
        dtt = sp.multiply(dt, t, fmt=_coarser(dt, t), rounding=policy.backward_rounding)
        return sp.axpby(dy, dtt, c, -c, fmt=q(policy.delta), rounding=policy.backward_rounding)


class Sigmoid(Activation):
    name = "sigmoid"
    bounded = True
    bound = 1.0

    def forward(self, z, policy, fmt):
        y = sp.sigmoid(z, fmt=q(policy.bounded), rounding=policy.forward_rounding)
        return y, y

    def backward(self, dy, y, policy):
        d = sp.multiply(y, sp.subtract(1, y, fmt=y.fmt), fmt=y.fmt,
                        rounding=policy.backward_rounding)
        return sp.multiply(dy, d, fmt=q(policy.delta), rounding=policy.backward_rounding)


class Softmax(Activation):
    """Softmax over the last axis.  Followed by categorical cross-entropy, the model fuses the
    two (the gradient is p - onehot, see losses.py) and this backward pass is not used."""

    name = "softmax"
    bounded = True
    bound = 1.0

    def forward(self, z, policy, fmt):
        y = sp.softmax(z, axis=-1, fmt=q(policy.bounded), rounding=policy.forward_rounding)
        return y, y

    def backward(self, dy, y, policy):
        # dz = y (dy - sum(dy y)).
        s = sp.sum(sp.multiply(dy, y, fmt=_coarser(dy, y), rounding=policy.backward_rounding),
                   axis=-1,
                   keepdims=True, fmt=q(policy.delta), rounding=policy.backward_rounding)
        return sp.multiply(y, sp.subtract(dy, s, fmt=q(policy.delta)), fmt=q(policy.delta),
                           rounding=policy.backward_rounding)


_REGISTRY = {c.name: c for c in (Linear, ReLU, Tanh, ScaledTanh, Sigmoid, Softmax)}
_ALIASES = {None: "linear", "lecun_tanh": "scaled_tanh"}


def get(act) -> Activation:
    if isinstance(act, Activation):
        return act
    key = _ALIASES.get(act, act)
    if isinstance(key, str) and key.lower() in _REGISTRY:
        return _REGISTRY[key.lower()]()
    raise ValueError(f"unknown activation {act!r}; use one of {sorted(_REGISTRY)}, "
                     f"'lecun_tanh' or None")


__all__ = ["Activation", "Linear", "ReLU", "Tanh", "ScaledTanh", "Sigmoid", "Softmax", "get"]
