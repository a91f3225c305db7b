"""sgd_q15 / adam_q15: fused, element-wise optimiser steps over one weight tensor
(spinla_c/optim_q15.c).

One Call reads the weights, the gradient, the optimiser state and a one-element learning-rate
buffer and writes the new weights and state, so a whole update is one phase of the Program.

Fixed-point design (the arithmetic is documented in optim_q15.c):

* The learning rate is an input, not a constant of the Program: a q0.15 value L meaning
  L * 2^-(15 + lr_exp).  lr_exp is fixed at trace time (`lr_exponent`) so that the largest
  learning rate expected (lr for SGD, lr times the largest Adam bias correction) uses 14-15
  bits of L; the host writes L each step (Adam's bias correction, schedules) with no re-trace.
* SGD: w' = w - lr g, or with momentum mu (Keras): v' = mu v - lr g, w' = w + v'.  The
  velocity has its own format, at least as fine as the weights'.  Every term is brought to one
  exact int64 scale, then rounded once per stored value.
* Adam stores m and r = sqrt(v) in one state format.  v = g^2 would need twice the dynamic
  range (a gradient of 2^-8 squares to 2^-16); r needs the same as g.  The state format may
  be finer than the gradient's (g_shift bits): a gradient format is sized for the largest
  sum it may hold, the moments for their typical size, and with too few bits the moments of
  small gradients are a handful of LSBs whose rounding noise swamps the ratio m/r.  A
  gradient beyond the state's range is clipped to it (counted) before entering the moments.
  b1, b2 are Q30 with 1 - b exact, so a constant gradient is a fixed point of m.  The square
  root and the reciprocal are table interpolations (relative error < 2^-19 measured, 2^-18
  asserted; no divider on the ARM968, and a libgcc division would cost ~150 cycles).  The
  suggestion to use one integer division per element was weighed against this: the table
  reciprocal is cheaper on the ARM968 and lets the host compiler vectorise the loop.  eps is
  in gradient units; it is floored at one LSB of r, because r is only known to that precision
  and a smaller floor lets a decayed m over a rounded-to-zero r make steps of lr * 2^15.  The
  ratio m/(r + eps) is clamped to the bound that exact Adam satisfies,
  |m|/r <= (1 - b1) / sqrt((1 - b2)(1 - b1^2/b2)) (7.3 for the defaults) plus one; clamps are
  counted as saturations.

Limits: weights move in steps of lr_t * ratio; with stochastic rounding, steps below one LSB
of the weight format still move the weight on average (Gupta et al. 2015; asserted in
tests/test_nn_optim.py), with nearest rounding they are lost.  Stochastic rounding makes each
weight a random walk around the exact trajectory: after T steps its rms distance is at most
sqrt(T)/2 LSB, with no drift.  Gradients beyond the gradient format saturate before they get
here (counted at the op that made them); for Adam that is per-element gradient clipping.
The int64 scales bound every shift to 0..47, which rejects learning rates below ~1e-9 (q2.13
weights) and state formats more than 15 bits finer than the gradient's, with a ValueError.
"""
from __future__ import annotations

import math

import numpy as np

from .. import tiling
from ..fixed import ROUNDING_MODES, STOCHASTIC
from ..program import Call
from . import SEED, In, Out, Step, cycle_table, dma, i32, register_bound, threads

# The two tables (5 KB of constants) live with the code in ITCM (spinla/armimage.py).

# Bytes of DTCM per element a tile holds: SGD w, g in and w out (+ v in and out);
# Adam w, g, m, r in and w, m, r out.  flat_tiles doubles them for double buffering.
BYTES_SGD, BYTES_SGD_MOMENTUM, BYTES_ADAM = 6, 10, 14

# Host work units per element (threads() compares them with its MAC/element threshold): an
# Adam element costs about as much host time as 16 MACs of the gemm, an SGD element 4.
WORK_ADAM, WORK_SGD = 16, 4

RATIO_BITS = 16           # the ratio m / (r + eps) is Q16 inside the kernel
MAX_SHIFT = 47


def _cycles(call, machine):
    kind = ("adam" if call.kernel == "adam_q15"
            else "sgd_momentum" if call.params["mu"] else "sgd")
    return cycle_table.predict("optim", kind=kind, elems=call.elems.astype(np.float64),
                               stochastic=float(call.stochastic))


