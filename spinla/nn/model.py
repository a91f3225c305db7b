"""Sequential: a stack of layers trained with whole training steps on the machine.

fit() traces ONE training step - forward pass, loss, backward pass and optimiser update -
with spinla.jit into one Program whose inputs are the training set, its targets and labels
(resident: converted to q15 and placed once per fit, on every chip), the row numbers of one
batch, the learning rate, the weights and the optimiser state, and whose outputs are the
batch's summed loss, its number of correct predictions and the new weights and state.  The
step gathers its batch from the resident set itself (nn.data.gather_rows), so no batch is
ever broadcast between chips; shuffling is the order of the rows, uploaded once per epoch
(nn.data.place_rows), each step's numbers a slice of it (a view, no data moves).  Per step
the host sends a learning-rate scalar and reads back two scalars.

After each step the new weights and state replace the old ones in ONE assignment, so an
interrupt (Ctrl-C) at any moment leaves the model with the weights of the last completed step;
fit then says where it stopped and re-raises KeyboardInterrupt.
"""
from __future__ import annotations

import json
import os
import sys
import time

import numpy as np

import spinla as sp

from .. import runtime, state
from .._io import atomic_write
from ..array import Array
from ..fixed import Format, q
from ..backends import upload
from . import data as nndata
from . import distortions as _distortions
from . import layers as L
from . import losses as nnlosses
from . import optimizers as nnopt
from .formats import DEFAULT_POLICY, FormatPolicy

SAVE_FORMAT = "spinla.nn/1"


class History(dict):
    """Per-epoch records of fit, Keras style: history["loss"][e], history["accuracy"][e],
    "val_loss", "val_accuracy", the modelled SpiNNaker "spinnaker_time_s" and
    "spinnaker_energy_j" of each epoch (spinla.cost of every Program run during it),
    "wall_time_s", "images_per_s", and "saturations" (op -> outputs clamped that epoch)."""

    def __init__(self):
        super().__init__()
        self.epoch = []
        self.params = {}
        self.stopped = None   # (epoch, batch) where an interrupt stopped fit

    @property
    def history(self):
        return self

    def append(self, key, value):
        self.setdefault(key, []).append(value)


class _CostMeter:
    """Run observer adding up the modelled cost of every Program run while it is attached."""

    def __init__(self):
        self.time_s = 0.0
        self.energy_j = 0.0

    def on_run(self, program):
        if all(c.kernel == "view" for c in program.calls):
            return
        from ..cost import cost_of
        c = cost_of(program)
        self.time_s += c.time_s
        self.energy_j += c.energy_j


class _Bar:
    """tqdm over batches (or other steps); its postfix is recomputed at most every 0.1 s
    (tqdm's own refresh interval), not every step, which would cost more than a small step."""

    def __init__(self, total, desc, enabled, unit="batch"):
        self.bar = None
        self.last = 0.0
        if enabled:
            try:
                from tqdm import tqdm
                self.bar = tqdm(total=total, desc=desc, unit=unit, leave=True,
                                dynamic_ncols=True, file=sys.stderr)
            except ImportError:  # pragma: no cover
                self.bar = None

    def update(self, n, postfix, force=False):
        if self.bar is None:
            return
        now = time.perf_counter()
        if force or now - self.last > 0.1:
            self.bar.set_postfix_str(postfix(), refresh=False)
            self.last = now
        self.bar.update(n)

    def close(self, postfix=None):
        if self.bar is not None:
            if postfix is not None:
                self.bar.set_postfix_str(postfix(), refresh=True)
            self.bar.close()


def _augmented(augment, X: Array, rng) -> Array:
    out = augment(X, rng)
    if not isinstance(out, Array) or out.shape != X.shape or out.fmt != X.fmt:
        raise TypeError(f"fit: augment must return an Array shaped {X.shape} in {X.fmt}, got "
                        f"{getattr(out, 'shape', type(out).__name__)} in "
                        f"{getattr(out, 'fmt', '?')}")
    return out


def _call(cb, name, *args):
    fn = getattr(cb, name, None)
    if fn is not None:
        fn(*args)


