"""Losses: the value (summed over the batch), the number of correct predictions and the
gradient with respect to the network's last pre-activation output, all in spinla ops.

The loss is the SUM over the batch and the gradient is that of the sum: each sample's delta
keeps the full precision of the loss-gradient format, and the optimiser folds 1/batch into
the learning rate (spinla.nn.formats explains why).  Reported losses are means: the host
divides the summed value by the number of samples when it reads it out.

Targets enter the traced step as two arrays sliced from the placed data set: `t`, the
one-hot (classification) or target (regression) rows in q1.14 or the output format, and
`labels`, int16 class indices used for accuracy (all -1 when there are no classes).
"""
from __future__ import annotations

import spinla as sp

from ..fixed import INT16, Format, q



def _coarser(a, b):
    """The coarser of two formats (the policy's choice here, not the ops' range rule)."""
    return a.fmt if a.fmt.frac <= b.fmt.frac else b.fmt

class Loss:
    name = "loss"
    classification = True
    fused_softmax = False   # the loss consumes logits of a model whose output is softmax

    def target_fmt(self, policy, out_fmt) -> Format:
        return q(policy.bounded)

    def loss_fmt(self, batch: int) -> Format:
        raise NotImplementedError

    def forward_backward(self, out, t, labels, policy):
        """(loss_sum, correct, d_out): d_out in policy.loss_grad."""
        raise NotImplementedError

    def value(self, out, t, labels, policy):
        """(loss_sum, correct) without the gradient (evaluation)."""
        raise NotImplementedError

    def get_config(self):
        return {"name": self.name}


def _correct(scores, labels):
    """Number of rows whose argmax equals the label: INT16 (batches hold < 32768 rows)."""
    hit = sp.equal(sp.argmax(scores, axis=-1), labels)
    return sp.sum(hit, fmt=INT16)


class CategoricalCrossentropy(Loss):
    """Softmax cross-entropy.  from_logits=True: the model outputs logits.  With a softmax
    output layer (Keras style, from_logits=False) the model hands this loss the logits under
    the softmax and the two are fused: the gradient is p - onehot, exact in q1.14, instead of
    a softmax Jacobian product of rounded terms.

    Loss per sample: logsumexp(z) - z_label, computed from the logits (log(p) of a rounded p
    would be -inf for every p that rounds to 0).  Integer labels and one-hot rows are both
    accepted by fit(); they are placed on the machine as one-hot q1.14 rows and int16 labels.
    """

    name = "categorical_crossentropy"

    def __init__(self, from_logits: bool = False):
        self.from_logits = bool(from_logits)

    def loss_fmt(self, batch):
        # A sample's loss is below logits range + ln(classes) < 64 in practice: the sum of a
        # batch fits q(frac_for(64 * batch)).
        from ..fixed import frac_for
        return q(frac_for(64.0 * max(1, batch)))

    def _loss_sum(self, z, t, batch):
        lse = sp.logsumexp(z, axis=-1, keepdims=True)
        nll = sp.subtract(lse, z, fmt=_coarser(lse, z))  # -log p for every class
        return sp.sum(sp.multiply(nll, t, fmt=_coarser(nll, t)), fmt=self.loss_fmt(batch))

    def forward_backward(self, z, t, labels, policy):
        p = sp.softmax(z, axis=-1, fmt=q(policy.bounded), rounding=policy.forward_rounding)
        dz = sp.subtract(p, t, fmt=q(policy.loss_grad), rounding=policy.backward_rounding)
        return self._loss_sum(z, t, z.shape[0]), _correct(z, labels), dz

    def value(self, z, t, labels, policy):
        return self._loss_sum(z, t, z.shape[0]), _correct(z, labels)

    def get_config(self):
        return {"name": self.name, "from_logits": self.from_logits}


class SparseCategoricalCrossentropy(CategoricalCrossentropy):
    """Same maths; the name Keras uses for integer labels (fit() accepts both anyway)."""

    name = "sparse_categorical_crossentropy"


class MeanSquaredError(Loss):
    """sum over the batch of mean over outputs of (out - t)^2; gradient 2 (out - t) / C.
    Accuracy (argmax of out against the label) is reported when targets are one-hot rows or
    integer labels."""

    name = "mean_squared_error"
    classification = False

    def target_fmt(self, policy, out_fmt):
        return out_fmt

    def loss_fmt(self, batch):
        from ..fixed import frac_for
        return q(frac_for(16.0 * max(1, batch)))

    def _loss_sum(self, out, e, policy):
        c = out.shape[-1]
        per = sp.sum(sp.square(e, fmt=e.fmt, rounding=policy.forward_rounding), axis=-1,
                     rounding=policy.forward_rounding)
        s = sp.sum(per, fmt=self.loss_fmt(out.shape[0]))
        return sp.multiply(s, 1.0 / c, fmt=s.fmt) if c > 1 else s

    def forward_backward(self, out, t, labels, policy):
        e = sp.subtract(out, t, fmt=out.fmt)
        c = out.shape[-1]
        d = sp.multiply(e, 2.0 / c, fmt=q(policy.loss_grad), rounding=policy.backward_rounding)
        return self._loss_sum(out, e, policy), _correct(out, labels), d

    def value(self, out, t, labels, policy):
        e = sp.subtract(out, t, fmt=out.fmt)
        return self._loss_sum(out, e, policy), _correct(out, labels)


_REGISTRY = {
    "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
    "softmax_cross_entropy": lambda: CategoricalCrossentropy(from_logits=True),
    "mean_squared_error": MeanSquaredError,
    "mse": MeanSquaredError,
}


def get(loss) -> Loss:
    if isinstance(loss, Loss):
        return loss
    if isinstance(loss, dict):
        cfg = dict(loss)
        name = cfg.pop("name")
        cls = {"categorical_crossentropy": CategoricalCrossentropy,
               "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
               "mean_squared_error": MeanSquaredError}[name]
        return cls(**cfg)
    if isinstance(loss, str) and loss.lower() in _REGISTRY:
        return _REGISTRY[loss.lower()]()
    raise ValueError(f"unknown loss {loss!r}; use one of {sorted(_REGISTRY)} or a Loss")


__all__ = ["Loss", "CategoricalCrossentropy", "SparseCategoricalCrossentropy",
           "MeanSquaredError", "get"]
