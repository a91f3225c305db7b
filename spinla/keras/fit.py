"""k2s.fit: Keras's Model.fit, run as spinla.nn training on the emulated SpiNNaker.

Arguments, History and callbacks are Keras's: the Keras callbacks (EarlyStopping, CSVLogger,
LearningRateScheduler, ModelCheckpoint, ...) and Keras's own progress bar are driven through a
keras.callbacks.CallbackList from spinla's fit loop (callbacks.py), and the returned object is
a keras.callbacks.History.

Nothing lost: the Keras model's weights are copied before anything runs; trained weights are
written back (dequantised, float32) at the end of every epoch, so that ModelCheckpoint saves
that epoch's weights and Keras's evaluate/predict use them; if fit fails or is interrupted
(KeyboardInterrupt), the copy is put back, so the Keras model keeps exactly the weights it
had before fit, bit for bit, and the exception propagates.
"""
from __future__ import annotations

import math
import numbers
import sys

import numpy as np

from .. import machine as _machine
from .backend import import_keras
from .callbacks import KerasBridge
from .compile import keras_learning_rate
from .convert import conversion_of
from .errors import UnsupportedError

# Keras Model.fit arguments spinla does not take: refused by name (others are not Keras's).
KERAS_ONLY = ("class_weight", "sample_weight", "steps_per_epoch", "validation_steps",
              "validation_batch_size", "validation_freq")
BACKENDS = ("emulator", "spinnaker")


def _as_array(a, what):
    if a is None:
        raise ValueError(f"k2s.fit: {what} is required (NumPy arrays; datasets and generators "
                         f"are not supported)")
    if hasattr(a, "__array__") or isinstance(a, (list, tuple)):
        a = np.asarray(a)
    if not isinstance(a, np.ndarray) or a.dtype.kind not in "biuf":
        raise TypeError(f"k2s.fit: {what} must be a numeric NumPy array, got "
                        f"{type(a).__name__}")
    return a


def _x(a, what, conv):
    """x as the floats Keras would see (Keras casts integers to float32, no scaling: spinla's
    own uint8 / 255 convention must not apply), in the range the spinla input format holds."""
    if a.dtype.kind in "biu":
        a = a.astype(np.float32)
    net = conv.spinla
    want = tuple(net.input_shape)
    if a.ndim < 1 or tuple(a.shape[1:]) != want:
        raise ValueError(f"k2s.fit: {what} has shape {a.shape}; the Keras model's input is "
                         f"(None, {', '.join(map(str, want))})")
    bad = ~np.isfinite(a)
    if bad.any():
        raise ValueError(f"k2s.fit: {what} contains NaN or infinity ({int(bad.sum())} of "
                         f"{a.size} values, first at sample {int(np.argwhere(bad)[0][0])})")
    fmt = net.layers[0].in_fmt
    lo, hi = float(a.min(initial=0.0)), float(a.max(initial=0.0))
    if lo < fmt.min or hi > fmt.max:
        raise ValueError(f"k2s.fit: {what} lies in [{lo:g}, {hi:g}], beyond the input format "
                         f"{fmt.name} of spinla ([{fmt.min:g}, {fmt.max:g}]): scale the data "
                         f"(e.g. pixels / 255)")
    return a


def _y(b, n, what, conv):
    """Labels of the kind the Keras loss wants (refused otherwise, as Keras would fail)."""
    c = conv.classes
    if b.shape[:1] != (n,):
        raise ValueError(f"k2s.fit: {what} has {b.shape[:1]} rows, x has {n}")
    if b.dtype.kind == "f" and not np.all(np.isfinite(b)):
        raise ValueError(f"k2s.fit: {what} contains NaN or infinity")
    sparse = b.ndim == 1 or (b.ndim == 2 and b.shape[1] == 1 and c != 1)
    if conv.loss_kind == "sparse" and not sparse:
        raise ValueError(f"k2s.fit: {what} has shape {b.shape} (one-hot rows?) but the loss "
                         f"{conv.loss_name} wants integer class labels of shape ({n},); use "
                         f"categorical_crossentropy for one-hot labels")
    if conv.loss_kind == "categorical" and (b.ndim != 2 or b.shape[1] != c):
        raise ValueError(f"k2s.fit: {what} has shape {b.shape} (integer labels?) but the loss "
                         f"{conv.loss_name} wants one-hot rows of shape ({n}, {c}); use "
                         f"sparse_categorical_crossentropy for integer labels")
    if conv.loss_kind == "regression" and (b.ndim != 2 or b.shape[1] != c):
        raise ValueError(f"k2s.fit: {what} has shape {b.shape}; the loss {conv.loss_name} "
                         f"wants targets of shape ({n}, {c})")
    for key, kind in conv.metrics:
        if kind == "sparse" and not sparse or kind == "categorical" and sparse:
            raise ValueError(f"k2s.fit: metric {key} wants "
                             f"{'integer labels' if kind == 'sparse' else 'one-hot rows'}, "
                             f"{what} has shape {b.shape}")
    if conv.loss_kind == "regression" and conv.metrics:
        onehot = np.all((b == 0) | (b == 1), axis=1) & (b.sum(axis=1) == 1)
        if not onehot.all():
            raise ValueError(f"k2s.fit: accuracy with {conv.loss_name} needs one-hot targets "
                             f"(row {int(np.argmin(onehot))} of {what} is not)")
    return b


