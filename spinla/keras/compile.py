"""A compiled Keras model's optimiser, loss and metrics, translated into spinla.nn's.

Read from model.get_compile_config() and model.optimizer (../shared/keras-facts.md).  What
each Keras definition becomes, and why it is the same maths:

* Losses.  Keras reduces with 'sum_over_batch_size': the loss of a batch is the MEAN of its
  samples' losses, and the gradient is that of the mean.  spinla.nn's traced step computes the
  SUM and its gradient (finer fixed-point deltas, spinla/nn/formats.py) and folds 1/batch into
  the optimiser: SGD uses lr / batch, Adam is invariant to the gradient's scale except for
  epsilon, which it multiplies by the batch.  The reported loss is the sum / batch, a mean.
  Keras's crossentropy on a softmax output (from_logits=False) is computed by spinla from the
  logits under the softmax (fused), exact where Keras clips probabilities at 1e-7.
* SGD.  Keras: v = momentum v - lr g; w += v (g the mean gradient).  spinla's SGD kernel is
  this formulation with g the batch sum and lr / batch.  nesterov=True has no spinla kernel
  and is refused.
* Adam.  Keras: alpha_t = lr sqrt(1 - beta_2^t) / (1 - beta_1^t); m, v of the mean gradient;
  w -= alpha_t m / (sqrt(v) + eps), eps added to sqrt(v) uncorrected.  spinla's Adam keeps
  m and r = sqrt(v) of the SUMMED gradient and passes eps * batch: m_sum / (r_sum + eps B) =
  m / (sqrt(v) + eps), the same step.  Fixed point adds one limit: eps is at least one LSB of
  r (spinla/kernels/optim.py), a floor in mean-gradient units of 2^-frac(r) / batch.
* Learning-rate schedules (keras.optimizers.schedules): evaluated on the host for every step
  (spinla's learning rate is a per-step host scalar), at Keras's step count (iterations
  before the update).
* Metric 'accuracy' (and 'acc', 'sparse_categorical_accuracy', 'categorical_accuracy'):
  argmax of the output against the label, which spinla counts on the machine.
"""
from __future__ import annotations

import numpy as np

from ..nn import losses as nnlosses
from ..nn import optimizers as nnopt
from .errors import UnsupportedError, describe

# Settings every Keras 3 optimizer has, that spinla's fused update kernels do not perform:
# each must be off.
_OPTIMIZER_OFF = ("weight_decay", "clipnorm", "clipvalue", "global_clipnorm",
                  "loss_scale_factor", "gradient_accumulation_steps", "ema_overwrite_frequency")

# Keras schedules that are pure functions of the step (spinla evaluates them per step).
SCHEDULES = ("ExponentialDecay", "PiecewiseConstantDecay", "PolynomialDecay",
             "InverseTimeDecay", "CosineDecay", "CosineDecayRestarts")

# Loss name (string, function or class) -> (kind of labels it wants, spinla loss class).
LOSSES = {
    "sparse_categorical_crossentropy": ("sparse", nnlosses.SparseCategoricalCrossentropy),
    "SparseCategoricalCrossentropy": ("sparse", nnlosses.SparseCategoricalCrossentropy),
    "categorical_crossentropy": ("categorical", nnlosses.CategoricalCrossentropy),
    "CategoricalCrossentropy": ("categorical", nnlosses.CategoricalCrossentropy),
    "mean_squared_error": ("regression", nnlosses.MeanSquaredError),
    "mse": ("regression", nnlosses.MeanSquaredError),
    "MeanSquaredError": ("regression", nnlosses.MeanSquaredError),
}

# Metric name or class -> the kind of labels it reads ("auto": chosen by the loss, as Keras).
METRICS = {"accuracy": "auto", "acc": "auto",
           "sparse_categorical_accuracy": "sparse", "SparseCategoricalAccuracy": "sparse",
           "categorical_accuracy": "categorical", "CategoricalAccuracy": "categorical"}


class _Schedule:
    """A Keras LearningRateSchedule evaluated on the host, a block of steps at a time (one
    Keras call per 4096 steps instead of one per step)."""

    BLOCK = 4096
    HORIZON = 200_000   # steps scanned for the largest rate (the traced range must hold it)

    def __init__(self, schedule):
        self.schedule = schedule
        self.name = type(schedule).__name__
        self._block, self._values = -1, None
        self.max = max(float(np.max(self._eval(np.arange(0, self.HORIZON, 7)))),
                       float(self._eval(np.arange(1))[0]))

    def _eval(self, steps):
        from keras import ops
        return np.asarray(ops.convert_to_numpy(self.schedule(steps)), dtype=np.float64)

    def __call__(self, step: int) -> float:
        b = step // self.BLOCK
        if b != self._block:
            self._values = self._eval(np.arange(b * self.BLOCK, (b + 1) * self.BLOCK))
            self._block = b
        return float(self._values[step - b * self.BLOCK])


def _scheduled(cls):
    """spinla optimiser class `cls` with its learning rate taken from a schedule per step."""
    class Scheduled(cls):
        def __init__(self, schedule: _Schedule, **kw):
            super().__init__(learning_rate=schedule.max, **kw)
            self.schedule = schedule

        def _lr_at(self, t, batch):
            self.learning_rate = self.schedule(t - 1)   # Keras: iterations before the step
            return super()._lr_at(t, batch)

        def _lr_max(self, batch):
            keep, self.learning_rate = self.learning_rate, self.schedule.max
            try:
                return super()._lr_max(batch)
            finally:
                self.learning_rate = keep
    Scheduled.__name__ = f"Scheduled{cls.__name__}"
    return Scheduled


