"""Optimisers: SGD (with momentum) and Adam, each update one fused kernel call per weight
tensor (spinla_c/optim_q15.c, spinla/kernels/optim.py documents the fixed-point design).

Inside a traced training step the optimiser receives the weights, gradients, its state
arrays and a one-element learning-rate input; it returns the new weights and state.  The
learning rate is an input so that Adam's bias correction (a different factor every step) and
learning-rate changes need no re-trace: `step_lr()` computes it on the host each step.

Gradients reaching the optimiser are sums over the batch (spinla.nn.formats); SGD divides
the learning rate by the batch size, Adam (invariant to the gradient's scale) multiplies eps
by it.
"""
from __future__ import annotations

import functools
import math

import numpy as np

from ..array import Array
from ..fixed import Format, q
from ..kernels import optim as kopt
from ..ops._core import check_rounding, machine, new_buffer, operand, run


def _check_same_shape(op, w, *others):
    for o in others:
        if o.shape != w.shape:
            raise ValueError(f"{op}: all operands must have the weight's shape {w.shape}, "
                             f"got {o.shape}")


def _check_lr(op, lr):
    if lr.shape != (1,) or lr.fmt != q(15):
        raise ValueError(f"{op}: lr must be a one-element q0.15 array (the mantissa of the "
                         f"learning rate), got shape {lr.shape} format {lr.fmt.name}")


def sgd_update(w, g, lr, lr_exp: int, *, v=None, momentum: float = 0.0, rounding=None):
    """One SGD step on weight tensor w: returns w' (and v' with momentum).

    lr: a (1,) q0.15 Array holding L; the learning rate is L * 2^-(15 + lr_exp).
    With momentum (Keras's formulation) v is the velocity in its own (finer) format:
    v' = momentum v - lr g, w' = w + v'."""
    op = "sgd_update"
    w, g, lr = operand(w, op), operand(g, op), operand(lr, op)
    _check_lr(op, lr)
    mode = check_rounding(op, rounding)
    if momentum:
        if v is None:
            raise ValueError(f"{op}: momentum needs the velocity v")
        v = operand(v, op)
        _check_same_shape(op, w, g, v)
        prm = kopt.sgd_params(frac_w=w.fmt.frac, frac_g=g.fmt.frac, lr_exp=lr_exp,
                              momentum=momentum, frac_v=v.fmt.frac)
        wo, vo = new_buffer(w.shape, w.fmt), new_buffer(v.shape, v.fmt)
        call = kopt.lower_sgd(w.buffer, g.buffer, v.buffer, lr.buffer, wo, vo, params=prm,
                              rounding=mode, machine=machine(), op=op)
        return tuple(run([call], [wo, vo]))
    _check_same_shape(op, w, g)
    prm = kopt.sgd_params(frac_w=w.fmt.frac, frac_g=g.fmt.frac, lr_exp=lr_exp)
    wo = new_buffer(w.shape, w.fmt)
    call = kopt.lower_sgd(w.buffer, g.buffer, None, lr.buffer, wo, None, params=prm,
                          rounding=mode, machine=machine(), op=op)
    return run([call], [wo])[0]


def adam_update(w, g, m, r, lr, lr_exp: int, *, beta1=0.9, beta2=0.999, eps=1e-7,
                rounding=None):
    """One Adam step: returns (w', m', r') with r = sqrt(v) the RMS of the gradient.

    m and r share one format, 0..15 bits finer than g's; eps is in gradient units (floored
    at one LSB of r)."""
    op = "adam_update"
    w, g, m, r, lr = (operand(a, op) for a in (w, g, m, r, lr))
    _check_lr(op, lr)
    _check_same_shape(op, w, g, m, r)
    if m.fmt != r.fmt or m.fmt.kind != "fixed" or not 0 <= m.fmt.frac - g.fmt.frac <= 15:
        raise ValueError(f"{op}: m and r must share one format at least as fine as the "
                         f"gradient's {g.fmt.name}, got {m.fmt.name} and {r.fmt.name}")
    mode = check_rounding(op, rounding)
    prm = kopt.adam_params(frac_w=w.fmt.frac, frac_g=g.fmt.frac, frac_s=m.fmt.frac,
                           lr_exp=lr_exp, beta1=beta1, beta2=beta2, eps=eps)
    wo, mo, ro = (new_buffer(w.shape, f) for f in (w.fmt, m.fmt, r.fmt))
    call = kopt.lower_adam(w.buffer, g.buffer, m.buffer, r.buffer, lr.buffer, wo, mo, ro,
                           params=prm, rounding=mode, machine=machine(), op=op)
    return tuple(run([call], [wo, mo, ro]))


def lr_array(mantissa: int) -> Array:
    """The (1,) q0.15 learning-rate input of a step (host data entering the machine)."""
    from ..backends import upload
    return Array(upload(np.array([mantissa], dtype=np.int16), q(15), kind="scalar"))