def _positive_int(v, what, low=1):
    if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < low:
        raise ValueError(f"k2s.fit: {what} must be an integer >= {low}, got {v!r}")
    return int(v)


def fit(model, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
        validation_split=0.0, validation_data=None, shuffle=True, *, initial_epoch=0,
        seed=None, machine="spinn5", backend="emulator", **kwargs):
    """Train the converted Keras `model` on spinla and write the weights back into it.

    Keras's Model.fit arguments (batch_size None means 32, verbose 0/1/2/"auto", callbacks,
    validation_split: the last samples before shuffling, validation_data (x, y), shuffle,
    initial_epoch), plus seed (shuffling, dropout masks and stochastic rounding), machine
    (spinla machine name for the modelled cost, default spinn5) and backend ("emulator";
    "spinnaker" is a later issue).  Returns a keras.callbacks.History: loss, the compiled
    metrics, val_loss, val_<metric>, and the modelled SpiNNaker time (spinnaker_time_s) and
    energy (spinnaker_energy_j) of each epoch."""
    for k in kwargs:
        if k in KERAS_ONLY:
            raise UnsupportedError(f"k2s.fit: Keras fit argument {k}={kwargs[k]!r} is not "
                                   f"supported")
        raise TypeError(f"k2s.fit: unexpected argument {k!r}")
    if backend == "spinnaker":
        raise UnsupportedError("k2s.fit: backend='spinnaker' (training on a SpiNNaker board) "
                               "is the board path of a later issue and not available yet; use "
                               "backend='emulator'")
    if backend != "emulator":
        raise ValueError(f"k2s.fit: backend must be one of {BACKENDS}, got {backend!r}")
    keras = import_keras()
    conv = conversion_of(model)
    net = conv.spinla
    batch = 32 if batch_size is None else _positive_int(batch_size, "batch_size")
    epochs = _positive_int(epochs, "epochs", 0)
    initial_epoch = _positive_int(initial_epoch, "initial_epoch", 0)
    if verbose not in (0, 1, 2, "auto"):
        raise ValueError(f"k2s.fit: verbose must be 0, 1, 2 or 'auto', got {verbose!r}")
    verbose = 1 if verbose == "auto" else verbose
    if shuffle not in (True, False):
        raise UnsupportedError(f"k2s.fit: shuffle={shuffle!r} is not supported (True or False)")
    if not (isinstance(validation_split, numbers.Real) and 0 <= validation_split < 1):
        raise ValueError(f"k2s.fit: validation_split must be in [0, 1), got "
                         f"{validation_split!r}")
    mach = _machine.get(machine)

    x = _x(_as_array(x, "x"), "x", conv)
    y = _y(_as_array(y, "y"), len(x), "y", conv)
    if validation_data is None and validation_split:
        split_at = int(math.floor(len(x) * (1.0 - validation_split)))   # as Keras
        if split_at in (0, len(x)):
            raise ValueError(f"k2s.fit: validation_split={validation_split} of {len(x)} "
                             f"samples leaves no training or no validation data")
        x, y, validation_data = x[:split_at], y[:split_at], (x[split_at:], y[split_at:])
    val = None
    if validation_data is not None:
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
            raise ValueError("k2s.fit: validation_data must be (x_val, y_val)")
        if len(validation_data) == 3 and validation_data[2] is not None:
            raise UnsupportedError("k2s.fit: validation sample weights are not supported")
        vx = _x(_as_array(validation_data[0], "validation x"), "validation x", conv)
        val = (vx, _y(_as_array(validation_data[1], "validation y"), len(vx), "validation y",
                      conv))

    before = model.get_weights()          # NumPy copies: what an interrupted fit restores
    steps = -(-len(x) // batch)
    cbl = keras.callbacks.CallbackList(callbacks, add_history=True, add_progbar=verbose != 0,
                                       model=model, verbose=verbose, epochs=epochs,
                                       steps=steps)
    # Keras dispatches batch callbacks to a thread pool when it can; here a step is ~1 ms of
    # OpenMP work on the same cores, which that thread only slows down: call them inline.
    if hasattr(cbl, "_async_train"):
        cbl._async_train = False
    bridge = KerasBridge(model, conv, cbl, initial_epoch)
    try:
        # Start from the Keras model's weights as they are now (a Keras fit or set_weights
        # since the conversion counts); the optimiser state carries on, as in Keras.
        net.set_weights([w for ly in conv.keras_layers for w in ly.get_weights()])
        lr = keras_learning_rate(model.optimizer)
        if lr is not None:
            net.optimizer.learning_rate = lr
        model.stop_training = False
        cbl.on_train_begin()
        with _machine.use(mach):
            net.fit(x, y, epochs=max(0, epochs - initial_epoch), batch_size=batch,
                    validation_data=val, shuffle=bool(shuffle), seed=seed, verbose=0,
                    callbacks=[bridge])
    except BaseException as e:
        model.set_weights(before)
        if isinstance(e, KeyboardInterrupt):
            print("k2s.fit interrupted: the Keras model keeps the weights it had before fit",
                  file=sys.stderr)
        raise
    cbl.on_train_end(logs=bridge.last_logs)
    return model.history


__all__ = ["fit", "KERAS_ONLY"]
