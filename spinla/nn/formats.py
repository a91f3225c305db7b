"""The fixed-point format policy of spinla.nn: which q15 format each tensor of a training step
gets, and how each is rounded.

Every tensor is 16 bits with its own number of fractional bits f (spinla.fixed), fixed when the
step is traced.  Formats come from ranges the maths guarantees or that float64 runs of the
same networks show, so one traced step is valid for every batch; the one exception is the
Adam state, sized once from the gradients of the first batch (below).  Figures quoted are
from float64 NumPy twins of mlp1 and LeNet-1/5 trained on MNIST with Adam:

input        q1.14   Pixels lie in [0, 1]; 1.0 must be representable (q0.15 stops at
                     1 - 2^-15), q1.14 is the finest format that holds it.  Error <= 2^-15.
weight       q2.13   Glorot/LeCun initial weights are below 0.2 for every layer here, and
                     trained MNIST weights stay below ~1 (float runs: max 0.5); +-4 leaves
                     room for the occasional large bias.  LSB 1.2e-4 = 1/8 of Adam's usual
                     step of 1e-3, and stochastic rounding moves a weight by smaller steps on
                     average.
activation   q4.11   Pre-activations (matmul/conv outputs) and ReLU outputs.  A float run of
                     mlp1 peaks at |z| = 13; +-16 holds it with 11 fractional bits.
logits       q5.10   The last layer's outputs: confident logits reach 15-20 (float runs);
                     saturating them would be harmless for softmax but is counted, so they get
                     one more integer bit.
bounded      q1.14   tanh, sigmoid, scaled tanh (|y| <= 1.7159) and softmax outputs: 1.0 must
                     be representable (see spinla.tanh), q0.15 cannot.
loss_grad    q1.14   dL/dz of softmax cross-entropy is p - onehot, in [-1, 1], exact from the
                     q1.14 softmax.  The loss is the SUM over the batch, not the mean: the
                     per-sample delta keeps its full precision and 1/batch is folded into the
                     learning rate (SGD) or cancels (Adam is scale-invariant), instead of
                     being a right shift of 4-7 bits that would flush small deltas to zero.
delta        q2.13   Deltas of hidden layers.  |delta_j| = |sum_k W_jk delta_k| <= 2 max|W|
                     for the layer after the logits (sum_k |p_k - y_k| <= 2), and the ReLU and
                     tanh derivatives are <= 1; float runs peak at 0.6.  +-4 with 13
                     fractional bits; stochastic rounding keeps the many small deltas unbiased.
gradient     sized   A weight gradient is a sum of n = batch x output-pixels products x*delta.
                     Its format holds x_bound * delta_bound * sqrt(n) * GRAD_HEADROOM (random
                     signs make the sum grow like sqrt(n); float runs of mlp1 peak at
                     0.3-0.7 of this bound).  x_bound is 1 for pixels and bounded units and
                     relu_bound (8) for ReLU outputs; delta_bound is 1.  The batch is the
                     fit's, so the last, shorter batch of an epoch shares the formats.  A sum
                     beyond the format saturates, counted: for Adam that is per-element
                     gradient clipping, harmless; the headroom makes it rare.
adam m, r    calib.  Adam's first moment m and RMS r = sqrt(v) have the gradient's units,
                     so they could share its format - but the gradient format is sized for the
                     largest SUM it may hold, and the moments of typical gradients then sit a
                     few LSBs above zero, where rounding noise swamps the ratio m / r (LeNet-1
                     lost 3-7 points of accuracy that way).  So m and r get their own format:
                     the finest holding moment_headroom (8) x the largest |gradient| of that
                     tensor on the first batch (measured on the machine when fit first runs),
                     at most moment_extra (4) bits finer than the gradient.  Gradients grow
                     several-fold early in training; one beyond the moments' range is clipped
                     to it before it enters them (counted as an adam_update saturation): for
                     Adam this is per-element gradient clipping, the update direction is kept.
                     r = sqrt(v) rather than v halves the dynamic range the state needs (see
                     spinla/kernels/optim.py).
velocity     w + 4   SGD momentum's velocity v = mu v - lr g is lr/(1 - mu) times a gradient:
                     small, so 4 more fractional bits than the weights.

Rounding: the forward pass rounds to nearest (a deterministic function, as at inference).
The backward pass (deltas, gradients) and every stored optimiser result round stochastically:
with round-to-nearest an update smaller than half an LSB is lost every time and training
stalls; stochastic rounding is unbiased, so small updates accumulate in expectation (Gupta et
al. 2015, arXiv 1502.02551).  Saturation is counted per op in spinla.stats(), and fit()
reports the counts of each epoch in its History.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

from ..fixed import NEAREST, STOCHASTIC, Format, frac_for, q

GRAD_HEADROOM = 1.0


@dataclass(frozen=True)
class FormatPolicy:
    """Formats (frac counts) and rounding modes of a network's training step."""

    input: int = 14
    weight: int = 13
    activation: int = 11
    logits: int = 10
    bounded: int = 14
    loss_grad: int = 14
    delta: int = 13
    velocity_extra: int = 4
    moment_extra: int = 4         # moments' extra bits when calibration saw no gradient
    moment_headroom: float = 8.0  # moments hold this multiple of the calibrated max |g|
    relu_bound: float = 8.0       # x_bound of a ReLU output for gradient sizing
    grad_headroom: float = GRAD_HEADROOM
    forward_rounding: str = NEAREST
    backward_rounding: str = STOCHASTIC
    update_rounding: str = STOCHASTIC

    def __post_init__(self):
        for f in fields(self):
            v = getattr(self, f.name)
            if f.type == "int" and not f.name.endswith("_extra") and not 0 <= v <= 15:
                raise ValueError(f"FormatPolicy.{f.name} must be a frac count in 0..15, "
                                 f"got {v!r}")
        for name in ("forward_rounding", "backward_rounding", "update_rounding"):
            if getattr(self, name) not in (NEAREST, STOCHASTIC):
                raise ValueError(f"FormatPolicy.{name} must be 'nearest' or 'stochastic'")

    def fmt(self, name: str) -> Format:
        return q(getattr(self, name))

    def grad(self, x_bound: float, delta_bound: float, n_sum: int) -> Format:
        """Format of a sum of n_sum products |x| <= x_bound, |delta| <= delta_bound."""
        bound = x_bound * delta_bound * math.sqrt(max(1, n_sum)) * self.grad_headroom
        return q(frac_for(bound))

    def velocity(self, weight_fmt: Format) -> Format:
        return q(min(15, weight_fmt.frac + self.velocity_extra))

    def moments(self, grad_fmt: Format, max_abs: float | None = None) -> Format:
        """Format of Adam's m and r for gradients in grad_fmt whose largest magnitude on the
        calibration batch was max_abs: the finest that holds moment_headroom x max_abs, never
        coarser than the gradient's nor more than moment_extra bits finer."""
        f = grad_fmt.frac + self.moment_extra
        if max_abs is not None and max_abs > 0:
            f = min(f, frac_for(max_abs * self.moment_headroom))
        return q(max(grad_fmt.frac, min(15, f)))

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "FormatPolicy":
        return cls(**d)


DEFAULT_POLICY = FormatPolicy()


def bound_of(fmt: Format) -> float:
    """The largest magnitude a format holds (used as a value bound when nothing tighter is
    known)."""
    return fmt.max


__all__ = ["FormatPolicy", "DEFAULT_POLICY", "GRAD_HEADROOM", "bound_of", "NEAREST",
           "STOCHASTIC"]