def _i32(a):
    return np.ascontiguousarray(a, dtype=np.int32)


@register_bound("sgd_q15", _cycles, "SGD step (optional momentum), one weight tensor")
def bind_sgd(call):
    p = call.params
    if p["mu"]:
        w, g, v, lr, w_out, v_out = In(0), In(1), In(2), In(3), Out(0), Out(1)
    else:
        w, g, lr, w_out = In(0), In(1), In(2), Out(0)
        v = v_out = w_out  # not read or written when mu == 0
    return (Step("spl_run_sgd", (w, g, v, lr, w_out, v_out, i32(call.tiles), call.ntiles,
                                 p["mu"], p["w_shift"], p["p_shift"], p["v_shift"],
                                 p["v_round"], ROUNDING_MODES[p["rounding"]], SEED,
                                 threads(WORK_SGD * call.inputs[0].size))),)


@register_bound("adam_q15", _cycles, "Adam step (m and RMS state), one weight tensor")
def bind_adam(call):
    p = call.params
    return (Step("spl_run_adam", (In(0), In(1), In(2), In(3), In(4), Out(0), Out(1), Out(2),
                                  i32(call.tiles), call.ntiles, p["beta1"], p["beta2"],
                                  p["eps"], p["ratio_max"], p["w_shift"], p["g_shift"],
                                  ROUNDING_MODES[p["rounding"]], SEED,
                                  threads(WORK_ADAM * call.inputs[0].size))),)


# --- parameters ---------------------------------------------------------------------------

def lr_exponent(lr_max: float) -> int:
    """lr_exp such that lr_max * 2^lr_exp lies in [0.25, 0.5): L keeps 13-14 significant bits
    and a learning rate up to twice lr_max still fits q0.15."""
    if not (lr_max > 0 and math.isfinite(lr_max)):
        raise ValueError(f"learning rate must be positive and finite, got {lr_max!r}")
    e = math.floor(math.log2(0.5 / lr_max))
    while lr_max * 2.0 ** e >= 0.5:
        e -= 1
    while lr_max * 2.0 ** (e + 1) < 0.5:
        e += 1
    return int(e)


def lr_mantissa(lr: float, lr_exp: int) -> int:
    """The q0.15 integer L of a learning rate (nearest); ValueError if it does not fit."""
    L = math.floor(lr * 2.0 ** (15 + lr_exp) + 0.5)
    if not 0 <= L <= 32767:
        raise ValueError(f"learning rate {lr!r} does not fit the traced range "
                         f"(at most {32767 * 2.0 ** -(15 + lr_exp):.3g}); compile() again")
    return int(L)


def q30(beta: float) -> int:
    if not 0.0 <= beta < 1.0:
        raise ValueError(f"beta must be in [0, 1), got {beta!r}")
    return int(round(beta * 2 ** 30))


def adam_ratio_bound(beta1: float, beta2: float) -> float:
    """Upper bound of |m| / sqrt(v) for exact Adam EMAs started at zero (Cauchy-Schwarz)."""
    if beta1 * beta1 >= beta2:
        return 2.0 ** 14  # no finite bound; the clamp then only guards the int64 maths
    return (1 - beta1) / math.sqrt((1 - beta2) * (1 - beta1 * beta1 / beta2))


def sgd_params(*, frac_w: int, frac_g: int, lr_exp: int, momentum: float = 0.0,
               frac_v: int | None = None) -> dict:
    P = 15 + lr_exp + frac_g                       # scale of L * g
    mu = int(round(momentum * 2 ** 15))
    if not 0 <= mu < 2 ** 15:
        raise ValueError(f"momentum must be in [0, 1), got {momentum!r}")
    if mu:
        if frac_v is None or frac_v < frac_w:
            raise ValueError("the velocity format must be at least as fine as the weights' "
                             f"(frac_v={frac_v}, frac_w={frac_w})")
        sv = max(15 + frac_v, P)
        prm = dict(mu=mu, v_shift=sv - 15 - frac_v, p_shift=sv - P, v_round=sv - frac_v,
                   w_shift=frac_v - frac_w)
    else:
        s = max(P, frac_w)
        prm = dict(mu=0, v_shift=0, v_round=0, p_shift=s - P, w_shift=s - frac_w)
    if max(prm["w_shift"], prm["v_round"]) > MAX_SHIFT or prm["p_shift"] > 32 \
            or prm["v_shift"] > 32:
        raise ValueError(f"SGD formats too far apart for exact int64 maths: {prm}")
    return prm


