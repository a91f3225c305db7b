"""KerasBridge: a spinla.nn fit callback that drives a keras.callbacks.CallbackList.

spinla's fit loop calls on_epoch_begin / on_batch_end / on_epoch_end; the bridge turns them
into Keras's calls with Keras's logs:
* batch logs: the running mean loss and accuracy of the epoch (what Keras's progress bar
  shows) and spinnaker_time_s, the modelled SpiNNaker time of the epoch so far;
* epoch logs: loss, each compiled metric under its Keras name, val_loss and val_<metric>,
  spinnaker_time_s and spinnaker_energy_j (modelled, of the epoch);
* before the epoch's callbacks run, the epoch's weights are written back into the Keras
  model (dequantised to float32), so ModelCheckpoint saves them and EarlyStopping's
  restore_best_weights reads them;
* after on_epoch_begin, a learning rate a Keras callback set on the Keras optimizer
  (LearningRateScheduler, ReduceLROnPlateau) is passed to spinla's optimiser;
* model.stop_training set by a Keras callback (EarlyStopping) ends spinla's fit after the
  epoch.
"""
from __future__ import annotations

import numpy as np

from .compile import keras_learning_rate

COST_KEYS = ("spinnaker_time_s", "spinnaker_energy_j")


def write_back(model, conv):
    """The spinla model's weights, dequantised to float32, into the Keras model (one
    set_weights per weighted layer, all arrays computed first)."""
    ws = [np.asarray(w, dtype=np.float32) for w in conv.spinla.get_weights()]
    per, i = [], 0
    for ly in conv.keras_layers:
        k = len(ly.weights)
        per.append((ly, ws[i:i + k]))
        i += k
    for ly, w in per:
        ly.set_weights(w)


class KerasBridge:
    def __init__(self, model, conv, cbl, initial_epoch: int):
        self.model, self.conv, self.cbl = model, conv, cbl
        self.offset = initial_epoch
        self.last_logs = {}
        self._loss = self._correct = self._seen = 0

    def set_model(self, net):
        pass

    def on_epoch_begin(self, epoch, logs=None):
        self.cbl.on_epoch_begin(epoch + self.offset)
        lr = keras_learning_rate(self.model.optimizer)
        if lr is not None:
            self.conv.spinla.optimizer.learning_rate = lr
        self._loss = self._correct = self._seen = 0
        self._batch = 0

    def on_batch_end(self, step, logs):
        b = logs["size"]
        self._loss += logs["loss"] * b
        self._correct += logs["correct"]
        self._seen += b
        out = {"loss": self._loss / self._seen}
        for key, _ in self.conv.metrics:
            out[key] = self._correct / self._seen
        out["spinnaker_time_s"] = logs["spinnaker_time_s"]
        i = logs["batch"]
        self.cbl.on_train_batch_begin(i)
        self.cbl.on_train_batch_end(i, out)

    def on_epoch_end(self, epoch, logs):
        out = {"loss": float(logs["loss"])}
        for key, _ in self.conv.metrics:
            out[key] = float(logs["accuracy"])
        if "val_loss" in logs:
            out["val_loss"] = float(logs["val_loss"])
            for key, _ in self.conv.metrics:
                out[f"val_{key}"] = float(logs["val_accuracy"])
        for k in COST_KEYS:
            out[k] = float(logs[k])
        write_back(self.model, self.conv)
        self.last_logs = out
        self.cbl.on_epoch_end(epoch + self.offset, out)
        if getattr(self.model, "stop_training", False):
            self.conv.spinla.stop_training = True


__all__ = ["KerasBridge", "write_back", "COST_KEYS"]