def translate_optimizer(opt):
    """A spinla.nn optimiser equivalent to the Keras optimizer object `opt`."""
    cls = type(opt).__name__
    cfg = opt.get_config()
    where = f"keras2spinnaker: optimizer {cls}"
    if cls not in ("Adam", "SGD") or not type(opt).__module__.startswith("keras"):
        raise UnsupportedError(f"{where} is not supported (supported: SGD, Adam; config "
                               f"{describe(cfg)})")
    for k in _OPTIMIZER_OFF:
        if cfg.get(k) not in (None, 0, 0.0):
            raise UnsupportedError(f"{where}: {k}={cfg[k]!r} is not supported (config "
                                   f"{describe(cfg)})")
    if cfg.get("use_ema"):
        raise UnsupportedError(f"{where}: use_ema=True is not supported (config "
                               f"{describe(cfg)})")
    if cls == "Adam" and cfg.get("amsgrad"):
        raise UnsupportedError(f"{where}: amsgrad=True is not supported (config "
                               f"{describe(cfg)})")
    if cls == "SGD" and cfg.get("nesterov"):
        raise UnsupportedError(f"{where}: nesterov=True is not supported (spinla's SGD kernel "
                               f"has Keras's plain momentum only; config {describe(cfg)})")
    kw = ({"beta_1": float(cfg["beta_1"]), "beta_2": float(cfg["beta_2"]),
           "epsilon": float(cfg["epsilon"])} if cls == "Adam"
          else {"momentum": float(cfg.get("momentum", 0.0))})
    base = nnopt.Adam if cls == "Adam" else nnopt.SGD
    lr = getattr(opt, "_learning_rate", None)
    if lr is not None and hasattr(lr, "get_config") and not hasattr(lr, "path"):
        sname = type(lr).__name__
        if sname not in SCHEDULES or not type(lr).__module__.startswith("keras"):
            raise UnsupportedError(f"{where}: learning-rate schedule {sname} is not supported "
                                   f"(supported: {', '.join(SCHEDULES)}; config "
                                   f"{describe(lr.get_config())})")
        return _scheduled(base)(_Schedule(lr), **kw)
    return base(learning_rate=float(cfg["learning_rate"]), **kw)


def keras_learning_rate(opt):
    """The Keras optimizer's current learning rate as a float, or None under a schedule."""
    lr = getattr(opt, "_learning_rate", None)
    if lr is not None and hasattr(lr, "get_config") and not hasattr(lr, "path"):
        return None
    from keras import ops
    return float(ops.convert_to_numpy(opt.learning_rate))


def _name_and_config(obj, what):
    """(name, config) of a serialised loss or metric: a string, a function or an object."""
    if isinstance(obj, str):
        return obj, {}
    if isinstance(obj, dict) and "class_name" in obj:
        if obj["class_name"] == "function":
            return obj["config"], {}
        return obj["class_name"], dict(obj.get("config") or {})
    raise UnsupportedError(f"keras2spinnaker: {what} {obj!r} is not supported")


def translate_loss(loss):
    """(label kind 'sparse'|'categorical'|'regression', spinla loss, Keras name)."""
    if loss is None:
        raise ValueError("keras2spinnaker: the Keras model has no loss: compile() it with one")
    if isinstance(loss, (list, tuple, dict)) and not (isinstance(loss, dict)
                                                       and "class_name" in loss):
        raise UnsupportedError(f"keras2spinnaker: one loss per model only (a single-output "
                               f"model), got {loss!r}")
    name, cfg = _name_and_config(loss, "loss")
    if name not in LOSSES:
        raise UnsupportedError(f"keras2spinnaker: loss {name!r} is not supported (supported: "
                               f"sparse_categorical_crossentropy, categorical_crossentropy, "
                               f"mean_squared_error; config {describe(cfg)})")
    for k, ok in (("reduction", ("sum_over_batch_size", None)), ("label_smoothing", (0, 0.0)),
                  ("axis", (-1,)), ("ignore_class", (None,))):
        if k in cfg and cfg[k] not in ok:
            raise UnsupportedError(f"keras2spinnaker: loss {name}: {k}={cfg[k]!r} is not "
                                   f"supported (config {describe(cfg)})")
    kind, cls = LOSSES[name]
    spl = cls() if kind == "regression" else cls(from_logits=bool(cfg.get("from_logits",
                                                                          False)))
    return kind, spl, name


def translate_metrics(metrics, weighted_metrics, loss_kind):
    """[(history key, label kind)] of the compiled metrics."""
    if weighted_metrics:
        raise UnsupportedError(f"keras2spinnaker: weighted_metrics {weighted_metrics!r} are not "
                               f"supported (no sample weights)")
    if metrics is None:
        return []
    if isinstance(metrics, dict):
        raise UnsupportedError(f"keras2spinnaker: metrics per output {metrics!r} are not "
                               f"supported (single-output models)")
    flat = []
    for m in metrics:
        flat.extend(m if isinstance(m, (list, tuple)) else [m])
    out = []
    for m in flat:
        name, cfg = _name_and_config(m, "metric")
        if name not in METRICS:
            raise UnsupportedError(f"keras2spinnaker: metric {name!r} is not supported "
                                   f"(supported: {', '.join(METRICS)}; config {describe(cfg)})")
        kind = METRICS[name]
        key = cfg.get("name", name)
        if kind == "auto":
            kind = "sparse" if loss_kind == "sparse" else "categorical"
        out.append((key, kind))
    return out


def check_compile_config(cc: dict):
    if cc.get("loss_weights") not in (None, [], {}):
        raise UnsupportedError(f"keras2spinnaker: loss_weights={cc['loss_weights']!r} is not "
                               f"supported")


__all__ = ["translate_optimizer", "translate_loss", "translate_metrics", "keras_learning_rate",
           "check_compile_config", "LOSSES", "METRICS", "SCHEDULES"]
