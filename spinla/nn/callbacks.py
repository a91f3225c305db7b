"""Callbacks for Sequential.fit, with Keras's names and hooks (set_model, on_epoch_begin,
on_batch_end, on_epoch_end)."""
from __future__ import annotations

import math


class LearningRateScheduler:
    """Sets the optimiser's learning rate at the start of every epoch to schedule(epoch, lr)
    (epoch counted from 0 within the fit, lr the current rate), as keras.callbacks does.  The
    rate is a host-side scalar passed to each traced step, so changing it retraces nothing."""

    def __init__(self, schedule, verbose: int = 0):
        if not callable(schedule):
            raise TypeError(f"LearningRateScheduler: schedule must be callable (epoch, lr) -> "
                            f"lr, got {schedule!r}")
        self.schedule = schedule
        self.verbose = verbose
        self.model = None

    def set_model(self, model):
        self.model = model

    def on_epoch_begin(self, epoch, logs=None):
        opt = self.model.optimizer
        lr = float(self.schedule(epoch, float(opt.learning_rate)))
        if not (math.isfinite(lr) and lr > 0):
            raise ValueError(f"LearningRateScheduler: schedule({epoch}) gave {lr!r}; a learning "
                             f"rate must be a finite number > 0")
        opt.learning_rate = lr
        if self.verbose:
            print(f"epoch {epoch + 1}: learning rate {lr:.3g}")


def exponential_decay(initial: float, decay: float):
    """schedule(epoch, lr) = initial * decay**epoch, the schedule of bench/accuracy.py."""
    return lambda epoch, lr: initial * decay ** epoch


__all__ = ["LearningRateScheduler", "exponential_decay"]