def adam_params(*, frac_w: int, frac_g: int, frac_s: int, lr_exp: int, beta1: float,
                beta2: float, eps: float) -> dict:
    """Kernel parameters; frac_s is the format of m and r (at least as fine as the gradient's,
    by at most 15 bits)."""
    g_shift = frac_s - frac_g
    if not 0 <= g_shift <= 15:
        raise ValueError(f"Adam: the state format q{15 - frac_s}.{frac_s} must be 0..15 bits "
                         f"finer than the gradient's q{15 - frac_g}.{frac_g}")
    w_shift = 15 + lr_exp + RATIO_BITS - frac_w
    if not 0 <= w_shift <= MAX_SHIFT:
        raise ValueError(f"Adam: learning-rate exponent {lr_exp} and weight format "
                         f"q{15 - frac_w}.{frac_w} give shift {w_shift}, outside 0..{MAX_SHIFT}")
    eps_units = max(2 ** 15, int(round(eps * 2.0 ** (frac_s + 15))))  # >= 1 LSB of r
    eps_units = min(eps_units, 2 ** 31)
    bound = adam_ratio_bound(beta1, beta2) + 1.0
    ratio_max = int(min(2 ** 31 - 1, math.ceil(bound * 2 ** RATIO_BITS)))
    return dict(beta1=q30(beta1), beta2=q30(beta2), eps=eps_units, ratio_max=ratio_max,
                w_shift=w_shift, g_shift=g_shift)


# --- lowering -----------------------------------------------------------------------------

def _flat_call(kernel, op, inputs, outputs, params, bytes_per_elem, rounding, machine):
    n = inputs[0].size
    # Every tile also holds the learning rate (padded to a word): keep it out of the budget.
    tiles, cores = tiling.flat_tiles(
        n, machine.with_(dtcm_reserve_bytes=machine.dtcm_reserve_bytes + 4),
        bytes_per_elem=bytes_per_elem)
    e = (tiles[:, 1] - tiles[:, 0]).astype(np.int64)
    nin, nout = len(inputs) - 1, len(outputs)   # the lr buffer is 2 bytes per tile
    st = rounding == STOCHASTIC
    return Call(kernel=kernel, op=op, inputs=tuple(inputs), outputs=tuple(outputs),
                params=dict(params, rounding=rounding), tiles=tiles, cores=cores,
                macs=np.zeros(len(e), np.int64), elems=e, dma_in=2 * nin * e + 2,
                dma_out=2 * nout * e, dtcm=2 * bytes_per_elem * e + 4,
                stochastic=st)


def lower_sgd(w, g, v, lr, w_out, v_out, *, params: dict, rounding: str, machine,
              op: str = "sgd_update"):
    """Call for one SGD step; v / v_out are None without momentum."""
    if params["mu"]:
        return _flat_call("sgd_q15", op, (w, g, v, lr), (w_out, v_out), params,
                          BYTES_SGD_MOMENTUM, rounding, machine)
    return _flat_call("sgd_q15", op, (w, g, lr), (w_out,), params, BYTES_SGD, rounding,
                      machine)


def lower_adam(w, g, m, r, lr, w_out, m_out, r_out, *, params: dict, rounding: str, machine,
               op: str = "adam_update"):
    return _flat_call("adam_q15", op, (w, g, m, r, lr), (w_out, m_out, r_out), params,
                      BYTES_ADAM, rounding, machine)


def plan(call, t):
    """A tile reads its flat range of every tensor input and the whole one-element learning
    rate (the last input), and writes its range of every output."""
    e0, e1 = (int(v) for v in call.tiles[t])
    nb = 2 * (e1 - e0)
    ins = [dma.block(dma.READ, i, 2 * e0, nb) for i in range(len(call.inputs) - 1)]
    ins.append(dma.block(dma.READ, len(call.inputs) - 1, 0, 2))
    outs = [dma.block(dma.WRITE, j, 2 * e0, nb) for j in range(len(call.outputs))]
    return dma.TilePlan(tuple(ins + outs), scratch=2)   # the learning rate, padded to a word


dma.describes("sgd_q15")(plan)
dma.describes("adam_q15")(plan)