class Optimizer:
    name = "optimizer"

    def __init__(self, learning_rate: float):
        lr = float(learning_rate)
        if not (lr > 0 and math.isfinite(lr)):
            raise ValueError(f"learning_rate must be positive and finite, got {learning_rate!r}")
        self.learning_rate = lr
        self.iterations = 0      # completed steps (Keras's optimizer.iterations)

    # --- state -------------------------------------------------------------------------
    needs_calibration = False   # state formats depend on the gradients' observed size

    def state_formats(self, weight_fmt: Format, grad_fmt: Format, policy,
                      grad_max: float | None = None) -> list:
        """Formats of the state arrays of one weight tensor (grad_max: the largest |gradient|
        seen on the calibration batch, if the model measured it)."""
        raise NotImplementedError

    # --- inside the traced step ----------------------------------------------------------
    def lr_exponent(self, batch: int) -> int:
        """lr_exp of a step traced for `batch` samples: the largest learning rate that step
        may be given must fit its q0.15 input."""
        return kopt.lr_exponent(self._lr_max(batch))

    def apply(self, params, grads, states, lr, policy, *, lr_exp: int, batch: int):
        """(new params, new states): states is a list (per param) of lists of Arrays; lr the
        step's learning-rate input, meaning L * 2^-(15 + lr_exp)."""
        raise NotImplementedError

    # --- on the host, every step -----------------------------------------------------------
    def step_lr(self, t: int, batch: int, lr_exp: int) -> Array:
        """The learning-rate input of step t (1-based) for a step traced with lr_exp."""
        return lr_array(kopt.lr_mantissa(self._lr_at(t, batch), lr_exp))

    def _lr_at(self, t: int, batch: int) -> float:
        raise NotImplementedError

    def _lr_max(self, batch: int) -> float:
        raise NotImplementedError

    def get_config(self) -> dict:
        raise NotImplementedError


class SGD(Optimizer):
    """Stochastic gradient descent; momentum as in Keras (v = mu v - lr g; w += v)."""

    name = "sgd"

    def __init__(self, learning_rate: float = 0.01, momentum: float = 0.0):
        super().__init__(learning_rate)
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"momentum must be in [0, 1), got {momentum!r}")
        self.momentum = float(momentum)

    def state_formats(self, weight_fmt, grad_fmt, policy, grad_max=None):
        return [policy.velocity(weight_fmt)] if self.momentum else []

    def _lr_at(self, t, batch):
        return self.learning_rate / batch

    def _lr_max(self, batch):
        return self.learning_rate / batch

    def apply(self, params, grads, states, lr, policy, *, lr_exp, batch):
        new_p, new_s = [], []
        for w, g, st in zip(params, grads, states):
            if self.momentum:
                w2, v2 = sgd_update(w, g, lr, lr_exp, v=st[0], momentum=self.momentum,
                                    rounding=policy.update_rounding)
                new_p.append(w2)
                new_s.append([v2])
            else:
                new_p.append(sgd_update(w, g, lr, lr_exp, rounding=policy.update_rounding))
                new_s.append([])
        return new_p, new_s

    def get_config(self):
        return {"name": self.name, "learning_rate": self.learning_rate,
                "momentum": self.momentum}


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015) in Keras's form: lr_t = lr sqrt(1 - b2^t) / (1 - b1^t),
    w -= lr_t m / (sqrt(v) + eps).  The state is m and r = sqrt(v) in the policy's moment
    format (spinla.nn.formats); eps is given in mean-gradient units, as in Keras (scaled by
    the batch size here because the gradients are batch sums)."""

    name = "adam"

    def __init__(self, learning_rate: float = 1e-3, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-7):
        super().__init__(learning_rate)
        for nm, b in (("beta_1", beta_1), ("beta_2", beta_2)):
            if not 0.0 <= b < 1.0:
                raise ValueError(f"{nm} must be in [0, 1), got {b!r}")
        if not epsilon >= 0:
            raise ValueError(f"epsilon must be >= 0, got {epsilon!r}")
        self.beta_1, self.beta_2, self.epsilon = float(beta_1), float(beta_2), float(epsilon)

    needs_calibration = True

    def state_formats(self, weight_fmt, grad_fmt, policy, grad_max=None):
        f = policy.moments(grad_fmt, grad_max)
        return [f, f]

    def _correction(self, t):
        return math.sqrt(1.0 - self.beta_2 ** t) / (1.0 - self.beta_1 ** t)

    def _lr_at(self, t, batch):
        return self.learning_rate * self._correction(t)

    def _lr_max(self, batch):
        return self.learning_rate * _max_correction(self.beta_1, self.beta_2)

    def apply(self, params, grads, states, lr, policy, *, lr_exp, batch):
        new_p, new_s = [], []
        for w, g, (m, r) in zip(params, grads, states):
            w2, m2, r2 = adam_update(w, g, m, r, lr, lr_exp, beta1=self.beta_1,
                                     beta2=self.beta_2, eps=self.epsilon * batch,
                                     rounding=policy.update_rounding)
            new_p.append(w2)
            new_s.append([m2, r2])
        return new_p, new_s

    def get_config(self):
        return {"name": self.name, "learning_rate": self.learning_rate, "beta_1": self.beta_1,
                "beta_2": self.beta_2, "epsilon": self.epsilon}


@functools.lru_cache(maxsize=32)
def _max_correction(beta_1: float, beta_2: float) -> float:
    """The largest Adam bias correction sqrt(1 - b2^t) / (1 - b1^t) over t >= 1 (<= 1 for the
    default betas; it tends to 1).  Scanned far enough for any beta pair in use."""
    ts = np.arange(1, 200_001, dtype=np.float64)
    corr = np.sqrt(1.0 - beta_2 ** ts) / (1.0 - beta_1 ** ts)
    return max(1.0, float(corr.max()))


def get(opt) -> Optimizer:
    if isinstance(opt, Optimizer):
        return opt
    if isinstance(opt, dict):
        cfg = dict(opt)
        name = cfg.pop("name")
        return {"sgd": SGD, "adam": Adam}[name](**cfg)
    if isinstance(opt, str) and opt.lower() in ("sgd", "adam"):
        return {"sgd": SGD, "adam": Adam}[opt.lower()]()
    raise ValueError(f"unknown optimizer {opt!r}; use 'sgd', 'adam' or an Optimizer")


__all__ = ["Optimizer", "SGD", "Adam", "sgd_update", "adam_update", "lr_array", "get"]