class Sequential:
    """A linear stack of spinla.nn layers (Keras-like)."""

    def __init__(self, layers=None, name: str = "sequential", policy: FormatPolicy = None,
                 seed: int = 0, input_shape=None):
        self.name = name
        self.layers = []
        self.policy = policy or DEFAULT_POLICY
        self.seed = int(seed)
        self._input_shape = None if input_shape is None else tuple(input_shape)
        self.optimizer = None
        self.loss = None
        self.input_bound = 1.0   # |input| bound for gradient sizing (pixels in [0, 1])
        self._ts = None          # (params, optimiser state, iterations): one atomic unit
        self._state_fmts = None
        self._eval_cache = {}
        self.built = False
        self.stop_training = False   # a callback sets it to end fit after this epoch (Keras)
        for layer in layers or []:
            self.add(layer)

    # --- construction ------------------------------------------------------------------
    def add(self, layer):
        if not isinstance(layer, L.Layer):
            raise TypeError(f"Sequential.add: expected a spinla.nn layer, got "
                            f"{type(layer).__name__}")
        if self.built:
            raise RuntimeError("Sequential.add: the model is already built")
        if layer.name is None:
            layer.name = f"{type(layer).__name__.lower()}_{len(self.layers)}"
        if not self.layers and self._input_shape is None and layer.input_shape is not None:
            self._input_shape = layer.input_shape
        self.layers.append(layer)

    @property
    def input_shape(self):
        return self._input_shape

    @property
    def output_shape(self):
        return self.layers[-1].out_shape if self.built else None

    def _configure(self):
        """Formats and softmax fusion of every layer (rerun by compile)."""
        weighted = [i for i, ly in enumerate(self.layers) if ly.trainable]
        last = self.layers[-1] if self.layers else None
        fused = (isinstance(self.loss, nnlosses.CategoricalCrossentropy)
                 and not self.loss.from_logits and last is not None
                 and getattr(last, "activation", None) is not None
                 and last.activation.name == "softmax")
        for ly in self.layers:
            if hasattr(ly, "fuse_softmax"):
                ly.fuse_softmax = False
            if hasattr(ly, "as_output"):
                ly.as_output = False
        if fused:
            last.fuse_softmax = True
        if weighted:
            self.layers[weighted[-1]].as_output = True
        self._fused = fused
        shape, fmt, bound = self._input_shape, q(self.policy.input), self.input_bound
        for ly in self.layers:
            shape = ly.build(shape, fmt, bound, self.policy)
            fmt, bound = ly.out_fmt, ly.out_bound
        self._has_params_before = []
        seen = False
        for ly in self.layers:
            self._has_params_before.append(seen)
            seen = seen or bool(ly.param_specs())
        self._eval_cache = {}

    def build(self, input_shape=None):
        """Fix shapes and formats and initialise the weights (seeded, on the host; they enter
        the machine once)."""
        if input_shape is not None:
            self._input_shape = tuple(int(s) for s in input_shape)
        if self._input_shape is None:
            raise ValueError(f"{self.name}: give the first layer an input_shape or call "
                             f"build(input_shape)")
        if not self.layers:
            raise ValueError(f"{self.name}: the model has no layers")
        self._configure()
        rng = np.random.default_rng(self.seed)
        params, self._slices = [], []
        for ly in self.layers:
            specs = ly.param_specs()
            self._slices.append((len(params), len(params) + len(specs)))
            for _, shape, init, fmt in specs:
                # Initial weights below half the weight format's LSB become 0 by design
                # (formats.py sizes the format for trained weights): counted, not warned.
                with sp.errstate(underflow="ignore"):
                    params.append(sp.asarray(init(shape, rng), fmt=fmt))
        self._ts = (params, None, 0)
        self.built = True
        return self

    def _require_built(self, x=None):
        """Build on first use; without an input shape, take it from the data (as Keras)."""
        if not self.built:
            if self._input_shape is None and x is not None and np.ndim(x) >= 2:
                self._input_shape = tuple(int(s) for s in np.shape(x)[1:])
            self.build()

    def compile(self, optimizer="adam", loss="categorical_crossentropy", policy=None):
        """Choose the optimiser (name, config dict or Optimizer), the loss and optionally a
        new format policy.  The optimiser's state starts afresh."""
        self.optimizer = nnopt.get(optimizer)
        self.loss = nnlosses.get(loss)
        if policy is not None:
            if not isinstance(policy, FormatPolicy):
                raise TypeError("compile: policy must be a spinla.nn.FormatPolicy")
            if self.built and policy.weight != self.policy.weight:
                params = [sp.astype(p, q(policy.weight), rounding="nearest")
                          for p in self._ts[0]]
                self._ts = (params, None, self._ts[2])
            self.policy = policy
        if self.built:
            self._configure()
            self._ts = (self._ts[0], None, 0)
        self._state_fmts = None
        self._grad_max = None
        return self

    def _require_compiled(self, what):
        if self.optimizer is None or self.loss is None:
            raise RuntimeError(f"{self.name}.{what}: call compile() first")

    # --- weights ---------------------------------------------------------------------------
    @property
    def params(self):
        return list(self._ts[0]) if self._ts else []

    @property
    def iterations(self):
        return self._ts[2] if self._ts else 0

    def count_params(self) -> int:
        self._require_built()
        return int(sum(p.size for p in self._ts[0]))

    def get_weights(self):
        """Weights as float64 NumPy arrays in Keras order and layouts (Dense kernel (in, out)
        then bias; Conv2D kernel (kh, kw, Cin, Cout) then bias)."""
        self._require_built()
        return [p.to_numpy() for p in self._ts[0]]

    def set_weights(self, weights):
        """Replace the weights (quantised to the weight format once; values beyond it
        saturate, counted).  The optimiser state is kept, as in Keras."""
        self._require_built()
        cur = self._ts[0]
        weights = list(weights)
        if len(weights) != len(cur):
            raise ValueError(f"set_weights: expected {len(cur)} arrays, got {len(weights)}")
        new = []
        for i, (w, p) in enumerate(zip(weights, cur)):
            w = np.asarray(w)
            if w.dtype.kind not in "biuf":
                raise TypeError(f"set_weights: array {i} has dtype {w.dtype}; weights must be "
                                f"real numbers (bool, integer or floating point)")
            w = w.astype(np.float64)
            if w.shape != p.shape:
                raise ValueError(f"set_weights: array {i} must have shape {p.shape}, got "
                                 f"{w.shape}")
            new.append(sp.asarray(w, fmt=p.fmt))
        self._ts = (new, self._ts[1], self._ts[2])

    # --- the traced passes -----------------------------------------------------------------
    def _forward(self, params, x, training):
        caches = []
        for ly, (a, b) in zip(self.layers, self._slices):
            x, c = ly.forward(params[a:b], x, training)
            caches.append(c)
        return x, caches

    def _backward(self, params, caches, d, gfmts):
        grads = [None] * len(params)
        for i in reversed(range(len(self.layers))):
            ly, (a, b) = self.layers[i], self._slices[i]
            need_dx = self._has_params_before[i]
            d, g = ly.backward(params[a:b], caches[i], d, need_dx, gfmts[a:b])
            grads[a:b] = g
            if not need_dx:
                break
        return grads

    def _grad_formats(self, batch):
        out = []
        for ly in self.layers:
            out += ly.grad_formats(batch)
        return out

    def _make_step(self, batch, gfmts, ks):
        """The traced training step for batches of `batch` rows, and its lr exponent."""
        opt, loss, policy = self.optimizer, self.loss, self.policy
        lr_exp = opt.lr_exponent(batch)
        n_p = len(self._ts[0])

        def train_step(xs, ts, labs, rows, lr, *flat):
            x, t, lab = (nndata.gather_rows(a, rows) for a in (xs, ts, labs))
            params = list(flat[:n_p])
            states, i = [], n_p
            for k in ks:
                states.append(list(flat[i:i + k]))
                i += k
            out, caches = self._forward(params, x, True)
            loss_sum, correct, d = loss.forward_backward(out, t, lab, policy)
            grads = self._backward(params, caches, d, gfmts)
            new_p, new_s = opt.apply(params, grads, states, lr, policy, lr_exp=lr_exp,
                                     batch=batch)
            return [loss_sum, correct, *new_p, *[a for s in new_s for a in s]]

        # The set, its targets and labels and the epoch's order are resident on every chip;
        # the row numbers hold one row per sample: a data-parallel placement splits them.
        return sp.jit(train_step, name=f"{self.name}_train_step", batch_args=(3,),
                      resident_args=(0, 1, 2, 3)), lr_exp

    def _grad_maxima(self, X, T, Lb, batch, gfmts):
        """Largest |gradient| of each weight tensor on the first batch (one probe Program;
        the reductions run on the machine, one scalar per tensor comes back)."""
        b = min(batch, X.shape[0])

        def calibrate(x, t, lab, *params):
            out, caches = self._forward(list(params), x, True)
            _, _, d = self.loss.forward_backward(out, t, lab, self.policy)
            grads = self._backward(list(params), caches, d, gfmts)
            return [sp.max(sp.abs(g)) for g in grads]
        res = sp.jit(calibrate, name=f"{self.name}_calibrate")(X[:b], T[:b], Lb[:b],
                                                               *self._ts[0])
        return [float(r) for r in res]

    def _ensure_state(self, batch, placed):
        """Optimiser state in the formats of this fit's gradients: created as zeros on first
        use (Adam's moment formats calibrated on the first batch, see formats.py); converted
        on the machine if a new batch size changed the gradient formats."""
        gfmts = self._grad_formats(batch)
        params, state, it = self._ts
        if state is None and self.optimizer.needs_calibration:
            self._grad_max = self._grad_maxima(*placed, batch, gfmts)
        gmax = getattr(self, "_grad_max", None) or [None] * len(params)
        fmts = [self.optimizer.state_formats(p.fmt, g, self.policy, m)
                for p, g, m in zip(params, gfmts, gmax)]
        if state is None:
            state = [[sp.zeros(p.shape, fmt=f) for f in fs] for p, fs in zip(params, fmts)]
        else:
            # Keep the state's formats unless the gradients' became finer than them (the
            # moments must be at least as fine as the gradient): then convert on the machine.
            fmts = [[a.fmt if a.fmt.frac >= g.frac else f for a, f in zip(st, fs)]
                    for st, fs, g in zip(state, fmts, gfmts)]
            state = [[a if a.fmt == f else sp.astype(a, f, rounding=self.policy.update_rounding)
                      for a, f in zip(st, fs)] for st, fs in zip(state, fmts)]
        self._ts = (params, state, it)
        self._state_fmts = fmts
        return gfmts

    # --- data ------------------------------------------------------------------------------
    def _classes(self):
        return int(np.prod(self.layers[-1].out_shape))

    def _conform(self, x, y, what=""):
        xa = nndata.conform_x(x, self._input_shape, what=f"{what}x")
        if y is None:
            return xa, None, None
        t, lab = nndata.conform_y(y, len(xa), self._classes(), self.loss.classification,
                                  what=f"{what}y")
        return xa, t, lab

    def _scale(self, xa, input_scale, what=""):
        return nndata.input_scale_for(xa, input_scale, q(self.policy.input), f"{what}x")

    def _place(self, xa, t, lab, scale=None):
        X = nndata.place_x(xa, q(self.policy.input), scale)
        if lab is None:
            return X, None, None
        out_fmt = self.layers[-1].out_fmt
        T, Lb = nndata.place_y(t, lab, self._classes(), self.loss.target_fmt(self.policy,
                                                                            out_fmt))
        return (X, T, Lb)

    # --- training --------------------------------------------------------------------------
    def fit(self, x, y, epochs: int = 1, batch_size: int = 32, validation_data=None,
            shuffle: bool = True, seed: int | None = None, verbose: int = 1, callbacks=None,
            augment=None, input_scale=None, spinnaker_cost: bool = True):
        """Train; returns a History.  Inputs are checked before anything runs: sample shape,
        NaN/inf, label range, batch size.  seed makes shuffling and stochastic rounding
        reproducible.  verbose: 0 silent, 1 progress bar, 2 one line per epoch.  callbacks:
        objects with optional set_model(model), on_epoch_begin(epoch, logs),
        on_batch_end(step, logs) and on_epoch_end(epoch, logs), as in Keras (e.g.
        spinla.nn.LearningRateScheduler).  augment: a callable (placed training set, numpy
        Generator) -> Array of the same shape and format, run on the machine at the start of
        every epoch, e.g. spinla.nn.Distortions(); True means Distortions() with its
        defaults.  input_scale: the factor inputs are multiplied by (default 1/255 for uint8
        pixels, 1 for other data, which must then lie within the input format's range, else
        a ValueError asks for input_scale); recorded in history.params["input_scale"].
        spinnaker_cost: price every step on the cost model (spinla.cost) and report the
        modelled SpiNNaker time and energy in the progress bar, the batch logs and the history;
        False trains without it (placing each traced step for the model takes about a second
        per fit), and the history's spinnaker_time_s / spinnaker_energy_j are then None."""
        if not isinstance(spinnaker_cost, (bool, np.bool_)):
            raise TypeError(f"fit: spinnaker_cost must be True or False, got {spinnaker_cost!r}")
        # Its own scope (spinla/state.py): a seed stream of its own when seed is given, its
        # own counters (added to the caller's afterwards) and its own cost observer, so fits
        # in two threads neither share seeds nor price each other's Programs.
        with state.scope(seed=seed):
            return self._fit(x, y, epochs, batch_size, validation_data, shuffle, seed,
                             verbose, callbacks, augment, input_scale, bool(spinnaker_cost))

    def _fit(self, x, y, epochs, batch_size, validation_data, shuffle, seed, verbose,
             callbacks, augment, input_scale, spinnaker_cost=True):
        self._require_compiled("fit")
        self._require_built(x)
        batch = nndata.check_batch_size(batch_size)
        if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 0:
            raise ValueError(f"fit: epochs must be a non-negative integer, got {epochs!r}")
        xa, t, lab = self._conform(x, y)
        scale = self._scale(xa, input_scale)
        val = None
        if validation_data is not None:
            if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
                raise ValueError("fit: validation_data must be a pair (x_val, y_val)")
            val = self._conform(*validation_data, what="validation ")
            vscale = self._scale(val[0], input_scale, "validation ")
        n = len(xa)
        callbacks = list(callbacks or [])
        if augment is None or isinstance(augment, (bool, dict)):
            augment = _distortions.get(augment)
        if augment is not None and not callable(augment):
            raise TypeError(f"fit: augment must be callable (X, rng) -> Array, got {augment!r}")

        for cb in callbacks:
            _call(cb, "set_model", self)
        stats_placing = sp.stats()   # epoch 0's saturations include placing the data
        X, T, Lb = self._place(xa, t, lab, scale)
        Vp = self._place(*val, vscale) if val is not None else None
        rng = np.random.default_rng(seed)
        gfmts = self._ensure_state(batch, (X, T, Lb))
        ks = [len(s) for s in self._ts[1]]
        steps = {}
        hist = History()
        hist.params = dict(epochs=epochs, batch_size=batch, samples=n, steps=-(-n // batch),
                           input_scale=scale)
        nb = -(-n // batch)
        classify = bool(np.any(lab >= 0))
        meter = _CostMeter() if spinnaker_cost else None
        if meter is not None:
            runtime.add_observer(meter)

        def modelled_t():
            return None if meter is None else meter.time_s

        def modelled_e():
            return None if meter is None else meter.energy_j
        epoch, i, bar = 0, 0, None
        self.stop_training = False
        try:
            for epoch in range(epochs):
                stats0 = stats_placing if epoch == 0 else sp.stats()
                if meter is not None:
                    meter.time_s = meter.energy_j = 0.0
                for cb in callbacks:
                    _call(cb, "on_epoch_begin", epoch, {})
                Xa = X if augment is None else _augmented(augment, X, rng)
                order = nndata.place_rows(rng.permutation(n) if shuffle else np.arange(n), n)
                run_loss, run_correct, seen = 0.0, 0, 0
                t0 = time.perf_counter()

                def postfix():
                    el = max(1e-9, time.perf_counter() - t0)
                    acc = f" acc {run_correct / max(1, seen):.4f}" if classify else ""
                    spinn = (f" SpiNN {meter.time_s:.3g} s {meter.energy_j:.3g} J"
                             if meter is not None else "")
                    return f"loss {run_loss / max(1, seen):.4f}{acc} {seen / el:,.0f} img/s{spinn}"

                bar = _Bar(nb, f"epoch {epoch + 1}/{epochs}", verbose == 1)
                for i in range(nb):
                    i0, i1 = i * batch, min(n, (i + 1) * batch)
                    b = i1 - i0
                    if b not in steps:
                        steps[b] = self._make_step(b, gfmts, ks)
                    step, lr_exp = steps[b]
                    params, state, it = self._ts
                    lr = self.optimizer.step_lr(it + 1, b, lr_exp)
                    outs = step(Xa, T, Lb, order[i0:i1], lr, *params,
                                *[a for s in state for a in s])
                    new_p = outs[2:2 + len(params)]
                    flat, new_s = outs[2 + len(params):], []
                    for k in ks:
                        new_s.append(flat[:k])
                        flat = flat[k:]
                    self._ts = (new_p, new_s, it + 1)          # the atomic swap
                    self.optimizer.iterations = it + 1
                    run_loss += float(outs[0])
                    run_correct += int(outs[1])
                    seen += b
                    for cb in callbacks:
                        # correct and the modelled cost so far: what a Keras-like progress
                        # bar shows (spinla.keras drives Keras's own from these logs).
                        _call(cb, "on_batch_end", it + 1, {
                            "loss": float(outs[0]) / b, "batch": i, "size": b,
                            "correct": int(outs[1]), "spinnaker_time_s": modelled_t(),
                            "spinnaker_energy_j": modelled_e()})
                    bar.update(1, postfix)
                wall = time.perf_counter() - t0
                bar.close(postfix)
                hist.epoch.append(epoch)
                hist.append("loss", run_loss / seen)
                hist.append("accuracy", run_correct / seen if classify else None)
                hist.append("spinnaker_time_s", modelled_t())
                hist.append("spinnaker_energy_j", modelled_e())
                hist.append("wall_time_s", wall)
                hist.append("images_per_s", seen / wall if wall > 0 else float("inf"))
                if Vp is not None:
                    vl, va = self._evaluate_placed(*Vp, batch_size=max(batch, 256))
                    hist.append("val_loss", vl)
                    hist.append("val_accuracy", va)
                s1 = sp.stats()
                hist.append("saturations", {k: v - stats0.saturated.get(k, 0)
                                            for k, v in s1.saturated.items()
                                            if v - stats0.saturated.get(k, 0)})
                logs = {k: v[-1] for k, v in hist.items() if isinstance(v, list)}
                if verbose == 2:
                    extra = (f" - val_loss {logs['val_loss']:.4f} - val_accuracy "
                             f"{logs['val_accuracy']:.4f}" if Vp is not None else "")
                    acc = f" - accuracy {logs['accuracy']:.4f}" if classify else ""
                    spinn = (f" - SpiNNaker {meter.time_s:.3g} s {meter.energy_j:.3g} J"
                             if meter is not None else "")
                    print(f"epoch {epoch + 1}/{epochs} - {wall:.1f} s - loss "
                          f"{logs['loss']:.4f}{acc}{extra}{spinn}", file=sys.stderr)
                for cb in callbacks:
                    _call(cb, "on_epoch_end", epoch, logs)
                if self.stop_training:     # set by a callback (Keras's EarlyStopping)
                    break
        except KeyboardInterrupt:
            if bar is not None:
                bar.close()
            hist.stopped = (epoch, i)
            print(f"\n{self.name}.fit interrupted in epoch {epoch + 1}/{epochs} at batch "
                  f"{i + 1}/{nb}: the model keeps the weights of its last completed step "
                  f"(step {self.iterations})", file=sys.stderr)
            raise
        finally:
            if meter is not None:
                runtime.remove_observer(meter)
        self.history = hist
        return hist

    # --- inference -------------------------------------------------------------------------
    def _eval_fn(self, kind):
        fn = self._eval_cache.get(kind)
        if fn is not None:
            return fn
        loss, policy = self.loss, self.policy

        if kind == "evaluate":
            def evaluate_step(x, t, lab, *params):
                out, _ = self._forward(list(params), x, False)
                return list(loss.value(out, t, lab, policy))
            fn = sp.jit(evaluate_step, name=f"{self.name}_evaluate")
        else:
            def predict_step(x, *params):
                out, _ = self._forward(list(params), x, False)
                if self._fused:
                    out = sp.softmax(out, axis=-1, fmt=q(policy.bounded))
                return out
            fn = sp.jit(predict_step, name=f"{self.name}_predict")
        self._eval_cache[kind] = fn
        return fn

    def _evaluate_placed(self, X, T, Lb, batch_size):
        fn = self._eval_fn("evaluate")
        n = X.shape[0]
        tot, cor = 0.0, 0
        params = self._ts[0]
        for i0 in range(0, n, batch_size):
            i1 = min(n, i0 + batch_size)
            ls, c = fn(X[i0:i1], T[i0:i1], Lb[i0:i1], *params)
            tot += float(ls)
            cor += int(c)
        classify = bool(np.any(Lb.raw >= 0))
        return tot / n, (cor / n if classify else None)

    def evaluate(self, x, y, batch_size: int = 256, verbose: int = 0, input_scale=None):
        """(mean loss, accuracy) over (x, y); accuracy is None without class labels.
        input_scale: as in fit."""
        self._require_compiled("evaluate")
        self._require_built(x)
        batch = nndata.check_batch_size(batch_size)
        xa, t, lab = self._conform(x, y)
        scale = self._scale(xa, input_scale)
        return self._evaluate_placed(*self._place(xa, t, lab, scale), batch_size=batch)

    def predict(self, x, batch_size: int = 256, verbose: int = 0, input_scale=None
                ) -> np.ndarray:
        """Model outputs as float64 (class probabilities for a softmax output).
        input_scale: as in fit (uint8 pixels 1/255 by default; other data out of the input
        format's range is refused, naming input_scale)."""
        self._require_built(x)
        batch = nndata.check_batch_size(batch_size)
        xa = nndata.conform_x(x, self._input_shape)
        X = nndata.place_x(xa, q(self.policy.input), self._scale(xa, input_scale))
        return self._predict_placed(X, batch).to_numpy()

    def _predict_placed(self, X, batch) -> Array:
        """Outputs of the whole set as one Array on the machine."""
        fn = self._eval_fn("predict")
        n = X.shape[0]
        parts = [fn(X[i0:min(n, i0 + batch)], *self._ts[0]) for i0 in range(0, n, batch)]
        return parts[0] if len(parts) == 1 else sp.concat(parts, axis=0)

    # --- description -----------------------------------------------------------------------
    def summary(self, print_fn=print):
        self._require_built()
        rows = [f"Model {self.name!r} (input {self._input_shape}, inputs "
                f"{q(self.policy.input).name})",
                f"{'layer':<22s}{'output':<18s}{'format':<9s}{'params':>9s}"]
        for ly, (a, b) in zip(self.layers, self._slices):
            npar = sum(p.size for p in self._ts[0][a:b])
            rows.append(f"{ly.name + ' (' + type(ly).__name__ + ')':<22s}"
                        f"{str(ly.out_shape):<18s}{ly.out_fmt.name:<9s}{npar:>9d}")
        rows.append(f"total params: {self.count_params()}")
        print_fn("\n".join(rows))

    def get_config(self) -> dict:
        return {"name": self.name, "seed": self.seed, "input_shape": list(self._input_shape),
                "policy": self.policy.to_dict(), "input_bound": self.input_bound,
                "layers": [ly.get_config() for ly in self.layers]}

    # --- files -----------------------------------------------------------------------------
    def save(self, path):
        """One .npz file: the raw q15 weights and optimiser state (bit-exact) and a JSON
        config entry.  Written to a temporary file in the same folder and renamed over `path`,
        so a crash never leaves a half-written file."""
        self._require_built()
        path = os.fspath(path)
        params, state, it = self._ts
        cfg = {"format": SAVE_FORMAT, "model": self.get_config(), "iterations": it,
               "optimizer": None if self.optimizer is None else self.optimizer.get_config(),
               "loss": None if self.loss is None else self.loss.get_config(),
               "weights": [[list(p.shape), p.fmt.frac] for p in params],
               "state": None if state is None else [[[list(a.shape), a.fmt.frac] for a in s]
                                                    for s in state]}
        arrays = {f"w{i}": p.raw for i, p in enumerate(params)}
        if state is not None:
            for i, s in enumerate(state):
                for k, a in enumerate(s):
                    arrays[f"s{i}_{k}"] = a.raw
        arrays["config"] = np.frombuffer(json.dumps(cfg).encode("utf-8"), dtype=np.uint8)
        with atomic_write(path) as f:
            np.savez(f, **arrays)

    @classmethod
    def load(cls, path) -> "Sequential":
        return load_model(path)


class ModelFileError(ValueError):
    """A model file that cannot be loaded: damaged, not a spinla.nn file, or inconsistent.
    The message names the file and the entry at fault."""


def _read_model_file(path: str):
    """(config dict, raw int16 arrays by entry name); every failure is a ModelFileError."""
    import zipfile
    entry = "config"
    try:
        f = np.load(path, allow_pickle=False)
        if not hasattr(f, "files"):
            raise ModelFileError(f"{path}: not a spinla.nn model file (a bare .npy array, "
                                 f"no entries)")
        with f:
            if "config" not in f.files:
                raise ModelFileError(f"{path}: entry 'config' is missing (not a spinla.nn "
                                     f"model file)")
            cfg = json.loads(bytes(f["config"]).decode("utf-8"))
            raw = {}
            for entry in f.files:
                if entry != "config":
                    raw[entry] = f[entry]
    except ModelFileError:
        raise
    except FileNotFoundError as e:
        raise ModelFileError(f"{path}: no such file") from e
    except (OSError, EOFError, zipfile.BadZipFile, ValueError, KeyError,
            UnicodeDecodeError) as e:
        raise ModelFileError(f"{path}: entry {entry!r} cannot be read ({type(e).__name__}: "
                             f"{e})") from e
    if not isinstance(cfg, dict) or cfg.get("format") != SAVE_FORMAT:
        raise ModelFileError(f"{path}: entry 'config' is not a {SAVE_FORMAT} configuration")
    return cfg, raw


def load_model(path) -> Sequential:
    """A model saved by Sequential.save, weights and optimiser state restored bit for bit.

    Any failure - a damaged or truncated file, a missing entry, a configuration the stored
    weights disagree with - raises ModelFileError naming the file and the entry."""
    path = os.fspath(path)
    cfg, raw = _read_model_file(path)
    try:
        mc = cfg["model"]
        model = Sequential([L.from_config(c) for c in mc["layers"]], name=mc["name"],
                           policy=FormatPolicy.from_dict(mc["policy"]), seed=mc["seed"],
                           input_shape=mc["input_shape"])
        model.input_bound = mc.get("input_bound", 1.0)
        if cfg["optimizer"] is not None:
            model.compile(optimizer=cfg["optimizer"], loss=cfg["loss"])
        model.build()
        weights, states, iterations = cfg["weights"], cfg["state"], int(cfg["iterations"])
    except ModelFileError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise ModelFileError(f"{path}: entry 'config' describes no valid model "
                             f"({type(e).__name__}: {e})") from e

    built = model._ts[0]
    if len(weights) != len(built):
        raise ModelFileError(f"{path}: entry 'config' lists {len(weights)} weight arrays, its "
                             f"layers have {len(built)}")

    def arr(key, shape, frac, want_shape=None):
        a = raw.get(key)
        if a is None:
            raise ModelFileError(f"{path}: entry {key!r} is missing")
        if want_shape is not None and tuple(shape) != tuple(want_shape):
            raise ModelFileError(f"{path}: entry {key!r}: the configuration's layers need "
                                 f"shape {tuple(want_shape)}, the file records {tuple(shape)}")
        if a.shape != tuple(shape) or a.dtype != np.int16:
            raise ModelFileError(f"{path}: entry {key!r} has shape {a.shape} and dtype "
                                 f"{a.dtype}, expected {tuple(shape)} int16")
        try:
            f = Format(frac)
        except (ValueError, TypeError) as e:
            raise ModelFileError(f"{path}: entry {key!r}: bad format {frac!r}") from e
        return Array(upload(np.ascontiguousarray(a), f, kind="model"))
    params = [arr(f"w{i}", s, fr, p.shape) for i, ((s, fr), p) in enumerate(zip(weights, built))]
    state = None
    if states is not None:
        state = [[arr(f"s{i}_{k}", s, fr, params[i].shape) for k, (s, fr) in enumerate(st)]
                 for i, st in enumerate(states)]
        model._state_fmts = [[a.fmt for a in s] for s in state]
    model._ts = (params, state, iterations)
    if model.optimizer is not None:
        model.optimizer.iterations = iterations
    return model


__all__ = ["Sequential", "History", "load_model", "ModelFileError"]
